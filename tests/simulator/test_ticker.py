"""Tickers (:meth:`Clock.call_periodic`, a media pump each): on the manual clock a chain of
``call_at`` calls at exact grid times; on the real clock a wheel of per-grid-point lists.
Real-clock tests start their tickers in the past, so every call is already due and only the
loop's turns decide what runs: no wall-clock sleep decides an outcome."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from simulator.clock import ManualClock, RealClock


def test_manual_ticks_fall_on_the_grid_from_the_given_index() -> None:
    clock = ManualClock()
    seen: list[tuple[int, float]] = []

    def tick(i: int) -> bool:
        seen.append((i, clock.now()))
        return i < 5

    ticker = clock.call_periodic(1.0, 0.5, 2, tick)
    clock.advance(1.99)
    assert seen == []  # the first call is at 1.0 + 2 x 0.5
    clock.advance(0.01)
    assert seen == [(2, 2.0)]
    clock.advance(10)
    assert seen == [(i, 1.0 + i * 0.5) for i in range(2, 6)]  # index 5 said stop
    assert ticker.cancelled
    assert clock.pending == 0


def test_a_cancelled_manual_ticker_stops() -> None:
    clock = ManualClock()
    seen: list[int] = []
    ticker = clock.call_periodic(0.0, 0.02, 0, lambda i: seen.append(i) is None)
    clock.advance(0.05)
    ticker.cancel()
    clock.advance(1)
    assert seen == [0, 1, 2]
    assert clock.pending == 0


async def _turns(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_real_tickers_run_each_index_once_in_order_until_they_stop() -> None:
    clock = RealClock()
    now = asyncio.get_running_loop().time()
    seen: dict[str, list[int]] = {"a": [], "b": []}

    def ticking(name: str, last: int) -> Any:
        def tick(i: int) -> bool:
            seen[name].append(i)
            return i < last

        return tick

    a = clock.call_periodic(now - 1.0, 0.01, 0, ticking("a", 4))
    b = clock.call_periodic(now - 1.0, 0.01, 10, ticking("b", 12))
    for _ in range(200):
        if a.cancelled and b.cancelled:
            break
        await _turns(1)
    assert seen == {"a": [0, 1, 2, 3, 4], "b": [10, 11, 12]}
    assert clock._slots == {}  # nothing left waiting


async def test_a_cancelled_real_ticker_is_never_called_again() -> None:
    clock = RealClock()
    now = asyncio.get_running_loop().time()
    seen: list[int] = []
    ticker = clock.call_periodic(now - 1.0, 0.01, 0, lambda i: seen.append(i) is None)
    for _ in range(50):
        if seen:
            break
        await _turns(1)
    ticker.cancel()
    count = len(seen)
    await _turns(20)
    assert count >= 1
    assert len(seen) == count


async def test_a_failing_real_ticker_is_reported_and_stops_without_stopping_the_others() -> None:
    clock = RealClock()
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    now = loop.time()
    seen: list[int] = []

    def failing(i: int) -> bool:
        raise ValueError(f"tick {i}")

    def fine(i: int) -> bool:
        seen.append(i)
        return i < 3

    bad = clock.call_periodic(now - 1.0, 0.01, 0, failing)
    good = clock.call_periodic(now - 1.0, 0.01, 0, fine)
    try:
        for _ in range(200):
            if good.cancelled:
                break
            await _turns(1)
    finally:
        loop.set_exception_handler(None)
    assert bad.cancelled
    assert seen == [0, 1, 2, 3]
    assert len(reported) == 1
    assert isinstance(reported[0]["exception"], ValueError)
    assert "ticker" in reported[0]["message"]


@pytest.mark.parametrize("slack", [0.0, 0.001])
async def test_real_ticker_without_and_with_slack_calls_the_same_indices(slack: float) -> None:
    clock = RealClock(slack=slack)
    now = asyncio.get_running_loop().time()
    seen: list[int] = []
    ticker = clock.call_periodic(now - 1.0, 0.05, 3, lambda i: seen.append(i) is None and i < 7)
    for _ in range(200):
        if ticker.cancelled:
            break
        await _turns(1)
    assert seen == [3, 4, 5, 6, 7]
