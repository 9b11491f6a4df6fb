"""The socket layer against a scripted RTMS peer on 127.0.0.1 (docs/protocol.md §3, §4, §9.2).

Timed behaviour (backoff, watchdogs, re-opens) runs on a :class:`WatchedClock`: a test waits
until the session waits on the clock, then moves the clock; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import socket
import ssl
import wave
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import trustme
from websockets.asyncio.server import ServerConnection, serve

from connector.config import DEFAULT_AUDIO, DEFAULT_TRANSCRIPT, ConnectorConfig
from connector.metrics import Metrics
from connector.protocol import (
    AudioParams,
    ChatContent,
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
    MediaDataChat,
    MediaDataShare,
    MediaDataTranscript,
    MediaDataVideo,
    MediaParams,
    MediaServer,
    MediaType,
    Participant,
    SignalingHandshakeReq,
    SignalingHandshakeResp,
    StreamCloseReq,
    StreamStateUpdate,
    TranscriptContent,
    VideoParams,
    VideoSubscriptionReq,
    handshake_signature,
)
from connector.session import StreamSession
from connector.sinks import Sink, StreamSinks
from connector.summary import StreamSummary

from .conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    INSTANCE_ID,
    STREAM_ID,
    TIMEOUT,
    FakeZoom,
    Join,
    Peer,
    WatchedClock,
    read_json,
    read_jsonl,
    recv,
    send,
    started_event,
)

MakeConfig = Callable[..., ConnectorConfig]
PCM = [bytes([i]) * 640 for i in range(1, 4)]  # three 20 ms frames of 16 kHz mono L16
SIGNATURE = handshake_signature(CLIENT_ID, CLIENT_SECRET, INSTANCE_ID, STREAM_ID)
FIRST_DELAY = (2.4, 3.0)  # §9.2: 3 s, shortened by at most 20 % of jitter
EVERY_TYPE = MediaType.singles()


def new_session(
    config: ConnectorConfig,
    server_urls: str,
    *,
    clock: WatchedClock | None = None,
    metrics: Metrics | None = None,
    extra: Sequence[Sink] = (),
) -> StreamSession:
    sinks = StreamSinks.create(
        config.output_dir, stream_id=STREAM_ID, instance_id=INSTANCE_ID, product="meeting", extra=extra
    )
    return StreamSession(
        config, started_event(server_urls), sinks, clock=clock, metrics=metrics, rng=random.Random(7)
    )


async def run_session(config: ConnectorConfig, server_urls: str, **options: object) -> StreamSummary:
    session = new_session(config, server_urls, **options)  # type: ignore[arg-type]
    async with asyncio.timeout(TIMEOUT):
        return await session.run()


def start(session: StreamSession) -> asyncio.Task[StreamSummary]:
    return asyncio.create_task(session.run())


async def result(task: asyncio.Task[StreamSummary]) -> StreamSummary:
    async with asyncio.timeout(TIMEOUT):
        return await task


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


async def audio(join: Join, *chunks: bytes, key: str = "audio") -> None:
    """Send ``chunks`` on the join's audio socket; return once the connector read them (it
    answered the keep-alive sent after them, §4.11)."""
    side = join.media[key]
    for chunk in chunks:
        await side.send(MediaDataAudio(content=MediaContent(user_id=0, data=chunk)))
    await side.send(KeepAliveReq(timestamp=1, sequence=1))
    assert await side.receive(KeepAliveResp) == KeepAliveResp(timestamp=1, sequence=1)


async def media_sockets(zoom: FakeZoom, join: Join, count: int) -> None:
    """Wait until ``count`` media sockets were opened for ``join``."""
    await zoom.until(lambda: len(join.media_sides) >= count)


async def terminate(join: Join, reason: int = 6) -> None:
    await join.signaling.send(StreamStateUpdate(state=4, reason=reason))


def exists(path: str) -> bool:
    return Path(path).exists()


def wav_frames(directory: Path, name: str = "audio.wav") -> bytes:
    with wave.open(str(directory / name), "rb") as wav:
        return wav.readframes(wav.getnframes())


@pytest.fixture
def clock() -> WatchedClock:
    return WatchedClock()


@pytest.fixture
def zoom(peer: Peer) -> FakeZoom:
    return FakeZoom(peer)


# --- one stream, start to end (§3) ------------------------------------------------------------


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
    metrics = Metrics()
    summary = await run_session(make_config(), peer.url("/signal"), metrics=metrics)

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
    # Keep-alives are echoed on the socket they came from (§4.11), and timed per socket.
    assert seen["signaling keep-alive"] == KeepAliveResp(timestamp=1795264973549, sequence=41)
    assert seen["media keep-alive"] == KeepAliveResp(timestamp=1795264973600, sequence=3)
    for socket_kind in ("signaling", "audio"):
        count = metrics.registry.get_sample_value(
            "rtms_connector_keepalive_response_seconds_count", {"socket": socket_kind}
        )
        assert count == 1, socket_kind
    # One socket per wanted type, nothing for video or all; each closed by us with 1000 (§3).
    assert sorted(peer.paths) == ["/media/audio", "/media/transcript", "/signal"]
    assert peer.close_codes == {"/signal": 1000, "/media/audio": 1000, "/media/transcript": 1000}

    directory = Path(summary.directory)
    assert directory.parent == make_config().output_dir
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
    assert "<v John Smith>Hi, hello world!" in (directory / "transcript.vtt").read_text(encoding="utf-8")
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
    assert (stream["reconnects"], stream["dropped"]) == (0, {})
    assert stream["participants"] == [{"user_id": 16778240, "user_name": "John Smith"}]
    assert stream["files"] == [
        "audio.wav",
        "transcript.jsonl",
        "transcript.vtt",
        "events.jsonl",
        "stream.json",
    ]
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
    assert (summary.stop_reason, summary.reconnects) == (None, 0)  # a rejection is not retried
    assert peer.paths == ["/signal"]  # no media socket was opened
    assert peer.close_codes == {"/signal": 1000}
    assert read_json(Path(summary.directory) / "stream.json")["files"] == ["stream.json"]
    assert not [r for r in caplog.records if r.exc_info]


# --- every media type (§4.3, §4.12; docs/sinks.md) -------------------------------------------

PICTURE = b"\xff\xd8\xff\xe0 a jpeg"


async def send_every_type(join: Join, *, sockets: dict[str, str]) -> None:
    """One item of each type, each on the socket ``sockets[type]``; return once all were read."""
    people = (Participant(user_id=7, user_name="Bo"),)
    await join.signaling.send(EventUpdate(event=Event(event_type=3, timestamp=1, participants=people)))
    await join.signaling.send(EventUpdate(event=Event(event_type=5, timestamp=2, user_id=7)))
    items = {
        "audio": MediaDataAudio(content=MediaContent(user_id=0, data=PCM[0], timestamp=1000)),
        "video": MediaDataVideo(content=MediaContent(user_id=7, data=PICTURE, timestamp=1000)),
        "deskshare": MediaDataShare(content=MediaContent(user_id=7, data=PICTURE, timestamp=2000)),
        "transcript": MediaDataTranscript(content=TranscriptContent(user_id=7, data="hello", start_time=5)),
        "chat": MediaDataChat(content=ChatContent(user_id=7, user_name="Bo", data="hi all", timestamp=3)),
    }
    for kind, message in items.items():
        await join.media[sockets[kind]].send(message)
    for key in set(sockets.values()):
        await join.media[key].send(KeepAliveReq(timestamp=9, sequence=9))
        await join.media[key].receive(KeepAliveResp)
    await join.signaling.send(KeepAliveReq(timestamp=9, sequence=9))
    await join.signaling.receive(KeepAliveResp)


def assert_every_type_recorded(summary: StreamSummary) -> None:
    directory = Path(summary.directory)
    assert wav_frames(directory) == PCM[0]
    assert [p.read_bytes() for p in (directory / "video").iterdir()] == [PICTURE]
    assert [p.name for p in (directory / "deskshare").iterdir()] == ["2000-7.jpg"]
    [line] = read_jsonl(directory / "transcript.jsonl")
    assert (line["user_name"], line["text"]) == ("Bo", "hello")
    [chat] = read_jsonl(directory / "chat.jsonl")
    assert (chat["user_name"], chat["text"]) == ("Bo", "hi all")
    assert [e["event_type"] for e in read_jsonl(directory / "events.jsonl")] == [3, 5]
    assert (
        summary.video_frames,
        summary.deskshare_frames,
        summary.transcript_lines,
        summary.chat_messages,
    ) == (
        1,
        1,
        1,
        1,
    )
    assert summary.files == [
        "audio.wav",
        "transcript.jsonl",
        "transcript.vtt",
        "chat.jsonl",
        "events.jsonl",
        "video/",
        "deskshare/",
        "stream.json",
    ]


async def test_every_media_type_on_its_own_socket_reaches_the_files(
    peer: Peer, make_config: MakeConfig
) -> None:
    zoom = FakeZoom(peer, keys=tuple(m.key for m in EVERY_TYPE))
    task = start(new_session(make_config(media_types=EVERY_TYPE), peer.url("/signal")))
    join = await zoom.join()
    assert sorted(join.media) == sorted(m.key for m in EVERY_TYPE)
    for side in join.media_sides:
        assert isinstance(side.request, DataHandshakeReq)
        assert side.request.media_type == MediaType[side.key.upper()]
    subscription = join.signaling.log[2]
    assert isinstance(subscription, EventSubscription)
    assert [s.event_type for s in subscription.events] == [2, 3, 4, 5, 6, 8, 9]
    await send_every_type(join, sockets={m.key: m.key for m in EVERY_TYPE})
    await terminate(join)
    assert_every_type_recorded(await result(task))


async def test_every_media_type_over_the_single_all_socket(peer: Peer, make_config: MakeConfig) -> None:
    zoom = FakeZoom(peer, keys=("all",))
    task = start(new_session(make_config(media_types=EVERY_TYPE), peer.url("/signal")))
    join = await zoom.join()
    [side] = join.media_sides
    assert isinstance(side.request, DataHandshakeReq)
    assert side.request.media_type == 32
    await send_every_type(join, sockets={m.key: "all" for m in EVERY_TYPE})
    await terminate(join)
    assert_every_type_recorded(await result(task))


async def test_negotiated_formats_and_one_participants_video(peer: Peer, make_config: MakeConfig) -> None:
    """The DATA_HAND_SHAKE_RESP echo decides the files (§4.4): per-participant audio (data_opt 2)
    and H264 video; video_user asks for one participant's video once ready (§4.16)."""
    zoom = FakeZoom(peer, keys=("audio", "video"))
    zoom.echo = lambda request: MediaParams(
        audio=AudioParams(codec=1, sample_rate=1, channel=1, data_opt=2),
        video=VideoParams(codec=7, fps=30, resolution=2, data_opt=4),
    )
    config = make_config(media_types=(MediaType.AUDIO, MediaType.VIDEO), video_user=7)
    task = start(new_session(config, peer.url("/signal")))
    join = await zoom.join()
    assert [type(m) for m in join.signaling.log] == [
        SignalingHandshakeReq,
        ClientReadyAck,
        EventSubscription,
        VideoSubscriptionReq,
    ]
    assert join.signaling.log[3] == VideoSubscriptionReq(user_id=7, subscribe=True)
    for timestamp, chunk in ((1000, PCM[0]), (1020, PCM[1])):
        await join.media["audio"].send(
            MediaDataAudio(content=MediaContent(user_id=7, user_name="Bo", data=chunk, timestamp=timestamp))
        )
    await join.media["video"].send(MediaDataVideo(content=MediaContent(user_id=7, data=b"\x00\x00\x01h264")))
    await audio(join)
    await join.media["video"].send(KeepAliveReq(timestamp=1, sequence=1))
    await join.media["video"].receive(KeepAliveResp)
    await terminate(join)
    summary = await result(task)
    directory = Path(summary.directory)
    assert wav_frames(directory, "audio/7-Bo.wav") == PCM[0] + PCM[1]
    assert (directory / "video.h264").read_bytes() == b"\x00\x00\x01h264"
    assert summary.video_frames == 1


