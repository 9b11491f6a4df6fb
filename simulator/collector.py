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

A young collection walks every object made since the last one, so its pause grows with what
was made in between: streams joining (their scripts, sockets and handshakes) made tens of
thousands of objects in 100 ms, and the collection that followed stopped every stream for
10-30 ms. So the count of new objects is also looked at every ``check_every`` seconds, and a
young collection runs as soon as it reaches ``young_objects``: the pause stays short however
fast objects are made.

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
        check_every: float = 0.01,
        young_objects: int = 2000,
        count: Callable[[], int] = lambda: gc.get_count()[0],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (young_every > 0 and idle_every > 0 and full_every > 0 and check_every > 0):
            raise ValueError("collection periods are positive numbers of seconds")
        if young_objects < 1:
            raise ValueError("young_objects is a positive number of objects")
        self._idle = idle  # True when no stream is live: a full collection disturbs nobody
        self.young_every = young_every
        self.check_every = check_every
        self.young_objects = young_objects
        self._count = count  # objects made since the last collection (gc's generation 0)
        self._clock = clock
        self._last_young = clock()
        self.young_collections = 0
        self.idle_every = idle_every
        self.full_every = full_every
        self._young: asyncio.TimerHandle | None = None
        self._check: asyncio.TimerHandle | None = None
        self._was_enabled = gc.isenabled()
        self._last_full = clock()
        self._streams_since = False  # a stream was live since the last full collection

    def start(self) -> None:
        gc.disable()
        loop = asyncio.get_running_loop()
        self._last_young = self._clock()
        self._young = loop.call_later(self.check_every, self._collect_young)
        self._check = loop.call_later(self.idle_every, self._collect_full_if_due)

    def _collect_young(self) -> None:
        now = self._clock()
        if self._count() >= self.young_objects or now - self._last_young >= self.young_every:
            gc.collect(1)
            self.young_collections += 1
            self._last_young = now
        self._young = asyncio.get_running_loop().call_later(self.check_every, self._collect_young)

    def _collect_full_if_due(self) -> None:
        now = self._clock()
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
