"""How a :class:`~simulator.peer.Peer` hands frames to its socket: straight to the transport
when nothing waits before them, through the writer task otherwise, in order either way and
byte for byte as aiohttp's own writer frames them (RFC 6455 §5.2)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp._websocket.writer import WebSocketWriter
from aiohttp.base_protocol import BaseProtocol

from connector.protocol import (
    MEDIA,
    ConnState,
    KeepAliveReq,
    MediaContent,
    MediaDataAudio,
    Trigger,
    encode,
)
from simulator.clock import settle
from simulator.config import FrameKind, PeerKind
from simulator.pacing import Pacing
from simulator.peer import Peer, _header


class FakeTransport(asyncio.Transport):
    """What the peer writes, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.data = bytearray()
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return self.closing

    def abort(self) -> None:
        self.closing = True

    def get_write_buffer_size(self) -> int:
        return 0


class FakeWebSocket:
    """The part of aiohttp's WebSocketResponse a peer uses, over aiohttp's real writer."""

    def __init__(self, protocol: BaseProtocol, transport: FakeTransport, *, compress: int = 0) -> None:
        self.compress = compress
        self.closed = False
        self.frames_through_aiohttp = 0
        self._writer = WebSocketWriter(protocol, transport, compress=compress)

    async def send_frame(self, data: bytes, opcode: int) -> None:
        self.frames_through_aiohttp += 1
        await self._writer.send_frame(data, opcode)

    async def close(self, *, code: int = 1000) -> None:
        self.closed = True
        await self._writer.close(code, b"")


class FakeRequest:
    def __init__(self, protocol: BaseProtocol, transport: FakeTransport) -> None:
        self.protocol = protocol
        self.transport = transport
        self.remote = "127.0.0.1"


class Wire:
    """A peer on a fake socket, with aiohttp's writer alongside to frame the same bytes."""

    def __init__(self, *, frame_kind: FrameKind = FrameKind.TEXT, compress: int = 0) -> None:
        loop = asyncio.get_running_loop()
        self.transport = FakeTransport()
        self.protocol = BaseProtocol(loop)
        self.ws = FakeWebSocket(self.protocol, self.transport, compress=compress)
        self.now = 0.0
        self.pacing = Pacing(lambda: self.now)
        self.sent: list[Any] = []
        self.peer = Peer(
            self.ws,  # type: ignore[arg-type]
            FakeRequest(self.protocol, self.transport),  # type: ignore[arg-type]
            kind=PeerKind.MEDIA,
            path_kind="audio",
            frame_kind=frame_kind,
            on_sent=lambda _, message: self.sent.append(message),
            pacing=self.pacing,
        )
        self.peer.machine.state = ConnState.STREAMING

    def expected(self, *payloads: bytes, opcode: WSMsgType = WSMsgType.TEXT) -> bytes:
        """The bytes aiohttp's writer puts on the wire for ``payloads``, one frame each."""
        reference = FakeTransport()
        writer = WebSocketWriter(self.protocol, reference)
        for payload in payloads:
            writer._write_websocket_frame(payload, opcode, 0)
        return bytes(reference.data)

    async def close(self) -> None:
        self.peer.stop_writer()
        await settle()


