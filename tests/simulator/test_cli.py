"""``rtms-sim`` in-process (``main([...])``) and once as a real process."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from simulator import scenario as sc
from simulator.cli import main
from simulator.driver import Driver
from simulator.server import Simulator

ROOT = Path(__file__).resolve().parents[2]
S09 = ROOT / "scenarios" / "s09-host-present-no-approval.yaml"


def _bad_file(tmp_path: Path) -> Path:
    bad = tmp_path / "bad.yaml"
    bad.write_text(S09.read_text().replace("do: join, user: host", "do: jion, user: host"))
    return bad


def test_schema_prints_the_published_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == sc.schema_text()


def test_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(S09)]) == 0
    assert capsys.readouterr().out == f"ok {S09}\n"
    bad = _bad_file(tmp_path)
    assert main(["validate", str(S09), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rtms-sim: {bad}: at $.timeline[0].do: Invalid value 'jion'")
    assert err.count("\n") == 1


def test_run_reports_each_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(S09)]) == 0
    assert capsys.readouterr().out.startswith("PASS s09-host-present-no-approval: 210 s of meeting in ")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(S09.read_text().replace("streams: 1", "streams: 2"))
    assert main(["run", str(S09), str(wrong)]) == 1
    out = capsys.readouterr().out
    assert "PASS s09" in out
    assert "FAIL s09" in out
    assert "  - streams: expected 2, got 1" in out
    assert out.endswith("1 passed, 1 failed\n")


def test_run_a_bad_file_exits_2_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(_bad_file(tmp_path))]) == 2
    assert main(["run", str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert "Traceback" not in "".join(err)
    assert err[1].startswith(f"rtms-sim: {tmp_path / 'missing.yaml'}: cannot read the file")


def test_serve_refuses_a_bad_scenario_or_speed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--scenario", str(_bad_file(tmp_path))]) == 2
    assert main(["serve", "--speed", "0"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert "$.timeline[0].do" in err[0]
    assert err[1] == "rtms-sim: bad configuration: --speed must be a positive number"


async def test_trigger_posts_a_step_to_the_running_simulator(
    sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    world_only = msgspec.structs.replace(sc.load(S09), timeline=())
    Driver.of(sim).load(world_only)
    # The CLI is synchronous: it runs in a thread while this loop serves its requests.
    code = await asyncio.to_thread(main, ["trigger", "join", "--user", "host", "--url", sim.http_url])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["present"] == ["host"]
    assert sim.world.meeting("standup").present == {"host"}

    args = ["trigger", "sharing", "--disabled", "--meeting", "standup", "--url", sim.http_url]
    assert await asyncio.to_thread(main, args) == 0
    assert sim.world.meeting("standup").sharing is False
    capsys.readouterr()

    args = ["trigger", "pause", "--meeting", "nope", "--url", sim.http_url]
    assert await asyncio.to_thread(main, args) == 1
    err = capsys.readouterr().err
    assert err == (
        f"rtms-sim: POST {sim.http_url}/_sim/meetings/nope/events failed: "
        "404 Meeting does not exist: nope. (code 3001)\n"
    )
    args = ["trigger", "join", "--user", "ghost", "--url", sim.http_url]
    assert await asyncio.to_thread(main, args) == 1
    assert "400 Validation Failed. unknown user 'ghost'" in capsys.readouterr().err

    Driver.of(sim).reset()
    assert await asyncio.to_thread(main, ["trigger", "pause", "--url", sim.http_url]) == 2
    assert (
        capsys.readouterr().err
        == "rtms-sim: name the meeting with --meeting (the simulator has: none loaded)\n"
    )


def test_trigger_without_a_server(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trigger", "pause", "--meeting", "m", "--url", "http://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rtms-sim: cannot reach the simulator at http://127.0.0.1:9/_sim/meetings/m/events")
    assert err.count("\n") == 1


def test_trigger_refuses_unknown_events(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["trigger", "rest"])
    assert exit_.value.code == 2
    assert "invalid choice: 'rest'" in capsys.readouterr().err


def test_rtms_sim_run_as_a_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "run", "scenarios/s09-host-present-no-approval.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("PASS s09-host-present-no-approval")
    assert "Traceback" not in done.stderr
