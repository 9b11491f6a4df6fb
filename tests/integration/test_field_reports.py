"""Field reports F1-F3 (rtms-scenarios §3) replayed against the real connector.

Each test loads the field report's scenario world into the simulator, points the world's
webhooks at one or more :class:`~connector.service.Connector` instances on 127.0.0.1, applies
the scenario's steps, and checks what the connector did and what it told its operator. The
simulator and the connectors share one :class:`~simulator.clock.ManualClock`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from connector.config import ConnectorConfig
from connector.lease import MemoryLeaseStore
from connector.manager import Disposition
from connector.manual import StartState
from connector.protocol import MessageType, StopReason
from connector.service import Connector
from contracts.connector.fanout import FanOut
from simulator import scenario as sc
from simulator.clock import ManualClock, settle
from simulator.runner import config_for
from simulator.server import Simulator
from simulator.world import World

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
TIMEOUT = 10.0  # bound on any wait for behaviour; never a sleep
APP = "notetaker"


async def until(predicate: Callable[[], bool]) -> None:
    """Let the loop run until ``predicate()`` holds (loop turns, bounded by TIMEOUT)."""
    async with asyncio.timeout(TIMEOUT):
        while not predicate():
            await settle(1)


class Field:
    """A scenario's world served by the simulator, with connectors receiving its webhooks."""

    def __init__(self, sim: Simulator, world: World, clock: ManualClock) -> None:
        self.sim, self.world, self.clock = sim, world, clock

    def apply(self, step: sc.Step) -> None:
        self.world.apply(step)

    def app(self, app_id: str = APP) -> sc.AppSpec:
        return self.world.apps[app_id]

    def streams(self) -> list[str]:
        return list(self.sim.engine.streams)

    def handshakes(self, stream_id: str) -> list[int]:
        """Status codes of the signaling handshakes the simulator answered for the stream."""
        return [
            r.detail["status_code"]
            for r in self.sim.journal.select(
                stream_id=stream_id, kind=MessageType.SIGNALING_HAND_SHAKE_RESP.name
            )
        ]


@asynccontextmanager
async def field(name: str, tmp_path: Path, webhook_url: str) -> AsyncIterator[Field]:
    scenario = sc.load(SCENARIOS / f"{name}.yaml")
    clock = ManualClock()
    async with Simulator(config_for(scenario), clock=clock) as sim:
        world = sim.load_scenario(scenario, webhook_url=webhook_url)
        yield Field(sim, world, clock)


def connector_config(f: Field, tmp_path: Path, *, sign_as: str = APP, **options: Any) -> ConnectorConfig:
    receiving, signing = f.app(APP), f.app(sign_as)
    return ConnectorConfig(
        client_id=signing.client_id,
        client_secret=signing.client_secret,
        webhook_secret=receiving.webhook_secret,
        port=0,
        path="/hook",
        output_dir=tmp_path / options.pop("name", "out"),
        **options,
    )


@pytest.fixture
async def proxy() -> AsyncIterator[FanOut]:
    p = FanOut("/hook")
    await p.start()
    yield p
    await p.close()


async def connect(
    stack: AsyncExitStack, f: Field, proxy: FanOut, config: ConnectorConfig, **kw: Any
) -> Connector:
    connector = Connector(config, clock=f.clock, wall=lambda: f.clock.epoch_ms() / 1000, **kw)
    await stack.enter_async_context(connector)
    proxy.targets.append(connector.url)
    return connector


# -- F1 ----------------------------------------------------------------------------------------


async def test_f1_wrong_app_credentials_end_with_18_and_say_why(tmp_path: Path, proxy: FanOut) -> None:
    """Signed with the development app's credentials: Zoom closes the socket without an
    answer and stops the stream with 18. The connector does not retry (a rejoin with the
    same credentials cannot succeed) and its summary says what to fix."""
    async with field("f1-wrong-app-credentials", tmp_path, proxy.url) as f, AsyncExitStack() as stack:
        connector = await connect(stack, f, proxy, connector_config(f, tmp_path, sign_as="notetaker-dev"))
        f.apply(sc.Join(at=0, user="host"))
        f.apply(sc.Join(at=0, user="owner"))
        f.apply(sc.StartApp(at=0))
        await until(lambda: len(f.streams()) == 1)
        stream_id = f.streams()[0]
        summary = await asyncio.wait_for(connector.manager.finished(stream_id), TIMEOUT)
        assert summary.stop_reason == StopReason.AUTHENTICATION_FAILURE
        assert summary.stop_reason_name == "STOP_BC_AUTHENTICATION_FAILURE"
        assert summary.guidance is not None
        assert "Client ID and Client Secret" in summary.guidance
        assert summary.reconnects == 0
        assert f.handshakes(stream_id) == []  # Zoom never answered: it closed the socket
        requests = f.sim.journal.select(stream_id=stream_id, kind=MessageType.SIGNALING_HAND_SHAKE_REQ.name)
        assert len(requests) == 1


