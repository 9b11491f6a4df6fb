"""Ownership of streams: which run here; starting, stopping, closing them (docs/protocol.md §7.1, §9.2).

:class:`StreamManager` keeps one :class:`~connector.session.StreamSession` per active
``rtms_stream_id`` and owns the task that runs it. It is the webhook receiver's handler:
:meth:`StreamManager.handle` takes any RTMS webhook event and returns a :class:`Disposition`
saying what it did, quickly — the stream itself runs in its own task.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import ssl
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType

from .config import ConnectorConfig
from .errors import SinkError, StreamError
from .protocol import RtmsEvent, RtmsEventKind
from .session import StreamSession
from .sinks import StreamSinks
from .summary import StreamSummary

__all__ = ["Disposition", "StreamManager"]

logger = logging.getLogger("connector.manager")


class Disposition(enum.Enum):
    """What the manager did with an RTMS webhook event."""

    STARTED = "started"  # a new stream is starting
    DUPLICATE = "duplicate"  # a retried rtms_started: same stream, same server_urls, still active
    FAILOVER_IGNORED = "failover_ignored"  # rtms_started with new server_urls for an active stream
    STOPPED = "stopped"  # rtms_stopped ended an active stream
    INTERRUPTED = "interrupted"  # rtms_interrupted noted for an active stream
    NOT_ACTIVE = "not_active"  # stopped/interrupted for a stream that is not running here
    REFUSED = "refused"  # shutting down, or the output directory is unusable


class StreamManager:
    """Active streams by ``rtms_stream_id``.

    ``ssl_context`` is shared by every ``wss://`` connection (built once from ``config``,
    so a broken CA file is a :class:`~connector.errors.ConfigError` here, at start-up).
    """

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        clock: Callable[[], float] = time.time,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._ssl = ssl_context or config.ssl_context()
        self._active: dict[str, StreamSession] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._results: dict[str, asyncio.Future[StreamSummary]] = {}
        self._summaries: dict[str, StreamSummary] = {}
        self._closing = False

    @property
    def active(self) -> Mapping[str, StreamSession]:
        """Running streams (read-only view)."""
        return MappingProxyType(self._active)

    @property
    def summaries(self) -> Mapping[str, StreamSummary]:
        """The summary of the latest finished run of each stream (read-only view)."""
        return MappingProxyType(self._summaries)

    async def handle(self, event: RtmsEvent) -> Disposition:
        """Act on one RTMS webhook event (§7.1); returns once the action is under way
        (``rtms_stopped`` waits for the stream's output to be finalized)."""
        if event.kind is RtmsEventKind.STARTED:
            return self.start(event)
        if event.kind is RtmsEventKind.STOPPED:
            return await self.stop(event.rtms_stream_id, stop_reason=event.stop_reason)
        if event.rtms_stream_id not in self._active:
            return Disposition.NOT_ACTIVE
        # Reconnection (§9.2) is a later milestone: the sockets' own failures end the stream.
        logger.warning(
            "stream %s: rtms_interrupted received; reconnection is not implemented", event.rtms_stream_id
        )
        return Disposition.INTERRUPTED

    def start(self, event: RtmsEvent) -> Disposition:
        """Start streaming ``event`` (an ``rtms_started``) unless it is a duplicate.

        Registration happens before this returns, so a retried delivery processed right
        after it is recognised as a duplicate.
        """
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
            logger.warning(
                "stream %s: rtms_started with new server_urls (failover) not supported yet", stream_id
            )
            return Disposition.FAILOVER_IGNORED
        try:
            sinks = StreamSinks.create(self._config.output_dir, stream_id)
        except SinkError as exc:
            logger.error("stream %s: not started: %s", stream_id, exc)
            return Disposition.REFUSED
        session = StreamSession(self._config, event, sinks, ssl_context=self._ssl, clock=self._clock)
        self._active[stream_id] = session
        result = self._results.get(stream_id)
        if result is None or result.done():
            result = self._results[stream_id] = asyncio.get_running_loop().create_future()
        logger.info(
            "stream %s: starting (%s %s) into %s",
            stream_id,
            event.product.value,
            event.instance_id,
            sinks.directory,
        )
        task = asyncio.create_task(self._run(session, result), name=f"rtms stream {stream_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return Disposition.STARTED

    async def _run(self, session: StreamSession, result: asyncio.Future[StreamSummary]) -> None:
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
        self._summaries[stream_id] = summary
        logger.info("%s", summary.one_line())
        if not result.done():
            result.set_result(summary)

    async def stop(self, stream_id: str, *, stop_reason: int | None = None) -> Disposition:
        """Zoom stopped ``stream_id`` (``*.rtms_stopped``): end it and finalize its output."""
        session = self._active.get(stream_id)
        if session is None or session.client.outcome is not None:
            logger.info("stream %s: rtms_stopped (reason %s); not running here", stream_id, stop_reason)
            return Disposition.NOT_ACTIVE
        await session.stop(stop_reason)
        return Disposition.STOPPED

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
        ``close_timeout``, §4.14) and wait until their output is finalized. From now on
        every ``rtms_started`` is refused."""
        self._closing = True
        sessions = list(self._active.values())
        if sessions:
            logger.info("closing %d stream(s)", len(sessions))
        await asyncio.gather(*(s.close() for s in sessions))
        await asyncio.gather(*self._tasks, return_exceptions=True)
