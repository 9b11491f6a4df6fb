"""Zoom's official SDK (``rtms`` 1.1.0) as a client of the target: the simulator speaks Zoom.

A client nobody here wrote joins over ``ws://`` (in-process target) or ``wss://`` (server
target, the simulator's CA trusted through ``ZM_RTMS_CA``, docs/protocol.md §6.6) and must
get ``on_join_confirm(0)`` (§6.1), one media socket per type (§6.4), the session start
(§4.9), audio and transcripts naming the participants that the signaling events announced
(§4.6, §4.12), H.264 video and screen share with the SDK's defaults (§6.4, §5.7), keep-alives
it answers round after round (§4.11), ``on_leave`` with the stop reason (§4.8, §6.1), and a
fresh full join after an abrupt loss of the signaling socket (§6.2).

The SDK is judged by its callbacks; the target by its journal. Target time moves only through
``target.pass_time``; the test waits on the SDK's callbacks and on journal records, bounded.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from .. import wire
from ..target import Capability, Stream, Target
from .conftest import Event, Sdk, SdkProcess, journal_until

pytestmark = [pytest.mark.interop, pytest.mark.needs(Capability.CLOCK, Capability.JOURNAL)]

# L16, 16 kHz, mono, 20 ms, one stream per speaker (data_opt 2) so each frame names its speaker.
L16_PER_SPEAKER = {
    "content_type": 2,
    "codec": 1,
    "sample_rate": 1,
    "channel": 1,
    "data_opt": 2,
    "duration": 20,
    "frame_size": 320,
}
L16_FRAME_BYTES = 640  # 20 ms of 16-bit mono at 16 kHz
FRAME_MS = 20
SESSION_EVENT_ADD = 1  # rtms.SESSION_EVENT_ADD: what the SDK makes of state STARTED (§4.9)
USER_JOIN = 0  # rtms.USER_JOIN
H264 = 7  # codec (§5.7)
HD = 2  # resolution (§5.8)
ANNEX_B = ("00000001", "000001")  # H.264 start codes (§4.12: frames are Annex B byte streams)
KEEP_ALIVE_ROUNDS = 4  # more than the three misses after which Zoom gives up (§4.11)
USER_TRIGGERED = 2  # a stop reason no other path in these tests produces (§5.3)
MEETING_ENDED = 6


async def _joined(target: Target, stream: Stream, sdk: SdkProcess) -> dict[str, Any]:
    """Wait for ``on_join_confirm`` (which must be 0) and the target's CLIENT_READY_ACK record.

    The SDK subscribes to events right after CLIENT_READY_ACK (§3, §6.4); the target must have
    read that too before its clock moves, or the events of the moments passed never come."""
    confirm = await sdk.first("join_confirm")
    assert confirm["reason"] == 0, f"the SDK's join_confirm({confirm['reason']}) (§6.1)"
    await target.received(stream, "EVENT_SUBSCRIPTION")
    (ready,) = await target.journal(stream_id=stream.stream_id, kind="CLIENT_READY_ACK", direction="in")
    return ready


def _events(records: Iterable[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    """The ``event`` objects of EVENT_UPDATE records of one type (§4.6)."""
    wanted = wire.EVENT[event_type]
    return [r["detail"]["event"] for r in records if r["detail"]["event"]["event_type"] == wanted]


def _has_sequence(sequence: int) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda records: any(r["detail"].get("sequence") == sequence for r in records)


def _frame_since(kind: str, epoch_ms: float) -> Callable[[list[Event]], bool]:
    """The SDK has had a ``kind`` frame stamped ``epoch_ms`` or later."""
    return lambda events: any(e["cb"] == kind and e["timestamp"] >= epoch_ms for e in events)


def _media_channels(records: Iterable[dict[str, Any]]) -> dict[str, int]:
    return {r["channel"]: r["detail"]["media_type"] for r in records}


async def test_sdk_joins_with_its_defaults_and_answers_keep_alives(target: Target, sdk: Sdk) -> None:
    """The SDK's default media requests are accepted on one socket per type (§6.4), the
    session start reaches ``on_session_update`` (§4.9), and every socket's keep-alives are
    answered with their timestamp and sequence for more rounds than Zoom tolerates missing
    (§4.11), so the stream stays up."""
    stream = await target.start_stream(duration=120.0)
    client = await sdk.join(stream, ("audio", "transcript"))
    await _joined(target, stream, client)

    asked = await target.journal(stream_id=stream.stream_id, kind="DATA_HAND_SHAKE_REQ", direction="in")
    assert _media_channels(asked) == {
        "media:audio": wire.MEDIA_KEYS["audio"],
        "media:transcript": wire.MEDIA_KEYS["transcript"],
    }, "the SDK opens one media socket per type"
    answers = await target.journal(stream_id=stream.stream_id, kind="DATA_HAND_SHAKE_RESP", direction="out")
    assert [a["detail"]["status_code"] for a in answers] == [wire.STATUS["OK"]] * 2

    states = await target.journal(stream_id=stream.stream_id, kind="SESSION_STATE_UPDATE", direction="out")
    assert [s["detail"]["state"] for s in states] == [wire.SESSION_STATE["STARTED"]]
    session = await client.first("session_update")
    assert session["op"] == SESSION_EVENT_ADD, f"on_session_update({session['op']}) for state STARTED"

    channels = ("signaling", "media:audio", "media:transcript")
    for sequence in range(1, KEEP_ALIVE_ROUNDS + 1):
        await target.pass_time(10.0, step=1.0)
        for channel in channels:
            (request,) = [
                r["detail"]
                for r in await target.journal(
                    stream_id=stream.stream_id, kind="KEEP_ALIVE_REQ", channel=channel, direction="out"
                )
                if r["detail"]["sequence"] == sequence
            ]
            # Wait for the answer before moving the clock on: the SDK answers in real time.
            answers = await journal_until(
                target,
                _has_sequence(sequence),
                f"KEEP_ALIVE_RESP {sequence} on {channel}",
                stream_id=stream.stream_id,
                kind="KEEP_ALIVE_RESP",
                channel=channel,
                direction="in",
            )
            (answer,) = [a["detail"] for a in answers if a["detail"].get("sequence") == sequence]
            assert answer["timestamp"] == request["timestamp"], f"{channel} echoes the request's timestamp"

    assert not await target.journal(stream_id=stream.stream_id, kind="keep_alive_mismatch")
    assert not await target.journal(stream_id=stream.stream_id, kind="terminated"), "the stream stays up"
    assert not client.of("leave")


async def test_sdk_receives_the_speakers_audio_and_transcripts(target: Target, sdk: Sdk) -> None:
    """Audio frames and transcripts name the participants the join events announced (§4.6,
    §4.12); each transcript starts where the active speaker changed to its speaker, and that
    speaker's 20 ms audio frames cover it without gaps and without strays. When the meeting
    ends on its own the SDK leaves with MEETING_ENDED (§4.8)."""
    duration = 20.0
    stream = await target.start_stream(duration=duration, participants=3)
    client = await sdk.join(stream, ("audio", "transcript"), audio=L16_PER_SPEAKER)
    ready = await _joined(target, stream, client)

    # Up to just before the end: a frame in flight when a stream ends is lost to any client.
    await target.pass_time(duration - 0.1, step=0.5)
    events = await target.journal(stream_id=stream.stream_id, kind="EVENT_UPDATE", direction="out")
    names = {
        p["user_id"]: p["user_name"] for e in _events(events, "PARTICIPANT_JOIN") for p in e["participants"]
    }
    speakers = _events(events, "ACTIVE_SPEAKER_CHANGE")
    assert len(names) == 3
    assert len(speakers) >= 3

    transcripts = await client.count("transcript", len(speakers))
    expected_frames = sum(len(range(t["start"], t["end"], FRAME_MS)) for t in transcripts)
    audio = await client.count("audio", expected_frames)

    for t, change in zip(transcripts, speakers, strict=True):
        assert (t["user_id"], t["start"]) == (change["user_id"], change["timestamp"])
        assert t["user_name"] == names[t["user_id"]]
        assert ready["epoch_ms"] <= t["start"] < t["end"]
        assert t["text"].strip()
        frames = [
            a["timestamp"]
            for a in audio
            if a["user_id"] == t["user_id"] and t["start"] <= a["timestamp"] < t["end"]
        ]
        assert frames == list(range(t["start"], t["end"], FRAME_MS)), f"audio of {t['user_name']}'s utterance"
    for frame in audio:
        assert frame["size"] == frame["bytes"] == L16_FRAME_BYTES
        assert frame["user_name"] == names[frame["user_id"]]
    joins = {e["user_id"]: e["user_name"] for e in client.of("user_update") if e["op"] == USER_JOIN}
    assert joins == names, "on_user_update announces every participant with its name"

    await target.pass_time(0.2, step=0.1)
    leave = await client.first("leave")
    assert leave["reason"] == MEETING_ENDED


@pytest.mark.needs(Capability.STOP)
async def test_sdk_leaves_with_the_stop_reason(target: Target, sdk: Sdk) -> None:
    """A stream the target stops reaches ``on_leave`` with its stop reason (§4.8, §6.1)."""
    stream = await target.start_stream()
    client = await sdk.join(stream, ("audio", "transcript"))
    await _joined(target, stream, client)
    await target.pass_time(1.0, step=0.5)
    await target.stop_stream(stream, USER_TRIGGERED)
    leave = await client.first("leave")
    assert leave["reason"] == USER_TRIGGERED
    (stopped,) = await target.journal(stream_id=stream.stream_id, kind="meeting.rtms_stopped")
    assert stopped["detail"]["payload"]["stop_reason"] == USER_TRIGGERED


@pytest.mark.needs(Capability.FAULTS)
async def test_sdk_rejoins_after_the_signaling_socket_is_lost(target: Target, sdk: Sdk) -> None:
    """After an abrupt loss of the signaling socket (no close frame) the SDK runs the whole
    join again (§6.2), and the target accepts it: a second signaling handshake answered with
    status 0, the media handshakes, CLIENT_READY_ACK, and media flowing again (§4.1 to §4.4)."""
    stream = await target.start_stream()
    client = await sdk.join(stream, ("audio", "transcript"), audio=L16_PER_SPEAKER)
    await _joined(target, stream, client)
    await target.pass_time(1.0, step=0.5)
    await target.drop(stream, "signaling", close_frame=False)
    dropped_at = (await target.journal(stream_id=stream.stream_id, kind="fault"))[0]["epoch_ms"]

    # The SDK waits about a second of its own (real) time before it rejoins.
    try:
        await target.received(stream, "CLIENT_READY_ACK", count=2, timeout=15.0)
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}; the SDK's callbacks: {client.story()}; its output: {client.tail()!r}"
        ) from None
    handshakes = await target.journal(
        stream_id=stream.stream_id, kind="SIGNALING_HAND_SHAKE_RESP", direction="out"
    )
    assert [h["detail"]["status_code"] for h in handshakes] == [wire.STATUS["OK"]] * 2
    again = await target.journal(stream_id=stream.stream_id, kind="DATA_HAND_SHAKE_RESP", direction="out")
    assert [h["detail"]["status_code"] for h in again] == [wire.STATUS["OK"]] * 4

    await target.pass_time(2.0, step=0.5)
    await client.wait(
        _frame_since("audio", dropped_at + 1),
        "audio after the rejoin",
    )
    assert not client.of("leave"), "an abrupt loss is not the end of the stream for the SDK"


async def test_sdk_receives_h264_video_and_screen_share(target: Target, sdk: Sdk) -> None:
    """With the SDK's defaults (H.264, HD, 30 fps, §6.4) video and screen share arrive as
    H.264 byte streams that start with a parameter set, every frame period without a gap,
    naming participants the join events announced (§4.12)."""
    seconds = 4.0
    stream = await target.start_stream(duration=30.0)
    client = await sdk.join(stream, ("video", "deskshare"))
    ready = await _joined(target, stream, client)

    answers = await target.journal(stream_id=stream.stream_id, kind="DATA_HAND_SHAKE_RESP", direction="out")
    for answer in answers:
        (params,) = answer["detail"]["media_params"].values()
        assert (params["codec"], params["resolution"], params["fps"]) == (H264, HD, 30), answer["channel"]

    await target.pass_time(seconds, step=0.1)
    until = ready["epoch_ms"] + seconds * 1000 - 1000 / 30
    for kind in ("video", "deskshare"):
        await client.wait(
            _frame_since(kind, until),
            f"{kind} up to the target's now",
        )
    events = await target.journal(stream_id=stream.stream_id, kind="EVENT_UPDATE", direction="out")
    names = {
        p["user_id"]: p["user_name"] for e in _events(events, "PARTICIPANT_JOIN") for p in e["participants"]
    }
    for kind in ("video", "deskshare"):
        frames = client.of(kind)
        _assert_h264_stream(kind, frames, names)


def _assert_h264_stream(kind: str, frames: list[Event], names: dict[int, str]) -> None:
    assert frames[0]["head"][8:10] == "67", f"the first {kind} frame starts with a sequence parameter set"
    for frame in frames:
        assert frame["head"].startswith(ANNEX_B), f"{kind} frame is not an H.264 byte stream: {frame['head']}"
        assert frame["user_name"] == names[frame["user_id"]]
    gaps = {b["timestamp"] - a["timestamp"] for a, b in itertools.pairwise(frames)}
    assert gaps <= {33, 34}, f"{kind} frames at 30 fps without gaps, got steps {sorted(gaps)}"