@pytest.mark.parametrize("scenario", ["f1-racing-instances-rejected", "f1-racing-instances-replaced"])
async def test_f1_four_instances_one_stream_one_connection(
    tmp_path: Path, proxy: FanOut, scenario: str
) -> None:
    """Four connector instances receive the same rtms_started (one deployment, four
    containers). They share a lease store: one joins, three stand by, so Zoom's duplicate
    policy — reject or replace — never comes into play and the stream runs."""
    async with field(scenario, tmp_path, proxy.url) as f, AsyncExitStack() as stack:
        store = MemoryLeaseStore(f.clock)
        connectors = [
            await connect(
                stack,
                f,
                proxy,
                connector_config(f, tmp_path, name=f"out-{i}", replica_id=f"r{i}"),
                store=store,
            )
            for i in range(4)
        ]
        f.apply(sc.Join(at=0, user="host"))
        if "owner" in f.world.persons:
            f.apply(sc.Join(at=0, user="owner"))
        f.apply(sc.StartApp(at=0))
        await until(lambda: len(f.streams()) == 1)
        stream_id = f.streams()[0]
        await f.sim.journal.wait_for(
            lambda r: r.stream_id == stream_id and r.kind == MessageType.EVENT_SUBSCRIPTION.name,
            timeout=TIMEOUT,
        )
        owners = [c for c in connectors if stream_id in c.manager.active]
        assert len(owners) == 1
        assert f.handshakes(stream_id) == [0]  # one handshake, accepted; no 8 DUPLICATE_SIGNAL_REQUEST
        await f.clock.run_for(5.0, step=0.1)
        assert f.sim.journal.media_counts[(stream_id, "audio")] > 0
        assert not any(r.kind == "replaced" for r in f.sim.journal.select(stream_id=stream_id))
        samples = [
            c.metrics.registry.get_sample_value(
                "rtms_connector_webhooks_total",
                {"event": "meeting.rtms_started", "outcome": Disposition.OWNED_ELSEWHERE.value},
            )
            for c in connectors
        ]
        assert sorted(s or 0 for s in samples) == [0, 1, 1, 1]


# -- F2, F3: manual start over REST ----------------------------------------------------------


def manual_options(f: Field) -> dict[str, Any]:
    app = f.app()
    return {
        "manual_start": True,
        "account_id": app.account,
        "s2s_client_id": app.client_id,
        "s2s_client_secret": app.client_secret,
        "api_url": f.sim.http_url,
        "oauth_url": f.sim.http_url,
    }


async def test_f2_participant_first_then_host_the_connector_still_starts_the_stream(
    tmp_path: Path, proxy: FanOut, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="connector")
    async with (
        field("f2-participant-joined-before-host", tmp_path, proxy.url) as f,
        AsyncExitStack() as stack,
    ):
        connector = await connect(stack, f, proxy, connector_config(f, tmp_path, **manual_options(f)))
        starter = connector.starter
        assert starter is not None
        meeting = f.world.meeting("standup").number
        f.apply(sc.Join(at=0, user="owner"))  # meeting.started, the host is not there
        async with asyncio.timeout(TIMEOUT):
            await starter.wait_state(meeting, StartState.REQUESTED)
        assert f.streams() == []  # Zoom answered 204 and nothing started (F2)
        for _ in range(31):
            await settle()
            await f.clock.run_for(1.0, step=1.0)
        async with asyncio.timeout(TIMEOUT):
            await starter.wait_state(meeting, StartState.WAITING_FOR_HOST)
        f.apply(sc.Join(at=0, user="host"))  # meeting.participant_joined: the host is in
        async with asyncio.timeout(TIMEOUT):
            await starter.wait_state(meeting, StartState.STARTED)
        await until(lambda: len(f.streams()) == 1)
        stream_id = f.streams()[0]
        await f.sim.journal.wait_for(
            lambda r: r.stream_id == stream_id and r.kind == MessageType.EVENT_SUBSCRIPTION.name,
            timeout=TIMEOUT,
        )
        assert starter.attempts(meeting) == 2  # one ignored by Zoom, one after the host joined
        await f.clock.run_for(3.0, step=0.1)
        f.apply(sc.EndMeeting(at=0))
        summary = await asyncio.wait_for(connector.manager.finished(stream_id), TIMEOUT)
        assert summary.stop_reason == StopReason.MEETING_ENDED
        assert summary.audio_messages > 0


@pytest.mark.parametrize("scenario", ["f3-not-entitled-13262", "f3-unpublished-app-13262"])
async def test_f3_13262_becomes_a_diagnosis_not_a_traceback(
    tmp_path: Path, proxy: FanOut, caplog: pytest.LogCaptureFixture, scenario: str
) -> None:
    caplog.set_level(logging.INFO, logger="connector")
    async with field(scenario, tmp_path, proxy.url) as f, AsyncExitStack() as stack:
        connector = await connect(stack, f, proxy, connector_config(f, tmp_path, **manual_options(f)))
        starter = connector.starter
        assert starter is not None
        meeting = f.world.meeting("standup").number
        for user in f.world.persons:
            f.apply(sc.Join(at=0, user=user))
        async with asyncio.timeout(TIMEOUT):
            assert await starter.wait_state(meeting, StartState.FAILED) is StartState.FAILED
        assert starter.attempts(meeting) == 1  # a permanent error is not retried
        assert f.streams() == []
        assert "13262" in caplog.text
        assert "not authorized to access meeting content" in caplog.text  # Zoom's own words, logged
        assert "Traceback" not in caplog.text
        error = starter.last_error(meeting)
        assert error is not None
        assert error.code == 13262
        assert "RTMS" in error.guidance.action
