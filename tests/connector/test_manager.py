"""The stream manager: webhooks in, streams out (docs/protocol.md §7.1, §9.2; docs/ownership.md).

Dedupe, rtms_stopped and rtms_interrupted, failover, graceful close_all, ownership across
replicas (one lease store, two managers), handover by the standby; and the whole connector
in-process. Timers run on a :class:`WatchedClock`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path

import aiohttp
import msgspec
import pytest

from connector.config import ConnectorConfig
from connector.lease import Holder, Lease, LeaseError, LeaseStore, MemoryLeaseStore, RedisLeaseStore
from connector.manager import Disposition, StreamManager
from connector.metrics import Metrics
from connector.protocol import (
    KeepAliveReq,
    KeepAliveResp,
    RtmsEvent,
    RtmsEventKind,
    SignalingHandshakeReq,
    StreamCloseReq,
    StreamStateUpdate,
)
from connector.service import Connector
from connector.sinks import SUMMARY_FILE
from connector.summary import StreamSummary

from .conftest import (
    STREAM_ID,
    TIMEOUT,
    FakeZoom,
    Join,
    Peer,
    WatchedClock,
    started_event,
    started_payload,
    stream_event,
    webhook,
)

MakeConfig = Callable[..., ConnectorConfig]
FIRST_DELAY = (2.4, 3.0)  # §9.2: 3 s, shortened by at most 20 % of jitter
TTL = 15.0  # lease ttl: renewals every 5 s, self-fencing at 10 s


def stopped_event(stop_reason: int, *, event_ts: int = 1727384200000) -> RtmsEvent:
    return msgspec.structs.replace(
        stream_event(RtmsEventKind.STOPPED, stop_reason=stop_reason), event_ts=event_ts
    )


def interrupted_event(*, event_ts: int = 1727384300000) -> RtmsEvent:
    return msgspec.structs.replace(stream_event(RtmsEventKind.INTERRUPTED), event_ts=event_ts)


@pytest.fixture
def clock() -> WatchedClock:
    return WatchedClock()


@pytest.fixture
def zoom(peer: Peer) -> FakeZoom:
    return FakeZoom(peer)


@pytest.fixture
def make_manager(make_config: MakeConfig, clock: WatchedClock) -> Callable[..., StreamManager]:
    """A manager on the test clock; keywords go to its config (``store`` to the manager)."""

    def make(
        *, store: LeaseStore | None = None, metrics: Metrics | None = None, **options: object
    ) -> StreamManager:
        config = make_config(**{"lease_ttl": TTL, "replica_id": "replica-a", **options})
        return StreamManager(config, clock=clock, store=store, metrics=metrics, rng=random.Random(3))

    return make


async def finished(manager: StreamManager, stream_id: str = STREAM_ID) -> StreamSummary:
    async with asyncio.timeout(TIMEOUT):
        return await manager.finished(stream_id)


async def terminate(join: Join, reason: int = 6) -> None:
    await join.signaling.send(StreamStateUpdate(state=4, reason=reason))


def revoked(summary: StreamSummary) -> bool:
    """The stream's directory is gone and no ``stream.json`` remains anywhere."""
    directory = Path(summary.directory)
    return not directory.exists() and not list(directory.parent.rglob(SUMMARY_FILE))


async def answered(join: Join) -> None:
    """Return once the connector read everything sent on signaling so far."""
    await join.signaling.send(KeepAliveReq(timestamp=1, sequence=1))
    await join.signaling.receive(KeepAliveResp)


# --- close_all (§4.14) ------------------------------------------------------------------------


async def test_close_all_sends_stream_close_req_and_records_reason_20(
    zoom: FakeZoom, peer: Peer, make_manager: Callable[..., StreamManager]
) -> None:
    metrics = Metrics()
    manager = make_manager(metrics=metrics)
    assert await manager.start(started_event(peer.url("/signal"))) is Disposition.STARTED
    assert metrics.registry.get_sample_value("rtms_connector_streams_owned") == 1
    join = await zoom.join()
    async with asyncio.timeout(TIMEOUT):
        await manager.close_all()
    assert await join.signaling.receive(StreamCloseReq) == StreamCloseReq(rtms_stream_id=STREAM_ID)
    summary = manager.summaries[STREAM_ID]
    assert (summary.end_cause, summary.stop_reason, summary.stop_reason_name) == (
        "closed",
        20,
        "STOP_BC_RECEIVER_REQUEST_CLOSE",
    )
    assert summary.fence == 1
    assert manager.active == {}
    assert metrics.registry.get_sample_value("rtms_connector_streams_owned") == 0
    assert await join.signaling.closed() == 1000
    # The stream is over for everyone: unregistered, lease released.
    assert await manager.store.registered() == {}
    assert await manager.store.holder(STREAM_ID) is None
    # Closed for good: a new stream is refused.
    other = started_event(peer.url("/signal"), stream_id="other")
    assert await manager.start(other) is Disposition.REFUSED


