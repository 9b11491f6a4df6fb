"""pytest fixtures for testing an RTMS app against the simulator (registered as ``rtms_sim``).

Installed with the package (entry point ``pytest11``), so any test can ask for:

* ``rtms_clock`` — a :class:`~.clock.ManualClock`: time moves only when the test moves it.
* ``rtms_sim`` — a started :class:`~.server.Simulator` on ``127.0.0.1``, port 0, no TLS port,
  on ``rtms_clock``; closed after the test. Its control API is live at ``rtms_sim.http_url``
  (``/_sim/...``), so a test may drive it through Python or over HTTP: the same state.
* ``rtms_scenario`` — a factory: ``run = await rtms_scenario("scenarios/x.yaml")`` (a path or a
  :class:`~.scenario.Scenario`) returns a started :class:`~.runner.ScenarioRun` on ``rtms_sim``
  (``await run.play()`` plays it and checks it); closed after the test. The scenario's
  ``switches`` do not apply: ``rtms_sim`` is already configured.

The async fixtures need pytest-asyncio (the package's ``test`` extra); they work in its
strict and auto modes.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest

from . import scenario as sc
from .clock import ManualClock
from .config import SimulatorConfig
from .driver import Driver
from .runner import ScenarioRun
from .server import Simulator

__all__ = ["ScenarioFactory", "rtms_clock", "rtms_scenario", "rtms_sim"]

F = TypeVar("F", bound=Callable[..., Any])
ScenarioFactory = Callable[["str | Path | sc.Scenario"], Awaitable[ScenarioRun]]


def _async_fixture() -> Callable[[F], F]:
    """pytest-asyncio's fixture decorator when it is installed (the plugin must import without it)."""
    try:
        module = importlib.import_module("pytest_asyncio")
    except ImportError:
        return cast(Callable[[F], F], pytest.fixture)
    return cast(Callable[[F], F], module.fixture)


@pytest.fixture
def rtms_clock() -> ManualClock:
    return ManualClock()


@_async_fixture()
async def rtms_sim(rtms_clock: ManualClock) -> AsyncIterator[Simulator]:
    sim = Simulator(SimulatorConfig(host="127.0.0.1", port=0, tls_port=None), clock=rtms_clock)
    await sim.start()
    try:
        yield sim
    finally:
        await Driver.of(sim).close()
        await sim.close()


@_async_fixture()
async def rtms_scenario(rtms_sim: Simulator) -> AsyncIterator[ScenarioFactory]:
    runs: list[ScenarioRun] = []

    async def start(source: str | Path | sc.Scenario) -> ScenarioRun:
        scenario = source if isinstance(source, sc.Scenario) else sc.load(source)
        run = ScenarioRun(scenario, sim=rtms_sim)
        await run.__aenter__()
        runs.append(run)
        return run

    try:
        yield start
    finally:
        for run in reversed(runs):
            await run.__aexit__(None, None, None)
