"""Webhook delivery: what Zoom POSTs to an app's endpoint, and how it retries (docs/protocol.md §7).

Bodies are Zoom's compact JSON, signed with ``x-zm-signature`` v0 over the exact bytes sent.
RTMS payloads are flat and keyed per product as Zoom's published schema says (webinars on
``webinar_uuid``, Video SDK sessions with ``session_key``); other events (``meeting.started``,
``rtms.concurrency_limited``, ...) are built by their callers and sent with
:meth:`WebhookSender.send_event`.

Delivery (§7.4): an attempt succeeds on HTTP 200 or 204 within ``timeout`` seconds of
*scenario* time — a :class:`~.clock.Clock` timer cancels the POST at its deadline, so on a
manual clock an app that answers "later" (after the clock moved past the deadline) has
failed, whatever the wall clock says. The real-time aiohttp timeout is only a backstop.
A failed attempt is retried with the same body (same ``event_ts``), signed again with the
then-current ``x-zm-request-timestamp``: the first retry ``retries[0]`` seconds after the
initial attempt started, each next one ``retries[i]`` after the one before; then Zoom gives up.

Journal: the event once (``webhook``/``out``/event name, with payload and URL), then one
``webhook``/``note``/``delivery`` record per attempt with ``event``, ``url``, ``attempt`` (1 to
``len(retries) + 1``), ``status`` or ``error``, ``delivered``, ``late`` (no answer by the
deadline: the attempt was cut off there, or its answer came in after it) and ``duplicate``
(a redelivery of an event already sent, :meth:`WebhookSender.redeliver`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import aiohttp

from connector.protocol import (
    URL_VALIDATION_EVENT,
    Product,
    RtmsEventKind,
    WebhookEvent,
    signed_headers,
    url_validation_response,
)
from connector.protocol.webhook import encode_event

from .clock import Clock, Timer
from .journal import Journal, Record
from .stream import SimStream

__all__ = ["WebhookSender", "rtms_payload"]

log = logging.getLogger("simulator.webhooks")

ACCOUNT_ID = "sIm-AcCoUnT-0000000001"
OPERATOR_ID = "30R7kT7bTIKSNUFEuH_Qlg"
BACKSTOP_SECONDS = 30.0
"""Real-time bound on one POST; the scenario-time deadline decides success long before."""

_OK = (200, 204)


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
        payload.update(stream.started_fields)
    payload.update(extra or {})
    return payload


@dataclass(eq=False)
class _Delivery:
    """One event on its way to its URL (if it has one): its attempts so far and the next's timer."""

    event: WebhookEvent
    body: bytes  # encoded once: every attempt sends the same bytes
    url: str | None
    secret: str
    stream_id: str | None
    duplicate: bool = False
    attempts: int = 0
    retry: Timer | None = None


@dataclass(eq=False)
class _Attempt:
    delivery: _Delivery
    number: int
    started: float
    task: asyncio.Task[int]
    deadline: Timer | None = None
    settled: bool = False


