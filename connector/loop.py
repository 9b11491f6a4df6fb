"""The event loop the connector runs on: asyncio's, with I/O polls spaced while frames keep
coming (``ZM_RTMS_POLL_INTERVAL``, docs/configuration.md).

asyncio polls for I/O once per turn of its loop, and handles what the poll found. With
hundreds of streams each sending a frame every 20 ms (docs/protocol.md §4.12), frames arrive
every few tens of microseconds, so a poll that returns at once finds one or two: a turn of the
loop, and a wake-up of the process, per frame or two. Waiting out the rest of a short interval
after such a poll lets frames gather, so one turn serves many. When the loop was idle (the
last poll waited at least half the interval), the next poll is not delayed: a frame that comes
alone is read at once. Nor is it when waiting out the interval gathered the I/O of one socket
only: frames then come further apart than the interval, and the wait would cost a wake-up of
its own per frame (a sleep, then the poll) without saving any. A frame or timer is thus
handled at most ``poll_interval`` later than it would be otherwise.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_POLL_INTERVAL", "PacedSelector", "new_event_loop"]

MAX_POLL_INTERVAL = 0.05
"""The largest poll interval accepted (seconds): beyond it keep-alive answers and frames would
wait too long (§4.11)."""


class PacedSelector(selectors.DefaultSelector):
    """The platform's default selector, polling at most once per ``interval`` seconds while
    the loop is busy: a poll found I/O ready within half the interval, or found several
    sockets ready (after waiting out the interval, one socket only ends the spacing).

    A poll with a timeout of 0 (asyncio has callbacks waiting) is never delayed. ``clock`` and
    ``sleep`` are :func:`time.monotonic` and :func:`time.sleep` (tests pass their own).
    """

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__()
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._busy = interval / 2  # a poll that found I/O sooner than this found the loop busy
        self._hold = False  # the last poll found the loop busy: space the next one
        self._earliest = 0.0  # clock time of the next poll, when holding

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        clock = self._clock
        slept = False
        if self._hold and (timeout is None or timeout > 0):
            wait = self._earliest - clock()
            if wait > 0:
                if timeout is not None:
                    wait = min(wait, timeout)
                    timeout -= wait
                self._sleep(wait)
                slept = True
        started = clock()
        ready: list[tuple[selectors.SelectorKey, int]] = super().select(timeout)
        now = clock()
        waited = now - started
        count = len(ready)
        if count > 1:  # several sockets at once: busy, unless they ended a long idle wait
            self._hold = slept or waited < self.interval
        elif count:  # one socket: busy if it was ready at once, not if a spacing gathered it alone
            self._hold = not slept and waited < self._busy
        else:
            self._hold = False
        self._earliest = now + self.interval
        return ready


def new_event_loop(poll_interval: float = 0.0) -> asyncio.AbstractEventLoop:
    """A new event loop: asyncio's default when ``poll_interval`` is 0, else a selector loop
    whose polls are spaced by ``poll_interval`` seconds while busy (see the module doc)."""
    if poll_interval <= 0:
        return asyncio.new_event_loop()
    selector: Any = PacedSelector(poll_interval)
    return asyncio.SelectorEventLoop(selector)
