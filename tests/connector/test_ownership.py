"""Ownership of a stream (renewal, loss, self-fencing) and the standby that takes over streams.

Time is a manual clock throughout: renewals, self-fencing deadlines and standby looks are
timers on it. With Redis, expiry is simulated by deleting the lease key (what expiry does),
and TTLs are checked through PTTL, never by waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator

import pytest
import redis

from connector.errors import StreamError
from connector.lease import Holder, Lease, LeaseError, LeaseStore, MemoryLeaseStore, RedisLeaseStore
from connector.ownership import Ownership, Standby
from simulator.clock import ManualClock, settle

from .conftest import TIMEOUT

STREAM = "03db704592624398931a588dd78200cb"


class FlakyStore(LeaseStore):
    """A store between a replica and the real one: ``failing`` makes every call raise
    :class:`LeaseError` (an outage, or a partition); ``hanging`` makes renewals never answer."""

    def __init__(self, inner: LeaseStore) -> None:
        self.inner = inner
        self.failing = False
        self.hanging = False
        self.holder_read = asyncio.Event()  # set as each holder() answers

    def _gate(self, what: str) -> None:
        if self.failing:
            raise LeaseError(f"Redis at redis://10.0.0.9:6379/0: cannot {what}: Connection refused", url="x")

    async def acquire(self, stream_id: str, owner: str, ttl: float) -> Lease | None:
        self._gate("acquire")
        return await self.inner.acquire(stream_id, owner, ttl)

    async def renew(self, lease: Lease) -> bool:
        self._gate("renew")
        if self.hanging:
            await asyncio.get_running_loop().create_future()  # never answered
        return await self.inner.renew(lease)

    async def release(self, lease: Lease) -> bool:
        self._gate("release")
        return await self.inner.release(lease)

    async def holder(self, stream_id: str) -> Holder | None:
        self._gate("holder")
        found = await self.inner.holder(stream_id)
        self.holder_read.set()
        return found

    async def register(self, stream_id: str, payload: bytes, ttl: float) -> None:
        self._gate("register")
        await self.inner.register(stream_id, payload, ttl)

    async def unregister(self, stream_id: str) -> None:
        self._gate("unregister")
        await self.inner.unregister(stream_id)

    async def registered(self) -> dict[str, bytes]:
        self._gate("registered")
        return await self.inner.registered()

    async def close(self) -> None:
        await self.inner.close()


class Renewals:
    """``on_renew`` for tests: (clock time, ok) of every renewal attempt, and an event per call."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.calls: list[tuple[float, bool]] = []
        self.changed = asyncio.Event()

    def __call__(self, ok: bool) -> None:
        self.calls.append((self.clock.now(), ok))
        self.changed.set()

    async def next(self) -> tuple[float, bool]:
        count = len(self.calls)
        async with asyncio.timeout(TIMEOUT):
            while len(self.calls) == count:
                self.changed.clear()
                await self.changed.wait()
        return self.calls[-1]


async def advance(clock: ManualClock, seconds: float) -> None:
    """Move the clock and let the tasks its timers woke run."""
    clock.advance(seconds)
    await settle()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(clock: ManualClock) -> MemoryLeaseStore:
    return MemoryLeaseStore(clock)


@pytest.fixture
async def redis_store(redis_db: str) -> AsyncIterator[RedisLeaseStore]:
    store = RedisLeaseStore(redis_db)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def direct(redis_db: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_db)
    yield client
    client.close()


# -- Ownership ---------------------------------------------------------------------------------


async def test_renewals_every_third_of_the_ttl_keep_the_lease(
    clock: ManualClock, store: MemoryLeaseStore
) -> None:
    renewals = Renewals(clock)
    own = Ownership(store, STREAM, "a", ttl=15.0, clock=clock, on_renew=renewals)
    assert own.renew_every == 5.0
    assert await own.acquire()
    assert (own.token, own.held) == (1, True)
    await clock.run_for(40.0, step=0.5)
    assert renewals.calls == [(pytest.approx(t), True) for t in (5, 10, 15, 20, 25, 30, 35, 40)]
    assert await store.holder(STREAM) == Holder("a", 1, pytest.approx(15.0))
    assert not own.lost.is_set()
    assert await own.release()
    assert await store.holder(STREAM) is None
    assert not own.held