async def test_close_all_is_bounded_when_zoom_never_answers(
    zoom: FakeZoom, peer: Peer, make_manager: Callable[..., StreamManager], clock: WatchedClock
) -> None:
    zoom.answer_close = False
    manager = make_manager(close_timeout=7)
    await manager.start(started_event(peer.url("/signal")))
    join = await zoom.join()
    closing = asyncio.create_task(manager.close_all())
    await join.signaling.receive(StreamCloseReq)  # never answered
    await clock.skip(7)
    async with asyncio.timeout(TIMEOUT):
        await closing
    summary = await finished(manager)
    assert (summary.end_cause, summary.stop_reason) == ("closed", None)
    assert summary.detail == "no STREAM_CLOSE_RESP within 7 s"
    assert await join.signaling.closed() == 1000


# --- webhooks: duplicates, failover, stop, interrupt (§7.1, §7.4, §9.2) ------------------------


async def test_duplicate_rtms_started_is_ignored_and_new_server_urls_fail_over(
    zoom: FakeZoom, peer: Peer, make_manager: Callable[..., StreamManager], clock: WatchedClock
) -> None:
    metrics = Metrics()
    manager = make_manager(metrics=metrics)
    event = started_event(peer.url("/signal"))
    assert await manager.handle(event) is Disposition.STARTED
    session = manager.active[STREAM_ID]
    first = await zoom.join()
    assert await manager.handle(event) is Disposition.DUPLICATE  # Zoom's retry of the delivery
    again = msgspec.structs.replace(event, event_ts=event.event_ts + 1)
    assert await manager.handle(again) is Disposition.DUPLICATE  # same servers: nothing new
    moved = msgspec.structs.replace(event, server_urls=peer.url("/signal/b"), event_ts=event.event_ts + 2)
    assert await manager.handle(moved) is Disposition.FAILOVER
    assert await first.signaling.closed() == 1000
    await clock.skip(*FIRST_DELAY)
    second = await zoom.join(1)
    assert second.signaling.path == "/signal/b"
    assert manager.active[STREAM_ID] is session
    registered = await manager.store.registered()
    assert msgspec.json.decode(registered[STREAM_ID], type=RtmsEvent).server_urls == peer.url("/signal/b")
    await terminate(second)
    summary = await finished(manager)
    assert (summary.stop_reason, summary.reconnects) == (6, 1)
    webhooks = "rtms_connector_webhooks_total"
    started = {"event": "meeting.rtms_started"}
    assert metrics.registry.get_sample_value(webhooks, {**started, "outcome": "duplicate"}) == 2
    assert metrics.registry.get_sample_value(webhooks, {**started, "outcome": "failover"}) == 1
    assert metrics.registry.get_sample_value("rtms_connector_reconnects_total", {"cause": "failover"}) == 1


async def test_rtms_stopped_finishes_the_stream_with_its_reason(
    zoom: FakeZoom, peer: Peer, make_manager: Callable[..., StreamManager]
) -> None:
    manager = make_manager()
    await manager.handle(started_event(peer.url("/signal")))
    join = await zoom.join()
    async with asyncio.timeout(TIMEOUT):
        assert await manager.handle(stopped_event(6)) is Disposition.STOPPED
    summary = await finished(manager)
    assert (summary.end_cause, summary.stop_reason, summary.stop_reason_name) == (
        "stopped",
        6,
        "STOP_BC_MEETING_ENDED",
    )
    assert (Path(summary.directory) / SUMMARY_FILE).is_file()
    assert await join.signaling.closed() == 1000
    assert manager.active == {}
    assert await manager.handle(stopped_event(6)) is Disposition.DUPLICATE  # the same delivery
    later = stopped_event(6, event_ts=1727384900000)
    assert await manager.handle(later) is Disposition.NOT_ACTIVE
    assert await manager.handle(interrupted_event()) is Disposition.NOT_ACTIVE


