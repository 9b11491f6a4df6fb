"""Faults, switches and ids a scenario engine drives (§5.3, §7.1, §10 items 1 and 2).

Zoom-side faults (:meth:`Engine.drop_signaling`, :meth:`Engine.drop_media`,
:meth:`Engine.failover`), the stop reason each way of losing a connection leads to, the
duplicate-connection and authentication-failure switches, participants driven from outside the
script, and reproducible ids. Scenario time is the manual clock; waits are bounded waits for
messages, webhooks and journal records.
"""

from __future__ import annotations

import base64
import random
import re

import pytest
from msgspec import UNSET, UnsetType

from connector.protocol import (
    EventType,
    EventUpdate,
    MediaDataAudio,
    MediaType,
    Product,
    SignalingHandshakeResp,
    StatusCode,
    StatusTable,
    StopReason,
    StreamState,
    StreamStateReq,
    StreamStateResp,
    StreamStateUpdate,
)
from simulator.clock import ManualClock, settle
from simulator.config import (
    LOST_CONNECTION_STOP_REASONS,
    AuthFailure,
    DuplicatePolicy,
    FrameKind,
    SimulatorConfig,
)
from simulator.journal import Record
from simulator.scenario import Switches
from simulator.server import Simulator
from simulator.speech import generate_script
from simulator.stream import SimStream

from .conftest import MakeSim
from .harness import Clients, arrived, audio_frames_in, verify
from .probe import Join, Probe
from .receiver import WebhookReceiver

LONG = 300.0


async def _abort(probe: Probe) -> None:
    """The client's TCP goes away without a close frame (a crashed app, a cut network)."""
    probe.ws.transport.abort()
    assert await probe.wait_closed() is None


async def _stopped_with(receiver: WebhookReceiver, sim: Simulator, stream: SimStream) -> int:
    stopped = await receiver.wait_for("meeting.rtms_stopped", stream_id=stream.stream_id)
    verify(sim, stopped)
    reason: int = stopped.payload["stop_reason"]
    return reason


async def _delivered(sim: Simulator, event: str, count: int) -> None:
    """Wait until ``count`` deliveries of ``event`` were answered."""

    def enough(_: Record) -> bool:
        done = [r for r in sim.journal.select(kind="delivery") if r.detail["event"] == event]
        return len(done) >= count

    await sim.journal.wait_for(enough)


def _terminated(update: StreamStateUpdate) -> bool:
    return update.state == StreamState.TERMINATED


def _faults(sim: Simulator, stream: SimStream) -> list[Record]:
    return sim.journal.select(stream_id=stream.stream_id, kind="fault")


async def _events_so_far(signaling: Probe, stream: SimStream) -> list[int]:
    """Event types the signaling socket received and the test has not taken yet: a
    STREAM_STATE_REQ round trip makes sure what the simulator sent before it has arrived."""
    await signaling.send(StreamStateReq(rtms_stream_id=stream.stream_id))
    types: list[int] = []
    while not isinstance(message := await signaling.recv(), StreamStateResp):
        if isinstance(message, EventUpdate):
            types.append(message.event.event_type)
    return types


# -- ids ------------------------------------------------------------------------------------


async def test_a_seed_makes_every_id_reproducible(make_sim: MakeSim) -> None:
    def ids(sim: Simulator) -> list[tuple[str, str, str]]:
        streams = [sim.start_stream(duration=LONG) for _ in range(3)]
        return [(s.stream_id, s.session_id, s.instance_id) for s in streams]

    first = ids(await make_sim(SimulatorConfig(tls_port=None, seed=42)))
    again = ids(await make_sim(SimulatorConfig(tls_port=None, seed=42)))
    other = ids(await make_sim(SimulatorConfig(tls_port=None, seed=43)))
    unseeded = await make_sim()
    assert isinstance(unseeded.engine.rng, random.SystemRandom)
    assert first == again
    assert not set(first) & set(other)
    assert not set(first) & set(ids(unseeded))
    for stream_id, session_id, instance_id in first + other:
        assert re.fullmatch(r"[0-9a-f]{32}", stream_id)
        assert re.fullmatch(r"[0-9a-f]{32}", session_id)
        # Zoom's meeting UUIDs: 16 bytes in standard base64, 22 characters and "==".
        assert re.fullmatch(r"[A-Za-z0-9+/]{22}==", instance_id)
        assert len(base64.b64decode(instance_id)) == 16
    assert len({s for s, _, _ in first}) == 3


