"""Sockets the client loses (§4.11, §7.1, §9.2): interruption, reconnection windows, the end.

A lost signaling socket interrupts the whole stream (``*.rtms_interrupted``) for 60 s; a lost
media socket is reported on signaling (EVENT_UPDATE 7) and waited for 65 s. A client that closed
its socket with a close frame and does not come back in time ends the stream with
AWAIT_RECONNECTION_TIMEOUT (19). The reason is looked up in
``SimulatorConfig.lost_connection_stop_reasons`` (sockets dropped without a close frame, and
Zoom-side faults, end with other reasons: ``test_faults.py``).
"""

from __future__ import annotations

from msgspec import UnsetType

from connector.protocol import (
    EventType,
    EventUpdate,
    MediaDataAudio,
    MediaType,
    StopReason,
    StreamState,
    StreamStateReq,
    StreamStateResp,
    StreamStateUpdate,
)
from simulator.clock import ManualClock
from simulator.config import LOST_CONNECTION_STOP_REASONS, Loss, PeerKind, SimulatorConfig
from simulator.server import Simulator

from .conftest import MakeSim
from .harness import Clients, arrived, audio_frames_in, verify
from .receiver import WebhookReceiver

LONG = 300.0


def _people(update: EventUpdate) -> list[tuple[object, object]]:
    participants = update.event.participants
    assert not isinstance(participants, UnsetType)
    return [(p.user_id, p.user_name) for p in participants]


