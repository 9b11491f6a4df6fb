"""The host-governed model as a table: each outcome of scenarios doc §1-2, and its invariants."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.protocol import StopReason
from simulator.governance import RULES, AppState, Conditions, Effect, Trigger, decide

GOOD = Conditions(
    org_enabled=True,
    host_client_ok=True,
    owner_client_ok=True,
    host_present=True,
    auto_start=False,
    start_without_host=False,
    approval_required=False,
    owner_present=True,
    owner_in_breakout=False,
    entitled=True,
    authorized=True,
    sharing_allowed=True,
    capacity=True,
    breakout_pauses=False,
)


def with_(**changes: bool) -> Conditions:
    return dataclasses.replace(GOOD, **changes)


@pytest.mark.parametrize(
    ("row", "changes", "rule", "effect"),
    [
        (1, {"org_enabled": False}, "host_org_disabled", Effect.NONE),
        (2, {"host_client_ok": False}, "host_client_too_old", Effect.NONE),
        (3, {"owner_client_ok": False}, "owner_client_too_old", Effect.NONE),
        (
            4,
            {"host_present": False, "start_without_host": True, "approval_required": True},
            "approval_needs_host",
            Effect.NONE,
        ),
        (6, {"host_present": False, "auto_start": True, "start_without_host": True}, "start", Effect.START),
        (7, {"approval_required": True}, "ask_host", Effect.ASK_HOST),
        (8, {"approval_required": True}, "ask_host", Effect.ASK_HOST),
        (9, {}, "start", Effect.START),
        (10, {"owner_present": False}, "owner_absent", Effect.NONE),
        (12, {"owner_in_breakout": True, "owner_present": True}, "owner_in_breakout", Effect.NONE),
    ],
)
def test_a_request_follows_the_outcome_table(
    row: int, changes: dict[str, bool], rule: str, effect: Effect
) -> None:
    decision = decide(AppState.IDLE, Trigger.REQUEST, with_(**changes))
    assert decision is not None, f"row {row}"
    assert (decision.rule.name, decision.effect) == (rule, effect)


def test_the_hosts_answer_decides_rows_7_and_8() -> None:
    approved = decide(AppState.ASKING_HOST, Trigger.APPROVE, GOOD)
    denied = decide(AppState.ASKING_HOST, Trigger.DENY, GOOD)
    assert approved is not None
    assert approved.effect is Effect.START
    assert denied is not None
    assert (denied.state, denied.effect) == (AppState.DENIED, Effect.NONE)


def test_a_request_lost_while_the_host_was_away_is_not_replayed_when_the_host_joins() -> None:
    decision = decide(AppState.WAITING_HOST, Trigger.HOST_JOINED, GOOD)
    assert decision is not None
    assert decision.effect is Effect.NONE
    assert decision.state is AppState.WAITING_HOST


@pytest.mark.parametrize(
    ("trigger", "reason"),
    [
        (Trigger.OWNER_LEFT, StopReason.USER_LEFT),
        (Trigger.OWNER_EJECTED, StopReason.USER_EJECTED),
        (Trigger.STOP_BY_HOST, StopReason.HOST_TRIGGERED),
        (Trigger.STOP_BY_OWNER, StopReason.USER_TRIGGERED),
        (Trigger.APP_DISABLED, StopReason.HOST_DISABLED_APP),
        (Trigger.ALL_APPS_DISABLED, StopReason.ALL_APPS_DISABLED),
        (Trigger.ADMIN_DISABLED, StopReason.ADMIN_DISABLED_APP),
        (Trigger.REVOKE, StopReason.STREAM_REVOKED),
        (Trigger.MEETING_ENDED, StopReason.MEETING_ENDED),
        (Trigger.SHARING_OFF, StopReason.HOST_TRIGGERED),
        (Trigger.OWNER_TO_BREAKOUT, StopReason.USER_LEFT),
    ],
)
@pytest.mark.parametrize("state", [AppState.STREAMING, AppState.PAUSED])
def test_mid_meeting_triggers_stop_a_live_stream_with_their_reason(
    state: AppState, trigger: Trigger, reason: StopReason
) -> None:
    decision = decide(state, trigger, GOOD)
    assert decision is not None
    assert (decision.effect, decision.reason) == (Effect.STOP, reason)


def test_pause_and_resume_keep_the_stream() -> None:
    paused = decide(AppState.STREAMING, Trigger.PAUSE, GOOD)
    resumed = decide(AppState.PAUSED, Trigger.RESUME, GOOD)
    assert paused is not None
    assert (paused.state, paused.effect) == (AppState.PAUSED, Effect.PAUSE)
    assert resumed is not None
    assert (resumed.state, resumed.effect) == (AppState.STREAMING, Effect.RESUME)


def test_handoff_to_an_org_without_rtms_stops_for_good() -> None:
    stop = decide(AppState.STREAMING, Trigger.HANDOFF, with_(org_enabled=False))
    assert stop is not None
    assert stop.state is AppState.DISABLED
    assert stop.effect is Effect.STOP
    assert decide(AppState.DISABLED, Trigger.REQUEST, GOOD) is None  # cannot resume
    same = decide(AppState.STREAMING, Trigger.HANDOFF, GOOD)
    assert same is not None
    assert same.effect is Effect.NONE
    assert same.state is AppState.STREAMING


def test_every_rule_names_only_real_conditions_and_states() -> None:
    fields = {f.name for f in dataclasses.fields(Conditions)}
    for rule in RULES:
        assert set(rule.when) <= fields, rule.name
        assert rule.states, rule.name


conditions = st.builds(Conditions, **{f.name: st.booleans() for f in dataclasses.fields(Conditions)})


@given(conditions)
def test_a_stream_starts_from_a_request_exactly_when_every_prerequisite_holds(c: Conditions) -> None:
    decision = decide(AppState.IDLE, Trigger.REQUEST, c)
    assert decision is not None
    prerequisites = (
        c.org_enabled
        and c.entitled
        and c.authorized
        and c.host_client_ok
        and c.owner_client_ok
        and c.sharing_allowed
        and c.owner_present
        and not c.owner_in_breakout
        and c.capacity
    )
    assert (decision.effect is Effect.START) == (prerequisites and not c.approval_required)
    if decision.effect is Effect.ASK_HOST:
        assert c.host_present
        assert c.approval_required


@pytest.mark.parametrize("trigger", list(Trigger))
@pytest.mark.parametrize("state", list(AppState))
@settings(max_examples=15)
@given(c=conditions)
def test_the_host_org_disabling_rtms_never_starts_anything(
    c: Conditions, state: AppState, trigger: Trigger
) -> None:
    decision = decide(state, trigger, dataclasses.replace(c, org_enabled=False))
    assert decision is None or decision.effect is not Effect.START


def test_an_approval_that_comes_after_the_owner_left_starts_nothing() -> None:
    decision = decide(AppState.ASKING_HOST, Trigger.APPROVE, with_(owner_present=False))
    assert decision is not None
    assert decision.effect is Effect.NONE
