"""ManualClock: timers run in time order, ties in scheduling order, only when time is advanced."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from simulator.clock import ManualClock


def test_runs_in_time_order_and_ties_in_scheduling_order() -> None:
    clock = ManualClock()
    ran: list[str] = []
    clock.call_at(3.0, lambda: ran.append("c"))
    clock.call_at(1.0, lambda: ran.append("a1"))
    clock.call_later(2.0, lambda: ran.append("b"))
    clock.call_at(1.0, lambda: ran.append("a2"))
    clock.call_at(1.0, lambda: ran.append("a3"))
    assert clock.advance(0.999) == 0
    assert ran == []
    assert clock.advance(0.001) == 3
    assert ran == ["a1", "a2", "a3"]
    assert clock.advance(5.0) == 2
    assert ran == ["a1", "a2", "a3", "b", "c"]
    assert clock.now() == 6.0


def test_callbacks_see_their_own_time() -> None:
    clock = ManualClock()
    seen: list[float] = []
    for when in (0.5, 1.25, 2.0):
        clock.call_at(when, lambda: seen.append(clock.now()))
    clock.advance(10.0)
    assert seen == [0.5, 1.25, 2.0]
    assert clock.now() == 10.0


def test_timers_scheduled_by_callbacks_run_within_the_window() -> None:
    clock = ManualClock()
    ticks: list[float] = []

    def tick() -> None:
        ticks.append(clock.now())
        clock.call_later(1.0, tick)

    clock.call_later(1.0, tick)
    assert clock.advance(3.5) == 3
    assert ticks == [1.0, 2.0, 3.0]
    assert clock.pending == 1


def test_cancel() -> None:
    clock = ManualClock()
    ran: list[int] = []
    keep = clock.call_at(1.0, lambda: ran.append(1))
    drop = clock.call_at(1.0, lambda: ran.append(2))
    drop.cancel()
    assert drop.cancelled
    assert not keep.cancelled
    assert clock.pending == 1
    assert clock.advance(1.0) == 1
    assert ran == [1]
    assert keep.cancelled  # a timer fires once
    assert clock.pending == 0


def test_past_deadlines_run_at_the_next_advance() -> None:
    clock = ManualClock()
    clock.advance(5.0)
    ran: list[float] = []
    timer = clock.call_at(2.0, lambda: ran.append(clock.now()))
    assert timer.when == 5.0
    assert clock.advance(0) == 1
    assert ran == [5.0]


def test_fifty_steps_of_twenty_ms_land_exactly_on_one_second() -> None:
    clock = ManualClock()
    steps = 0
    fired_after: list[int] = []
    clock.call_at(1.0, lambda: fired_after.append(steps))
    for steps in range(1, 51):  # noqa: B007 - the callback reads the step counter
        clock.advance(0.02)
    assert clock.now() == 1.0
    assert fired_after == [50]  # on the 50th step, not the 51st
    assert sum([0.02] * 50) == 1.0000000000000004  # why the clock rounds its sums


def test_frame_grid_deadlines_match_the_steps() -> None:
    """Deadlines built as ``index * 0.02`` fire at the step that reaches them, never one late."""
    clock = ManualClock()
    fired: list[tuple[int, int]] = []

    def at(index: int) -> Callable[[], None]:
        return lambda: fired.append((index, round(clock.now() * 1000)))

    for index in range(200):
        clock.call_at(index * 0.02, at(index))
    for _ in range(200):
        clock.advance(0.02)
    assert fired == [(i, i * 20) for i in range(200)]


def test_epoch_follows_scenario_time() -> None:
    clock = ManualClock(start_epoch_ms=1_700_000_000_000)
    assert (clock.epoch_ms(), clock.epoch_seconds()) == (1_700_000_000_000, 1_700_000_000)
    clock.advance(1.2344)
    assert clock.epoch_ms() == 1_700_000_001_234
    clock.advance(0.0006)
    assert clock.epoch_ms() == 1_700_000_001_235


def test_cannot_go_backwards() -> None:
    clock = ManualClock()
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-0.001)


@pytest.mark.parametrize("seconds", [math.nan, math.inf])
def test_only_finite_steps(seconds: float) -> None:
    clock = ManualClock()

    def reschedule() -> None:
        clock.call_later(10.0, lambda: None)

    clock.call_later(10.0, reschedule)
    with pytest.raises(ValueError, match="finite"):
        clock.advance(seconds)
    assert clock.now() == 0.0
    assert clock.pending == 1


async def test_run_for_steps_through_the_window() -> None:
    clock = ManualClock()
    seen: list[float] = []
    for n in range(1, 11):
        clock.call_at(n * 0.1, lambda: seen.append(round(clock.now(), 9)))
    await clock.run_for(1.0, step=0.25)
    assert clock.now() == 1.0
    assert seen == [round(n * 0.1, 9) for n in range(1, 11)]