# --- reconnects (§9.2) ------------------------------------------------------------------------


async def test_a_dropped_signaling_socket_reconnects_into_the_same_files(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig, clock: WatchedClock
) -> None:
    session = new_session(make_config(), peer.url("/signal"), clock=clock)
    task = start(session)
    first = await zoom.join()
    await audio(first, PCM[0], PCM[1])
    first.signaling.drop()  # TCP lost, no close frame
    delay = await clock.skip(*FIRST_DELAY)
    assert FIRST_DELAY[0] <= delay <= FIRST_DELAY[1]
    second = await zoom.join(1)
    assert isinstance(second.signaling.request, SignalingHandshakeReq)
    assert second.signaling.request.signature == SIGNATURE  # a whole new signaling handshake
    assert sorted(second.media) == ["audio", "transcript"]
    assert await first.media["audio"].closed() == 1000  # the old attempt's sockets were closed
    await audio(second, PCM[2])
    await terminate(second)
    summary = await result(task)
    assert (summary.end_cause, summary.stop_reason, summary.reconnects) == ("terminated", 6, 1)
    directory = Path(summary.directory)
    assert wav_frames(directory) == b"".join(PCM)
    assert sorted(p.name for p in directory.parent.iterdir()) == [directory.name]


async def test_backoff_starts_over_after_a_successful_join(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig, clock: WatchedClock
) -> None:
    task = start(new_session(make_config(), peer.url("/signal"), clock=clock))
    for n in range(2):
        join = await zoom.join(n)
        join.signaling.drop()
        delay = await clock.skip(*FIRST_DELAY)  # 3 s again, not 6 s
        assert FIRST_DELAY[0] <= delay <= FIRST_DELAY[1]
    await terminate(await zoom.join(2))
    assert (await result(task)).reconnects == 2


