"""Frame lateness (simulator/pacing.py): the histogram's percentiles, the counters, and
``GET /_sim/pacing`` / ``POST /_sim/pacing/reset`` on a manual clock, where every frame is
handed to its socket at the scenario time it was due."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.clock import ManualClock
from simulator.pacing import COARSE_LIMIT, COARSE_RESOLUTION, FINE_LIMIT, RESOLUTION, Histogram, Pacing
from simulator.server import Simulator

from .harness import Clients, audio_frames_in

EPS = 1e-9


def _nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(max(v, 0.0) for v in values)
    rank = max(1, min(len(ordered), round(q / 100.0 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def test_percentiles_of_known_values() -> None:
    h = Histogram()
    for i in range(1, 101):  # 1 ms .. 100 ms
        h.add(i / 1000)
    assert h.count == 100
    assert h.max == pytest.approx(0.1)
    assert h.percentile(50) == pytest.approx(0.0501)  # 50 ms sits in [50.0, 50.1) ms
    assert h.percentile(90) == pytest.approx(0.0901)
    assert h.percentile(99) == h.percentile(100) == pytest.approx(0.1)  # never above the maximum


def test_empty_and_cleared_histograms_have_no_percentiles() -> None:
    h = Histogram()
    assert math.isnan(h.percentile(50))
    h.add(0.003)
    h.clear()
    assert (h.count, h.max) == (0, 0.0)
    assert math.isnan(h.percentile(99))


def test_negative_values_count_as_zero() -> None:
    h = Histogram()
    h.add(-0.5)
    h.add(-1e-12)
    assert (h.count, h.percentile(50), h.percentile(100), h.max) == (2, 0.0, 0.0, 0.0)


def test_late_beyond_the_fine_buckets() -> None:
    h = Histogram()
    for value in (0.0002, 2.5, 2.5, 120.0):
        h.add(value)
    assert h.percentile(50) == pytest.approx(2.5 + COARSE_RESOLUTION)  # a 10 ms bucket
    assert h.percentile(100) == h.max == 120.0  # the overflow bucket answers the maximum


def test_a_percentile_is_between_0_and_100() -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        Histogram().percentile(101)


@given(
    st.lists(st.floats(min_value=-1.0, max_value=90.0, allow_nan=False), min_size=1, max_size=300),
    st.sampled_from([0, 1, 50, 90, 99, 99.9, 100]),
)
def test_a_percentile_is_the_exact_one_to_a_bucket(values: list[float], q: float) -> None:
    h = Histogram()
    for v in values:
        h.add(v)
    exact = _nearest_rank(values, q)
    found = h.percentile(q)
    assert found <= h.max + EPS
    if exact < FINE_LIMIT:
        assert exact - EPS <= found <= exact + RESOLUTION + EPS
    elif exact < COARSE_LIMIT:
        assert exact - EPS <= found <= exact + COARSE_RESOLUTION + EPS
    else:
        assert found == h.max


class _Time:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_counters_per_kind_window_and_totals() -> None:
    time = _Time()
    pacing = Pacing(time)
    pacing.record("audio", due=99.998)  # 2 ms late
    pacing.record("audio", due=100.0)
    pacing.record("transcript", due=99.0, at=99.5)  # handed over at 99.5: 500 ms late
    report = pacing.report()
    assert report["since"] is None  # never reset
    assert report["kinds"]["audio"] == {
        "frames": 2,
        "total_frames": 2,
        "p50_ms": pytest.approx(2.0),  # nearest rank of two: the second
        "p99_ms": pytest.approx(2.0),
        "max_ms": pytest.approx(2.0),
    }
    assert report["kinds"]["transcript"]["max_ms"] == pytest.approx(500.0)

    time.now = 110.0
    closed = pacing.reset()
    assert closed["kinds"]["audio"]["frames"] == 2
    after = pacing.report()
    assert (after["since"], after["seconds"]) == (110.0, 0.0)
    assert after["kinds"]["audio"] == {
        "frames": 0,
        "total_frames": 2,  # totals run on: frames sent since the simulator started
        "p50_ms": None,
        "p99_ms": None,
        "max_ms": None,
    }
    pacing.clear()
    assert pacing.report()["kinds"] == {}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _pacing(http: aiohttp.ClientSession, sim: Simulator, *, reset: bool = False) -> Any:
    method, path = ("POST", "/_sim/pacing/reset") if reset else ("GET", "/_sim/pacing")
    async with http.request(method, f"{sim.http_url}{path}") as response:
        assert response.status == 200
        return await response.json()


async def test_on_the_manual_clock_frames_are_never_late(
    sim: Simulator, clock: ManualClock, clients: Clients, http: aiohttp.ClientSession
) -> None:
    stream = sim.start_stream(duration=60.0, seed=3)
    await clients.joined(sim, stream, {"audio": None, "transcript": None})
    assert await audio_frames_in(sim, stream.stream_id, 5.0) == 250
    audio = sim.journal.media_counts[(stream.stream_id, "audio")]
    transcripts = sim.journal.media_counts[(stream.stream_id, "transcript")]
    assert transcripts > 0  # the seed's first utterances end within 5 s

    report = await _pacing(http, sim)
    assert report["clock"] == "manual"
    assert report["kinds"]["audio"] == {
        "frames": audio,
        "total_frames": audio,
        "p50_ms": 0.0,
        "p99_ms": 0.0,
        "max_ms": 0.0,
    }
    assert report["kinds"]["transcript"]["frames"] == transcripts
    assert report["kinds"]["transcript"]["max_ms"] == 0.0

    reset_at = clock.now()
    closed = await _pacing(http, sim, reset=True)
    assert closed["kinds"]["audio"]["frames"] == audio
    await clock.run_for(1.0)
    window = await _pacing(http, sim)
    assert window["since"] == reset_at
    assert window["seconds"] == pytest.approx(1.0)
    assert window["kinds"]["audio"]["frames"] == 50
    assert window["kinds"]["audio"]["total_frames"] == audio + 50
    assert window["kinds"]["audio"]["max_ms"] == 0.0

    async with http.post(f"{sim.http_url}/_sim/reset") as response:
        assert response.status == 200
    assert (await _pacing(http, sim))["kinds"] == {}
