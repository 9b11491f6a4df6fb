"""Keep-alives (§4.11): Zoom asks on every socket every 10 s; three unanswered end the socket.

Zoom sends KEEP_ALIVE_REQ with an integer ``timestamp`` (epoch ms) and ``sequence`` on
signaling and on every media socket every 10 s, and expects the timestamp echoed on the same
socket. Three requests unanswered on signaling: Zoom drops signaling and media (no close
frame), posts ``*.rtms_interrupted``, waits 60 s for a new handshake, then ends the stream
with KEEP_ALIVE_TIMEOUT (24). On a media socket: that socket goes, EVENT_UPDATE
MEDIA_CONNECTION_INTERRUPTED (7) on signaling, 65 s, then 24.

Time moves through :meth:`Target.pass_time` (a manual clock on the simulator, real time on
Zoom). Between steps a contract waits until the target has read the answers it sent
(:meth:`Target.received`, a no-op without a journal), so an answer is never judged late
because the clock outran the socket. The exact instants (the 40th second, the 60 s and 65 s
windows) are asserted only where the target's clock is the suite's (``Capability.CLOCK``).
"""

from __future__ import annotations

import itertools

import pytest

from . import wire
from .inbox import Delivery
from .probe import Joined, Message, Probe
from .target import Capability, Stream, Target

INTERVAL = 10.0  # seconds between two KEEP_ALIVE_REQ on one socket (§4.11)
MISSES = 3  # unanswered requests that end a socket
SIGNALING_WINDOW = 60.0  # seconds Zoom waits for a new signaling handshake
MEDIA_WINDOW = 65.0  # seconds Zoom waits for a lost media socket
MEDIA = {"audio": None, "transcript": None}
KEEP_ALIVE_TIMEOUT = 24  # stop reason (§5.3)


async def _ready_at(joined: Joined) -> int:
    """The epoch ms the stream started for this client (EVENT_UPDATE FIRST_PACKET_TIMESTAMP)."""
    first = await joined.signaling.expect(
        wire.MSG["EVENT_UPDATE"],
        where=lambda m: m["event"]["event_type"] == wire.EVENT["FIRST_PACKET_TIMESTAMP"],
    )
    timestamp: int = first["event"]["timestamp"]
    return timestamp


async def _rounds(target: Target, stream: Stream, joined: Joined, rounds: int) -> None:
    """Let ``rounds`` keep-alive intervals pass, each request seen (and answered) on every socket."""
    answering = [p for p in joined.probes if p.answer_keep_alives]
    for n in range(1, rounds + 1):
        await target.pass_time(INTERVAL)
        for probe in joined.probes:
            await probe.wait_keep_alives(n)
        await target.received(stream, "KEEP_ALIVE_RESP", count=n * len(answering))


async def _stream_state(signaling: Probe, stream: Stream) -> int:
    """STREAM_STATE_REQ round trip (§4.13): the state, and proof that signaling is still open."""
    await signaling.send({"msg_type": wire.MSG["STREAM_STATE_REQ"], "rtms_stream_id": stream.stream_id})
    state: int = (await signaling.expect(wire.MSG["STREAM_STATE_RESP"]))["state"]
    return state


def _interval_ms(requests: list[Message]) -> list[int]:
    stamps = [r["timestamp"] for r in requests]
    return [b - a for a, b in itertools.pairwise(stamps)]


async def _webhook(target: Target, event: str, stream: Stream) -> Delivery:
    return await target.inbox.wait_for(event, stream_id=stream.stream_id, timeout=target.webhook_timeout)


# -- requests and answers --------------------------------------------------------------------


