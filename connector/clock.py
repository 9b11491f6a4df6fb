"""Time for the connector: one small interface every timer goes through.

Lease renewal, reconnect backoff, token refresh and F2 retries all wait through a
:class:`Clock`, never through :func:`asyncio.sleep` directly, so that a test can drive them
with a manual clock. The interface is structural: the simulator's
``simulator.clock.ManualClock`` satisfies it, so an in-process test can run the simulator and
the connector on one timeline (the connector does not import the simulator).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["Clock", "Cancellable", "SystemClock", "sleep", "wait_for"]


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """Monotonic seconds, the matching Unix time, and one-shot timers on the running loop."""

    def now(self) -> float:
        """Monotonic seconds."""
        ...

    def epoch_ms(self) -> int:
        """Unix time in milliseconds corresponding to :meth:`now`."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        """Run ``callback`` on the loop once ``delay`` seconds of this clock have passed."""
        ...


class SystemClock:
    """Real time: ``time.monotonic`` and the running loop's timers."""

    def now(self) -> float:
        return time.monotonic()

    def epoch_ms(self) -> int:
        return int(time.time() * 1000)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        return asyncio.get_running_loop().call_later(max(delay, 0.0), callback)


async def sleep(clock: Clock, delay: float) -> None:
    """Wait ``delay`` seconds of ``clock``; cancellation cancels the timer."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def wake() -> None:
        if not future.done():
            future.set_result(None)

    timer = clock.call_later(max(delay, 0.0), wake)
    try:
        await future
    finally:
        timer.cancel()


async def wait_for(clock: Clock, event: asyncio.Event, timeout: float) -> bool:
    """Wait until ``event`` is set or ``timeout`` seconds of ``clock`` passed; True if set."""
    if event.is_set():
        return True
    waiter = asyncio.ensure_future(event.wait())
    timer = asyncio.ensure_future(sleep(clock, timeout))
    try:
        await asyncio.wait({waiter, timer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        timer.cancel()
    return event.is_set()
