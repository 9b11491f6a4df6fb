"""Stream ownership: dedupe, rtms_stopped, graceful close_all; and the whole connector in-process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
import msgspec
from websockets.asyncio.server import ServerConnection

from connector.config import ConnectorConfig
from connector.manager import Disposition, StreamManager
from connector.protocol import (
    DataHandshakeResp,
    MediaServer,
    RtmsEvent,
    RtmsEventKind,
    SignalingHandshakeResp,
    StreamCloseReq,
)
from connector.service import Connector

from .conftest import (
    STREAM_ID,
    TIMEOUT,
    Peer,
    joining_peer,
    recv,
    send,
    started_event,
    started_payload,
    stream_event,
    webhook,
)

MakeConfig = Callable[..., ConnectorConfig]


def stopped_event(stop_reason: int) -> RtmsEvent:
    return stream_event(RtmsEventKind.STOPPED, stop_reason=stop_reason)


async def test_close_all_sends_stream_close_req_and_records_reason_20(
    peer: Peer, make_config: MakeConfig
) -> None:
    joined, received = joining_peer(peer)
    manager = StreamManager(make_config())
    assert manager.start(started_event(peer.url("/signal"))) is Disposition.STARTED
    async with asyncio.timeout(TIMEOUT):
        await joined.wait()
        await manager.close_all()
    assert received == [StreamCloseReq(rtms_stream_id=STREAM_ID)]
    summary = manager.summaries[STREAM_ID]
    assert (summary.end_cause, summary.stop_reason, summary.stop_reason_name) == (
        "closed",
        20,
        "STOP_BC_RECEIVER_REQUEST_CLOSE",
    )
    assert manager.active == {}
    assert peer.close_codes["/signal"] == 1000
    # Closed for good: a new stream is refused.
    assert manager.start(started_event(peer.url("/signal"), stream_id="other")) is Disposition.REFUSED


async def test_close_all_is_bounded_when_zoom_never_answers(peer: Peer, make_config: MakeConfig) -> None:
    joined = asyncio.Event()

    async def signaling(ws: ServerConnection) -> None:
        await recv(ws)
        await send(
            ws,
            SignalingHandshakeResp(
                status_code=0, media_server=MediaServer(server_urls=peer.media_urls("audio"))
            ),
        )
        await recv(ws)
        await recv(ws)
        joined.set()
        await recv(ws)  # STREAM_CLOSE_REQ, never answered

    async def media(ws: ServerConnection, key: str) -> None:
        await recv(ws)
        await send(ws, DataHandshakeResp(status_code=0))

    peer.signaling, peer.media = signaling, media
    manager = StreamManager(make_config(media_types=(1,), close_timeout=0.2))
    manager.start(started_event(peer.url("/signal")))
    async with asyncio.timeout(TIMEOUT):
        await joined.wait()
        await manager.close_all()
        summary = await manager.finished(STREAM_ID)
    assert (summary.end_cause, summary.stop_reason) == ("closed", None)
    assert summary.detail == "no STREAM_CLOSE_RESP within 0.2 s"


async def test_duplicate_rtms_started_is_ignored_while_active(peer: Peer, make_config: MakeConfig) -> None:
    joined, _ = joining_peer(peer)
    manager = StreamManager(make_config())
    event = started_event(peer.url("/signal"))
    assert await manager.handle(event) is Disposition.STARTED
    session = manager.active[STREAM_ID]
    assert await manager.handle(event) is Disposition.DUPLICATE
    moved = msgspec.structs.replace(event, server_urls=peer.url("/elsewhere"))
    assert await manager.handle(moved) is Disposition.FAILOVER_IGNORED
    assert manager.active[STREAM_ID] is session
    async with asyncio.timeout(TIMEOUT):
        await joined.wait()
        await manager.close_all()
    assert peer.paths.count("/signal") == 1


async def test_rtms_stopped_finishes_the_stream_with_its_reason(peer: Peer, make_config: MakeConfig) -> None:
    joined, _ = joining_peer(peer)
    manager = StreamManager(make_config())
    await manager.handle(started_event(peer.url("/signal")))
    async with asyncio.timeout(TIMEOUT):
        await joined.wait()
        assert await manager.handle(stopped_event(8)) is Disposition.STOPPED
        summary = await manager.finished(STREAM_ID)
    assert (summary.end_cause, summary.stop_reason, summary.stop_reason_name) == (
        "stopped",
        8,
        "STOP_BC_STREAM_REVOKED",
    )
    assert manager.active == {}
    assert await manager.handle(stopped_event(8)) is Disposition.NOT_ACTIVE


async def test_a_new_run_after_the_end_is_not_a_duplicate(peer: Peer, make_config: MakeConfig) -> None:
    async def signaling(ws: ServerConnection) -> None:
        await recv(ws)
        await send(ws, SignalingHandshakeResp(status_code=3))

    peer.signaling = signaling
    manager = StreamManager(make_config())
    event = started_event(peer.url("/signal"))
    async with asyncio.timeout(TIMEOUT):
        assert manager.start(event) is Disposition.STARTED
        first = await manager.finished(STREAM_ID)
        assert manager.start(event) is Disposition.STARTED
        second = await manager.finished(STREAM_ID)
    assert first.directory != second.directory
    assert first.status_code == second.status_code == 3


async def test_connector_in_process_dedupes_webhook_retries(peer: Peer, make_config: MakeConfig) -> None:
    joined, received = joining_peer(peer)
    now = 1727384100
    body, headers = webhook("meeting.rtms_started", started_payload(peer.url("/signal")), timestamp=now)
    async with Connector(make_config(), clock=lambda: now) as connector, aiohttp.ClientSession() as http:
        assert connector.url == f"http://127.0.0.1:{connector.port}/"

        async def deliver() -> None:
            async with asyncio.timeout(TIMEOUT):
                response = await http.post(connector.url, data=body, headers=headers)
                assert response.status == 200
                await connector.receiver.drain()

        await deliver()
        session = connector.manager.active[STREAM_ID]
        await deliver()  # Zoom's retry: the same delivery again
        assert connector.manager.active[STREAM_ID] is session
        async with asyncio.timeout(TIMEOUT):
            await joined.wait()
    # Leaving the block closed the stream gracefully.
    assert received == [StreamCloseReq(rtms_stream_id=STREAM_ID)]
    assert connector.manager.summaries[STREAM_ID].stop_reason == 20
    assert peer.paths.count("/signal") == 1
