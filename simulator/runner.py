"""Running a scenario file: its timeline on the scenario clock, and its expectations checked.

:class:`ScenarioRun` loads a scenario into a :class:`~.server.Simulator` that runs on a
:class:`~.clock.ManualClock`, plugs in the stand-in app (or sends webhooks to a real app),
and plays the timeline. Time jumps from one due timer to the next, and between jumps the
run waits until every socket and request has gone quiet, so an hour of meeting runs in
seconds and the same scenario and seed give the same journal. :class:`Outcome` compares
what happened with the file's ``expect`` section.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

from connector.protocol import SessionState

from . import scenario as sc
from .clock import ManualClock
from .config import SimulatorConfig
from .driver import Driver
from .journal import Record
from .server import Simulator
from .stand_in import StandIn

__all__ = ["Outcome", "ScenarioRun", "run_file", "run_scenario"]

_QUIET_ROUNDS = 12
_TAIL = 120.0  # seconds run after the last step when the scenario gives no duration


@dataclass
class Outcome:
    """What a run produced, and how it differs from the scenario's ``expect``."""

    scenario: sc.Scenario
    observed: dict[str, Any]
    mismatches: list[str] = field(default_factory=list)
    scenario_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def report(self) -> str:
        head = (
            f"{'PASS' if self.ok else 'FAIL'} {self.scenario.name}: "
            f"{self.scenario_seconds:.0f} s of meeting in {self.wall_seconds:.2f} s"
        )
        return "\n".join([head, *(f"  - {m}" for m in self.mismatches)])