async def test_lost_is_set_at_the_first_renewal_after_a_takeover(
    clock: ManualClock, store: MemoryLeaseStore
) -> None:
    renewals = Renewals(clock)
    own = Ownership(store, STREAM, "a", ttl=15.0, clock=clock, on_renew=renewals)
    assert await own.acquire()
    assert own.lease is not None
    await store.release(own.lease)  # deposed behind its back...
    assert await store.acquire(STREAM, "b", 15.0) is not None  # ...and someone else took over
    await advance(clock, 4.999)
    assert not own.lost.is_set()
    await advance(clock, 0.001)
    assert own.lost.is_set()
    assert own.reason is not None
    assert "taken over" in own.reason
    assert renewals.calls == [(pytest.approx(5.0), False)]
    assert not own.held
    assert not await own.release()  # not ours: nothing released
    holder = await store.holder(STREAM)
    assert holder is not None
    assert holder.owner == "b"


async def test_redis_takeover_sets_lost_and_leaves_the_successor_alone(
    clock: ManualClock, redis_store: RedisLeaseStore, direct: redis.Redis
) -> None:
    renewals = Renewals(clock)
    own = Ownership(redis_store, STREAM, "a", ttl=15.0, clock=clock, on_renew=renewals)
    assert await own.acquire()
    assert direct.delete(f"rtms:lease:{STREAM}") == 1  # what expiry does
    successor = await redis_store.acquire(STREAM, "b", 15.0)
    assert successor is not None
    assert successor.token == own.token + 1
    clock.advance(5.0)
    async with asyncio.timeout(TIMEOUT):
        await own.lost.wait()
    assert renewals.calls == [(5.0, False)]
    assert not await own.release()
    assert direct.get(f"rtms:lease:{STREAM}") == b"b|2"


async def test_redis_renewal_restores_the_pttl(
    clock: ManualClock, redis_store: RedisLeaseStore, direct: redis.Redis
) -> None:
    renewals = Renewals(clock)
    own = Ownership(redis_store, STREAM, "a", ttl=15.0, clock=clock, on_renew=renewals)
    assert await own.acquire()
    direct.pexpire(f"rtms:lease:{STREAM}", 2_000)
    clock.advance(5.0)
    assert await renewals.next() == (5.0, True)
    assert 14_000 < direct.pttl(f"rtms:lease:{STREAM}") <= 15_000
    assert await own.release()
    assert direct.exists(f"rtms:lease:{STREAM}") == 0


async def test_self_fencing_when_the_store_fails_sets_lost_before_the_lease_can_lapse(
    clock: ManualClock, store: MemoryLeaseStore
) -> None:
    flaky = FlakyStore(store)
    renewals = Renewals(clock)
    own = Ownership(flaky, STREAM, "a", ttl=9.0, renew_every=3.0, clock=clock, on_renew=renewals)
    assert await own.acquire()
    await advance(clock, 3.0)  # renewed at 3: the lease runs until 12 in the store
    flaky.failing = True
    await advance(clock, 3.0)  # the renewal at 6 fails, and its retry at 7.5
    await advance(clock, 1.5)
    await advance(clock, 1.499)
    assert not own.lost.is_set()
    await advance(clock, 0.001)  # 9 = last renewal (3) + ttl (9) - renew_every (3)
    assert own.lost.is_set()
    assert own.reason == "no renewal confirmed for 6 s"
    assert renewals.calls == [(3.0, True), (6.0, False), (7.5, False)]
    # Fenced one renewal interval before the store would let anyone else in.
    assert await store.holder(STREAM) == Holder("a", 1, pytest.approx(3.0))
    assert not await own.release()  # the store is still down: no exception
    await advance(clock, 30.0)
    assert len(renewals.calls) == 3  # nothing more after losing


async def test_self_fencing_does_not_wait_for_a_renewal_that_never_answers(
    clock: ManualClock, store: MemoryLeaseStore
) -> None:
    flaky = FlakyStore(store)
    own = Ownership(flaky, STREAM, "a", ttl=9.0, renew_every=3.0, clock=clock)
    assert await own.acquire()
    flaky.hanging = True
    await advance(clock, 5.999)
    assert not own.lost.is_set()
    await advance(clock, 0.001)
    assert own.lost.is_set()
    assert await own.release()  # the hung renewal is cancelled; the lease is still ours to give back
    assert await store.holder(STREAM) is None


