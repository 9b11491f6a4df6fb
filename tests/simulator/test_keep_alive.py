"""Keep-alives (§4.11): a request every 10 s on every socket, 3 misses interrupt, 24 ends.

Scenario time moves in whole seconds so keep-alives fall exactly on their deadlines.
"""

from __future__ import annotations

from collections.abc import Callable

from connector.protocol import (
    EventType,
    EventUpdate,
    KeepAliveResp,
    MediaDataTranscript,
    MessageType,
    StopReason,
    StreamState,
)
from simulator.clock import ManualClock
from simulator.journal import Record
from simulator.server import Simulator

from .harness import Clients, verify
from .receiver import WebhookReceiver

LONG = 300.0  # the meeting outlasts every window in these tests


def _answered(channel: str, *, sequence: int) -> Callable[[Record], bool]:
    def match(r: Record) -> bool:
        return (
            r.channel == channel
            and r.kind == MessageType.KEEP_ALIVE_RESP.name
            and r.detail.get("sequence") == sequence
        )

    return match


async def test_requests_every_ten_seconds_on_every_socket(
    sim: Simulator, clock: ManualClock, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG)
    joined = await clients.joined(sim, stream, {"transcript": None, "chat": None})
    start = clock.epoch_ms()

    await clock.run_for(35.0, step=1.0)
    for probe in joined.probes:
        requests = await probe.wait_keep_alives(3)
        assert [(r.sequence, r.timestamp) for r in requests] == [
            (1, start + 10_000),
            (2, start + 20_000),
            (3, start + 30_000),
        ]
    # Every answer reached the simulator on the socket it belongs to.
    for channel in ("signaling", "media:transcript", "media:chat"):
        await sim.journal.wait_for(_answered(channel, sequence=3))

    await clock.run_for(35.0, step=1.0)  # well past three intervals: answered, so no timeout
    for probe in joined.probes:
        assert [r.sequence for r in await probe.wait_keep_alives(7)] == [1, 2, 3, 4, 5, 6, 7]
        assert not probe.closed
    assert not sim.journal.select(kind="keep_alive_timeout")
    assert not sim.journal.select(kind="keep_alive_mismatch")
    assert stream.state is StreamState.ACTIVE


async def test_a_wrong_timestamp_does_not_answer(
    sim: Simulator, clock: ManualClock, clients: Clients
) -> None:
    """The response must echo the request's ``timestamp`` (§4.11)."""
    stream = sim.start_stream(duration=LONG)
    joined = await clients.joined(sim, stream)
    joined.signaling.answer_keep_alives = False
    await clock.run_for(10.0, step=1.0)
    (request,) = await joined.signaling.wait_keep_alives(1)
    await joined.signaling.send(KeepAliveResp(timestamp=request.timestamp + 1, sequence=request.sequence))
    record = await sim.journal.wait_for(lambda r: r.kind == "keep_alive_mismatch")
    assert record.detail == {"timestamp": request.timestamp + 1}
    await clock.run_for(30.0, step=1.0)
    await sim.journal.wait_for(lambda r: r.kind == "keep_alive_timeout")


async def test_unanswered_signaling_interrupts_then_stops_with_24(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    joined = await clients.joined(sim, stream, {"transcript": None})
    joined.signaling.answer_keep_alives = False
    start = clock.epoch_ms()

    await clock.run_for(39.0, step=1.0)  # three requests, all unanswered, no verdict yet
    assert len(await joined.signaling.wait_keep_alives(3)) == 3
    assert not sim.journal.select(kind="keep_alive_timeout")
    assert stream.state.name == "ACTIVE"  # (by name: the state changes across awaits)

    await clock.run_for(1.0, step=1.0)  # the fourth tick finds three misses
    timeout = await sim.journal.wait_for(lambda r: r.kind == "keep_alive_timeout")
    assert (timeout.t, timeout.channel, timeout.detail) == (40.0, "signaling", {"misses": 3})
    # Every socket is dropped without a close frame, so an SDK would reconnect (§9.1 point 8).
    assert await joined.signaling.wait_closed() is None
    assert await joined.media["transcript"].wait_closed() is None
    interrupted = await receiver.wait_for("meeting.rtms_interrupted")
    verify(sim, interrupted)
    assert interrupted.payload == {"meeting_uuid": stream.instance_id, "rtms_stream_id": stream.stream_id}
    assert interrupted.json["event_ts"] == start + 40_000
    assert stream.state.name == "INTERRUPTED"

    await clock.run_for(59.0, step=1.0)
    assert stream.live
    assert not receiver.of("meeting.rtms_stopped")
    await clock.run_for(1.0, step=1.0)  # the 60 s reconnection window closes
    stopped = await receiver.wait_for("meeting.rtms_stopped")
    verify(sim, stopped)
    assert stopped.payload["stop_reason"] == StopReason.KEEP_ALIVE_TIMEOUT
    assert stopped.json["event_ts"] == start + 100_000
    assert stream.state is StreamState.TERMINATED


async def test_signaling_reconnect_inside_the_window_keeps_the_stream(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    first = await clients.joined(sim, stream, {"transcript": None})
    first.signaling.answer_keep_alives = False
    await clock.run_for(40.0, step=1.0)
    await receiver.wait_for("meeting.rtms_interrupted")
    await clock.run_for(30.0, step=1.0)

    # A new handshake, 30 s into the 60 s window: accepted, and the stream is active again.
    again = await clients.joined(sim, stream, {"transcript": None})
    resumed = await again.signaling.expect(EventUpdate)
    assert resumed.event.event_type == EventType.FIRST_PACKET_TIMESTAMP
    assert stream.state is StreamState.ACTIVE
    answers = sim.journal.select(stream_id=stream.stream_id, kind="SIGNALING_HAND_SHAKE_RESP")
    assert [r.detail["status_code"] for r in answers] == [0, 0]

    await clock.run_for(70.0, step=1.0)  # past where the window would have closed
    assert not receiver.of("meeting.rtms_stopped")
    assert stream.state is StreamState.ACTIVE
    text = await again.media["transcript"].expect(MediaDataTranscript)
    assert text.content.data in {u.text for u in stream.script.utterances}
    assert not sim.journal.select(kind="keep_alive_timeout", channel="media")


async def test_unanswered_media_keep_alives_interrupt_that_socket(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, webhook_url=receiver.url)
    joined = await clients.joined(sim, stream, {"transcript": None})
    joined.media["transcript"].answer_keep_alives = False
    start = clock.epoch_ms()

    await clock.run_for(40.0, step=1.0)
    timeout = await sim.journal.wait_for(lambda r: r.kind == "keep_alive_timeout")
    assert timeout.channel == "media:transcript"
    assert await joined.media["transcript"].wait_closed() is None
    notice = await joined.signaling.expect(EventUpdate, where=lambda m: m.event.event_type == 7)
    assert notice.event.timestamp == start + 40_000
    assert not joined.signaling.closed
    assert not receiver.of("meeting.rtms_interrupted")

    await clock.run_for(64.0, step=1.0)
    assert stream.live
    await clock.run_for(1.0, step=1.0)  # the media window is 65 s
    stopped = await receiver.wait_for("meeting.rtms_stopped")
    assert stopped.payload["stop_reason"] == StopReason.KEEP_ALIVE_TIMEOUT
    assert stopped.json["event_ts"] == start + 105_000
    assert await joined.signaling.wait_closed() == 1000
