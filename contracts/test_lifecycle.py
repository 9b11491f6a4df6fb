"""A stream's life as the client sees it (§4.6-§4.9, §4.14, §7.1): ready, events, pause,
stop, close, and the faults Zoom's side can have.

After CLIENT_READY_ACK the client hears EVENT_UPDATE FIRST_PACKET_TIMESTAMP, SESSION_STATE_UPDATE
STARTED and STREAM_STATE_UPDATE ACTIVE. An end is SESSION_STATE_UPDATE STOPPED, STREAM_STATE_UPDATE
TERMINATED with the stop reason, a close frame (1000) on every socket, then ``*.rtms_stopped``
with the same reason. Pauses are told on signaling and silence the media. A socket Zoom loses
is reported (``*.rtms_interrupted`` for signaling, event 7 for media) and can be won back in the
reconnection window; a failover announces the same stream on another server.
"""

from __future__ import annotations

import pytest

from . import wire
from .inbox import Delivery
from .probe import Joined, Message, Probe
from .target import Capability, Stream, Target

MSG, STATE, SESSION = wire.MSG, wire.STREAM_STATE, wire.SESSION_STATE
RECEIVER_REQUEST_CLOSE = 20  # stop reasons (§5.3)
MEETING_ENDED = 6


async def _next(probe: Probe, msg_type: int, **fields: object) -> Message:
    """The next ``msg_type`` message whose ``fields`` have these values (others skipped)."""
    return await probe.expect(msg_type, where=lambda m: all(m.get(k) == v for k, v in fields.items()))


async def _stream_state(signaling: Probe, stream: Stream) -> int:
    """STREAM_STATE_REQ round trip (§4.13): the state; everything sent before it has arrived."""
    await signaling.send({"msg_type": MSG["STREAM_STATE_REQ"], "rtms_stream_id": stream.stream_id})
    state: int = (await signaling.expect(MSG["STREAM_STATE_RESP"]))["state"]
    return state


async def _webhook(target: Target, event: str, stream: Stream, *, count: int = 1) -> Delivery:
    return await target.inbox.wait_for(
        event, stream_id=stream.stream_id, count=count, timeout=target.webhook_timeout
    )


async def _assert_ended(target: Target, stream: Stream, joined: Joined, reason: int) -> None:
    """TERMINATED with ``reason`` on signaling, 1000 on every socket, then ``rtms_stopped`` (§4.8)."""
    end = await _next(joined.signaling, MSG["STREAM_STATE_UPDATE"], state=STATE["TERMINATED"])
    assert end["reason"] == reason
    assert type(end["timestamp"]) is int
    for probe in joined.probes:
        assert await probe.wait_closed() == 1000, f"the {probe.role} socket was not closed with 1000"
    stopped = await _webhook(target, "meeting.rtms_stopped", stream)
    assert stopped.payload["stop_reason"] == reason
    assert stopped.payload[stream.id_key] == stream.instance_id


# -- ready -----------------------------------------------------------------------------------


async def test_ready_starts_the_session_and_the_stream(target: Target, stream: Stream) -> None:
    """CLIENT_READY_ACK is answered, in this order, by EVENT_UPDATE FIRST_PACKET_TIMESTAMP (the
    payload under ``event``, not ``content``), SESSION_STATE_UPDATE STARTED (``rtms_session_id``,
    no ``reason``) and STREAM_STATE_UPDATE ACTIVE (§3, §4.6, §4.8, §4.9)."""
    joined = await target.joined(stream, {"audio": None})
    signaling = joined.signaling
    first, session, active = [await signaling.recv() for _ in range(3)]

    assert first["msg_type"] == MSG["EVENT_UPDATE"], wire.name_of(first["msg_type"])
    assert "content" not in first
    assert first["event"]["event_type"] == wire.EVENT["FIRST_PACKET_TIMESTAMP"]
    assert type(first["event"]["timestamp"]) is int
    assert first["event"]["timestamp"] > 10**12  # epoch ms

    assert session["msg_type"] == MSG["SESSION_STATE_UPDATE"], wire.name_of(session["msg_type"])
    assert session["state"] == SESSION["STARTED"]
    assert isinstance(session["rtms_session_id"], str)
    assert session["rtms_session_id"]
    assert type(session["timestamp"]) is int
    assert "reason" not in session  # a reason only when stopped (§4.9)

    assert active["msg_type"] == MSG["STREAM_STATE_UPDATE"], wire.name_of(active["msg_type"])
    assert active["state"] == STATE["ACTIVE"]
    assert type(active["timestamp"]) is int
    assert active.get("rtms_stream_id", stream.stream_id) == stream.stream_id
    await target.pass_time(1.0)
    await joined.media["audio"].expect(MSG["MEDIA_DATA_AUDIO"])


