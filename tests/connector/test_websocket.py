"""The connector's WebSocket: messages handed over as they are parsed, and frames cut out of
the byte stream here exactly as ``websockets`` would parse them.

The property test feeds the same bytes, cut at random places, to two connections: one that
cuts frames itself (as the connector runs) and one that leaves every byte to ``websockets``.
Both must hand over the same messages and end in the same state with the same close frames.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import os
import struct
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.server import ServerConnection, serve
from websockets.client import ClientProtocol
from websockets.frames import Close, CloseCode, Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from connector.websocket import READ_SIZE, RtmsWebSocket

MAX_SIZE = 4096  # small, so that oversized frames are cheap to make
_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FakeTransport:
    """Just enough of an asyncio transport: what the connection writes is kept."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.aborted = False
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.written.append(b"")

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def open_socket(
    *, framing: bool = True, max_size: int | None = MAX_SIZE
) -> tuple[RtmsWebSocket, list[str | bytes], FakeTransport]:
    """A connection past its opening handshake, its handler's messages, and its transport.
    ``framing=False`` leaves every byte to ``websockets`` (the reference behaviour)."""
    protocol = ClientProtocol(parse_uri("ws://127.0.0.1/media"), max_size=max_size)
    ws = RtmsWebSocket(protocol, ping_interval=None, close_timeout=1)
    transport = FakeTransport()
    ws.connection_made(transport)  # type: ignore[arg-type]
    request = protocol.connect()
    protocol.send_request(request)
    ws.request = request
    ws.send_data()
    accept = base64.b64encode(
        hashlib.sha1((request.headers["Sec-WebSocket-Key"] + _GUID).encode()).digest()
    ).decode()
    response = (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
    )
    ws.data_received(response.encode())
    assert protocol.state is State.OPEN
    messages: list[str | bytes] = []
    ws.deliver_to(messages.append)
    assert ws._framing
    if not framing:
        ws._framing = False
    return ws, messages, transport


def feed(ws: RtmsWebSocket, data: bytes) -> None:
    """Hand ``data`` over as the event loop's transport would: read into the buffer."""
    for at in range(0, len(data), READ_SIZE):
        piece = data[at : at + READ_SIZE]
        buffer = ws.get_buffer(-1)
        buffer[: len(piece)] = piece
        ws.buffer_updated(len(piece))


def frame(opcode: Opcode, data: bytes, *, fin: bool = True) -> bytes:
    return Frame(opcode, data, fin=fin).serialize(mask=False, extensions=[])


def header(first: int, length: int, *, masked: bool = False) -> bytes:
    mask = 0x80 if masked else 0
    if length < 126:
        return bytes([first, mask | length])
    if length < 1 << 16:
        return bytes([first, mask | 126]) + struct.pack("!H", length)
    return bytes([first, mask | 127]) + struct.pack("!Q", length)


def outcome(ws: RtmsWebSocket, transport: FakeTransport) -> tuple[object, ...]:
    """What must not depend on who cut the frames: the protocol's state, the close frames
    received and sent, whether the connection failed, and how many frames were written
    (pongs, close frames).

    After a text message that is not UTF-8 the connection fails at once and nothing after
    it is processed (RFC 6455 §7.1.7), while the reference parses a whole read before the
    message is decoded, so it may still answer a ping that came in the same read: the number
    of frames written is not compared then."""
    protocol = ws.protocol
    sent = protocol.close_sent
    rcvd = protocol.close_rcvd
    refused_text = isinstance(ws.connection_exc, UnicodeDecodeError)
    return (
        protocol.state,
        None if rcvd is None else (rcvd.code, rcvd.reason),
        None if sent is None else (sent.code, sent.reason),
        type(ws.connection_exc),
        None if refused_text else len([w for w in transport.written if w]),
        transport.aborted,
    )


# --- what the server may send ------------------------------------------------------------

texts = st.text(max_size=300).map(lambda t: frame(Opcode.TEXT, t.encode()))
binaries = st.binary(max_size=300).map(lambda b: frame(Opcode.BINARY, b))
large = st.sampled_from([125, 126, 200, MAX_SIZE]).map(lambda n: frame(Opcode.BINARY, b"\x07" * n))
pings = st.binary(max_size=20).map(lambda b: frame(Opcode.PING, b))
pongs = st.binary(max_size=20).map(lambda b: frame(Opcode.PONG, b))


