"""The serving process's paced garbage collection (simulator/collector.py): young collections on
a period and as soon as enough new objects pile up, the collector given back on close."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from simulator.collector import Collector


class Fake:
    """The collector's view of the world: new objects counted, seconds on a clock we move."""

    def __init__(self) -> None:
        self.objects = 0
        self.now = 100.0


@pytest.fixture
def fake() -> Fake:
    return Fake()


@pytest.fixture
def collector(fake: Fake) -> Iterator[Collector]:
    made = Collector(
        lambda: False,
        young_every=0.5,  # seconds in binary fractions: sums stay exact
        check_every=0.125,
        young_objects=2000,
        count=lambda: fake.objects,
        clock=lambda: fake.now,
    )
    yield made
    made.close()


async def test_few_new_objects_wait_for_the_period(collector: Collector, fake: Fake) -> None:
    collector.start()
    fake.objects = 1999
    fake.now += 0.25
    collector._collect_young()
    assert collector.young_collections == 0
    fake.now += 0.25  # 0.5 s since the start: the period is up
    collector._collect_young()
    assert collector.young_collections == 1


async def test_a_pile_of_new_objects_is_collected_at_once(collector: Collector, fake: Fake) -> None:
    collector.start()
    fake.objects = 2000
    fake.now += 0.125
    collector._collect_young()
    assert collector.young_collections == 1
    # the period starts again from that collection
    fake.objects = 10
    fake.now += 0.375
    collector._collect_young()
    assert collector.young_collections == 1
    fake.now += 0.125
    collector._collect_young()
    assert collector.young_collections == 2


async def test_a_young_collection_empties_the_youngest_generation() -> None:
    made = Collector(lambda: False, young_objects=50)
    made.start()
    try:
        assert not gc.isenabled()
        keep = [[i] for i in range(500)]  # containers: gc counts them
        assert gc.get_count()[0] >= 500
        made._collect_young()
        assert made.young_collections == 1
        assert gc.get_count()[0] < 50
        assert len(keep) == 500
    finally:
        made.close()
    assert gc.isenabled()


@pytest.mark.parametrize(
    "kwargs", [{"check_every": 0}, {"young_every": -1}, {"young_objects": 0}, {"full_every": 0}]
)
def test_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="positive"):
        Collector(lambda: False, **kwargs)  # type: ignore[arg-type]
