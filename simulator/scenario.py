"""Scenario files: a meeting world, a timeline on the scenario clock, and the expected outcome.

A scenario is YAML (or JSON) decoded into the frozen types below. The types are the single
source of truth: :func:`schema` derives the JSON Schema published as
``scenarios/scenario.schema.json`` from them, and :func:`load` validates a file against them,
so an error names the file, the field and what was expected::

    scenarios/f1.yaml: at $.timeline[2].do: Invalid value 'jion'
      expected one of: join, leave, ...

Time in a timeline is scenario seconds from the moment the scenario is loaded.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import yaml

__all__ = [
    "STEP_TYPES",
    "Account",
    "AppSpec",
    "ClientSpec",
    "Expect",
    "MeetingSpec",
    "RestExpect",
    "Scenario",
    "ScenarioError",
    "Step",
    "Switches",
    "UserSpec",
    "load",
    "loads",
    "schema",
]

MIN_CLIENT_VERSION = "6.5.5"
"""The oldest Zoom client that takes part in RTMS (scenarios doc §1, conditions B and C)."""

Name = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
Seconds = Annotated[float, msgspec.Meta(ge=0, le=7 * 24 * 3600)]
Version = Annotated[str, msgspec.Meta(pattern=r"^\d+\.\d+\.\d+$")]
MediaName = Literal["audio", "video", "deskshare", "transcript", "chat"]
Product = Literal["meeting", "webinar", "session", "contact_center"]


class _Strict(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base: immutable, keyword-only, and unknown keys are errors (a typo is not ignored)."""


# -- the world ------------------------------------------------------------------------------


class Account(_Strict, frozen=True, kw_only=True):
    """A Zoom account (an organisation). Its settings govern meetings its users host (§1)."""

    id: Name
    rtms_enabled: bool = True  # condition A when this account hosts
    entitled: bool = True  # Zoom enabled RTMS for apps of this account (trial requested, F3)
    plan: Literal["free", "pro", "business", "enterprise"] = "pro"
    video_sdk: bool = False  # a Video SDK account (the sessions REST variant needs it)
    concurrency_limit: Annotated[int, msgspec.Meta(ge=1)] = 2000  # streams at once (rtms.* notices)


DEFAULT_SCOPES = (
    "meeting:read:meeting:admin",
    "meeting:update:participant_rtms_app_status:admin",
    "rtms:read:rtms_started:admin",
    "rtms:read:rtms_stopped:admin",
    "rtms:read:rtms_interrupted:admin",
)


class AppSpec(_Strict, frozen=True, kw_only=True):
    """A Marketplace app: its credentials, where it lives, and what Zoom lets it do."""

    id: Name
    account: Name
    client_id: str = ""  # empty: derived from the app id, stable across runs
    client_secret: str = ""
    webhook_secret: str = ""
    environment: Literal["development", "production"] = "production"
    published: bool = True  # an unpublished production app is not authorised (F3)
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    auto_start: bool = False  # condition E
    media: tuple[MediaName, ...] = ("audio", "video", "deskshare", "transcript", "chat")
    webhook_url: str | None = None  # where its webhooks go; the runner fills this in


class UserSpec(_Strict, frozen=True, kw_only=True):
    """A person with a Zoom client. ``name`` empty: a seeded fake name."""

    id: Name
    account: Name
    name: str = ""
    client_version: Version = "6.6.0"


class MeetingSpec(_Strict, frozen=True, kw_only=True):
    """A meeting (or webinar, Video SDK session, Contact Center engagement) and its settings."""

    id: Name
    host: Name  # a user id
    product: Product = "meeting"
    apps: tuple[Name, ...] = ()  # apps added to the meeting: ids of ``apps``
    app_owner: Name | None = None  # the participant who brings the app (default: the host)
    start_without_host: bool = False  # condition F
    approval_required: bool = False  # condition G
    host_answer: Literal["approve", "deny", "ignore"] = "approve"  # condition H, answered at once
    attendees: Annotated[int, msgspec.Meta(ge=0, le=500)] = 0  # extra seeded participants, join at start
    copies: Annotated[int, msgspec.Meta(ge=1, le=2000)] = 1  # this meeting N times, isolated


