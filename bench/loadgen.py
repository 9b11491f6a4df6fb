"""A cheap fleet of RTMS clients for loading the simulator, as a process of its own.

Each stream is joined as the official SDK joins one (reference §3): the stream is started
through the control API (``POST /_sim/streams``), then a signaling socket shakes hands
(msg 1 → 2), one media socket per type asks for audio (L16, 16 kHz, mono, 20 ms, mixed) and
transcripts (msg 3 → 4), CLIENT_READY_ACK (7) starts the media, and every KEEP_ALIVE_REQ (12)
is answered (13). Frames are counted per kind; only non-media messages are parsed as JSON.

The sockets are plain asyncio Protocols speaking just enough RFC 6455 for a client: the
opening handshake (key and accept from ``websockets.utils``), masked frames out (websockets'
``Frame.serialize``), and a minimal reader for the server's unmasked frames, because a full
parser costs more per frame than everything else here.

CLIENT_READY_ACKs are spread so the streams' frame phases cover each 20 ms period evenly
(media starts at a stream's first CLIENT_READY_ACK): acknowledgement ``j`` of a batch of ``n``
goes out ``j * 20 ms * k / n`` after the first, with ``k`` coprime to ``n``.

Run alone: ``python bench/loadgen.py --base http://127.0.0.1:PORT --streams 100 --seconds 30``.
With ``--commands`` it reads JSON lines on stdin (``{"op": "add", "streams": N}``,
``{"op": "reset"}``, ``{"op": "stats"}``, ``{"op": "stop"}``, ``{"op": "quit"}``) and answers
each with one JSON line on stdout (how bench/sim_capacity.py drives it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import select
import socket
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from websockets.frames import Frame, Opcode
from websockets.utils import accept_key, generate_key

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.protocol import (
    AudioChannel,
    AudioParams,
    ClientReadyAck,
    Codec,
    ContentType,
    DataHandshakeReq,
    DataOption,
    KeepAliveReq,
    KeepAliveResp,
    MediaParams,
    MediaType,
    Message,
    SampleRate,
    SignalingHandshakeReq,
    TranscriptParams,
    decode,
    encode,
    handshake_signature,
)
from simulator.config import App  # the simulator's default credentials
from simulator.pacing import Histogram

PERIOD = 0.020  # the audio frame period asked for (send_rate 20 ms)
AUDIO = MediaParams(
    audio=AudioParams(
        content_type=ContentType.RAW_AUDIO,
        sample_rate=SampleRate.SR_16K,
        channel=AudioChannel.MONO,
        codec=Codec.L16,
        data_opt=DataOption.AUDIO_MIXED_STREAM,
        send_rate=20,
    )
)
TRANSCRIPT = MediaParams(transcript=TranscriptParams(content_type=ContentType.TEXT))
# msg_type of the simulator's compact frames, read from the bytes: b'{"msg_type":14,...'
_PREFIX = b'{"msg_type":'
_KINDS = {b"14": "audio", b"15": "video", b"16": "deskshare", b"17": "transcript", b"18": "chat"}
_TIMESTAMP = b'"timestamp":'
_READ_SIZE = 64 * 1024


class Socket:
    """One client WebSocket on a non-blocking socket: the opening handshake, then frames to
    :class:`Fleet`. The fleet's epoll set says when it is readable; it reads into its own
    buffer (no allocation per read) and writes with ``send`` (its messages are small)."""

    def __init__(self, fleet: Fleet, url: str, role: str) -> None:
        self.fleet = fleet
        self.role = role
        parts = urlsplit(url)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._key = generate_key()
        self._request = (
            f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {self._key}\r\nSec-WebSocket-Version: 13\r\n"
            "User-Agent: rtms-loadgen\r\n\r\n"
        ).encode()
        self.sock: socket.socket | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.messages: asyncio.Queue[Message] = asyncio.Queue()  # non-media messages (joining)
        self.closed = False
        self.gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None
        self._buffer = bytearray(_READ_SIZE)
        self._view = memoryview(self._buffer)
        self._filled = 0  # bytes of _buffer holding data not consumed yet
        self._upgraded = False

    async def connect(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await asyncio.get_running_loop().sock_connect(sock, self.address)
        except OSError:
            sock.close()
            raise
        self.sock = sock
        self.fleet.watch(self)
        self._write(self._request)
        await asyncio.wait_for(self.opened, 30)

    # -- reading (called by the fleet's poll) -------------------------------------------

    def readable(self) -> None:
        assert self.sock is not None
        if len(self._buffer) - self._filled < _READ_SIZE // 4:  # a large frame: room for it
            self._buffer.extend(bytes(len(self._buffer)))
            self._view = memoryview(self._buffer)
        try:
            n = self.sock.recv_into(self._view[self._filled :])
        except BlockingIOError:
            return
        except OSError:
            n = 0
        if n == 0:
            self._lost()
            return
        self._filled += n
        buffer = self._buffer
        if not self._upgraded and not self._upgrade():
            return
        # RFC 6455 §5.2, server frames: never masked. Whole frames only; the rest waits.
        fleet = self.fleet
        pos = 0
        size = self._filled
        while size - pos >= 2:
            length = buffer[pos + 1] & 0x7F
            if length < 126:
                start = pos + 2
            elif length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(buffer[pos + 2 : pos + 4], "big")
                start = pos + 4
            else:
                if size - pos < 10:
                    break
                length = int.from_bytes(buffer[pos + 2 : pos + 10], "big")
                start = pos + 10
            end = start + length
            if end > size:
                break
            opcode = buffer[pos] & 0x0F
            if opcode == 1 or opcode == 2:
                fleet.message(self, buffer, start, end)
            elif opcode == 8:
                self._on_close(bytes(buffer[start:end]))
                return
            elif opcode == 9:
                self._send_frame(Frame(Opcode.PONG, bytes(buffer[start:end])))
            pos = end
        if pos:
            rest = size - pos
            if rest:
                buffer[:rest] = buffer[pos:size]
            self._filled = rest

    def _upgrade(self) -> bool:
        head_end = self._buffer.find(b"\r\n\r\n", 0, self._filled)
        if head_end < 0:
            return False
        head = bytes(self._buffer[:head_end]).decode("latin-1").split("\r\n")
        rest = self._filled - head_end - 4
        self._buffer[:rest] = self._buffer[head_end + 4 : self._filled]
        self._filled = rest
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
        if not head[0].startswith("HTTP/1.1 101") or headers.get("sec-websocket-accept") != accept_key(
            self._key
        ):
            self.opened.set_exception(ConnectionError(f"{self.role} upgrade refused: {head[0]}"))
            self._lost()
            return False
        self._upgraded = True
        self.opened.set_result(None)
        return True

    def _on_close(self, payload: bytes) -> None:
        self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
        self._send_frame(Frame(Opcode.CLOSE, payload[:2]))
        self._lost()

    def _lost(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.fleet.unwatch(self)
        if self.sock is not None:
            self.sock.close()
        self.gone.set_result(None)
        self.fleet.lost(self)
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"{self.role} socket lost during the upgrade"))

    def abort(self) -> None:
        self._lost()

    # -- sending ---------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        if self.closed or self.sock is None:
            return
        try:
            sent = self.sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._lost()
            return
        if sent < len(data):  # a full send buffer: never for these few small messages
            self.fleet.errors.append(f"{self.role}: send buffer full, socket dropped")
            self._lost()

    def _send_frame(self, frame: Frame) -> None:
        self._write(frame.serialize(mask=True))

    def send(self, message: Message) -> None:
        self._send_frame(Frame(Opcode.TEXT, encode(message)))


class Stream:
    """One joined stream: its three sockets and what it needs to answer."""

    def __init__(self, index: int, payload: dict[str, Any]) -> None:
        self.index = index
        self.stream_id = str(payload["rtms_stream_id"])
        self.instance_id = str(payload["meeting_uuid"])
        self.server_urls = str(payload["server_urls"])
        self.sockets: list[Socket] = []
        self.ready = False


class Fleet:
    """Every stream of this process, its counters, and the joins."""

    def __init__(self, base_url: str, *, concurrency: int = 16, ramp_per_stream: float = 0.01) -> None:
        self.base_url = base_url.rstrip("/")
        self.app = App()
        self.concurrency = concurrency
        self.ramp_per_stream = ramp_per_stream
        self.streams: list[Stream] = []
        self.frames: dict[str, int] = dict.fromkeys(_KINDS.values(), 0)
        self.window: dict[str, int] = dict.fromkeys(_KINDS.values(), 0)
        self.keep_alives = 0
        self.closes = 0
        self.lost_sockets = 0
        self.errors: list[str] = []
        # Arrival minus the frame's own timestamp (epoch ms, so whole milliseconds): the
        # end-to-end delay of audio frames as this client sees it, loadgen delays included.
        self.delay = Histogram(resolution=1e-3, limit=10.0)
        self.window_started = time.monotonic()
        self._http: aiohttp.ClientSession | None = None
        # Every socket in one epoll set, itself watched by the loop: one callback reads all the
        # sockets that are ready, instead of one loop callback per socket per frame.
        self._epoll = select.epoll()
        self._sockets: dict[int, Socket] = {}
        self._now_ms = 0.0  # wall clock of the current poll, in ms
        asyncio.get_running_loop().add_reader(self._epoll.fileno(), self._poll)

    def watch(self, socket: Socket) -> None:
        assert socket.sock is not None
        fd = socket.sock.fileno()
        self._sockets[fd] = socket
        self._epoll.register(fd, select.EPOLLIN)

    def unwatch(self, socket: Socket) -> None:
        if socket.sock is not None and self._sockets.get(socket.sock.fileno()) is socket:
            del self._sockets[socket.sock.fileno()]
            self._epoll.unregister(socket.sock.fileno())

    def _poll(self) -> None:
        self._now_ms = time.time() * 1000.0
        sockets = self._sockets
        for fd, _ in self._epoll.poll(0, 1024):
            ready = sockets.get(fd)
            if ready is not None:
                ready.readable()

    # -- frames ----------------------------------------------------------------------------

    def message(self, socket: Socket, buffer: bytearray, start: int, end: int) -> None:
        """The text or binary message in ``buffer[start:end]``; media is counted in place."""
        if buffer.startswith(_PREFIX, start, end):
            kind = _KINDS.get(bytes(buffer[start + 12 : start + 14]))
            if kind is not None:
                self.frames[kind] += 1
                self.window[kind] += 1
                if kind == "audio":
                    at = buffer.rfind(_TIMESTAMP, start, end)
                    if at > 0:
                        stamp = int(buffer[at + 12 : buffer.index(b"}", at, end)])
                        self.delay.add((self._now_ms - stamp) / 1000.0)
                return
        payload = bytes(buffer[start:end])
        try:
            message = decode(payload)
        except ValueError as exc:
            self.errors.append(f"{socket.role}: {exc}")
            return
        self.control(socket, message)

    def control(self, socket: Socket, message: Any) -> None:
        """A decoded message that is not media: a keep-alive is answered at once, anything
        else waits in the socket's queue for its stream's task."""
        if isinstance(message, KeepAliveReq):
            socket.send(KeepAliveResp.answering(message))
            self.keep_alives += 1
        else:
            socket.messages.put_nowait(message)

    def lost(self, socket: Socket) -> None:
        self.lost_sockets += 1
        if socket.close_code is not None:
            self.closes += 1

    # -- joining ---------------------------------------------------------------------------

    async def _open(self, url: str, role: str) -> Socket:
        opened = Socket(self, url, role)
        await opened.connect()
        return opened

    async def _answer(self, socket: Socket, msg_type: int) -> Message:
        while True:
            message = await asyncio.wait_for(socket.messages.get(), 60)
            if int(message.msg_type) == msg_type:
                return message

    async def _join(self, index: int) -> Stream:
        """Start a stream and shake hands on its sockets; the stream is not ready yet."""
        assert self._http is not None
        body = {"duration": 3600, "participants": 3, "seed": index}
        async with self._http.post(f"{self.base_url}/_sim/streams", json=body) as response:
            described = await response.json()
            if response.status != 201:
                raise RuntimeError(f"POST /_sim/streams: {response.status} {described}")
        return await self.handshake(index, described["payload"])

    async def handshake(self, index: int, payload: dict[str, Any]) -> Stream:
        """Open and shake hands on the sockets of the stream ``payload`` describes (the
        ``rtms_started`` payload); the stream is not ready yet."""
        stream = Stream(index, payload)
        signature = handshake_signature(
            self.app.client_id, self.app.client_secret, stream.instance_id, stream.stream_id
        )
        signaling = await self._open(stream.server_urls, "signaling")
        stream.sockets.append(signaling)
        signaling.send(
            SignalingHandshakeReq(
                meeting_uuid=stream.instance_id,
                rtms_stream_id=stream.stream_id,
                signature=signature,
                rtms_client_agent="rtms-loadgen",
            )
        )
        answer = await self._answer(signaling, 2)
        if getattr(answer, "status_code", None) != 0:
            raise RuntimeError(f"signaling handshake refused: {answer}")
        urls = answer.media_server.server_urls  # type: ignore[attr-defined]
        for media_type, params in ((MediaType.AUDIO, AUDIO), (MediaType.TRANSCRIPT, TRANSCRIPT)):
            media = await self._open(urls[media_type.key], media_type.key)
            stream.sockets.append(media)
            media.send(
                DataHandshakeReq(
                    meeting_uuid=stream.instance_id,
                    rtms_stream_id=stream.stream_id,
                    signature=signature,
                    media_type=int(media_type),
                    media_params=params,
                )
            )
            accepted = await self._answer(media, 4)
            if getattr(accepted, "status_code", None) != 0:
                raise RuntimeError(f"{media_type.key} handshake refused: {accepted}")
        return stream

    async def add(self, n: int) -> dict[str, Any]:
        """Join ``n`` more streams, then make them ready with their phases spread over 20 ms."""
        if self._http is None:
            self._http = aiohttp.ClientSession()
        started = time.monotonic()
        first = len(self.streams)
        gate = asyncio.Semaphore(self.concurrency)

        async def one(index: int) -> Stream:
            async with gate:
                return await self._join(index)

        joined = await asyncio.gather(*(one(first + j) for j in range(n)), return_exceptions=True)
        batch = [s for s in joined if isinstance(s, Stream)]
        for failure in joined:
            if isinstance(failure, BaseException):
                self.errors.append(f"join: {failure!r}")
        self.streams.extend(batch)
        handshakes = time.monotonic() - started
        # CLIENT_READY_ACK j of the batch at j * PERIOD * k / n: phases j*k mod n of n slots.
        count = len(batch)
        k = max(1, round(self.ramp_per_stream * count / PERIOD))
        while count and math.gcd(k, count) != 1:
            k += 1
        step = PERIOD * k / count if count else 0.0
        loop = asyncio.get_running_loop()
        t0 = loop.time() + 0.05
        for j, stream in enumerate(batch):
            delay = t0 + j * step - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            stream.sockets[0].send(ClientReadyAck(rtms_stream_id=stream.stream_id))
            stream.ready = True
        return {
            "streams": len(self.streams),
            "added": count,
            "handshake_seconds": round(handshakes, 3),
            "ready_seconds": round(time.monotonic() - started - handshakes, 3),
            "errors": self.errors[-5:],
        }

    async def stop(self, timeout: float = 60.0) -> dict[str, Any]:
        """End every stream through the control API; wait until the simulator closed the sockets."""
        assert self._http is not None
        gate = asyncio.Semaphore(self.concurrency)

        async def one(stream: Stream) -> None:
            async with (
                gate,
                self._http.post(  # type: ignore[union-attr]
                    f"{self.base_url}/_sim/streams/{stream.stream_id}/stop"
                ) as response,
            ):
                await response.read()

        await asyncio.gather(*(one(s) for s in self.streams))
        sockets = [sock for s in self.streams for sock in s.sockets]
        if sockets:
            await asyncio.wait([sock.gone for sock in sockets], timeout=timeout)
        return {"open_sockets": sum(1 for sock in sockets if not sock.closed), **self.stats()}

    # -- figures -------------------------------------------------------------------------

    def reset(self) -> dict[str, Any]:
        closed = self.stats()
        self.window = dict.fromkeys(self.window, 0)
        self.delay.clear()
        self.window_started = time.monotonic()
        return closed

    def stats(self) -> dict[str, Any]:
        d = self.delay
        return {
            "streams": len(self.streams),
            "ready": sum(1 for s in self.streams if s.ready),
            "frames": dict(self.frames),
            "window": dict(self.window),
            "window_seconds": round(time.monotonic() - self.window_started, 6),
            "audio_delay_ms": {
                "p50": round(d.percentile(50) * 1000, 1) if d.count else None,
                "p99": round(d.percentile(99) * 1000, 1) if d.count else None,
                "max": round(d.max * 1000, 1) if d.count else None,
            },
            "keep_alives_answered": self.keep_alives,
            "closes": self.closes,
            "sockets_lost": self.lost_sockets,
            "errors": len(self.errors),
            "cpu_seconds": round(time.process_time(), 3),
        }

    async def close(self) -> None:
        for stream in self.streams:
            for opened in stream.sockets:
                opened.abort()
        asyncio.get_running_loop().remove_reader(self._epoll.fileno())
        self._epoll.close()
        if self._http is not None:
            await self._http.close()


async def _commands(fleet: Fleet) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        op = command.get("op")
        if op == "add":
            answer = await fleet.add(int(command["streams"]))
        elif op == "reset":
            answer = fleet.reset()
        elif op == "stats":
            answer = fleet.stats()
        elif op == "stop":
            answer = await fleet.stop()
        elif op == "quit":
            break
        else:
            answer = {"error": f"unknown op {op!r}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


async def _main(args: argparse.Namespace) -> None:
    fleet = Fleet(args.base, concurrency=args.concurrency, ramp_per_stream=args.ramp_per_stream)
    try:
        if args.commands:
            await _commands(fleet)
            return
        print(json.dumps(await fleet.add(args.streams)), flush=True)
        fleet.reset()
        for _ in range(max(1, int(args.seconds / args.every))):
            await asyncio.sleep(args.every)
            print(json.dumps(fleet.reset()), flush=True)
    finally:
        await fleet.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the simulator's control API, http://127.0.0.1:PORT")
    parser.add_argument("--streams", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to run (alone)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between figures (alone)")
    parser.add_argument("--concurrency", type=int, default=16, help="joins under way at once")
    parser.add_argument(
        "--ramp-per-stream", type=float, default=0.01, help="seconds between CLIENT_READY_ACKs, roughly"
    )
    parser.add_argument("--commands", action="store_true", help="read JSON commands on stdin")
    args = parser.parse_args(argv)
    if os.environ.get("PYTHONASYNCIODEBUG"):
        print("warning: asyncio debug mode inflates the load generator's cost", file=sys.stderr)
    asyncio.run(_main(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
