"""The manual starter against the simulator's world, its webhooks and its REST API (field report F2).

The simulator posts its webhooks (meeting.started, participant_joined, rtms_started, …) to a
receiver on 127.0.0.1 that hands each one to :meth:`ManualStarter.handle`, as the connector's
webhook receiver does. Time is a :class:`~simulator.clock.ManualClock` shared by both sides.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connector.manual import TRANSITIONS, ManualStarter, StartState
from connector.zoom_api import ZoomApi
from simulator import scenario as sc
from simulator.clock import ManualClock, settle
from simulator.errors import ZoomApiError as SimZoomApiError
from simulator.governance import AppState
from simulator.oauth import Token

from .test_zoom_api import TIMEOUT, Zoom, closed_port, load, until, zoom

S = StartState


class Receiver:
    """Where the simulator's webhooks go: each is recorded, then given to the handler."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.handler: Callable[[dict[str, Any]], Any] | None = None
        self.server: TestServer | None = None

    async def receive(self, request: web.Request) -> web.StreamResponse:
        event = await request.json()
        self.events.append(event)
        if self.handler is not None:
            await self.handler(event)
        return web.json_response({"status": "ok"})

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/hook/{app}", self.receive)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return str(self.server.make_url("/hook/")) + "{app}"

    def names(self) -> list[str]:
        return [e["event"] for e in self.events]

    def last(self, name: str) -> dict[str, Any]:
        return [e for e in self.events if e["event"] == name][-1]


@asynccontextmanager
async def manual(
    scenario: str, clock: ManualClock, **options: Any
) -> AsyncIterator[tuple[Zoom, ManualStarter, Receiver]]:
    receiver = Receiver()
    url = await receiver.start()
    try:
        async with zoom(scenario, clock, webhook_url=url) as z:
            api = z.api()
            starter = ManualStarter(api, client_id=z.app().client_id, clock=clock, **options)
            receiver.handler = starter.handle
            try:
                yield z, starter, receiver
            finally:
                await starter.close()
    finally:
        assert receiver.server is not None
        await receiver.server.close()


async def reach(starter: ManualStarter, meeting_id: int, *states: StartState) -> StartState:
    async with asyncio.timeout(TIMEOUT):
        return await starter.wait_state(meeting_id, *states)


async def delivered(receiver: Receiver, name: str, count: int = 1) -> None:
    await until(lambda: receiver.names().count(name) >= count)


def answered(z: Zoom | None) -> bool:
    """Every webhook the simulator sent has had its answer (so moving the clock makes none late)."""
    if z is None:
        return True
    journal = z.sim.journal
    sent = [r for r in journal.select(channel="webhook", direction="out") if r.detail.get("url")]
    return len(journal.select(channel="webhook", kind="delivery")) >= len(sent)


async def run(clock: ManualClock, seconds: float, z: Zoom | None = None) -> None:
    """Let pending work finish and schedule its timers, then move the clock (1 s steps)."""
    await until(lambda: answered(z))
    await settle()
    await clock.run_for(seconds, step=1.0)


async def run_until(
    clock: ManualClock, done: Callable[[], bool], *, limit: float, z: Zoom | None = None
) -> None:
    """Move the clock a second at a time until ``done()``; fail once ``limit`` seconds passed."""
    end = clock.now() + limit
    while not done():
        assert clock.now() < end, f"not done within {limit} s of scenario time"
        await run(clock, 1.0, z)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


# -- F2 ----------------------------------------------------------------------------------------


async def test_f2_accepted_but_nothing_starts_until_the_host_joins(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="connector")
    async with manual("f2-participant-joined-before-host", clock) as (z, starter, receiver):
        mid = z.meeting().number
        z.join("owner")  # meeting.started: the meeting may start without the host
        assert await reach(starter, mid, S.REQUESTED) is S.REQUESTED
        assert starter.attempts(mid) == 1
        assert z.live_app().streams == []  # Zoom said 204, and nothing started
        await run(clock, 31, z)
        assert await reach(starter, mid, S.WAITING_FOR_HOST) is S.WAITING_FOR_HOST
        assert "accepted but no rtms_started within 30 s" in caplog.text
        assert len(z.calls()) == 1  # it waits for the host, it does not poll
        z.join("host")
        assert await reach(starter, mid, S.STARTED) is S.STARTED
        assert starter.attempts(mid) == 2
        assert z.live_app().state is AppState.STREAMING
        assert len(z.live_app().streams) == 1
        assert z.answers[-1][1] == 204
        assert receiver.names().count("meeting.rtms_started") == 1