async def test_signaling_closed_by_client_then_reconnected(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    first = await clients.joined(sim, stream, {"audio": None})
    assert await audio_frames_in(sim, stream.stream_id, 1.0) == 50

    await first.signaling.close()  # a close frame: the client left on purpose
    closed = await sim.journal.wait_for(lambda r: r.kind == "socket_closed" and r.channel == "signaling")
    assert closed.detail == {"clean": True, "by_simulator": False}
    interrupted = await receiver.wait_for("meeting.rtms_interrupted")
    verify(sim, interrupted)
    assert interrupted.payload["rtms_stream_id"] == stream.stream_id
    assert await first.media["audio"].wait_closed() is None  # media goes with signaling, dropped
    assert stream.state.name == "INTERRUPTED"  # (by name: the state changes across awaits)
    assert await audio_frames_in(sim, stream.stream_id, 10.0) == 0

    again = await clients.joined(sim, stream, {"audio": None})
    active = await again.signaling.expect(StreamStateUpdate)
    assert active.state == StreamState.ACTIVE
    # Audio resumes at one frame per 20 ms on the new socket, on the stream's timeline.
    assert await audio_frames_in(sim, stream.stream_id, 1.0) == 50
    frames = await again.media["audio"].collect(MediaDataAudio, 50)
    stamps = [f.content.timestamp for f in frames if isinstance(f.content.timestamp, int)]
    assert stamps == list(range(stamps[0], stamps[0] + 50 * 20, 20))
    ready = sim.journal.select(stream_id=stream.stream_id, kind="CLIENT_READY_ACK")[0]
    assert (stamps[0] - ready.epoch_ms) % 20 == 0  # still on the grid the stream started

    await clock.run_for(61.0, step=1.0)
    assert not receiver.of("meeting.rtms_stopped")
    assert stream.state is StreamState.ACTIVE


async def test_signaling_lost_and_not_reconnected_stops_with_19(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    joined = await clients.joined(sim, stream, {"transcript": None})
    await clock.run_for(5.0, step=1.0)
    lost_at = clock.epoch_ms()
    await joined.signaling.close(1001)
    await receiver.wait_for("meeting.rtms_interrupted")

    await clock.run_for(59.0, step=1.0)
    assert stream.live
    await clock.run_for(1.0, step=1.0)
    stopped = await receiver.wait_for("meeting.rtms_stopped")
    verify(sim, stopped)
    assert stopped.payload["stop_reason"] == StopReason.AWAIT_RECONNECTION_TIMEOUT
    assert stopped.json["event_ts"] == lost_at + 60_000
    assert await sim.wait_ended(stream) == StopReason.AWAIT_RECONNECTION_TIMEOUT


async def test_signaling_lost_before_ready_is_an_interruption(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    """A client that shook hands and vanished before CLIENT_READY_ACK still gets a verdict."""
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    joined = await clients.joined(sim, stream, ready=False)
    await arrived(sim, stream.stream_id, "SIGNALING_HAND_SHAKE_REQ")
    await joined.signaling.close()
    await receiver.wait_for("meeting.rtms_interrupted")
    assert stream.state is StreamState.INTERRUPTED

    await clock.run_for(60.0, step=1.0)
    stopped = await receiver.wait_for("meeting.rtms_stopped")
    assert stopped.payload["stop_reason"] == StopReason.AWAIT_RECONNECTION_TIMEOUT


async def test_never_connecting_stops_with_connection_timeout(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    await clock.run_for(59.0, step=1.0)
    assert stream.live
    await clock.run_for(1.0, step=1.0)
    stopped = await receiver.wait_for("meeting.rtms_stopped")
    assert stopped.payload["stop_reason"] == StopReason.CONNECTION_TIMEOUT


async def test_media_socket_drop_is_reported_on_signaling(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    joined = await clients.joined(sim, stream, {"audio": None, "transcript": None})
    await clock.run_for(2.0, step=0.1)
    dropped_at = clock.epoch_ms()

    await joined.media["audio"].close()
    notice = await joined.signaling.expect(
        EventUpdate, where=lambda m: m.event.event_type == EventType.MEDIA_CONNECTION_INTERRUPTED
    )
    assert notice.event.timestamp == dropped_at
    assert stream.state is StreamState.ACTIVE
    assert MediaType.AUDIO not in stream.media
    assert not receiver.of("meeting.rtms_interrupted")  # only signaling loss interrupts the stream
    assert await audio_frames_in(sim, stream.stream_id, 1.0) == 0

    # The audio socket comes back inside its 65 s window: audio resumes, the stream lives on.
    probe, answer = await joined.join.media(joined.urls["audio"], int(MediaType.AUDIO))
    clients.track(probe)
    assert answer.status_code == 0
    await arrived(sim, stream.stream_id, "DATA_HAND_SHAKE_REQ", count=3)
    assert await audio_frames_in(sim, stream.stream_id, 1.0) == 50
    await clock.run_for(70.0, step=1.0)
    assert stream.live
    assert not receiver.of("meeting.rtms_stopped")


async def test_media_socket_not_back_in_65s_stops_with_19(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    joined = await clients.joined(sim, stream, {"transcript": None})
    lost_at = clock.epoch_ms()
    await joined.media["transcript"].close()
    await joined.signaling.expect(EventUpdate, where=lambda m: m.event.event_type == 7)

    await clock.run_for(64.0, step=1.0)
    assert stream.live
    await clock.run_for(1.0, step=1.0)
    stopped = await receiver.wait_for("meeting.rtms_stopped")
    assert stopped.payload["stop_reason"] == StopReason.AWAIT_RECONNECTION_TIMEOUT
    assert stopped.json["event_ts"] == lost_at + 65_000
    end = await joined.signaling.expect(StreamStateUpdate)
    assert (end.state, end.reason) == (StreamState.TERMINATED, StopReason.AWAIT_RECONNECTION_TIMEOUT)
    assert await joined.signaling.wait_closed() == 1000


async def test_simulator_drop_closes_without_close_frames(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    """``drop_connections`` cuts TCP with no close frame, as Zoom does to provoke a reconnect."""
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    joined = await clients.joined(sim, stream, {"audio": None})
    sim.engine.drop_connections(stream)
    assert await joined.signaling.wait_closed() is None
    assert await joined.media["audio"].wait_closed() is None
    # Dropped by the simulator itself: no interruption of its own making is reported.
    closed = await sim.journal.wait_for(lambda r: r.kind == "socket_closed" and r.channel == "signaling")
    assert closed.detail["by_simulator"] is True


async def test_a_reconnected_client_is_told_who_is_present(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    """Subscriptions and the participant list belong to a signaling connection, not the stream.

    A client that reconnects (the SDK re-runs its whole join, §6.2) subscribes again and must
    learn who is in the meeting again; and it gets no events it did not ask for.
    """
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url, participants=2)
    names = [(p.user_id, p.user_name) for p in stream.script.participants]
    first = await clients.joined(
        sim, stream, events=(EventType.PARTICIPANT_JOIN, EventType.ACTIVE_SPEAKER_CHANGE)
    )
    present = await first.signaling.expect(EventUpdate, where=lambda m: m.event.event_type == 3)
    assert _people(present) == names
    await first.signaling.close()
    await receiver.wait_for("meeting.rtms_interrupted")

    again = await clients.joined(sim, stream, events=(EventType.PARTICIPANT_JOIN,))
    present = await again.signaling.expect(EventUpdate, where=lambda m: m.event.event_type == 3)
    assert _people(present) == names

    await clock.run_for(30.0, step=0.5)
    await again.signaling.send(StreamStateReq(rtms_stream_id=stream.stream_id))
    await again.signaling.expect(StreamStateResp)  # everything sent before it has arrived
    speakers = [m for m in again.signaling.queued() if isinstance(m, EventUpdate) and m.event.event_type == 2]
    assert speakers == []  # the new connection subscribed to joins only


async def test_the_stop_reason_of_a_lost_connection_is_configuration(
    make_sim: MakeSim, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    """Which reason Zoom sends when a window expires is unconfirmed, so it is a table (§5.3)."""
    table = {**LOST_CONNECTION_STOP_REASONS, (PeerKind.SIGNALING, Loss.CLIENT_CLOSED): StopReason.EXIT_SIGNAL}
    sim = await make_sim(SimulatorConfig(tls_port=None, lost_connection_stop_reasons=table))
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    joined = await clients.joined(sim, stream)
    await joined.signaling.close()
    await receiver.wait_for("meeting.rtms_interrupted")
    await clock.run_for(60.0, step=1.0)
    stopped = await receiver.wait_for("meeting.rtms_stopped")
    assert stopped.payload["stop_reason"] == StopReason.EXIT_SIGNAL
