"""Every scenario file, run on the scenario clock against the stand-in app, checks itself."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from contracts.published import webhook_document, webhook_schema
from simulator import scenario as sc
from simulator.runner import ScenarioRun, journal_lines, run_scenario

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", CATALOGUE, ids=lambda p: p.stem)
async def test_the_scenario_produces_what_it_expects(path: Path) -> None:
    async with ScenarioRun(sc.load(path)) as run:
        outcome = await run.play()
        assert outcome.ok, outcome.report()
        # Every event Zoom publishes a schema for validates against it (stop_reason enum aside).
        published = webhook_document()["paths"]
        for record in run.sim.journal.select(channel="webhook", direction="out"):
            if record.kind in published:
                body = {
                    "event": record.kind,
                    "event_ts": record.epoch_ms,
                    "payload": record.detail["payload"],
                }
                jsonschema.validate(body, webhook_schema(record.kind))


async def test_the_expectations_can_fail() -> None:
    """A scenario whose file expects the wrong thing is reported, field by field."""
    s = sc.load(ROOT / "scenarios" / "s09-host-present-no-approval.yaml")
    wrong = sc.Expect(data_flows=False, streams=2, stop_reasons=(19,), decisions=("denied",))
    outcome = await run_scenario(msgspec_replace(s, expect=wrong))
    assert not outcome.ok
    assert {m.split(":")[0] for m in outcome.mismatches} == {
        "data_flows",
        "streams",
        "stop_reasons",
        "decisions",
    }


async def test_the_same_scenario_and_seed_give_an_identical_journal() -> None:
    s = sc.load(ROOT / "scenarios" / "x-signaling-drop-reconnect.yaml")
    journals = []
    for _ in range(2):
        async with ScenarioRun(s) as run:
            outcome = await run.play()
            assert outcome.ok, outcome.report()
            journals.append(journal_lines(run.sim.journal.records))
    assert len(journals[0]) > 100
    assert journals[0] == journals[1]


async def test_another_seed_gives_another_journal() -> None:
    s = sc.load(ROOT / "scenarios" / "s09-host-present-no-approval.yaml")
    journals = []
    for seed in (1, 2):
        async with ScenarioRun(msgspec_replace(s, seed=seed)) as run:
            await run.play()
            journals.append(journal_lines(run.sim.journal.records))
    assert journals[0] != journals[1]


async def test_an_hour_of_meeting_runs_on_the_scenario_clock() -> None:
    s = sc.load(ROOT / "scenarios" / "z-hour-long-meeting.yaml")
    async with ScenarioRun(s) as run:
        outcome = await run.play()
        assert outcome.ok, outcome.report()
        assert run.clock.now() >= 3600
        keep_alives = run.sim.journal.select(kind="KEEP_ALIVE_REQ", direction="out")
        assert len(keep_alives) > 600  # every 10 s on signaling and the transcript socket


def msgspec_replace(s: sc.Scenario, **changes: object) -> sc.Scenario:
    import msgspec

    return msgspec.structs.replace(s, **changes)