async def test_a_failure_followed_by_success_keeps_the_lease(
    clock: ManualClock, store: MemoryLeaseStore
) -> None:
    flaky = FlakyStore(store)
    renewals = Renewals(clock)
    own = Ownership(flaky, STREAM, "a", ttl=9.0, renew_every=3.0, clock=clock, on_renew=renewals)
    assert await own.acquire()
    flaky.failing = True
    await advance(clock, 3.0)
    flaky.failing = False
    await clock.run_for(30.0, step=0.5)
    assert not own.lost.is_set()
    # Retried 1.5 s after the failure, then back to every 3 s from the retry.
    assert renewals.calls == [(3.0, False)] + [(pytest.approx(4.5 + 3 * i), True) for i in range(10)]


async def test_acquire_is_refused_while_another_replica_holds_and_may_be_retried(
    clock: ManualClock, store: MemoryLeaseStore
) -> None:
    assert await store.acquire(STREAM, "b", 15.0) is not None
    own = Ownership(store, STREAM, "a", ttl=15.0, clock=clock)
    assert not await own.acquire()
    assert own.lease is None
    with pytest.raises(RuntimeError, match="no lease"):
        _ = own.token
    await advance(clock, 15.0)
    assert await own.acquire()
    assert own.token == 2
    with pytest.raises(RuntimeError, match="at most once"):
        await own.acquire()
    assert await own.release()
    with pytest.raises(RuntimeError, match="not after release"):
        await own.acquire()


async def test_acquire_propagates_a_lease_error(clock: ManualClock, store: MemoryLeaseStore) -> None:
    flaky = FlakyStore(store)
    flaky.failing = True
    own = Ownership(flaky, STREAM, "a", ttl=15.0, clock=clock)
    with pytest.raises(LeaseError, match="cannot acquire"):
        await own.acquire()


async def test_release_stops_the_renewals(clock: ManualClock, store: MemoryLeaseStore) -> None:
    renewals = Renewals(clock)
    own = Ownership(store, STREAM, "a", ttl=15.0, clock=clock, on_renew=renewals)
    assert await own.acquire()
    assert await own.release()
    assert clock.pending == 0
    await advance(clock, 60.0)
    assert renewals.calls == []
    assert not own.lost.is_set()


@pytest.mark.parametrize(
    ("ttl", "renew_every"), [(0.0, None), (-1.0, None), (float("inf"), None), (15.0, 7.5), (15.0, 0.0)]
)
def test_unworkable_timings_are_rejected(
    clock: ManualClock, store: MemoryLeaseStore, ttl: float, renew_every: float | None
) -> None:
    with pytest.raises(ValueError, match="ttl"):
        Ownership(store, STREAM, "a", ttl=ttl, renew_every=renew_every, clock=clock)


# -- Standby -----------------------------------------------------------------------------------


