"""The meeting world behind the wire: accounts, apps, users, meetings, and who is where.

moto's layering: this module is the *model*. A scenario file is loaded into a :class:`World`;
timeline steps (and control-API triggers, which are the same steps) change it; the
host-governed model (:mod:`.governance`) decides what each change means for each app's
stream, and the world carries the decision out through the engine (streams, sockets) and the
webhook sender. It also answers the REST API's questions (:class:`~.rest.RestBackend`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from faker import Faker

from connector.protocol import MediaType, Product, RtmsEventKind, StopReason

from . import scenario as sc
from .clock import Clock
from .config import App
from .engine import Engine
from .errors import ZoomApiError
from .governance import AppState, Conditions, Effect, Trigger, decide
from .journal import Journal
from .oauth import Token
from .speech import MeetingScript, Participant, generate_script
from .stream import SimStream
from .webhooks import WebhookSender

__all__ = ["F3_MESSAGE", "LiveApp", "LiveMeeting", "Person", "World"]

log = logging.getLogger("simulator.world")

F3_MESSAGE = (
    "The app '{client_id}' is not authorized to access meeting content. Please add it in the Allow apps "
    "to access meeting content setting in the Settings page of the Zoom web portal."
)
"""Zoom's 13262 message, word for word from field report F3 (scenarios doc §3)."""

_FIRST_PARTICIPANT_ID = 16778240
_PARTICIPANT_STEP = 1024
_MEETING_TYPE = {"meeting": 2, "webinar": 5, "session": 2, "contact_center": 2}
_PRODUCTS = {p.value: p for p in Product}
_MEETING_EVENTS: dict[Product, dict[str, str]] = {
    Product.MEETING: {
        w: f"meeting.{w}"
        for w in ("started", "participant_joined", "participant_jbh_waiting", "participant_left", "ended")
    },
    Product.WEBINAR: {
        w: f"webinar.{w}" for w in ("started", "participant_joined", "participant_left", "ended")
    },
    Product.SESSION: {
        "started": "session.started",
        "participant_joined": "session.user_joined",
        "participant_left": "session.user_left",
        "ended": "session.ended",
    },
    Product.CONTACT_CENTER: {},
}


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


@dataclass
class Person:
    """Someone who can be in a meeting: a scenario user or a seeded attendee."""

    key: str  # scenario user id, or "<meeting>.attendee-N"
    zoom_id: str  # Zoom user id (what REST's participant_user_id carries)
    participant_id: int  # the numeric id RTMS frames and events carry
    name: str
    account: str
    client_version: str = "6.6.0"
    email: str = ""


@dataclass
class LiveApp:
    """One app added to one meeting: its place in the host-governed model and its streams."""

    spec: sc.AppSpec
    owner: str  # person key of the app owner
    state: AppState = AppState.IDLE
    stream: SimStream | None = None
    streams: list[SimStream] = field(default_factory=list)


@dataclass
class LiveMeeting:
    key: str
    spec: sc.MeetingSpec
    product: Product
    number: int  # the numeric meeting id (REST's {meetingId})
    uuid: str
    host: str  # person key of the current host
    topic: str
    people: dict[str, Person]  # everyone who may join
    apps: dict[str, LiveApp]
    started: bool = False
    ended: bool = False
    sharing: bool = True
    present: set[str] = field(default_factory=set)  # in the main room
    waiting: set[str] = field(default_factory=set)  # joined before the host, waiting
    breakout: set[str] = field(default_factory=set)

    def describe(self) -> dict[str, Any]:
        return {
            "meeting": self.key,
            "product": self.product.value,
            "id": self.number,
            self.product.id_key: self.uuid,
            "host": self.host,
            "started": self.started,
            "ended": self.ended,
            "sharing": self.sharing,
            "present": sorted(self.present),
            "waiting": sorted(self.waiting),
            "breakout": sorted(self.breakout),
            "apps": {
                app_id: {
                    "state": app.state.value,
                    "owner": app.owner,
                    "streams": [s.stream_id for s in app.streams],
                }
                for app_id, app in self.apps.items()
            },
        }


