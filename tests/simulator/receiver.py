"""A webhook endpoint for tests: an aiohttp server on ``127.0.0.1:0`` that keeps what it gets.

Each POST is recorded with its raw body and headers (so a test can check the signature
over the exact bytes, §7.3) and answered 200, as an app that accepts the event would.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

__all__ = ["Delivery", "WebhookReceiver"]


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: CIMultiDict[str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded

    @property
    def event(self) -> str:
        return str(self.json["event"])

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = self.json["payload"]
        return payload


class WebhookReceiver:
    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._receive)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/webhooks/zoom"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.deliveries.append(Delivery(request.path, CIMultiDict(request.headers), body))
        self._changed.set()
        return web.json_response({"status": "ok"})

    def of(self, event: str, *, stream_id: str | None = None) -> list[Delivery]:
        return [
            d
            for d in self.deliveries
            if d.event == event and (stream_id is None or d.payload.get("rtms_stream_id") == stream_id)
        ]

    async def wait_for(self, event: str, *, stream_id: str | None = None, timeout: float = 5.0) -> Delivery:
        """The first delivery of ``event`` (for ``stream_id``), waiting a bounded real time."""

        async def until() -> Delivery:
            while True:
                found = self.of(event, stream_id=stream_id)
                if found:
                    return found[0]
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(until(), timeout)
