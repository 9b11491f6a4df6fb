"""Pause and resume (§4.8, §4.9, §8.1; scenarios doc §2 and §4 item 15).

A paused stream is not a stopped one: the client hears SESSION_STATE_UPDATE PAUSED (3) and
STREAM_STATE_UPDATE PAUSED (5), media stops while keep-alives go on, and RESUMED (4 and 6)
brings media back on the stream's timeline. The client here is the SDK-like probe (binary
frames of pretty-printed JSON, keep-alives answered).
"""

from __future__ import annotations

from connector.protocol import (
    MediaDataAudio,
    Message,
    SessionState,
    SessionStateReq,
    SessionStateResp,
    SessionStateUpdate,
    StopReason,
    StreamState,
    StreamStateReq,
    StreamStateResp,
    StreamStateUpdate,
)
from simulator.clock import ManualClock
from simulator.server import Simulator
from simulator.stream import SimStream

from .harness import Clients, audio_frames_in
from .probe import Probe
from .receiver import WebhookReceiver

LONG = 300.0
STATES = (SessionStateUpdate, StreamStateUpdate)


async def _state_updates(probe: Probe, count: int) -> list[tuple[str, int]]:
    """The next ``count`` session/stream state updates, as (kind, state)."""
    out: list[tuple[str, int]] = []
    while len(out) < count:
        message = await probe.recv()
        if isinstance(message, SessionStateUpdate):
            out.append(("session", message.state))
        elif isinstance(message, StreamStateUpdate):
            out.append(("stream", message.state))
    return out


async def _flushed(signaling: Probe, stream: SimStream) -> list[Message]:
    """Every message the signaling socket received until now: a STREAM_STATE_REQ round trip
    makes sure what the simulator sent before it has arrived."""
    await signaling.send(StreamStateReq(rtms_stream_id=stream.stream_id))
    out: list[Message] = []
    while not isinstance(message := await signaling.recv(), StreamStateResp):
        out.append(message)
    return out


def _transcripts(sim: Simulator, stream: SimStream) -> int:
    return sim.journal.media_counts[(stream.stream_id, "transcript")]


async def test_pause_and_resume_as_the_client_sees_them(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url, seed=5)
    joined = await clients.joined(sim, stream, {"audio": None, "transcript": None})
    assert await _state_updates(joined.signaling, 2) == [
        ("session", SessionState.STARTED),
        ("stream", StreamState.ACTIVE),
    ]
    assert await audio_frames_in(sim, stream.stream_id, 1.0) == 50

    sim.engine.pause(stream)
    paused_at = clock.epoch_ms()
    session = await joined.signaling.expect(SessionStateUpdate)
    state = await joined.signaling.expect(StreamStateUpdate)
    assert (session.state, session.rtms_session_id, session.timestamp) == (
        SessionState.PAUSED,
        stream.session_id,
        paused_at,
    )
    assert (state.state, state.rtms_stream_id, state.timestamp) == (
        StreamState.PAUSED,
        stream.stream_id,
        paused_at,
    )
    assert "reason" not in joined.signaling.raw_json(session)  # a reason only when stopped (§4.9)
    assert stream.state is StreamState.PAUSED

    # Twenty seconds of pause: no audio, no transcripts, though people speak; keep-alives go on.
    pause_start = clock.now() - (stream.media_started_at or 0.0)
    spoken = [u for u in stream.script.utterances if pause_start < u.end <= pause_start + 20.0]
    assert spoken, "the script must have speech during the pause for this test to mean anything"
    texts = _transcripts(sim, stream)
    keep_alives = [len(p.keep_alives) for p in joined.probes]
    assert await audio_frames_in(sim, stream.stream_id, 20.0) == 0
    assert _transcripts(sim, stream) == texts
    for probe, before in zip(joined.probes, keep_alives, strict=True):
        assert len(await probe.wait_keep_alives(before + 2)) >= before + 2

    await joined.signaling.send(SessionStateReq(rtms_session_id=stream.session_id))
    asked = await joined.signaling.expect(SessionStateResp)
    assert asked.state == SessionState.PAUSED

    sim.engine.resume(stream)
    assert await _state_updates(joined.signaling, 2) == [
        ("session", SessionState.RESUMED),
        ("stream", StreamState.RESUMED),
    ]
    assert stream.state.name == "RESUMED"  # (by name: the state changes across awaits)
    assert await audio_frames_in(sim, stream.stream_id, 1.0) == 50
    sent = sim.journal.media_counts[(stream.stream_id, "audio")]
    frames = await joined.media["audio"].collect(MediaDataAudio, sent)
    stamps = [f.content.timestamp for f in frames if isinstance(f.content.timestamp, int)]
    assert len(stamps) == sent == 101  # the frame at ready, 50 before the pause, 50 after it
    assert not [t for t in stamps if paused_at < t <= paused_at + 20_000]
    assert stamps[:51] == list(range(stamps[0], paused_at + 20, 20))
    resumed_at = paused_at + 20_000
    assert stamps[51:] == list(range(resumed_at + 20, resumed_at + 20 + 50 * 20, 20))  # on the grid
    await clock.run_for(30.0, step=0.5)
    assert _transcripts(sim, stream) > texts

    # Pausing is not a stop: no webhook says anything about it, and the stream lives on.
    assert [d.event for d in receiver.deliveries] == ["meeting.rtms_started"]
    assert stream.live


