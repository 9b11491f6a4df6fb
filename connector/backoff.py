"""The reconnect schedule: capped exponential backoff with jitter, bounded by tries and time.

Zoom's failover guidance (docs/protocol.md §9.2) asks for retries after 3 s, 6 s, 12 s, 24 s,
then every 30 s, reset after a successful handshake. Zoom itself waits 60 s for a signaling
reconnect and 65 s for a media reconnect before it ends the stream (§4.11, stop reason 19
AWAIT_RECONNECTION_TIMEOUT in §5.3), so retrying longer than that is wasted: the default
``deadline`` is 60 s from the first failure.

Jitter is *subtractive*: each delay is drawn uniformly from ``[(1 - jitter) * d, d]`` where
``d`` is the nominal delay above. A retry therefore never comes later than Zoom's schedule and
never exceeds ``cap``, while the streams of one replica that all lost their sockets in the same
second (a regional failover) spread out instead of reconnecting in lock step.

Pure: no I/O, no clock of its own. The caller passes ``now`` (any monotonic seconds, e.g.
``Clock.now()``) and waits the returned delay through :mod:`connector.clock`.
"""

from __future__ import annotations

import random

__all__ = ["RECONNECT_WINDOW", "Backoff"]

RECONNECT_WINDOW = 60.0
"""Seconds Zoom waits for a signaling reconnect before ending the stream (§4.11)."""


class Backoff:
    """One stream's retry schedule. Call :meth:`next_delay` after each failure, :meth:`reset`
    after a success.

    ``base``, ``factor``, ``cap``: the nominal delays are ``base * factor**n`` capped at ``cap``
    (defaults: 3, 6, 12, 24, 30, 30, ... seconds).
    ``jitter``: fraction in ``[0, 1)`` by which a delay may be shortened (see the module doc).
    ``max_attempts``: at most this many delays between resets (0: never retry; ``None``: no
    limit).
    ``deadline``: no retry is scheduled later than this many seconds after the first failure
    since the last reset; the last delay is shortened to land on it (``None``: no limit).
    ``rng``: the source of jitter; inject a seeded :class:`random.Random` for repeatable runs.

    Invalid arguments raise :class:`ValueError`. At least one of ``max_attempts`` and
    ``deadline`` must be set: an unbounded retry loop outlives the stream it serves.
    """

    def __init__(
        self,
        *,
        base: float = 3.0,
        factor: float = 2.0,
        cap: float = 30.0,
        jitter: float = 0.2,
        max_attempts: int | None = 6,
        deadline: float | None = RECONNECT_WINDOW,
        rng: random.Random | None = None,
    ) -> None:
        if not base > 0:
            raise ValueError(f"base must be a positive number of seconds, got {base!r}")
        if not factor >= 1:
            raise ValueError(f"factor must be at least 1, got {factor!r}")
        if not cap >= base:
            raise ValueError(f"cap must be at least base ({base!r}), got {cap!r}")
        if not 0 <= jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), got {jitter!r}")
        if max_attempts is not None and (isinstance(max_attempts, bool) or max_attempts < 0):
            raise ValueError(f"max_attempts must be an integer of 0 or more, or None, got {max_attempts!r}")
        if deadline is not None and not deadline > 0:
            raise ValueError(f"deadline must be a positive number of seconds or None, got {deadline!r}")
        if max_attempts is None and deadline is None:
            raise ValueError("max_attempts and deadline cannot both be None")
        self.base = base
        self.factor = factor
        self.cap = cap
        self.jitter = jitter
        self.max_attempts = max_attempts
        self.deadline = deadline
        self._rng = rng if rng is not None else random.Random()
        self._attempts = 0
        self._nominal = base
        self._started: float | None = None

    @property
    def attempts(self) -> int:
        """Delays handed out since the last :meth:`reset` (= retries scheduled)."""
        return self._attempts

    def next_delay(self, now: float) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` to give up.

        ``now`` is the time of the failure being reported; the first call after a reset
        starts the ``deadline``. Once it has returned ``None`` it keeps doing so until
        :meth:`reset`.
        """
        if self._started is None:
            self._started = now
        if self.max_attempts is not None and self._attempts >= self.max_attempts:
            return None
        remaining = None if self.deadline is None else self._started + self.deadline - now
        if remaining is not None and remaining <= 0:
            return None
        nominal = self._nominal
        delay = nominal * (1.0 - self.jitter * self._rng.random())
        if remaining is not None:
            delay = min(delay, remaining)
        # Grown step by step rather than as base * factor**n, which overflows a float after
        # about a thousand attempts when max_attempts is None.
        self._nominal = min(self.cap, nominal * self.factor)
        self._attempts += 1
        return delay

    def reset(self) -> None:
        """Forget past failures: the next delay is ``base`` again and the deadline restarts."""
        self._attempts = 0
        self._nominal = self.base
        self._started = None

    def __repr__(self) -> str:
        return (
            f"Backoff(base={self.base}, factor={self.factor}, cap={self.cap}, jitter={self.jitter}, "
            f"max_attempts={self.max_attempts}, deadline={self.deadline}, attempts={self._attempts})"
        )
