"""One accepted WebSocket, as the simulator sees it: a state machine and an ordered outbox.

Everything the simulator sends goes through :meth:`Peer.send` (media frames through
:meth:`Peer.send_media`), so timer callbacks stay synchronous and frames leave in the order
(and scenario time) they were produced. A frame is written to the transport at once when
nothing waits before it and the socket takes data; otherwise it joins a queue that one writer
task drains through aiohttp (which also handles compression and flow control). Closing and
dropping are always queued, after what was sent before.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import WSMsgType, web
from msgspec import UnsetType

from connector.protocol import (
    MEDIA,
    SIGNALING,
    Connection,
    ConnState,
    MediaParams,
    MediaType,
    Message,
    Trigger,
    encode,
)

from .clock import Timer
from .config import FrameKind, PeerKind
from .pacing import Pacing

__all__ = ["Cancellable", "Peer", "PeerKind"]

log = logging.getLogger("simulator.peer")


class Cancellable(Protocol):
    """A timer, or a media pump standing for the timers it arms."""

    def cancel(self) -> None: ...

    @property
    def cancelled(self) -> bool: ...


class _Close:
    def __init__(self, code: int) -> None:
        self.code = code


class _Drop:
    """Drop the TCP connection without a close frame (how Zoom provokes an SDK reconnect)."""


_STREAMING = ConnState.STREAMING  # looked up per frame: an Enum attribute lookup is slow
_Item = bytes | tuple[bytes, str, float] | _Close | _Drop  # a media frame: (data, kind, due)

# RFC 6455 §5.2: FIN + opcode, then the payload length in 7 bits, 7+16 or 7+64; a server's
# frames are not masked. The same header aiohttp's writer builds.
_LEN_7 = struct.Struct("!BB").pack
_LEN_16 = struct.Struct("!BBH").pack
_LEN_64 = struct.Struct("!BBQ").pack


def _header(first: int, length: int) -> bytes:
    if length < 126:
        return _LEN_7(first, length)
    if length < 65536:
        return _LEN_16(first, 126, length)
    return _LEN_64(first, 127, length)


class Peer:
    """A signaling or media socket of one client."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        *,
        kind: PeerKind,
        path_kind: str,
        frame_kind: FrameKind,
        on_sent: Callable[[Peer, Message], None],
        region: int = 1,
        pacing: Pacing | None = None,
    ) -> None:
        self.ws = ws
        self.request = request
        self.kind = kind
        self.path_kind = path_kind  # the URL key it connected to: "signaling", "audio", "all", ...
        self.region = region  # which of the simulator's RTMS "servers" it reached (app.py)
        self.machine = Connection(SIGNALING if kind is PeerKind.SIGNALING else MEDIA)
        self.stream_id: str | None = None
        self.media_type = MediaType.UNDEFINED
        self.params = MediaParams()
        self.keep_alive_sequence = 0
        self.keep_alive_unanswered = 0
        self.keep_alive_outstanding: dict[int, int] = {}  # timestamp → sequence
        self.keep_alive_timer: Timer | None = None
        self.timers: list[Cancellable] = []  # media pumps and the like, cancelled on detach
        self.gone = False
        self._opcode = WSMsgType.BINARY if frame_kind is FrameKind.BINARY else WSMsgType.TEXT
        self._first_byte = 0x80 | int(self._opcode)  # FIN and the opcode
        self._on_sent = on_sent
        self._pacing = pacing
        # Frames are written straight to the transport only without permessage-deflate:
        # a compressed frame needs aiohttp's compressor, so those always take the queue.
        self._direct = not ws.compress
        self._transport = request.transport  # closing for good once the connection is lost
        self._protocol = request.protocol
        self._pending = 0  # items queued or being written by the writer task
        self._outbox: asyncio.Queue[_Item] = asyncio.Queue()
        self._writer = asyncio.get_running_loop().create_task(self._drain())

    @property
    def channel(self) -> str:
        """The journal channel: ``signaling`` or ``media:<url key>``."""
        return "signaling" if self.kind is PeerKind.SIGNALING else f"media:{self.path_kind}"

    def carries(self, media: MediaType) -> bool:
        return self.media_type == media or (
            self.media_type == MediaType.ALL and not isinstance(getattr(self.params, media.key), UnsetType)
        )

    def send(self, message: Message) -> None:
        """Queue ``message``; the state machine is advanced now, so order is kept."""
        if not self.gone:
            self.machine.handle(message)
            self.send_unchecked(message)

    def send_unchecked(self, message: Message) -> None:
        """Queue ``message`` without consulting the state machine (handshake rejections)."""
        if not self.gone:
            # The encoded bytes go out as they are, in a text or a binary frame: no decode
            # and re-encode per media frame.
            data = encode(message)
            if not self._write_now(data):
                self._put(data)
            self._on_sent(self, message)

    def send_media(self, message: Message, kind: str, due: float) -> None:
        """Send a media frame of ``kind`` (``audio``, ``video``, ...) scheduled at scenario time
        ``due``; its lateness is counted when it is handed to the transport (:mod:`.pacing`).

        ``on_sent`` is not called: media frames are counted, not journaled (the timeline does).
        """
        if not self.gone:
            self.send_encoded_media(encode(message), kind, due)

    def send_encoded_media(self, data: bytes, kind: str, due: float) -> None:
        """:meth:`send_media` of a media message already encoded (``data``)."""
        if self.gone:
            return
        machine = self.machine
        # Every media message is the MEDIA trigger, and a streaming media socket stays
        # streaming on it: only other states need the table, which may refuse the frame.
        if machine.state is not _STREAMING or machine.machine is not MEDIA:
            machine.fire(Trigger.MEDIA)
        if not self._write_now(data):
            self._put((data, kind, due))
            return
        if self._pacing is not None:
            self._pacing.record(kind, due)

    def _write_now(self, data: bytes) -> bool:
        """Write ``data`` as one frame now if nothing is queued or being written before it and
        the socket is open and not pushing back; False: the caller queues it instead."""
        transport = self._transport
        if (
            self._pending
            or not self._direct
            or self.ws.closed
            or transport is None
            or transport.is_closing()
            or self._protocol.writing_paused
        ):
            return False
        transport.write(_header(self._first_byte, len(data)) + data)
        return True

    def _put(self, item: _Item) -> None:
        self._pending += 1
        self._outbox.put_nowait(item)

    def close(self, code: int = 1000) -> None:
        self._finish(_Close(code))

    def drop(self) -> None:
        self._finish(_Drop())

    def _finish(self, item: _Item) -> None:
        if self.gone:
            return
        self.gone = True
        self.cancel_timers()
        self._put(item)

    def cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()
        if self.keep_alive_timer is not None:
            self.keep_alive_timer.cancel()
            self.keep_alive_timer = None

    async def _drain(self) -> None:
        ws = self.ws
        pacing = self._pacing
        try:
            while True:
                item = await self._outbox.get()
                # _pending counts the item until it is written: direct writes wait for it.
                if isinstance(item, bytes):
                    await ws.send_frame(item, self._opcode)
                    self._pending -= 1
                elif isinstance(item, tuple):
                    data, kind, due = item
                    # send_frame writes before it may wait for the socket to drain: the frame
                    # was handed over when the call began.
                    handed = pacing.now() if pacing is not None else 0.0
                    await ws.send_frame(data, self._opcode)
                    self._pending -= 1
                    if pacing is not None:
                        pacing.record(kind, due, at=handed)
                elif isinstance(item, _Close):
                    await ws.close(code=item.code)
                    return
                else:
                    transport = self.request.transport
                    if transport is not None:
                        transport.abort()
                    return
        except (ConnectionError, RuntimeError, asyncio.CancelledError) as exc:
            # The client went away while we were writing; the reader side reports it.
            log.debug("writer for %s stopped: %r", self.channel, exc)

    def stop_writer(self) -> None:
        self._direct = False  # nothing is written any more, directly or not
        self._writer.cancel()

    def __repr__(self) -> str:
        return f"<Peer {self.channel} {self.stream_id} {self.machine.state.value}>"

    def describe(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "state": self.machine.state.value,
            "media_type": int(self.media_type),
            "remote": self.request.remote,
        }
