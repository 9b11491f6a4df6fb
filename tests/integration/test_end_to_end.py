"""The simulator and the reference connector, end to end, on a manual scenario clock.

The simulator delivers a signed ``meeting.rtms_started`` to the connector's webhook receiver;
the connector joins over signaling and media, and writes what it receives. The files on disk
are compared with what the simulator's journal says it sent. The connector verifies webhook
timestamps against the same scenario clock, so nothing here depends on wall time.
"""

from __future__ import annotations

import asyncio
import json
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from connector.config import ConnectorConfig
from connector.protocol import MessageType, StopReason
from connector.service import Connector
from simulator.clock import ManualClock
from simulator.config import SimulatorConfig
from simulator.server import Simulator

DURATION = 24.0


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Simulator, ManualClock, Connector]]:
    clock = ManualClock()
    sim = Simulator(SimulatorConfig(tls_port=None), clock=clock)
    await sim.start()
    app = sim.config.app
    config = ConnectorConfig(
        client_id=app.client_id,
        client_secret=app.client_secret,
        webhook_secret=app.webhook_secret,
        port=0,
        path="/zoom",
        output_dir=tmp_path / "out",
    )
    connector = Connector(config, clock=clock, wall=lambda: clock.epoch_ms() / 1000)
    await connector.start()
    try:
        yield sim, clock, connector
    finally:
        await connector.close()
        await sim.close()


async def _joined(sim: Simulator, stream_id: str) -> None:
    await sim.journal.wait_for(
        lambda r: r.stream_id == stream_id and r.kind == MessageType.EVENT_SUBSCRIPTION.name, timeout=15
    )


async def test_meeting_streams_into_files(pair: tuple[Simulator, ManualClock, Connector]) -> None:
    sim, clock, connector = pair
    stream = sim.start_stream(webhook_url=connector.url, duration=DURATION, seed=3)
    await _joined(sim, stream.stream_id)
    delivered = sim.journal.select(stream_id=stream.stream_id, kind="delivery")
    assert [r.detail["status"] for r in delivered] == [200]

    # Play the meeting, one keep-alive round at a time, checking the connector answered each
    # round on every socket before moving on.
    for sequence in (1, 2):
        await clock.run_for(10.0, step=0.1)
        for channel in ("signaling", "media:audio", "media:transcript"):
            await sim.journal.wait_for(
                lambda r, c=channel, s=sequence: (
                    r.channel == c
                    and r.kind == MessageType.KEEP_ALIVE_RESP.name
                    and r.detail.get("sequence") == s
                )
            )
    await clock.run_for(DURATION - 20.0 + 0.2, step=0.1)
    summary = await asyncio.wait_for(connector.manager.finished(stream.stream_id), 15)

    assert summary.stop_reason == StopReason.MEETING_ENDED
    sent_audio = sim.journal.media_counts[(stream.stream_id, "audio")]
    assert sent_audio == DURATION * 50  # mixed audio flows continuously: 50 frames a second
    directory = Path(summary.directory)
    assert summary.audio_messages == sent_audio
    with wave.open(str(directory / "audio.wav"), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        assert w.getnframes() == sent_audio * 320
        pcm = w.readframes(w.getnframes())
    assert any(pcm), "the audio is not all silence"

    lines = [json.loads(line) for line in (directory / "transcript.jsonl").read_text().splitlines()]
    script = stream.script
    assert [line["text"] for line in lines] == [u.text for u in script.utterances]
    names = {p.user_id: p.user_name for p in script.participants}
    assert [line["user_name"] for line in lines] == [names[u.user_id] for u in script.utterances]
    start = lines[0]["start_time"] - round(script.utterances[0].start * 1000)
    assert [line["end_time"] - start for line in lines] == [round(u.end * 1000) for u in script.utterances]

    people = {p["user_id"]: p["user_name"] for p in summary.participants}
    assert people == names
    stopped = sim.journal.select(stream_id=stream.stream_id, kind="meeting.rtms_stopped")
    assert [r.detail["payload"]["stop_reason"] for r in stopped] == [6]


async def test_shutdown_closes_streams_with_stream_close_req(
    pair: tuple[Simulator, ManualClock, Connector],
) -> None:
    sim, clock, connector = pair
    stream = sim.start_stream(webhook_url=connector.url, duration=DURATION, seed=4)
    await _joined(sim, stream.stream_id)
    await clock.run_for(2.0, step=0.1)

    await connector.close()  # what SIGTERM does

    kinds = [r.kind for r in sim.journal.select(stream_id=stream.stream_id, channel="signaling")]
    assert "STREAM_CLOSE_REQ" in kinds
    close_at = kinds.index("STREAM_CLOSE_REQ")
    assert kinds[close_at + 1] == "STREAM_CLOSE_RESP"
    assert stream.stop_reason == StopReason.RECEIVER_REQUEST_CLOSE
    summary = connector.manager.summaries[stream.stream_id]
    assert summary.stop_reason == StopReason.RECEIVER_REQUEST_CLOSE
    assert summary.audio_messages > 0


async def test_wrong_credentials_are_rejected_in_zooms_terms(
    pair: tuple[Simulator, ManualClock, Connector], tmp_path: Path
) -> None:
    sim, clock, _ = pair
    app = sim.config.app
    config = ConnectorConfig(
        client_id=app.client_id,
        client_secret="the-other-apps-secret",
        webhook_secret=app.webhook_secret,
        port=0,
        output_dir=tmp_path / "wrong",
    )
    async with Connector(config, clock=clock, wall=lambda: clock.epoch_ms() / 1000) as wrong:
        stream = sim.start_stream(webhook_url=wrong.url, duration=DURATION, seed=5)
        summary = await asyncio.wait_for(wrong.manager.finished(stream.stream_id), 15)
    assert summary.status_code == 3
    assert summary.status_name == "STATUS_INVALID_SIGNATURE"
    assert stream.live, "a rejected handshake leaves the stream waiting for a valid client"
