"""Fixtures: a simulator on a manual clock, a webhook receiver, and raw protocol probes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from simulator.clock import ManualClock
from simulator.config import SimulatorConfig
from simulator.server import Simulator

from .harness import Clients
from .receiver import WebhookReceiver

MakeSim = Callable[..., Awaitable[Simulator]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = WebhookReceiver()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def make_sim(clock: ManualClock, receiver: WebhookReceiver) -> AsyncIterator[MakeSim]:
    """Start simulators on the test's manual clock; no TLS port unless the config asks for one."""
    started: list[Simulator] = []

    async def make(config: SimulatorConfig | None = None) -> Simulator:
        sim = Simulator(config or SimulatorConfig(tls_port=None), clock=clock)
        await sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in reversed(started):
        await sim.close()


@pytest.fixture
async def sim(make_sim: MakeSim) -> Simulator:
    return await make_sim()


@pytest.fixture
async def clients(make_sim: MakeSim) -> AsyncIterator[Clients]:
    # Depends on make_sim so that sockets close before the simulators do.
    found = Clients()
    try:
        yield found
    finally:
        await found.close()
