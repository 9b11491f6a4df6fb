"""A whole stream through raw sockets: handshakes, ready, events, media, keep-alives, end (§3).

Scenario time is the manual clock; every wait below is a bounded wait for a message, a
webhook or a journal record, never a sleep.
"""

from __future__ import annotations

from msgspec import UNSET, UnsetType

from connector.protocol import (
    AudioParams,
    ClientReadyAck,
    EventSubscription,
    EventType,
    EventUpdate,
    MediaDataAudio,
    MediaDataTranscript,
    MediaParams,
    MediaType,
    Message,
    Participant,
    SessionState,
    SessionStateUpdate,
    SignalingHandshakeResp,
    StopReason,
    StreamState,
    StreamStateUpdate,
    Subscription,
    TranscriptLanguage,
)
from simulator.clock import ManualClock
from simulator.config import FrameKind, SimulatorConfig
from simulator.server import Simulator

from .conftest import MakeSim
from .harness import Clients, arrived, verify
from .probe import Join
from .receiver import WebhookReceiver

DURATION = 20.0
FRAME_MS = 20
L16_16K_MONO_BYTES = 640  # 20 ms of 16-bit samples at 16 kHz, one channel


def _events(messages: list[Message], event_type: int) -> list[EventUpdate]:
    return [m for m in messages if isinstance(m, EventUpdate) and m.event.event_type == event_type]