def _audio(timestamp: int, size: int = 640) -> MediaDataAudio:
    return MediaDataAudio(content=MediaContent(user_id=0, data=bytes(size), length=size, timestamp=timestamp))


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 1000, 65535, 65536, 70000])
@pytest.mark.parametrize("opcode", [WSMsgType.TEXT, WSMsgType.BINARY])
async def test_frame_headers_are_aiohttps(length: int, opcode: WSMsgType) -> None:
    payload = bytes(range(256)) * (length // 256) + bytes(length % 256)
    wire = Wire()
    assert _header(0x80 | int(opcode), length) + payload == wire.expected(payload, opcode=opcode)
    await wire.close()


@pytest.mark.parametrize("frame_kind", [FrameKind.TEXT, FrameKind.BINARY])
async def test_frames_go_straight_to_the_transport(frame_kind: FrameKind) -> None:
    wire = Wire(frame_kind=frame_kind)
    keep_alive = KeepAliveReq(timestamp=1, sequence=1)
    wire.peer.send(keep_alive)
    wire.now = 0.0125
    wire.peer.send_media(_audio(5), "audio", due=0.01)
    opcode = WSMsgType.BINARY if frame_kind is FrameKind.BINARY else WSMsgType.TEXT
    # written before anything yields to the loop: no writer task involved
    assert bytes(wire.transport.data) == wire.expected(encode(keep_alive), encode(_audio(5)), opcode=opcode)
    assert wire.ws.frames_through_aiohttp == 0
    assert wire.sent == [keep_alive]  # media frames are counted, not journaled
    audio = wire.pacing.report()["kinds"]["audio"]
    assert (audio["frames"], audio["max_ms"]) == (1, 2.5)
    await wire.close()


async def test_a_socket_that_pushes_back_queues_and_keeps_the_order() -> None:
    wire = Wire()
    wire.protocol.pause_writing()
    wire.now = 1.0
    wire.peer.send_media(_audio(1), "audio", due=1.0)  # paused: queued
    wire.protocol.resume_writing()
    wire.peer.send_media(_audio(2), "audio", due=1.0)  # writable, but behind a queued frame
    assert wire.transport.data == b""
    wire.now = 1.004
    await settle()  # the writer task writes both, in order
    wire.peer.send_media(_audio(3), "audio", due=1.004)  # nothing waits any more: direct
    assert bytes(wire.transport.data) == wire.expected(*(encode(_audio(t)) for t in (1, 2, 3)))
    assert wire.ws.frames_through_aiohttp == 2
    audio = wire.pacing.report()["kinds"]["audio"]
    # the queued two were handed over when the writer ran, 4 ms after their time
    assert (audio["frames"], audio["max_ms"]) == (3, 4.0)
    await wire.close()


async def test_a_close_follows_what_was_sent_before_it() -> None:
    wire = Wire()
    wire.peer.send_media(_audio(1), "audio", due=0.0)
    wire.peer.close(1000)
    wire.peer.send_media(_audio(2), "audio", due=0.0)  # gone: never sent
    await settle()
    close = bytearray(wire.expected(b"\x03\xe8", opcode=WSMsgType.CLOSE))
    assert bytes(wire.transport.data) == wire.expected(encode(_audio(1))) + close
    await wire.close()


async def test_compressed_sockets_always_use_aiohttps_writer() -> None:
    wire = Wire(compress=15)
    wire.peer.send_media(_audio(1), "audio", due=0.0)
    assert wire.transport.data == b""
    await settle()
    assert wire.ws.frames_through_aiohttp == 1
    assert wire.transport.data[0] & 0x40  # RSV1: a deflated message
    await wire.close()


async def test_nothing_is_written_once_the_writer_is_stopped() -> None:
    wire = Wire()
    await wire.close()
    wire.peer.send_media(_audio(1), "audio", due=0.0)
    await settle()
    assert wire.transport.data == b""


async def test_a_closing_transport_is_left_to_the_writer() -> None:
    wire = Wire()
    wire.transport.closing = True
    wire.peer.send_media(_audio(1), "audio", due=0.0)
    await settle()  # aiohttp refuses to write to a closing transport; the writer stops
    assert wire.transport.data == b""
    assert wire.pacing.report()["kinds"] == {}  # never handed over, never counted
    await wire.close()


def test_a_streaming_media_socket_stays_streaming_on_media() -> None:
    # Peer.send_encoded_media skips the table in this one case; the table must agree.
    assert MEDIA.next_state(ConnState.STREAMING, Trigger.MEDIA) is ConnState.STREAMING


async def test_media_on_a_socket_that_is_not_streaming_is_refused_by_the_table() -> None:
    wire = Wire()
    wire.peer.machine.state = ConnState.HANDSHAKING
    with pytest.raises(Exception, match="media"):
        wire.peer.send_media(_audio(1), "audio", due=0.0)
    assert wire.transport.data == b""
    await wire.close()
