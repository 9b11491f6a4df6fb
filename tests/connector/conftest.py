"""Fixtures for the connector tests: configs, signed webhooks, and a scripted RTMS peer.

The peer is a few lines of ``websockets.asyncio.server.serve`` on 127.0.0.1:0 that speaks
through :mod:`connector.protocol`; each test writes the script of what "Zoom" does. It is
deliberately not the simulator: these tests pin the connector's behaviour message by message.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import pytest
from msgspec import UnsetType
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from connector.config import ConnectorConfig
from connector.protocol import (
    ClientReadyAck,
    DataHandshakeReq,
    DataHandshakeResp,
    MediaParams,
    MediaServer,
    Message,
    Product,
    RtmsEvent,
    RtmsEventKind,
    SignalingHandshakeReq,
    SignalingHandshakeResp,
    StreamCloseReq,
    StreamCloseResp,
    StreamStateUpdate,
    WebhookEvent,
    decode,
    encode,
    signed_headers,
)
from connector.protocol.webhook import encode_event
from simulator.clock import ManualClock, Timer

CLIENT_ID = "test_client_id"
CLIENT_SECRET = "test_secret"
WEBHOOK_SECRET = "whsec"
# An instance id with "/" and "=", as Zoom's meeting UUIDs have: output paths must not use it raw.
INSTANCE_ID = "4444AAAi/AAAAiAiAiiAii=="
STREAM_ID = "03db704592624398931a588dd78200cb"
TIMEOUT = 5.0  # upper bound on any wait for behaviour; never a sleep

Script = Callable[[ServerConnection], Awaitable[None]]


@pytest.fixture
def output_dir(tmp_path: Path) -> Path:
    return tmp_path / "out"


@pytest.fixture
def make_config(output_dir: Path) -> Callable[..., ConnectorConfig]:
    """A valid config writing under ``tmp_path``; keywords override."""

    def make(**overrides: Any) -> ConnectorConfig:
        options: dict[str, Any] = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "webhook_secret": WEBHOOK_SECRET,
            "port": 0,
            "output_dir": output_dir,
        }
        options.update(overrides)
        return ConnectorConfig(**options)

    return make


def stream_event(kind: RtmsEventKind, *, stream_id: str = STREAM_ID, **fields: Any) -> RtmsEvent:
    """A parsed meeting RTMS webhook event for the test instance."""
    return RtmsEvent(
        product=Product.MEETING,
        kind=kind,
        instance_id=INSTANCE_ID,
        rtms_stream_id=stream_id,
        event_ts=1727384100000,
        **fields,
    )


def started_event(server_urls: str, *, stream_id: str = STREAM_ID) -> RtmsEvent:
    return stream_event(RtmsEventKind.STARTED, stream_id=stream_id, server_urls=server_urls)


def webhook(
    event: str, payload: dict[str, Any], *, timestamp: int, secret: str = WEBHOOK_SECRET
) -> tuple[bytes, dict[str, str]]:
    """A Zoom webhook delivery: compact body and its signed headers (§7.3)."""
    body = encode_event(WebhookEvent(event=event, event_ts=timestamp * 1000, payload=payload))
    return body, signed_headers(secret, timestamp, body)


def started_payload(server_urls: str, *, stream_id: str = STREAM_ID) -> dict[str, Any]:
    return {
        "meeting_uuid": INSTANCE_ID,
        "operator_id": "30R7kT7bTIKSNUFEuH_Qlg",
        "rtms_stream_id": stream_id,
        "server_urls": server_urls,
    }


async def recv(ws: ServerConnection) -> Message:
    """The next message from the connector, within :data:`TIMEOUT`."""
    async with asyncio.timeout(TIMEOUT):
        return decode(await ws.recv())


async def send(ws: ServerConnection, message: Message) -> None:
    await ws.send(encode(message).decode())


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_jsonl(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


class Peer:
    """A scripted RTMS server. ``/signal`` (and ``/signal/<anything>``) runs ``signaling``;
    ``/media/<key>`` runs ``media(ws, key)``. A script's failure is kept in ``errors`` (checked
    at teardown), and every connection's path and the close code the connector sent are
    recorded."""

    def __init__(self) -> None:
        self.signaling: Script | None = None
        self.media: Callable[[ServerConnection, str], Awaitable[None]] | None = None
        self.paths: list[str] = []
        self.close_codes: dict[str, int | None] = {}
        self.errors: list[BaseException] = []
        self.server: Server | None = None
        self.scheme = "ws"
        self.host = "127.0.0.1"

    def url(self, path: str) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"{self.scheme}://{self.host}:{port}{path}"

    def media_urls(self, *keys: str) -> dict[str, str]:
        return {key: self.url(f"/media/{key}") for key in keys}

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        path = ws.request.path
        self.paths.append(path)
        try:
            if (path == "/signal" or path.startswith("/signal/")) and self.signaling is not None:
                await self.signaling(ws)
            elif path.startswith("/media/") and self.media is not None:
                await self.media(ws, path.removeprefix("/media/"))
            await ws.wait_closed()
        except Exception as exc:
            self.errors.append(exc)
            raise
        finally:
            self.close_codes[path] = ws.close_code


def joining_peer(peer: Peer) -> tuple[asyncio.Event, list[Message]]:
    """Script a peer that completes the join, then records what the connector sends on
    signaling and answers STREAM_CLOSE_REQ like Zoom (§4.14). Returns (joined, received)."""
    joined = asyncio.Event()
    received: list[Message] = []

    async def signaling(ws: ServerConnection) -> None:
        assert isinstance(await recv(ws), SignalingHandshakeReq)
        urls = MediaServer(server_urls=peer.media_urls("audio", "transcript"))
        await send(ws, SignalingHandshakeResp(status_code=0, media_server=urls))
        assert isinstance(await recv(ws), ClientReadyAck)
        await recv(ws)  # EVENT_SUBSCRIPTION
        joined.set()
        async for frame in ws:
            message = msgspec.json.decode(frame)
            if message["msg_type"] == 21:
                received.append(StreamCloseReq(rtms_stream_id=message["rtms_stream_id"]))
                await send(ws, StreamCloseResp(rtms_stream_id=STREAM_ID, status_code=0, reason="OK"))
                await send(ws, StreamStateUpdate(rtms_stream_id=STREAM_ID, state=4, reason=20))

    async def media(ws: ServerConnection, key: str) -> None:
        request = await recv(ws)
        assert isinstance(request, DataHandshakeReq)
        await send(ws, DataHandshakeResp(status_code=0, media_params=request.media_params))

    peer.signaling, peer.media = signaling, media
    return joined, received


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    p = Peer()
    async with serve(p.handler, "127.0.0.1", 0) as server:
        p.server = server
        yield p
    assert p.errors == [], f"the scripted peer failed: {p.errors!r}"


class WatchedClock(ManualClock):
    """A :class:`~simulator.clock.ManualClock` a test can wait on: :meth:`due` returns once the
    code under test has scheduled a timer (a backoff, a timeout, a watchdog) whose delay lies
    in a given range, so the test advances time exactly when something waits on it."""

    def __init__(self) -> None:
        super().__init__()
        self._timers: list[Timer] = []
        self._scheduled = asyncio.Event()

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        timer = super().call_at(when, callback)
        self._timers.append(timer)
        self._scheduled.set()
        return timer

    def _find(self, low: float, high: float) -> Timer | None:
        self._timers = [t for t in self._timers if not t.cancelled]  # fired timers count as cancelled
        now = self.now()
        found = [t for t in self._timers if low - 1e-6 <= t.when - now <= high + 1e-6]
        return min(found, key=lambda t: t.when) if found else None

    def delays(self) -> list[float]:
        """The delays of every live timer, soonest first."""
        self._find(0, 0)  # prune
        return sorted(t.when - self.now() for t in self._timers)

    async def due(self, low: float, high: float | None = None) -> float:
        """Wait (at most :data:`TIMEOUT`) until a live timer falls due between ``low`` and
        ``high`` (default ``low``) seconds from now; return its delay."""
        high = low if high is None else high
        async with asyncio.timeout(TIMEOUT):
            while (timer := self._find(low, high)) is None:
                self._scheduled.clear()
                await self._scheduled.wait()
        return timer.when - self.now()

    async def skip(self, low: float, high: float | None = None) -> float:
        """:meth:`due`, then advance to that timer (running it); return the delay."""
        delay = await self.due(low, high)
        self.advance(delay)
        return delay


M = TypeVar("M", bound=Message)


class Side:
    """One WebSocket the connector opened to :class:`FakeZoom`, seen from the server."""

    def __init__(self, ws: ServerConnection, key: str) -> None:
        self.ws = ws
        self.key = key  # "signal", or the media key of its URL ("audio", "all" ...)
        self.request: Message | None = None  # the handshake request
        self.log: list[Message] = []  # everything the connector sent, handshake included
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()  # what it sent after the handshake
        self.gone = asyncio.Event()

    @property
    def path(self) -> str:
        assert self.ws.request is not None
        return self.ws.request.path

    async def send(self, message: Message) -> None:
        await send(self.ws, message)

    async def recv(self) -> Message:
        """The next message the connector sent after its handshake, within :data:`TIMEOUT`."""
        async with asyncio.timeout(TIMEOUT):
            return await self.inbox.get()

    async def receive(self, kind: type[M]) -> M:
        """The next message of type ``kind``, skipping others."""
        while True:
            message = await self.recv()
            if isinstance(message, kind):
                return message

    def drop(self) -> None:
        """Lose the TCP connection: no close frame (§9.1 item 8)."""
        assert self.ws.transport is not None
        self.ws.transport.abort()

    async def closed(self) -> int | None:
        """Wait until the socket is gone; the close code the connector sent (None: none)."""
        async with asyncio.timeout(TIMEOUT):
            await self.gone.wait()
        return self.ws.close_code


class Join:
    """One signaling connection to :class:`FakeZoom` and the media sockets opened after it."""

    def __init__(self, signaling: Side) -> None:
        self.signaling = signaling
        self.media: dict[str, Side] = {}  # by key: the latest socket
        self.media_sides: list[Side] = []  # every media socket, in order
        self.ready = asyncio.Event()  # CLIENT_READY_ACK received


class FakeZoom:
    """A scripted RTMS server on a :class:`Peer` that joins streams like Zoom (§3): it answers
    SIGNALING_HAND_SHAKE_REQ with media URLs for ``keys``, every DATA_HAND_SHAKE_REQ with
    ``echo(request)`` as ``media_params`` (the request's by default), and STREAM_CLOSE_REQ with
    STREAM_CLOSE_RESP and STREAM_STATE_UPDATE(4, 20) unless ``answer_close`` is false. The test
    does the rest through :meth:`join` and each :class:`Side`. Signaling is served on
    ``/signal`` and ``/signal/<anything>``."""

    def __init__(self, peer: Peer, keys: tuple[str, ...] = ("audio", "transcript")) -> None:
        self.peer = peer
        self.keys = keys
        self.echo: Callable[[DataHandshakeReq], MediaParams | UnsetType | None] = lambda r: r.media_params
        self.answer_close = True
        self.joins: list[Join] = []
        self._changed = asyncio.Event()
        peer.signaling = lambda ws: self._serve(ws, "signal")
        peer.media = self._serve

    async def until(self, predicate: Callable[[], bool]) -> None:
        """Wait (at most :data:`TIMEOUT`) until ``predicate()`` holds; checked on each change."""
        async with asyncio.timeout(TIMEOUT):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    async def join(self, n: int = 0) -> Join:
        """The ``n``-th signaling connection, once the connector sent CLIENT_READY_ACK on it."""
        await self.until(lambda: len(self.joins) > n and self.joins[n].ready.is_set())
        return self.joins[n]

    async def _serve(self, ws: ServerConnection, key: str) -> None:
        side = Side(ws, key)
        try:
            async for frame in ws:
                message = decode(frame)
                side.log.append(message)
                await self._answer(side, message)
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            side.gone.set()
            self._changed.set()

    async def _answer(self, side: Side, message: Message) -> None:
        if isinstance(message, SignalingHandshakeReq):
            side.request = message
            self.joins.append(Join(side))
            urls = MediaServer(server_urls=self.peer.media_urls(*self.keys))
            await side.send(SignalingHandshakeResp(status_code=0, media_server=urls))
        elif isinstance(message, DataHandshakeReq):
            side.request = message
            join = self.joins[-1]
            join.media[side.key] = side
            join.media_sides.append(side)
            await side.send(DataHandshakeResp(status_code=0, media_params=self.echo(message)))
        else:
            side.inbox.put_nowait(message)
            if isinstance(message, ClientReadyAck):
                self.joins[-1].ready.set()
            elif isinstance(message, StreamCloseReq) and self.answer_close:
                await side.send(StreamCloseResp(rtms_stream_id=STREAM_ID, status_code=0, reason="OK"))
                await side.send(StreamStateUpdate(rtms_stream_id=STREAM_ID, state=4, reason=20))
