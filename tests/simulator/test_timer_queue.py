"""The clocks' timer queues: :class:`RealClock`'s own queue under one asyncio timer, and a
:class:`Series` (a stream's script laid out at once) running exactly as the same ``call_at``
calls would. Real-clock tests only schedule timers that are already due and wait for the
loop to run them: no wall-clock sleep decides an outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.clock import Clock, ManualClock, RealClock


async def _ran(clock: RealClock, count: int, trace: list[Any]) -> None:
    """Wait (on the loop, not on time) until ``count`` entries are traced."""
    done = asyncio.get_running_loop().create_future()

    def check() -> None:
        if len(trace) >= count and not done.done():
            done.set_result(None)

    def poll() -> None:
        check()
        if not done.done():
            asyncio.get_running_loop().call_soon(poll)

    poll()
    await asyncio.wait_for(done, 5)


async def test_real_timers_run_in_time_order_ties_as_scheduled() -> None:
    clock = RealClock(slack=0)
    now = asyncio.get_running_loop().time()
    trace: list[str] = []
    for name, ago in [("b", 0.2), ("c1", 0.1), ("a", 0.3), ("c2", 0.1), ("c3", 0.1)]:
        clock.call_at(now - ago, lambda name=name: trace.append(name))
    assert clock.pending == 5
    await _ran(clock, 5, trace)
    assert trace == ["a", "b", "c1", "c2", "c3"]
    assert clock.pending == 0


async def test_a_cancelled_real_timer_never_runs() -> None:
    clock = RealClock()
    now = asyncio.get_running_loop().time()
    trace: list[str] = []
    dropped = [clock.call_at(now - 1, lambda: trace.append("dropped")) for _ in range(100)]
    clock.call_at(now - 0.5, lambda: trace.append("kept"))
    for timer in dropped:
        timer.cancel()
    assert clock.pending == 1
    assert len(clock._heap) < 100  # cancelled timers are dropped once they are most of the queue
    await _ran(clock, 1, trace)
    await asyncio.sleep(0)
    assert trace == ["kept"]


async def test_a_timer_scheduled_by_a_timer_waits_for_the_next_turn() -> None:
    clock = RealClock()
    loop = asyncio.get_running_loop()
    now = loop.time()
    trace: list[str] = []

    def first() -> None:
        trace.append("first")
        clock.call_at(now - 1, lambda: trace.append("scheduled by first"))
        loop.call_soon(lambda: trace.append("call_soon by first"))

    clock.call_at(now - 2, first)
    clock.call_at(now - 2, lambda: trace.append("second"))
    await _ran(clock, 4, trace)
    # the batch due when the loop woke runs first; then the loop's turn, as with asyncio timers
    assert trace == ["first", "second", "call_soon by first", "scheduled by first"]


async def test_a_failing_timer_is_reported_and_the_others_run() -> None:
    clock = RealClock()
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _, context: reported.append(context))
    try:
        now = loop.time()
        trace: list[str] = []

        def fail() -> None:
            raise RuntimeError("boom")

        clock.call_at(now - 1, fail)
        clock.call_at(now - 1, lambda: trace.append("after"))
        await _ran(clock, 1, trace)
        assert trace == ["after"]
        assert [type(c["exception"]) for c in reported] == [RuntimeError]
    finally:
        loop.set_exception_handler(None)


async def test_slack_wakes_on_its_grid_never_early() -> None:
    clock = RealClock(slack=0.004)
    assert clock._wake_time(1.0001) == pytest.approx(1.004)
    assert clock._wake_time(1.004) >= 1.004
    assert RealClock(slack=0)._wake_time(1.0001) == 1.0001
    with pytest.raises(ValueError, match="slack"):
        RealClock(slack=-1)


async def test_epoch_milliseconds_of_a_time() -> None:
    clock = RealClock()
    clock.call_at(0.0, lambda: None)  # bind the clock to this loop
    now = clock.now()
    assert clock.epoch_ms_at(now + 1.0) - clock.epoch_ms() in (999, 1000, 1001)


# -- series ------------------------------------------------------------------------------------


Layout = list[tuple[str, float]]  # (which, time): "s" a series event, "t" a plain timer


def _play(clock: ManualClock, before: Layout, events: list[float], after: Layout, steps: list[float], *,
          series: bool) -> list[str]:  # fmt: skip
    trace: list[str] = []

    def note(name: str) -> Callable[[], None]:
        return lambda: trace.append(name)

    for i, (_, t) in enumerate(before):
        clock.call_at(t, note(f"before{i}"))
    if series:
        clock.call_series((t, lambda name: trace.append(name), f"event{i}") for i, t in enumerate(events))
    else:
        for i, t in enumerate(events):
            clock.call_at(t, note(f"event{i}"))
    for i, (_, t) in enumerate(after):
        clock.call_at(t, note(f"after{i}"))
    for step in steps:
        clock.advance(step)
        trace.append(f"pending {clock.pending}")
    return trace


times = st.sampled_from([0.0, 0.5, 1.0, 1.0, 1.5, 2.0, 2.0, 2.5, 3.0, -1.0])
layouts = st.lists(st.tuples(st.just("t"), times), max_size=6)


@settings(max_examples=200)
@given(
    before=layouts,
    events=st.lists(times, max_size=12),
    after=layouts,
    steps=st.lists(st.sampled_from([0.0, 0.5, 1.0, 0.25, 3.0]), min_size=1, max_size=6),
    start=st.sampled_from([0.0, 0.7]),
)
def test_a_series_runs_as_the_same_call_at_calls(
    before: Layout, events: list[float], after: Layout, steps: list[float], start: float
) -> None:
    def fresh() -> ManualClock:
        clock = ManualClock()
        clock.advance(start)  # some times lie in the past: call_at's own rule applies
        return clock

    expected = _play(fresh(), before, events, after, steps, series=False)
    assert _play(fresh(), before, events, after, steps, series=True) == expected


def test_cancelling_a_series_cancels_what_is_left() -> None:
    clock = ManualClock()
    trace: list[int] = []
    series = clock.call_series((float(t), trace.append, t) for t in range(1, 6))
    assert (clock.pending, series.waiting, series.cancelled) == (5, 5, False)
    clock.advance(2.0)
    assert (trace, clock.pending, series.waiting) == ([1, 2], 3, 3)
    series.cancel()
    assert (clock.pending, series.waiting, series.cancelled) == (0, 0, True)
    clock.advance(10.0)
    assert trace == [1, 2]


@pytest.mark.parametrize("make", [ManualClock, RealClock])
async def test_an_empty_series_is_done(make: Callable[[], Clock]) -> None:
    series = make().call_series([])
    assert (series.cancelled, series.waiting) == (True, 0)


def test_a_failing_event_leaves_the_rest_of_the_series_queued() -> None:
    clock = ManualClock()
    trace: list[int] = []

    def run(t: int) -> None:
        trace.append(t)
        if t == 2:
            raise RuntimeError("a failing script event")

    clock.call_series((float(t), run, t) for t in range(1, 5))
    with pytest.raises(RuntimeError):
        clock.advance(10.0)  # the manual clock lets a callback's error through, as call_at does
    assert (trace, clock.pending) == ([1, 2], 2)
    clock.advance(10.0)
    assert trace == [1, 2, 3, 4]
