"""Single ownership of each stream across connector replicas (docs/ownership.md).

Zoom accepts one signaling connection per ``rtms_stream_id`` (docs/protocol.md §10 item 1), and
``meeting.rtms_started`` (§7.1) may reach every replica behind a load balancer (field report
F1: four instances raced for one stream and Zoom stopped it). Two pieces keep it to one:

* :class:`Ownership` holds one stream's lease for this replica, renews it every
  ``renew_every`` seconds, and sets :attr:`Ownership.lost` the moment the lease may no longer be
  ours: a renewal was refused, or renewals kept failing until the lease could run out within
  one more interval (self-fencing). Whoever runs the stream closes its sockets on ``lost``.
* :class:`Standby` runs on every replica and adopts registered streams whose owner is gone: it
  looks again exactly when the holder's lease runs out, so a stream whose owner was killed is
  taken over within the lease ttl.

Fencing: :attr:`Ownership.token` increases with every grant of a stream's lease. It travels
with the stream's output (``StreamInfo.fence``, and a field of every Redis Streams record), so
a consumer keeps, per stream, the greatest token seen and discards writes with a smaller one:
those come from a deposed owner that has not noticed yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable

from .clock import Cancellable, Clock
from .errors import ConnectorError
from .lease import Lease, LeaseError, LeaseStore

__all__ = ["Adopt", "Ownership", "Standby"]

logger = logging.getLogger("connector.ownership")

_MIN_WAIT = 0.001
"""Shortest wait between two looks at a lease: Redis reports whole milliseconds, so a lease
with 0 ms left may still exist for up to one millisecond."""


class Ownership:
    """One replica's hold on one stream: acquire once, renewed in the background, released once.

    ``renew_every`` (default ``ttl / 3``) must be below ``ttl / 2``: the lease is treated as
    lost at ``last confirmed renewal + ttl - renew_every``, and a renewal must get a chance
    before that. "Confirmed" counts from the moment the request was sent, so the owner's
    deadline never falls after the store's expiry. A renewal that fails with
    :class:`~connector.lease.LeaseError` is retried after ``renew_every / 2``; one refused by
    the store (someone else holds the lease) sets :attr:`lost` at once. ``on_renew(ok)`` is
    called after every renewal attempt (``True`` renewed; ``False`` refused or failed), e.g.
    for metrics; it must not block.

    An instance holds at most one grant: after :meth:`release` or :attr:`lost`, make a new one.
    """

    def __init__(
        self,
        store: LeaseStore,
        stream_id: str,
        owner: str,
        *,
        ttl: float,
        clock: Clock,
        renew_every: float | None = None,
        on_renew: Callable[[bool], None] | None = None,
    ) -> None:
        if not (math.isfinite(ttl) and ttl > 0):
            raise ValueError(f"lease ttl must be a positive number of seconds, got {ttl!r}")
        every = ttl / 3 if renew_every is None else renew_every
        if not (math.isfinite(every) and 0 < every < ttl / 2):
            raise ValueError(f"renew_every must be above 0 and below ttl/2 ({ttl / 2:g} s), got {every!r}")
        self.stream_id = stream_id
        self.owner = owner
        self.ttl = ttl
        self.renew_every = every
        self.lost = asyncio.Event()
        """Set once the lease may no longer be ours; the stream's sockets must close."""
        self.reason: str | None = None
        """Why :attr:`lost` was set."""
        self._store = store
        self._clock = clock
        self._on_renew = on_renew
        self._lease: Lease | None = None
        self._closed = False
        self._renew_timer: Cancellable | None = None
        self._fence_timer: Cancellable | None = None
        self._renewal: asyncio.Task[None] | None = None

    @property
    def lease(self) -> Lease | None:
        """The lease granted by :meth:`acquire`, or ``None`` before it succeeded."""
        return self._lease

    @property
    def token(self) -> int:
        """The fencing token of this grant (raises :class:`RuntimeError` before :meth:`acquire`)."""
        if self._lease is None:
            raise RuntimeError(f"stream {self.stream_id}: no lease acquired")
        return self._lease.token

    @property
    def held(self) -> bool:
        """Acquired, and neither lost nor released."""
        return self._lease is not None and not self._closed and not self.lost.is_set()

    async def acquire(self) -> bool:
        """Take the lease and start renewing it; ``False`` if another replica holds it.

        May be retried after ``False``. Raises :class:`~connector.lease.LeaseError` when the
        store is unreachable, :class:`RuntimeError` once a lease was granted or after release.
        """
        if self._lease is not None or self._closed:
            raise RuntimeError(
                f"stream {self.stream_id}: an Ownership is acquired at most once, and not after release"
            )
        sent = self._clock.now()
        lease = await self._store.acquire(self.stream_id, self.owner, self.ttl)
        if lease is None:
            return False
        self._lease = lease
        if self._closed:  # released while the grant was on its way: give it back
            await self._give_back(lease)
            return False
        logger.info("stream %s: lease acquired by %s (token %d)", self.stream_id, self.owner, lease.token)
        self._confirmed(sent)
        self._schedule(sent + self.renew_every)
        return True

    async def release(self) -> bool:
        """Stop renewing and give the lease up if it is still ours; ``True`` if it was.

        Never raises for an unreachable store: the lease then simply runs out.
        """
        self._closed = True
        self._cancel_timers()
        renewal, self._renewal = self._renewal, None
        if renewal is not None and renewal is not asyncio.current_task():
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
        if self._lease is None:
            return False
        return await self._give_back(self._lease)

    async def _give_back(self, lease: Lease) -> bool:
        try:
            released = await self._store.release(lease)
        except LeaseError as exc:
            logger.warning("stream %s: lease not released (it will expire): %s", self.stream_id, exc)
            return False
        if released:
            logger.info("stream %s: lease released by %s (token %d)", self.stream_id, self.owner, lease.token)
        return released

    def _schedule(self, due: float) -> None:
        # The timer is set here, synchronously, so renewals happen at exact clock times.
        self._renew_timer = self._clock.call_later(due - self._clock.now(), lambda: self._start_renewal(due))

    def _start_renewal(self, due: float) -> None:
        self._renew_timer = None
        if not self._done:
            self._renewal = asyncio.get_running_loop().create_task(self._renew(due))

    async def _renew(self, due: float) -> None:
        assert self._lease is not None
        sent = self._clock.now()
        try:
            renewed = await self._store.renew(self._lease)
        except LeaseError as exc:
            if self._done:
                return
            logger.warning("stream %s: lease renewal failed: %s", self.stream_id, exc)
            self._report(False)
            # Retry sooner than usual: a retry falling on the self-fencing deadline is useless.
            self._schedule(due + self.renew_every / 2)
            return
        if self._done:
            return  # fenced or released while the answer was on its way
        if not renewed:
            self._lose("the lease expired or was taken over by another replica")
            self._report(False)
            return
        self._confirmed(sent)
        self._report(True)
        self._schedule(due + self.renew_every)

    def _confirmed(self, sent: float) -> None:
        """The store extended the lease at or after ``sent``: move the self-fencing deadline."""
        if self._fence_timer is not None:
            self._fence_timer.cancel()
        deadline = sent + self.ttl - self.renew_every
        self._fence_timer = self._clock.call_later(
            deadline - self._clock.now(),
            lambda: self._lose(f"no renewal confirmed for {self.ttl - self.renew_every:g} s"),
        )

    def _lose(self, reason: str) -> None:
        if self._done:
            return
        self.reason = reason
        self._cancel_timers()
        logger.warning("stream %s: lease lost by %s: %s", self.stream_id, self.owner, reason)
        self.lost.set()

    @property
    def _done(self) -> bool:
        return self._closed or self.lost.is_set()

    def _cancel_timers(self) -> None:
        for timer in (self._renew_timer, self._fence_timer):
            if timer is not None:
                timer.cancel()
        self._renew_timer = self._fence_timer = None

    def _report(self, ok: bool) -> None:
        if self._on_renew is None:
            return
        try:
            self._on_renew(ok)
        except Exception:  # a metrics hook must not stop the renewals
            logger.exception("stream %s: on_renew callback failed", self.stream_id)