async def test_stream_revoked_deletes_the_output(
    zoom: FakeZoom, peer: Peer, make_manager: Callable[..., StreamManager]
) -> None:
    manager = make_manager()
    await manager.handle(started_event(peer.url("/signal")))
    join = await zoom.join()
    await join.signaling.send(
        # Something was written before the revocation.
        StreamStateUpdate(state=1)
    )
    await answered(join)
    async with asyncio.timeout(TIMEOUT):
        assert await manager.handle(stopped_event(8)) is Disposition.STOPPED
    summary = await finished(manager)
    assert summary.stop_reason_name == "STOP_BC_STREAM_REVOKED"
    assert revoked(summary)


async def test_rtms_stopped_with_a_connection_reason_restarts_the_stream(
    zoom: FakeZoom, peer: Peer, make_manager: Callable[..., StreamManager], clock: WatchedClock
) -> None:
    manager = make_manager()
    await manager.handle(started_event(peer.url("/signal")))
    first = await zoom.join()
    assert await manager.handle(stopped_event(14)) is Disposition.RESTARTING
    assert await first.signaling.closed() == 1000
    await clock.skip(*FIRST_DELAY)
    second = await zoom.join(1)
    assert isinstance(second.signaling.request, SignalingHandshakeReq)
    assert STREAM_ID in manager.active
    await terminate(second)
    summary = await finished(manager)
    assert (summary.end_cause, summary.stop_reason, summary.reconnects) == ("terminated", 6, 1)


async def test_rtms_interrupted_redoes_signaling_and_media_once(
    zoom: FakeZoom, peer: Peer, make_manager: Callable[..., StreamManager], clock: WatchedClock
) -> None:
    manager = make_manager()
    await manager.handle(started_event(peer.url("/signal")))
    first = await zoom.join()
    assert await manager.handle(interrupted_event()) is Disposition.RESTARTING
    assert await first.signaling.closed() == 1000
    # Another interruption while the reconnect is pending folds into it.
    await clock.due(*FIRST_DELAY)
    assert await manager.interrupted(STREAM_ID) is Disposition.RESTARTING
    await clock.skip(*FIRST_DELAY)
    second = await zoom.join(1)
    assert sorted(second.media) == ["audio", "transcript"]
    await terminate(second)
    summary = await finished(manager)
    assert (summary.reconnects, len(zoom.joins)) == (1, 2)


async def test_a_retried_rtms_started_after_the_end_is_ignored(
    zoom: FakeZoom, peer: Peer, make_manager: Callable[..., StreamManager]
) -> None:
    manager = make_manager()
    event = started_event(peer.url("/signal"))
    assert await manager.handle(event) is Disposition.STARTED
    await terminate(await zoom.join())
    first = await finished(manager)
    # Zoom retries a delivery it thinks failed (§7.4): same event_ts. Not a new run.
    assert await manager.handle(event) is Disposition.DUPLICATE
    assert manager.active == {}
    # A new rtms_started (Zoom never reuses a stream id, but a new delivery is a new run).
    fresh = msgspec.structs.replace(event, event_ts=event.event_ts + 60_000)
    assert await manager.handle(fresh) is Disposition.STARTED
    await terminate(await zoom.join(1))
    second = await finished(manager)
    assert first.directory != second.directory
    assert Path(second.directory).name == f"{STREAM_ID}-1"
    assert len(zoom.joins) == 2


# --- ownership across replicas (docs/ownership.md) -------------------------------------------


async def race(managers: list[StreamManager], event: RtmsEvent) -> list[Disposition]:
    async with asyncio.timeout(TIMEOUT):
        return list(await asyncio.gather(*(m.handle(event) for m in managers)))


async def test_two_replicas_one_memory_store_join_once(
    zoom: FakeZoom, peer: Peer, make_manager: Callable[..., StreamManager], clock: WatchedClock
) -> None:
    store = MemoryLeaseStore(clock)
    a = make_manager(store=store, replica_id="replica-a")
    b = make_manager(store=store, replica_id="replica-b")
    dispositions = await race([a, b], started_event(peer.url("/signal")))
    assert sorted(d.value for d in dispositions) == ["owned_elsewhere", "started"]
    owner, other = (a, b) if dispositions[0] is Disposition.STARTED else (b, a)
    join = await zoom.join()
    await answered(join)
    assert (list(owner.active), other.active) == ([STREAM_ID], {})
    holder = await store.holder(STREAM_ID)
    assert holder is not None
    assert holder.owner == ("replica-a" if owner is a else "replica-b")
    await terminate(join)
    await finished(owner)
    assert len(zoom.joins) == 1
    assert [p for p in peer.paths if p.startswith("/signal")] == ["/signal"]


