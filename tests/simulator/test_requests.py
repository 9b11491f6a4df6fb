"""Client requests on signaling (§4.5, §4.10, §4.13, §4.14, §4.16) and robustness after the handshake."""

from __future__ import annotations

import pytest

from connector.protocol import (
    ClientReadyAck,
    EventSubscription,
    EventType,
    EventUpdate,
    MediaContent,
    MediaDataAudio,
    MessageType,
    SessionState,
    SessionStateReq,
    SessionStateResp,
    SessionStateUpdate,
    StopReason,
    StreamCloseReq,
    StreamCloseResp,
    StreamState,
    StreamStateReq,
    StreamStateResp,
    StreamStateUpdate,
    Subscription,
    VideoSubscriptionReq,
    VideoSubscriptionResp,
)
from simulator.clock import ManualClock
from simulator.server import Simulator

from .harness import Clients, arrived, audio_frames_in, verify
from .receiver import WebhookReceiver

LONG = 120.0


async def test_stream_close_request(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    joined = await clients.joined(sim, stream, {"audio": None})
    await clock.run_for(3.0, step=0.1)
    now = clock.epoch_ms()

    await joined.signaling.send(StreamCloseReq(rtms_stream_id=stream.stream_id))
    answer = await joined.signaling.expect(StreamCloseResp)
    assert (answer.status_code, answer.reason, answer.rtms_stream_id, answer.timestamp) == (
        0,
        "OK",
        stream.stream_id,
        now,
    )
    rest = await joined.signaling.until_closed()
    assert joined.signaling.close_code == 1000
    assert [m.msg_type for m in rest] == [MessageType.SESSION_STATE_UPDATE, MessageType.STREAM_STATE_UPDATE]
    session, state = rest
    assert isinstance(session, SessionStateUpdate)
    assert isinstance(state, StreamStateUpdate)
    assert (session.state, session.reason) == (SessionState.STOPPED, StopReason.RECEIVER_REQUEST_CLOSE)
    assert (state.state, state.reason) == (StreamState.TERMINATED, StopReason.RECEIVER_REQUEST_CLOSE)
    assert await joined.media["audio"].wait_closed() == 1000

    stopped = await receiver.wait_for("meeting.rtms_stopped")
    verify(sim, stopped)
    assert stopped.payload["stop_reason"] == StopReason.RECEIVER_REQUEST_CLOSE


async def test_stream_close_before_ready(sim: Simulator, clients: Clients) -> None:
    """STREAM_CLOSE_REQ is allowed while joining; no session was started, so none is stopped."""
    stream = sim.start_stream(duration=LONG)
    joined = await clients.joined(sim, stream, ready=False)
    await joined.signaling.send(StreamCloseReq(rtms_stream_id=stream.stream_id))
    rest = await joined.signaling.until_closed()
    assert [m.msg_type for m in rest] == [MessageType.STREAM_CLOSE_RESP, MessageType.STREAM_STATE_UPDATE]
    assert stream.stop_reason == StopReason.RECEIVER_REQUEST_CLOSE


async def test_stream_state_request(sim: Simulator, clock: ManualClock, clients: Clients) -> None:
    stream = sim.start_stream(duration=LONG)
    joined = await clients.joined(sim, stream, ready=False)
    await joined.signaling.send(StreamStateReq(rtms_stream_id=stream.stream_id))
    before = await joined.signaling.expect(StreamStateResp)
    assert before.state == StreamState.INACTIVE  # shook hands, not ready yet

    await clock.run_for(1.5, step=0.5)
    await joined.signaling.send(ClientReadyAck(rtms_stream_id=stream.stream_id))
    await joined.signaling.send(StreamStateReq(rtms_stream_id=stream.stream_id))
    after = await joined.signaling.expect(StreamStateResp)
    assert (after.state, after.rtms_stream_id, after.timestamp) == (
        StreamState.ACTIVE,
        stream.stream_id,
        clock.epoch_ms(),
    )


async def test_session_state_request(sim: Simulator, clients: Clients) -> None:
    stream = sim.start_stream(duration=LONG)
    joined = await clients.joined(sim, stream)
    update = await joined.signaling.expect(SessionStateUpdate)
    assert update.state == SessionState.STARTED

    await joined.signaling.send(SessionStateReq(rtms_session_id=update.rtms_session_id))
    answer = await joined.signaling.expect(SessionStateResp)
    assert (answer.rtms_session_id, answer.state) == (stream.session_id, SessionState.STARTED)

    await joined.signaling.send(SessionStateReq(rtms_session_id="no-such-session"))
    unknown = await joined.signaling.expect(SessionStateResp)
    assert (unknown.rtms_session_id, unknown.state) == ("no-such-session", SessionState.INACTIVE)


async def test_unsubscribing_stops_events(sim: Simulator, clock: ManualClock, clients: Clients) -> None:
    stream = sim.start_stream(duration=LONG, seed=4)
    joined = await clients.joined(sim, stream, events=(EventType.ACTIVE_SPEAKER_CHANGE,))
    first = stream.script.utterances[0]
    await clock.run_for(first.start, step=0.1)
    speaker = await joined.signaling.expect(EventUpdate, where=lambda m: m.event.event_type == 2)
    assert speaker.event.user_id == first.user_id

    await joined.signaling.send(EventSubscription(events=(Subscription(event_type=2, subscribe=False),)))
    await arrived(sim, stream.stream_id, "EVENT_SUBSCRIPTION", count=2)
    await clock.run_for(30.0, step=0.5)
    later = [m for m in joined.signaling.queued() if isinstance(m, EventUpdate) and m.event.event_type == 2]
    assert later == []
    sent = sim.journal.select(stream_id=stream.stream_id, kind="EVENT_UPDATE", direction="out")
    assert [r.detail["event"]["event_type"] for r in sent].count(2) == 1


@pytest.mark.parametrize(("known", "status", "reason"), [(True, 0, "OK"), (False, 4, "unknown user_id")])
async def test_video_subscription(
    sim: Simulator, clients: Clients, known: bool, status: int, reason: str
) -> None:
    stream = sim.start_stream(duration=LONG)
    joined = await clients.joined(sim, stream)
    user_id = stream.script.participants[0].user_id if known else 12345
    await joined.signaling.send(VideoSubscriptionReq(user_id=user_id, subscribe=True, timestamp=39996))
    answer = await joined.signaling.expect(VideoSubscriptionResp)
    assert (answer.user_id, answer.status_code, answer.reason) == (user_id, status, reason)


# -- garbage after the handshake ------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "reason_part"),
    [
        (b"\xff\xfe definitely not json", "not JSON"),
        ('{"msg_type": 99}', "msg_type 99 is not an RTMS message type"),
        ('{"msg_type": 19, "rtms_stream_id": 42}', "STREAM_STATE_REQ (19) is malformed"),
        ("[1, 2, 3]", "no integer msg_type"),
    ],
    ids=["binary-garbage", "unknown-type", "malformed", "not-an-object"],
)
async def test_garbage_on_signaling_does_not_kill_the_stream(
    sim: Simulator, clock: ManualClock, clients: Clients, frame: str | bytes, reason_part: str
) -> None:
    stream = sim.start_stream(duration=LONG)
    joined = await clients.joined(sim, stream, {"audio": None})
    await joined.signaling.send_raw(frame)
    bad = await sim.journal.wait_for(lambda r: r.kind == "bad_frame")
    assert (bad.channel, bad.stream_id) == ("signaling", stream.stream_id)
    assert reason_part in bad.detail["reason"]

    assert await audio_frames_in(sim, stream.stream_id, 1.0) == 50
    await joined.signaling.send(StreamStateReq(rtms_stream_id=stream.stream_id))
    assert (await joined.signaling.expect(StreamStateResp)).state == StreamState.ACTIVE
    assert stream.state is StreamState.ACTIVE
    assert not joined.signaling.closed
    # Nothing was answered to the garbage: no handshake response after the first one.
    answers = sim.journal.select(kind="SIGNALING_HAND_SHAKE_RESP")
    assert len(answers) == 1


