"""Streams on this replica: which run here, who owns them, starting, stopping, closing them
(docs/protocol.md §7.1, §9.2; docs/ownership.md).

:class:`StreamManager` is the webhook receiver's handler: :meth:`StreamManager.handle` takes
any RTMS webhook event and returns a :class:`Disposition` saying what it did, quickly — the
stream itself runs in its own task.

Ownership: before a stream's signaling handshake the manager takes the stream's lease from
the :class:`~connector.lease.LeaseStore` (in-memory for one process, Redis across replicas).
A replica that loses the race does nothing more with that webhook; every replica also runs a
:class:`~connector.ownership.Standby` that adopts a registered stream as soon as its owner's
lease expires (the owner died), so a killed replica's streams move on within the lease TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

import msgspec

from .backpressure import Drains
from .clock import Clock, SystemClock, sleep
from .config import ConnectorConfig
from .errors import ConnectorError, StreamError
from .lease import LeaseStore, MemoryLeaseStore
from .metrics import Metrics
from .ownership import Ownership, Standby
from .protocol import RtmsEvent, RtmsEventKind
from .session import StreamSession
from .sinks import StreamSinks
from .sinks.base import Sink, StreamInfo
from .summary import StreamSummary

__all__ = ["Disposition", "SinkFactory", "StreamManager"]

logger = logging.getLogger("connector.manager")

SinkFactory = Callable[[StreamInfo], Sequence[Sink]]
"""Makes the extra sinks (beyond files) of one stream. The factory is called before the
stream's directory exists, so its ``info.directory`` is the output root; each sink's
:meth:`~connector.sinks.base.Sink.open` then gets the stream's own directory."""

SEEN_LIMIT = 10_000
"""How many handled webhook deliveries are remembered to recognise Zoom's retries."""

REGISTRY_TTL = 6 * 3600.0
"""How long a registered stream outlives its last owner's renewal (a stream Zoom never
stopped and no replica could join); a long meeting stays registered by its owner's renewals."""


class Disposition(enum.Enum):
    """What the manager did with an RTMS webhook event."""

    STARTED = "started"  # a new stream is starting here
    DUPLICATE = "duplicate"  # a retried rtms_started: same stream, same server_urls, still active
    FAILOVER = "failover"  # rtms_started with new server_urls for an active stream: reconnecting
    OWNED_ELSEWHERE = "owned_elsewhere"  # another replica holds the stream's lease
    STOPPED = "stopped"  # rtms_stopped ended an active stream
    RESTARTING = "restarting"  # rtms_stopped with a reconnectable reason, or rtms_interrupted
    NOT_ACTIVE = "not_active"  # stopped/interrupted for a stream that is not running here
    # Shutting down, the output directory is unusable, the lease store is down, or a failover
    # for a stream that is ending here.
    REFUSED = "refused"


