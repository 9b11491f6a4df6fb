"""A record of everything the simulator said and heard, in scenario time.

Media frames are counted rather than recorded one by one (a stream sends 50 audio frames a
second); every other message, webhook and control action is a :class:`Record`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Journal", "Record"]

log = logging.getLogger("simulator.journal")


@dataclass(frozen=True)
class Record:
    t: float
    epoch_ms: int
    stream_id: str | None
    channel: str  # "signaling", "media:audio", "webhook", "control", ...
    direction: str  # "in" (to the simulator), "out" (from it), or "note"
    kind: str  # message type name, event name, or what happened
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "t": self.t,
            "epoch_ms": self.epoch_ms,
            "stream_id": self.stream_id,
            "channel": self.channel,
            "direction": self.direction,
            "kind": self.kind,
            "detail": self.detail,
        }


class Journal:
    def __init__(self) -> None:
        self.records: list[Record] = []
        self.media_counts: Counter[tuple[str, str]] = Counter()  # (stream_id, kind) → frames
        self._waiters: list[tuple[Callable[[Record], bool], asyncio.Future[Record]]] = []

    def add(self, record: Record) -> None:
        self.records.append(record)
        log.debug(
            "%s %s %s %s %s", record.stream_id, record.channel, record.direction, record.kind, record.detail
        )
        if self._waiters:
            still: list[tuple[Callable[[Record], bool], asyncio.Future[Record]]] = []
            for predicate, future in self._waiters:
                if future.done():
                    continue
                if predicate(record):
                    future.set_result(record)
                else:
                    still.append((predicate, future))
            self._waiters = still

    async def wait_for(self, predicate: Callable[[Record], bool], *, timeout: float = 10.0) -> Record:
        """The first record (already present, or yet to come) that satisfies ``predicate``.

        Raises :class:`TimeoutError` after ``timeout`` seconds of real time: a bound on a
        peer that never answers, not a wait for behaviour.
        """
        for record in self.records:
            if predicate(record):
                return record
        future: asyncio.Future[Record] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        return await asyncio.wait_for(future, timeout)

    def count_media(self, stream_id: str, kind: str, n: int = 1) -> None:
        self.media_counts[(stream_id, kind)] += n

    def select(
        self,
        *,
        stream_id: str | None = None,
        kind: str | None = None,
        channel: str | None = None,
        direction: str | None = None,
    ) -> list[Record]:
        return [
            r
            for r in self.records
            if (stream_id is None or r.stream_id == stream_id)
            and (kind is None or r.kind == kind)
            and (channel is None or r.channel.startswith(channel))
            and (direction is None or r.direction == direction)
        ]

    def clear(self) -> None:
        self.records.clear()
        self.media_counts.clear()