async def test_two_replicas_one_redis_store_join_once(
    zoom: FakeZoom, peer: Peer, make_manager: Callable[..., StreamManager], redis_db: str
) -> None:
    stores = [RedisLeaseStore(redis_db), RedisLeaseStore(redis_db)]
    a = make_manager(store=stores[0], replica_id="replica-a")
    b = make_manager(store=stores[1], replica_id="replica-b")
    try:
        dispositions = await race([a, b], started_event(peer.url("/signal")))
        assert sorted(d.value for d in dispositions) == ["owned_elsewhere", "started"]
        owner = a if dispositions[0] is Disposition.STARTED else b
        join = await zoom.join()
        assert (await stores[0].holder(STREAM_ID)) is not None
        async with asyncio.timeout(TIMEOUT):
            await owner.close_all()
        assert isinstance(await join.signaling.receive(StreamCloseReq), StreamCloseReq)
        assert await stores[1].registered() == {}  # ended by its owner: over for everyone
        assert len(zoom.joins) == 1
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_lost_lease_closes_the_sockets_without_closing_the_stream(
    zoom: FakeZoom, peer: Peer, make_manager: Callable[..., StreamManager], clock: WatchedClock
) -> None:
    metrics = Metrics()
    store = MemoryLeaseStore(clock)
    manager = make_manager(store=store, metrics=metrics)
    await manager.start(started_event(peer.url("/signal")))
    join = await zoom.join()
    # Another replica takes the lease over (as after a pause longer than the ttl).
    holder = await store.holder(STREAM_ID)
    assert isinstance(holder, Holder)
    assert await store.release(Lease(STREAM_ID, holder.owner, holder.token, TTL))
    assert await store.acquire(STREAM_ID, "replica-b", TTL) is not None
    await clock.skip(TTL / 3)  # the next renewal is refused: lost within one renewal interval
    assert await join.signaling.closed() == 1000
    summary = await finished(manager)
    assert (summary.end_cause, summary.detail) == ("failed", "ownership lease lost to another replica")
    assert not any(isinstance(m, StreamCloseReq) for m in join.signaling.log)
    assert STREAM_ID in await store.registered()  # the new owner carries on
    new_holder = await store.holder(STREAM_ID)
    assert new_holder is not None
    assert new_holder.owner == "replica-b"
    assert metrics.registry.get_sample_value("rtms_connector_leases_lost_total") == 1
    assert len(zoom.joins) == 1


class PartitionedStore(LeaseStore):
    """A view of a shared store that can be cut off (``down``), like a replica partitioned
    from Redis: every call then fails with :class:`LeaseError`."""

    def __init__(self, inner: LeaseStore) -> None:
        self.inner = inner
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise LeaseError("lease store unreachable (partition)", url="memory://")

    async def acquire(self, stream_id: str, owner: str, ttl: float) -> Lease | None:
        self._check()
        return await self.inner.acquire(stream_id, owner, ttl)

    async def renew(self, lease: Lease) -> bool:
        self._check()
        return await self.inner.renew(lease)

    async def release(self, lease: Lease) -> bool:
        self._check()
        return await self.inner.release(lease)

    async def holder(self, stream_id: str) -> Holder | None:
        self._check()
        return await self.inner.holder(stream_id)

    async def register(self, stream_id: str, payload: bytes, ttl: float) -> None:
        self._check()
        await self.inner.register(stream_id, payload, ttl)

    async def unregister(self, stream_id: str) -> None:
        self._check()
        await self.inner.unregister(stream_id)

    async def registered(self) -> dict[str, bytes]:
        self._check()
        return await self.inner.registered()

    async def close(self) -> None:
        """The shared store outlives this view."""


