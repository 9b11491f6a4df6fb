"""A bounded queue per stream between the socket readers and the sinks (docs/sinks.md,
"Backpressure").

Zoom does not slow down for a slow receiver: audio arrives every 20 ms whatever happens, and
a reader that waits for a full queue stops answering keep-alives, after which Zoom drops the
connection (§4.11). So the reader never waits: :meth:`FrameQueue.put` is synchronous, and when
the queue is full the *oldest* item makes room (stale media is the least useful) and is
counted per kind. The drain task takes batches with :meth:`FrameQueue.get_batch`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable

__all__ = ["FrameQueue"]

logger = logging.getLogger("connector.backpressure")


class FrameQueue:
    """Items ``(kind, item)`` from one stream, at most ``maxsize`` held; one consumer.

    ``dropped`` counts the items dropped to make room, per kind; ``on_drop(kind)`` is called
    for each (metrics). ``high_water`` is the largest depth seen. Not thread-safe: put and get
    on the event loop's thread.
    """

    def __init__(self, maxsize: int = 2048, *, on_drop: Callable[[str], None] | None = None) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, not {maxsize}")
        self.maxsize = maxsize
        self.dropped: Counter[str] = Counter()
        self.high_water = 0
        self.on_drop = on_drop
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
        if len(self._items) >= self.maxsize:
            old_kind, _ = self._items.popleft()
            self.dropped[old_kind] += 1
            self._report_drop(old_kind)
        self._items.append((kind, item))
        if len(self._items) > self.high_water:
            self.high_water = len(self._items)
        self._ready.set()

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