@st.composite
def fragmented(draw: st.DrawFn) -> bytes:
    """A text or binary message in 2-4 fragments, maybe with a ping between two of them."""
    text = draw(st.booleans())
    payload = draw(st.text(min_size=1, max_size=200)).encode() if text else draw(st.binary(max_size=200))
    cuts = sorted(draw(st.lists(st.integers(0, len(payload)), min_size=1, max_size=3)))
    pieces = [payload[a:b] for a, b in zip([0, *cuts], [*cuts, len(payload)], strict=True)]
    out = b""
    for n, piece in enumerate(pieces):
        opcode = (Opcode.TEXT if text else Opcode.BINARY) if n == 0 else Opcode.CONT
        out += frame(opcode, piece, fin=n == len(pieces) - 1)
        if n == 0 and draw(st.booleans()):
            out += frame(Opcode.PING, b"in-between")
    return out


invalid = st.sampled_from(
    [
        frame(Opcode.TEXT, b"\xff\xfe not UTF-8"),  # 1007
        header(0x81, 5, masked=True) + b"mask" + b"hello",  # a masked server frame: 1002
        header(0xC1, 2) + b"hi",  # a reserved bit: 1002
        header(0x83, 1) + b"x",  # a reserved opcode: 1002
        header(0x82, MAX_SIZE + 1) + bytes(MAX_SIZE + 1),  # over max_size: 1009
        header(0x82, 1 << 40),  # far over max_size, header only: refused from the header
        frame(Opcode.CONT, b"no first fragment"),  # 1002
        frame(Opcode.TEXT, b"first", fin=False) + frame(Opcode.TEXT, b"second"),  # 1002
    ]
)
closes = st.sampled_from(
    [
        frame(Opcode.CLOSE, Close(CloseCode.NORMAL_CLOSURE, "bye").serialize()),
        frame(Opcode.CLOSE, Close(CloseCode.GOING_AWAY, "").serialize()),
    ]
)
valid = st.lists(
    st.one_of(texts, binaries, large, pings, pongs, fragmented(), closes), min_size=1, max_size=12
)


@st.composite
def chunkings(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """Valid frames, maybe ended by one the protocol forbids (what follows a violation is not
    compared: with two in one read, the two may report different ones), cut at random."""
    data = b"".join(draw(valid)) + draw(st.one_of(st.just(b""), invalid))
    cuts = sorted(set(draw(st.lists(st.integers(0, len(data)), max_size=10))))
    return data, cuts


def chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    edges = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges) if b > a]


def on_a_loop(body: Callable[[], None]) -> None:
    """Run ``body`` where a connection can be made (it looks up the running loop)."""

    async def run() -> None:
        body()

    asyncio.run(run())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunkings())
def test_frames_cut_here_are_the_frames_websockets_parses(case: tuple[bytes, list[int]]) -> None:
    data, cuts = case

    def body() -> None:
        fast, fast_messages, fast_transport = open_socket()
        reference, reference_messages, reference_transport = open_socket(framing=False)
        for piece in chunks(data, cuts):
            feed(fast, piece)
            feed(reference, piece)
        assert fast_messages == reference_messages
        assert outcome(fast, fast_transport) == outcome(reference, reference_transport)

    on_a_loop(body)


def test_text_is_str_binary_is_bytes_and_order_is_kept() -> None:
    def body() -> None:
        ws, messages, _ = open_socket()
        feed(
            ws,
            frame(Opcode.TEXT, "é1".encode()) + frame(Opcode.BINARY, b"\x00\x01") + frame(Opcode.TEXT, b"3"),
        )
        assert messages == ["é1", b"\x00\x01", "3"]

    on_a_loop(body)


def test_a_frame_cut_anywhere_is_handed_over_once_whole() -> None:
    data = frame(Opcode.TEXT, b"x" * 300) + frame(Opcode.BINARY, b"z")

    def body() -> None:
        for cut in range(1, len(data)):
            ws, messages, _ = open_socket()
            feed(ws, data[:cut])
            feed(ws, data[cut:])
            assert messages == ["x" * 300, b"z"], cut

    on_a_loop(body)


