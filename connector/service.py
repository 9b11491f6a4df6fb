"""The whole connector in one object: webhook receiver, stream manager, ownership, REST manual
start and the operations endpoints, on one HTTP port.

This is what the CLI runs and what an in-process test or demo uses::

    config = ConnectorConfig(client_id=..., client_secret=..., webhook_secret=..., port=0)
    async with Connector(config) as connector:
        print(connector.url)                      # http://127.0.0.1:<bound port>/
        ...                                       # Zoom (or the simulator) posts webhooks here
        summary = await connector.manager.finished(stream_id)
    # leaving the block drains: 503 to new webhooks, STREAM_CLOSE_REQ on every stream, wait
    # for the responses, flush the sinks, release the leases

Besides the webhook path the port serves ``GET /metrics`` (Prometheus), ``GET /healthz`` and
``GET /readyz`` (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from types import TracebackType

from aiohttp import web

from .clock import Clock, SystemClock, sleep
from .config import ConnectorConfig
from .errors import ConfigError, ConnectorError
from .health import add_ops_routes
from .lease import LeaseStore, MemoryLeaseStore, RedisLeaseStore
from .manager import SinkFactory, StreamManager
from .manual import ManualStarter
from .metrics import Metrics
from .protocol import WebhookEvent
from .receiver import WebhookReceiver
from .sinks.base import Sink, StreamInfo
from .sinks.redis_stream import RedisStreamSink
from .sinks.repair import repair_outputs
from .zoom_api import ZoomApi

__all__ = ["Connector"]

logger = logging.getLogger("connector.service")


class Connector:
    """A running connector. :meth:`start` binds; :meth:`close` drains and shuts down.

    ``clock`` drives every timer (leases, reconnect backoff, token refresh); ``wall`` gives
    the Unix seconds used by webhook verification and stream summaries.
    """

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        clock: Clock | None = None,
        wall: Callable[[], float] = time.time,
        store: LeaseStore | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.metrics = metrics or Metrics(replica=config.replica_id)
        if store is None:
            store = (
                RedisLeaseStore(config.redis_url, prefix=config.redis_prefix)
                if config.redis_url
                else MemoryLeaseStore(self.clock)
            )
        self.store = store
        self.manager = StreamManager(
            config,
            clock=self.clock,
            wall=wall,
            metrics=self.metrics,
            store=store,
            extra_sinks=self._sink_factory(),
        )
        self.api: ZoomApi | None = None
        self.starter: ManualStarter | None = None
        if config.manual_start:
            # ConnectorConfig refuses manual_start without these three.
            assert config.account_id is not None
            assert config.s2s_client_id is not None
            assert config.s2s_client_secret is not None
            self.api = ZoomApi(
                account_id=config.account_id,
                client_id=config.s2s_client_id,
                client_secret=config.s2s_client_secret,
                api_url=config.api_url,
                oauth_url=config.oauth_url,
                clock=self.clock,
            )
            self.starter = ManualStarter(self.api, client_id=config.client_id, clock=self.clock)
        self.receiver = WebhookReceiver(
            config,
            self.manager.handle,
            clock=wall,
            listener=self._listen if self.starter is not None else None,
        )
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._store_ok = True
        self._health: asyncio.Task[None] | None = None
        self._closed = False

    def _sink_factory(self) -> SinkFactory | None:
        if "redis" not in self.config.sinks:
            return None
        url, prefix, maxlen = self.config.redis_url, self.config.redis_prefix, self.config.redis_stream_maxlen
        assert url is not None

        def extra(info: StreamInfo) -> Sequence[Sink]:
            return [RedisStreamSink(url, prefix=prefix, maxlen=maxlen)]

        return extra

    async def _listen(self, event: WebhookEvent) -> None:
        assert self.starter is not None
        await self.starter.handle(
            {"event": event.event, "event_ts": event.event_ts, "payload": event.payload}
        )

    async def start(self) -> None:
        """Repair what a crash left in the output directory, bind ``config.host:config.port``
        (0 = a free port) and start serving webhooks; start the standby that adopts streams
        whose owner died.

        Raises :class:`~connector.errors.ConfigError` when the address cannot be bound.
        """
        report = repair_outputs(self.config.output_dir)
        if report:
            logger.warning("output directory repaired after an unclean stop: %s", report)
        app = self.receiver.app()
        add_ops_routes(app, metrics=self.metrics, ready=self._ready)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=self.config.close_timeout)
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
        await self.manager.start_standby()
        self._health = asyncio.create_task(self._watch_store(), name="rtms store health")
        logger.info("listening on %s (replica %s)", self.url, self.config.replica_id)

    def _ready(self) -> tuple[bool, dict[str, object]]:
        checks: dict[str, object] = {
            "draining": self.receiver.closing,
            "lease_store": "ok" if self._store_ok else "unreachable",
            "streams": len(self.manager.active),
        }
        return (not self.receiver.closing and self._store_ok), checks

    async def _watch_store(self) -> None:
        interval = max(self.config.lease_ttl / 3, 0.05)
        while True:
            try:
                await self.store.holder("__health__")
                ok = True
            except ConnectorError as exc:
                if self._store_ok:
                    logger.error("lease store unreachable: %s", exc)
                ok = False
            self._store_ok = ok
            await sleep(self.clock, interval)

    @property
    def port(self) -> int:
        """The bound port (the real one when ``config.port`` was 0)."""
        if self._port is None:
            raise RuntimeError("the connector is not started")
        return self._port

    @property
    def base_url(self) -> str:
        host = self.config.host
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """Where Zoom must post webhooks: ``http://HOST:PORT/PATH``."""
        return f"{self.base_url}{self.config.path}"

    async def close(self) -> None:
        """Drain (SIGTERM): answer 503 to new webhooks, STREAM_CLOSE_REQ on every stream and
        wait for the responses (bounded by ``close_timeout``), flush and close the sinks,
        release the leases; then stop serving. Idempotent."""
        if self._closed:
            return
        self._closed = True
        await self.receiver.close()
        await self.manager.close_all()
        if self._health is not None:
            self._health.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health
        if self.starter is not None:
            await self.starter.close()
        if self.api is not None:
            await self.api.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.store.close()

    async def __aenter__(self) -> Connector:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
