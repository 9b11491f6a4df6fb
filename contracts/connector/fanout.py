"""A webhook endpoint that hands each delivery, byte for byte with Zoom's headers, to every
connector behind it — several replicas each receiving the webhook, as in field report F1."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web


class FanOut:
    """``url`` is what Zoom (the simulator) posts to; ``targets`` are the connectors' URLs.

    Answers with the highest status a connector answered (200 when none could be reached:
    Zoom would not know of a killed replica either)."""

    def __init__(self, path: str = "/") -> None:
        self.path = path
        self.targets: list[str] = []
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> str:
        self._session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post(self.path, self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}{self.path}"
        return self.url

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-zm-")}
        headers["content-type"] = "application/json"
        assert self._session is not None
        session = self._session

        async def one(url: str) -> int | None:
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    return response.status
            except aiohttp.ClientError:
                return None

        statuses = [s for s in await asyncio.gather(*(one(u) for u in self.targets)) if s is not None]
        return web.json_response({"status": "ok"}, status=max(statuses, default=200))

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()