class StreamManager:
    """Active streams by ``rtms_stream_id``.

    ``ssl_context`` is shared by every ``wss://`` connection (built once from ``config``,
    so a broken CA file is a :class:`~connector.errors.ConfigError` here, at start-up).
    ``store`` defaults to an in-process :class:`~connector.lease.MemoryLeaseStore`.
    """

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        clock: Clock | None = None,
        wall: Callable[[], float] = time.time,
        ssl_context: ssl.SSLContext | None = None,
        metrics: Metrics | None = None,
        store: LeaseStore | None = None,
        extra_sinks: SinkFactory | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._config = config
        self._clock: Clock = clock or SystemClock()
        self._wall = wall
        self._ssl = ssl_context or config.ssl_context()
        self.metrics = metrics or Metrics(replica=config.replica_id)
        self.store: LeaseStore = store or MemoryLeaseStore(self._clock)
        self._extra_sinks = extra_sinks
        self._rng = rng or random.Random()
        self._active: dict[str, StreamSession] = {}
        # Every stream's drains and flushes; flushes go by real time (see StreamSession).
        self._drains = Drains(SystemClock(), config.flush_interval)
        self._tasks: set[asyncio.Task[None]] = set()
        self._results: dict[str, asyncio.Future[StreamSummary]] = {}
        self._summaries: dict[str, StreamSummary] = {}
        self._starting: set[str] = set()
        self._seen: OrderedDict[tuple[str, str, int, str | None], None] = OrderedDict()
        self._closing = False
        self._standby: Standby | None = None
        self._failover_watch: asyncio.Task[None] | None = None

    @property
    def active(self) -> Mapping[str, StreamSession]:
        """Running streams (read-only view)."""
        return MappingProxyType(self._active)

    @property
    def summaries(self) -> Mapping[str, StreamSummary]:
        """The summary of the latest finished run of each stream (read-only view)."""
        return MappingProxyType(self._summaries)

    @property
    def closing(self) -> bool:
        return self._closing

    async def start_standby(self) -> None:
        """Adopt streams whose owner died (see :class:`~connector.ownership.Standby`), and
        watch owned streams for failovers that reached another replica."""
        self._standby = Standby(
            self.store,
            adopt=self._adopt,
            is_local=lambda stream_id: stream_id in self._active or stream_id in self._starting,
            clock=self._clock,
            poll=max(self._config.lease_ttl / 3, 0.05),
        )
        await self._standby.start()
        self._failover_watch = asyncio.create_task(self._watch_registry(), name="rtms failover watch")

    async def handle(self, event: RtmsEvent) -> Disposition:
        """Act on one RTMS webhook event (§7.1); returns once the action is under way
        (a final ``rtms_stopped`` waits for the stream's output to be finalized)."""
        name = event.product.event_name(event.kind)  # as Zoom names it: meeting.rtms_started
        key = (event.kind.value, event.rtms_stream_id, event.event_ts, event.server_urls)
        if event.event_ts and key in self._seen:
            # A retried delivery of an event already handled (Zoom retries when it did not get
            # a 2xx within 3 s, §7.4): same stream, same event_ts. Ignored, even after the
            # stream ended: a retried rtms_started is no new run (§7.1).
            logger.info("stream %s: retried %s delivery ignored", event.rtms_stream_id, name)
            self.metrics.webhook(name, Disposition.DUPLICATE.value)
            return Disposition.DUPLICATE
        self._seen[key] = None
        while len(self._seen) > SEEN_LIMIT:
            self._seen.popitem(last=False)
        try:
            if event.kind is RtmsEventKind.STARTED:
                disposition = await self.start(event)
            elif event.kind is RtmsEventKind.STOPPED:
                disposition = await self.stop(event.rtms_stream_id, stop_reason=event.stop_reason)
            else:
                disposition = await self.interrupted(event.rtms_stream_id)
        except BaseException:
            self._seen.pop(key, None)
            raise
        if disposition is Disposition.REFUSED:
            self._seen.pop(key, None)  # not acted upon: Zoom's retry deserves another try
        self.metrics.webhook(name, disposition.value)
        return disposition

    async def start(self, event: RtmsEvent, *, adopted: bool = False) -> Disposition:
        """Start streaming ``event`` (an ``rtms_started``) unless it is a duplicate, a failover
        of a stream running here, or owned by another replica."""
        stream_id = event.rtms_stream_id
        if self._closing:
            logger.warning("stream %s: rtms_started ignored, shutting down", stream_id)
            return Disposition.REFUSED
        current = self._active.get(stream_id)
        if current is not None:
            if current.event.server_urls == event.server_urls:
                logger.info("stream %s: duplicate rtms_started ignored", stream_id)
                return Disposition.DUPLICATE
            # A new rtms_started for an active stream means RTMS failover (§7.1).
            if not await current.restart("failover", event):
                logger.warning(
                    "stream %s: failover to %s ignored: the stream is ending", stream_id, event.server_urls
                )
                return Disposition.REFUSED
            logger.warning("stream %s: failover to %s", stream_id, event.server_urls)
            try:
                await self._register(event)  # so that a later takeover uses the new servers
            except ConnectorError as exc:
                logger.warning("stream %s: failover not recorded in the registry: %s", stream_id, exc)
            return Disposition.FAILOVER
        if stream_id in self._starting:
            return Disposition.DUPLICATE
        self._starting.add(stream_id)
        try:
            return await self._take(event, adopted=adopted)
        finally:
            self._starting.discard(stream_id)

    async def _take(self, event: RtmsEvent, *, adopted: bool) -> Disposition:
        stream_id = event.rtms_stream_id
        try:
            if not adopted:
                await self._register(event)
            ownership = Ownership(
                self.store,
                stream_id,
                self._config.replica_id,
                ttl=self._config.lease_ttl,
                clock=self._clock,
                on_renew=self.metrics.lease_renewal,
            )
            if not await ownership.acquire():
                logger.info("stream %s: owned by another replica; standing by", stream_id)
                return Disposition.OWNED_ELSEWHERE
        except ConnectorError as exc:
            logger.error("stream %s: not started: %s", stream_id, exc)
            return Disposition.REFUSED
        if self._closing:  # close_all began while the lease was on its way
            await ownership.release()
            logger.warning("stream %s: rtms_started ignored, shutting down", stream_id)
            return Disposition.REFUSED
        info = StreamInfo(
            stream_id=stream_id,
            instance_id=event.instance_id,
            product=event.product.value,
            directory=self._config.output_dir,
            fence=ownership.token,
        )
        try:
            extra = list(self._extra_sinks(info)) if self._extra_sinks is not None else []
            sinks = StreamSinks.create(
                self._config.output_dir,
                stream_id=stream_id,
                instance_id=event.instance_id,
                product=event.product.value,
                fence=ownership.token,
                extra=extra,
            )
        except ConnectorError as exc:  # SinkError, or a ConfigError of an extra sink
            logger.error("stream %s: not started: %s", stream_id, exc)
            await ownership.release()
            return Disposition.REFUSED
        session = StreamSession(
            self._config,
            event,
            sinks,
            ssl_context=self._ssl,
            clock=self._clock,
            wall=self._wall,
            metrics=self.metrics,
            ownership=ownership,
            rng=self._rng,
            drains=self._drains,
        )
        self._active[stream_id] = session
        self.metrics.stream_owned(1)
        result = self._results.get(stream_id)
        if result is None or result.done():
            result = self._results[stream_id] = asyncio.get_running_loop().create_future()
        logger.info(
            "stream %s: %s (%s %s, lease token %d) into %s",
            stream_id,
            "adopted" if adopted else "starting",
            event.product.value,
            event.instance_id,
            ownership.token,
            sinks.directory,
        )
        task = asyncio.create_task(self._run(session, ownership, result), name=f"rtms stream {stream_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return Disposition.STARTED

    async def _register(self, event: RtmsEvent) -> None:
        await self.store.register(event.rtms_stream_id, msgspec.json.encode(event), REGISTRY_TTL)

    async def _adopt(self, stream_id: str, payload: bytes) -> None:
        """The standby found a registered stream without a live owner: take it over."""
        try:
            event = msgspec.json.decode(payload, type=RtmsEvent)
        except msgspec.DecodeError as exc:
            logger.error("stream %s: registry entry unreadable (%s); dropping it", stream_id, exc)
            await self.store.unregister(stream_id)
            return
        disposition = await self.start(event, adopted=True)
        if disposition is Disposition.STARTED:
            self.metrics.reconnect("handover")

    async def _watch_registry(self) -> None:
        """A failover ``rtms_started`` may reach another replica: it updates the registry and
        the owner notices here, within one renewal interval."""
        interval = max(self._config.lease_ttl / 3, 0.05)
        while not self._closing:
            await sleep(self._clock, interval)
            if not self._active:
                continue
            try:
                registered = await self.store.registered()
            except ConnectorError as exc:
                logger.warning("stream registry unreadable: %s", exc)
                continue
            for stream_id, session in list(self._active.items()):
                payload = registered.get(stream_id)
                if payload is None:
                    continue
                try:
                    event = msgspec.json.decode(payload, type=RtmsEvent)
                except msgspec.DecodeError:
                    continue
                if (
                    event.server_urls != session.event.server_urls
                    and event.event_ts >= session.event.event_ts
                ):
                    logger.warning("stream %s: failover seen in the registry", stream_id)
                    await session.restart("failover", event)

    async def _run(
        self, session: StreamSession, ownership: Ownership, result: asyncio.Future[StreamSummary]
    ) -> None:
        stream_id = session.stream_id
        try:
            summary = await session.run()
        except Exception as exc:  # a bug in the session: log it fully, keep the connector up
            logger.exception("stream %s: crashed", stream_id)
            if not result.done():
                result.set_exception(StreamError(f"stream {stream_id} crashed: {exc!r}", stream_id=stream_id))
                result.exception()  # logged above: do not warn again about an unretrieved exception
            return
        finally:
            if self._active.get(stream_id) is session:
                del self._active[stream_id]
                self.metrics.stream_owned(-1)
            await self._let_go(session, ownership)
        self._summaries[stream_id] = summary
        logger.info("%s", summary.one_line())
        if not result.done():
            result.set_result(summary)

    async def _let_go(self, session: StreamSession, ownership: Ownership) -> None:
        """The stream ended here: unless another replica took it, it is over for everyone."""
        try:
            if not session.lease_lost:
                await self.store.unregister(session.stream_id)
            await ownership.release()
        except ConnectorError as exc:
            logger.warning("stream %s: lease not released: %s", session.stream_id, exc)

    async def stop(self, stream_id: str, *, stop_reason: int | None = None) -> Disposition:
        """Zoom stopped ``stream_id`` (``*.rtms_stopped``): end it and finalize its output,
        or restart it when the reason calls for a full reconnect (§9.2)."""
        session = self._active.get(stream_id)
        if session is None:
            logger.info("stream %s: rtms_stopped (reason %s); not running here", stream_id, stop_reason)
            return Disposition.NOT_ACTIVE
        summary = await session.stop(stop_reason)
        return Disposition.RESTARTING if summary is None else Disposition.STOPPED

    async def interrupted(self, stream_id: str) -> Disposition:
        """``*.rtms_interrupted``: redo signaling and media (§9.2), unless already under way."""
        session = self._active.get(stream_id)
        if session is None:
            return Disposition.NOT_ACTIVE
        restarted = await session.restart("interrupted")
        return Disposition.RESTARTING if restarted else Disposition.NOT_ACTIVE

    async def finished(self, stream_id: str) -> StreamSummary:
        """The summary of ``stream_id``'s latest run, waiting until it has started and ended.

        Raises :class:`~connector.errors.StreamError` if the run crashed. Use with a timeout.
        """
        result = self._results.get(stream_id)
        if result is None:
            result = self._results[stream_id] = asyncio.get_running_loop().create_future()
        return await asyncio.shield(result)

    async def close_all(self) -> None:
        """Close every active stream gracefully (STREAM_CLOSE_REQ, bounded by
        ``close_timeout``, §4.14), wait until their output is finalized and their leases are
        released. From now on every ``rtms_started`` is refused and nothing is adopted."""
        self._closing = True
        if self._standby is not None:
            await self._standby.stop()
        if self._failover_watch is not None:
            self._failover_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._failover_watch
        sessions = list(self._active.values())
        if sessions:
            logger.info("closing %d stream(s)", len(sessions))
        await asyncio.gather(*(s.close() for s in sessions))
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        """:meth:`close_all`, then close the lease store."""
        await self.close_all()
        await self.store.close()
