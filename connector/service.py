"""The whole connector in one object: webhook receiver + stream manager on one HTTP port.

This is what the CLI runs and what an in-process test or demo uses::

    config = ConnectorConfig(client_id=..., client_secret=..., webhook_secret=..., port=0)
    async with Connector(config) as connector:
        print(connector.url)                      # http://127.0.0.1:<bound port>/
        ...                                       # Zoom (or the simulator) posts webhooks here
        summary = await connector.manager.finished(stream_id)
    # leaving the block: stop accepting webhooks, close every stream gracefully
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from types import TracebackType

from aiohttp import web

from .config import ConnectorConfig
from .errors import ConfigError
from .manager import StreamManager
from .receiver import WebhookReceiver

__all__ = ["Connector"]

logger = logging.getLogger("connector.service")


class Connector:
    """A running connector. :meth:`start` binds; :meth:`close` shuts down gracefully.

    ``clock`` (Unix seconds) is shared by webhook verification and stream summaries.
    """

    def __init__(self, config: ConnectorConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.manager = StreamManager(config, clock=clock)
        self.receiver = WebhookReceiver(config, self.manager.handle, clock=clock)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    async def start(self) -> None:
        """Bind ``config.host:config.port`` (0 = a free port) and start serving webhooks.

        Raises :class:`~connector.errors.ConfigError` when the address cannot be bound.
        """
        runner = web.AppRunner(
            self.receiver.app(), access_log=None, shutdown_timeout=self.config.close_timeout
        )
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"cannot listen on {self.config.host}:{self.config.port}: {exc.strerror or exc}",
                option="port",
            ) from None
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        logger.info("listening on %s", self.url)

    @property
    def port(self) -> int:
        """The bound port (the real one when ``config.port`` was 0)."""
        if self._port is None:
            raise RuntimeError("the connector is not started")
        return self._port

    @property
    def url(self) -> str:
        """Where Zoom must post webhooks: ``http://HOST:PORT/PATH``."""
        host = self.config.host
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        return f"http://{host}:{self.port}{self.config.path}"

    async def close(self) -> None:
        """Stop accepting webhooks, then close every stream (STREAM_CLOSE_REQ, §4.14) and
        wait for their output to be finalized. Idempotent."""
        await self.receiver.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.manager.close_all()

    async def __aenter__(self) -> Connector:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