async def test_a_stream_the_world_ends_itself(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    """``stream_id`` given and ``ends_with_script=False``: nothing ends when the script does."""
    script = generate_script(seed=1, participants=2, duration=5.0)
    stream = sim.engine.create_stream(
        product=Product.MEETING,
        script=script,
        server_urls=sim.signaling_url(),
        webhook_url=receiver.url,
        stream_id="ab" * 16,
        ends_with_script=False,
    )
    assert stream.stream_id == "ab" * 16
    with pytest.raises(ValueError, match="exists"):
        sim.engine.create_stream(
            product=Product.MEETING, script=script, server_urls=sim.signaling_url(), stream_id="ab" * 16
        )
    joined = await clients.joined(sim, stream, {"audio": None})
    await clock.run_for(12.0, step=0.5)  # more than twice the script
    assert stream.state is StreamState.ACTIVE
    assert not receiver.of("meeting.rtms_stopped")

    sim.engine.terminate(stream, StopReason.HOST_TRIGGERED)
    end = await joined.signaling.expect(StreamStateUpdate, where=_terminated)
    assert end.reason == StopReason.HOST_TRIGGERED
    assert await _stopped_with(receiver, sim, stream) == StopReason.HOST_TRIGGERED


# -- the client loses a connection ------------------------------------------------------------


async def test_client_dropping_signaling_without_close_frame_ends_with_15(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    joined = await clients.joined(sim, stream, {"audio": None})
    await _abort(joined.signaling)
    closed = await sim.journal.wait_for(lambda r: r.kind == "socket_closed" and r.channel == "signaling")
    assert closed.detail == {"clean": False, "by_simulator": False}
    await receiver.wait_for("meeting.rtms_interrupted")
    assert await joined.media["audio"].wait_closed() is None

    await clock.run_for(59.0, step=1.0)
    assert stream.live
    await clock.run_for(1.0, step=1.0)
    assert await _stopped_with(receiver, sim, stream) == StopReason.SIGNAL_CONNECTION_CLOSED_ABNORMALLY


async def test_client_dropping_media_without_close_frame_ends_with_16(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    joined = await clients.joined(sim, stream, {"audio": None})
    await _abort(joined.media["audio"])
    await joined.signaling.expect(
        EventUpdate, where=lambda m: m.event.event_type == EventType.MEDIA_CONNECTION_INTERRUPTED
    )
    await clock.run_for(64.0, step=1.0)
    assert stream.live
    await clock.run_for(1.0, step=1.0)
    end = await joined.signaling.expect(StreamStateUpdate)
    assert (end.state, end.reason) == (StreamState.TERMINATED, StopReason.DATA_CONNECTION_CLOSED_ABNORMALLY)
    assert await _stopped_with(receiver, sim, stream) == StopReason.DATA_CONNECTION_CLOSED_ABNORMALLY


# -- Zoom loses a connection --------------------------------------------------------------------


@pytest.mark.parametrize("close_frame", [False, True], ids=["dropped", "closed"])
async def test_drop_signaling_interrupts_and_ends_with_13(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients, close_frame: bool
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    joined = await clients.joined(sim, stream, {"audio": None, "transcript": None})
    lost_at = clock.epoch_ms()
    sim.engine.drop_signaling(stream, close_frame=close_frame)
    expected_code = 1000 if close_frame else None
    for probe in joined.probes:  # media sockets go the way signaling went
        assert await probe.wait_closed() == expected_code
    interrupted = await receiver.wait_for("meeting.rtms_interrupted")
    verify(sim, interrupted)
    assert stream.state is StreamState.INTERRUPTED
    (fault,) = _faults(sim, stream)
    assert fault.detail == {"fault": "drop_signaling", "close_frame": close_frame}
    assert await audio_frames_in(sim, stream.stream_id, 1.0) == 0

    await clock.run_for(58.0, step=1.0)
    assert stream.live
    await clock.run_for(1.0, step=1.0)
    assert await _stopped_with(receiver, sim, stream) == StopReason.SIGNAL_CONNECTION_INTERRUPTED
    stopped = receiver.of("meeting.rtms_stopped")[0]
    assert stopped.json["event_ts"] == lost_at + 60_000


async def test_a_client_back_after_drop_signaling_keeps_the_stream(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    await clients.joined(sim, stream, {"audio": None})
    sim.engine.drop_signaling(stream, close_frame=False)
    await receiver.wait_for("meeting.rtms_interrupted")
    await clock.run_for(20.0, step=1.0)
    await clients.joined(sim, stream, {"audio": None})
    assert stream.state is StreamState.ACTIVE
    assert await audio_frames_in(sim, stream.stream_id, 1.0) == 50
    await clock.run_for(60.0, step=1.0)
    assert stream.live
    assert not receiver.of("meeting.rtms_stopped")


async def test_drop_media_reports_event_7_and_ends_with_14(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    joined = await clients.joined(sim, stream, {"audio": None, "transcript": None})
    dropped_at = clock.epoch_ms()
    sim.engine.drop_media(stream, MediaType.AUDIO, close_frame=False)
    assert await joined.media["audio"].wait_closed() is None
    notice = await joined.signaling.expect(
        EventUpdate, where=lambda m: m.event.event_type == EventType.MEDIA_CONNECTION_INTERRUPTED
    )
    assert notice.event.timestamp == dropped_at
    assert not joined.media["transcript"].closed
    assert stream.state is StreamState.ACTIVE
    assert not receiver.of("meeting.rtms_interrupted")
    (fault,) = _faults(sim, stream)
    assert fault.detail == {"fault": "drop_media", "media_type": int(MediaType.AUDIO), "close_frame": False}

    await clock.run_for(64.0, step=1.0)
    assert stream.live
    await clock.run_for(1.0, step=1.0)
    end = await joined.signaling.expect(StreamStateUpdate)
    assert (end.state, end.reason) == (StreamState.TERMINATED, StopReason.DATA_CONNECTION_INTERRUPTED)
    assert await _stopped_with(receiver, sim, stream) == StopReason.DATA_CONNECTION_INTERRUPTED


async def test_drop_media_picks_the_first_socket_and_a_reconnect_saves_the_stream(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    joined = await clients.joined(sim, stream, {"audio": None, "transcript": None})
    sim.engine.drop_media(stream, None, close_frame=True)
    assert await joined.media["audio"].wait_closed() == 1000
    await joined.signaling.expect(EventUpdate, where=lambda m: m.event.event_type == 7)

    probe, answer = await joined.join.media(joined.urls["audio"], int(MediaType.AUDIO))
    clients.track(probe)
    assert answer.status_code == 0
    await arrived(sim, stream.stream_id, "DATA_HAND_SHAKE_REQ", count=3)
    assert await audio_frames_in(sim, stream.stream_id, 1.0) == 50
    await clock.run_for(70.0, step=1.0)
    assert stream.live


async def test_drop_media_of_a_type_finds_the_all_socket(
    sim: Simulator, clock: ManualClock, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG)
    joined = await clients.joined(sim, stream, {"all": None})
    sim.engine.drop_media(stream, MediaType.TRANSCRIPT, close_frame=False)
    assert await joined.media["all"].wait_closed() is None
    assert stream.media == {}


async def test_faults_without_their_connection_are_ignored(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    sim.engine.drop_signaling(stream, close_frame=False)
    sim.engine.drop_media(stream, None, close_frame=False)
    assert stream.state is StreamState.INACTIVE
    sim.stop_stream(stream)
    assert sim.engine.failover(stream) == stream.server_urls
    ignored = sim.journal.select(stream_id=stream.stream_id, kind="ignored")
    assert [r.detail["action"] for r in ignored] == ["drop_signaling", "drop_media", "failover"]
    assert not _faults(sim, stream)
    assert not receiver.of("meeting.rtms_interrupted")


# -- failover -----------------------------------------------------------------------------------


async def test_failover_moves_the_stream_to_another_server(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    announced = await receiver.wait_for("meeting.rtms_started")
    joined = await clients.joined(sim, stream, {"audio": None, "transcript": None})

    new_urls = sim.engine.failover(stream)
    assert new_urls == sim.signaling_url().replace("/rtms/signaling", "/r2/rtms/signaling")
    for probe in joined.probes:
        assert await probe.wait_closed() is None  # dropped, so an SDK reconnects
    assert stream.state is StreamState.INTERRUPTED
    (fault,) = _faults(sim, stream)
    assert fault.detail == {
        "fault": "failover",
        "old_server_urls": announced.payload["server_urls"],
        "server_urls": new_urls,
    }

    # Zoom says so with rtms_started for the same stream and new server_urls; no interrupted.
    await _delivered(sim, "meeting.rtms_started", 2)
    again = receiver.of("meeting.rtms_started")[1]
    verify(sim, again)
    assert again.payload["rtms_stream_id"] == stream.stream_id
    assert again.payload["meeting_uuid"] == announced.payload["meeting_uuid"]
    assert again.payload["server_urls"] == new_urls != announced.payload["server_urls"]
    assert not receiver.of("meeting.rtms_interrupted")

    # The failed server no longer knows the stream.
    join = clients.join_for(sim, stream)
    stale = await clients.open(announced.payload["server_urls"])
    await stale.send(join.signaling_req())
    answer = await stale.expect(SignalingHandshakeResp)
    assert answer.status_code == StatusCode.INVALID_RTMS_STREAM_ID
    assert await stale.wait_closed() == 1000

    # The new one does, and its media URLs are on the new server too.
    moved = await clients.joined(sim, stream, {"audio": None, "transcript": None})
    base = new_urls.rsplit("/signaling", 1)[0]
    assert moved.urls == {key: f"{base}/media/{key}" for key in moved.urls}
    assert "/r2/rtms/media/" in moved.urls["audio"]
    assert stream.state.name == "ACTIVE"  # (by name: the state changes across awaits)
    assert await audio_frames_in(sim, stream.stream_id, 1.0) == 50
    await clock.run_for(61.0, step=1.0)
    assert stream.live
    assert not receiver.of("meeting.rtms_stopped")


async def test_failover_nobody_follows_ends_with_19(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    await clients.joined(sim, stream, {"audio": None})
    assert "/r2/" in sim.engine.failover(stream)
    await clock.run_for(30.0, step=1.0)
    third = sim.engine.failover(stream)  # a second failure moves it again, and restarts the window
    assert third == sim.signaling_url().replace("/rtms/signaling", "/r3/rtms/signaling")
    await clock.run_for(59.0, step=1.0)
    assert stream.live
    await clock.run_for(1.0, step=1.0)
    assert await _stopped_with(receiver, sim, stream) == StopReason.AWAIT_RECONNECTION_TIMEOUT
    await _delivered(sim, "meeting.rtms_started", 3)
    assert [d.payload["server_urls"] for d in receiver.of("meeting.rtms_started")][1:] == [
        third.replace("/r3/", "/r2/"),
        third,
    ]


# -- switches ------------------------------------------------------------------------------------


def test_a_scenario_file_s_switches_make_a_config() -> None:
    switches = Switches(
        status_table="legacy",
        duplicate_connection="replace",
        auth_failure="stop",
        keep_alive_misses=2,
        webhook_retries=(10.0, 20.0),
    )
    config = SimulatorConfig.from_switches(switches, seed=9, tls_port=None, keep_alive_misses=5)
    assert config.status_table is StatusTable.LEGACY
    assert config.frame_kind is FrameKind.TEXT
    assert config.duplicate_connection is DuplicatePolicy.REPLACE
    assert config.auth_failure is AuthFailure.STOP
    assert config.webhook_retries == (10.0, 20.0)
    assert (config.seed, config.tls_port, config.keep_alive_misses) == (9, None, 5)  # overrides win
    assert config.lost_connection_stop_reasons == LOST_CONNECTION_STOP_REASONS
    with pytest.raises(ValueError, match="lacks media/client_closed, media/client_dropped"):
        SimulatorConfig(lost_connection_stop_reasons={})


# -- duplicate connections (§10 item 1) ----------------------------------------------------------


async def test_replace_policy_the_newest_signaling_wins(
    make_sim: MakeSim, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    sim = await make_sim(SimulatorConfig(tls_port=None, duplicate_connection=DuplicatePolicy.REPLACE))
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    first = await clients.joined(sim, stream, {"audio": None})
    second = await clients.joined(sim, stream, {"audio": None})

    for probe in first.probes:  # closed gracefully: an SDK does not reconnect (§6.2)
        assert await probe.wait_closed() == 1000
    assert stream.signaling is not None
    assert not stream.signaling.gone
    assert stream.state is StreamState.ACTIVE
    replaced = sim.journal.select(stream_id=stream.stream_id, kind="replaced")
    assert sorted(r.channel for r in replaced) == ["media:audio", "signaling"]
    answers = sim.journal.select(stream_id=stream.stream_id, kind="SIGNALING_HAND_SHAKE_RESP")
    assert [r.detail["status_code"] for r in answers] == [0, 0]

    assert await audio_frames_in(sim, stream.stream_id, 1.0) == 50
    assert len(await second.media["audio"].collect(MediaDataAudio, 50)) == 50
    await clock.run_for(70.0, step=1.0)
    assert stream.live
    assert not receiver.of("meeting.rtms_interrupted")
    assert not receiver.of("meeting.rtms_stopped")


async def test_replace_policy_a_second_socket_of_a_type_replaces_the_first(
    make_sim: MakeSim, clock: ManualClock, clients: Clients
) -> None:
    sim = await make_sim(SimulatorConfig(tls_port=None, duplicate_connection=DuplicatePolicy.REPLACE))
    stream = sim.start_stream(duration=LONG)
    joined = await clients.joined(sim, stream, {"audio": None})
    probe, answer = await joined.join.media(joined.urls["audio"], int(MediaType.AUDIO))
    clients.track(probe)
    assert answer.status_code == 0
    assert await joined.media["audio"].wait_closed() == 1000
    assert stream.media[MediaType.AUDIO].stream_id == stream.stream_id
    assert not stream.media[MediaType.AUDIO].gone
    assert EventType.MEDIA_CONNECTION_INTERRUPTED not in await _events_so_far(joined.signaling, stream)
    assert await audio_frames_in(sim, stream.stream_id, 1.0) == 50
    assert len(await probe.collect(MediaDataAudio, 50)) == 50
    await clock.run_for(70.0, step=1.0)
    assert stream.live


# -- authentication failure (§10 item 2, field report F1) ---------------------------------------


@pytest.mark.parametrize("wrong", ["signature", "app"])
async def test_stop_policy_a_wrong_signature_ends_the_stream_with_18(
    make_sim: MakeSim, clock: ManualClock, receiver: WebhookReceiver, clients: Clients, wrong: str
) -> None:
    sim = await make_sim(SimulatorConfig(tls_port=None, auth_failure=AuthFailure.STOP))
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    join = clients.join_for(sim, stream)
    probe = await clients.open(join.server_urls)
    if wrong == "app":  # the development app's credentials used for the production app's stream
        join = Join.from_payload(
            sim.started_payload(stream), client_id="dev-client", client_secret="dev-secret"
        )
        await probe.send(join.signaling_req())
    else:
        await probe.send(join.signaling_req(signature="0" * 64))
    assert await probe.until_closed() == []  # no handshake response at all
    assert probe.close_code == 1000
    assert await _stopped_with(receiver, sim, stream) == StopReason.AUTHENTICATION_FAILURE
    assert stream.state is StreamState.TERMINATED
    assert not sim.journal.select(kind="SIGNALING_HAND_SHAKE_RESP")
    (note,) = sim.journal.select(stream_id=stream.stream_id, kind="auth_failure")
    assert note.detail == {"policy": "stop"}


async def test_stop_policy_a_bad_media_handshake_ends_a_joined_stream(
    make_sim: MakeSim, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    sim = await make_sim(SimulatorConfig(tls_port=None, auth_failure=AuthFailure.STOP))
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    joined = await clients.joined(sim, stream, {"audio": None})
    probe = await clients.open(joined.urls["transcript"])
    await probe.send(joined.join.data_req(int(MediaType.TRANSCRIPT), signature="f" * 64))
    assert await probe.until_closed() == []
    end = await joined.signaling.expect(StreamStateUpdate, where=_terminated)
    assert end.reason == StopReason.AUTHENTICATION_FAILURE
    assert await _stopped_with(receiver, sim, stream) == StopReason.AUTHENTICATION_FAILURE


# -- participants driven from outside the script --------------------------------------------------


async def test_participants_joining_and_leaving_from_outside(
    sim: Simulator, clock: ManualClock, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, participants=2)
    scripted = [(p.user_id, p.user_name) for p in stream.script.participants]
    sim.engine.participant_joined(stream, 777001, "Early Guest")  # before anyone is told
    joined = await clients.joined(
        sim, stream, events=(EventType.PARTICIPANT_JOIN, EventType.PARTICIPANT_LEAVE)
    )

    def people(update: EventUpdate) -> list[tuple[object, object]]:
        assert not isinstance(update.event.participants, UnsetType)
        return [(p.user_id, p.user_name) for p in update.event.participants]

    present = await joined.signaling.expect(EventUpdate, where=lambda m: m.event.event_type == 3)
    assert people(present) == [*scripted, (777001, "Early Guest")]

    sim.engine.participant_joined(stream, 777002, "Late Guest")
    came = await joined.signaling.expect(EventUpdate, where=lambda m: m.event.event_type == 3)
    assert people(came) == [(777002, "Late Guest")]
    assert came.event.timestamp == clock.epoch_ms()
    sim.engine.participant_joined(stream, 777002, "Late Guest")  # already announced: not again

    sim.engine.participant_left(stream, 777001)
    sim.engine.participant_left(stream, scripted[0][0])  # a scripted participant, sent away
    left = await joined.signaling.collect(EventUpdate, 2)
    assert [(m.event.event_type, people(m)) for m in left] == [
        (EventType.PARTICIPANT_LEAVE, [(777001, UNSET)]),  # a leave carries the id only
        (EventType.PARTICIPANT_LEAVE, [(scripted[0][0], UNSET)]),
    ]
    assert await _events_so_far(joined.signaling, stream) == []
    notes = sim.journal.select(stream_id=stream.stream_id, channel="control", kind="participant_joined")
    assert [r.detail for r in notes] == [
        {"user_id": 777001, "user_name": "Early Guest"},
        {"user_id": 777002, "user_name": "Late Guest"},
        {"user_id": 777002, "user_name": "Late Guest"},
    ]


async def test_participant_events_need_a_subscription(
    sim: Simulator, clock: ManualClock, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, participants=2)
    joined = await clients.joined(sim, stream, events=(EventType.ACTIVE_SPEAKER_CHANGE,))
    sim.engine.participant_joined(stream, 777003, "Unheard")
    sim.engine.participant_left(stream, 777003)
    await settle()
    assert not [t for t in await _events_so_far(joined.signaling, stream) if t in (3, 4)]
    sim.stop_stream(stream)
    sim.engine.participant_joined(stream, 777004, "Too Late")
    ignored = sim.journal.select(stream_id=stream.stream_id, kind="ignored")
    assert [r.detail["action"] for r in ignored] == ["participant_joined"]
