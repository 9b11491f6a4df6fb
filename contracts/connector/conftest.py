"""Fixtures of the connector contracts: scenarios played once per module against the connector.

These contracts judge the reference connector, with the simulator as its Zoom; they run the
same whatever ``--target`` says, and on ``live`` and ``live-dryrun`` they are not applicable
(real Zoom has no journal to judge from, and the connector is not the thing under test there).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_asyncio

from .harness import Played, play

ON_THE_SIMULATOR = ("inprocess", "server")
REASON = "connector contracts run on the simulator"
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    target = config.getoption("--target", "inprocess")
    if target in ON_THE_SIMULATOR:
        return
    # Same wording as contracts/conftest.py, so the summary counts them as not applicable.
    skip = pytest.mark.skip(reason=f"not applicable to {target}: {REASON}")
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(skip)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def played(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Played:
    """The scenario named by the (indirect) parameter, played to its end against the connector.

    Module scope: every judgement of one scenario reads the same run, so the catalogue is
    played once, not once per judgement. The result is plain data (journal records, files).
    """
    name: str = request.param
    return await play(name, tmp_path_factory.mktemp(name))