class ClientSpec(_Strict, frozen=True, kw_only=True):
    """How the built-in stand-in app behaves (the app under test, when no real one is given).

    It answers webhooks at its own endpoint and joins streams over real sockets.
    """

    enabled: bool = True
    instances: Annotated[int, msgspec.Meta(ge=1, le=16)] = 1  # replicas racing for each stream (F1)
    sign_as: Name | None = None  # sign handshakes with this app's credentials (F1: wrong app)
    media: tuple[MediaName, ...] = ("audio", "transcript")
    answer_keep_alives: bool = True
    webhook_status: tuple[Annotated[int, msgspec.Meta(ge=100, le=599)], ...] = (200,)  # per attempt
    webhook_delay: Seconds = 0.0  # scenario seconds before each webhook answer
    reconnect: bool = True  # follow Zoom's failover guidance on interruptions
    dedupe: bool = True  # ignore a repeated rtms_started with the same server_urls


class Switches(_Strict, frozen=True, kw_only=True):
    """Behaviours where Zoom's real behaviour is unconfirmed (docs/protocol.md §10)."""

    status_table: Literal["current", "legacy"] = "current"
    frame_kind: Literal["text", "binary"] = "text"
    duplicate_connection: Literal["reject", "replace"] = "reject"
    auth_failure: Literal["reject", "stop"] = "reject"
    breakout: Literal["stop", "pause"] = "stop"
    keep_alive_interval: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    keep_alive_misses: Annotated[int, msgspec.Meta(ge=1)] = 3
    signaling_reconnect_window: Seconds = 60.0
    media_reconnect_window: Seconds = 65.0
    connect_timeout: Seconds = 60.0
    webhook_timeout: Annotated[float, msgspec.Meta(gt=0)] = 3.0
    webhook_retries: tuple[Seconds, ...] = (300.0, 1200.0, 3600.0)  # gaps between attempts (§7.4)
    rest_rate_limit: Annotated[int, msgspec.Meta(ge=1)] = 30  # requests per second per account


# -- the timeline ---------------------------------------------------------------------------


class _Step(_Strict, tag_field="do", frozen=True, kw_only=True):
    at: Seconds
    meeting: Name | None = None  # which meeting; may be omitted when the scenario has one


class Join(_Step, tag="join", frozen=True, kw_only=True):
    """A user joins (waits for the host if the meeting cannot start without one)."""

    user: Name


class Leave(_Step, tag="leave", frozen=True, kw_only=True):
    user: Name


class StartApp(_Step, tag="start_app", frozen=True, kw_only=True):
    """The app owner starts the app from the Zoom client (the request of §1)."""

    app: Name | None = None


class StopApp(_Step, tag="stop_app", frozen=True, kw_only=True):
    """The app owner (2) or the host (1) stops the app."""

    by: Literal["owner", "host"] = "owner"
    app: Name | None = None


class Approve(_Step, tag="approve", frozen=True, kw_only=True):
    app: Name | None = None


class Deny(_Step, tag="deny", frozen=True, kw_only=True):
    app: Name | None = None


class Pause(_Step, tag="pause", frozen=True, kw_only=True):
    app: Name | None = None


class Resume(_Step, tag="resume", frozen=True, kw_only=True):
    app: Name | None = None


class Handoff(_Step, tag="handoff", frozen=True, kw_only=True):
    """The host role moves to ``to``; the new host's account governs from now on."""

    to: Name


class Breakout(_Step, tag="breakout", frozen=True, kw_only=True):
    """``user`` moves to a breakout room."""

    user: Name


class ReturnToMain(_Step, tag="return", frozen=True, kw_only=True):
    """``user`` comes back from a breakout room."""

    user: Name


class Sharing(_Step, tag="sharing", frozen=True, kw_only=True):
    """The host turns sharing meeting content with apps off or on."""

    enabled: bool


class Eject(_Step, tag="eject", frozen=True, kw_only=True):
    user: Name


class DisableApp(_Step, tag="disable_app", frozen=True, kw_only=True):
    """The host disables the app (5), all apps (9), or an admin does (23)."""

    scope: Literal["app", "all_apps", "admin"] = "app"
    app: Name | None = None


class Revoke(_Step, tag="revoke", frozen=True, kw_only=True):
    """The stream is revoked (8): the app must delete what it captured."""

    app: Name | None = None


class EndMeeting(_Step, tag="end", frozen=True, kw_only=True):
    pass


class SetSetting(_Step, tag="set", frozen=True, kw_only=True):
    """Change an account or user setting mid-scenario (e.g. an admin turns RTMS off)."""

    account: Name | None = None
    user: Name | None = None
    rtms_enabled: bool | None = None
    entitled: bool | None = None
    client_version: Version | None = None


FaultKind = Literal[
    "drop_signaling",  # TCP gone, no close frame (the client sees a dead socket)
    "close_signaling",  # Zoom closes signaling with a close frame
    "drop_media",
    "close_media",
    "failover",  # Zoom's RTMS server fails: sockets drop, rtms_started with new server_urls
    "client_stops_keep_alive",  # the stand-in stops answering keep-alives
    "client_resumes_keep_alive",
    "client_crash",  # the stand-in's sockets all drop (the app process died)
    "duplicate_webhook",  # Zoom delivers the last rtms_started again
    "concurrency_near_limit",
    "concurrency_limited",
    "stop",  # the stream stops with ``reason``
]


