"""Webhook delivery: what Zoom POSTs to an app's endpoint (docs/protocol.md §7).

Bodies are Zoom's compact JSON, signed with ``x-zm-signature`` v0 over the exact bytes sent.
Payloads are flat and keyed per product as Zoom's published schema says (webinars on
``webinar_uuid``, Video SDK sessions with ``session_key``). Delivery succeeds on HTTP 200 or
204 within ``timeout`` seconds (§7.4); retries are not made yet and are journaled as failures.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from connector.protocol import Product, RtmsEventKind, WebhookEvent, signed_headers
from connector.protocol.webhook import encode_event

from .clock import Clock
from .journal import Journal, Record
from .stream import SimStream

__all__ = ["WebhookSender", "rtms_payload"]

log = logging.getLogger("simulator.webhooks")

ACCOUNT_ID = "sIm-AcCoUnT-0000000001"
OPERATOR_ID = "30R7kT7bTIKSNUFEuH_Qlg"


def rtms_payload(
    stream: SimStream, kind: RtmsEventKind, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The flat ``payload`` of a ``*.rtms_*`` event for ``stream``."""
    payload: dict[str, Any] = {stream.product.id_key: stream.instance_id}
    if stream.product is Product.SESSION:
        payload["session_key"] = f"sim-{stream.instance_id[:8]}"
    if kind is RtmsEventKind.STARTED:
        payload["operator_id"] = OPERATOR_ID
    payload["rtms_stream_id"] = stream.stream_id
    if kind is RtmsEventKind.STARTED:
        payload["server_urls"] = stream.server_urls
        payload["account_id"] = ACCOUNT_ID
    payload.update(extra or {})
    return payload


class WebhookSender:
    """POSTs signed events; one aiohttp session for the simulator's lifetime."""

    def __init__(self, clock: Clock, journal: Journal, *, timeout: float) -> None:
        self.clock = clock
        self.journal = journal
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def event(self, stream: SimStream, kind: RtmsEventKind, extra: dict[str, Any]) -> WebhookEvent:
        return WebhookEvent(
            event=stream.product.event_name(kind),
            event_ts=self.clock.epoch_ms(),
            payload=rtms_payload(stream, kind, extra),
        )

    def send(self, stream: SimStream, kind: RtmsEventKind, extra: dict[str, Any]) -> None:
        """Build, journal and (if the stream has a webhook URL) deliver an RTMS event."""
        event = self.event(stream, kind, extra)
        self.journal.add(
            Record(
                self.clock.now(),
                self.clock.epoch_ms(),
                stream.stream_id,
                "webhook",
                "out",
                event.event,
                {"payload": event.payload, "url": stream.webhook_url},
            )
        )
        if stream.webhook_url is None:
            return
        task = asyncio.get_running_loop().create_task(
            self._post(stream.webhook_url, stream.app.webhook_secret, event, stream.stream_id)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, url: str, secret: str, event: WebhookEvent, stream_id: str) -> None:
        assert self._session is not None, "WebhookSender.start() was not awaited"
        body = encode_event(event)
        headers = signed_headers(secret, self.clock.epoch_seconds(), body)
        outcome: dict[str, Any] = {"event": event.event, "url": url}
        try:
            async with self._session.post(url, data=body, headers=headers) as response:
                outcome["status"] = response.status
                outcome["delivered"] = response.status in (200, 204)
        except (TimeoutError, aiohttp.ClientError) as exc:
            outcome["delivered"] = False
            outcome["error"] = f"{type(exc).__name__}: {exc}"
            log.warning("webhook %s to %s failed: %s", event.event, url, outcome["error"])
        self.journal.add(
            Record(self.clock.now(), self.clock.epoch_ms(), stream_id, "webhook", "note", "delivery", outcome)
        )