class ScenarioRun:
    """One scenario in one simulator. Use as ``async with ScenarioRun(s) as run: await run.play()``."""

    def __init__(
        self,
        scenario: sc.Scenario,
        *,
        sim: Simulator | None = None,
        webhook_url: str | None = None,
    ) -> None:
        self.scenario = scenario
        self._own_sim = sim is None
        self.sim = sim or Simulator(config_for(scenario), clock=ManualClock())
        if not isinstance(self.sim.clock, ManualClock):
            raise TypeError("a scenario runs on a ManualClock (the scenario clock)")
        self.clock: ManualClock = self.sim.clock
        self.webhook_url = webhook_url
        self.stand_in: StandIn | None = None
        self.rest_results: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None
        self._t0 = 0.0

    async def __aenter__(self) -> ScenarioRun:
        if self._own_sim:
            await self.sim.start()
        self._http = aiohttp.ClientSession()
        url = self.webhook_url
        if url is None and self.scenario.client.enabled:
            self.stand_in = StandIn(self.scenario.client, clock=self.clock, apps={})
            url = await self.stand_in.start() + "/{app}"
        self._t0 = self.clock.now()
        Driver.of(self.sim).load(self.scenario, webhook_url=url, play=self._do)
        if self.stand_in is not None:
            self.stand_in.apps.update(self.sim.world.apps)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.stand_in is not None:
            await self.stand_in.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        if self._own_sim:
            await self.sim.close()

    # -- steps -----------------------------------------------------------------------------

    def _do(self, step: sc.Step) -> None:
        if isinstance(step, sc.Rest):
            task = asyncio.get_running_loop().create_task(self._rest(step))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        if isinstance(step, sc.Fault) and step.kind.startswith("client_") and self.stand_in is not None:
            if step.kind == "client_stops_keep_alive":
                self.stand_in.answer_keep_alives = False
            elif step.kind == "client_resumes_keep_alive":
                self.stand_in.answer_keep_alives = True
            elif step.kind == "client_crash":
                self.stand_in.crash()
        self.sim.world.apply(step)

    async def _rest(self, step: sc.Rest) -> None:
        """Call Zoom's REST API as the app would: a token, then PATCH .../rtms_app/status."""
        assert self._http is not None
        world = self.sim.world
        meeting = world.meeting(step.meeting)
        app_id = step.app or next(iter(meeting.apps), None)
        app = world.apps[app_id] if app_id else next(iter(world.apps.values()))
        others = [p for k, p in meeting.people.items() if k != meeting.host and k in world.users]
        token = self._token(app, step.token, others[0].zoom_id if others else None)
        host = meeting.people[meeting.host]
        settings: dict[str, Any] = {"client_id": app.client_id}
        if step.participant_user_id is None:
            settings["participant_user_id"] = host.zoom_id
        elif step.participant_user_id:
            settings["participant_user_id"] = meeting.people[step.participant_user_id].zoom_id
        if meeting.product.value == "session":
            path = f"/v2/videosdk/sessions/{_double_quote(meeting.uuid)}/rtms_app/status"
            body: dict[str, Any] = {"action": step.action}
        else:
            path = f"/v2/live_meetings/{step.meeting_id or meeting.number}/rtms_app/status"
            body = {"action": step.action, "settings": settings}
        async with self._http.patch(
            self.sim.http_url + path, json=body, headers={"Authorization": f"Bearer {token}"}
        ) as response:
            text = await response.text()
            result: dict[str, Any] = {"status": response.status}
            if text:
                try:
                    parsed = await response.json(content_type=None)
                except ValueError:
                    parsed = {"raw": text}
                result.update({k: parsed.get(k) for k in ("code", "message") if isinstance(parsed, dict)})
            if "Retry-After" in response.headers:
                result["retry_after"] = response.headers["Retry-After"]
        self.rest_results.append(result)

    def _token(self, app: sc.AppSpec, kind: str, not_host: str | None) -> str:
        tokens = self.sim.tokens
        if kind == "invalid":
            return "not-a-zoom-token"
        scopes = frozenset() if kind == "no_scope" else frozenset(app.scopes)
        ttl = -1.0 if kind == "expired" else 3599.0
        user = not_host if kind == "not_host" else None  # a user token of a participant, not the host
        return tokens.issue(app, account_id=app.account, user_id=user, scopes=scopes, ttl=ttl).access_token

    # -- the clock -------------------------------------------------------------------------

    async def quiesce(self) -> None:
        """Wait (in loop turns, not time) until sockets, requests and the stand-in go quiet."""
        idle = 0
        last: tuple[int, ...] | None = None
        while idle < _QUIET_ROUNDS:
            await asyncio.sleep(0)
            if self._tasks:
                await asyncio.wait(set(self._tasks), timeout=10)
            mark = (
                len(self.sim.journal.records),
                sum(self.sim.journal.media_counts.values()),
                self.stand_in.activity if self.stand_in else 0,
                self.stand_in.connecting if self.stand_in else 0,
            )
            idle = idle + 1 if mark == last else 0
            last = mark
            if idle == _QUIET_ROUNDS and self.stand_in is not None and self.stand_in.connecting:
                idle = 0  # a connect is on its way through the OS: give it a moment
                await asyncio.sleep(0.001)

    async def run_until(self, t: float) -> None:
        """Play scenario time up to ``t`` (seconds since the scenario was loaded)."""
        end = self._t0 + t
        await self.quiesce()
        while True:
            due = self.clock.next_deadline()
            if due is None or due > end:
                break
            self.clock.advance(max(0.0, due - self.clock.now()))
            await self.quiesce()
        self.clock.advance(max(0.0, end - self.clock.now()))
        await self.quiesce()

    async def play(self) -> Outcome:
        """Run the whole scenario and check it."""
        started = time.perf_counter()
        duration = self.scenario.duration
        if duration is None:
            last = self.scenario.timeline[-1].at if self.scenario.timeline else 0.0
            duration = last + _TAIL
        await self.run_until(duration)
        outcome = self.outcome()
        outcome.scenario_seconds = duration
        outcome.wall_seconds = time.perf_counter() - started
        return outcome

    # -- checking --------------------------------------------------------------------------

    def observed(self) -> dict[str, Any]:
        journal = self.sim.journal
        created = [r.stream_id for r in journal.select(kind="stream_created") if r.stream_id]
        ended = {r.stream_id: r.detail.get("stop_reason") for r in journal.select(kind="terminated")}
        webhook_records = [r for r in journal.select(channel="webhook", direction="out")]
        attempts: Counter[str] = Counter(str(r.detail.get("event")) for r in journal.select(kind="delivery"))
        handshakes: Counter[int] = Counter(
            int(r.detail.get("status_code", -1))
            for r in journal.select(kind="SIGNALING_HAND_SHAKE_RESP", direction="out")
        )
        return {
            "data_flows": self.stand_in.frames_for() > 0 if self.stand_in else None,
            "streams": len(created),
            "stop_reasons": [ended.get(sid) for sid in created],
            "webhooks": [r.kind for r in webhook_records],
            "webhook_attempts": dict(attempts),
            "session_states": [
                SessionState(int(r.detail["state"])).name
                for r in journal.select(kind="SESSION_STATE_UPDATE", direction="out")
            ],
            "rest": self.rest_results,
            "decisions": [str(r.detail["rule"]) for r in journal.select(kind="decision")],
            "signaling_handshakes": dict(handshakes),
        }

    def outcome(self) -> Outcome:
        observed = self.observed()
        expect = self.scenario.expect
        mismatches: list[str] = []

        def check(name: str, want: Any, got: Any) -> None:
            if want is not None and want != got:
                mismatches.append(f"{name}: expected {want!r}, got {got!r}")

        check("data_flows", expect.data_flows, observed["data_flows"])
        check("streams", expect.streams, observed["streams"])
        if expect.stop_reasons is not None:
            check("stop_reasons", list(expect.stop_reasons), observed["stop_reasons"])
        if expect.webhooks is not None:
            check("webhooks", list(expect.webhooks), observed["webhooks"])
        if expect.webhook_attempts is not None:
            got = {k: observed["webhook_attempts"].get(k, 0) for k in expect.webhook_attempts}
            check("webhook_attempts", dict(expect.webhook_attempts), got)
        if expect.session_states is not None:
            check("session_states", list(expect.session_states), observed["session_states"])
        if expect.rest is not None:
            got_rest = [
                {k: r.get(k) for k in ("status", "code", "message") if getattr(want, k) is not None}
                for want, r in zip(expect.rest, observed["rest"], strict=False)
            ]
            want_rest = [
                {k: getattr(w, k) for k in ("status", "code", "message") if getattr(w, k) is not None}
                for w in expect.rest
            ]
            if len(observed["rest"]) != len(expect.rest) or got_rest != want_rest:
                mismatches.append(f"rest: expected {want_rest!r}, got {observed['rest']!r}")
        if expect.decisions is not None:
            check("decisions", list(expect.decisions), observed["decisions"])
        if expect.signaling_handshakes is not None:
            check("signaling_handshakes", dict(expect.signaling_handshakes), observed["signaling_handshakes"])
        return Outcome(self.scenario, observed, mismatches)


def config_for(scenario: sc.Scenario, **overrides: Any) -> SimulatorConfig:
    """The simulator configuration a scenario's switches ask for."""
    return SimulatorConfig.from_switches(scenario.switches, seed=scenario.seed, tls_port=None, **overrides)


async def run_scenario(scenario: sc.Scenario) -> Outcome:
    async with ScenarioRun(scenario) as run:
        return await run.play()


async def run_file(path: str | Path) -> Outcome:
    return await run_scenario(sc.load(path))


def _double_quote(value: str) -> str:
    """Zoom asks for ids containing ``/`` to be URL-encoded twice (Video SDK API)."""
    return quote(quote(value, safe=""), safe="")


_PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")


def journal_lines(records: list[Record]) -> list[str]:
    """A canonical text form of journal records, for comparing two runs.

    Ports are the operating system's choice (every run binds port 0), so they are replaced
    by ``<port>``; everything else is the scenario's.
    """
    return [
        _PORT.sub(
            r"\1:<port>",
            json.dumps(
                [r.t, r.epoch_ms, r.stream_id, r.channel, r.direction, r.kind, r.detail], sort_keys=True
            ),
        )
        for r in records
    ]
