"""A scenario file played against the reference connector, in this process, on one manual clock.

:class:`Harness` loads a scenario's world into an in-process :class:`~simulator.server.Simulator`,
points the world's webhooks at one or more :class:`~connector.service.Connector` instances on
127.0.0.1 (through a fan-out endpoint; several share one lease store, as replicas behind one URL
do, field report F1), and plays the timeline on the scenario clock. The simulator's journal
is the judge; the connectors' output directories are what they made of the stream.

The scenario's ``client`` section describes the app under test; the harness honours what a
deployment of the connector can be told: ``instances`` (replicas) and ``sign_as`` (whose
credentials it signs with). What the built-in stand-in app is scripted to do wrong
(``reconnect: false``, unanswered keep-alives, crashes, slow or failing webhook answers) is not
the connector's behaviour and is not imitated: the connector does what it does.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from connector.config import ConnectorConfig
from connector.lease import MemoryLeaseStore
from connector.service import Connector
from simulator import scenario as sc
from simulator.clock import ManualClock, settle
from simulator.config import SimulatorConfig
from simulator.driver import Driver
from simulator.journal import Journal, Record
from simulator.runner import ScenarioRun, config_for
from simulator.server import Simulator

from .fanout import FanOut

__all__ = ["SCENARIOS", "TIMEOUT", "Harness", "Played", "play"]

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
TIMEOUT = 10.0  # real seconds: bound on any wait for I/O; never a wait for behaviour
STEP = 0.1  # scenario seconds per clock step; each step lets the loop deliver what it produced
TAIL = 5.0  # scenario seconds played after the last step (webhooks of the end, sockets closing)
HOOK = "/hook"


@dataclass(frozen=True)
class Played:
    """What a finished run left: the journal, and what the connectors wrote (plain data)."""

    scenario: sc.Scenario
    config: SimulatorConfig
    records: list[Record]
    media_counts: Counter[tuple[str, str]]
    streams: dict[str, list[dict[str, Any]]]  # stream.json contents by stream id, oldest run first
    outputs: list[Path]  # each connector's output directory


class Harness:
    """One scenario, one simulator, the connectors under test. ``async with`` starts and loads
    everything (nothing has happened yet on the clock); :meth:`play` runs the timeline.

    ``manual``: the connectors start streams themselves over REST (``manual_start``, §8), so the
    timeline's ``rest`` steps are skipped (the connector makes those calls); otherwise the
    scenario runner makes them as the app would.
    """

    def __init__(self, name: str, tmp_path: Path, *, manual: bool = False, **options: Any) -> None:
        self.scenario = sc.load(SCENARIOS / f"{name}.yaml")
        self.clock = ManualClock()
        self.sim = Simulator(config_for(self.scenario), clock=self.clock)
        self.connectors: list[Connector] = []
        self._tmp = tmp_path
        self._manual = manual
        self._options = options
        self._stack = AsyncExitStack()

    @property
    def journal(self) -> Journal:
        return self.sim.journal

    @property
    def app(self) -> sc.AppSpec:
        """The app added to the scenario's meeting (the one whose streams are judged)."""
        meeting = self.scenario.meetings[0]
        return self.sim.world.apps[meeting.apps[0] if meeting.apps else self.scenario.apps[0].id]

    def output(self, index: int) -> Path:
        return self._tmp / f"replica-{index}"

    async def __aenter__(self) -> Harness:
        stack = self._stack
        await stack.enter_async_context(self.sim)
        # Webhooks go through a fan-out even to one connector: its URL exists before the world
        # is loaded (loading derives the apps' credentials, which the connectors need), and
        # nothing is sent before the clock moves.
        fan_out = FanOut()
        await fan_out.start()
        stack.push_async_callback(fan_out.close)
        if self._manual:
            driver = Driver.of(self.sim)
            driver.load(self.scenario, webhook_url=fan_out.url)
            stack.push_async_callback(driver.close)
        else:
            await stack.enter_async_context(ScenarioRun(self.scenario, sim=self.sim, webhook_url=fan_out.url))
        client = self.scenario.client
        signer = self.sim.world.apps[client.sign_as] if client.sign_as else self.app
        store = MemoryLeaseStore(self.clock)  # replicas of one deployment share it
        for index in range(client.instances):
            config = ConnectorConfig(
                client_id=signer.client_id,
                client_secret=signer.client_secret,
                webhook_secret=self.app.webhook_secret,
                port=0,
                path=HOOK,
                output_dir=self.output(index),
                replica_id=f"replica-{index}",
                **(self._manual_options() if self._manual else {}),
                **self._options,
            )
            connector = Connector(config, clock=self.clock, wall=self._wall, store=store)
            await stack.enter_async_context(connector)
            self.connectors.append(connector)
            fan_out.targets.append(connector.url)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.aclose()

    def _wall(self) -> float:
        return self.clock.epoch_ms() / 1000

    def _manual_options(self) -> dict[str, Any]:
        app = self.app
        return {
            "manual_start": True,
            "account_id": app.account,
            "s2s_client_id": app.client_id,
            "s2s_client_secret": app.client_secret,
            "api_url": self.sim.http_url,
            "oauth_url": self.sim.http_url,
        }

    # -- time --------------------------------------------------------------------------------

    @property
    def end(self) -> float:
        """Scenario time at which :meth:`play` stops by default."""
        if self.scenario.duration is not None:
            return self.scenario.duration
        return (self.scenario.timeline[-1].at if self.scenario.timeline else 0.0) + TAIL

    async def play(self, until: float | None = None) -> None:
        """Move the clock to ``until`` (default :attr:`end`) in steps of :data:`STEP`, letting
        the simulator and the connectors run between steps."""
        target = self.end if until is None else until
        await self.clock.run_for(max(0.0, target - self.clock.now()), step=STEP)

    async def until(self, predicate: Callable[[], bool]) -> None:
        """Let the loop run (no clock movement) until ``predicate()`` holds, within TIMEOUT."""
        async with asyncio.timeout(TIMEOUT):
            while not predicate():
                await settle(1)

    async def settled(self) -> None:
        """Wait until no connector runs a stream the simulator has ended (their summaries are
        written). Streams still live stay as they are."""
        streams = self.sim.engine.streams

        def over() -> bool:
            return not any(
                sid not in streams or not streams[sid].live
                for c in self.connectors
                for sid in c.manager.active
            )

        await self.until(over)

    async def drain(self) -> None:
        """Shut every connector down as SIGTERM does (STREAM_CLOSE_REQ on its live streams)."""
        for connector in self.connectors:
            await connector.close()

    # -- what the connectors wrote -----------------------------------------------------------

    def stream_files(self) -> dict[str, list[dict[str, Any]]]:
        """Every ``stream.json`` the connectors wrote, by stream id, oldest run first."""
        found: dict[str, list[dict[str, Any]]] = {}
        for index in range(len(self.connectors)):
            for path in sorted(self.output(index).glob("*/stream.json")):
                summary = json.loads(path.read_text(encoding="utf-8"))
                found.setdefault(summary["rtms_stream_id"], []).append(summary)
        for runs in found.values():
            runs.sort(key=lambda s: (s["ended_ms"], s["directory"]))
        return found

    def played(self) -> Played:
        return Played(
            scenario=self.scenario,
            config=self.sim.config,
            records=list(self.journal.records),
            media_counts=Counter(self.journal.media_counts),
            streams=self.stream_files(),
            outputs=[self.output(i) for i in range(len(self.connectors))],
        )


async def play(name: str, tmp_path: Path) -> Played:
    """Play scenario ``name`` to its end against the connector; shut the connector down once
    its streams are over; return what happened."""
    async with Harness(name, tmp_path) as harness:
        await harness.play()
        await harness.settled()
    return harness.played()