class Fault(_Step, tag="fault", frozen=True, kw_only=True):
    kind: FaultKind
    media: MediaName | Literal["all"] | None = None  # for media faults: which socket (default: first)
    reason: Annotated[int, msgspec.Meta(ge=0, le=26)] | None = None  # for "stop"
    app: Name | None = None


class Rest(_Step, tag="rest", frozen=True, kw_only=True):
    """The app calls Zoom's REST API (as the stand-in would, with a token it obtains)."""

    action: Literal["start", "stop", "pause", "resume"]
    app: Name | None = None
    # valid: Server-to-Server token; not_host: a user token of the app owner (not the host)
    token: Literal["valid", "expired", "invalid", "no_scope", "not_host"] = "valid"
    # a user id; "" leaves the field out; omitted: the meeting's host
    participant_user_id: Annotated[str, msgspec.Meta(pattern=r"^([A-Za-z0-9][A-Za-z0-9_.-]*)?$")] | None = (
        None
    )
    meeting_id: str | None = None  # override the path id (e.g. a meeting that does not exist)


Step = (
    Join
    | Leave
    | StartApp
    | StopApp
    | Approve
    | Deny
    | Pause
    | Resume
    | Handoff
    | Breakout
    | ReturnToMain
    | Sharing
    | Eject
    | DisableApp
    | Revoke
    | EndMeeting
    | SetSetting
    | Fault
    | Rest
)

STEP_TYPES: dict[str, type[_Step]] = {
    t.__struct_config__.tag: t  # type: ignore[misc]
    for t in (
        Join,
        Leave,
        StartApp,
        StopApp,
        Approve,
        Deny,
        Pause,
        Resume,
        Handoff,
        Breakout,
        ReturnToMain,
        Sharing,
        Eject,
        DisableApp,
        Revoke,
        EndMeeting,
        SetSetting,
        Fault,
        Rest,
    )
}


# -- the expected outcome -------------------------------------------------------------------


class RestExpect(_Strict, frozen=True, kw_only=True):
    status: Annotated[int, msgspec.Meta(ge=100, le=599)]
    code: int | None = None  # Zoom's error code in the body
    message: str | None = None  # exact message, when it matters (F3)


class Expect(_Strict, frozen=True, kw_only=True):
    """What running the scenario must produce. Every field given is checked; omitted ones are not."""

    data_flows: bool | None = None  # the stand-in received media frames
    streams: Annotated[int, msgspec.Meta(ge=0)] | None = None  # distinct streams started
    stop_reasons: tuple[int | None, ...] | None = None  # per stream in start order; null = still live
    webhooks: tuple[str, ...] | None = None  # events sent, in order (each once, retries not repeated)
    webhook_attempts: dict[str, int] | None = None  # event name -> delivery attempts in all
    session_states: tuple[str, ...] | None = None  # SESSION_STATE_UPDATE states, in order
    rest: tuple[RestExpect, ...] | None = None  # responses to the timeline's rest steps, in order
    decisions: tuple[str, ...] | None = None  # governance rules that fired, in order
    signaling_handshakes: dict[int, int] | None = None  # status_code -> signaling handshake answers


class Scenario(_Strict, frozen=True, kw_only=True):
    name: Name
    description: str = ""
    seed: int = 0
    duration: Seconds | None = None  # how long to run; default: last step + 120 s
    accounts: tuple[Account, ...]
    apps: tuple[AppSpec, ...] = ()
    users: tuple[UserSpec, ...]
    meetings: tuple[MeetingSpec, ...]
    client: ClientSpec = ClientSpec()
    switches: Switches = Switches()
    timeline: tuple[Step, ...] = ()
    expect: Expect = Expect()


# -- loading --------------------------------------------------------------------------------


class ScenarioError(Exception):
    """A scenario file that cannot be used: names the file, the field and what was expected."""

    def __init__(self, source: str, message: str, *, field: str | None = None) -> None:
        where = f" at {field}:" if field else ""
        super().__init__(f"{source}:{where} {message}")
        self.source = source
        self.field = field
        self.message = message


_PATH = re.compile(r" - at `(\$[^`]*)`$")