async def test_the_standby_adopts_a_stream_whose_owner_was_cut_off(
    zoom: FakeZoom, peer: Peer, make_manager: Callable[..., StreamManager], clock: WatchedClock
) -> None:
    shared = MemoryLeaseStore(clock)
    cut = PartitionedStore(shared)
    b_metrics = Metrics()
    a = make_manager(store=cut, replica_id="replica-a")
    b = make_manager(store=shared, replica_id="replica-b", metrics=b_metrics)
    await a.start_standby()
    await b.start_standby()
    event = started_event(peer.url("/signal"))
    assert await a.handle(event) is Disposition.STARTED
    assert await b.handle(event) is Disposition.OWNED_ELSEWHERE
    first = await zoom.join()
    cut.down = True  # replica-a can no longer renew
    clock.advance(TTL - TTL / 3)  # a fences itself one renewal interval before the lease expires
    assert await first.signaling.closed() == 1000
    summary_a = await finished(a)
    assert summary_a.detail == "ownership lease lost to another replica"
    assert not any(isinstance(m, StreamCloseReq) for m in first.signaling.log)
    assert len(zoom.joins) == 1  # a gap, never an overlap
    clock.advance(TTL / 3)  # the lease expires: b's standby looks exactly then
    second = await zoom.join(1)
    assert STREAM_ID in b.active
    await terminate(second)
    summary_b = await finished(b)
    assert (summary_b.stop_reason, summary_a.fence, summary_b.fence) == (6, 1, 2)
    assert b_metrics.registry.get_sample_value("rtms_connector_reconnects_total", {"cause": "handover"}) == 1
    async with asyncio.timeout(TIMEOUT):
        await a.aclose()
        await b.aclose()
    assert await shared.registered() == {}


async def test_a_failover_that_reached_another_replica_moves_the_owner(
    zoom: FakeZoom, peer: Peer, make_manager: Callable[..., StreamManager], clock: WatchedClock
) -> None:
    store = MemoryLeaseStore(clock)
    a = make_manager(store=store, replica_id="replica-a")
    b = make_manager(store=store, replica_id="replica-b")
    await a.start_standby()
    await b.start_standby()
    event = started_event(peer.url("/signal"))
    assert await a.handle(event) is Disposition.STARTED
    first = await zoom.join()
    moved = msgspec.structs.replace(event, server_urls=peer.url("/signal/b"), event_ts=event.event_ts + 1)
    assert await b.handle(moved) is Disposition.OWNED_ELSEWHERE  # b records it in the registry
    clock.advance(TTL / 3)  # the owner looks at the registry once per renewal interval
    assert await first.signaling.closed() == 1000
    await clock.skip(*FIRST_DELAY)
    second = await zoom.join(1)
    assert second.signaling.path == "/signal/b"
    await terminate(second)
    summary = await finished(a)
    assert (summary.stop_reason, summary.reconnects) == (6, 1)
    assert b.active == {}
    async with asyncio.timeout(TIMEOUT):
        await a.aclose()
        await b.aclose()


async def test_a_delivery_refused_while_the_store_is_down_is_taken_on_retry(
    zoom: FakeZoom, peer: Peer, make_manager: Callable[..., StreamManager], clock: WatchedClock
) -> None:
    store = PartitionedStore(MemoryLeaseStore(clock))
    manager = make_manager(store=store)
    event = started_event(peer.url("/signal"))
    store.down = True
    assert await manager.handle(event) is Disposition.REFUSED
    assert manager.active == {}
    store.down = False
    assert await manager.handle(event) is Disposition.STARTED  # Zoom's retry, not a duplicate
    await terminate(await zoom.join())
    assert (await finished(manager)).stop_reason == 6


# --- the whole connector ------------------------------------------------------------------


async def test_connector_in_process_dedupes_webhook_retries(
    zoom: FakeZoom, peer: Peer, make_config: MakeConfig
) -> None:
    now = 1727384100
    body, headers = webhook("meeting.rtms_started", started_payload(peer.url("/signal")), timestamp=now)
    async with (
        Connector(make_config(), wall=lambda: now) as connector,
        aiohttp.ClientSession() as http,
    ):
        assert connector.url == f"http://127.0.0.1:{connector.port}/"

        async def deliver() -> None:
            async with asyncio.timeout(TIMEOUT):
                response = await http.post(connector.url, data=body, headers=headers)
                assert response.status == 200
                await connector.receiver.drain()

        await deliver()
        session = connector.manager.active[STREAM_ID]
        await deliver()  # Zoom's retry: the same delivery again
        assert connector.manager.active[STREAM_ID] is session
        join = await zoom.join()
    # Leaving the block closed the stream gracefully.
    assert await join.signaling.receive(StreamCloseReq) == StreamCloseReq(rtms_stream_id=STREAM_ID)
    assert connector.manager.summaries[STREAM_ID].stop_reason == 20
    assert len(zoom.joins) == 1
