"""The asyncio layer of one stream: real WebSockets around a :class:`~connector.stream.StreamClient`.

A :class:`StreamSession` opens the sockets the client asks for with the ``websockets``
library, feeds it every frame, carries out its actions (send, write to the sinks, end) and,
whatever happens — a handshake rejection, a refused connection, a TLS failure, an abrupt drop,
cancellation — closes every socket and finalizes the output, ending with a
:class:`~connector.summary.StreamSummary` (docs/protocol.md §3, §4, §9.2).

Network and file errors never escape as exceptions: they end the stream with a clear
``detail`` and one log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from .config import ConnectorConfig
from .errors import ConnectorError, SinkError
from .protocol import FrameError, RtmsEvent, decode, encode
from .sinks import StreamSinks
from .stream import (
    Action,
    AudioFormat,
    Ended,
    Open,
    Ready,
    Send,
    StreamClient,
    WriteAudio,
    WriteEvent,
    WriteTranscript,
)
from .summary import StreamSummary

__all__ = ["USER_AGENT", "StreamSession"]

logger = logging.getLogger("connector.session")

USER_AGENT = "rtms-connector/0.1"


class StreamSession:
    """Runs one stream until it ends. ``run()`` once; ``close()`` / ``stop()`` from elsewhere.

    ``ssl_context`` is used for ``wss://`` URLs (built from ``config`` when not given);
    ``clock`` gives Unix seconds for the summary's timestamps.
    """

    def __init__(
        self,
        config: ConnectorConfig,
        event: RtmsEvent,
        sinks: StreamSinks,
        *,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.event = event
        self.client = StreamClient(config, event)
        self.sinks = sinks
        self.summary: StreamSummary | None = None
        self._config = config
        self._ssl = ssl_context
        self._clock = clock
        self._sockets: dict[str, ClientConnection] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}  # by socket name
        self._joined = asyncio.Event()  # the join completed or the stream ended
        self._ended = asyncio.Event()
        self._done = asyncio.Event()  # sockets closed and output finalized

    @property
    def stream_id(self) -> str:
        return self.event.rtms_stream_id

    @property
    def ready(self) -> bool:
        return self.client.ready

    async def run(self) -> StreamSummary:
        """Connect, stream until the end, tear down, write ``stream.json``; never raises for
        network or file errors."""
        started_ms = int(self._clock() * 1000)
        try:
            await self._apply(self.client.start())
            try:
                async with asyncio.timeout(self._config.join_timeout):
                    await self._joined.wait()
            except TimeoutError:
                await self._apply(
                    self.client.fail(f"join did not complete in {self._config.join_timeout:g} s")
                )
            await self._ended.wait()
        finally:
            # Also on cancellation: nothing written may be lost.
            self.client.fail("session cancelled")  # no-op when the stream already ended
            await self._teardown()
            self.summary = self._finalize(started_ms)
            self._done.set()
        return self.summary

    async def close(self) -> StreamSummary:
        """Graceful close (§4.14): STREAM_CLOSE_REQ, then wait — all within ``close_timeout``
        — for STREAM_CLOSE_RESP and the STREAM_STATE_UPDATE(4) that follows; then tear down."""
        if not self._ended.is_set():
            await self._apply(self.client.close())
            timeout = self._config.close_timeout
            try:
                async with asyncio.timeout(timeout):
                    await self._ended.wait()
            except TimeoutError:
                await self._apply(self.client.close_timed_out(timeout))
        return await self.wait()

    async def stop(self, stop_reason: int | None) -> StreamSummary:
        """Zoom said the stream stopped (``*.rtms_stopped``): end it without a close request."""
        await self._apply(self.client.stopped(stop_reason))
        return await self.wait()

    async def wait(self) -> StreamSummary:
        """The summary, once the stream ended and its output is finalized."""
        await self._done.wait()
        assert self.summary is not None
        return self.summary

    # --- actions -------------------------------------------------------------------------

    async def _apply(self, actions: list[Action]) -> None:
        for action in actions:
            try:
                if isinstance(action, WriteAudio):  # per media frame: first
                    self.sinks.write_audio(action.content.data)
                elif isinstance(action, Send):
                    await self._send(action)
                elif isinstance(action, WriteTranscript):
                    self.sinks.write_transcript(action.content, action.user_name)
                elif isinstance(action, WriteEvent):
                    self.sinks.write_event(action.event)
                elif isinstance(action, AudioFormat):
                    self.sinks.configure_audio(action.sample_rate, action.channels)
                elif isinstance(action, Open):
                    self._spawn(action.socket, action.url)
                elif isinstance(action, Ready):
                    logger.info("stream %s: joined (%s)", self.stream_id, ", ".join(self._sockets))
                    self._joined.set()
                elif isinstance(action, Ended):
                    self._joined.set()
                    self._ended.set()
            except SinkError as exc:
                logger.error("stream %s: %s", self.stream_id, exc)
                await self._apply(self.client.fail(str(exc)))

    async def _send(self, action: Send) -> None:
        ws = self._sockets.get(action.socket)
        if ws is None:
            return
        # A send racing with a close is lost; the socket's reader reports the close.
        with contextlib.suppress(ConnectionClosed):
            # Text frames of compact JSON, as Zoom's raw-WebSocket samples send (§1.1).
            await ws.send(encode(action.message).decode())

    def _spawn(self, name: str, url: str) -> None:
        self._tasks[name] = asyncio.create_task(self._socket(name, url), name=f"rtms {self.stream_id} {name}")

    # --- sockets -------------------------------------------------------------------------

    async def _socket(self, name: str, url: str) -> None:
        """Connect, handshake and read one socket until it closes; report the close."""
        try:
            ws = await connect(
                url,
                ssl=self._ssl_for(url),
                max_size=self._config.max_message_size,
                open_timeout=self._config.connect_timeout,
                close_timeout=self._config.close_timeout,
                compression=None,  # Zoom's SDK does not negotiate it; saves CPU per frame
                ping_interval=30,  # WebSocket pings as the official SDK sends them (§1.1)
                ping_timeout=60,
                proxy=None,  # explicit configuration only (a proxy option is future work)
                user_agent_header=USER_AGENT,
            )
        except (OSError, TimeoutError, WebSocketException, ConnectorError) as exc:
            detail = f"{name} socket cannot connect to {url}: {_explain(exc, self._config.connect_timeout)}"
            logger.error("stream %s: %s", self.stream_id, detail)
            await self._apply(self.client.closed(name, detail, clean=False))
            return
        if self.client.outcome is not None:  # the stream ended while this socket connected
            await ws.close()
            return
        self._sockets[name] = ws
        try:
            await self._apply(self.client.opened(name))
            async for frame in ws:
                try:
                    message = decode(frame)
                except FrameError as exc:
                    logger.warning("stream %s: %s socket: undecodable frame: %s", self.stream_id, name, exc)
                    continue
                await self._apply(self.client.received(name, message))
        except ConnectionClosed:
            pass
        except Exception as exc:  # a bug: log it with its traceback, but end the stream cleanly
            logger.exception("stream %s: internal error on %s socket", self.stream_id, name)
            await self._apply(self.client.fail(f"internal error on {name} socket: {exc!r}"))
            await ws.close(1011)
            return
        closed = ws.close_exc
        clean = closed.rcvd is not None
        how = f"code {closed.rcvd.code}" if closed.rcvd is not None else "no close frame"
        detail = f"{name} socket closed by Zoom ({how})"
        if self.client.outcome is None:
            log = logger.info if clean else logger.error
            log("stream %s: %s", self.stream_id, detail)
        await self._apply(self.client.closed(name, detail, clean=clean))

    def _ssl_for(self, url: str) -> ssl.SSLContext | None:
        if not url.lower().startswith("wss://"):
            return None
        if self._ssl is None:
            self._ssl = self._config.ssl_context()
        return self._ssl

    async def _teardown(self) -> None:
        """Close every socket with 1000 (§3), let the readers drain frames already received,
        then stop whatever is left (connections still being opened, a reader stuck past
        ``close_timeout``)."""
        await asyncio.gather(*(ws.close(1000) for ws in self._sockets.values()), return_exceptions=True)
        for name, task in self._tasks.items():
            if name not in self._sockets:
                task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks.values(), timeout=self._config.close_timeout)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    def _finalize(self, started_ms: int) -> StreamSummary:
        self.sinks.close()
        outcome = self.client.outcome
        assert outcome is not None
        summary = StreamSummary.build(
            event=self.event,
            outcome=outcome,
            sinks=self.sinks,
            roster=self.client.roster,
            started_ms=started_ms,
            ended_ms=int(self._clock() * 1000),
        )
        try:
            self.sinks.write_summary(summary.as_json())
        except SinkError as exc:
            logger.error("stream %s: %s", self.stream_id, exc)
        return summary


def _explain(exc: BaseException, timeout: float) -> str:
    """A short, human reason for a failed connection (no traceback)."""
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    return str(exc) or type(exc).__name__
