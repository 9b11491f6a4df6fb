"""Scenario time: one clock the whole simulator schedules on.

Every timer in the simulator (media pacing, keep-alives, reconnection windows, meeting end)
is a plain callback scheduled with :meth:`Clock.call_at`. :class:`RealClock` runs them on the
asyncio loop in real time; :class:`ManualClock` runs them only when a test calls
:meth:`ManualClock.advance`, in time order, so timed behaviour is tested without sleeping.
Either way timers due at the same time run in the order they were scheduled.

A long list of timers laid out at once (a stream's script: thousands of events an hour) is a
:class:`Series` (:meth:`Clock.call_series`): it runs exactly as the same ``call_at`` calls
would, but only its next timer waits in the clock's queue.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time
from abc import ABC, abstractmethod
from array import array
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

__all__ = ["Clock", "ManualClock", "RealClock", "Series", "Ticker", "Timer", "settle"]


class Timer:
    """A scheduled callback; :meth:`cancel` stops it from running."""

    __slots__ = ("_cancelled", "_owner", "callback", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self._cancelled = False
        self._owner: RealClock | None = None  # the clock whose queue holds it, told of a cancel

    def cancel(self) -> None:
        if not self._cancelled:
            self._cancelled = True
            if self._owner is not None:
                self._owner._forget()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def _fire(self) -> None:
        if not self._cancelled:
            self._cancelled = True  # a timer fires once
            self._owner = None
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

    def epoch_ms_at(self, when: float) -> int:
        """The epoch milliseconds of scenario time ``when`` (a frame's timestamp)."""
        return self.epoch_ms() + round((when - self.now()) * 1000)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self.call_at(self.now() + delay, callback)

    def call_series(self, events: Iterable[tuple[float, Callable[[Any], None], Any]]) -> Series:
        """Schedule ``callback(arg)`` for every ``(when, callback, arg)`` of ``events`` as that
        many :meth:`call_at` calls made now, in that order, would: same times, same order among
        ties with any other timer. Only the next one waits in the queue; cancelling the series
        cancels the rest. Nothing is allocated per event beyond its slots in a few arrays."""
        dues: list[float] = []
        callbacks: list[Callable[[Any], None]] = []
        args: list[Any] = []
        for when, callback, arg in events:
            dues.append(self._due(when))
            callbacks.append(callback)
            args.append(arg)
        first = self._reserve(len(dues))
        ranked = sorted(range(len(dues)), key=dues.__getitem__)  # stable: ties keep their order
        series = Series(
            self,
            array("d", [dues[i] for i in ranked]),
            array("q", [first + i for i in ranked]),
            [callbacks[i] for i in ranked],
            [args[i] for i in ranked],
        )
        series._next()
        return series

    def call_periodic(self, start: float, step: float, index: int, tick: Callable[[int], bool]) -> Ticker:
        """Call ``tick(i)`` at ``start + i * step`` for ``i`` = ``index``, ``index + 1``, ...
        while it returns True: as if each call scheduled the next with :meth:`call_at` (here
        it does; :class:`RealClock` batches them). Cancelling the ticker stops it."""
        ticker = Ticker(start, step, index, tick)
        ticker._chain(self)
        return ticker

    def epoch_seconds(self) -> int:
        return self.epoch_ms() // 1000

    # -- the queue, as a series uses it --------------------------------------------------

    @abstractmethod
    def _due(self, when: float) -> float:
        """The time a timer asked for ``when`` now is kept under (call_at's own rule)."""

    @abstractmethod
    def _reserve(self, count: int) -> int:
        """Take ``count`` places in the order of ties; returns the first."""

    @abstractmethod
    def _queue(self, due: float, order: int, callback: Callable[[], None]) -> Timer:
        """Queue a timer at ``due`` (already through :meth:`_due`) in place ``order``."""


class Series:
    """Timers laid out at once and queued one at a time (:meth:`Clock.call_series`)."""

    __slots__ = ("_args", "_callbacks", "_clock", "_dues", "_index", "_orders", "_timer")

    def __init__(
        self,
        clock: Clock,
        dues: array[float],
        orders: array[int],
        callbacks: list[Callable[[Any], None]],
        args: list[Any],
    ) -> None:
        self._clock = clock
        self._dues = dues  # sorted, with the place of each among ties in orders
        self._orders = orders
        self._callbacks = callbacks
        self._args = args
        self._index = 0  # the next event to run (queued unless the series is done)
        self._timer: Timer | None = None

    def _next(self) -> None:
        i = self._index
        if i < len(self._dues):
            self._timer = self._clock._queue(self._dues[i], self._orders[i], self._fire)
        else:
            self._timer = None

    def _fire(self) -> None:
        i = self._index
        self._index = i + 1
        self._next()  # queued before this one runs, as it would have been all along
        self._callbacks[i](self._args[i])

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._index = len(self._dues)

    @property
    def cancelled(self) -> bool:
        """Nothing left to run: every event ran or the series was cancelled."""
        return self._timer is None

    @property
    def waiting(self) -> int:
        """Events not run yet, the queued one included."""
        return len(self._dues) - self._index


class Ticker:
    """A callback on a grid of times (:meth:`Clock.call_periodic`): the next call is at
    ``start + index * step``."""

    __slots__ = ("_timer", "cancelled", "index", "start", "step", "tick")

    def __init__(self, start: float, step: float, index: int, tick: Callable[[int], bool]) -> None:
        self.start = start
        self.step = step
        self.index = index
        self.tick = tick
        self.cancelled = False  # cancelled, or done: tick said so or raised
        self._timer: Timer | None = None  # the next call's timer, on a clock that chains them

    def _chain(self, clock: Clock) -> None:
        self._timer = clock.call_at(self.start + self.index * self.step, partial(self._fire, clock))

    def _fire(self, clock: Clock) -> None:
        self._timer = None
        self.cancelled = True  # until the tick says go on (it may raise)
        index = self.index
        if self.tick(index):
            self.cancelled = False
            self.index = index + 1
            self._chain(clock)

    def cancel(self) -> None:
        self.cancelled = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class RealClock(Clock):
    """Real time on the running asyncio loop.

    Timers wait in a queue of the clock's own (a heap of ``(when, order, timer)``) under one
    asyncio timer set for the earliest. Media pacing schedules a frame every 20 ms on every
    socket; an asyncio timer per frame (a Python object with its own context, compared by a
    Python method on each step through the loop's heap) cost more than the frame itself.
    Timers run in time order, ties in the order they were scheduled, each once its time has
    come; a timer scheduled by one that runs waits for the loop's next turn, as asyncio's do.

    ``slack``: the loop is woken on a grid of ``slack`` seconds, so a timer runs up to that much
    after its time and timers due close together run in one batch (a thousand streams' frames
    fall due 50,000 times a second; one wake-up each costs more than the frame). 0: exact.

    With slack, tickers (:meth:`call_periodic`, a media pump each) wait in a wheel of their
    own: a list per grid point, run by one timer of the queue. A call costs a list append then,
    not a timer, a heap push and a heap pop.
    """

    def __init__(self, *, slack: float = 0.001) -> None:
        if not slack >= 0:
            raise ValueError("slack is a number of seconds >= 0")
        self.slack = slack
        self._offset_ms = time.time() * 1000.0 - time.monotonic() * 1000.0
        self._heap: list[tuple[float, int, Timer]] = []
        self._order = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.TimerHandle | None = None
        self._wakeup_at = math.inf
        self._cancelled = 0  # cancelled timers still in the queue
        self._slots: dict[int, list[Ticker]] = {}  # grid point (in slacks) -> tickers due by then
        self._resolution = time.get_clock_info("monotonic").resolution  # as asyncio's loop

    def now(self) -> float:
        # The loop the timers run on, once there is one: asking asyncio for the running loop
        # costs a getpid() system call on Python 3.11, and this runs several times per frame.
        loop = self._loop
        return (loop if loop is not None else asyncio.get_running_loop()).time()

    def epoch_ms(self) -> int:
        # loop.time() is time.monotonic() on every asyncio loop; map it onto the epoch once so
        # frame timestamps advance exactly with the pacing timers.
        return int(self.now() * 1000.0 + self._offset_ms)

    def epoch_ms_at(self, when: float) -> int:
        # The same mapping as epoch_ms (epoch_ms_at(now()) == epoch_ms()), without reading the
        # clock: this stamps every media frame.
        return int(when * 1000.0 + self._offset_ms)

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        order = self._order
        self._order = order + 1
        return self._queue(when, order, callback)

    def _due(self, when: float) -> float:
        return when

    def call_periodic(self, start: float, step: float, index: int, tick: Callable[[int], bool]) -> Ticker:
        ticker = Ticker(start, step, index, tick)
        if not self.slack:
            ticker._chain(self)
        else:
            self._enlist(ticker, start + index * step)
        return ticker

    def _enlist(self, ticker: Ticker, due: float) -> None:
        slot = math.ceil(due / self.slack)
        members = self._slots.get(slot)
        if members is None:
            # the timer first: the clock's first timer adopts the loop, which empties the wheel
            self.call_at(max(due, slot * self.slack), partial(self._run_slot, slot))
            self._slots[slot] = [ticker]
        else:
            members.append(ticker)

    def _run_slot(self, slot: int) -> None:
        """Run the tickers due by grid point ``slot``, each then put in the list of its next
        call (a later point: a ticker runs once per loop turn at most)."""
        for ticker in self._slots.pop(slot, ()):
            if ticker.cancelled:
                continue
            index = ticker.index
            try:
                going = ticker.tick(index)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:  # as asyncio reports a failing callback; the ticker stops
                going = False
                assert self._loop is not None
                self._loop.call_exception_handler(
                    {"message": f"Exception in ticker callback {ticker.tick!r}", "exception": exc}
                )
            if not going:
                ticker.cancelled = True
                continue
            index += 1
            ticker.index = index
            self._enlist(ticker, ticker.start + index * ticker.step)

    def _reserve(self, count: int) -> int:
        first = self._order
        self._order = first + count
        return first

    def _queue(self, due: float, order: int, callback: Callable[[], None]) -> Timer:
        loop = self._loop
        if loop is None or loop.is_closed():
            self._adopt(asyncio.get_running_loop())
        timer = Timer(due, callback)
        timer._owner = self
        heapq.heappush(self._heap, (due, order, timer))
        if due < self._wakeup_at:
            self._wake_at(due)
        return timer

    def _wake_time(self, due: float) -> float:
        """When the loop wakes for a timer due at ``due``: the next point of the slack grid."""
        slack = self.slack
        return max(due, math.ceil(due / slack) * slack) if slack else due

    def _adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        """Serve timers on ``loop`` from now on (a clock lives on one loop; a new loop, as in a
        fresh ``asyncio.run``, cannot run the timers of one that is gone)."""
        if self._wakeup is not None:
            self._wakeup.cancel()
        for _, _, timer in self._heap:
            timer._owner = None
        self._heap.clear()
        self._slots.clear()
        self._cancelled = 0
        self._loop = loop
        self._wakeup = None
        self._wakeup_at = math.inf

    def _wake_at(self, due: float) -> None:
        """Wake the loop for a timer due at ``due`` unless it wakes by then already."""
        assert self._loop is not None
        when = self._wake_time(due)
        if when >= self._wakeup_at:
            return
        if self._wakeup is not None:
            self._wakeup.cancel()
        self._wakeup = self._loop.call_at(when, self._run_due)
        self._wakeup_at = when

    def _run_due(self) -> None:
        """Run every timer whose time has come (asyncio's test: ``when < now + resolution``)."""
        assert self._loop is not None
        self._wakeup = None
        self._wakeup_at = math.inf
        queue = self._heap
        end = self._loop.time() + self._resolution
        due: list[Timer] = []
        while queue and queue[0][0] < end:
            timer = heapq.heappop(queue)[2]
            if timer._cancelled:
                self._cancelled -= 1
            else:
                timer._owner = None
                due.append(timer)
        self._next()
        for timer in due:
            if timer._cancelled:  # by a timer of this batch
                continue
            timer._cancelled = True  # a timer fires once (Timer._fire, inline)
            try:
                timer.callback()
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:  # as asyncio reports a failing callback, and goes on
                self._loop.call_exception_handler(
                    {"message": f"Exception in timer callback {timer.callback!r}", "exception": exc}
                )

    def _next(self) -> None:
        queue = self._heap
        while queue and queue[0][2]._cancelled:
            heapq.heappop(queue)
            self._cancelled -= 1
        if queue and queue[0][0] < self._wakeup_at:
            self._wake_at(queue[0][0])

    def _forget(self) -> None:
        """A queued timer was cancelled: drop the cancelled ones once they are most of the queue."""
        self._cancelled += 1
        if self._cancelled > 64 and self._cancelled * 2 > len(self._heap):
            for _, _, timer in self._heap:
                if timer._cancelled:
                    timer._owner = None
            self._heap = [entry for entry in self._heap if not entry[2]._cancelled]
            heapq.heapify(self._heap)
            self._cancelled = 0

    @property
    def pending(self) -> int:
        """Timers queued and not yet run or cancelled (a series counts its next event)."""
        return len(self._heap) - self._cancelled


class ManualClock(Clock):
    """A clock that moves only when told to. Deterministic: ties run in scheduling order."""

    def __init__(self, *, start_epoch_ms: int = 1_763_700_000_000) -> None:
        self._now = 0.0
        self._start_epoch_ms = start_epoch_ms
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = 0
        self._series: list[Series] = []  # series with events not yet queued (for pending)

    def now(self) -> float:
        return self._now

    def epoch_ms(self) -> int:
        return self._start_epoch_ms + round(self._now * 1000.0)

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        return self._queue(self._due(when), self._reserve(1), callback)

    def _due(self, when: float) -> float:
        # Times are kept to the nanosecond so that repeated float steps (50 x 0.02 s) land
        # exactly on the deadlines they add up to.
        return round(max(when, self._now), 9)

    def _reserve(self, count: int) -> int:
        first = self._seq
        self._seq = first + count
        return first

    def _queue(self, due: float, order: int, callback: Callable[[], None]) -> Timer:
        timer = Timer(due, callback)
        heapq.heappush(self._heap, (due, order, timer))
        return timer

    def call_series(self, events: Iterable[tuple[float, Callable[[Any], None], Any]]) -> Series:
        series = super().call_series(events)
        self._series = [s for s in self._series if not s.cancelled]
        self._series.append(series)
        return series

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
        """Timers that have not run and were not cancelled (every event of a series counts)."""
        queued = sum(1 for _, _, t in self._heap if not t.cancelled)
        return queued + sum(s.waiting - 1 for s in self._series if not s.cancelled)


async def settle(rounds: int = 3) -> None:
    """Yield to the event loop a few times so ready tasks (socket writers) run."""
    for _ in range(rounds):
        await asyncio.sleep(0)
