"""The connector's event loop: polls spaced while I/O keeps coming, never while idle, never
when callbacks are waiting; time is a fake clock (no sleep waits for behaviour)."""

from __future__ import annotations

import asyncio
import selectors
import socket
from collections.abc import Iterator

import pytest

from connector.loop import PacedSelector, new_event_loop

INTERVAL = 0.002


class FakeTime:
    """A clock that moves only when slept on, or by ``step`` at each reading."""

    def __init__(self, step: float = 0.0) -> None:
        self.now = 100.0
        self.step = step
        self.slept: list[float] = []

    def clock(self) -> float:
        self.now += self.step
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    yield a, b
    a.close()
    b.close()


def paced(time: FakeTime, *readers: socket.socket) -> PacedSelector:
    selector = PacedSelector(INTERVAL, clock=time.clock, sleep=time.sleep)
    for reader in readers:
        selector.register(reader, selectors.EVENT_READ)
    return selector


def test_a_poll_that_found_io_at_once_spaces_the_next(pair: tuple[socket.socket, socket.socket]) -> None:
    reader, writer = pair
    time = FakeTime()
    selector = paced(time, reader)
    writer.send(b"frame")
    assert len(selector.select(1.0)) == 1  # the first poll is never held
    assert time.slept == []
    assert len(selector.select(1.0)) == 1  # busy: the rest of the interval first
    assert time.slept == [pytest.approx(INTERVAL)]
    selector.close()


def test_callbacks_waiting_are_never_delayed(pair: tuple[socket.socket, socket.socket]) -> None:
    reader, writer = pair
    time = FakeTime()
    selector = paced(time, reader)
    writer.send(b"frame")
    selector.select(1.0)
    assert len(selector.select(0)) == 1
    assert time.slept == []
    selector.close()


def test_an_empty_poll_or_a_long_wait_ends_the_spacing(pair: tuple[socket.socket, socket.socket]) -> None:
    reader, writer = pair
    time = FakeTime()
    selector = paced(time, reader)
    assert selector.select(0) == []  # nothing came: the loop is idle
    writer.send(b"frame")
    selector.select(1.0)
    assert time.slept == []
    # A poll that had to wait the whole interval for its I/O: the loop was idle too.
    slow = FakeTime(step=INTERVAL)
    selector = paced(slow, reader)
    selector.select(1.0)
    selector.select(1.0)
    assert slow.slept == []
    selector.close()


def test_a_shorter_timeout_bounds_the_spacing(pair: tuple[socket.socket, socket.socket]) -> None:
    reader, writer = pair
    time = FakeTime()
    selector = paced(time, reader)
    writer.send(b"frame")
    selector.select(1.0)
    selector.select(INTERVAL / 4)  # a timer is due sooner than the spacing would allow
    assert time.slept == [pytest.approx(INTERVAL / 4)]
    selector.close()


def test_no_interval_is_asyncios_own_loop() -> None:
    loop = new_event_loop(0)
    try:
        assert not isinstance(getattr(loop, "_selector", None), PacedSelector)
    finally:
        loop.close()


def test_a_paced_loop_runs_io_and_timers(pair: tuple[socket.socket, socket.socket]) -> None:
    reader, writer = pair
    loop = new_event_loop(INTERVAL)
    assert isinstance(getattr(loop, "_selector", None), PacedSelector)

    async def exchange() -> list[bytes]:
        got: list[bytes] = []
        done = asyncio.Event()

        def readable() -> None:
            got.append(reader.recv(100))  # writes may arrive together
            if len(b"".join(got)) == 3:
                done.set()

        asyncio.get_running_loop().add_reader(reader.fileno(), readable)
        for n in range(3):
            writer.send(bytes([n]))
            await asyncio.sleep(0)  # a timer-free turn of the loop
        async with asyncio.timeout(5):
            await done.wait()
        asyncio.get_running_loop().remove_reader(reader.fileno())
        return got

    try:
        assert b"".join(loop.run_until_complete(exchange())) == b"\x00\x01\x02"
    finally:
        loop.close()


@pytest.fixture
def two_pairs() -> Iterator[list[tuple[socket.socket, socket.socket]]]:
    pairs = [socket.socketpair() for _ in range(2)]
    for a, b in pairs:
        a.setblocking(False)
        b.setblocking(False)
    yield pairs
    for a, b in pairs:
        a.close()
        b.close()


def test_a_spacing_that_gathered_one_sockets_io_only_ends(
    two_pairs: list[tuple[socket.socket, socket.socket]],
) -> None:
    # Frames too sparse to gather: waiting out the interval would add a wake-up per frame.
    time = FakeTime()
    selector = paced(time, *(reader for reader, _ in two_pairs))
    (_, writer), _ = two_pairs
    writer.send(b"frame")
    selector.select(1.0)  # found at once: busy
    assert len(selector.select(1.0)) == 1  # the interval waited out gathered one socket's I/O
    assert time.slept == [pytest.approx(INTERVAL)]
    selector.select(1.0)
    assert time.slept == [pytest.approx(INTERVAL)]  # not spaced again
    selector.close()


def test_a_spacing_that_gathered_several_sockets_goes_on(
    two_pairs: list[tuple[socket.socket, socket.socket]],
) -> None:
    time = FakeTime()
    selector = paced(time, *(reader for reader, _ in two_pairs))
    for _, writer in two_pairs:
        writer.send(b"frame")
    selector.select(1.0)
    assert len(selector.select(1.0)) == 2
    assert len(selector.select(1.0)) == 2
    assert time.slept == [pytest.approx(INTERVAL), pytest.approx(INTERVAL)]
    selector.close()


def test_a_poll_that_waited_half_the_interval_found_the_loop_idle(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    reader, writer = pair
    time = FakeTime(step=INTERVAL / 2)  # each poll takes half the interval
    selector = paced(time, reader)
    writer.send(b"frame")
    selector.select(1.0)
    selector.select(1.0)
    assert time.slept == []
    selector.close()


def test_several_sockets_after_a_long_idle_wait_are_not_spaced(
    two_pairs: list[tuple[socket.socket, socket.socket]],
) -> None:
    time = FakeTime(step=INTERVAL)  # each poll waits the whole interval: the loop is idle
    selector = PacedSelector(INTERVAL, clock=time.clock, sleep=time.sleep)
    for reader, _ in two_pairs:
        selector.register(reader, selectors.EVENT_READ)
    for _, writer in two_pairs:
        writer.send(b"frame")
    assert len(selector.select(1.0)) == 2
    selector.select(1.0)
    assert time.slept == []
    selector.close()