ServerUrls = Callable[[], str]


class World:
    """Everything a scenario set up, and the rules that run it."""

    def __init__(
        self,
        *,
        engine: Engine,
        webhooks: WebhookSender,
        clock: Clock,
        journal: Journal,
        server_urls: ServerUrls,
        breakout_pauses: bool = False,
    ) -> None:
        self.engine = engine
        self.webhooks = webhooks
        self.clock = clock
        self.journal = journal
        self.server_urls = server_urls
        self.breakout_pauses = breakout_pauses
        self.accounts: dict[str, sc.Account] = {}
        self.apps: dict[str, sc.AppSpec] = {}  # by app id
        self.users: dict[str, sc.UserSpec] = {}
        self.meetings: dict[str, LiveMeeting] = {}
        self.persons: dict[str, Person] = {}  # scenario users, by key
        self._by_stream: dict[str, tuple[LiveMeeting, LiveApp]] = {}
        self.scenario: sc.Scenario | None = None

    # -- loading ---------------------------------------------------------------------------

    def load(self, scenario: sc.Scenario, *, webhook_url: str | None = None) -> None:
        """Build the world of ``scenario``. ``webhook_url`` overrides every app's webhook URL."""
        self.scenario = scenario
        rng = random.Random(scenario.seed)
        fake = Faker("en_US")
        fake.seed_instance(scenario.seed)
        for account in scenario.accounts:
            self.accounts[account.id] = account
        for app in scenario.apps:
            url = webhook_url.replace("{app}", app.id) if webhook_url else None
            self.apps[app.id] = _with_credentials(app, url)
        for n, user in enumerate(scenario.users):
            self.users[user.id] = user
            self.persons[user.id] = Person(
                key=user.id,
                zoom_id=_zoom_id(rng),
                participant_id=_FIRST_PARTICIPANT_ID + n * _PARTICIPANT_STEP,
                name=user.name or fake.name(),
                account=user.account,
                client_version=user.client_version,
                email=f"{user.id}@{user.account}.example.com",
            )
        next_pid = _FIRST_PARTICIPANT_ID + len(scenario.users) * _PARTICIPANT_STEP
        for spec in scenario.meetings:
            for copy in range(spec.copies):
                key = spec.id if spec.copies == 1 else f"{spec.id}.{copy + 1}"
                people = dict(self.persons)
                for i in range(spec.attendees):
                    pkey = f"{key}.attendee-{i + 1}"
                    people[pkey] = Person(
                        key=pkey,
                        zoom_id=_zoom_id(rng),
                        participant_id=next_pid,
                        name=fake.name(),
                        account="external",
                    )
                    next_pid += _PARTICIPANT_STEP
                owner = spec.app_owner or spec.host
                product = _PRODUCTS[spec.product]
                meeting = LiveMeeting(
                    key=key,
                    spec=spec,
                    product=product,
                    number=rng.randrange(81_000_000_000, 99_999_999_999),
                    uuid=_meeting_uuid(rng),
                    host=spec.host,
                    topic=f"{fake.catch_phrase()} ({key})",
                    people=people,
                    apps={a: LiveApp(spec=self.apps[a], owner=owner) for a in spec.apps},
                )
                self.meetings[key] = meeting
        self._note(None, "scenario_loaded", name=scenario.name, meetings=sorted(self.meetings))

    def reset(self) -> None:
        for meeting in self.meetings.values():
            for app in meeting.apps.values():
                if app.stream is not None and app.stream.live:
                    self.engine.terminate(app.stream, StopReason.MEETING_ENDED)
        self.accounts.clear()
        self.apps.clear()
        self.users.clear()
        self.meetings.clear()
        self.persons.clear()
        self._by_stream.clear()
        self.scenario = None

    # -- journal ---------------------------------------------------------------------------

    def _note(self, stream_id: str | None, kind: str, **detail: Any) -> None:
        self.engine.note(stream_id, "world", "note", kind, **detail)

    # -- lookups ---------------------------------------------------------------------------

    def meeting(self, key: str | None) -> LiveMeeting:
        """The one meeting ``key`` names (the first copy, for a meeting with copies)."""
        return self.targets(key)[0]

    def _app(self, meeting: LiveMeeting, app_id: str | None) -> LiveApp:
        if app_id is None:
            if len(meeting.apps) != 1:
                raise KeyError(f"meeting {meeting.key} has {len(meeting.apps)} apps: name one")
            return next(iter(meeting.apps.values()))
        if app_id not in meeting.apps:
            raise KeyError(f"app {app_id!r} is not added to meeting {meeting.key}")
        return meeting.apps[app_id]

    def owner_of(self, stream: SimStream) -> tuple[LiveMeeting, LiveApp] | None:
        return self._by_stream.get(stream.stream_id)

    # -- conditions and decisions ----------------------------------------------------------

    def conditions(self, meeting: LiveMeeting, app: LiveApp) -> Conditions:
        host = meeting.people[meeting.host]
        owner = meeting.people[app.owner]
        host_account = self.accounts.get(host.account)
        app_account = self.accounts[app.spec.account]
        live = self._live_streams(app_account.id)
        return Conditions(
            org_enabled=host_account is not None and host_account.rtms_enabled,
            host_client_ok=_version(host.client_version) >= _version(sc.MIN_CLIENT_VERSION),
            owner_client_ok=_version(owner.client_version) >= _version(sc.MIN_CLIENT_VERSION),
            host_present=meeting.host in meeting.present,
            auto_start=app.spec.auto_start,
            start_without_host=meeting.spec.start_without_host,
            approval_required=meeting.spec.approval_required,
            owner_present=app.owner in meeting.present,
            owner_in_breakout=app.owner in meeting.breakout,
            entitled=app_account.entitled,
            authorized=app.spec.published or app.spec.environment == "development",
            sharing_allowed=meeting.sharing,
            capacity=live < app_account.concurrency_limit,
            breakout_pauses=self.breakout_pauses,
        )

    def fire(self, meeting: LiveMeeting, app: LiveApp, trigger: Trigger) -> None:
        """Apply ``trigger`` to ``app`` in ``meeting`` as the governance table says."""
        conditions = self.conditions(meeting, app)
        decision = decide(app.state, trigger, conditions)
        stream_id = app.stream.stream_id if app.stream is not None else None
        if decision is None:
            self._note(stream_id, "ignored", meeting=meeting.key, app=app.spec.id, trigger=trigger.value)
            return
        before = app.state
        app.state = decision.state
        self._note(
            stream_id,
            "decision",
            meeting=meeting.key,
            app=app.spec.id,
            trigger=trigger.value,
            rule=decision.rule.name,
            state_from=before.value,
            state_to=decision.state.value,
            effect=decision.effect.value,
        )
        effect = decision.effect
        if effect is Effect.START:
            self._start_stream(meeting, app)
        elif effect is Effect.STOP and app.stream is not None:
            reason = decision.reason or StopReason.UNDEFINED
            stream, app.stream = app.stream, None
            self.engine.terminate(stream, reason)
        elif effect is Effect.PAUSE and app.stream is not None:
            self.engine.pause(app.stream)
        elif effect is Effect.RESUME and app.stream is not None:
            self.engine.resume(app.stream)
        elif effect is Effect.ASK_HOST:
            answer = meeting.spec.host_answer
            if answer != "ignore":
                self.fire(meeting, app, Trigger.APPROVE if answer == "approve" else Trigger.DENY)
        elif effect is Effect.REQUEST:
            self.fire(meeting, app, Trigger.REQUEST)
        if trigger is Trigger.REQUEST and decision.rule.name == "concurrency_limited":
            self._concurrency_limited(meeting, app)

    def _fire_all(self, meeting: LiveMeeting, trigger: Trigger, *, owner: str | None = None) -> None:
        for app in list(meeting.apps.values()):
            if owner is None or app.owner == owner:
                self.fire(meeting, app, trigger)

    # -- streams ---------------------------------------------------------------------------

    def _live_streams(self, account_id: str) -> int:
        return sum(
            1
            for meeting, app in self._by_stream.values()
            if app.spec.account == account_id and app.stream is not None and app.stream.live
        )

    def _start_stream(self, meeting: LiveMeeting, app: LiveApp) -> None:
        stream = self.engine.create_stream(
            product=meeting.product,
            script=self._script(meeting),
            server_urls=self.server_urls(),
            webhook_url=app.spec.webhook_url,
            instance_id=meeting.uuid,
            app=self._engine_app(app.spec),
            ends_with_script=False,
        )
        app.stream = stream
        app.streams.append(stream)
        self._by_stream[stream.stream_id] = (meeting, app)
        if meeting.product is Product.MEETING:
            stream.started_fields = {
                "meeting_id": meeting.number,
                "is_original_host": meeting.host == meeting.spec.host,
            }
        self.webhooks.send(stream, RtmsEventKind.STARTED, {})
        account = self.accounts[app.spec.account]
        if self._live_streams(account.id) * 100 > account.concurrency_limit * 80:
            self._concurrency_near_limit(app)

    def _concurrency_near_limit(self, app: LiveApp) -> None:
        account = self.accounts[app.spec.account]
        live = self._live_streams(account.id)
        self._send_account_event(
            app.spec,
            "rtms.concurrency_near_limit",
            {
                "concurrency_limit": account.concurrency_limit,
                "concurrency_number": live,
                "percentage": live * 100 // account.concurrency_limit,
            },
        )

    def _concurrency_limited(self, meeting: LiveMeeting, app: LiveApp) -> None:
        account = self.accounts[app.spec.account]
        self._send_account_event(
            app.spec,
            "rtms.concurrency_limited",
            {
                "operator_id": meeting.people[app.owner].zoom_id,
                "concurrency_number": self._live_streams(account.id),
                # Zoom's schema nests the instance id (oneOf meeting_uuid/webinar_uuid/session_id).
                "id_field": {meeting.product.id_key: meeting.uuid},
            },
        )

    def _engine_app(self, spec: sc.AppSpec) -> App:
        """The engine's view of an app: its credentials and the media it has scopes for."""
        media = MediaType(0)
        for name in spec.media:
            media |= MediaType[name.upper()]
        return App(
            client_id=spec.client_id,
            client_secret=spec.client_secret,
            webhook_secret=spec.webhook_secret,
            media_types=media,
        )

    def _script(self, meeting: LiveMeeting) -> MeetingScript:
        """Who is in the stream and what they say: the meeting's people, seeded speech."""
        present = [
            meeting.people[k] for k in sorted(meeting.present, key=lambda k: meeting.people[k].participant_id)
        ]
        speakers = present or [meeting.people[meeting.host]]
        seed = (self.scenario.seed if self.scenario else 0) * 1000 + len(self._by_stream)
        duration = max(60.0, self._remaining())
        spoken = generate_script(seed=seed, participants=len(speakers), duration=duration)
        # Everyone in the meeting is in the roster; speech is given to those present at the start.
        roster = [
            Participant(
                user_id=p.participant_id,
                user_name=p.name,
                pitch_hz=spoken.participants[i % len(spoken.participants)].pitch_hz,
            )
            for i, p in enumerate(sorted(meeting.people.values(), key=lambda p: p.participant_id))
        ]
        ids = {sp.user_id: speakers[i].participant_id for i, sp in enumerate(spoken.participants)}
        utterances = tuple(dataclasses.replace(u, user_id=ids[u.user_id]) for u in spoken.utterances)
        return MeetingScript(tuple(roster), utterances, duration)

    def _remaining(self) -> float:
        if self.scenario is None or self.scenario.duration is None:
            return 3600.0
        return max(1.0, self.scenario.duration - self.clock.now())

    def on_stream_event(self, stream: SimStream, kind: RtmsEventKind, extra: dict[str, Any]) -> None:
        """The engine says a stream ended (any cause): the app's state follows."""
        if kind is not RtmsEventKind.STOPPED:
            return
        found = self._by_stream.get(stream.stream_id)
        if found is None:
            return
        meeting, app = found
        if app.stream is stream:
            app.stream = None
            self.fire(meeting, app, Trigger.STREAM_ENDED)

    # -- meeting webhooks ------------------------------------------------------------------

    def _send_meeting_event(self, meeting: LiveMeeting, what: str, obj: dict[str, Any]) -> None:
        """``meeting.<what>``, or the webinar or Video SDK session event of that name, to the apps."""
        name = _MEETING_EVENTS[meeting.product].get(what)
        if name is None:
            return  # this product has no such event (Contact Center: none of these are modelled)
        host = meeting.people[meeting.host]
        payload = {
            "account_id": host.account,
            "object": {
                "id": str(meeting.number),
                "uuid": meeting.uuid,
                "host_id": host.zoom_id,
                "topic": meeting.topic,
                "type": _MEETING_TYPE[meeting.spec.product],
                "start_time": _iso(self.clock.epoch_ms()),
                "duration": 60,
                "timezone": "UTC",
                **obj,
            },
        }
        for app in meeting.apps.values():
            self.webhooks.send_event(
                url=app.spec.webhook_url, secret=app.spec.webhook_secret, name=name, payload=payload
            )

    def _send_account_event(self, spec: sc.AppSpec, name: str, payload: dict[str, Any]) -> None:
        self.webhooks.send_event(url=spec.webhook_url, secret=spec.webhook_secret, name=name, payload=payload)

    def _participant(self, person: Person) -> dict[str, Any]:
        return {
            "user_id": str(person.participant_id),
            "user_name": person.name,
            "id": person.zoom_id,
            "participant_uuid": person.zoom_id,
            "participant_user_id": person.zoom_id,
            "email": person.email,
            "join_time": _iso(self.clock.epoch_ms()),
        }

    # -- timeline steps --------------------------------------------------------------------

    def targets(self, key: str | None) -> list[LiveMeeting]:
        """The meetings a step names: one meeting, or every copy of a meeting spec."""
        if key is None:
            specs = {m.spec.id for m in self.meetings.values()}
            if len(specs) != 1:
                raise KeyError("name the meeting: this world has several (or none)")
            return list(self.meetings.values())
        if key in self.meetings:
            return [self.meetings[key]]
        copies = [m for m in self.meetings.values() if m.spec.id == key]
        if not copies:
            raise KeyError(f"no meeting {key!r}")
        return copies

    def apply(self, step: sc.Step) -> None:
        """Carry out one timeline step (or control-API trigger) now, in each meeting it names."""
        handler = _STEP_HANDLERS.get(type(step))
        if handler is None:
            raise KeyError(f"{type(step).__name__} is not carried out by the world")
        for meeting in self.targets(step.meeting):
            self._note(None, "step", meeting=meeting.key, do=step.__struct_config__.tag)
            handler(self, meeting, step)

    def _join(self, m: LiveMeeting, step: sc.Step) -> None:
        assert isinstance(step, sc.Join)
        self.join(m, step.user)

    def join(self, m: LiveMeeting, key: str) -> None:
        if m.ended or key in m.present:
            return
        person = m.people[key]
        if not m.started:
            if key == m.host or m.spec.start_without_host:
                self._start_meeting(m)
            else:
                m.waiting.add(key)
                self._send_meeting_event(
                    m, "participant_jbh_waiting", {"participant": self._participant(person)}
                )
                return
        self._enter(m, key)

    def _start_meeting(self, m: LiveMeeting) -> None:
        m.started = True
        self._send_meeting_event(m, "started", {})

    def _enter(self, m: LiveMeeting, key: str) -> None:
        person = m.people[key]
        m.present.add(key)
        m.waiting.discard(key)
        self._send_meeting_event(m, "participant_joined", {"participant": self._participant(person)})
        for app in m.apps.values():
            if app.stream is not None and app.stream.live:
                self.engine.participant_joined(app.stream, person.participant_id, person.name)
        if key == m.host:
            self._fire_all(m, Trigger.HOST_JOINED)
            for waiting in sorted(m.waiting):
                self._enter(m, waiting)
        self._fire_all(m, Trigger.OWNER_JOINED, owner=key)

    def _leave(self, m: LiveMeeting, step: sc.Step) -> None:
        assert isinstance(step, (sc.Leave, sc.Eject))
        ejected = isinstance(step, sc.Eject)
        key = step.user
        m.waiting.discard(key)
        if key not in m.present and key not in m.breakout:
            return
        m.present.discard(key)
        m.breakout.discard(key)
        person = m.people[key]
        self._send_meeting_event(m, "participant_left", {"participant": self._participant(person)})
        for app in m.apps.values():
            if app.stream is not None and app.stream.live:
                self.engine.participant_left(app.stream, person.participant_id)
        if key == m.host:
            self._fire_all(m, Trigger.HOST_LEFT)
        self._fire_all(m, Trigger.OWNER_EJECTED if ejected else Trigger.OWNER_LEFT, owner=key)

    def _start_app(self, m: LiveMeeting, step: sc.Step) -> None:
        assert isinstance(step, sc.StartApp)
        self.fire(m, self._app(m, step.app), Trigger.REQUEST)

    def _stop_app(self, m: LiveMeeting, step: sc.Step) -> None:
        assert isinstance(step, sc.StopApp)
        trigger = Trigger.STOP_BY_HOST if step.by == "host" else Trigger.STOP_BY_OWNER
        self.fire(m, self._app(m, step.app), trigger)

    def _handoff(self, m: LiveMeeting, step: sc.Step) -> None:
        assert isinstance(step, sc.Handoff)
        if step.to not in m.present:
            self.join(m, step.to)
        m.host = step.to
        self._fire_all(m, Trigger.HANDOFF)

    def _breakout(self, m: LiveMeeting, step: sc.Step) -> None:
        assert isinstance(step, sc.Breakout)
        self._move(m, step.user, m.present, m.breakout, Trigger.OWNER_TO_BREAKOUT)

    def _return(self, m: LiveMeeting, step: sc.Step) -> None:
        assert isinstance(step, sc.ReturnToMain)
        self._move(m, step.user, m.breakout, m.present, Trigger.OWNER_BACK)

    def _move(self, m: LiveMeeting, user: str, room: set[str], to: set[str], trigger: Trigger) -> None:
        """``user`` goes from ``room`` to ``to`` (main room and breakout rooms)."""
        if user not in room:
            return
        room.discard(user)
        to.add(user)
        self._fire_all(m, trigger, owner=user)

    def _sharing(self, m: LiveMeeting, step: sc.Step) -> None:
        assert isinstance(step, sc.Sharing)
        m.sharing = step.enabled
        self._fire_all(m, Trigger.SHARING_ON if step.enabled else Trigger.SHARING_OFF)

    def _disable(self, m: LiveMeeting, step: sc.Step) -> None:
        assert isinstance(step, sc.DisableApp)
        trigger = {
            "app": Trigger.APP_DISABLED,
            "all_apps": Trigger.ALL_APPS_DISABLED,
            "admin": Trigger.ADMIN_DISABLED,
        }[step.scope]
        if step.scope == "app":
            self.fire(m, self._app(m, step.app), trigger)
        else:
            self._fire_all(m, trigger)

    def _end(self, m: LiveMeeting, step: sc.Step) -> None:
        if m.ended:
            return
        self._fire_all(m, Trigger.MEETING_ENDED)
        m.ended = True
        m.present.clear()
        m.waiting.clear()
        m.breakout.clear()
        if m.started:
            self._send_meeting_event(m, "ended", {"end_time": _iso(self.clock.epoch_ms())})

    def _set(self, m: LiveMeeting, step: sc.Step) -> None:
        assert isinstance(step, sc.SetSetting)
        if step.account is not None:
            account = self.accounts[step.account]
            changes = {
                k: v
                for k, v in (("rtms_enabled", step.rtms_enabled), ("entitled", step.entitled))
                if v is not None
            }
            self.accounts[step.account] = _replace(account, **changes)
        if step.user is not None and step.client_version is not None:
            for meeting in self.meetings.values():
                meeting.people[step.user].client_version = step.client_version
            self.persons[step.user].client_version = step.client_version

    def _fault(self, m: LiveMeeting, step: sc.Step) -> None:
        assert isinstance(step, sc.Fault)
        app = self._app(m, step.app)
        stream = app.stream
        kind = step.kind
        if kind == "concurrency_near_limit":
            self._concurrency_near_limit(app)
            return
        if kind == "concurrency_limited":
            self._concurrency_limited(m, app)
            return
        if kind.startswith("client_"):
            self._note(None, "client_fault", meeting=m.key, fault=kind)  # the runner's stand-in acts on it
            return
        if stream is None or not stream.live:
            self._note(None, "fault_ignored", meeting=m.key, fault=kind, why="no live stream")
            return
        if kind == "drop_signaling":
            self.engine.drop_signaling(stream, close_frame=False)
        elif kind == "close_signaling":
            self.engine.drop_signaling(stream, close_frame=True)
        elif kind in ("drop_media", "close_media"):
            media = None if step.media is None else MediaType[step.media.upper()]
            self.engine.drop_media(stream, media, close_frame=kind == "close_media")
        elif kind == "failover":
            self.engine.failover(stream)
        elif kind == "duplicate_webhook":
            self.webhooks.redeliver(stream.product.event_name(RtmsEventKind.STARTED), stream.stream_id)
        elif kind == "stop":
            self.engine.terminate(stream, StopReason(step.reason if step.reason is not None else 0))

    # -- the REST backend (simulator/rest.py) ----------------------------------------------

    def app_by_client_id(self, client_id: str) -> sc.AppSpec | None:
        for app in self.apps.values():
            if app.client_id == client_id:
                return app
        return None

    def default_user(self, account_id: str) -> str | None:
        for person in self.persons.values():
            if person.account == account_id:
                return person.zoom_id
        return None

    def account(self, account_id: str) -> sc.Account | None:
        return self.accounts.get(account_id)

    def person_by_zoom_id(self, m: LiveMeeting, zoom_id: str) -> Person | None:
        for person in m.people.values():
            if person.zoom_id == zoom_id or person.key == zoom_id:
                return person
        return None

    def update_meeting_rtms_status(
        self, meeting_id: str, action: str, *, token: Token, client_id: str, participant_user_id: str | None
    ) -> None:
        m = next(
            (
                x
                for x in self.meetings.values()
                if str(x.number) == meeting_id and x.product is not Product.SESSION
            ),
            None,
        )
        if m is None or m.ended:
            raise ZoomApiError(404, 3001, f"Meeting does not exist: {meeting_id}.")
        self._rest_action(
            m, action, token=token, client_id=client_id, participant_user_id=participant_user_id
        )

    def update_session_rtms_status(self, session_id: str, action: str, *, token: Token) -> None:
        account = self.accounts.get(token.account_id)
        if account is None or not account.video_sdk:
            raise ZoomApiError(400, 200, "This API is only available for Video SDK accounts.")
        m = next(
            (x for x in self.meetings.values() if x.uuid == session_id and x.product is Product.SESSION), None
        )
        if m is None or m.ended:
            raise ZoomApiError(404, 3001, f"Session does not exist: {session_id}.")
        app = next((a for a in m.apps.values() if a.spec.client_id == token.app.client_id), None)
        if app is None:
            app = next(iter(m.apps.values()), None)
        if app is None:
            raise ZoomApiError(400, 2310, "Failed to perform RTMS app operation.")
        if action != "start" and app.state not in (AppState.STREAMING, AppState.PAUSED):
            user = m.people[app.owner].zoom_id
            raise ZoomApiError(
                400,
                13277,
                f"Unable to '{action}' the RTMS app for user '{user}' because it has not been started.",
            )
        self._do_action(m, app, action)

    def _rest_action(
        self, m: LiveMeeting, action: str, *, token: Token, client_id: str, participant_user_id: str | None
    ) -> None:
        spec = self.app_by_client_id(client_id)
        live = next((a for a in m.apps.values() if spec is not None and a.spec.id == spec.id), None)
        if spec is None or live is None:
            raise ZoomApiError(400, 13262, F3_MESSAGE.format(client_id=client_id))
        account = self.accounts[spec.account]
        if not account.entitled or not (spec.published or spec.environment == "development"):
            raise ZoomApiError(400, 13262, F3_MESSAGE.format(client_id=client_id))
        if not m.started:
            raise ZoomApiError(400, 3000, f"Meeting {m.number} is not in progress.")
        if participant_user_id is None:
            person = self.person_by_zoom_id(m, token.user_id) if token.user_id else None
            if person is None or person.key not in m.present:
                raise ZoomApiError(400, 2308, "The user is not in the meeting.")
        else:
            person = self.person_by_zoom_id(m, participant_user_id)
            if person is None:
                raise ZoomApiError(400, 2308, "The user is not in the meeting.")
        if token.user_id is not None:
            caller = self.person_by_zoom_id(m, token.user_id)
            if caller is None or (caller.key != m.host and caller.key != person.key):
                raise ZoomApiError(403, 200, "No permission.")
        conditions = self.conditions(m, live)
        if not conditions.org_enabled or not conditions.host_client_ok:
            raise ZoomApiError(400, 2310, "Failed to perform RTMS app operation.")
        live_states = {
            "stop": (AppState.STREAMING, AppState.PAUSED),
            "pause": (AppState.STREAMING,),
            "resume": (AppState.PAUSED,),
        }
        if action in live_states and live.state not in live_states[action]:
            raise ZoomApiError(400, 2310, "Failed to perform RTMS app operation.")
        if action == "start":
            live.owner = person.key  # the request is made on behalf of this participant
        self._do_action(m, live, action)

    def _do_action(self, m: LiveMeeting, app: LiveApp, action: str) -> None:
        trigger = {
            "start": Trigger.REQUEST,
            "stop": Trigger.STOP_BY_OWNER,
            "pause": Trigger.PAUSE,
            "resume": Trigger.RESUME,
        }[action]
        # Zoom answers 204 at once and acts afterwards; here "afterwards" is the same instant.
        self.fire(m, app, trigger)

    def describe(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name if self.scenario else None,
            "meetings": [m.describe() for m in self.meetings.values()],
        }