async def test_nothing_is_told_before_ready(target: Target, stream: Stream) -> None:
    """Before CLIENT_READY_ACK there is no event and no state update on signaling (§4.7)."""
    joined = await target.joined(stream, {"audio": None}, ready=False)
    await target.pass_time(2.0)
    # Whether Zoom calls a joined but unready stream INACTIVE or ACTIVE is not documented; the
    # round trip matters: whatever was sent before its answer has arrived.
    assert await _stream_state(joined.signaling, stream) in (STATE["INACTIVE"], STATE["ACTIVE"])
    updates = (MSG["EVENT_UPDATE"], MSG["STREAM_STATE_UPDATE"], MSG["SESSION_STATE_UPDATE"])
    told = [wire.name_of(m["msg_type"]) for m, _ in joined.signaling.received if m["msg_type"] in updates]
    assert told == [], f"told before ready: {told}"

    await joined.signaling.send({"msg_type": MSG["CLIENT_READY_ACK"], "rtms_stream_id": stream.stream_id})
    await _next(joined.signaling, MSG["STREAM_STATE_UPDATE"], state=STATE["ACTIVE"])


async def test_subscribed_events_come_under_the_event_key(target: Target, stream: Stream) -> None:
    """A subscription to PARTICIPANT_JOIN (3) is answered with who is there: EVENT_UPDATE whose
    ``event`` holds ``participants`` with integer ``user_id`` and a ``user_name`` (§4.5, §4.6)."""
    joined = await target.joined(stream, {}, events=(wire.EVENT["PARTICIPANT_JOIN"],))
    joins = await joined.signaling.expect(
        MSG["EVENT_UPDATE"],
        where=lambda m: m.get("event", {}).get("event_type") == wire.EVENT["PARTICIPANT_JOIN"],
    )
    assert "content" not in joins
    assert type(joins["event"]["timestamp"]) is int
    participants = joins["event"]["participants"]
    assert participants, "a join event names at least one participant"
    for person in participants:
        assert type(person["user_id"]) is int, person
        assert isinstance(person["user_name"], str), person


# -- the end ---------------------------------------------------------------------------------


async def test_stream_close_ends_the_stream_with_20(target: Target, stream: Stream) -> None:
    """STREAM_CLOSE_REQ is answered with STREAM_CLOSE_RESP (status 0); then the stream ends with
    RECEIVER_REQUEST_CLOSE (20) on signaling, on every socket and in ``rtms_stopped`` (§4.14)."""
    joined = await target.joined(stream, {"audio": None})
    await joined.signaling.send({"msg_type": MSG["STREAM_CLOSE_REQ"], "rtms_stream_id": stream.stream_id})
    resp = await joined.signaling.expect(MSG["STREAM_CLOSE_RESP"])
    assert resp["status_code"] == wire.STATUS["OK"]
    assert resp.get("rtms_stream_id", stream.stream_id) == stream.stream_id
    await _assert_ended(target, stream, joined, RECEIVER_REQUEST_CLOSE)


@pytest.mark.needs(Capability.STOP)
async def test_a_stop_is_told_on_signaling_then_by_webhook(target: Target, stream: Stream) -> None:
    """A meeting that ends: SESSION_STATE_UPDATE STOPPED with reason 6, then STREAM_STATE_UPDATE
    TERMINATED with reason 6, close frames 1000, ``meeting.rtms_stopped`` with 6 (§3, §4.8, §4.9)."""
    joined = await target.joined(stream, {"audio": None, "transcript": None})
    started = await _next(joined.signaling, MSG["SESSION_STATE_UPDATE"], state=SESSION["STARTED"])
    await target.stop_stream(stream, MEETING_ENDED)
    session = await _next(joined.signaling, MSG["SESSION_STATE_UPDATE"])
    assert (session["state"], session["reason"]) == (SESSION["STOPPED"], MEETING_ENDED)
    assert session["rtms_session_id"] == started["rtms_session_id"]
    await _assert_ended(target, stream, joined, MEETING_ENDED)


# -- pause and resume --------------------------------------------------------------------------


@pytest.mark.needs(Capability.PAUSE)
async def test_pause_silences_media_until_resume(target: Target, stream: Stream) -> None:
    """Pause: SESSION_STATE_UPDATE PAUSED (3), STREAM_STATE_UPDATE PAUSED (5), no media frame
    stamped inside the pause, keep-alives go on. Resume: RESUMED (4, 6), media again (§4.8, §4.9)."""
    joined = await target.joined(stream, {"audio": None})
    signaling, audio = joined.signaling, joined.media["audio"]
    await target.pass_time(1.0)
    await audio.expect(MSG["MEDIA_DATA_AUDIO"])

    await target.pause(stream)
    session = await _next(signaling, MSG["SESSION_STATE_UPDATE"], state=SESSION["PAUSED"])
    paused = await signaling.expect(MSG["STREAM_STATE_UPDATE"])
    assert paused["state"] == STATE["PAUSED"]
    assert "reason" not in session
    keep_alives = len(signaling.keep_alives)
    await target.pass_time(20.0)
    await signaling.wait_keep_alives(keep_alives + 2)  # keep-alives go on through the pause

    await target.resume(stream)
    session = await signaling.expect(MSG["SESSION_STATE_UPDATE"])
    resumed = await signaling.expect(MSG["STREAM_STATE_UPDATE"])
    assert (session["state"], resumed["state"]) == (SESSION["RESUMED"], STATE["RESUMED"])
    await target.pass_time(1.0)

    # One socket keeps its order: every frame sent during the pause comes before the first
    # frame after the resume.
    during: list[int] = []
    while (stamp := (await audio.expect(MSG["MEDIA_DATA_AUDIO"]))["content"]["timestamp"]) <= resumed[
        "timestamp"
    ]:
        if stamp > paused["timestamp"]:
            during.append(stamp)
    assert during == [], f"{len(during)} audio frames stamped inside the pause"
    assert await _stream_state(signaling, stream) == STATE["RESUMED"]


