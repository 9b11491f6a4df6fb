"""Scenario files: the schema, validation errors that name file/field/expectation, the catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from simulator import scenario as sc

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = sorted((ROOT / "scenarios").glob("*.yaml"))
MINIMAL = "name: x\naccounts: [{id: a}]\nusers: [{id: h, account: a}]\nmeetings: [{id: m, host: h}]\n"


def test_the_published_schema_is_the_one_the_types_give() -> None:
    published = (ROOT / "scenarios" / "scenario.schema.json").read_text()
    assert published == sc.schema_text(), "run `rtms-sim schema > scenarios/scenario.schema.json`"


def test_the_catalogue_covers_every_outcome_of_the_host_governed_model() -> None:
    names = {p.stem for p in CATALOGUE}
    rows = {n.split("-")[0] for n in names if n.startswith("s") and n[1:3].isdigit()}
    assert rows == {f"s{i:02d}" for i in range(1, 14)}
    assert {"f1-wrong-app-credentials", "f2-participant-joined-before-host", "f3-not-entitled-13262"} <= names


@pytest.mark.parametrize("path", CATALOGUE, ids=lambda p: p.stem)
def test_every_catalogue_file_validates_against_the_published_schema(path: Path) -> None:
    schema = json.loads((ROOT / "scenarios" / "scenario.schema.json").read_text())
    data = yaml.safe_load(path.read_text())
    jsonschema.validate(data, schema)  # what an editor checks
    scenario = sc.load(path)  # what the simulator checks (cross-references too)
    assert scenario.name == path.stem
    assert scenario.expect != sc.Expect(), "a scenario file must say what it expects"


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        (MINIMAL + "timeline: [{at: 1, do: jion, user: h}]", "$.timeline[0].do", "expected one of: join"),
        (MINIMAL.replace("host: h", "host: hx"), "$.meetings[0].host", "unknown user 'hx'"),
        (
            MINIMAL.replace("{id: a}", "{id: a, rtms_enabled: maybe}"),
            "$.accounts[0].rtms_enabled",
            "Expected `bool`",
        ),
        (MINIMAL + "timeline: [{at: 1, do: join, usr: h}]", "$.timeline[0]", "unknown field `usr`"),
        (MINIMAL + "timeline: [{at: -1, do: join, user: h}]", "$.timeline[0].at", ">= 0"),
        (
            MINIMAL + "timeline: [{at: 5, do: join, user: h}, {at: 1, do: end}]",
            "$.timeline[1].at",
            "time order",
        ),
        (
            MINIMAL.replace(
                "users: [{id: h, account: a}]", "users: [{id: h, account: a}, {id: h, account: a}]"
            ),
            "$.users[1].id",
            "duplicate user id",
        ),
        (MINIMAL + "client: {sign_as: ghost}", "$.client.sign_as", "unknown app 'ghost'"),
        (MINIMAL + "switches: {duplicate_connection: maybe}", "$.switches.duplicate_connection", "'maybe'"),
        (MINIMAL.replace("name: x\n", ""), "$", "missing required field `name`"),
    ],
)
def test_a_bad_file_gets_an_error_naming_the_file_the_field_and_the_expectation(
    text: str, field: str, words: str
) -> None:
    with pytest.raises(sc.ScenarioError) as caught:
        sc.loads(text, source="bad.yaml")
    error = caught.value
    assert error.field == field
    assert words in str(error)
    assert str(error).startswith(f"bad.yaml: at {field}:")


def test_broken_yaml_names_the_line() -> None:
    with pytest.raises(sc.ScenarioError, match=r"bad.yaml: not valid YAML: line 3, column 1"):
        sc.loads("name: x\naccounts: [\n", source="bad.yaml")


def test_a_file_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(sc.ScenarioError, match="expected a mapping"):
        sc.loads("- just\n- a list\n", source="bad.yaml")


def test_a_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(sc.ScenarioError, match="cannot read the file"):
        sc.load(tmp_path / "nope.yaml")


def test_copies_of_a_meeting_are_named_by_number() -> None:
    text = MINIMAL.replace("{id: m, host: h}", "{id: m, host: h, copies: 3}")
    assert (
        sc.loads(text + "timeline: [{at: 0, do: join, user: h, meeting: m.3}]").timeline[0].meeting == "m.3"
    )
    with pytest.raises(sc.ScenarioError, match=r"unknown meeting 'm\.4'"):
        sc.loads(text + "timeline: [{at: 0, do: join, user: h, meeting: m.4}]")
