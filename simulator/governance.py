"""Who decides whether RTMS runs: the host-governed model (scenarios doc §1-2) as a table.

Each app added to a meeting has an :class:`AppState`. Things that happen in the meeting are
:class:`Trigger` s. :data:`RULES` is the whole model: for a (state, trigger) pair the first
rule whose guard holds fires, moving the app to its next state and naming an
:class:`Effect` (start a stream, stop it with a reason, pause, resume, ask the host). Guards
are conditions A-K of the doc, by name, read from a :class:`Conditions` snapshot the world
takes when the trigger happens. Nothing here does I/O; the world carries effects out.

Participants' own organisations (condition K) appear in no guard: they never matter.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from types import MappingProxyType

from connector.protocol import StopReason

__all__ = ["RULES", "AppState", "Conditions", "Decision", "Effect", "Rule", "Trigger", "decide"]


class AppState(enum.Enum):
    IDLE = "idle"  # nothing has asked for a stream
    BLOCKED = "blocked"  # a prerequisite failed; a new request is evaluated again
    WAITING_HOST = "waiting_host"  # approval needed and the host is absent: the request is lost
    ASKING_HOST = "asking_host"  # the host has been asked to approve
    DENIED = "denied"
    STREAMING = "streaming"
    PAUSED = "paused"
    STOPPED = "stopped"  # the stream ended; a new request starts a new stream
    SUSPENDED = "suspended"  # stopped because the owner is in a breakout room (pause policy: paused)
    DISABLED = "disabled"  # sharing with apps is off, or the host org disabled RTMS: for good
    ENDED = "ended"  # the meeting is over


class Trigger(enum.Enum):
    REQUEST = "request"  # the owner starts the app, auto-start fires, or the REST API asks
    HOST_JOINED = "host_joined"
    HOST_LEFT = "host_left"
    APPROVE = "approve"
    DENY = "deny"
    OWNER_JOINED = "owner_joined"
    OWNER_LEFT = "owner_left"
    OWNER_EJECTED = "owner_ejected"
    OWNER_TO_BREAKOUT = "owner_to_breakout"
    OWNER_BACK = "owner_back"
    PAUSE = "pause"
    RESUME = "resume"
    HANDOFF = "handoff"
    SHARING_OFF = "sharing_off"
    SHARING_ON = "sharing_on"
    STOP_BY_OWNER = "stop_by_owner"
    STOP_BY_HOST = "stop_by_host"
    APP_DISABLED = "app_disabled"
    ALL_APPS_DISABLED = "all_apps_disabled"
    ADMIN_DISABLED = "admin_disabled"
    REVOKE = "revoke"
    STREAM_ENDED = "stream_ended"  # the engine ended the stream (timeouts, faults, close request)
    MEETING_ENDED = "meeting_ended"


class Effect(enum.Enum):
    NONE = "none"
    START = "start"  # a new stream: rtms_started
    STOP = "stop"  # end the stream with the rule's stop reason
    PAUSE = "pause"
    RESUME = "resume"
    ASK_HOST = "ask_host"  # the host's client shows the approval prompt
    REQUEST = "request"  # evaluate a REQUEST now (auto-start, re-enabled sharing)


@dataclass(frozen=True, kw_only=True)
class Conditions:
    """The yes/no facts of §1 at one moment, for one app in one meeting."""

    org_enabled: bool  # A: the host's account has RTMS on
    host_client_ok: bool  # B
    owner_client_ok: bool  # C
    host_present: bool  # D
    auto_start: bool  # E
    start_without_host: bool  # F
    approval_required: bool  # G
    owner_present: bool  # I
    owner_in_breakout: bool  # J
    entitled: bool  # Zoom enabled RTMS for the app's account (F1's free account, F3)
    authorized: bool  # the app may access meeting content (published, if production)
    sharing_allowed: bool  # the host shares meeting content with apps
    capacity: bool  # the account is under its concurrency limit
    breakout_pauses: bool  # switch: a breakout pauses the stream instead of stopping it


@dataclass(frozen=True)
class Rule:
    name: str
    states: frozenset[AppState]
    trigger: Trigger
    to: AppState | None  # None: stay
    effect: Effect = Effect.NONE
    reason: StopReason | None = None
    when: MappingProxyType[str, bool] = field(default_factory=lambda: MappingProxyType({}))

    def holds(self, c: Conditions) -> bool:
        return all(getattr(c, name) is want for name, want in self.when.items())


@dataclass(frozen=True)
class Decision:
    rule: Rule
    state: AppState  # the state after the rule
    effect: Effect
    reason: StopReason | None


S = AppState
T = Trigger
E = Effect
R = StopReason

_REQUESTABLE = frozenset({S.IDLE, S.BLOCKED, S.WAITING_HOST, S.DENIED, S.STOPPED})
_LIVE = frozenset({S.STREAMING, S.PAUSED})
_ANY = frozenset(S) - {S.ENDED}


def _rule(
    name: str,
    states: frozenset[AppState] | AppState,
    trigger: Trigger,
    to: AppState | None,
    effect: Effect = E.NONE,
    reason: StopReason | None = None,
    **when: bool,
) -> Rule:
    if isinstance(states, AppState):
        states = frozenset({states})
    unknown = set(when) - set(Conditions.__dataclass_fields__)
    if unknown:
        raise ValueError(f"rule {name}: unknown conditions {sorted(unknown)}")
    return Rule(name, states, trigger, to, effect, reason, MappingProxyType(when))


RULES: tuple[Rule, ...] = (
    # -- a request to start (owner in the client, auto-start, REST) -- §1 outcomes table
    _rule("host_org_disabled", _REQUESTABLE, T.REQUEST, S.BLOCKED, org_enabled=False),  # 1
    _rule("not_entitled", _REQUESTABLE, T.REQUEST, S.BLOCKED, entitled=False),  # F1 free acct, F3
    _rule("app_not_authorized", _REQUESTABLE, T.REQUEST, S.BLOCKED, authorized=False),  # F3
    _rule("host_client_too_old", _REQUESTABLE, T.REQUEST, S.BLOCKED, host_client_ok=False),  # 2
    _rule("owner_client_too_old", _REQUESTABLE, T.REQUEST, S.BLOCKED, owner_client_ok=False),  # 3
    _rule("sharing_off", _REQUESTABLE, T.REQUEST, S.BLOCKED, sharing_allowed=False),
    _rule("owner_absent", _REQUESTABLE, T.REQUEST, None, owner_present=False),  # 10
    _rule("owner_in_breakout", _REQUESTABLE, T.REQUEST, S.BLOCKED, owner_in_breakout=True),  # 12
    _rule(
        "approval_needs_host",
        _REQUESTABLE,
        T.REQUEST,
        S.WAITING_HOST,
        approval_required=True,
        host_present=False,
    ),  # 4
    _rule("ask_host", _REQUESTABLE, T.REQUEST, S.ASKING_HOST, E.ASK_HOST, approval_required=True),  # 7, 8
    _rule("concurrency_limited", _REQUESTABLE, T.REQUEST, S.BLOCKED, capacity=False),
    _rule("start", _REQUESTABLE, T.REQUEST, S.STREAMING, E.START),  # 6, 9
    _rule("already_running", _LIVE | {S.ASKING_HOST}, T.REQUEST, None),
    # -- the host answers
    _rule(
        "approved",
        S.ASKING_HOST,
        T.APPROVE,
        S.STREAMING,
        E.START,
        capacity=True,
        org_enabled=True,
        owner_present=True,
        sharing_allowed=True,
    ),  # 8
    _rule("approved_too_late", S.ASKING_HOST, T.APPROVE, S.BLOCKED),  # over the limit, or things changed
    _rule("denied", S.ASKING_HOST, T.DENY, S.DENIED),  # 7
    _rule("prompt_gone", S.ASKING_HOST, T.HOST_LEFT, S.WAITING_HOST),
    # A request lost while the host was away stays lost: it must be sent again (scenario 4).
    _rule("request_not_resent", S.WAITING_HOST, T.HOST_JOINED, None),
    # -- auto-start (E): when the owner is in a running meeting
    _rule("auto_start", S.IDLE, T.OWNER_JOINED, None, E.REQUEST, auto_start=True),
    _rule("auto_start_on_return", S.SUSPENDED, T.OWNER_BACK, None, E.REQUEST, auto_start=True),
    # -- mid-meeting triggers, §2
    _rule("owner_left", _LIVE, T.OWNER_LEFT, S.STOPPED, E.STOP, R.USER_LEFT),  # 11
    _rule("owner_ejected", _LIVE, T.OWNER_EJECTED, S.STOPPED, E.STOP, R.USER_EJECTED),
    _rule("breakout_pauses", S.STREAMING, T.OWNER_TO_BREAKOUT, S.SUSPENDED, E.PAUSE, breakout_pauses=True),
    _rule("breakout_stops", _LIVE, T.OWNER_TO_BREAKOUT, S.SUSPENDED, E.STOP, R.USER_LEFT),  # 12
    _rule("back_from_breakout", S.SUSPENDED, T.OWNER_BACK, S.STREAMING, E.RESUME, breakout_pauses=True),
    _rule("pause", S.STREAMING, T.PAUSE, S.PAUSED, E.PAUSE),
    _rule("resume", S.PAUSED, T.RESUME, S.STREAMING, E.RESUME),
    _rule(
        "handoff_to_disabled_org",
        _LIVE,
        T.HANDOFF,
        S.DISABLED,
        E.STOP,
        R.ADMIN_DISABLED_APP,
        org_enabled=False,
    ),  # 13
    _rule("handoff_to_disabled_org_idle", _ANY - _LIVE, T.HANDOFF, S.DISABLED, org_enabled=False),
    _rule("handoff_same_policy", _ANY, T.HANDOFF, None),  # nothing visible to the app
    _rule("sharing_off", _LIVE, T.SHARING_OFF, S.DISABLED, E.STOP, R.HOST_TRIGGERED),
    _rule("sharing_off_idle", _ANY - _LIVE, T.SHARING_OFF, S.DISABLED),
    _rule("sharing_on_restarts", S.DISABLED, T.SHARING_ON, S.STOPPED, E.REQUEST, owner_present=True),
    _rule("sharing_on", S.DISABLED, T.SHARING_ON, S.IDLE),
    _rule("stopped_by_owner", _LIVE, T.STOP_BY_OWNER, S.STOPPED, E.STOP, R.USER_TRIGGERED),
    _rule("stopped_by_host", _LIVE, T.STOP_BY_HOST, S.STOPPED, E.STOP, R.HOST_TRIGGERED),
    _rule("app_disabled", _LIVE, T.APP_DISABLED, S.DISABLED, E.STOP, R.HOST_DISABLED_APP),
    _rule("all_apps_disabled", _LIVE, T.ALL_APPS_DISABLED, S.DISABLED, E.STOP, R.ALL_APPS_DISABLED),
    _rule("admin_disabled", _LIVE, T.ADMIN_DISABLED, S.DISABLED, E.STOP, R.ADMIN_DISABLED_APP),
    _rule("revoked", _LIVE, T.REVOKE, S.STOPPED, E.STOP, R.STREAM_REVOKED),
    _rule("stream_ended", _LIVE | {S.SUSPENDED}, T.STREAM_ENDED, S.STOPPED),
    _rule("meeting_ended", _LIVE, T.MEETING_ENDED, S.ENDED, E.STOP, R.MEETING_ENDED),
    _rule("meeting_ended", _ANY - _LIVE, T.MEETING_ENDED, S.ENDED),  # nothing to stop
)
"""The model. Read top to bottom: for a state and trigger, the first rule whose guard holds."""


def decide(state: AppState, trigger: Trigger, conditions: Conditions) -> Decision | None:
    """The rule that fires for ``trigger`` in ``state``, or ``None`` if the trigger means nothing."""
    for rule in RULES:
        if rule.trigger is trigger and state in rule.states and rule.holds(conditions):
            return Decision(rule, state if rule.to is None else rule.to, rule.effect, rule.reason)
    return None
