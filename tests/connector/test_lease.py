"""Leases: mutual exclusion, fencing tokens, expiry, the stream registry, and Redis failures.

The contract tests run on both stores: :class:`MemoryLeaseStore` on a manual clock, and
:class:`RedisLeaseStore` on the real Redis server of the test run. Redis expiry is checked
through PTTL values, never by waiting for it.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import pytest
import redis
import redis.asyncio
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from connector.errors import ConnectorError
from connector.lease import Holder, Lease, LeaseError, LeaseStore, MemoryLeaseStore, RedisLeaseStore
from simulator.clock import ManualClock

STREAM = "03db704592624398931a588dd78200cb"
TTL = 15.0
T = TypeVar("T")


@dataclass
class Store:
    """A store under test and how to make its lease on ``STREAM`` lapse without waiting."""

    store: LeaseStore
    expire: Callable[[str], Awaitable[None]]


def sync_redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


@pytest.fixture(params=["memory", "redis"])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        clock = ManualClock()
        memory = MemoryLeaseStore(clock)

        async def lapse(stream_id: str) -> None:
            holder = await memory.holder(stream_id)
            assert holder is not None
            clock.advance(holder.remaining)

        yield Store(memory, lapse)
        return
    url = request.getfixturevalue("redis_db")
    store = RedisLeaseStore(url)
    direct = sync_redis(url)

    async def delete(stream_id: str) -> None:
        assert direct.delete(f"rtms:lease:{stream_id}") == 1

    try:
        yield Store(store, delete)
    finally:
        await store.close()
        direct.close()


@pytest.fixture
async def redis_store(redis_db: str) -> AsyncIterator[RedisLeaseStore]:
    store = RedisLeaseStore(redis_db)
    try:
        yield store
    finally:
        await store.close()


# -- the contract, on both stores -------------------------------------------------------------


async def test_a_free_stream_is_granted_with_token_1_and_then_held(subject: Store) -> None:
    store = subject.store
    lease = await store.acquire(STREAM, "a", TTL)
    assert lease == Lease(STREAM, "a", 1, TTL)
    assert await store.acquire(STREAM, "b", TTL) is None
    holder = await store.holder(STREAM)
    assert holder is not None
    assert (holder.owner, holder.token) == ("a", 1)
    assert TTL - 1 < holder.remaining <= TTL


async def test_reacquiring_while_held_renews_the_same_token(subject: Store) -> None:
    store = subject.store
    first = await store.acquire(STREAM, "a", TTL)
    again = await store.acquire(STREAM, "a", 30.0)
    assert first is not None
    assert again == Lease(STREAM, "a", first.token, 30.0)
    holder = await store.holder(STREAM)
    assert holder is not None
    assert holder.remaining > TTL  # extended to the new ttl


async def test_tokens_strictly_increase_across_successive_owners(subject: Store) -> None:
    store = subject.store
    tokens = []
    for owner in ["a", "b", "a", "c"]:
        lease = await store.acquire(STREAM, owner, TTL)
        assert lease is not None
        tokens.append(lease.token)
        assert await store.release(lease)
    assert tokens == [1, 2, 3, 4]
    assert await store.holder(STREAM) is None


async def test_tokens_increase_after_a_lease_lapsed(subject: Store) -> None:
    store = subject.store
    first = await store.acquire(STREAM, "a", TTL)
    assert first is not None
    await subject.expire(STREAM)
    assert await store.holder(STREAM) is None
    second = await store.acquire(STREAM, "a", TTL)  # the same owner, but a new grant
    assert second is not None
    assert second.token == first.token + 1


async def test_release_by_a_non_owner_or_with_a_stale_token_fails(subject: Store) -> None:
    store = subject.store
    old = await store.acquire(STREAM, "a", TTL)
    assert old is not None
    assert not await store.release(Lease(STREAM, "b", old.token, TTL))
    assert await store.release(old)
    current = await store.acquire(STREAM, "a", TTL)
    assert current is not None
    assert not await store.release(old)  # same owner, deposed token
    holder = await store.holder(STREAM)
    assert holder is not None
    assert (holder.owner, holder.token) == ("a", current.token)


async def test_renew_and_release_fail_once_someone_else_took_over(subject: Store) -> None:
    store = subject.store
    deposed = await store.acquire(STREAM, "a", TTL)
    assert deposed is not None
    await subject.expire(STREAM)
    successor = await store.acquire(STREAM, "b", TTL)
    assert successor is not None
    assert successor.token > deposed.token
    assert not await store.renew(deposed)
    assert not await store.release(deposed)
    assert await store.renew(successor)
    holder = await store.holder(STREAM)
    assert holder is not None
    assert (holder.owner, holder.token) == ("b", successor.token)


async def test_renew_of_a_lapsed_lease_fails_even_if_nobody_took_it(subject: Store) -> None:
    store = subject.store
    lease = await store.acquire(STREAM, "a", TTL)
    assert lease is not None
    await subject.expire(STREAM)
    assert not await store.renew(lease)
    assert await store.holder(STREAM) is None


async def test_the_registry_keeps_raw_bytes_and_the_latest_payload(subject: Store) -> None:
    store = subject.store
    binary = bytes(range(256))
    await store.register(STREAM, b'{"event":"meeting.rtms_started"}', 60.0)
    await store.register("other", binary, 60.0)
    await store.register(STREAM, b'{"server_urls":"wss://new"}', 60.0)  # failover: new server_urls
    assert await store.registered() == {STREAM: b'{"server_urls":"wss://new"}', "other": binary}


async def test_unregister_drops_the_entry_the_counter_and_the_lease(subject: Store) -> None:
    store = subject.store
    await store.register(STREAM, b"{}", 60.0)
    for owner in ["a", "b"]:
        lease = await store.acquire(STREAM, owner, TTL)
        assert lease is not None
        await store.release(lease)
    held = await store.acquire(STREAM, "c", TTL)
    assert held is not None
    assert held.token == 3
    await store.unregister(STREAM)
    assert await store.registered() == {}
    assert await store.holder(STREAM) is None
    assert not await store.renew(held)
    fresh = await store.acquire(STREAM, "d", TTL)
    assert fresh is not None
    assert fresh.token == 1


async def test_unregistering_an_unknown_stream_is_harmless(subject: Store) -> None:
    await subject.store.unregister("never-seen")
    assert await subject.store.registered() == {}


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.acquire("", "a", TTL),
        lambda s: s.acquire(STREAM, "", TTL),
        lambda s: s.acquire(STREAM, "a", 0.0),
        lambda s: s.acquire(STREAM, "a", float("nan")),
        lambda s: s.register(STREAM, b"{}", -1.0),
    ],
)
async def test_meaningless_arguments_are_rejected(
    subject: Store, call: Callable[[LeaseStore], Awaitable[object]]
) -> None:
    with pytest.raises(ValueError, match="lease"):
        await call(subject.store)


# -- MemoryLeaseStore: time from the clock ----------------------------------------------------


async def test_memory_lease_lapses_exactly_at_its_ttl() -> None:
    clock = ManualClock()
    store = MemoryLeaseStore(clock)
    first = await store.acquire(STREAM, "a", 10.0)
    assert first is not None
    clock.advance(9.999)
    assert await store.acquire(STREAM, "b", 10.0) is None
    assert await store.holder(STREAM) == Holder("a", 1, pytest.approx(0.001))
    clock.advance(0.001)
    assert await store.holder(STREAM) is None
    second = await store.acquire(STREAM, "b", 10.0)
    assert second == Lease(STREAM, "b", 2, 10.0)
    assert not await store.renew(first)


async def test_memory_renew_extends_from_now() -> None:
    clock = ManualClock()
    store = MemoryLeaseStore(clock)
    lease = await store.acquire(STREAM, "a", 10.0)
    assert lease is not None
    clock.advance(8.0)
    assert await store.renew(lease)
    clock.advance(9.0)  # 17 s after the grant, 9 s after the renewal
    assert await store.holder(STREAM) == Holder("a", 1, pytest.approx(1.0))


async def test_memory_registry_entries_lapse_unless_an_owner_refreshes_them() -> None:
    clock = ManualClock()
    store = MemoryLeaseStore(clock)
    await store.register(STREAM, b"owned", 10.0)
    await store.register("orphan", b"orphan", 10.0)
    lease = await store.acquire(STREAM, "a", 3.0)
    assert lease is not None
    for _ in range(4):  # renewals at 2.5, 5, 7.5, 10 keep the owned entry alive
        clock.advance(2.5)
        assert await store.renew(lease)
    assert await store.registered() == {STREAM: b"owned"}
    clock.advance(9.999)
    assert await store.registered() == {STREAM: b"owned"}
    clock.advance(0.001)
    assert await store.registered() == {}


# -- RedisLeaseStore: keys, PTTLs, atomicity under contention ----------------------------------


async def test_twenty_concurrent_acquirers_on_redis_exactly_one_wins_each_round(redis_db: str) -> None:
    stores = [RedisLeaseStore(redis_db) for _ in range(20)]
    try:
        tokens = []
        for _ in range(5):
            results = await asyncio.gather(
                *(s.acquire(STREAM, f"replica-{i}", TTL) for i, s in enumerate(stores))
            )
            winners = [lease for lease in results if lease is not None]
            assert len(winners) == 1
            winner = winners[0]
            holder = await stores[0].holder(STREAM)
            assert holder is not None
            assert (holder.owner, holder.token) == (winner.owner, winner.token)
            tokens.append(winner.token)
            # Every loser tries to release with the winner's token under its own name: refused.
            forged = [
                stores[i].release(Lease(STREAM, f"replica-{i}", winner.token, TTL))
                for i, lease in enumerate(results)
                if lease is None
            ]
            assert not any(await asyncio.gather(*forged))
            after = await stores[0].holder(STREAM)
            assert after is not None
            assert (after.owner, after.token) == (winner.owner, winner.token)
            assert await stores[0].release(winner)
        assert tokens == [1, 2, 3, 4, 5]
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_redis_keys_and_ttls(redis_db: str) -> None:
    direct = sync_redis(redis_db)
    store = RedisLeaseStore(redis_db, prefix="p")
    try:
        await store.register(STREAM, b"body", 60.0)
        assert direct.hget("p:streams", STREAM) == b"body"
        assert 59_000 < direct.pttl(f"p:stream:{STREAM}") <= 60_000
        lease = await store.acquire(STREAM, "replica-a", TTL)
        assert lease is not None
        assert direct.get(f"p:lease:{STREAM}") == b"replica-a|1"
        assert 14_000 < direct.pttl(f"p:lease:{STREAM}") <= 15_000
        assert direct.get(f"p:fence:{STREAM}") == b"1"
        # The counter outlives both the lease and the registry entry.
        assert direct.pttl(f"p:fence:{STREAM}") >= direct.pttl(f"p:stream:{STREAM}") > 0

        direct.pexpire(f"p:lease:{STREAM}", 500)
        direct.pexpire(f"p:stream:{STREAM}", 500)
        assert await store.renew(lease)
        assert 14_000 < direct.pttl(f"p:lease:{STREAM}") <= 15_000
        assert 59_000 < direct.pttl(f"p:stream:{STREAM}") <= 60_000  # renew refreshes the registry

        holder = await store.holder(STREAM)
        assert holder is not None
        assert holder.owner == "replica-a"
        assert 14.0 < holder.remaining <= 15.0
        assert set(direct.keys("p:*")) == {
            b"p:streams",
            f"p:stream:{STREAM}".encode(),
            f"p:lease:{STREAM}".encode(),
            f"p:fence:{STREAM}".encode(),
        }
    finally:
        await store.close()
        direct.close()


async def test_the_fencing_counter_lives_as_long_as_the_lease_without_a_registration(
    redis_store: RedisLeaseStore, redis_db: str
) -> None:
    direct = sync_redis(redis_db)
    try:
        assert await redis_store.acquire(STREAM, "a", 30.0) is not None
        assert 29_000 < direct.pttl(f"rtms:fence:{STREAM}") <= 30_000
    finally:
        direct.close()


async def test_redis_registry_drops_entries_whose_owner_stopped_refreshing(
    redis_store: RedisLeaseStore, redis_db: str
) -> None:
    direct = sync_redis(redis_db)
    try:
        await redis_store.register(STREAM, b"alive", 60.0)
        await redis_store.register("dead", b"dead", 60.0)
        direct.delete("rtms:stream:dead")  # what its expiry does
        assert await redis_store.registered() == {STREAM: b"alive"}
        assert direct.hkeys("rtms:streams") == [STREAM.encode()]
    finally:
        direct.close()


async def test_owner_ids_may_contain_the_separator(redis_store: RedisLeaseStore) -> None:
    lease = await redis_store.acquire(STREAM, "pod|7", TTL)
    assert lease is not None
    assert await redis_store.acquire(STREAM, "pod|7", TTL) == lease
    assert await redis_store.acquire(STREAM, "pod", TTL) is None
    holder = await redis_store.holder(STREAM)
    assert holder is not None
    assert (holder.owner, holder.token) == ("pod|7", 1)


async def test_a_supplied_client_is_used_and_left_open(redis_db: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_db)
    store = RedisLeaseStore("redis://elsewhere", client=client)
    try:
        assert await store.acquire(STREAM, "a", TTL) is not None
        await store.close()
        assert await client.get(f"rtms:lease:{STREAM}") == b"a|1"
    finally:
        await client.aclose()


# -- Redis failures are LeaseErrors ------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


OPERATIONS: list[Callable[[LeaseStore], Awaitable[object]]] = [
    lambda s: s.acquire(STREAM, "a", TTL),
    lambda s: s.renew(Lease(STREAM, "a", 1, TTL)),
    lambda s: s.release(Lease(STREAM, "a", 1, TTL)),
    lambda s: s.holder(STREAM),
    lambda s: s.register(STREAM, b"{}", TTL),
    lambda s: s.unregister(STREAM),
    lambda s: s.registered(),
]


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_an_unreachable_redis_is_a_lease_error_naming_the_url_without_password(
    operation: Callable[[LeaseStore], Awaitable[object]],
) -> None:
    port = closed_port()
    store = RedisLeaseStore(f"redis://user:hunter2@127.0.0.1:{port}/0", timeout=1.0)
    try:
        with pytest.raises(LeaseError) as info:
            await operation(store)
    finally:
        await store.close()
    message = str(info.value)
    assert isinstance(info.value, ConnectorError)
    assert f"redis://user:***@127.0.0.1:{port}/0" in message
    assert "hunter2" not in message
    assert "\n" not in message
    assert "Connection refused" in message or "connecting" in message
    assert info.value.url == f"redis://user:***@127.0.0.1:{port}/0"
    assert info.value.__cause__ is None  # the redis-py exception is not chained


async def test_a_redis_command_error_is_a_lease_error(redis_store: RedisLeaseStore, redis_db: str) -> None:
    direct = sync_redis(redis_db)
    try:
        direct.hset(f"rtms:lease:{STREAM}", "not", "a string")  # wrong type under the lease key
        with pytest.raises(LeaseError, match=rf"cannot acquire the lease of stream {STREAM}: .*WRONGTYPE"):
            await redis_store.acquire(STREAM, "a", TTL)
    finally:
        direct.close()


def test_a_url_that_is_not_redis_is_a_lease_error() -> None:
    with pytest.raises(LeaseError, match="is not a usable Redis URL"):
        RedisLeaseStore("http://127.0.0.1:6379")


# -- property: never two believers, tokens monotonic -------------------------------------------


class LeaseMachine(RuleBasedStateMachine):
    """Random owners acquire, renew and release two streams while time moves.

    Each owner believes its lease valid until ``grant or renewal time + ttl``; the store must
    never let two owners believe at once, must agree on who holds, and must grant tokens that
    only grow.
    """

    owners = st.sampled_from(["a", "b", "c"])
    streams = st.sampled_from(["s1", "s2"])

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = ManualClock()
        self.store = MemoryLeaseStore(self.clock)
        self.beliefs: dict[tuple[str, str], tuple[Lease, float]] = {}
        self.top: dict[str, int] = {}

    def run(self, awaitable: Awaitable[T]) -> T:
        async def call() -> T:
            return await awaitable

        return self.loop.run_until_complete(call())

    def until(self, ttl: float) -> float:
        """When a lease granted or renewed now ends (deadlines are kept to the nanosecond)."""
        return round(self.clock.now() + ttl, 9)

    def believes(self, owner: str, stream: str) -> Lease | None:
        belief = self.beliefs.get((owner, stream))
        if belief is None or self.clock.now() >= belief[1]:
            return None
        return belief[0]

    @rule(owner=owners, stream=streams, ttl=st.floats(0.1, 10.0))
    def acquire(self, owner: str, stream: str, ttl: float) -> None:
        current = self.believes(owner, stream)
        lease = self.run(self.store.acquire(stream, owner, ttl))
        others = [o for o in "abc" if o != owner and self.believes(o, stream)]
        if lease is None:
            assert others, "refused although nobody holds the lease"
            return
        assert not others, "granted while another owner holds the lease"
        if current is not None:
            assert lease.token == current.token
        else:
            assert lease.token > self.top.get(stream, 0)
        self.top[stream] = max(self.top.get(stream, 0), lease.token)
        self.beliefs[(owner, stream)] = (lease, self.until(ttl))

    @rule(owner=owners, stream=streams)
    def renew(self, owner: str, stream: str) -> None:
        belief = self.beliefs.get((owner, stream))
        if belief is None:
            return
        valid = self.believes(owner, stream) is not None
        lease = belief[0]
        assert self.run(self.store.renew(lease)) == valid
        if valid:
            self.beliefs[(owner, stream)] = (lease, self.until(lease.ttl))
        else:
            del self.beliefs[(owner, stream)]

    @rule(owner=owners, stream=streams)
    def release(self, owner: str, stream: str) -> None:
        belief = self.beliefs.pop((owner, stream), None)
        if belief is not None:
            assert self.run(self.store.release(belief[0])) == (self.clock.now() < belief[1])

    @rule(seconds=st.floats(0.0, 6.0))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @invariant()
    def one_believer_and_the_store_agrees(self) -> None:
        for stream in ["s1", "s2"]:
            believers = [(o, lease) for o in "abc" if (lease := self.believes(o, stream)) is not None]
            assert len(believers) <= 1
            holder = self.run(self.store.holder(stream))
            if believers:
                owner, lease = believers[0]
                assert holder is not None
                assert (holder.owner, holder.token) == (owner, lease.token)
            else:
                assert holder is None

    def teardown(self) -> None:
        self.loop.close()


TestLeaseMachine = LeaseMachine.TestCase
TestLeaseMachine.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