async def test_pause_and_resume_that_change_nothing_are_ignored(
    sim: Simulator, clock: ManualClock, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG)
    joined = await clients.joined(sim, stream, {"audio": None})
    await _state_updates(joined.signaling, 2)
    sim.engine.resume(stream)  # not paused
    sim.engine.pause(stream)
    sim.engine.pause(stream)  # paused already
    assert [m.state for m in await _flushed(joined.signaling, stream) if isinstance(m, STATES)] == [
        SessionState.PAUSED,
        StreamState.PAUSED,
    ]

    sim.stop_stream(stream, StopReason.HOST_TRIGGERED)  # a paused stream can be stopped
    end = await joined.signaling.expect(StreamStateUpdate)
    assert (end.state, end.reason) == (StreamState.TERMINATED, StopReason.HOST_TRIGGERED)
    sim.engine.resume(stream)
    ignored = sim.journal.select(stream_id=stream.stream_id, kind="ignored")
    assert [(r.detail["action"], r.detail["state"]) for r in ignored] == [
        ("resume", "ACTIVE"),
        ("pause", "PAUSED"),
        ("resume", "TERMINATED"),
    ]


async def test_a_stream_paused_before_the_client_is_ready_says_so_at_ready(
    sim: Simulator, clock: ManualClock, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG)
    sim.engine.pause(stream)
    assert stream.state is StreamState.INACTIVE
    joined = await clients.joined(sim, stream, {"audio": None})
    assert await _state_updates(joined.signaling, 4) == [
        ("session", SessionState.STARTED),
        ("stream", StreamState.ACTIVE),
        ("session", SessionState.PAUSED),
        ("stream", StreamState.PAUSED),
    ]
    assert stream.state.name == "PAUSED"
    assert await audio_frames_in(sim, stream.stream_id, 5.0) == 0
    sim.engine.resume(stream)
    assert await audio_frames_in(sim, stream.stream_id, 1.0) == 50


async def test_a_pause_outlives_a_reconnect(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    first = await clients.joined(sim, stream, {"audio": None})
    sim.engine.pause(stream)
    await first.signaling.close()
    await receiver.wait_for("meeting.rtms_interrupted")
    assert stream.state is StreamState.INTERRUPTED
    sim.engine.resume(stream)  # the host resumes while the app is away ...
    sim.engine.pause(stream)  # ... and pauses again
    await clock.run_for(10.0, step=1.0)

    again = await clients.joined(sim, stream, {"audio": None})
    updates = await _state_updates(again.signaling, 4)
    assert updates[2:] == [("session", SessionState.PAUSED), ("stream", StreamState.PAUSED)]
    assert await audio_frames_in(sim, stream.stream_id, 2.0) == 0
    sim.engine.resume(stream)
    assert await audio_frames_in(sim, stream.stream_id, 1.0) == 50
    notes = [r.kind for r in sim.journal.select(stream_id=stream.stream_id, channel="control")]
    assert [k for k in notes if k in ("paused", "resumed")] == ["paused", "resumed", "paused", "resumed"]
