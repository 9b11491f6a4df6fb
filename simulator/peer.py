"""One accepted WebSocket, as the simulator sees it: a state machine and an ordered outbox.

Everything the simulator sends goes through :meth:`Peer.send` into a queue that one writer
task drains, so timer callbacks stay synchronous and frames leave in the order (and scenario
time) they were produced. Closing and dropping are queued too, after what was sent before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web
from msgspec import UnsetType

from connector.protocol import MEDIA, SIGNALING, Connection, MediaParams, MediaType, Message, encode

from .clock import Timer
from .config import FrameKind, PeerKind

__all__ = ["Peer", "PeerKind"]

log = logging.getLogger("simulator.peer")


class _Close:
    def __init__(self, code: int) -> None:
        self.code = code


class _Drop:
    """Drop the TCP connection without a close frame (how Zoom provokes an SDK reconnect)."""


_Item = bytes | _Close | _Drop


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
        self.timers: list[Timer] = []  # media pumps and the like, cancelled on detach
        self.gone = False
        self._opcode = WSMsgType.BINARY if frame_kind is FrameKind.BINARY else WSMsgType.TEXT
        self._on_sent = on_sent
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
            self._outbox.put_nowait(encode(message))
            self._on_sent(self, message)

    def close(self, code: int = 1000) -> None:
        self._finish(_Close(code))

    def drop(self) -> None:
        self._finish(_Drop())

    def _finish(self, item: _Item) -> None:
        if self.gone:
            return
        self.gone = True
        self.cancel_timers()
        self._outbox.put_nowait(item)

    def cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()
        if self.keep_alive_timer is not None:
            self.keep_alive_timer.cancel()
            self.keep_alive_timer = None

    async def _drain(self) -> None:
        ws = self.ws
        try:
            while True:
                item = await self._outbox.get()
                if isinstance(item, bytes):
                    await ws.send_frame(item, self._opcode)
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