async def test_happy_path(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(webhook_url=receiver.url, duration=DURATION, seed=7, participants=3)
    script = stream.script
    app = sim.config.app

    # The app learns of the stream from a signed webhook.
    started = await receiver.wait_for("meeting.rtms_started")
    verify(sim, started)
    assert started.payload["rtms_stream_id"] == stream.stream_id
    assert started.payload["meeting_uuid"] == stream.instance_id
    assert started.payload["server_urls"] == sim.signaling_url()
    join = Join.from_payload(started.payload, client_id=app.client_id, client_secret=app.client_secret)

    # Signaling handshake as the SDK sends it: a binary frame of pretty-printed JSON.
    signaling = await clients.open(join.server_urls, pretty=True)
    await signaling.send(join.signaling_req())
    accepted = await signaling.expect(SignalingHandshakeResp)
    assert accepted.status_code == 0
    assert not isinstance(accepted.media_server, UnsetType)
    urls = accepted.media_server.server_urls
    assert set(urls) == {"audio", "video", "deskshare", "transcript", "chat", "all"}
    base = sim.signaling_url().rsplit("/signaling", 1)[0]
    assert urls == {key: f"{base}/media/{key}" for key in urls}

    # Media handshakes: audio with part of its parameters (the rest are Zoom's defaults) and
    # transcript with ``media_params: null``, as the SDK sends it.
    audio = await clients.open(urls["audio"], pretty=True)
    asked = MediaParams(audio=AudioParams(codec=1, sample_rate=1, send_rate=FRAME_MS))
    await audio.send(join.data_req(int(MediaType.AUDIO), asked))
    audio_ok = await audio.recv()
    raw = audio.raw_json(audio_ok)
    assert raw["msg_type"] == 4
    assert raw["status_code"] == 0
    assert "payload_encrypted" in raw
    assert raw["payload_encrypted"] is False
    assert raw["media_params"] == {
        "audio": {
            "content_type": 2,
            "codec": 1,
            "sample_rate": 1,
            "channel": 1,
            "data_opt": 1,
            "send_rate": 20,
        }
    }
    transcript = await clients.open(urls["transcript"], pretty=True)
    await transcript.send(join.data_req(int(MediaType.TRANSCRIPT), None))
    transcript_ok = await transcript.recv()
    raw = transcript.raw_json(transcript_ok)
    assert raw["status_code"] == 0
    assert raw["payload_encrypted"] is False
    assert raw["media_params"] == {"transcript": {"content_type": 5, "enable_lid": True}}

    # Ready: the first-packet event, the session and the stream state, in that order.
    await signaling.send(ClientReadyAck(rtms_stream_id=stream.stream_id))
    start_epoch = clock.epoch_ms()
    first = await signaling.recv()
    assert isinstance(first, EventUpdate)
    assert first.event.event_type == EventType.FIRST_PACKET_TIMESTAMP
    assert first.event.timestamp == start_epoch
    session = await signaling.recv()
    assert isinstance(session, SessionStateUpdate)
    assert (session.state, session.timestamp) == (SessionState.STARTED, start_epoch)
    assert session.rtms_session_id == stream.session_id
    active = await signaling.recv()
    assert isinstance(active, StreamStateUpdate)
    assert (active.state, active.rtms_stream_id) == (StreamState.ACTIVE, stream.stream_id)

    # Subscribing to joins tells who is already there (everyone but the late joiner).
    await signaling.send(
        EventSubscription(events=tuple(Subscription(event_type=e, subscribe=True) for e in (2, 3, 4)))
    )
    present = await signaling.recv()
    assert isinstance(present, EventUpdate)
    assert present.event.event_type == EventType.PARTICIPANT_JOIN
    early, late = script.participants[:2], script.participants[2]
    assert not isinstance(present.event.participants, UnsetType)
    assert [(p.user_id, p.user_name) for p in present.event.participants] == [
        (p.user_id, p.user_name) for p in early
    ]
    assert (late.join_at, late.leave_at) == (DURATION * 0.25, DURATION * 0.8)

    # One audio frame per 20 ms of scenario time.
    key = (stream.stream_id, "audio")
    counts = []
    for _ in range(5):
        await clock.run_for(FRAME_MS / 1000, step=FRAME_MS / 1000)
        counts.append(sim.journal.media_counts[key])
    assert counts == [2, 3, 4, 5, 6]  # the frame of t=0 went out with the first step

    # The rest of the meeting, to its end.
    await clock.run_for(DURATION, step=0.1)

    frames = await audio.until_closed(timeout=10)
    assert audio.close_code == 1000
    audio_frames = [m for m in frames if isinstance(m, MediaDataAudio)]
    assert len(audio_frames) == DURATION * 1000 / FRAME_MS == sim.journal.media_counts[key]
    for n, frame in enumerate(audio_frames):
        content = frame.content
        assert content.user_id == 0
        assert content.user_name is UNSET
        assert content.timestamp == start_epoch + n * FRAME_MS
        assert content.length == len(content.data) == L16_16K_MONO_BYTES

    texts = await transcript.until_closed(timeout=10)
    assert transcript.close_code == 1000
    assert [type(m) for m in texts] == [MediaDataTranscript] * len(script.utterances)
    assert len(script.utterances) >= 5
    for message, utterance in zip(texts, script.utterances, strict=True):
        assert isinstance(message, MediaDataTranscript)
        text = message.content
        assert text.data == utterance.text
        assert text.user_id == utterance.user_id
        assert text.user_name == script.participant(utterance.user_id).user_name
        assert text.start_time == start_epoch + round(utterance.start * 1000)
        assert text.end_time == start_epoch + round(utterance.end * 1000)
        assert text.language == TranscriptLanguage.ENGLISH

    rest = await signaling.until_closed(timeout=10)
    assert signaling.close_code == 1000
    speakers = _events(rest, EventType.ACTIVE_SPEAKER_CHANGE)
    names = {p.user_id: p.user_name for p in script.participants}
    assert [(e.event.user_id, e.event.user_name, e.event.timestamp) for e in speakers] == [
        (u.user_id, names[u.user_id], start_epoch + round(u.start * 1000)) for u in script.utterances
    ]
    joins = _events(rest, EventType.PARTICIPANT_JOIN)
    late_join = (Participant(user_id=late.user_id, user_name=late.user_name),)
    assert [(e.event.timestamp, e.event.participants) for e in joins] == [(start_epoch + 5000, late_join)]
    leaves = _events(rest, EventType.PARTICIPANT_LEAVE)
    assert len(leaves) == 1
    assert leaves[0].event.timestamp == start_epoch + 16000
    assert not isinstance(leaves[0].event.participants, UnsetType)
    assert [p.user_id for p in leaves[0].event.participants] == [late.user_id]

    # The end: session stopped, stream terminated with reason 6, then close frames.
    end_epoch = start_epoch + round(DURATION * 1000)
    session_end, stream_end = rest[-2:]
    assert isinstance(session_end, SessionStateUpdate)
    assert (session_end.state, session_end.reason) == (SessionState.STOPPED, StopReason.MEETING_ENDED)
    assert isinstance(stream_end, StreamStateUpdate)
    assert (stream_end.state, stream_end.reason, stream_end.timestamp) == (
        StreamState.TERMINATED,
        StopReason.MEETING_ENDED,
        end_epoch,
    )

    # Keep-alives went out at 10 s on every socket and were answered.
    for probe in (signaling, audio, transcript):
        assert [(k.sequence, k.timestamp) for k in probe.keep_alives] == [(1, start_epoch + 10_000)]
    assert not sim.journal.select(kind="keep_alive_timeout")

    stopped = await receiver.wait_for("meeting.rtms_stopped")
    verify(sim, stopped)
    assert stopped.payload == {
        "meeting_uuid": stream.instance_id,
        "rtms_stream_id": stream.stream_id,
        "stop_reason": StopReason.MEETING_ENDED,
    }
    assert stopped.json["event_ts"] == end_epoch
    assert await sim.wait_ended(stream) == StopReason.MEETING_ENDED


async def test_one_all_socket_carries_audio_and_transcript(
    sim: Simulator, clock: ManualClock, clients: Clients
) -> None:
    """A raw client may open a single ``all`` socket (media_type 32) for every type (§1)."""
    stream = sim.start_stream(duration=8.0, seed=3, participants=2)
    asked = MediaParams(audio=AudioParams(sample_rate=1, send_rate=100))
    joined = await clients.joined(sim, stream, {"all": asked}, pretty=False)
    answer = joined.accepted["all"]
    assert not isinstance(answer.media_params, UnsetType | None)
    # Every type the app has scopes for is negotiated; the asked audio keeps its send_rate.
    echoed = joined.media["all"].raw_json(answer)["media_params"]
    assert set(echoed) == {"audio", "video", "deskshare", "transcript", "chat"}
    assert echoed["audio"]["send_rate"] == 100

    await clock.run_for(8.0, step=0.1)
    messages = await joined.media["all"].until_closed(timeout=10)
    audio = [m for m in messages if isinstance(m, MediaDataAudio)]
    texts = [m for m in messages if isinstance(m, MediaDataTranscript)]
    assert len(audio) == 80  # 8 s in 100 ms frames
    assert {len(m.content.data) for m in audio} == {3200}  # 100 ms of 16 kHz mono L16
    assert [m.content.data for m in texts] == [u.text for u in stream.script.utterances]
    assert len(texts) >= 2
    # Both kinds arrive interleaved in scenario-time order on the one socket.
    stamps = [m.content.timestamp for m in messages if isinstance(m, MediaDataAudio | MediaDataTranscript)]
    assert all(isinstance(t, int) for t in stamps)
    assert stamps == sorted(t for t in stamps if isinstance(t, int))
    assert joined.media["all"].close_code == 1000


async def test_wss_and_binary_frames(make_sim: MakeSim, clock: ManualClock, clients: Clients) -> None:
    """Over TLS (a test CA, ``DNS:localhost``, §1.1) with the simulator sending binary frames."""
    sim = await make_sim(SimulatorConfig(tls_port=0, frame_kind=FrameKind.BINARY))
    assert sim.ca_file is not None
    assert sim.authority is not None
    stream = sim.start_stream(duration=5.0, scheme="wss")
    join = clients.join_for(sim, stream)
    assert join.server_urls.startswith("wss://localhost:")
    tls = sim.authority.client_context()

    signaling = await clients.open(join.server_urls, ssl_context=tls)
    await signaling.send(join.signaling_req())
    accepted = await signaling.expect(SignalingHandshakeResp)
    assert accepted.status_code == 0
    assert not isinstance(accepted.media_server, UnsetType)
    urls = accepted.media_server.server_urls
    assert all(url.startswith(f"wss://localhost:{sim.tls_port}/rtms/media/") for url in urls.values())
    audio = await clients.open(urls["audio"], ssl_context=tls)
    await audio.send(join.data_req(int(MediaType.AUDIO)))
    assert (await audio.recv()).msg_type == 4
    await signaling.send(ClientReadyAck(rtms_stream_id=stream.stream_id))
    await arrived(sim, stream.stream_id, "CLIENT_READY_ACK")

    await clock.run_for(1.0, step=0.1)
    frames = await audio.collect(MediaDataAudio, 50)
    assert len(frames) == 50
    assert all(isinstance(raw, bytes) for _, raw in audio.frames + signaling.frames)
