"""A bounded queue per stream between the socket readers and the sinks (docs/sinks.md,
"Backpressure").

Zoom does not slow down for a slow receiver: audio arrives every 20 ms whatever happens, and
a reader that waits for a full queue stops answering keep-alives, after which Zoom drops the
connection (§4.11). So the reader never waits: :meth:`FrameQueue.put` is synchronous, and when
the queue is full the *oldest* item makes room (stale media is the least useful) and is
counted per kind. The consumer takes batches with :meth:`FrameQueue.take` when told that
items are waiting (``on_ready``), or waits for them with :meth:`FrameQueue.get_batch`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable

from .clock import Cancellable, Clock

__all__ = ["Drains", "FrameQueue"]

logger = logging.getLogger("connector.backpressure")


class FrameQueue:
    """Items ``(kind, item)`` from one stream, at most ``maxsize`` held; one consumer.

    ``dropped`` counts the items dropped to make room, per kind; ``on_drop(kind)`` is called
    for each (metrics). ``on_ready()`` is called when an item arrives in an empty queue: the
    consumer's cue to take a batch (once per batch, not per item). ``high_water`` is the largest
    depth seen. Not thread-safe: put and get on the event loop's thread.
    """

    def __init__(
        self,
        maxsize: int = 2048,
        *,
        on_drop: Callable[[str], None] | None = None,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, not {maxsize}")
        self.maxsize = maxsize
        self.dropped: Counter[str] = Counter()
        self.high_water = 0
        self.on_drop = on_drop
        self.on_ready = on_ready
        self._items: deque[tuple[str, object]] = deque()
        self._ready = asyncio.Event()
        self._closed = False
        self._on_drop_failed = False

    @property
    def depth(self) -> int:
        return len(self._items)

    @property
    def closed(self) -> bool:
        return self._closed

    def put(self, kind: str, item: object) -> None:
        """Append ``item``; never blocks. When full, the oldest item is dropped first. Items
        put after :meth:`close` are ignored (the stream is over)."""
        if self._closed:
            return
        items = self._items
        depth = len(items)
        if depth >= self.maxsize:
            old_kind, _ = items.popleft()
            self.dropped[old_kind] += 1
            self._report_drop(old_kind)
            depth -= 1
        items.append((kind, item))
        depth += 1
        if depth > self.high_water:
            self.high_water = depth
        if depth == 1:
            self._ready.set()
            if self.on_ready is not None:
                self.on_ready()

    def take(self) -> list[tuple[str, object]]:
        """Every item held, oldest first (``[]`` when empty); never waits."""
        items = list(self._items)
        self._items.clear()
        return items

    async def get_batch(self, max_items: int = 256) -> list[tuple[str, object]]:
        """The oldest items, at most ``max_items``, in order; waits until there is one. After
        :meth:`close`: what remains, then ``[]`` forever."""
        if max_items < 1:
            raise ValueError(f"max_items must be at least 1, not {max_items}")
        while not self._items and not self._closed:
            self._ready.clear()
            await self._ready.wait()
        count = min(max_items, len(self._items))
        return [self._items.popleft() for _ in range(count)]

    def close(self) -> None:
        """No more items: wake the consumer; idempotent."""
        self._closed = True
        self._ready.set()

    def _report_drop(self, kind: str) -> None:
        if self.on_drop is None:
            return
        try:
            self.on_drop(kind)
        except Exception:  # a metrics callback must not break the socket reader
            if not self._on_drop_failed:
                self._on_drop_failed = True
                logger.exception("on_drop callback failed (further failures are ignored)")


class Drains:
    """When the queues of a replica's streams are drained, and their sinks flushed.

    A queue's ``on_ready`` cue arrives with its first item; its drain then runs once the
    socket readers of this turn of the event loop are done, so every item that arrived
    meanwhile goes in the same batch. One scheduled callback serves every stream that got
    items in a turn (not one per stream and frame).

    ``flush_interval`` (seconds, on ``clock``) spaces the sinks' flushes: a flush asked for
    with :meth:`flush_later` runs once the interval has passed, with every other flush due by
    then. A file written every 20 ms then costs one write to the OS per interval, not one per
    frame. 0 means: the caller flushes after every batch. A drain or flush that raises is
    logged; the others still run.
    """

    def __init__(self, clock: Clock, flush_interval: float = 0.0) -> None:
        self.clock = clock
        self.flush_interval = flush_interval
        self._due: list[Callable[[], None]] = []
        self._flushes: list[Callable[[], None]] = []
        self._flush_timer: Cancellable | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def schedule(self, drain: Callable[[], None]) -> None:
        """Run ``drain`` on the loop's next turn (the caller schedules each drain once)."""
        due = self._due
        due.append(drain)
        if len(due) == 1:
            loop = self._loop
            if loop is None or loop.is_closed():
                # Looked up once: asyncio.get_running_loop() costs a getpid() system call.
                loop = self._loop = asyncio.get_running_loop()
            loop.call_soon(self._run, due)

    def flush_later(self, flush: Callable[[], None]) -> None:
        """Run ``flush`` when the flush interval has passed (the caller asks once per flush)."""
        self._flushes.append(flush)
        if self._flush_timer is None:
            self._flush_timer = self.clock.call_later(self.flush_interval, self._run_flushes)

    def _run(self, due: list[Callable[[], None]]) -> None:
        if due is self._due:
            self._due = []
        _run_all(due)

    def _run_flushes(self) -> None:
        self._flush_timer = None
        flushes, self._flushes = self._flushes, []
        _run_all(flushes)


def _run_all(calls: list[Callable[[], None]]) -> None:
    for call in calls:
        try:
            call()
        except Exception:
            logger.exception("a drain or flush failed")
