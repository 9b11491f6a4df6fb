"""Zoom's official SDK (``pip install rtms``) as a client of the simulator.

The proof that the simulator speaks Zoom's protocol: a client nobody here wrote joins over
``ws://`` and ``wss://`` (trusting the simulator's CA through ``ZM_RTMS_CA``), receives audio
and transcripts with the scripted speakers' ids, names and times, answers several rounds of
keep-alives, and leaves with the stop reason the simulator sent. Scenario time is a manual
clock; the test waits on the SDK's callbacks and the simulator's journal, never on sleeps.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.protocol import MessageType, StopReason
from simulator.clock import ManualClock
from simulator.journal import Record
from simulator.server import Simulator

from .conftest import SdkProcess

pytestmark = pytest.mark.interop

# L16, 16 kHz, mono, per-speaker streams (data_opt 2) so each frame names its speaker.
L16_MULTI = {
    "content_type": 2,
    "codec": 1,
    "sample_rate": 1,
    "channel": 1,
    "data_opt": 2,
    "duration": 20,
    "frame_size": 320,
}
KEEP_ALIVE_ROUNDS = 4
DURATION = 45.0


def _keep_alive_answered(channel: str, sequence: int) -> object:
    def match(r: Record) -> bool:
        return (
            r.channel == channel
            and r.direction == "in"
            and r.kind == MessageType.KEEP_ALIVE_RESP.name
            and r.detail.get("sequence") == sequence
        )

    return match


@pytest.mark.parametrize("scheme", ["ws", "wss"])
async def test_official_sdk_streams_from_simulator(
    scheme: str, manual_sim: tuple[Simulator, ManualClock], tmp_path: Path
) -> None:
    sim, clock = manual_sim
    stream = sim.start_stream(duration=DURATION, seed=11, participants=3, scheme=scheme)
    spec = {
        "payload": sim.started_payload(stream),
        "client": sim.config.app.client_id,
        "secret": sim.config.app.client_secret,
        "audio": L16_MULTI,
        "ca": str(sim.ca_file) if scheme == "wss" else None,
    }
    sdk = await SdkProcess.start(spec, cwd=tmp_path)
    try:
        join = await sdk.first("join_confirm")
        assert join["reason"] == 0, f"join_confirm({join['reason']})"
        await sim.journal.wait_for(lambda r: r.kind == MessageType.CLIENT_READY_ACK.name)
        channels = sorted(
            {r.channel for r in sim.journal.select(stream_id=stream.stream_id, kind="DATA_HAND_SHAKE_REQ")}
        )
        assert channels == ["media:audio", "media:transcript"], "the SDK opens one media socket per type"

        t0 = stream.media_started_at
        assert t0 is not None
        start_epoch = clock.epoch_ms()

        # Several keep-alive rounds on every socket, each answered with its sequence.
        for sequence in range(1, KEEP_ALIVE_ROUNDS + 1):
            await clock.run_for(10.0, step=0.1)
            for channel in ("signaling", "media:audio", "media:transcript"):
                await sim.journal.wait_for(_keep_alive_answered(channel, sequence))
        assert not sim.journal.select(kind="keep_alive_timeout")
        assert stream.live

        # Play the rest of the meeting up to just before its end, and wait until everything
        # sent has reached the SDK: frames in flight when a stream ends are dropped by clients.
        await clock.run_for(DURATION - KEEP_ALIVE_ROUNDS * 10.0 - 0.1, step=0.1)
        sent_audio = sim.journal.media_counts[(stream.stream_id, "audio")]
        sent_text = sim.journal.media_counts[(stream.stream_id, "transcript")]
        assert sent_audio > 1000
        assert sent_text >= 5
        await sdk.wait(lambda ev: sum(e["cb"] == "audio" for e in ev) == sent_audio)
        await sdk.wait(lambda ev: sum(e["cb"] == "transcript" for e in ev) == sent_text)

        await clock.run_for(0.6, step=0.1)
        leave = await sdk.first("leave")
    finally:
        await sdk.stop()

    assert leave["reason"] == StopReason.MEETING_ENDED
    stopped = sim.journal.select(stream_id=stream.stream_id, channel="webhook", kind="meeting.rtms_stopped")
    assert [r.detail["payload"]["stop_reason"] for r in stopped] == [StopReason.MEETING_ENDED]

    script = stream.script
    names = {p.user_id: p.user_name for p in script.participants}
    # Audio: every frame carries the speaker the script has talking at its timestamp.
    audio = sdk.of("audio")
    assert len(audio) == sent_audio
    for frame in audio:
        assert frame["size"] == 640  # 20 ms of 16-bit mono at 16 kHz
        at = (frame["timestamp"] - start_epoch) / 1000.0
        assert frame["timestamp"] % 20 == start_epoch % 20, "frames sit on the 20 ms grid"
        utterance = script.utterance_at(at)
        assert utterance is not None, f"audio at {at:.2f}s while nobody speaks"
        assert frame["user_id"] == utterance.user_id
        assert frame["user_name"] == names[utterance.user_id]
    # Transcripts: the scripted utterances, in order, with their start and end times.
    transcripts = sdk.of("transcript")
    spoken = list(script.utterances)
    assert [t["text"] for t in transcripts] == [u.text for u in spoken]
    for t, u in zip(transcripts, spoken, strict=True):
        assert t["user_id"] == u.user_id
        assert t["user_name"] == names[u.user_id]
        assert t["start"] == start_epoch + round(u.start * 1000)
        assert t["end"] == start_epoch + round(u.end * 1000)
    # Participant joins reached the SDK's user callback with ids and names.
    joined = {e["user_id"]: e["user_name"] for e in sdk.of("user_update") if e["op"] == 0}
    assert joined == names