async def test_requests_come_every_ten_seconds_on_every_socket(target: Target, stream: Stream) -> None:
    """Signaling and each media socket get their own KEEP_ALIVE_REQ every 10 s, with an integer
    ``timestamp`` (epoch ms) and an increasing integer ``sequence`` (§4.11; the SDK ignores a
    request without ``sequence``)."""
    joined = await target.joined(stream, MEDIA)
    await _rounds(target, stream, joined, 3)
    for probe in joined.probes:
        requests = probe.keep_alives
        assert len(requests) == 3, f"{probe.role}: {len(requests)} KEEP_ALIVE_REQ in 30 s"
        for request in requests:
            assert type(request.get("timestamp")) is int, (
                f"{probe.role}: timestamp {request.get('timestamp')!r}"
            )
            assert type(request.get("sequence")) is int, f"{probe.role}: sequence {request.get('sequence')!r}"
            assert request["timestamp"] > 10**12, "timestamp must be epoch milliseconds"
        sequences = [r["sequence"] for r in requests]
        assert sequences == sorted(set(sequences)), f"{probe.role}: sequence {sequences} does not increase"
        assert all(8_000 <= gap <= 12_000 for gap in _interval_ms(requests)), _interval_ms(requests)


@pytest.mark.needs(Capability.CLOCK)
async def test_requests_fall_exactly_on_the_interval(target: Target, stream: Stream) -> None:
    """On the suite's clock: the n-th request on each socket carries ``sequence`` n and the
    timestamp of the n-th 10 s mark after the sockets opened."""
    joined = await target.joined(stream, MEDIA)
    ready = await _ready_at(joined)
    await _rounds(target, stream, joined, 3)
    for probe in joined.probes:
        assert [(r["sequence"], r["timestamp"]) for r in probe.keep_alives] == [
            (n, ready + n * 10_000) for n in (1, 2, 3)
        ], probe.role


async def test_answered_keep_alives_keep_the_stream(target: Target, stream: Stream) -> None:
    """Six rounds answered (twice what would end a socket): every socket open, the stream
    ACTIVE, no interruption, audio still flowing (§4.11)."""
    joined = await target.joined(stream, MEDIA)
    await _rounds(target, stream, joined, 6)
    for probe in joined.probes:
        assert not probe.closed, f"the {probe.role} socket closed though its keep-alives were answered"
    assert await _stream_state(joined.signaling, stream) == wire.STREAM_STATE["ACTIVE"]
    assert not target.inbox.of("meeting.rtms_interrupted", stream_id=stream.stream_id)
    assert not target.inbox.of("meeting.rtms_stopped", stream_id=stream.stream_id)
    await target.pass_time(1.0)
    await joined.media["audio"].expect(wire.MSG["MEDIA_DATA_AUDIO"])


async def test_an_answer_with_another_timestamp_is_no_answer(target: Target, stream: Stream) -> None:
    """The answer must echo the request's ``timestamp`` (§4.11): three answers with a wrong one
    are three misses, and signaling goes as if nothing had been answered."""
    joined = await target.joined(stream, {})
    signaling = joined.signaling
    signaling.answer_keep_alives = False
    for n in range(1, MISSES + 1):
        await target.pass_time(INTERVAL)
        request = (await signaling.wait_keep_alives(n))[-1]
        await signaling.send(
            {
                "msg_type": wire.MSG["KEEP_ALIVE_RESP"],
                "timestamp": request["timestamp"] + 1,
                "sequence": request["sequence"],
            }
        )
        await target.received(stream, "KEEP_ALIVE_RESP", count=n)
    await target.pass_time(INTERVAL)
    assert await signaling.wait_closed() is None
    await _webhook(target, "meeting.rtms_interrupted", stream)


# -- three misses ----------------------------------------------------------------------------


async def test_three_misses_on_signaling_interrupt_then_stop_with_24(target: Target, stream: Stream) -> None:
    """Signaling unanswered three times: every socket dropped without a close frame (so an SDK
    reconnects), ``meeting.rtms_interrupted``; nobody back within the window: stop reason 24."""
    joined = await target.joined(stream, MEDIA)
    joined.signaling.answer_keep_alives = False
    await _rounds(target, stream, joined, MISSES)
    await target.pass_time(INTERVAL)
    for probe in joined.probes:
        assert await probe.wait_closed() is None, f"the {probe.role} socket got a close frame"
    interrupted = await _webhook(target, "meeting.rtms_interrupted", stream)
    assert interrupted.payload[stream.id_key] == stream.instance_id

    await target.pass_time(SIGNALING_WINDOW)
    stopped = await _webhook(target, "meeting.rtms_stopped", stream)
    assert stopped.payload["stop_reason"] == KEEP_ALIVE_TIMEOUT


