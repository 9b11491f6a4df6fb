"""The ``rtms_sim`` pytest plugin, run by pytester in a test session of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
S09 = ROOT / "scenarios" / "s09-host-present-no-approval.yaml"

# Load the plugin by module name whether or not the package's entry point is installed.
ARGS = ("-p", "no:rtms_sim", "-p", "simulator.pytest_plugin", "-p", "no:cacheprovider")


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    # pytest-asyncio in strict mode (its default): the plugin must not rely on auto mode.
    pytester.makeini("[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n")
    return pytester


def test_the_fixtures_play_a_scenario(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        f"""
        import pytest
        from simulator import scenario as sc
        from simulator.clock import ManualClock

        def test_clock(rtms_clock):
            assert isinstance(rtms_clock, ManualClock)
            assert rtms_clock.now() == 0.0

        @pytest.mark.asyncio
        async def test_sim_runs_on_the_clock(rtms_sim, rtms_clock):
            assert rtms_sim.clock is rtms_clock
            assert rtms_sim.http_url.startswith("http://127.0.0.1:")

        @pytest.mark.asyncio
        async def test_scenario_from_a_path(rtms_scenario, rtms_sim):
            run = await rtms_scenario({str(S09)!r})
            assert run.sim is rtms_sim
            outcome = await run.play()
            assert outcome.ok, outcome.report()

        @pytest.mark.asyncio
        async def test_scenario_from_an_object(rtms_scenario):
            run = await rtms_scenario(sc.load({str(S09)!r}))
            await run.run_until(20)
            assert run.sim.world.meeting("standup").apps["notetaker"].state.value == "streaming"
        """
    )
    result = suite.runpytest_inprocess(*ARGS)
    result.assert_outcomes(passed=4)


def test_http_and_python_see_the_same_simulator(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        f"""
        import aiohttp
        import pytest

        @pytest.mark.asyncio
        async def test_drive_over_http(rtms_sim, rtms_clock):
            url = rtms_sim.http_url
            text = open({str(S09)!r}).read()
            async with aiohttp.ClientSession() as http:
                headers = {{"content-type": "application/yaml"}}
                async with http.post(url + "/_sim/scenarios", data=text, headers=headers) as response:
                    assert response.status == 201
                async with http.post(url + "/_sim/clock/run", json={{"until": 6}}) as response:
                    assert response.status == 200
                event = {{"do": "start_app"}}
                async with http.post(url + "/_sim/meetings/standup/events", json=event) as response:
                    assert response.status == 200
            # What HTTP did is what Python sees.
            assert rtms_clock.now() == 6.0
            meeting = rtms_sim.world.meeting("standup")
            assert meeting.present == {{"host", "owner"}}
            assert meeting.apps["notetaker"].state.value == "streaming"
            assert [r.kind for r in rtms_sim.journal.select(kind="decision")] == ["decision"]
        """
    )
    result = suite.runpytest_inprocess(*ARGS)
    result.assert_outcomes(passed=1)