async def test_out_of_place_messages_are_journaled_not_fatal(sim: Simulator, clients: Clients) -> None:
    stream = sim.start_stream(duration=LONG)
    joined = await clients.joined(sim, stream, {"audio": None})
    # A second handshake on an established signaling socket.
    await joined.signaling.send(joined.join.signaling_req())
    unexpected = await sim.journal.wait_for(lambda r: r.kind == "unexpected")
    assert (
        "SIGNALING_HAND_SHAKE_REQ is not expected on signaling in state streaming"
        in unexpected.detail["reason"]
    )
    # A message only Zoom sends, arriving on a media socket, and garbage on media.
    await joined.media["audio"].send(MediaDataAudio(content=MediaContent(data=b"\x00\x00")))
    ignored = await sim.journal.wait_for(lambda r: r.kind == "ignored")
    assert (ignored.channel, ignored.detail) == ("media:audio", {"msg_type": 14})
    await joined.media["audio"].send_raw("{")
    bad = await sim.journal.wait_for(lambda r: r.kind == "bad_frame")
    assert bad.channel == "media:audio"

    await joined.signaling.send(StreamStateReq(rtms_stream_id=stream.stream_id))
    assert (await joined.signaling.expect(StreamStateResp)).state == StreamState.ACTIVE
    assert not joined.media["audio"].closed
