"""The suite's webhook endpoint: where the target (simulator or Zoom) POSTs its events.

An aiohttp server (``127.0.0.1:0`` unless the live target names a port a tunnel forwards to)
that keeps every POST with its exact body and headers, so that a contract can check Zoom's
signature over the bytes sent (§7.3), and answers as an app that accepts the event: 200.
``endpoint.url_validation`` (§7.2) is answered the way :attr:`Inbox.validation` says —
correctly by default, or wrongly, to see the target refuse a URL.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from multidict import CIMultiDict

from . import wire

if TYPE_CHECKING:
    from .recording import Recorder

__all__ = ["Delivery", "Inbox"]


@dataclass(frozen=True)
class Delivery:
    """One POST as it arrived."""

    path: str
    headers: CIMultiDict[str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded

    @property
    def event(self) -> str:
        return str(self.json.get("event"))

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = self.json.get("payload", {})
        return payload


class Inbox:
    """A webhook endpoint that records what it gets; ``url`` is where it listens."""

    def __init__(self, *, secret: str, host: str = "127.0.0.1", port: int = 0, path: str = "/webhooks/zoom"):
        self.secret = secret
        self.host = host
        self.port = port
        self.path = path
        self.validation = "correct"  # or "wrong" (a bad encryptedToken) or "refuse" (HTTP 401)
        self.deliveries: list[Delivery] = []
        self.recorder: Recorder | None = None
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._receive)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{self.host}:{port}{self.path}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Inbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        delivery = Delivery(request.path, CIMultiDict(request.headers), body)
        self.deliveries.append(delivery)
        if self.recorder is not None:
            self.recorder.webhook(body, dict(request.headers))
        self._changed.set()
        try:
            event = delivery.json
        except ValueError:
            return web.json_response({"status": "ok"})
        if event.get("event") == "endpoint.url_validation":
            token = str(event.get("payload", {}).get("plainToken", ""))
            if self.validation == "refuse":
                return web.json_response({"message": "refused"}, status=401)
            encrypted = wire.url_validation_token(self.secret, token)
            if self.validation == "wrong":
                encrypted = wire.url_validation_token(self.secret + "-wrong", token)
            return web.json_response({"plainToken": token, "encryptedToken": encrypted})
        return web.json_response({"status": "ok"})

    def of(self, event: str, *, stream_id: str | None = None) -> list[Delivery]:
        return [
            d
            for d in self.deliveries
            if d.event == event and (stream_id is None or d.payload.get("rtms_stream_id") == stream_id)
        ]

    async def wait_for(
        self,
        event: str,
        *,
        stream_id: str | None = None,
        count: int = 1,
        timeout: float = 10.0,
        hint: str = "",
    ) -> Delivery:
        """The ``count``-th delivery of ``event`` (for ``stream_id``), waiting at most ``timeout`` s."""

        async def until() -> Delivery:
            while True:
                found = self.of(event, stream_id=stream_id)
                if len(found) >= count:
                    return found[count - 1]
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            got = sorted({d.event for d in self.deliveries}) or ["nothing"]
            raise AssertionError(
                f"no {event} reached {self.url} within {timeout:g} s (got: {', '.join(got)}). {hint}".strip()
            ) from None
