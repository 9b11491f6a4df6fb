"""Target selection and the fixtures every contract uses.

``pytest contracts`` runs against the simulator in this process. ``--target server`` runs it
as a separate ``rtms-sim serve`` process over ``wss://``; ``--target live`` against real Zoom
(configured by ``RTMS_LIVE_*`` variables, docs/contracts.md); ``--target live-dryrun`` runs the
live adapter against a simulator server standing in for Zoom over TLS. ``RTMS_CONTRACT_TARGET``
sets the default. ``--record DIR`` writes a sanitized protocol transcript of every test.

A contract marked ``needs(Capability.X)`` that the target cannot do, or that raises
:class:`~contracts.target.NotApplicable`, is reported as skipped with the reason
``not applicable to <target>: ...`` and counted in the summary; it never passes.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from .inbox import Inbox
from .recording import Recorder
from .target import Capability, NotApplicable, Stream, Target
from .targets.simulator import DEFAULT_CREDENTIALS, SimulatorProcess, SimulatorTarget, in_process

TARGETS = ("inprocess", "server", "live", "live-dryrun")
NOT_APPLICABLE = "not applicable to "


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rtms contracts")
    group.addoption(
        "--target",
        choices=TARGETS,
        default=os.environ.get("RTMS_CONTRACT_TARGET", "inprocess"),
        help="which Zoom the contracts check (default: inprocess, or $RTMS_CONTRACT_TARGET)",
    )
    group.addoption("--record", metavar="DIR", help="write a sanitized transcript of every contract test")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "needs(*capabilities): the contract needs these target capabilities (else not applicable)"
    )
    if config.getoption("--target", None) == "live":
        from .targets.live import LiveConfig, LiveConfigError

        try:
            LiveConfig.from_env(os.environ)
        except LiveConfigError as exc:
            raise pytest.UsageError(str(exc)) from None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if call.excinfo is not None and call.excinfo.errisinstance(NotApplicable):
        target = item.funcargs.get("target") if hasattr(item, "funcargs") else None
        name = target.name if isinstance(target, Target) else item.config.getoption("--target")
        report.outcome = "skipped"
        report.longrepr = (
            str(item.path),
            item.location[1] or 0,
            f"{NOT_APPLICABLE}{name}: {call.excinfo.value}",
        )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    not_applicable = [r for r in skipped if NOT_APPLICABLE in str(getattr(r, "longrepr", ""))]
    if not_applicable:
        terminalreporter.write_sep("-", f"{len(not_applicable)} contracts not applicable to this target")


# -- targets -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def target_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.config.getoption("--target")
    return kind


@pytest.fixture(scope="session")
def simulator_process(target_kind: str) -> Iterator[SimulatorProcess | None]:
    """One ``rtms-sim serve`` for the session when the target needs one (reset between tests)."""
    if target_kind not in ("server", "live-dryrun"):
        yield None
        return
    process = SimulatorProcess()
    try:
        yield process
    finally:
        process.close()


def _recorder(request: pytest.FixtureRequest, target_kind: str) -> Recorder | None:
    if request.config.getoption("--record") is None:
        return None
    return Recorder(request.node.nodeid, target_kind)


@pytest.fixture
async def target(
    request: pytest.FixtureRequest, target_kind: str, simulator_process: SimulatorProcess | None
) -> AsyncIterator[Target]:
    """The Zoom under test, fresh for each contract."""
    from .targets import live

    recorder = _recorder(request, target_kind)
    closers: list[Any] = []
    made: Target
    if target_kind == "inprocess":
        inbox = Inbox(secret=DEFAULT_CREDENTIALS.webhook_secret)
        await inbox.start()
        made, sim = await in_process(inbox)
        closers.append(sim.close)
    elif target_kind == "server":
        assert simulator_process is not None
        inbox = Inbox(secret=DEFAULT_CREDENTIALS.webhook_secret)
        await inbox.start()
        made = SimulatorTarget(
            name="simulator (server process)",
            base_url=simulator_process.base_url,
            inbox=inbox,
            scheme="wss",
            ssl_context=simulator_process.ssl_context(),
            ca_file=simulator_process.ca_file,
        )
    elif target_kind == "live-dryrun":
        assert simulator_process is not None
        made = await live.dry_run(simulator_process)
        inbox = made.inbox
    else:
        config = live.LiveConfig.from_env(os.environ)
        made = await live.LiveTarget.start(config)
        inbox = made.inbox
    made.recorder = recorder
    inbox.recorder = recorder
    try:
        for mark in request.node.iter_markers("needs"):
            for capability in mark.args:
                assert isinstance(capability, Capability)
                if not made.can(capability):
                    pytest.skip(f"{NOT_APPLICABLE}{made.name}: it cannot {capability.value}")
        yield made
    finally:
        try:
            await made.close_clients()
            await made.close()
        finally:
            await inbox.close()
            for close in reversed(closers):
                await close()
            if recorder is not None:
                from .sanitize import save

                save(recorder, Path(request.config.getoption("--record")))


@pytest.fixture
async def stream(target: Target) -> AsyncIterator[Stream]:
    """A started meeting stream; ended after the test if it is still running."""
    started = await target.start_stream()
    try:
        yield started
    finally:
        await target.end_stream(started)