def test_messages_and_a_kept_frame_start_outlive_the_shared_read_buffer() -> None:
    # Frames are cut where they lie in the read buffer every socket shares: what is handed
    # over, and the start of a frame kept for the next read, must be copies.
    whole = frame(Opcode.BINARY, b"\x01" * 200) + frame(Opcode.TEXT, b"y" * 300)

    def body() -> None:
        a, got_a, _ = open_socket()
        b, got_b, _ = open_socket()
        feed(a, whole[:-10])  # the binary message whole, the text one cut
        feed(b, frame(Opcode.BINARY, b"\x02" * 600))  # the shared buffer is overwritten
        feed(a, whole[-10:])
        assert got_a == [b"\x01" * 200, "y" * 300]
        assert got_b == [b"\x02" * 600]
        assert type(got_a[0]) is bytes

    on_a_loop(body)


def test_invalid_utf8_fails_the_connection_with_1007() -> None:
    def body() -> None:
        ws, messages, transport = open_socket()
        feed(ws, frame(Opcode.TEXT, b"ok") + frame(Opcode.TEXT, b"\xc3\x28") + frame(Opcode.TEXT, b"after"))
        assert messages == ["ok"]
        assert ws.protocol.close_sent is not None
        assert ws.protocol.close_sent.code == CloseCode.INVALID_DATA
        assert isinstance(ws.connection_exc, UnicodeDecodeError)
        assert transport.written  # the close frame

    on_a_loop(body)


def test_messages_before_a_handler_are_held_and_handed_over_in_order() -> None:
    async def run() -> None:
        protocol = ClientProtocol(parse_uri("ws://127.0.0.1/media"))
        ws = RtmsWebSocket(protocol, ping_interval=None)
        ws.connection_made(FakeTransport())  # type: ignore[arg-type]
        request = protocol.connect()
        protocol.send_request(request)
        accept = base64.b64encode(
            hashlib.sha1((request.headers["Sec-WebSocket-Key"] + _GUID).encode()).digest()
        ).decode()
        response = (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
        ).encode()
        # Frames right behind the handshake, the last one cut: websockets holds its start.
        tail = frame(Opcode.TEXT, b"second")
        ws.data_received(response + frame(Opcode.TEXT, b"first") + tail[:3])
        got: list[str | bytes] = []
        ws.deliver_to(got.append)
        assert got == ["first"]
        assert not ws._framing  # websockets is mid-frame: it goes on parsing
        feed(ws, tail[3:] + frame(Opcode.BINARY, b"third"))
        assert got == ["first", "second", b"third"]

    asyncio.run(run())


async def test_a_real_server_messages_pings_fragments_and_close() -> None:
    big = os.urandom(3 * READ_SIZE)  # read in several pieces

    async def handler(server: ServerConnection) -> None:
        await server.send("hello")
        await server.send(big)
        await server.send(["frag", "mented"])  # one message in fragments
        await server.ping(b"are you there")
        await server.send("last")
        await server.close(CloseCode.GOING_AWAY, "done")

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        from websockets.asyncio.client import connect

        ws = await connect(f"ws://127.0.0.1:{port}", create_connection=RtmsWebSocket, max_size=None)
        assert isinstance(ws, RtmsWebSocket)
        got: list[str | bytes] = []
        ws.deliver_to(got.append)
        async with asyncio.timeout(5):
            await ws.wait_closed()
    assert got == ["hello", big, "fragmented", "last"]
    assert ws.close_exc.rcvd is not None
    assert ws.close_exc.rcvd.code == CloseCode.GOING_AWAY


async def test_send_now_writes_a_text_frame_and_not_after_close() -> None:
    received: list[str | bytes] = []

    async def handler(server: ServerConnection) -> None:
        async for message in server:
            received.append(message)

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        from websockets.asyncio.client import connect

        ws = await connect(f"ws://127.0.0.1:{port}", create_connection=RtmsWebSocket)
        assert isinstance(ws, RtmsWebSocket)
        assert ws.send_now('{"msg_type":12}')
        await ws.close()
        assert not ws.send_now("lost")
    assert received == ['{"msg_type":12}']


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_every_length_encoding(size: int) -> None:
    payload = os.urandom(size)

    def body() -> None:
        ws, messages, _ = open_socket(max_size=None)
        feed(ws, frame(Opcode.BINARY, payload))
        assert messages == [payload]

    on_a_loop(body)