# -- faults on Zoom's side ---------------------------------------------------------------------


@pytest.mark.needs(Capability.FAULTS)
async def test_a_lost_signaling_socket_can_be_won_back(target: Target, stream: Stream) -> None:
    """Zoom drops signaling (no close frame): media goes too, ``meeting.rtms_interrupted``; a new
    handshake inside the 60 s window resumes the stream, which outlives the window (§7.1)."""
    first = await target.joined(stream, {"audio": None})
    await target.drop(stream, "signaling", close_frame=False)
    for probe in first.probes:
        assert await probe.wait_closed() is None, f"the {probe.role} socket got a close frame"
    interrupted = await _webhook(target, "meeting.rtms_interrupted", stream)
    assert interrupted.payload[stream.id_key] == stream.instance_id

    await target.pass_time(20.0)
    again = await target.joined(stream, {"audio": None})
    await _next(again.signaling, MSG["STREAM_STATE_UPDATE"], state=STATE["ACTIVE"])
    await target.pass_time(45.0)  # past where the window would have closed
    assert await _stream_state(again.signaling, stream) == STATE["ACTIVE"]
    assert not target.inbox.of("meeting.rtms_stopped", stream_id=stream.stream_id)
    await again.media["audio"].expect(MSG["MEDIA_DATA_AUDIO"])


@pytest.mark.needs(Capability.FAULTS)
async def test_a_lost_media_socket_is_event_7_and_can_be_won_back(target: Target, stream: Stream) -> None:
    """Zoom drops one media socket: EVENT_UPDATE MEDIA_CONNECTION_INTERRUPTED (7) on signaling,
    the other sockets and the stream go on, no webhook; the socket may shake hands again (§4.6)."""
    joined = await target.joined(stream, {"audio": None, "transcript": None})
    await target.drop(stream, "audio", close_frame=False)
    assert await joined.media["audio"].wait_closed() is None
    notice = await joined.signaling.expect(
        MSG["EVENT_UPDATE"],
        where=lambda m: m["event"]["event_type"] == wire.EVENT["MEDIA_CONNECTION_INTERRUPTED"],
    )
    assert type(notice["event"]["timestamp"]) is int
    assert await _stream_state(joined.signaling, stream) == STATE["ACTIVE"]
    assert not joined.media["transcript"].closed
    assert not target.inbox.of("meeting.rtms_interrupted", stream_id=stream.stream_id)

    audio, answer = await joined.join.media(joined.urls["audio"], wire.MEDIA_KEYS["audio"], role="audio")
    target.track(audio)
    assert answer["status_code"] == wire.STATUS["OK"]
    await target.received(stream, "DATA_HAND_SHAKE_REQ", count=3)
    await target.pass_time(1.0)
    await audio.expect(MSG["MEDIA_DATA_AUDIO"])


@pytest.mark.needs(Capability.FAULTS)
async def test_a_failover_announces_the_stream_on_another_server(target: Target, stream: Stream) -> None:
    """Zoom's server fails: every socket dropped, no ``rtms_interrupted``, a new
    ``meeting.rtms_started`` for the same ``rtms_stream_id`` with other ``server_urls``. The old
    server answers the stream's handshake with INVALID_RTMS_STREAM_ID (2); the new one
    accepts it (§7.1, failover)."""
    first = await target.joined(stream, {"audio": None})
    await target.failover(stream)
    for probe in first.probes:
        assert await probe.wait_closed() is None, f"the {probe.role} socket got a close frame"
    again = await _webhook(target, "meeting.rtms_started", stream, count=2)
    assert again.payload[stream.id_key] == stream.instance_id
    assert again.payload["server_urls"] != stream.payload["server_urls"]
    assert not target.inbox.of("meeting.rtms_interrupted", stream_id=stream.stream_id)

    stale, answer = await target.join_for(stream).signaling()
    target.track(stale)
    assert answer["status_code"] == wire.STATUS["INVALID_RTMS_STREAM_ID"]

    moved = Stream(started=again, handle=stream.handle)
    joined = await target.joined(moved, {"audio": None})
    assert joined.answer["status_code"] == wire.STATUS["OK"]
    await _next(joined.signaling, MSG["STREAM_STATE_UPDATE"], state=STATE["ACTIVE"])
    await target.pass_time(1.0)
    await joined.media["audio"].expect(MSG["MEDIA_DATA_AUDIO"])
