"""How well the simulator kept real time: the lateness of every media frame it sent.

A frame's lateness is the moment it is handed to its socket's transport minus its scheduled
time on the stream's frame grid (audio every ``send_rate`` ms, video and share every
``1000 / fps`` ms, transcripts and chat at their script times; §4.12). On the manual clock a
frame is handed over at the scenario time it fires, so its lateness is 0 unless it waited
behind earlier frames of a socket that could not take more.

Counting is cheap enough for every frame: one fixed-bucket histogram per media kind
(0.1 ms buckets up to 1 s, 10 ms buckets up to 60 s, then one overflow bucket), so
percentiles cost nothing until asked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["RESOLUTION", "Histogram", "Pacing"]

RESOLUTION = 1e-4
"""Bucket width in seconds (0.1 ms) up to :data:`FINE_LIMIT`."""

FINE_LIMIT = 1.0
COARSE_RESOLUTION = 1e-2  # 10 ms buckets beyond, up to COARSE_LIMIT, then one overflow bucket
COARSE_LIMIT = 60.0


class Histogram:
    """Non-negative values in fixed buckets: ``resolution`` wide up to ``limit``, ``coarse``
    wide from there up to ``coarse_limit``, then one overflow bucket. The count and the exact
    maximum are kept too. Negative values count as 0."""

    __slots__ = ("_counts", "_fine", "_last", "_scale", "coarse", "count", "limit", "max", "resolution")

    def __init__(
        self,
        *,
        resolution: float = RESOLUTION,
        limit: float = FINE_LIMIT,
        coarse: float = COARSE_RESOLUTION,
        coarse_limit: float = COARSE_LIMIT,
    ) -> None:
        if not (0 < resolution <= limit and coarse > 0 and limit <= coarse_limit):
            raise ValueError("a histogram needs 0 < resolution <= limit <= coarse_limit and coarse > 0")
        self.resolution = resolution
        self.limit = limit
        self.coarse = coarse
        self._scale = 1.0 / resolution
        self._fine = round(limit * self._scale)  # index of the first coarse bucket
        self._last = self._fine + math.ceil((coarse_limit - limit) / coarse)  # the overflow bucket
        self._counts = [0] * (self._last + 1)
        self.count = 0
        self.max = 0.0

    def add(self, value: float) -> None:
        index = int(value * self._scale)
        if index < 0:
            index = 0
        elif index >= self._fine:
            index = min(self._fine + int((value - self.limit) / self.coarse), self._last)
        self._counts[index] += 1
        self.count += 1
        if value > self.max:
            self.max = value

    def percentile(self, q: float) -> float:
        """The nearest-rank ``q`` percentile (0-100), as the upper edge of its bucket (never
        above the maximum seen; the maximum itself beyond the last bucket). NaN when empty."""
        if not 0 <= q <= 100:
            raise ValueError("a percentile is between 0 and 100")
        if self.count == 0:
            return float("nan")
        # the same rank as bench/common.percentile
        rank = max(1, min(self.count, round(q / 100.0 * self.count + 0.5)))
        seen = 0
        for index, n in enumerate(self._counts):
            seen += n
            if seen >= rank:
                if index == self._last:
                    return self.max
                if index < self._fine:
                    edge = (index + 1) * self.resolution
                else:
                    edge = self.limit + (index - self._fine + 1) * self.coarse
                return min(edge, self.max)
        return self.max  # pragma: no cover - the counts add up to count

    def clear(self) -> None:
        self._counts = [0] * (self._last + 1)
        self.count = 0
        self.max = 0.0


class Pacing:
    """Lateness per media kind (``audio``, ``video``, ``deskshare``, ``transcript``, ``chat``)
    since the last :meth:`reset`, and frames per kind since the simulator started."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._kinds: dict[str, Histogram] = {}
        self.totals: dict[str, int] = {}
        self.since: float | None = None  # scenario time of the last reset (None: never reset)

    def now(self) -> float:
        return self._now()

    def record(self, kind: str, due: float, at: float | None = None) -> None:
        """A ``kind`` frame scheduled at scenario time ``due`` was handed to its socket ``at``
        (default: now)."""
        histogram = self._kinds.get(kind)
        if histogram is None:
            histogram = self._kinds[kind] = Histogram()
            self.totals.setdefault(kind, 0)
        histogram.add((self._now() if at is None else at) - due)
        self.totals[kind] += 1

    def report(self) -> dict[str, Any]:
        """What the control API answers: per kind, frames and p50/p99/max lateness in ms."""
        now = self._now()
        kinds: dict[str, Any] = {}
        for kind, total in sorted(self.totals.items()):
            h = self._kinds[kind]
            kinds[kind] = {
                "frames": h.count,
                "total_frames": total,
                "p50_ms": _ms(h.percentile(50)),
                "p99_ms": _ms(h.percentile(99)),
                "max_ms": _ms(h.max) if h.count else None,
            }
        return {
            "since": self.since,
            "seconds": None if self.since is None else round(now - self.since, 6),
            "bucket_ms": RESOLUTION * 1000,
            "kinds": kinds,
        }

    def reset(self) -> dict[str, Any]:
        """Start a new window; returns the report of the window it closes."""
        closed = self.report()
        for histogram in self._kinds.values():
            histogram.clear()
        self.since = self._now()
        return closed

    def clear(self) -> None:
        """Forget everything, totals included (the simulator's own reset)."""
        self._kinds.clear()
        self.totals.clear()
        self.since = self._now()


def _ms(seconds: float) -> float | None:
    return None if seconds != seconds else round(seconds * 1000.0, 3)  # NaN: nothing counted