async def test_2308_waits_for_the_host_then_starts(
    clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Zoom is reported to answer 2308 where the simulator accepts the call (F2's other face)."""
    async with manual("f2-participant-joined-before-host", clock) as (z, starter, _):
        world = z.world
        accept = world.update_meeting_rtms_status

        def strict(
            meeting_id: str, action: str, *, token: Token, client_id: str, participant_user_id: str | None
        ) -> None:
            m = z.meeting()
            person = world.person_by_zoom_id(m, participant_user_id or "")
            if action == "start" and person is not None and person.key not in m.present:
                raise SimZoomApiError(400, 2308, "The user is not in the meeting.")
            accept(
                meeting_id, action, token=token, client_id=client_id, participant_user_id=participant_user_id
            )

        monkeypatch.setattr(world, "update_meeting_rtms_status", strict)
        mid = z.meeting().number
        z.join("owner")
        assert await reach(starter, mid, S.WAITING_FOR_HOST) is S.WAITING_FOR_HOST
        error = starter.last_error(mid)
        assert error is not None
        assert error.code == 2308
        assert z.answers[-1][1] == 400
        z.join("host")
        assert await reach(starter, mid, S.STARTED) is S.STARTED
        assert starter.attempts(mid) == 2
        assert [status for _, status in z.answers if "live_meetings" in _] == [400, 204]


async def test_host_first_starts_at_once_and_a_repeated_delivery_asks_nothing(clock: ManualClock) -> None:
    async with manual("f2-participant-joined-before-host", clock) as (z, starter, receiver):
        mid = z.meeting().number
        z.join("host")
        assert await reach(starter, mid, S.STARTED) is S.STARTED
        assert starter.attempts(mid) == 1
        await starter.handle(receiver.last("meeting.started"))  # Zoom's retry of the webhook
        await run(clock, 60, z)
        assert len(z.calls()) == 1
        assert starter.state(mid) is S.STARTED


IGNORED_APPROVAL = """
name: approval-never-answered
seed: 7
accounts: [{id: host-org}]
apps: [{id: notetaker, account: host-org}]
users: [{id: host, account: host-org}]
meetings:
  - {id: standup, host: host, apps: [notetaker], approval_required: true, host_answer: ignore}
"""


async def test_attempts_are_bounded(clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    """The host is present, Zoom accepts every call, and the host never approves."""
    async with manual(IGNORED_APPROVAL, clock, max_attempts=3) as (z, starter, _):
        mid = z.meeting().number
        z.join("host")
        await run_until(clock, lambda: starter.state(mid) is S.FAILED, limit=300, z=z)
        assert starter.attempts(mid) == 3
        assert len(z.calls()) == 3
        assert "RTMS start given up: no stream after 3 attempts" in caplog.text
        await run(clock, 600, z)
        assert len(z.calls()) == 3


async def test_the_retry_window_is_bounded(clock: ManualClock) -> None:
    async with manual(IGNORED_APPROVAL, clock, max_attempts=100, retry_window=120) as (z, starter, _):
        mid = z.meeting().number
        z.join("host")
        t0 = clock.now()
        await run_until(clock, lambda: starter.state(mid) is S.FAILED, limit=300, z=z)
        assert clock.now() - t0 <= 120 + 1
        assert 2 <= starter.attempts(mid) < 100


async def test_the_host_never_joining_ends_in_failed(clock: ManualClock) -> None:
    async with manual("f2-participant-joined-before-host", clock, retry_window=100) as (z, starter, _):
        mid = z.meeting().number
        z.join("owner")
        await run_until(clock, lambda: starter.state(mid) is S.FAILED, limit=200, z=z)
        assert starter.attempts(mid) == 1


async def test_a_permanent_error_is_not_retried(clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    async with manual("f3-not-entitled-13262", clock) as (z, starter, _):
        mid = z.meeting().number
        z.join("host")
        assert await reach(starter, mid, S.FAILED) is S.FAILED
        assert starter.attempts(mid) == 1
        assert "will not be retried: APP_NOT_AUTHORIZED_FOR_MEETING_CONTENT" in caplog.text
        assert "Allow apps to access meeting content" in caplog.text
        await run(clock, 600, z)
        assert len(z.calls()) == 1


async def test_3000_is_retried_with_backoff_on_an_explicit_start(clock: ManualClock) -> None:
    async with manual("rest-meeting-not-started-3000", clock, start_on="never") as (z, starter, receiver):
        mid = z.meeting().number
        call = asyncio.create_task(starter.start(mid, z.zoom_id("host")))
        await until(lambda: starter.last_error(mid) is not None)
        assert starter.last_error(mid).code == 3000  # type: ignore[union-attr]
        assert starter.state(mid) is S.PENDING
        z.join("host")
        await delivered(receiver, "meeting.participant_joined")
        assert len(z.calls()) == 1  # still backing off
        await run(clock, 3, z)
        async with asyncio.timeout(TIMEOUT):
            assert await call is S.STARTED
        assert starter.attempts(mid) == 2


async def test_start_on_never_asks_nothing_by_itself(clock: ManualClock) -> None:
    async with manual("f2-participant-joined-before-host", clock, start_on="never") as (z, starter, receiver):
        z.join("host")
        await delivered(receiver, "meeting.participant_joined")
        await run(clock, 60, z)
        assert z.calls() == []
        assert starter.state(z.meeting().number) is S.PENDING


async def test_meeting_ended_cancels_the_wait(clock: ManualClock) -> None:
    async with manual("f2-participant-joined-before-host", clock) as (z, starter, receiver):
        mid = z.meeting().number
        z.join("owner")
        await reach(starter, mid, S.REQUESTED)
        await run(clock, 31, z)
        await reach(starter, mid, S.WAITING_FOR_HOST)
        z.end()
        assert await reach(starter, mid, S.ENDED) is S.ENDED
        assert starter.counts()[S.WAITING_FOR_HOST] == 0
        await starter.handle(receiver.last("meeting.started"))  # a late retry of the webhook
        await run(clock, 600, z)
        assert len(z.calls()) == 1
        assert starter.state(mid) is S.ENDED


async def test_stop_pause_resume_are_single_calls(clock: ManualClock) -> None:
    async with manual("f2-participant-joined-before-host", clock) as (z, starter, receiver):
        mid = z.meeting().number
        z.join("host")
        await reach(starter, mid, S.STARTED)
        await starter.pause(mid)
        assert z.live_app().state is AppState.PAUSED
        await starter.resume(mid)
        assert z.live_app().state is AppState.STREAMING
        await starter.stop(mid)
        await delivered(receiver, "meeting.rtms_stopped")
        assert await reach(starter, mid, S.PENDING) is S.PENDING
        with pytest.raises(Exception, match="code 2310"):
            await starter.stop(mid)


# -- without the simulator: the event plumbing ---------------------------------------------------


def started_event(meeting_id: int, host_id: str = "host-zoom-id") -> dict[str, Any]:
    return {
        "event": "meeting.started",
        "payload": {
            "account_id": "acct",
            "object": {"id": str(meeting_id), "uuid": "uu/id==", "host_id": host_id},
        },
    }


async def test_a_stream_started_elsewhere_is_not_asked_for_again(clock: ManualClock) -> None:
    """rtms_started (auto-start) delivered before meeting.started: nothing to ask for."""
    unreachable = f"http://127.0.0.1:{closed_port()}"
    async with ZoomApi(
        account_id="a", client_id="c", client_secret="secret", oauth_url=unreachable, clock=clock
    ) as api:
        starter = ManualStarter(api, client_id="c", clock=clock)
        rtms = {"meeting_uuid": "uu/id==", "rtms_stream_id": "s1", "meeting_id": 81234567890}
        await starter.handle({"event": "meeting.rtms_started", "payload": rtms})
        await starter.handle(started_event(81234567890))
        await settle()
        assert starter.state(81234567890) is S.STARTED
        assert starter.attempts(81234567890) == 0
        await starter.close()


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"event": 5, "payload": {}},
        {"event": "meeting.started", "payload": []},
        {"event": "meeting.started", "payload": {"object": {"id": "not-a-number"}}},
        {"event": "session.started", "payload": {"object": {"id": "1"}}},
        {
            "event": "meeting.participant_joined",
            "payload": {"object": {"id": "1", "participant": {"id": "x"}}},
        },
    ],
)
async def test_events_it_cannot_use_are_ignored(clock: ManualClock, event: dict[str, Any]) -> None:
    unreachable = f"http://127.0.0.1:{closed_port()}"
    async with ZoomApi(
        account_id="a", client_id="c", client_secret="secret", oauth_url=unreachable, clock=clock
    ) as api:
        starter = ManualStarter(api, client_id="c", clock=clock)
        await starter.handle(event)
        assert starter.counts() == dict.fromkeys(StartState, 0)


async def test_a_network_error_is_retried_then_given_up(clock: ManualClock) -> None:
    unreachable = f"http://127.0.0.1:{closed_port()}"
    async with ZoomApi(
        account_id="a", client_id="c", client_secret="secret", oauth_url=unreachable, clock=clock
    ) as api:
        starter = ManualStarter(api, client_id="c", clock=clock, max_attempts=3)
        await starter.handle(started_event(81234567890))
        await run_until(clock, lambda: starter.state(81234567890) is S.FAILED, limit=60)
        assert starter.attempts(81234567890) == 3
        error = starter.last_error(81234567890)
        assert error is not None
        assert error.http_status == 0


def test_every_state_has_its_transitions() -> None:
    assert set(TRANSITIONS) == set(StartState)
    assert TRANSITIONS[S.ENDED] == frozenset()
    assert all(S.ENDED in moves for state, moves in TRANSITIONS.items() if state is not S.ENDED)


def test_bad_options_are_refused(clock: ManualClock) -> None:
    api = ZoomApi(account_id="a", client_id="c", client_secret="s", clock=clock)
    with pytest.raises(ValueError, match="max_attempts"):
        ManualStarter(api, client_id="c", clock=clock, max_attempts=0)
    with pytest.raises(ValueError, match="start_on"):
        ManualStarter(api, client_id="c", clock=clock, start_on="sometimes")  # type: ignore[arg-type]


def test_the_scenarios_used_here_load() -> None:
    assert load(IGNORED_APPROVAL).meetings[0].host_answer == "ignore"
    assert isinstance(load("f2-participant-joined-before-host"), sc.Scenario)
