"""When frames reach the sinks and when the sinks are flushed (:class:`Drains`): at once for
the sinks, once per flush interval for the OS. Flush timing runs on a manual clock."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from connector.backpressure import Drains
from connector.config import ConnectorConfig
from connector.protocol import KeepAliveReq, KeepAliveResp, MediaContent, MediaDataAudio, StreamStateUpdate
from connector.session import StreamSession
from connector.sinks import StreamSinks
from connector.summary import StreamSummary
from simulator.clock import ManualClock, settle

from .conftest import INSTANCE_ID, STREAM_ID, TIMEOUT, FakeZoom, Join, Peer, started_event

MakeConfig = Callable[..., ConnectorConfig]
PCM = [bytes([i]) * 640 for i in range(1, 5)]  # 20 ms frames of 16 kHz mono L16
WAV_HEADER = 44


# --- Drains on its own ---------------------------------------------------------------------


async def test_drains_asked_for_in_one_turn_run_together_on_the_next() -> None:
    drains = Drains(ManualClock())
    ran: list[str] = []
    for name in ("a", "b", "c"):
        drains.schedule(lambda name=name: ran.append(name))
    assert ran == []
    await settle()
    assert ran == ["a", "b", "c"]
    drains.schedule(lambda: ran.append("d"))
    await settle()
    assert ran == ["a", "b", "c", "d"]


async def test_a_failing_drain_is_logged_and_the_others_run(caplog: pytest.LogCaptureFixture) -> None:
    drains = Drains(ManualClock())
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    drains.schedule(broken)
    drains.schedule(lambda: ran.append("after"))
    with caplog.at_level(logging.ERROR, logger="connector.backpressure"):
        await settle()
    assert ran == ["after"]
    assert any(r.exc_info for r in caplog.records)


async def test_flushes_wait_for_the_interval_and_go_together() -> None:
    clock = ManualClock()
    drains = Drains(clock, flush_interval=0.1)
    flushed: list[str] = []
    drains.flush_later(lambda: flushed.append("a"))
    clock.advance(0.05)
    drains.flush_later(lambda: flushed.append("b"))
    clock.advance(0.049)
    assert flushed == []
    clock.advance(0.001)
    assert flushed == ["a", "b"]
    drains.flush_later(lambda: flushed.append("c"))  # a new interval starts
    clock.advance(0.099)
    assert flushed == ["a", "b"]
    clock.advance(0.001)
    assert flushed == ["a", "b", "c"]


# --- a stream's sinks and files ----------------------------------------------------------------


@pytest.fixture
def zoom(peer: Peer) -> FakeZoom:
    return FakeZoom(peer, keys=("audio",))


def new_session(config: ConnectorConfig, url: str, drains: Drains) -> StreamSession:
    sinks = StreamSinks.create(
        config.output_dir, stream_id=STREAM_ID, instance_id=INSTANCE_ID, product="meeting"
    )
    return StreamSession(config, started_event(url), sinks, drains=drains, rng=random.Random(7))


async def audio(join: Join, *chunks: bytes) -> None:
    """Send ``chunks``; return once the connector read them (it answered the keep-alive)."""
    side = join.media["audio"]
    for chunk in chunks:
        await side.send(MediaDataAudio(content=MediaContent(user_id=0, data=chunk)))
    await side.send(KeepAliveReq(timestamp=1, sequence=1))
    assert await side.receive(KeepAliveResp) == KeepAliveResp(timestamp=1, sequence=1)


async def finish(join: Join, task: asyncio.Task[StreamSummary]) -> StreamSummary:
    await join.signaling.send(StreamStateUpdate(state=4, reason=6))
    async with asyncio.timeout(TIMEOUT):
        return await task


def on_disk(session: StreamSession) -> int:
    path = Path(session.sinks.directory) / "audio.wav"
    return path.stat().st_size if path.exists() else 0


async def test_frames_reach_the_sinks_at_once_and_the_os_once_per_interval(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig
) -> None:
    flushes = ManualClock()
    config = make_config(flush_interval=0.1)
    session = new_session(config, peer.url("/signal"), Drains(flushes, config.flush_interval))
    task = asyncio.create_task(session.run())
    join = await zoom.join()
    await audio(join, PCM[0], PCM[1])
    assert session.sinks.audio_messages == 2  # in the file sink, not yet with the OS
    assert on_disk(session) == 0
    flushes.advance(0.1)
    assert on_disk(session) == WAV_HEADER + 2 * 640
    await audio(join, PCM[2])
    assert on_disk(session) == WAV_HEADER + 2 * 640
    summary = await finish(join, task)  # the end flushes at once
    assert summary.audio_messages == 3
    assert on_disk(session) == WAV_HEADER + 3 * 640


async def test_no_interval_flushes_every_batch(zoom: FakeZoom, peer: Peer, make_config: MakeConfig) -> None:
    config = make_config(flush_interval=0)
    session = new_session(config, peer.url("/signal"), Drains(ManualClock(), config.flush_interval))
    task = asyncio.create_task(session.run())
    join = await zoom.join()
    await audio(join, PCM[0])
    assert on_disk(session) == WAV_HEADER + 640
    await audio(join, PCM[1], PCM[2])
    assert on_disk(session) == WAV_HEADER + 3 * 640
    summary = await finish(join, task)
    assert (summary.audio_messages, summary.dropped) == (3, {})
    assert session.queue.high_water == 0  # nothing had to wait: the sinks kept up
