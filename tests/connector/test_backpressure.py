"""The per-stream queue: the reader never waits, the oldest items make room, drops are counted."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.backpressure import FrameQueue
from simulator.clock import settle


def test_a_full_queue_drops_the_oldest_and_counts_per_kind() -> None:
    """Called from plain synchronous code, with no event loop: put() never waits."""
    seen: list[str] = []
    queue = FrameQueue(3, on_drop=seen.append)
    for n, kind in enumerate(["audio", "video", "audio", "transcript", "audio", "event"]):
        queue.put(kind, n)
    assert queue.dropped == {"audio": 2, "video": 1}
    assert seen == ["audio", "video", "audio"]
    assert (queue.depth, queue.high_water, queue.maxsize) == (3, 3, 3)


async def test_the_consumer_gets_the_newest_items_in_order() -> None:
    queue = FrameQueue(3)
    for n in range(5):
        queue.put("audio", n)
    assert await queue.get_batch() == [("audio", 2), ("audio", 3), ("audio", 4)]
    assert queue.depth == 0
    assert queue.high_water == 3


async def test_get_batch_waits_for_an_item_and_respects_max_items() -> None:
    queue = FrameQueue(10)
    waiter = asyncio.ensure_future(queue.get_batch(2))
    await settle()
    assert not waiter.done()
    queue.put("chat", "a")
    queue.put("chat", "b")
    queue.put("chat", "c")
    assert await waiter == [("chat", "a"), ("chat", "b")]
    assert await queue.get_batch(2) == [("chat", "c")]


async def test_close_hands_out_what_remains_then_nothing_forever() -> None:
    queue = FrameQueue(10)
    queue.put("audio", 1)
    queue.put("audio", 2)
    queue.close()
    queue.put("audio", 3)  # the stream is over: ignored, not counted as a drop
    assert await queue.get_batch(1) == [("audio", 1)]
    assert await queue.get_batch() == [("audio", 2)]
    assert await queue.get_batch() == []
    assert await queue.get_batch() == []
    assert queue.dropped == {}


async def test_close_wakes_a_waiting_consumer() -> None:
    queue = FrameQueue(10)
    waiter = asyncio.ensure_future(queue.get_batch())
    await settle()
    queue.close()
    assert await waiter == []
    assert queue.closed


def test_a_failing_metrics_callback_does_not_break_the_reader() -> None:
    def explode(kind: str) -> None:
        raise RuntimeError("metrics down")

    queue = FrameQueue(1, on_drop=explode)
    for n in range(3):
        queue.put("audio", n)
    assert queue.dropped == {"audio": 2}
    assert queue.depth == 1


async def test_sizes_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="maxsize must be at least 1"):
        FrameQueue(0)
    with pytest.raises(ValueError, match="max_items must be at least 1"):
        await FrameQueue(1).get_batch(0)


@given(
    maxsize=st.integers(min_value=1, max_value=8),
    kinds=st.lists(
        st.sampled_from(["audio", "video", "deskshare", "transcript", "chat", "event"]), max_size=60
    ),
)
def test_every_put_is_either_kept_or_counted_and_the_newest_are_kept(maxsize: int, kinds: list[str]) -> None:
    queue = FrameQueue(maxsize)
    for n, kind in enumerate(kinds):
        queue.put(kind, n)
    queue.close()
    kept = asyncio.run(queue.get_batch(max_items=100))
    assert len(kept) + sum(queue.dropped.values()) == len(kinds)
    assert kept == [(kind, n) for n, kind in enumerate(kinds)][len(kinds) - len(kept) :]
    assert len(kept) == min(len(kinds), maxsize)
    dropped_kinds = kinds[: len(kinds) - len(kept)]
    assert queue.dropped == {k: dropped_kinds.count(k) for k in set(dropped_kinds)}
    assert queue.high_water == min(len(kinds), maxsize)
