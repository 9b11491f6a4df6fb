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
from typing import Any

import msgspec
import pytest
from websockets.asyncio.server import Server, ServerConnection, serve

from connector.config import ConnectorConfig
from connector.protocol import (
    ClientReadyAck,
    DataHandshakeReq,
    DataHandshakeResp,
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
    """A scripted RTMS server. ``/signal`` runs ``signaling``; ``/media/<key>`` runs
    ``media(ws, key)``. A script's failure is kept in ``errors`` (checked at teardown), and
    every connection's path and the close code the connector sent are recorded."""

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
            if path == "/signal" and self.signaling is not None:
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
