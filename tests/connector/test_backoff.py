"""The reconnect schedule (docs/protocol.md §9.2): exact delays, jitter bounds, limits, reset."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.backoff import RECONNECT_WINDOW, Backoff


def delays(backoff: Backoff, *, now: float = 0.0, advance: bool = False) -> list[float]:
    """Every delay until the backoff gives up; with ``advance``, time moves by each delay."""
    out: list[float] = []
    while (delay := backoff.next_delay(now)) is not None:
        out.append(delay)
        if advance:
            now += delay
        assert len(out) < 1000, "the backoff never gave up"
    return out


def test_zoom_schedule_without_jitter() -> None:
    assert delays(Backoff(jitter=0, deadline=None)) == [3, 6, 12, 24, 30, 30]


def test_defaults_follow_zoom_guidance() -> None:
    backoff = Backoff()
    assert (backoff.base, backoff.factor, backoff.cap, backoff.max_attempts) == (3.0, 2.0, 30.0, 6)
    assert backoff.deadline == RECONNECT_WINDOW == 60.0


def test_gives_up_after_max_attempts_and_stays_given_up() -> None:
    backoff = Backoff(jitter=0, max_attempts=3, deadline=None)
    assert [backoff.next_delay(0), backoff.next_delay(0), backoff.next_delay(0)] == [3, 6, 12]
    assert backoff.attempts == 3
    assert backoff.next_delay(0) is None
    assert backoff.next_delay(0) is None
    assert backoff.attempts == 3


def test_zero_attempts_never_retries() -> None:
    backoff = Backoff(max_attempts=0)
    assert backoff.next_delay(0) is None
    assert backoff.attempts == 0


def test_reset_restarts_at_base_and_restarts_the_deadline() -> None:
    backoff = Backoff(jitter=0, max_attempts=None, deadline=10)
    assert [backoff.next_delay(0), backoff.next_delay(3)] == [3, 6]
    assert backoff.next_delay(10) is None
    backoff.reset()
    assert backoff.attempts == 0
    # The deadline counts from the first failure after the reset, not from the first ever.
    assert backoff.next_delay(100) == 3
    assert backoff.next_delay(103) == 6
    assert backoff.attempts == 2


def test_deadline_shortens_the_last_delay_then_gives_up() -> None:
    backoff = Backoff(jitter=0, max_attempts=None, deadline=60)
    # Attempts at 3, 9, 21, 45; the next nominal 30 s would land at 75, so it lands on 60.
    assert delays(backoff, advance=True) == [3, 6, 12, 24, 15]


def test_no_attempt_is_scheduled_past_the_deadline_when_attempts_take_time() -> None:
    backoff = Backoff(jitter=0, max_attempts=None, deadline=60)
    now, attempts_at = 0.0, []
    while (delay := backoff.next_delay(now)) is not None:
        now += delay
        attempts_at.append(now)
        now += 7.0  # each connection attempt takes a while to fail
    assert attempts_at == [3, 16, 35, 60]
    assert now > 60


def test_attempts_counts_delays_handed_out() -> None:
    backoff = Backoff(rng=random.Random(1))
    assert backoff.attempts == 0
    backoff.next_delay(0)
    backoff.next_delay(0)
    assert backoff.attempts == 2


def test_same_seed_same_schedule() -> None:
    first = delays(Backoff(rng=random.Random(7), deadline=None))
    second = delays(Backoff(rng=random.Random(7), deadline=None))
    assert first == second
    assert first != [3, 6, 12, 24, 30, 30]  # jitter did something


def test_no_overflow_when_unbounded_by_attempts() -> None:
    backoff = Backoff(jitter=0, max_attempts=None, deadline=1e9)
    for _ in range(5000):
        delay = backoff.next_delay(0)
    assert delay == 30


@given(
    seed=st.integers(min_value=0, max_value=2**32),
    jitter=st.floats(min_value=0, max_value=0.99),
    base=st.floats(min_value=0.01, max_value=10),
    factor=st.floats(min_value=1, max_value=4),
    extra_cap=st.floats(min_value=0, max_value=100),
    max_attempts=st.integers(min_value=1, max_value=12),
)
def test_jitter_stays_within_bounds(
    seed: int, jitter: float, base: float, factor: float, extra_cap: float, max_attempts: int
) -> None:
    cap = base + extra_cap
    nominal = list(
        delays(Backoff(base=base, factor=factor, cap=cap, jitter=0, max_attempts=max_attempts, deadline=None))
    )
    jittered = delays(
        Backoff(
            base=base,
            factor=factor,
            cap=cap,
            jitter=jitter,
            max_attempts=max_attempts,
            deadline=None,
            rng=random.Random(seed),
        )
    )
    assert len(jittered) == len(nominal) == max_attempts
    for got, expected in zip(jittered, nominal, strict=True):
        assert (1 - jitter) * expected - 1e-9 <= got <= expected <= cap


@given(
    seed=st.integers(min_value=0, max_value=2**32),
    deadline=st.floats(min_value=0.5, max_value=200),
    work=st.floats(min_value=0, max_value=20),
)
def test_deadline_is_respected_with_jitter(seed: int, deadline: float, work: float) -> None:
    backoff = Backoff(max_attempts=None, deadline=deadline, rng=random.Random(seed))
    now = 0.0
    while (delay := backoff.next_delay(now)) is not None:
        assert delay > 0
        now += delay
        assert now <= deadline + 1e-9
        now += work
    assert backoff.attempts >= 1


@pytest.mark.parametrize(
    "options",
    [
        {"base": 0},
        {"factor": 0.5},
        {"cap": 1.0},
        {"jitter": 1.0},
        {"jitter": -0.1},
        {"max_attempts": -1},
        {"deadline": 0},
        {"max_attempts": None, "deadline": None},
    ],
)
def test_invalid_arguments_are_refused(options: dict[str, float | None]) -> None:
    with pytest.raises(ValueError, match=next(iter(options))):
        Backoff(**options)  # type: ignore[arg-type]
