"""Garbage collection paced for a real-time server (``rtms-sim serve``).

CPython's cycle collector runs when allocations pile up, and now and then it walks every
object in the process. A simulator serving a thousand hour-long streams holds millions of
long-lived objects (scripts, sockets, the journal): one such walk stops every stream for a
second or more, far beyond the frame grid's 20 ms. So the serving process collects on a
timer instead: the young generations every ``young_every`` seconds (a pause of about a
millisecond, and short-lived cycles are freed as before), the whole heap once the last live
stream has ended (looked at every ``idle_every`` seconds), and otherwise every
``full_every`` seconds. Objects that outlive two young
collections are only freed by refcount until then (cycles among them wait for the next full
collection).

The in-process simulator (tests, the pytest plugin) leaves the collector as it is.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable

__all__ = ["Collector"]

log = logging.getLogger("simulator.collector")


class Collector:
    """Collect on a timer on the running loop; :meth:`close` gives the collector back."""

    def __init__(
        self,
        idle: Callable[[], bool],
        *,
        young_every: float = 0.1,
        idle_every: float = 5.0,
        full_every: float = 1800.0,
    ) -> None:
        if not (young_every > 0 and idle_every > 0 and full_every > 0):
            raise ValueError("collection periods are positive numbers of seconds")
        self._idle = idle  # True when no stream is live: a full collection disturbs nobody
        self.young_every = young_every
        self.idle_every = idle_every
        self.full_every = full_every
        self._young: asyncio.TimerHandle | None = None
        self._check: asyncio.TimerHandle | None = None
        self._was_enabled = gc.isenabled()
        self._last_full = time.monotonic()
        self._streams_since = False  # a stream was live since the last full collection

    def start(self) -> None:
        gc.disable()
        loop = asyncio.get_running_loop()
        self._young = loop.call_later(self.young_every, self._collect_young)
        self._check = loop.call_later(self.idle_every, self._collect_full_if_due)

    def _collect_young(self) -> None:
        gc.collect(1)
        self._young = asyncio.get_running_loop().call_later(self.young_every, self._collect_young)

    def _collect_full_if_due(self) -> None:
        now = time.monotonic()
        idle = self._idle()
        if not idle:
            self._streams_since = True
        if (idle and self._streams_since) or now - self._last_full >= self.full_every:
            started = time.perf_counter()
            freed = gc.collect()
            log.info(
                "full collection: %d objects freed in %.0f ms (%s)",
                freed,
                (time.perf_counter() - started) * 1000,
                "no stream live" if idle else f"none for {self.full_every:g} s",
            )
            self._last_full = now
            self._streams_since = not idle
        self._check = asyncio.get_running_loop().call_later(self.idle_every, self._collect_full_if_due)

    def close(self) -> None:
        for handle in (self._young, self._check):
            if handle is not None:
                handle.cancel()
        self._young = self._check = None
        if self._was_enabled:
            gc.enable()
