"""Scenario time: one clock the whole simulator schedules on.

Every timer in the simulator (media pacing, keep-alives, reconnection windows, meeting end)
is a plain callback scheduled with :meth:`Clock.call_at`. :class:`RealClock` runs them on the
asyncio loop in real time; :class:`ManualClock` runs them only when a test calls
:meth:`ManualClock.advance`, in time order, so timed behaviour is tested without sleeping.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

__all__ = ["Clock", "ManualClock", "RealClock", "Timer", "settle"]


class Timer:
    """A scheduled callback; :meth:`cancel` stops it from running."""

    __slots__ = ("_cancelled", "_handle", "callback", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self._cancelled = False
        self._handle: asyncio.TimerHandle | None = None

    def cancel(self) -> None:
        self._cancelled = True
        if self._handle is not None:
            self._handle.cancel()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def _fire(self) -> None:
        if not self._cancelled:
            self._cancelled = True  # a timer fires once
            self.callback()


class Clock(ABC):
    """Seconds on a monotonic scenario timeline, plus the epoch time Zoom stamps on frames."""

    @abstractmethod
    def now(self) -> float:
        """Scenario time in seconds (monotonic)."""

    @abstractmethod
    def epoch_ms(self) -> int:
        """Wall-clock Unix time in milliseconds that corresponds to :meth:`now`."""

    @abstractmethod
    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` (synchronously, on the loop) once scenario time reaches ``when``."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self.call_at(self.now() + delay, callback)

    def epoch_seconds(self) -> int:
        return self.epoch_ms() // 1000


class RealClock(Clock):
    """Real time on the running asyncio loop."""

    def __init__(self) -> None:
        self._offset_ms = time.time() * 1000.0 - time.monotonic() * 1000.0

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def epoch_ms(self) -> int:
        # loop.time() is time.monotonic() on every asyncio loop; map it onto the epoch once so
        # frame timestamps advance exactly with the pacing timers.
        return int(self.now() * 1000.0 + self._offset_ms)

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(when, callback)
        timer._handle = asyncio.get_running_loop().call_at(when, timer._fire)
        return timer


class ManualClock(Clock):
    """A clock that moves only when told to. Deterministic: ties run in scheduling order."""

    def __init__(self, *, start_epoch_ms: int = 1_763_700_000_000) -> None:
        self._now = 0.0
        self._start_epoch_ms = start_epoch_ms
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def epoch_ms(self) -> int:
        return self._start_epoch_ms + round(self._now * 1000.0)

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        # Times are kept to the nanosecond so that repeated float steps (50 x 0.02 s) land
        # exactly on the deadlines they add up to.
        timer = Timer(round(max(when, self._now), 9), callback)
        heapq.heappush(self._heap, (timer.when, next(self._seq), timer))
        return timer

    def advance(self, seconds: float) -> int:
        """Move time forward by ``seconds``, running every timer that falls due, in order.

        Timers scheduled by those callbacks run too if they fall within the window.
        Returns how many callbacks ran.
        """
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        if not math.isfinite(seconds):
            # NaN would make ``now`` NaN for good; infinity would never return while
            # self-rescheduling timers (keep-alives, audio pumps) keep falling due.
            raise ValueError("a clock advances by a finite number of seconds")
        target = round(self._now + seconds, 9)
        ran = 0
        while self._heap and self._heap[0][0] <= target:
            when, _, timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            self._now = when
            timer._fire()
            ran += 1
        self._now = target
        return ran

    async def run_for(self, seconds: float, *, step: float = 0.02) -> None:
        """Advance in ``step`` increments, letting the event loop deliver what each produced.

        The loop yields are not waits for time: they let socket writer tasks run between
        steps, so a peer sees frames in the order and spacing of scenario time.
        """
        remaining = seconds
        while remaining > 1e-9:
            delta = min(step, remaining)
            self.advance(delta)
            remaining -= delta
            await settle()

    def next_deadline(self) -> float | None:
        """When the earliest live timer falls due, or ``None`` if none is scheduled."""
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    @property
    def pending(self) -> int:
        return sum(1 for _, _, t in self._heap if not t.cancelled)


async def settle(rounds: int = 3) -> None:
    """Yield to the event loop a few times so ready tasks (socket writers) run."""
    for _ in range(rounds):
        await asyncio.sleep(0)
