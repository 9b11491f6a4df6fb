"""The socket layer against a scripted RTMS peer on 127.0.0.1 (docs/protocol.md §3, §4)."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme
from websockets.asyncio.server import ServerConnection, serve

from connector.config import DEFAULT_AUDIO, DEFAULT_TRANSCRIPT, ConnectorConfig
from connector.protocol import (
    ClientReadyAck,
    DataHandshakeReq,
    DataHandshakeResp,
    Event,
    EventSubscription,
    EventUpdate,
    KeepAliveReq,
    KeepAliveResp,
    MediaContent,
    MediaDataAudio,
    MediaDataTranscript,
    MediaParams,
    MediaServer,
    Participant,
    SignalingHandshakeReq,
    SignalingHandshakeResp,
    StreamStateUpdate,
    TranscriptContent,
    handshake_signature,
)
from connector.session import StreamSession
from connector.sinks import StreamSinks
from connector.summary import StreamSummary

from .conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    INSTANCE_ID,
    STREAM_ID,
    TIMEOUT,
    Peer,
    read_json,
    read_jsonl,
    recv,
    send,
    started_event,
)

MakeConfig = Callable[..., ConnectorConfig]
PCM = [bytes([i]) * 640 for i in range(1, 4)]  # three 20 ms frames of 16 kHz mono L16
SIGNATURE = handshake_signature(CLIENT_ID, CLIENT_SECRET, INSTANCE_ID, STREAM_ID)


async def run_session(config: ConnectorConfig, server_urls: str) -> StreamSummary:
    sinks = StreamSinks.create(config.output_dir, STREAM_ID)
    session = StreamSession(config, started_event(server_urls), sinks)
    async with asyncio.timeout(TIMEOUT):
        return await session.run()


async def accept_signaling(peer: Peer, ws: ServerConnection, *keys: str) -> SignalingHandshakeReq:
    request = await recv(ws)
    assert isinstance(request, SignalingHandshakeReq)
    await send(
        ws,
        SignalingHandshakeResp(status_code=0, media_server=MediaServer(server_urls=peer.media_urls(*keys))),
    )
    return request


async def accept_media(ws: ServerConnection) -> DataHandshakeReq:
    request = await recv(ws)
    assert isinstance(request, DataHandshakeReq)
    await send(ws, DataHandshakeResp(status_code=0, media_params=request.media_params))
    return request


async def test_a_whole_stream_is_recorded(peer: Peer, make_config: MakeConfig) -> None:
    ready = asyncio.Event()
    media_done = {"audio": asyncio.Event(), "transcript": asyncio.Event()}
    seen: dict[str, object] = {}

    async def signaling(ws: ServerConnection) -> None:
        seen["handshake"] = await accept_signaling(peer, ws, "audio", "transcript", "video", "all")
        seen["ready"] = await recv(ws)
        seen["subscription"] = await recv(ws)
        ready.set()
        join = (Participant(user_id=16778240, user_name="John Smith"),)
        await send(ws, EventUpdate(event=Event(event_type=3, timestamp=1000, participants=join)))
        await send(ws, KeepAliveReq(timestamp=1795264973549, sequence=41))
        seen["signaling keep-alive"] = await recv(ws)
        for done in media_done.values():
            await done.wait()
        await send(ws, StreamStateUpdate(state=4, reason=6, timestamp=2000))

    async def media(ws: ServerConnection, key: str) -> None:
        seen[key] = await accept_media(ws)
        await ready.wait()  # Zoom sends media only after CLIENT_READY_ACK (§9.1)
        if key == "audio":
            for i, chunk in enumerate(PCM):
                await send(
                    ws, MediaDataAudio(content=MediaContent(user_id=0, data=chunk, timestamp=1000 + 20 * i))
                )
            await send(ws, KeepAliveReq(timestamp=1795264973600, sequence=3))
            seen["media keep-alive"] = await recv(ws)
        else:
            text = TranscriptContent(
                user_id=16778240, data="Hi, hello world!", start_time=1, end_time=2, language=9
            )
            await send(ws, MediaDataTranscript(content=text))
        media_done[key].set()

    peer.signaling, peer.media = signaling, media
    summary = await run_session(make_config(), peer.url("/signal"))

    handshake = seen["handshake"]
    assert isinstance(handshake, SignalingHandshakeReq)
    assert (handshake.meeting_uuid, handshake.rtms_stream_id, handshake.signature) == (
        INSTANCE_ID,
        STREAM_ID,
        SIGNATURE,
    )
    assert seen["ready"] == ClientReadyAck(rtms_stream_id=STREAM_ID)
    subscription = seen["subscription"]
    assert isinstance(subscription, EventSubscription)
    assert [s.event_type for s in subscription.events] == [2, 3, 4]
    audio, transcript = seen["audio"], seen["transcript"]
    assert isinstance(audio, DataHandshakeReq)
    assert isinstance(transcript, DataHandshakeReq)
    assert (audio.media_type, audio.media_params) == (1, MediaParams(audio=DEFAULT_AUDIO))
    assert (transcript.media_type, transcript.media_params) == (8, MediaParams(transcript=DEFAULT_TRANSCRIPT))
    # Keep-alives are echoed on the socket they came from (§4.11).
    assert seen["signaling keep-alive"] == KeepAliveResp(timestamp=1795264973549, sequence=41)
    assert seen["media keep-alive"] == KeepAliveResp(timestamp=1795264973600, sequence=3)
    # One socket per wanted type, nothing for video or all; each closed by us with 1000 (§3).
    assert sorted(peer.paths) == ["/media/audio", "/media/transcript", "/signal"]
    assert peer.close_codes == {"/signal": 1000, "/media/audio": 1000, "/media/transcript": 1000}

    directory = Path(summary.directory)
    with wave.open(str(directory / "audio.wav"), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getnframes()) == (16000, 1, 960)
        assert wav.readframes(960) == b"".join(PCM)
    [line] = read_jsonl(directory / "transcript.jsonl")
    assert (line["user_id"], line["user_name"], line["text"], line["language"]) == (
        16778240,
        "John Smith",
        "Hi, hello world!",
        9,
    )
    [event] = read_jsonl(directory / "events.jsonl")
    assert event["event_type"] == 3
    stream = read_json(directory / "stream.json")
    assert stream == summary.as_json()
    assert (stream["stop_reason"], stream["stop_reason_name"], stream["end_cause"]) == (
        6,
        "STOP_BC_MEETING_ENDED",
        "terminated",
    )
    assert (stream["rtms_stream_id"], stream["instance_id"], stream["product"]) == (
        STREAM_ID,
        INSTANCE_ID,
        "meeting",
    )
    assert (stream["audio_frames"], stream["seconds_of_audio"], stream["transcript_lines"]) == (960, 0.06, 1)
    assert stream["participants"] == [{"user_id": 16778240, "user_name": "John Smith"}]
    assert stream["files"] == ["audio.wav", "transcript.jsonl", "events.jsonl", "stream.json"]
    assert stream["started_ms"] <= stream["ended_ms"]


async def test_a_single_all_socket_is_used_when_per_type_urls_are_missing(
    peer: Peer, make_config: MakeConfig
) -> None:
    seen: list[DataHandshakeReq] = []

    async def signaling(ws: ServerConnection) -> None:
        await accept_signaling(peer, ws, "all")
        assert isinstance(await recv(ws), ClientReadyAck)
        await recv(ws)  # EVENT_SUBSCRIPTION
        await send(ws, StreamStateUpdate(state=4, reason=1))

    async def media(ws: ServerConnection, key: str) -> None:
        seen.append(await accept_media(ws))

    peer.signaling, peer.media = signaling, media
    summary = await run_session(make_config(), peer.url("/signal"))
    assert [r.media_type for r in seen] == [32]
    assert seen[0].media_params == MediaParams(audio=DEFAULT_AUDIO, transcript=DEFAULT_TRANSCRIPT)
    assert sorted(peer.paths) == ["/media/all", "/signal"]
    assert summary.stop_reason == 1


async def test_a_rejected_signaling_handshake_ends_cleanly(
    peer: Peer, make_config: MakeConfig, caplog: pytest.LogCaptureFixture
) -> None:
    async def signaling(ws: ServerConnection) -> None:
        await recv(ws)
        await send(ws, SignalingHandshakeResp(status_code=3, reason="signature mismatch"))

    peer.signaling = signaling
    with caplog.at_level(logging.INFO, logger="connector"):
        summary = await run_session(make_config(), peer.url("/signal"))
    assert (summary.end_cause, summary.status_code, summary.status_name) == (
        "rejected",
        3,
        "STATUS_INVALID_SIGNATURE",
    )
    assert summary.stop_reason is None
    assert peer.paths == ["/signal"]  # no media socket was opened
    assert peer.close_codes == {"/signal": 1000}
    assert read_json(Path(summary.directory) / "stream.json")["files"] == ["stream.json"]
    assert not [r for r in caplog.records if r.exc_info]


async def test_a_refused_connection_ends_with_a_clear_log_line(
    make_config: MakeConfig, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with caplog.at_level(logging.INFO, logger="connector"):
        summary = await run_session(make_config(), f"ws://127.0.0.1:{port}/signal")
    assert summary.end_cause == "failed"
    assert summary.detail.startswith(f"signaling socket cannot connect to ws://127.0.0.1:{port}/signal")
    assert any("cannot connect" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    assert not [r for r in caplog.records if r.exc_info]


async def test_an_abrupt_drop_keeps_what_was_written(peer: Peer, make_config: MakeConfig) -> None:
    ready = asyncio.Event()
    sent_audio = asyncio.Event()

    async def signaling(ws: ServerConnection) -> None:
        await accept_signaling(peer, ws, "audio", "transcript")
        await recv(ws)
        await recv(ws)
        ready.set()
        await sent_audio.wait()
        # The stream must not end on the audio socket's data in flight: answer a keep-alive
        # on signaling first so the audio socket's frames have been read, then drop TCP.
        await send(ws, KeepAliveReq(timestamp=1, sequence=1))
        await recv(ws)
        assert ws.transport is not None
        ws.transport.abort()

    async def media(ws: ServerConnection, key: str) -> None:
        await accept_media(ws)
        await ready.wait()
        if key == "audio":
            for chunk in PCM:
                await send(ws, MediaDataAudio(content=MediaContent(user_id=0, data=chunk)))
            await send(ws, KeepAliveReq(timestamp=2, sequence=2))
            await recv(ws)  # answered: the three frames before it were processed
            sent_audio.set()

    peer.signaling, peer.media = signaling, media
    summary = await run_session(make_config(), peer.url("/signal"))
    assert (summary.end_cause, summary.detail) == (
        "failed",
        "signaling socket closed by Zoom (no close frame)",
    )
    with wave.open(str(Path(summary.directory) / "audio.wav"), "rb") as wav:
        assert wav.readframes(wav.getnframes()) == b"".join(PCM)
    assert read_json(Path(summary.directory) / "stream.json")["audio_frames"] == 960


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def test_wss_is_verified_with_the_configured_ca(
    ca: trustme.CA, tmp_path: Path, make_config: MakeConfig
) -> None:
    server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_ssl)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    handshakes: list[SignalingHandshakeReq] = []

    async def signaling(ws: ServerConnection) -> None:
        request = await recv(ws)
        assert isinstance(request, SignalingHandshakeReq)
        handshakes.append(request)
        await send(ws, SignalingHandshakeResp(status_code=3))
        await ws.wait_closed()

    async with serve(signaling, "127.0.0.1", 0, ssl=server_ssl) as server:
        url = f"wss://localhost:{server.sockets[0].getsockname()[1]}/signal"
        trusted = await run_session(make_config(ca_file=ca_file), url)
        untrusted = await run_session(make_config(), url)
    assert trusted.status_code == 3  # TLS worked: the handshake reached the peer
    assert len(handshakes) == 1
    assert untrusted.end_cause == "failed"
    assert "TLS error: CERTIFICATE_VERIFY_FAILED" in untrusted.detail