def loads(text: str | bytes, *, source: str = "<scenario>") -> Scenario:
    """Decode and validate a scenario from YAML or JSON text."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(source, f"not valid YAML: {where}{problem}") from None
    if not isinstance(data, dict):
        raise ScenarioError(source, "expected a mapping (name, accounts, users, meetings, ...) at the top")
    try:
        scenario = msgspec.convert(data, Scenario, strict=True)
    except msgspec.ValidationError as exc:
        text_ = str(exc)
        match = _PATH.search(text_)
        field = match.group(1) if match else "$"
        message = _PATH.sub("", text_)
        raise ScenarioError(source, _explain(message, field), field=field) from None
    _check_references(scenario, source)
    return scenario


def load(path: str | Path) -> Scenario:
    """Load and validate the scenario file at ``path``."""
    p = Path(path)
    try:
        text = p.read_bytes()
    except OSError as exc:
        raise ScenarioError(str(p), f"cannot read the file: {exc.strerror}") from None
    return loads(text, source=str(p))


def _explain(message: str, field: str | None) -> str:
    """msgspec's message, plus the allowed step kinds when the ``do`` of a step is wrong."""
    if field and field.endswith(".do"):
        return f"{message}; expected one of: {', '.join(STEP_TYPES)}"
    return message


def _check_references(s: Scenario, source: str) -> None:
    """Cross-references the schema cannot express: ids exist and are unique."""

    def unique(kind: str, ids: list[str], path: str) -> set[str]:
        seen: set[str] = set()
        for i, item in enumerate(ids):
            if item in seen:
                raise ScenarioError(source, f"duplicate {kind} id {item!r}", field=f"{path}[{i}].id")
            seen.add(item)
        return seen

    accounts = unique("account", [a.id for a in s.accounts], "$.accounts")
    apps = unique("app", [a.id for a in s.apps], "$.apps")
    users = unique("user", [u.id for u in s.users], "$.users")
    meetings = unique("meeting", [m.id for m in s.meetings], "$.meetings")

    def known(value: str | None, pool: set[str], kind: str, field: str) -> None:
        if value is not None and value not in pool:
            choices = ", ".join(sorted(pool)) or "none defined"
            raise ScenarioError(source, f"unknown {kind} {value!r}; expected one of: {choices}", field=field)

    for i, app in enumerate(s.apps):
        known(app.account, accounts, "account", f"$.apps[{i}].account")
    for i, user in enumerate(s.users):
        known(user.account, accounts, "account", f"$.users[{i}].account")
    for i, m in enumerate(s.meetings):
        known(m.host, users, "user", f"$.meetings[{i}].host")
        known(m.app_owner, users, "user", f"$.meetings[{i}].app_owner")
        for j, app_id in enumerate(m.apps):
            known(app_id, apps, "app", f"$.meetings[{i}].apps[{j}]")
    known(s.client.sign_as, apps, "app", "$.client.sign_as")
    for i, step in enumerate(s.timeline):
        path = f"$.timeline[{i}]"
        if step.meeting is None and len(meetings) > 1:  # copies of one meeting count as one
            raise ScenarioError(
                source, "name the meeting: this scenario has several", field=f"{path}.meeting"
            )
        known(_spec_of(step.meeting, s), meetings, "meeting", f"{path}.meeting")
        for attr, pool, kind in (("user", users, "user"), ("to", users, "user"), ("app", apps, "app")):
            known(getattr(step, attr, None), pool, kind, f"{path}.{attr}")
        if isinstance(step, SetSetting):
            known(step.account, accounts, "account", f"{path}.account")
            known(step.user, users, "user", f"{path}.user")
        if isinstance(step, Rest) and step.participant_user_id:
            known(step.participant_user_id, users, "user", f"{path}.participant_user_id")
    times = [step.at for step in s.timeline]
    for i in range(1, len(times)):
        if times[i] < times[i - 1]:
            raise ScenarioError(
                source,
                f"steps must be in time order: {times[i]} comes after {times[i - 1]}",
                field=f"$.timeline[{i}].at",
            )


def _spec_of(meeting: str | None, s: Scenario) -> str | None:
    """``standup.3`` names the third copy of meeting ``standup``."""
    if meeting is None or any(m.id == meeting for m in s.meetings):
        return meeting
    base, _, n = meeting.rpartition(".")
    spec = next((m for m in s.meetings if m.id == base), None)
    if spec is not None and n.isdigit() and 1 <= int(n) <= spec.copies:
        return base
    return meeting


def schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (published as ``scenarios/scenario.schema.json``)."""
    doc: dict[str, Any] = msgspec.json.schema(Scenario)
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/rtms-sim/rtms-sim/scenarios/scenario.schema.json",
        "title": "RTMS simulator scenario",
        **doc,
    }
    return doc


def schema_text() -> str:
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"