class Adoptions:
    """An ``adopt`` callback: records (stream_id, payload, clock time); the stream then runs here."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.calls: list[tuple[str, bytes, float]] = []
        self.local: set[str] = set()
        self.adopted = asyncio.Event()

    async def __call__(self, stream_id: str, payload: bytes) -> None:
        self.calls.append((stream_id, payload, self.clock.now()))
        self.local.add(stream_id)
        self.adopted.set()

    def is_local(self, stream_id: str) -> bool:
        return stream_id in self.local


@pytest.fixture
async def standbys() -> AsyncIterator[list[Standby]]:
    """Standbys started by a test (see :func:`begin`), stopped at its end."""
    made: list[Standby] = []
    yield made
    for standby in made:
        await standby.stop()


async def begin(standbys: list[Standby], standby: Standby) -> None:
    """Start ``standby`` and let its first pass run at the current clock time."""
    standbys.append(standby)
    await standby.start()
    await settle()


async def test_standby_adopts_exactly_when_the_dead_owners_lease_expires(
    clock: ManualClock, store: MemoryLeaseStore, standbys: list[Standby]
) -> None:
    await store.register(STREAM, b"rtms_started body", 60.0)
    dead = await store.acquire(STREAM, "a", 15.0)  # then SIGKILL: nobody renews it
    assert dead is not None
    await advance(clock, 3.7)
    assert await store.renew(dead)  # its last renewal: the lease ends at 18.7
    await advance(clock, 0.3)
    adoptions = Adoptions(clock)
    standby = Standby(store, clock=clock, adopt=adoptions, is_local=adoptions.is_local, poll=30.0)
    await begin(standbys, standby)
    await advance(clock, 14.699)
    assert adoptions.calls == []
    await advance(clock, 0.001)
    assert len(adoptions.calls) == 1
    stream_id, payload, at = adoptions.calls[0]
    assert (stream_id, payload) == (STREAM, b"rtms_started body")
    assert 18.7 <= at <= 18.7 + 1e-9


async def test_a_partitioned_owner_fences_itself_before_the_standby_takes_over(
    clock: ManualClock, store: MemoryLeaseStore, standbys: list[Standby]
) -> None:
    await store.register(STREAM, b"body", 60.0)
    link = FlakyStore(store)  # replica a's way to the store
    owner_a = Ownership(link, STREAM, "a", ttl=15.0, clock=clock)
    assert await owner_a.acquire()
    lost_at: list[float] = []

    async def watch() -> None:
        await owner_a.lost.wait()
        lost_at.append(clock.now())

    watcher = asyncio.create_task(watch())
    owners: list[Ownership] = []
    adopted_at: list[float] = []

    async def adopt(stream_id: str, payload: bytes) -> None:
        own = Ownership(store, stream_id, "b", ttl=15.0, clock=clock)
        if await own.acquire():
            owners.append(own)
            adopted_at.append(clock.now())

    standby = Standby(store, clock=clock, adopt=adopt, is_local=lambda s: bool(owners), poll=5.0)
    await begin(standbys, standby)
    await advance(clock, 2.0)
    link.failing = True  # a is cut off from the store (it keeps running)
    await clock.run_for(20.0, step=0.25)
    await watcher
    assert lost_at == [10.0]  # last renewal at 0 + ttl 15 - renew_every 5
    assert adopted_at == [15.0]  # a's lease ends 15 s after its last renewal
    assert owners[0].token == owner_a.token + 1
    link.failing = False  # the partition heals: a cannot undo b's ownership
    assert not await owner_a.release()
    holder = await store.holder(STREAM)
    assert holder is not None
    assert (holder.owner, holder.token) == ("b", 2)
    await owners[0].release()


async def test_unregistered_streams_are_never_adopted(
    clock: ManualClock, store: MemoryLeaseStore, standbys: list[Standby]
) -> None:
    lease = await store.acquire("unlisted", "a", 15.0)  # leased, never registered
    assert lease is not None
    await store.register("ended", b"ended", 60.0)
    await store.unregister("ended")
    await store.register(STREAM, b"control", 60.0)  # free and registered: adopted
    adoptions = Adoptions(clock)
    standby = Standby(store, clock=clock, adopt=adoptions, is_local=adoptions.is_local, poll=5.0)
    await begin(standbys, standby)
    await clock.run_for(60.0, step=0.5)
    assert [(s, p) for s, p, _ in adoptions.calls] == [(STREAM, b"control")]


async def test_a_stream_running_here_is_skipped(
    clock: ManualClock, store: MemoryLeaseStore, standbys: list[Standby]
) -> None:
    await store.register("running-here", b"mine", 60.0)
    await store.register(STREAM, b"orphan", 60.0)
    adoptions = Adoptions(clock)
    adoptions.local.add("running-here")
    standby = Standby(store, clock=clock, adopt=adoptions, is_local=adoptions.is_local, poll=5.0)
    await begin(standbys, standby)
    await clock.run_for(30.0, step=0.5)
    assert [s for s, _, _ in adoptions.calls] == [STREAM]


async def test_a_failed_adoption_is_retried_on_the_next_pass(
    clock: ManualClock, store: MemoryLeaseStore, standbys: list[Standby], caplog: pytest.LogCaptureFixture
) -> None:
    await store.register(STREAM, b"body", 60.0)
    attempts: list[float] = []

    async def adopt(stream_id: str, payload: bytes) -> None:
        attempts.append(clock.now())
        if len(attempts) == 1:
            raise StreamError("signaling handshake refused", stream_id=stream_id)
        assert await store.acquire(stream_id, "b", 15.0) is not None

    standby = Standby(store, clock=clock, adopt=adopt, is_local=lambda s: False, poll=5.0)
    with caplog.at_level(logging.WARNING, logger="connector.ownership"):
        await begin(standbys, standby)
        await clock.run_for(12.0, step=0.5)
    assert attempts == [0.0, 5.0]  # then held by b (this replica): not adopted twice
    failure = [r for r in caplog.records if "adoption failed" in r.getMessage()]
    assert len(failure) == 1
    assert "signaling handshake refused" in failure[0].getMessage()
    assert failure[0].exc_info is None


async def test_a_store_outage_pauses_takeover_until_it_recovers(
    clock: ManualClock, store: MemoryLeaseStore, standbys: list[Standby]
) -> None:
    await store.register(STREAM, b"body", 60.0)
    flaky = FlakyStore(store)
    flaky.failing = True
    adoptions = Adoptions(clock)
    standby = Standby(flaky, clock=clock, adopt=adoptions, is_local=adoptions.is_local, poll=5.0)
    await begin(standbys, standby)
    await clock.run_for(12.0, step=0.5)
    assert adoptions.calls == []
    assert standby.running
    flaky.failing = False
    await clock.run_for(5.0, step=0.5)
    assert [(s, t) for s, _, t in adoptions.calls] == [(STREAM, 15.0)]


async def test_wake_makes_a_pass_now(
    clock: ManualClock, store: MemoryLeaseStore, standbys: list[Standby]
) -> None:
    await store.register(STREAM, b"body", 60.0)
    lease = await store.acquire(STREAM, "a", 15.0)
    assert lease is not None
    adoptions = Adoptions(clock)
    standby = Standby(store, clock=clock, adopt=adoptions, is_local=adoptions.is_local, poll=30.0)
    await begin(standbys, standby)
    await store.release(lease)  # the owner ended cleanly without unregistering
    standby.wake()
    await settle()
    assert [(s, t) for s, _, t in adoptions.calls] == [(STREAM, 0.0)]


async def test_a_stopped_standby_adopts_nothing(
    clock: ManualClock, store: MemoryLeaseStore, standbys: list[Standby]
) -> None:
    adoptions = Adoptions(clock)
    standby = Standby(store, clock=clock, adopt=adoptions, is_local=adoptions.is_local, poll=5.0)
    await standby.start()
    await settle()
    await standby.stop()
    assert not standby.running
    await store.register(STREAM, b"body", 60.0)
    await clock.run_for(30.0, step=0.5)
    assert adoptions.calls == []
    assert clock.pending == 0


def test_a_poll_interval_must_be_positive(clock: ManualClock, store: MemoryLeaseStore) -> None:
    async def adopt(stream_id: str, payload: bytes) -> None:
        raise AssertionError("never called")

    with pytest.raises(ValueError, match="poll"):
        Standby(store, clock=clock, adopt=adopt, is_local=lambda s: False, poll=0.0)


async def test_redis_standby_looks_again_when_the_pttl_runs_out(
    clock: ManualClock, redis_store: RedisLeaseStore, direct: redis.Redis
) -> None:
    await redis_store.register(STREAM, b"body", 60.0)
    assert await redis_store.acquire(STREAM, "a", 15.0) is not None
    adoptions = Adoptions(clock)
    standby = Standby(redis_store, clock=clock, adopt=adoptions, is_local=adoptions.is_local, poll=30.0)
    delay = await standby.scan()
    assert 14.0 < delay <= 15.0
    assert adoptions.calls == []
    direct.delete(f"rtms:lease:{STREAM}")  # what expiry does
    assert await standby.scan() == 30.0
    assert adoptions.calls == [(STREAM, b"body", 0.0)]


async def test_redis_standby_running_adopts_on_wake(
    clock: ManualClock, redis_store: RedisLeaseStore, direct: redis.Redis, standbys: list[Standby]
) -> None:
    await redis_store.register(STREAM, b"body", 60.0)
    assert await redis_store.acquire(STREAM, "a", 15.0) is not None
    adoptions = Adoptions(clock)
    watched = FlakyStore(redis_store)
    standby = Standby(watched, clock=clock, adopt=adoptions, is_local=adoptions.is_local, poll=30.0)
    await begin(standbys, standby)
    async with asyncio.timeout(TIMEOUT):
        await watched.holder_read.wait()  # the first pass saw the lease held; the standby waits
    assert clock.pending == 1
    direct.delete(f"rtms:lease:{STREAM}")
    assert adoptions.calls == []
    standby.wake()
    async with asyncio.timeout(TIMEOUT):
        await adoptions.adopted.wait()
    assert adoptions.calls == [(STREAM, b"body", 0.0)]