async def test_a_signaling_socket_closed_by_zoom_is_final(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig, clock: WatchedClock
) -> None:
    task = start(new_session(make_config(), peer.url("/signal"), clock=clock))
    join = await zoom.join()
    await join.signaling.ws.close(1000)  # a close frame, no STREAM_STATE_UPDATE
    summary = await result(task)
    assert (summary.end_cause, summary.detail, summary.reconnects) == (
        "failed",
        "signaling socket closed by Zoom (code 1000)",
        0,
    )
    assert len(zoom.joins) == 1
    assert clock.delays() == []  # nothing left waiting


async def test_connection_failures_give_up_after_reconnect_attempts(
    make_config: MakeConfig, clock: WatchedClock, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"ws://127.0.0.1:{port}/signal"
    with caplog.at_level(logging.INFO, logger="connector"):
        task = start(new_session(make_config(reconnect_attempts=2), url, clock=clock))
        first = await clock.skip(*FIRST_DELAY)
        second = await clock.skip(4.8, 6.0)  # 6 s, jittered
        summary = await result(task)
    assert FIRST_DELAY[0] <= first <= FIRST_DELAY[1]
    assert 4.8 <= second <= 6.0
    assert (summary.end_cause, summary.reconnects) == ("failed", 2)
    assert summary.detail.startswith(
        f"gave up after 2 reconnect attempt(s): signaling socket cannot connect to {url}"
    )
    prefix = f"stream {STREAM_ID}: signaling socket cannot connect"
    cannot_connect = [r for r in caplog.records if r.getMessage().startswith(prefix)]
    assert len(cannot_connect) == 3  # one clear line per attempt
    assert all(r.levelno == logging.ERROR for r in cannot_connect)
    assert not [r for r in caplog.records if r.exc_info]
    assert read_json(Path(summary.directory) / "stream.json")["reconnects"] == 2


async def test_a_dropped_media_socket_is_reopened_alone_once(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig, clock: WatchedClock
) -> None:
    session = new_session(make_config(), peer.url("/signal"), clock=clock)
    task = start(session)
    join = await zoom.join()
    await audio(join, PCM[0])
    join.media["audio"].drop()
    # Zoom also reports it on signaling (§4.6 event 7): still one re-open.
    await join.signaling.send(EventUpdate(event=Event(event_type=7, timestamp=5)))
    delay = await clock.skip(*FIRST_DELAY)
    assert FIRST_DELAY[0] <= delay <= FIRST_DELAY[1]
    await media_sockets(zoom, join, 3)
    reopened = join.media_sides[2]
    assert reopened.key == "audio"
    assert isinstance(reopened.request, DataHandshakeReq)
    assert reopened.request.media_params == MediaParams(audio=DEFAULT_AUDIO)
    await audio(join, PCM[1])
    assert session.reconnects == 1
    assert [d for d in clock.delays() if d < 60] == []  # no second re-open pending
    await terminate(join)
    summary = await result(task)
    assert len(zoom.joins) == 1  # no second signaling handshake
    assert [s.key for s in join.media_sides] == ["audio", "transcript", "audio"]
    assert [type(m) for m in join.signaling.log].count(ClientReadyAck) == 1
    assert wav_frames(Path(summary.directory)) == PCM[0] + PCM[1]
    assert (summary.end_cause, summary.reconnects) == ("terminated", 1)
    [interrupted] = read_jsonl(Path(summary.directory) / "events.jsonl")
    assert interrupted["event_type"] == 7


async def test_each_successful_reopen_starts_the_media_backoff_over(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig, clock: WatchedClock
) -> None:
    task = start(new_session(make_config(), peer.url("/signal"), clock=clock))
    join = await zoom.join()
    for n in range(2):
        join.media["audio"].drop()
        delay = await clock.skip(*FIRST_DELAY)  # 3 s each time, not 3 then 6
        assert FIRST_DELAY[0] <= delay <= FIRST_DELAY[1]
        await media_sockets(zoom, join, 3 + n)
        await audio(join, PCM[n])
    await terminate(join)
    summary = await result(task)
    assert (summary.reconnects, len(zoom.joins)) == (2, 1)
    assert wav_frames(Path(summary.directory)) == PCM[0] + PCM[1]


async def test_stream_state_interrupted_reopens_a_closed_media_socket(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig, clock: WatchedClock
) -> None:
    task = start(new_session(make_config(), peer.url("/signal"), clock=clock))
    join = await zoom.join()
    await join.media["transcript"].ws.close(1000)  # cleanly: the connector waits for signaling
    await join.media["transcript"].closed()
    await join.signaling.send(StreamStateUpdate(state=2))  # INTERRUPTED
    await clock.skip(*FIRST_DELAY)
    await media_sockets(zoom, join, 3)
    assert join.media_sides[2].key == "transcript"
    await join.media_sides[2].send(MediaDataTranscript(content=TranscriptContent(user_id=1, data="back")))
    await terminate(join)
    summary = await result(task)
    assert (summary.transcript_lines, summary.reconnects, len(zoom.joins)) == (1, 1, 1)


@pytest.mark.parametrize("reason", [13, 14, 19, 24])
async def test_terminated_with_a_connection_reason_restarts_in_full(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig, clock: WatchedClock, reason: int
) -> None:
    task = start(new_session(make_config(), peer.url("/signal"), clock=clock))
    await terminate(await zoom.join(), reason)
    await clock.skip(*FIRST_DELAY)
    await terminate(await zoom.join(1), 6)
    summary = await result(task)
    assert (summary.stop_reason, summary.reconnects) == (6, 1)


@pytest.mark.parametrize("reason", [18, 6])
async def test_terminated_with_a_final_reason_ends_the_stream(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig, clock: WatchedClock, reason: int
) -> None:
    task = start(new_session(make_config(), peer.url("/signal"), clock=clock))
    await terminate(await zoom.join(), reason)
    summary = await result(task)
    assert (summary.end_cause, summary.stop_reason, summary.reconnects) == ("terminated", reason, 0)
    assert summary.guidance
    assert len(zoom.joins) == 1


async def test_signaling_silence_starts_a_new_attempt(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig, clock: WatchedClock
) -> None:
    task = start(new_session(make_config(keepalive_silence=65), peer.url("/signal"), clock=clock))
    first = await zoom.join()
    await first.signaling.send(KeepAliveReq(timestamp=1, sequence=1))
    await first.signaling.receive(KeepAliveResp)
    await clock.skip(65)  # §4.11: no KEEP_ALIVE_REQ for 65 s → handshake again
    assert await first.signaling.closed() == 1000
    await clock.skip(*FIRST_DELAY)
    await terminate(await zoom.join(1))
    summary = await result(task)
    assert (summary.stop_reason, summary.reconnects) == (6, 1)


async def test_restarts_asked_for_while_a_reconnect_is_pending_are_coalesced(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig, clock: WatchedClock
) -> None:
    session = new_session(make_config(), peer.url("/signal"), clock=clock)
    task = start(session)
    (await zoom.join()).signaling.drop()
    await clock.due(*FIRST_DELAY)
    assert await session.restart("interrupted")  # *.rtms_interrupted for the same drop
    assert await session.restart("interrupted")
    await clock.skip(*FIRST_DELAY)
    await terminate(await zoom.join(1))
    summary = await result(task)
    assert (summary.reconnects, len(zoom.joins)) == (1, 2)
    assert not await session.restart("interrupted")  # over


async def test_a_failover_sends_the_next_attempt_to_the_new_url(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig, clock: WatchedClock
) -> None:
    session = new_session(make_config(), peer.url("/signal"), clock=clock)
    task = start(session)
    first = await zoom.join()
    moved = started_event(peer.url("/signal/b"))
    assert await session.restart("failover", moved)
    assert await first.signaling.closed() == 1000
    await clock.skip(*FIRST_DELAY)
    second = await zoom.join(1)
    assert (first.signaling.path, second.signaling.path) == ("/signal", "/signal/b")
    await terminate(second)
    summary = await result(task)
    assert summary.reconnects == 1


async def test_close_while_a_reconnect_is_pending_ends_without_another_attempt(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig, clock: WatchedClock
) -> None:
    session = new_session(make_config(), peer.url("/signal"), clock=clock)
    task = start(session)
    join = await zoom.join()
    join.signaling.drop()
    await clock.due(*FIRST_DELAY)
    async with asyncio.timeout(TIMEOUT):
        summary = await session.close()
    assert summary is await result(task)
    assert (summary.end_cause, summary.reconnects) == ("closed", 0)
    assert summary.detail.startswith("closed while reconnecting (signaling socket closed by Zoom")
    assert not any(isinstance(m, StreamCloseReq) for m in join.signaling.log)
    assert len(zoom.joins) == 1
    assert read_json(Path(summary.directory) / "stream.json")["end_cause"] == "closed"


# --- the sinks ----------------------------------------------------------------------------


class GateSink(Sink):
    """An extra sink whose flush waits for :attr:`gate`: the sinks fall behind on demand."""

    name = "gate"

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.flushing = asyncio.Event()

    async def flush(self) -> None:
        self.flushing.set()
        await self.gate.wait()

    async def revoke(self) -> None:
        """Stores nothing."""


async def test_slow_sinks_drop_the_oldest_frames_and_never_block_the_reader(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig, clock: WatchedClock
) -> None:
    gate = GateSink()
    metrics = Metrics()
    config = make_config(media_types=(MediaType.AUDIO,), queue_size=4)
    zoom.keys = ("audio",)
    task = start(new_session(config, peer.url("/signal"), clock=clock, metrics=metrics, extra=[gate]))
    join = await zoom.join()
    side = join.media["audio"]
    await side.send(MediaDataAudio(content=MediaContent(user_id=0, data=PCM[0])))
    async with asyncio.timeout(TIMEOUT):
        await gate.flushing.wait()  # the drain holds that frame; the sinks are stuck
    burst = [bytes([n]) * 640 for n in range(100)]
    for chunk in burst:
        await side.send(MediaDataAudio(content=MediaContent(user_id=0, data=chunk)))
    # The readers still answer keep-alives on every socket (§4.11).
    await audio(join)
    await join.signaling.send(KeepAliveReq(timestamp=2, sequence=2))
    assert await join.signaling.receive(KeepAliveResp) == KeepAliveResp(timestamp=2, sequence=2)
    gate.gate.set()
    await terminate(join)
    summary = await result(task)
    assert summary.dropped == {"audio": 96}  # the queue kept the 4 newest frames
    assert summary.audio_messages == 5
    assert wav_frames(Path(summary.directory)) == PCM[0] + b"".join(burst[-4:])
    assert read_json(Path(summary.directory) / "stream.json")["dropped"] == {"audio": 96}
    registry = metrics.registry
    assert registry.get_sample_value("rtms_connector_frames_dropped_total", {"kind": "audio"}) == 96
    assert registry.get_sample_value("rtms_connector_queue_depth_max") == 4


async def test_an_unwritable_output_ends_the_stream_without_reconnecting(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig, clock: WatchedClock, caplog: pytest.LogCaptureFixture
) -> None:
    task = start(new_session(make_config(), peer.url("/signal"), clock=clock))
    join = await zoom.join()
    directory = make_config().output_dir / STREAM_ID
    shutil.rmtree(directory)
    directory.write_bytes(b"")  # a file where the directory was: no new file can be created
    with caplog.at_level(logging.ERROR, logger="connector"):
        await join.media["transcript"].send(MediaDataTranscript(content=TranscriptContent(data="lost")))
        summary = await result(task)
    assert (summary.end_cause, summary.reconnects) == ("failed", 0)
    assert summary.detail.startswith("output cannot be written")
    assert await join.signaling.closed() == 1000
    assert not any(isinstance(m, StreamCloseReq) for m in join.signaling.log)
    assert len(zoom.joins) == 1
    assert not [r for r in caplog.records if r.exc_info]


async def test_stream_revoked_deletes_the_output(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig, clock: WatchedClock
) -> None:
    task = start(new_session(make_config(), peer.url("/signal"), clock=clock))
    join = await zoom.join()
    await audio(join, *PCM)
    await terminate(join, 8)  # STREAM_REVOKED: assets must be deleted at once (§5.3)
    summary = await result(task)
    assert (summary.stop_reason_name, summary.files) == ("STOP_BC_STREAM_REVOKED", ["stream.json"])
    assert not exists(summary.directory)


# --- TLS ----------------------------------------------------------------------------------


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
        untrusted = await run_session(make_config(reconnect_attempts=0), url)
    assert trusted.status_code == 3  # TLS worked: the handshake reached the peer
    assert len(handshakes) == 1
    assert (untrusted.end_cause, untrusted.reconnects) == ("failed", 0)
    assert "TLS error: CERTIFICATE_VERIFY_FAILED" in untrusted.detail


async def test_an_undecodable_frame_is_skipped_with_its_reason_and_the_stream_goes_on(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig, caplog: pytest.LogCaptureFixture
) -> None:
    task = start(new_session(make_config(), peer.url("/signal")))
    join = await zoom.join()
    side = join.media["audio"]
    with caplog.at_level(logging.WARNING, logger="connector.session"):
        await side.ws.send('{"msg_type": 14, "content": {"data": 5}}')  # data is not base64
        await side.ws.send("not json")
        await audio(join, PCM[0])
    await terminate(join)
    summary = await result(task)
    assert wav_frames(Path(summary.directory)) == PCM[0]
    warnings = [r.getMessage() for r in caplog.records if "undecodable frame" in r.getMessage()]
    assert len(warnings) == 2
    assert "MEDIA_DATA_AUDIO (14) is malformed" in warnings[0]
    assert "not JSON" in warnings[1]