class WebhookSender:
    """POSTs signed events and retries them as Zoom does; one aiohttp session for its lifetime.

    ``timeout``: scenario seconds an app has to answer 200/204 (§7.4). ``retries``: the gaps
    between attempts (default 300, 1200, 3600 s: attempts at t0, t0+300, t0+1500, t0+5100).
    """

    def __init__(
        self,
        clock: Clock,
        journal: Journal,
        *,
        timeout: float,
        retries: tuple[float, ...] = (300.0, 1200.0, 3600.0),
        backstop: float = BACKSTOP_SECONDS,
    ) -> None:
        self.clock = clock
        self.journal = journal
        self.timeout = timeout
        self.retries = retries
        self.backstop = backstop
        self._session: aiohttp.ClientSession | None = None
        self._attempts: set[_Attempt] = set()
        self._waiting: set[_Delivery] = set()  # deliveries with a retry scheduled
        self._last: dict[tuple[str, str | None], _Delivery] = {}  # for redeliver
        self._closed = False

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.backstop))

    async def close(self) -> None:
        """Stop: no more retries; attempts in flight get ``timeout`` real seconds, then are cut."""
        self._closed = True
        for delivery in self._waiting:
            if delivery.retry is not None:
                delivery.retry.cancel()
        self._waiting.clear()
        tasks = [a.task for a in self._attempts]
        if tasks:
            await asyncio.wait(tasks, timeout=self.timeout)
        for attempt in list(self._attempts):
            self._settle(attempt, {"error": "cut off: the simulator closed"}, delivered=False, late=False)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    # -- events ----------------------------------------------------------------------------

    def event(self, stream: SimStream, kind: RtmsEventKind, extra: dict[str, Any]) -> WebhookEvent:
        return WebhookEvent(
            event=stream.product.event_name(kind),
            event_ts=self.clock.epoch_ms(),
            payload=rtms_payload(stream, kind, extra),
        )

    def send(self, stream: SimStream, kind: RtmsEventKind, extra: dict[str, Any]) -> WebhookEvent:
        """An RTMS event of ``stream``, to its webhook URL, signed with its app's secret."""
        return self.send_event(
            url=stream.webhook_url,
            secret=stream.app.webhook_secret,
            name=stream.product.event_name(kind),
            payload=rtms_payload(stream, kind, extra),
            stream_id=stream.stream_id,
        )

    def send_event(
        self,
        *,
        url: str | None,
        secret: str,
        name: str,
        payload: dict[str, Any],
        stream_id: str | None = None,
    ) -> WebhookEvent:
        """Build, journal and (if there is a ``url``) deliver any event, retrying as Zoom does."""
        event = WebhookEvent(event=name, event_ts=self.clock.epoch_ms(), payload=payload)
        self.journal.add(
            Record(
                self.clock.now(),
                self.clock.epoch_ms(),
                stream_id,
                "webhook",
                "out",
                name,
                {"payload": payload, "url": url},
            )
        )
        delivery = _Delivery(event, encode_event(event), url, secret, stream_id)
        self._last[(name, stream_id)] = delivery
        if url is not None:
            self._deliver(delivery)
        return event

    def redeliver(self, event_name: str, stream_id: str | None) -> WebhookEvent | None:
        """POST the last ``event_name`` (of ``stream_id``) again, unchanged: a duplicate
        delivery as apps see them in the field (scenarios doc §4 item 2). It is retried like
        any delivery if it fails. ``None`` if no such event was sent."""
        sent = self._last.get((event_name, stream_id))
        if sent is None:
            return None
        if sent.url is not None:
            self._deliver(replace(sent, duplicate=True, attempts=0, retry=None))
        return sent.event

    async def validate_url(self, url: str, secret: str, plain_token: str) -> dict[str, Any]:
        """Zoom's check of a webhook URL (§7.2), as the Marketplace runs it when a URL is saved.

        POSTs a signed ``endpoint.url_validation`` with ``plain_token`` once (no retries) and
        judges the answer: HTTP 200 within ``timeout`` real seconds, a JSON object whose
        ``plainToken`` is the one sent and whose ``encryptedToken`` is
        ``hex(HMAC-SHA256(secret, plainToken))``. Returns ``{"validated", "status", "reason"}``.
        """
        assert self._session is not None, "WebhookSender.start() was not awaited"
        event = WebhookEvent(
            event=URL_VALIDATION_EVENT, event_ts=self.clock.epoch_ms(), payload={"plainToken": plain_token}
        )
        body = encode_event(event)
        headers = signed_headers(secret, self.clock.epoch_seconds(), body)
        status: int | None = None
        try:
            async with asyncio.timeout(self.timeout):
                async with self._session.post(url, data=body, headers=headers) as response:
                    status = response.status
                    answer = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            verdict = _verdict(False, status, f"no answer within {self.timeout:g} s: {type(exc).__name__}")
        else:
            verdict = _judge_validation(status, answer, url_validation_response(secret, plain_token))
        self.journal.add(
            Record(
                self.clock.now(),
                self.clock.epoch_ms(),
                None,
                "webhook",
                "note",
                URL_VALIDATION_EVENT,
                {"url": url, **verdict},
            )
        )
        return verdict

    # -- delivery --------------------------------------------------------------------------

    def _deliver(self, delivery: _Delivery) -> None:
        self._waiting.discard(delivery)
        delivery.retry = None
        if self._closed:
            return
        assert delivery.url is not None
        delivery.attempts += 1
        headers = signed_headers(delivery.secret, self.clock.epoch_seconds(), delivery.body)
        task = asyncio.get_running_loop().create_task(self._post(delivery.url, delivery.body, headers))
        attempt = _Attempt(delivery, delivery.attempts, self.clock.now(), task)
        attempt.deadline = self.clock.call_later(self.timeout, partial(self._deadline, attempt))
        task.add_done_callback(partial(self._answered, attempt))
        self._attempts.add(attempt)

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        assert self._session is not None, "WebhookSender.start() was not awaited"
        async with self._session.post(url, data=body, headers=headers) as response:
            return response.status

    def _answered(self, attempt: _Attempt, task: asyncio.Task[int]) -> None:
        if attempt.settled or task.cancelled():
            return
        late = self.clock.now() - attempt.started > self.timeout
        error = task.exception()
        if error is None:
            status = task.result()
            self._settle(attempt, {"status": status}, delivered=status in _OK and not late, late=late)
        else:
            outcome = {"error": f"{type(error).__name__}: {error}"}
            self._settle(attempt, outcome, delivered=False, late=late)

    def _deadline(self, attempt: _Attempt) -> None:
        if attempt.settled or attempt.task.done():
            return  # answered; the done callback (maybe still queued) decides
        attempt.task.cancel()
        self._settle(attempt, {"error": f"no answer within {self.timeout:g} s"}, delivered=False, late=True)

    def _settle(self, attempt: _Attempt, outcome: dict[str, Any], *, delivered: bool, late: bool) -> None:
        if attempt.settled:
            return
        attempt.settled = True
        self._attempts.discard(attempt)
        if attempt.deadline is not None:
            attempt.deadline.cancel()
        if not attempt.task.done():
            attempt.task.cancel()
        delivery = attempt.delivery
        detail: dict[str, Any] = {
            "event": delivery.event.event,
            "url": delivery.url,
            "attempt": attempt.number,
            **outcome,
            "delivered": delivered,
            "late": late,
            "duplicate": delivery.duplicate,
        }
        self.journal.add(
            Record(
                self.clock.now(),
                self.clock.epoch_ms(),
                delivery.stream_id,
                "webhook",
                "note",
                "delivery",
                detail,
            )
        )
        if delivered:
            return
        log.warning(
            "webhook %s to %s, attempt %d failed: %s", detail["event"], delivery.url, attempt.number, outcome
        )
        if self._closed or attempt.number > len(self.retries):
            return  # Zoom sends no further notification for this event (§7.4)
        when = attempt.started + self.retries[attempt.number - 1]
        delivery.retry = self.clock.call_at(when, partial(self._deliver, delivery))
        self._waiting.add(delivery)


def _verdict(validated: bool, status: int | None, reason: str) -> dict[str, Any]:
    return {"validated": validated, "status": status, "reason": reason}


def _judge_validation(status: int, answer: bytes, expected: dict[str, str]) -> dict[str, Any]:
    """Zoom's verdict on an ``endpoint.url_validation`` answer (§7.2)."""
    if status != 200:
        return _verdict(False, status, f"the endpoint answered HTTP {status}, not 200")
    try:
        body = json.loads(answer)
    except ValueError:
        return _verdict(False, status, "the answer is not JSON")
    if not isinstance(body, dict):
        return _verdict(False, status, "the answer is not a JSON object")
    if body.get("plainToken") != expected["plainToken"]:
        return _verdict(False, status, "plainToken in the answer is not the one sent")
    if body.get("encryptedToken") != expected["encryptedToken"]:
        return _verdict(
            False, status, "encryptedToken is not hex(HMAC-SHA256(webhook secret token, plainToken))"
        )
    return _verdict(True, status, "validated")
