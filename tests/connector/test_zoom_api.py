"""The REST client against the simulator's real OAuth and REST server (docs/protocol.md §8).

The simulator runs in-process on 127.0.0.1 with a scenario's world loaded (its accounts, apps
and users) and a :class:`~simulator.clock.ManualClock`; the client gets the same clock, or one of
its own where a test needs the two sides to disagree about the time. Timeline steps are applied
to the world by the test, one by one. :class:`Zoom` and :func:`zoom` are also used by
``test_manual.py``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connector.guidance import explain
from connector.zoom_api import ZoomApi, ZoomApiError, encode_path_id
from simulator import scenario as sc
from simulator.clock import ManualClock, settle
from simulator.governance import AppState
from simulator.runner import config_for
from simulator.server import Simulator
from simulator.world import F3_MESSAGE, LiveApp, LiveMeeting, World

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
TIMEOUT = 5.0  # upper bound on any wait for behaviour; never a sleep
NOWHERE = "https://api.zoom.invalid"  # never reached: the token response's api_url wins
NO_SUCH_MEETING = "12345678901"


def load(scenario: str) -> sc.Scenario:
    """A catalogue scenario by name, or an inline YAML scenario."""
    if "\n" in scenario:
        return sc.loads(scenario)
    return sc.load(SCENARIOS / f"{scenario}.yaml")


async def until(predicate: Callable[[], bool]) -> None:
    """Let the loop run until ``predicate()`` holds (loop turns, bounded by :data:`TIMEOUT`).

    For conditions seen from outside (log lines, the simulator's journal, traced requests),
    which have no event to await; it yields, it does not sleep.
    """
    async with asyncio.timeout(TIMEOUT):
        while not predicate():
            await settle(1)


class Zoom:
    """A simulator with a scenario's world loaded, and the HTTP requests its clients made."""

    def __init__(self, sim: Simulator, clock: ManualClock) -> None:
        self.sim = sim
        self.clock = clock
        self.session: aiohttp.ClientSession | None = None
        self.requests: list[tuple[str, str]] = []  # (method, raw path) as sent
        self.answers: list[tuple[str, int]] = []  # (raw path, status) as received
        self.bearers: set[str] = set()  # every access token the clients sent

    def trace(self) -> aiohttp.TraceConfig:
        """Records what the clients send and receive (for a session made with it)."""
        trace = aiohttp.TraceConfig()

        async def started(_: Any, __: Any, params: aiohttp.TraceRequestStartParams) -> None:
            self.requests.append((params.method, params.url.raw_path))
            scheme, _, value = params.headers.get("Authorization", "").partition(" ")
            if scheme == "Bearer":
                self.bearers.add(value)

        async def ended(_: Any, __: Any, params: aiohttp.TraceRequestEndParams) -> None:
            self.answers.append((params.url.raw_path, params.response.status))

        trace.on_request_start.append(started)
        trace.on_request_end.append(ended)
        return trace

    @property
    def world(self) -> World:
        return self.sim.world

    def app(self, app_id: str = "notetaker") -> sc.AppSpec:
        return self.world.apps[app_id]

    def meeting(self, key: str = "standup") -> LiveMeeting:
        return self.world.meeting(key)

    def live_app(self, app_id: str = "notetaker") -> LiveApp:
        return self.meeting().apps[app_id]

    def zoom_id(self, user: str) -> str:
        return self.world.persons[user].zoom_id

    def join(self, user: str) -> None:
        self.world.apply(sc.Join(at=0, user=user))

    def end(self) -> None:
        self.world.apply(sc.EndMeeting(at=0))

    def api(self, app_id: str = "notetaker", *, clock: ManualClock | None = None, **options: Any) -> ZoomApi:
        app = self.app(app_id)
        settings: dict[str, Any] = {
            "account_id": app.account,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "api_url": NOWHERE,
            "oauth_url": self.sim.http_url,
            "clock": clock or self.clock,
            "session": self.session,
        }
        settings.update(options)
        return ZoomApi(**settings)

    def calls(self, method: str = "PATCH") -> list[str]:
        return [path for m, path in self.requests if m == method]


@asynccontextmanager
async def zoom(scenario: str, clock: ManualClock, *, webhook_url: str | None = None) -> AsyncIterator[Zoom]:
    """The simulator serving ``scenario``'s world (no timeline: the test applies the steps)."""
    loaded = load(scenario)
    async with Simulator(config_for(loaded), clock=clock) as sim:
        sim.load_scenario(loaded, webhook_url=webhook_url)
        z = Zoom(sim, clock)
        async with aiohttp.ClientSession(trace_configs=[z.trace()]) as session:
            z.session = session
            yield z


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def meeting_path(number: int | str) -> str:
    return f"/v2/live_meetings/{number}/rtms_app/status"


# -- tokens ------------------------------------------------------------------------------------


async def test_one_token_request_serves_concurrent_callers(clock: ManualClock) -> None:
    async with zoom("f2-participant-joined-before-host", clock) as z:
        api = z.api()
        tokens = await asyncio.gather(*(api.access_token() for _ in range(5)))
        assert len(set(tokens)) == 1
        assert z.calls("POST") == ["/oauth/token"]


async def test_the_token_is_refreshed_refresh_margin_before_it_expires(clock: ManualClock) -> None:
    async with zoom("f2-participant-joined-before-host", clock) as z:
        api = z.api(refresh_margin=300)
        first = await api.access_token()
        clock.advance(3599 - 300 - 0.5)
        assert await api.access_token() == first
        assert len(z.calls("POST")) == 1
        clock.advance(0.5)  # 300 s before Zoom's expiry: the cached token is replaced
        second = await api.access_token()
        assert second != first
        assert len(z.calls("POST")) == 2


async def test_start_goes_to_the_api_url_of_the_token_response(clock: ManualClock) -> None:
    async with zoom("f2-participant-joined-before-host", clock) as z:
        z.join("host")
        api = z.api()
        assert api.api_url == NOWHERE
        await api.rtms_app_status(
            z.meeting().number, "start", client_id=z.app().client_id, participant_user_id=z.zoom_id("host")
        )
        assert api.api_url == z.sim.http_url
        assert z.requests == [("POST", "/oauth/token"), ("PATCH", meeting_path(z.meeting().number))]
        assert z.live_app().state is AppState.STREAMING
        assert len(z.live_app().streams) == 1


async def test_a_token_zoom_refuses_is_replaced_once(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Zoom's clock says the token expired; the client's does not (a suspended host, skew)."""
    caplog.set_level(logging.INFO, logger="connector.zoom_api")
    async with zoom("f2-participant-joined-before-host", clock) as z:
        z.join("host")
        api = z.api(clock=ManualClock())
        await api.access_token()
        clock.advance(3600)
        await api.rtms_app_status(
            z.meeting().number, "start", client_id=z.app().client_id, participant_user_id=z.zoom_id("host")
        )
        path = meeting_path(z.meeting().number)
        assert z.requests == [
            ("POST", "/oauth/token"),
            ("PATCH", path),
            ("POST", "/oauth/token"),
            ("PATCH", path),
        ]
        assert z.answers[1] == (path, 401)
        assert "answered 401" in caplog.text
        assert "Access token is expired." in caplog.text
        assert len(z.bearers) == 2
        assert not any(token in caplog.text for token in z.bearers)


async def test_wrong_client_secret_is_an_oauth_error_with_guidance(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with zoom("f2-participant-joined-before-host", clock) as z:
        api = z.api(client_secret="not-the-secret")
        with pytest.raises(ZoomApiError) as caught:
            await api.access_token()
        error = caught.value
        assert (error.http_status, error.code, error.oauth_error) == (401, None, "invalid_client")
        assert error.guidance.name == "OAUTH_INVALID_CLIENT"
        assert str(error).startswith(
            "Zoom API 401 invalid_client: Invalid client_id or client_secret — Use the"
        )
        assert "not-the-secret" not in caplog.text


async def test_wrong_account_id_is_explained(clock: ManualClock) -> None:
    async with zoom("f2-participant-joined-before-host", clock) as z:
        with pytest.raises(ZoomApiError) as caught:
            await z.api(account_id="someone-else").access_token()
        assert caught.value.oauth_error == "invalid_request"
        assert "Account ID" in str(caught.value)


# -- Zoom's errors, with guidance --------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["f3-not-entitled-13262", "f3-unpublished-app-13262"])
async def test_13262_is_one_line_with_the_f3_diagnosis(
    clock: ManualClock, caplog: pytest.LogCaptureFixture, scenario: str
) -> None:
    async with zoom(scenario, clock) as z:
        z.join("host")
        z.join("owner")
        client_id = z.app().client_id
        with pytest.raises(ZoomApiError) as caught:
            await z.api().rtms_app_status(
                z.meeting().number, "start", client_id=client_id, participant_user_id=z.zoom_id("owner")
            )
        error = caught.value
        message = F3_MESSAGE.format(client_id=client_id)
        assert (error.http_status, error.code, error.message) == (400, 13262, message)
        headline = explain(13262, kind="rest")[0].headline
        assert str(error) == f"Zoom API 400 code 13262: {message} — {headline}"
        assert "\n" not in str(error)
        assert headline.startswith("Ask Zoom to enable RTMS for the account and app")
        assert not error.retryable
        assert f"answered 400: {error.body}" in caplog.text
        assert '"code":13262' in error.body.replace(" ", "")
        assert z.live_app().streams == []


NO_SCOPE = """
name: no-meeting-scope
seed: 3
accounts: [{id: host-org}]
apps:
  - {id: notetaker, account: host-org, scopes: [rtms:read:rtms_started:admin]}
users: [{id: host, account: host-org}]
meetings: [{id: standup, host: host, apps: [notetaker]}]
"""


@pytest.mark.parametrize(
    ("scenario", "join", "meeting", "status", "code", "name", "retry"),
    [
        ("rest-host-org-disabled-2310", True, None, 400, 2310, "RTMS_APP_OPERATION_FAILED", False),
        ("rest-meeting-not-started-3000", False, None, 400, 3000, "MEETING_NOT_IN_PROGRESS", True),
        ("rest-errors", True, NO_SUCH_MEETING, 404, 3001, "MEETING_NOT_FOUND", False),
        (NO_SCOPE, True, None, 400, 4711, "INVALID_SCOPES", False),
    ],
    ids=["2310", "3000", "3001", "4711"],
)
async def test_zoom_errors_carry_their_code_and_guidance(
    clock: ManualClock,
    scenario: str,
    join: bool,
    meeting: str | None,
    status: int,
    code: int,
    name: str,
    retry: bool,
) -> None:
    async with zoom(scenario, clock) as z:
        if join:
            z.join("host")
        with pytest.raises(ZoomApiError) as caught:
            await z.api().rtms_app_status(
                meeting or z.meeting().number,
                "start",
                client_id=z.app().client_id,
                participant_user_id=z.zoom_id("host"),
            )
        error = caught.value
        assert (error.http_status, error.code, error.guidance.name, error.retryable) == (
            status,
            code,
            name,
            retry,
        )
        assert str(error).endswith(" — " + error.guidance.headline)
        assert len(z.calls()) == 1  # no retry inside the client for these


# -- rate limit --------------------------------------------------------------------------------


async def test_429_waits_retry_after_on_the_clock(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="connector.zoom_api")
    async with zoom("rest-rate-limited-429", clock) as z:  # 2 requests per scenario second
        z.join("host")
        api = z.api()
        client_id, host = z.app().client_id, z.zoom_id("host")
        for _ in range(2):
            with pytest.raises(ZoomApiError):
                await api.rtms_app_status(
                    NO_SUCH_MEETING, "start", client_id=client_id, participant_user_id=host
                )
        call = asyncio.create_task(
            api.rtms_app_status(z.meeting().number, "start", client_id=client_id, participant_user_id=host)
        )
        await until(lambda: "rate limited; retry 1 of 3 in 1 s" in caplog.text)
        await settle()
        assert not call.done()  # waiting on the clock, not on the wall
        assert z.answers[-1] == (meeting_path(z.meeting().number), 429)
        clock.advance(1)
        async with asyncio.timeout(TIMEOUT):
            await call
        assert [status for _, status in z.answers[-2:]] == [429, 204]
        assert z.live_app().state is AppState.STREAMING


RATE_ONE = NO_SCOPE.replace("scopes: [rtms:read:rtms_started:admin]", "") + "switches: {rest_rate_limit: 1}\n"


async def test_429_retries_are_bounded(clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    """The client's clock moves, Zoom's stays in one second: every retry is refused again."""
    caplog.set_level(logging.INFO, logger="connector.zoom_api")
    own = ManualClock()
    async with zoom(RATE_ONE, clock) as z:
        z.join("host")
        api = z.api(clock=own)
        client_id, host = z.app().client_id, z.zoom_id("host")
        with pytest.raises(ZoomApiError):
            await api.rtms_app_status(NO_SUCH_MEETING, "start", client_id=client_id, participant_user_id=host)
        call = asyncio.create_task(
            api.rtms_app_status(z.meeting().number, "start", client_id=client_id, participant_user_id=host)
        )
        for n in (1, 2, 3):
            await until(lambda n=n: f"rate limited; retry {n} of 3" in caplog.text)  # type: ignore[misc]
            own.advance(1)
        with pytest.raises(ZoomApiError) as caught:
            async with asyncio.timeout(TIMEOUT):
                await call
        error = caught.value
        assert (error.http_status, error.code, error.retry_after) == (429, 429, 1.0)
        assert error.guidance.name == "HTTP_429_RATE_LIMITED"
        assert len(z.calls()) == 1 + 4
        assert z.live_app().streams == []


# -- Video SDK sessions ------------------------------------------------------------------------


async def test_session_ids_with_a_slash_are_encoded_twice(clock: ManualClock) -> None:
    async with zoom("rest-video-sdk-session", clock) as z:
        z.meeting().uuid = "Sess/ion+1=="
        z.join("host")
        api = z.api()
        with pytest.raises(ZoomApiError) as caught:
            await api.session_rtms_app_status("Sess/ion+1==", "stop")
        assert (caught.value.code, caught.value.guidance.name) == (13277, "RTMS_APP_NOT_STARTED")
        await api.session_rtms_app_status("Sess/ion+1==", "start")
        assert z.calls()[-1] == "/v2/videosdk/sessions/Sess%252Fion%252B1%253D%253D/rtms_app/status"
        assert z.live_app().state is AppState.STREAMING


def test_path_ids_are_encoded_once_or_twice() -> None:
    assert encode_path_id(81234567890) == "81234567890"
    assert encode_path_id("ab+c==") == "ab%2Bc%3D%3D"
    assert encode_path_id("/ab//c") == "%252Fab%252F%252Fc"


# -- no answer, odd answers --------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_a_network_error_is_a_zoom_api_error(clock: ManualClock) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    async with ZoomApi(
        account_id="a", client_id="c", client_secret="the-secret", oauth_url=url, clock=clock
    ) as api:
        with pytest.raises(ZoomApiError) as caught:
            await api.rtms_app_status(1, "start", client_id="c", participant_user_id="u")
    error = caught.value
    assert (error.http_status, error.code) == (0, None)
    assert error.retryable
    assert str(error).startswith("Zoom API no answer: POST /oauth/token got no answer from 127.0.0.1:")
    assert str(error).endswith(" — " + explain("network")[0].headline)


class Scripted:
    """A stand-in for Zoom where the simulator cannot answer as needed."""

    def __init__(self) -> None:
        self.token_status = 200
        self.patch_status = 401
        self.patch_body: str = '{"code": 124, "message": "Invalid access token."}'
        self.hang = False
        self.issued = 0
        self.never = asyncio.Event()

    async def token(self, request: web.Request) -> web.StreamResponse:
        if self.hang:
            await self.never.wait()
        if self.token_status != 200:
            return web.Response(status=self.token_status, text="try later")
        self.issued += 1
        return web.json_response({"access_token": f"tok-{self.issued}", "expires_in": 3599})

    async def patch(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=self.patch_status, text=self.patch_body, content_type="application/json")


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[Scripted, str]]:
    zoom_ = Scripted()
    app = web.Application()
    app.router.add_post("/oauth/token", zoom_.token)
    app.router.add_patch("/v2/live_meetings/{id}/rtms_app/status", zoom_.patch)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield zoom_, str(server.make_url("")).rstrip("/")
    finally:
        zoom_.never.set()
        await server.close()


async def test_124_with_a_fresh_token_too_is_raised_after_one_retry(
    clock: ManualClock, scripted: tuple[Scripted, str]
) -> None:
    fake, url = scripted
    async with ZoomApi(
        account_id="a", client_id="c", client_secret="the-secret", api_url=url, oauth_url=url, clock=clock
    ) as api:
        with pytest.raises(ZoomApiError) as caught:
            await api.rtms_app_status(1, "start", client_id="c", participant_user_id="u")
    assert (caught.value.http_status, caught.value.code) == (401, 124)
    assert caught.value.guidance.name == "INVALID_ACCESS_TOKEN"
    assert fake.issued == 2


async def test_a_failed_refresh_keeps_the_token_until_it_expires(
    clock: ManualClock, scripted: tuple[Scripted, str], caplog: pytest.LogCaptureFixture
) -> None:
    fake, url = scripted
    async with ZoomApi(
        account_id="a", client_id="c", client_secret="the-secret", oauth_url=url, clock=clock
    ) as api:
        assert await api.access_token() == "tok-1"
        fake.token_status = 503
        clock.advance(3400)  # inside the refresh margin: a new token is asked for, and refused
        assert await api.access_token() == "tok-1"
        assert "token refresh failed" in caplog.text
        clock.advance(199)  # now it has expired
        with pytest.raises(ZoomApiError) as caught:
            await api.access_token()
    assert (caught.value.http_status, caught.value.guidance.name) == (503, "HTTP_5XX_SERVER_ERROR")


async def test_a_body_that_is_not_zoom_json_is_logged_redacted(
    clock: ManualClock, scripted: tuple[Scripted, str], caplog: pytest.LogCaptureFixture
) -> None:
    fake, url = scripted
    fake.patch_status = 502
    fake.patch_body = 'upstream failed: {"access_token": "tok-1"} Authorization: Bearer tok-1 secret s3cr3t'
    async with ZoomApi(
        account_id="a", client_id="c", client_secret="s3cr3t", api_url=url, oauth_url=url, clock=clock
    ) as api:
        with pytest.raises(ZoomApiError) as caught:
            await api.rtms_app_status(1, "start", client_id="c")
    error = caught.value
    assert (error.http_status, error.code, error.guidance.name, error.retryable) == (
        502,
        None,
        "HTTP_5XX_SERVER_ERROR",
        True,
    )
    assert "answered 502: upstream failed" in caplog.text
    assert "tok-1" not in caplog.text
    assert "s3cr3t" not in caplog.text
    assert "tok-1" not in error.body
    assert "s3cr3t" not in str(error)


async def test_a_timeout_is_a_zoom_api_error(clock: ManualClock, scripted: tuple[Scripted, str]) -> None:
    fake, url = scripted
    fake.hang = True
    async with ZoomApi(
        account_id="a", client_id="c", client_secret="the-secret", oauth_url=url, clock=clock, timeout=0.05
    ) as api:
        with pytest.raises(ZoomApiError) as caught:
            await api.access_token()
    assert caught.value.http_status == 0
    assert "timed out" in str(caught.value)


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"client_secret": ""}, "client_secret are required"),
        ({"api_url": "ftp://api.zoom.us"}, "api_url must be an http"),
        ({"oauth_url": "zoom.us"}, "oauth_url must be an http"),
        ({"refresh_margin": -1}, "refresh_margin must be"),
        ({"timeout": 0}, "timeout must be"),
    ],
)
def test_bad_options_are_refused(clock: ManualClock, options: dict[str, Any], complaint: str) -> None:
    settings: dict[str, Any] = {"account_id": "a", "client_id": "c", "client_secret": "s", "clock": clock}
    with pytest.raises(ValueError, match=complaint):
        ZoomApi(**(settings | options))


async def test_an_unknown_action_is_refused_before_any_request(clock: ManualClock) -> None:
    api = ZoomApi(account_id="a", client_id="c", client_secret="the-secret", clock=clock)
    with pytest.raises(ValueError, match="action must be one of start, stop, pause, resume"):
        await api.rtms_app_status(1, "restart", client_id="c")  # type: ignore[arg-type]
