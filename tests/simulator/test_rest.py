"""REST: ``PATCH …/rtms_app/status`` for meetings and Video SDK sessions (docs/protocol.md §8.1)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from aiohttp import ClientResponse

from simulator.clock import ManualClock
from simulator.errors import ZoomApiError
from simulator.oauth import Token
from simulator.rest import MEETING_SCOPES, OPENAPI_PATH, openapi_document

from .rest_backend import (
    JWT_SECRET,
    MEETING,
    NO_SCOPE,
    S2S,
    SESSION,
    USER_APP,
    VSDK_APP,
    FakeBackend,
    RestHarness,
    double_quote,
)

START = {"action": "start", "settings": {"client_id": S2S.client_id, "participant_user_id": "u-host"}}
INVALID = (401, {"code": 124, "message": "Invalid access token."})
EXPIRED = (401, {"code": 124, "message": "Access token is expired."})
NOT_AN_OBJECT = (400, {"code": 300, "message": "Request Body should be a valid JSON object."})
RATE_LIMITED = {
    "code": 429,
    "message": "You have reached the maximum per-second rate limit for this API. Try again later.",
}


@pytest.fixture
async def api(clock: ManualClock) -> AsyncIterator[RestHarness]:
    async with RestHarness(clock) as harness:
        yield harness


async def answer(response: ClientResponse) -> tuple[int, Any]:
    """Status and JSON body; a 204 must have no body at all."""
    if response.status == 204:
        assert await response.read() == b""
        return 204, None
    assert response.content_type == "application/json"
    return response.status, await response.json()


# -- the meeting operation ---------------------------------------------------------------------


@pytest.mark.parametrize("action", ["start", "stop", "pause", "resume"])
async def test_meeting_action_is_accepted(api: RestHarness, action: str) -> None:
    token = api.token(S2S)
    body = {"action": action, "settings": {"client_id": S2S.client_id, "participant_user_id": "u-host"}}
    assert await answer(await api.patch_meeting(MEETING, body, token=token)) == (204, None)
    [call] = api.fake.calls
    assert (call.kind, call.target, call.action, call.client_id, call.participant_user_id) == (
        "meeting",
        MEETING,
        action,
        S2S.client_id,
        "u-host",
    )
    assert call.token.access_token == token


async def test_participant_defaults_to_the_token_user(api: RestHarness) -> None:
    token = api.token(USER_APP, user_id="u-host")
    body = {"action": "start", "settings": {"client_id": USER_APP.client_id}, "unknown": [1, 2]}
    assert await answer(await api.patch_meeting(MEETING, body, token=token)) == (204, None)
    [call] = api.fake.calls
    assert call.participant_user_id is None
    assert call.token.user_id == "u-host"


async def test_meeting_number_is_canonical(api: RestHarness) -> None:
    assert (await api.patch_meeting("0" + MEETING, START, token=api.token(S2S))).status == 204
    assert api.fake.calls[0].target == MEETING


async def test_domain_errors_come_from_the_backend(api: RestHarness) -> None:
    token = api.token(S2S)
    assert await answer(await api.patch_meeting("12345", START, token=token)) == (
        404,
        {"code": 3001, "message": "Meeting does not exist: 12345."},
    )
    other = {"action": "start", "settings": {"client_id": "unknown-app", "participant_user_id": "u-host"}}
    status, body = await answer(await api.patch_meeting(MEETING, other, token=token))
    assert (status, body["code"]) == (400, 13262)
    absent = {"action": "start", "settings": {"client_id": S2S.client_id, "participant_user_id": "u-guest"}}
    assert await answer(await api.patch_meeting(MEETING, absent, token=token)) == (
        400,
        {"code": 2308, "message": "The user is not in the meeting."},
    )
    assert api.fake.calls == []


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic abc", "bearer-token"])
async def test_missing_or_malformed_authorization(api: RestHarness, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = await api.client.patch(
        f"/v2/live_meetings/{MEETING}/rtms_app/status", json=START, headers=headers
    )
    assert await answer(response) == INVALID


async def test_unknown_token(api: RestHarness) -> None:
    assert await answer(await api.patch_meeting(MEETING, START, token="not-a-token")) == INVALID


async def test_token_expires_after_3599_seconds(api: RestHarness, clock: ManualClock) -> None:
    token = api.token(S2S)
    clock.advance(3598)
    assert (await api.patch_meeting(MEETING, START, token=token)).status == 204
    clock.advance(1)
    assert await answer(await api.patch_meeting(MEETING, START, token=token)) == EXPIRED
    assert len(api.fake.calls) == 1


async def test_bearer_scheme_is_case_insensitive(api: RestHarness) -> None:
    headers = {"Authorization": f"bearer {api.token(S2S)}"}
    response = await api.client.patch(
        f"/v2/live_meetings/{MEETING}/rtms_app/status", json=START, headers=headers
    )
    assert response.status == 204


MISSING_SCOPE = (
    400,
    {
        "code": 4711,
        "message": "Invalid access token, does not contain scopes:"
        "[meeting:update:participant_rtms_app_status, meeting:update:participant_rtms_app_status:admin].",
    },
)


async def test_token_without_the_scope(api: RestHarness) -> None:
    token = api.token(NO_SCOPE)
    assert await answer(await api.patch_meeting(MEETING, START, token=token)) == MISSING_SCOPE
    # The scope is checked before the body and the meeting id.
    assert await answer(await api.patch_meeting("abc", [], token=token)) == MISSING_SCOPE


async def test_client_credentials_token_cannot_call_the_meeting_api(api: RestHarness) -> None:
    response = await api.oauth_token(S2S, query={"grant_type": "client_credentials"})
    token = (await response.json())["access_token"]
    assert await answer(await api.patch_meeting(MEETING, START, token=token)) == MISSING_SCOPE


@pytest.mark.parametrize("scope", MEETING_SCOPES)
async def test_each_meeting_scope_suffices(api: RestHarness, scope: str) -> None:
    token = api.token(S2S, scopes=(scope,))
    assert (await api.patch_meeting(MEETING, START, token=token)).status == 204


def failed(*errors: tuple[str, str]) -> tuple[int, dict[str, Any]]:
    return 400, {
        "code": 300,
        "message": "Validation Failed.",
        "errors": [{"field": field, "message": message} for field, message in errors],
    }


REQUIRED = "This field is required."
ACTION_ENUM = "Must be one of: start, stop, pause, resume."


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, failed(("action", REQUIRED), ("settings", REQUIRED))),
        ({"action": "begin", "settings": {"client_id": "c"}}, failed(("action", ACTION_ENUM))),
        ({"action": "START", "settings": {"client_id": "c"}}, failed(("action", ACTION_ENUM))),
        ({"action": 1, "settings": {"client_id": "c"}}, failed(("action", ACTION_ENUM))),
        ({"action": None, "settings": {"client_id": "c"}}, failed(("action", ACTION_ENUM))),
        ({"action": "start"}, failed(("settings", REQUIRED))),
        ({"action": "start", "settings": None}, failed(("settings", "Must be an object."))),
        ({"action": "start", "settings": ["c"]}, failed(("settings", "Must be an object."))),
        ({"action": "start", "settings": {}}, failed(("settings.client_id", REQUIRED))),
        (
            {"action": "start", "settings": {"client_id": 7}},
            failed(("settings.client_id", "Must be a string.")),
        ),
        (
            {"action": "start", "settings": {"client_id": ""}},
            failed(("settings.client_id", "Must not be empty.")),
        ),
        (
            {"action": "stop", "settings": {"client_id": "c", "participant_user_id": None}},
            failed(("settings.participant_user_id", "Must be a string.")),
        ),
        (
            {"action": "stop", "settings": {"client_id": "c", "participant_user_id": ""}},
            failed(("settings.participant_user_id", "Must not be empty.")),
        ),
        (
            {"action": "go", "settings": {"participant_user_id": 5}},
            failed(
                ("action", ACTION_ENUM),
                ("settings.client_id", REQUIRED),
                ("settings.participant_user_id", "Must be a string."),
            ),
        ),
        ([], NOT_AN_OBJECT),
        ("start", NOT_AN_OBJECT),
        (None, NOT_AN_OBJECT),
    ],
)
async def test_meeting_body_validation(api: RestHarness, body: object, expected: tuple[int, Any]) -> None:
    assert await answer(await api.patch_meeting(MEETING, body, token=api.token(S2S))) == expected
    assert api.fake.calls == []


@pytest.mark.parametrize("raw", [b"", b"{", b'{"action": "start",}', b"\xff\xfe", b"[" * 100_000])
async def test_body_that_is_not_json(api: RestHarness, raw: bytes) -> None:
    response = await api.patch_meeting(MEETING, None, token=api.token(S2S), raw=raw)
    assert await answer(response) == NOT_AN_OBJECT


async def test_json_body_without_json_content_type(api: RestHarness) -> None:
    response = await api.patch_meeting(MEETING, None, token=api.token(S2S), raw=json.dumps(START).encode())
    assert response.status == 204


@pytest.mark.parametrize(
    "meeting_id", ["", "abc", "0", "-1", "+1", "1.5", "1e3", "9223372036854775808", " 1", "1" * 20]
)
async def test_invalid_meeting_id(api: RestHarness, meeting_id: str) -> None:
    response = await api.patch_meeting(meeting_id, START, token=api.token(S2S))
    assert await answer(response) == (400, {"code": 300, "message": "Invalid meeting ID."})


async def test_body_is_checked_before_the_meeting_id(api: RestHarness) -> None:
    response = await api.patch_meeting(
        "abc", {"action": "go", "settings": {"client_id": "c"}}, token=api.token(S2S)
    )
    assert await answer(response) == failed(("action", ACTION_ENUM))


async def test_largest_meeting_id_reaches_the_backend(api: RestHarness) -> None:
    response = await api.patch_meeting(str(2**63 - 1), START, token=api.token(S2S))
    assert (await answer(response))[1]["code"] == 3001


# -- the rate limit ----------------------------------------------------------------------------


async def test_rate_limit_per_account_per_scenario_second(clock: ManualClock) -> None:
    async with RestHarness(clock, rate_limit=3) as api:
        acme, vsdk = api.token(S2S), api.token(VSDK_APP)
        for _ in range(3):
            assert (await api.patch_meeting(MEETING, START, token=acme)).status == 204
        limited = await api.patch_meeting(MEETING, START, token=acme)
        assert await answer(limited) == (429, RATE_LIMITED)
        assert limited.headers["Retry-After"] == "1"
        # Another account has its own budget; a second app of the same account shares it.
        assert (await api.patch_meeting("999", START, token=vsdk)).status == 404
        assert (await api.patch_meeting(MEETING, START, token=api.token(USER_APP))).status == 429
        # The session operation counts against the same account budget.
        assert (await api.patch_session(double_quote(SESSION), {"action": "stop"}, token=acme)).status == 429
        clock.advance(0.999)
        assert (await api.patch_meeting(MEETING, START, token=acme)).status == 429
        clock.advance(0.001)
        assert (await api.patch_meeting(MEETING, START, token=acme)).status == 204
        assert len(api.fake.calls) == 4


async def test_unauthenticated_requests_use_no_budget(clock: ManualClock) -> None:
    async with RestHarness(clock, rate_limit=1) as api:
        for _ in range(5):
            assert (await api.patch_meeting(MEETING, START, token="bogus")).status == 401
        token = api.token(S2S)
        assert (await api.patch_meeting(MEETING, START, token=token)).status == 204
        assert (await api.patch_meeting(MEETING, START, token=token)).status == 429


async def test_rate_limit_comes_before_scope_and_body(clock: ManualClock) -> None:
    async with RestHarness(clock, rate_limit=1) as api:
        token = api.token(NO_SCOPE)
        assert (await answer(await api.patch_meeting(MEETING, START, token=token)))[1]["code"] == 4711
        assert (await answer(await api.patch_meeting("x", [], token=token)))[1]["code"] == 429


# -- the Video SDK session operation -----------------------------------------------------------


def video_sdk_jwt(clock: ManualClock, *, ttl: int = 3600, key: str = JWT_SECRET, **claims: Any) -> str:
    payload: dict[str, Any] = {"iss": VSDK_APP.client_id, "exp": clock.epoch_seconds() + ttl, **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key, algorithm="HS256")


async def test_session_action_with_a_video_sdk_jwt(api: RestHarness, clock: ManualClock) -> None:
    token = video_sdk_jwt(clock)
    response = await api.patch_session(double_quote(SESSION), {"action": "pause", "x": 1}, token=token)
    assert await answer(response) == (204, None)
    [call] = api.fake.calls
    assert (call.kind, call.target, call.action) == ("session", SESSION, "pause")
    assert (call.token.app, call.token.account_id, call.token.user_id) == (VSDK_APP, "vsdk", None)
    assert call.token.grant == "video_sdk_jwt"
    assert call.token.expires_at == clock.now() + 3600


async def test_jwt_app_key_claim(api: RestHarness, clock: ManualClock) -> None:
    token = video_sdk_jwt(clock, iss=None, appKey=VSDK_APP.client_id)
    assert (await api.patch_session(double_quote(SESSION), {"action": "start"}, token=token)).status == 204


async def test_jwt_expires_on_the_scenario_clock(api: RestHarness, clock: ManualClock) -> None:
    token = video_sdk_jwt(clock, ttl=60)
    assert (await api.patch_session(double_quote(SESSION), {"action": "start"}, token=token)).status == 204
    clock.advance(60)
    assert (
        await answer(await api.patch_session(double_quote(SESSION), {"action": "stop"}, token=token))
        == EXPIRED
    )


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda c: video_sdk_jwt(c, key="another-secret-0123456789abcdef0123"), id="wrong-key"),
        pytest.param(lambda c: video_sdk_jwt(c, iss="unknown-app"), id="unknown-app"),
        pytest.param(lambda c: video_sdk_jwt(c, iss=None), id="no-issuer"),
        pytest.param(
            lambda c: jwt.PyJWS().encode(
                json.dumps({"iss": 7, "exp": c.epoch_seconds() + 60}).encode(), JWT_SECRET, algorithm="HS256"
            ),
            id="issuer-not-a-string",
        ),
        pytest.param(lambda c: video_sdk_jwt(c, exp=None), id="no-exp"),
        pytest.param(lambda c: video_sdk_jwt(c, exp="tomorrow"), id="exp-not-a-number"),
        pytest.param(
            lambda c: jwt.encode(
                {"iss": VSDK_APP.client_id, "exp": c.epoch_seconds() + 60}, "", algorithm="none"
            ),
            id="alg-none",
        ),
        pytest.param(lambda c: "a.b.c", id="garbage"),
    ],
)
async def test_invalid_jwt(api: RestHarness, clock: ManualClock, make: Any) -> None:
    response = await api.patch_session(double_quote(SESSION), {"action": "start"}, token=make(clock))
    assert await answer(response) == INVALID


async def test_jwt_is_not_accepted_by_the_meeting_api(api: RestHarness, clock: ManualClock) -> None:
    assert await answer(await api.patch_meeting(MEETING, START, token=video_sdk_jwt(clock))) == INVALID


async def test_session_with_an_oauth_token(api: RestHarness) -> None:
    ok = await api.patch_session(double_quote(SESSION), {"action": "resume"}, token=api.token(VSDK_APP))
    assert ok.status == 204
    # No scope is needed, but the account must be a Video SDK account (the backend says so).
    other = await api.patch_session(double_quote(SESSION), {"action": "resume"}, token=api.token(NO_SCOPE))
    assert await answer(other) == (
        400,
        {"code": 200, "message": "This API is only available for Video SDK accounts."},
    )


async def test_session_id_is_decoded_twice(api: RestHarness) -> None:
    token = api.token(VSDK_APP)
    assert (await api.patch_session(double_quote(SESSION), {"action": "start"}, token=token)).status == 204
    assert api.fake.calls[-1].target == SESSION
    # "%2520" is "%20" after the router's decoding, and " " after the second one.
    response = await api.patch_session("unknown%2520id", {"action": "start"}, token=token)
    assert await answer(response) == (404, {"code": 3001, "message": "Session does not exist: unknown id."})


async def test_empty_session_id(api: RestHarness) -> None:
    response = await api.patch_session("", {"action": "start"}, token=api.token(VSDK_APP))
    assert await answer(response) == (400, {"code": 300, "message": "Invalid session ID."})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, failed(("action", REQUIRED))),
        ({"action": "begin"}, failed(("action", ACTION_ENUM))),
        ({"settings": {"client_id": "c"}}, failed(("action", REQUIRED))),
        ([{"action": "start"}], NOT_AN_OBJECT),
    ],
)
async def test_session_body_validation(api: RestHarness, body: object, expected: tuple[int, Any]) -> None:
    response = await api.patch_session(double_quote(SESSION), body, token=api.token(VSDK_APP))
    assert await answer(response) == expected


# -- the wire: no tracebacks, the document -----------------------------------------------------


class BrokenBackend(FakeBackend):
    def update_meeting_rtms_status(
        self, meeting_id: str, action: str, *, token: Token, client_id: str, participant_user_id: str | None
    ) -> None:
        raise RuntimeError("a bug in the world")


async def test_unexpected_error_is_a_zoom_shaped_500(clock: ManualClock) -> None:
    async with RestHarness(clock, backend=BrokenBackend()) as api:
        response = await api.patch_meeting(MEETING, START, token=api.token(S2S))
        assert await answer(response) == (500, {"code": 500, "message": "Internal server error."})


async def test_backend_zoom_error_with_retry_after_keeps_it(clock: ManualClock) -> None:
    class Busy(FakeBackend):
        def update_session_rtms_status(self, session_id: str, action: str, *, token: Token) -> None:
            raise ZoomApiError(429, None, "Too Many Requests", retry_after=5)

    async with RestHarness(clock, backend=Busy()) as api:
        response = await api.patch_session("s", {"action": "start"}, token=api.token(VSDK_APP))
        assert await answer(response) == (429, {"code": None, "message": "Too Many Requests"})
        assert response.headers["Retry-After"] == "5"


async def test_openapi_document_is_served_with_this_server(api: RestHarness) -> None:
    response = await api.client.get(OPENAPI_PATH)
    assert response.status == 200
    doc = await response.json()
    assert doc == openapi_document(api.base_url)
    assert doc["servers"][0]["url"] == api.base_url
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {
        "/v2/live_meetings/{meetingId}/rtms_app/status",
        "/v2/videosdk/sessions/{sessionId}/rtms_app/status",
        "/oauth/token",
        "/oauth/authorize",
    }


def test_openapi_document_is_a_fresh_copy() -> None:
    first = openapi_document("http://127.0.0.1:1")
    first["paths"].clear()
    assert openapi_document("http://127.0.0.1:2")["paths"]