def _app_trigger(trigger: Trigger) -> Callable[[World, LiveMeeting, sc.Step], None]:
    def handler(world: World, m: LiveMeeting, step: sc.Step) -> None:
        world.fire(m, world._app(m, getattr(step, "app", None)), trigger)

    return handler


_STEP_HANDLERS: dict[type, Callable[[World, LiveMeeting, sc.Step], None]] = {
    sc.Join: World._join,
    sc.Leave: World._leave,
    sc.Eject: World._leave,
    sc.StartApp: World._start_app,
    sc.StopApp: World._stop_app,
    sc.Approve: _app_trigger(Trigger.APPROVE),
    sc.Deny: _app_trigger(Trigger.DENY),
    sc.Pause: _app_trigger(Trigger.PAUSE),
    sc.Resume: _app_trigger(Trigger.RESUME),
    sc.Revoke: _app_trigger(Trigger.REVOKE),
    sc.Handoff: World._handoff,
    sc.Breakout: World._breakout,
    sc.ReturnToMain: World._return,
    sc.Sharing: World._sharing,
    sc.DisableApp: World._disable,
    sc.EndMeeting: World._end,
    sc.SetSetting: World._set,
    sc.Fault: World._fault,
}


def _with_credentials(app: sc.AppSpec, webhook_url: str | None) -> sc.AppSpec:
    """Fill in credentials left empty, derived from the app id (stable, so files stay short)."""
    return msgspec.structs.replace(
        app,
        client_id=app.client_id or f"{app.id}-client-id",
        client_secret=app.client_secret or f"{app.id}-client-secret",
        webhook_secret=app.webhook_secret or f"{app.id}-webhook-secret",
        webhook_url=webhook_url or app.webhook_url,
    )


def _replace(account: sc.Account, **changes: Any) -> sc.Account:
    return msgspec.structs.replace(account, **changes)


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _zoom_id(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(22))


def _meeting_uuid(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET[:62] + "+/") for _ in range(22)) + "=="


def _iso(epoch_ms: int) -> str:
    return dt.datetime.fromtimestamp(epoch_ms / 1000, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