Adopt = Callable[[str, bytes], Awaitable[None]]
"""``adopt(stream_id, payload)``: take over a stream whose lease is free (see :class:`Standby`)."""


class Standby:
    """Takes over registered streams whose owner is gone; one per replica.

    Each pass reads the registry and, for every stream for which ``is_local(stream_id)`` is
    false, looks at the lease holder:

    * free: ``await adopt(stream_id, payload)``. The callback creates an :class:`Ownership`,
      and if :meth:`Ownership.acquire` succeeds, starts the stream from ``payload`` (the raw
      ``rtms_started`` body, §7.1) in its own task, then returns. Several replicas may adopt
      at once; the lease lets one win, the others see ``False`` from ``acquire``.
    * held (by anyone, this replica's id included: a stream this replica acquired but does not
      run is left to expire rather than started twice): the next pass is due when that lease runs
      out, so takeover happens at the expiry itself, not up to a poll interval later.

    Passes are at most ``poll`` seconds apart. ``is_local`` must be true from the
    moment the replica starts handling a stream (before it acquires), so that a pass never
    adopts a stream this replica is already starting. Store errors are logged and retried on
    the next pass; an error raised by ``adopt`` is logged and the stream is looked at again.
    """

    def __init__(
        self,
        store: LeaseStore,
        *,
        clock: Clock,
        adopt: Adopt,
        is_local: Callable[[str], bool],
        poll: float = 5.0,
    ) -> None:
        if not (math.isfinite(poll) and poll > 0):
            raise ValueError(f"poll must be a positive number of seconds, got {poll!r}")
        self.poll = poll
        self._store = store
        self._clock = clock
        self._adopt = adopt
        self._is_local = is_local
        self._task: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self._again = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start the passes (the first one at once, in the background); no-op if running."""
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the passes (an adoption under way is cancelled)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Make the next pass start now (e.g. after a local stream ended or lost its lease)."""
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)
        else:
            self._again = True

    async def scan(self) -> float:
        """One pass; returns the seconds until the next one is due."""
        try:
            streams = await self._store.registered()
        except LeaseError as exc:
            logger.warning("stream registry unavailable: %s", exc)
            return self.poll
        delay = self.poll
        for stream_id, payload in streams.items():
            if self._is_local(stream_id):
                continue
            try:
                holder = await self._store.holder(stream_id)
            except LeaseError as exc:
                logger.warning("stream %s: lease unreadable: %s", stream_id, exc)
                return self.poll
            if holder is None:
                await self._adopt_one(stream_id, payload)
            else:
                delay = min(delay, max(holder.remaining, _MIN_WAIT))
        return delay

    async def _adopt_one(self, stream_id: str, payload: bytes) -> None:
        logger.info("stream %s: lease free (owner gone); adopting it", stream_id)
        try:
            await self._adopt(stream_id, payload)
        except ConnectorError as exc:
            logger.warning("stream %s: adoption failed: %s", stream_id, exc)
        except Exception:  # one bad stream must not end takeover of the others
            logger.exception("stream %s: adoption failed", stream_id)

    async def _run(self) -> None:
        while True:
            try:
                delay = await self.scan()
            except Exception:  # e.g. a failing is_local: keep watching the other streams
                logger.exception("standby pass failed")
                delay = self.poll
            if self._again:
                self._again = False
                continue
            await self._wait(delay)

    async def _wait(self, delay: float) -> None:
        wakeup: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._wakeup = wakeup

        def due() -> None:
            if not wakeup.done():
                wakeup.set_result(None)

        # Scheduled synchronously after the pass, so the wait ends at an exact clock time.
        timer = self._clock.call_later(delay, due)
        try:
            await wakeup
        finally:
            timer.cancel()
            self._wakeup = None