@pytest.mark.needs(Capability.CLOCK)
async def test_signaling_misses_are_judged_at_the_fourth_tick_and_wait_60s(
    target: Target, stream: Stream
) -> None:
    """The verdict falls on the 40th second (the tick after three unanswered requests); the
    stream ends 60 s later, not a second earlier."""
    joined = await target.joined(stream, MEDIA)
    ready = await _ready_at(joined)
    joined.signaling.answer_keep_alives = False
    await _rounds(target, stream, joined, MISSES)
    await target.pass_time(INTERVAL - 1)
    assert await _stream_state(joined.signaling, stream) == wire.STREAM_STATE["ACTIVE"]  # still open at 39 s
    await target.pass_time(1.0)
    assert await joined.signaling.wait_closed() is None
    interrupted = await _webhook(target, "meeting.rtms_interrupted", stream)
    assert interrupted.json["event_ts"] == ready + 40_000

    await target.pass_time(SIGNALING_WINDOW - 1)
    assert not target.inbox.of("meeting.rtms_stopped", stream_id=stream.stream_id)
    await target.pass_time(1.0)
    stopped = await _webhook(target, "meeting.rtms_stopped", stream)
    assert stopped.json["event_ts"] == ready + 100_000
    assert stopped.payload["stop_reason"] == KEEP_ALIVE_TIMEOUT


async def test_three_misses_on_a_media_socket_are_told_on_signaling(target: Target, stream: Stream) -> None:
    """A media socket unanswered three times goes (no close frame) and signaling hears
    EVENT_UPDATE MEDIA_CONNECTION_INTERRUPTED (7); the stream is not interrupted, the other
    sockets stay (§4.11, §4.6)."""
    joined = await target.joined(stream, MEDIA)
    silent, other = joined.media["transcript"], joined.media["audio"]
    silent.answer_keep_alives = False
    await _rounds(target, stream, joined, MISSES)
    await target.pass_time(INTERVAL)
    assert await silent.wait_closed() is None
    notice = await joined.signaling.expect(
        wire.MSG["EVENT_UPDATE"],
        where=lambda m: m["event"]["event_type"] == wire.EVENT["MEDIA_CONNECTION_INTERRUPTED"],
    )
    assert "content" not in notice
    assert type(notice["event"]["timestamp"]) is int
    assert await _stream_state(joined.signaling, stream) == wire.STREAM_STATE["ACTIVE"]
    assert not other.closed
    assert not target.inbox.of("meeting.rtms_interrupted", stream_id=stream.stream_id)


@pytest.mark.needs(Capability.CLOCK)
async def test_a_media_socket_not_back_in_65s_stops_the_stream_with_24(
    target: Target, stream: Stream
) -> None:
    """Event 7 at the 40th second; 65 s later (not 64) the stream ends with 24: TERMINATED on
    signaling, a close frame, ``meeting.rtms_stopped``."""
    joined = await target.joined(stream, {"transcript": None})
    ready = await _ready_at(joined)
    joined.media["transcript"].answer_keep_alives = False
    await _rounds(target, stream, joined, MISSES)
    await target.pass_time(INTERVAL)
    notice = await joined.signaling.expect(
        wire.MSG["EVENT_UPDATE"],
        where=lambda m: m["event"]["event_type"] == wire.EVENT["MEDIA_CONNECTION_INTERRUPTED"],
    )
    assert notice["event"]["timestamp"] == ready + 40_000

    await target.pass_time(MEDIA_WINDOW - 1)
    assert await _stream_state(joined.signaling, stream) == wire.STREAM_STATE["ACTIVE"]
    await target.pass_time(1.0)
    end = await joined.signaling.expect(
        wire.MSG["STREAM_STATE_UPDATE"], where=lambda m: m["state"] == wire.STREAM_STATE["TERMINATED"]
    )
    assert end["reason"] == KEEP_ALIVE_TIMEOUT
    assert await joined.signaling.wait_closed() == 1000
    stopped = await _webhook(target, "meeting.rtms_stopped", stream)
    assert stopped.payload["stop_reason"] == KEEP_ALIVE_TIMEOUT
    assert stopped.json["event_ts"] == ready + 105_000
