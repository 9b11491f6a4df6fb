"""Contracts of Zoom's OAuth server and the RTMS REST operation (§8.1, §8.2; docs/rest.md).

The generic contracts need only :attr:`Capability.REST`: the Server-to-Server token, the OAuth
refusals, and the REST refusals that no meeting state decides (a missing or unknown token, a
meeting that does not exist, a body that fails validation). They run against real Zoom as they
run against the simulator. Starting and stopping RTMS needs a meeting: real Zoom's is
``RTMS_LIVE_MEETING_ID``, the simulator's comes with the world :func:`~contracts.rest.rest_world`
loads. The refusals that depend on a meeting's state, the token's scopes or the clock need a
world built for them (:attr:`Capability.SCENARIOS`).

Where Zoom's wording is unconfirmed (docs/rest.md "Every error"), a contract holds the status
and the code, not the sentence.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from .rest import DROP, Answer, RestClient, RestWorld, basic, rest_world, rtms_body
from .target import Capability, NotApplicable, Target

pytestmark = pytest.mark.needs(Capability.REST)

INVALID_TOKEN = "Invalid access token."
NO_SUCH_MEETING = "1"  # a valid int64 meeting id that no meeting has
METER_LIMIT = 200  # requests sent at most while looking for the rate limit


def zoom_error(answer: Answer, status: int, code: int, message: str | None = None) -> dict[str, Any]:
    """``answer`` is Zoom's REST error ``{"code", "message"}`` with this status and code."""
    assert answer.status == status, f"expected {status}, got {answer.status} {answer.text!r}"
    assert answer.content_type == "application/json", answer.headers.get("Content-Type")
    body: dict[str, Any] = answer.json
    assert body.get("code") == code, body
    assert isinstance(body.get("message"), str), body
    assert body["message"], body
    if message is not None:
        assert body["message"] == message, body
    return body


def oauth_error(answer: Answer, status: int, error: str) -> dict[str, Any]:
    """``answer`` is Zoom's OAuth error ``{"reason", "error"}`` with this status and error."""
    assert answer.status == status, f"expected {status}, got {answer.status} {answer.text!r}"
    body: dict[str, Any] = answer.json
    assert body.get("error") == error, body
    assert isinstance(body.get("reason"), str), body
    assert body["reason"], body
    return body


def validation_fields(answer: Answer) -> set[str]:
    """The fields a ``300 Validation Failed.`` answer names (the shape Zoom's errors page shows)."""
    body = zoom_error(answer, 400, 300, "Validation Failed.")
    errors = body.get("errors")
    assert isinstance(errors, list), body
    assert errors, body
    for error in errors:
        assert isinstance(error, dict), body
        assert isinstance(error.get("field"), str), body
        assert isinstance(error.get("message"), str), body
    return {error["field"] for error in errors}


@pytest.fixture
async def world(target: Target) -> RestWorld:
    return await rest_world(target)


@pytest.fixture
async def client(target: Target, world: RestWorld) -> AsyncIterator[RestClient]:
    async with RestClient(world.access, ssl_context=target.ssl_context) as made:
        yield made


def start_body(world: RestWorld, action: str = "start") -> dict[str, Any]:
    return rtms_body(action, world.client_id, world.participant_user_id or DROP)


# -- OAuth: the Server-to-Server token (§8.2) ----------------------------------------------------


@pytest.mark.parametrize("in_form", [False, True], ids=["query", "form"])
async def test_account_credentials_token(client: RestClient, in_form: bool) -> None:
    """``account_credentials`` with Basic client auth, parameters in the query string (Zoom's Node
    example) or a form body (its docs), gives 200 with a bearer token for 3599 s: ``access_token``,
    ``token_type: bearer``, integer ``expires_in``, ``scope``, and no refresh token (§8.2)."""
    answer = await client.token_request(in_form=in_form)
    assert answer.status == 200, answer.text
    assert answer.content_type == "application/json"
    body = answer.json
    assert isinstance(body["access_token"], str)
    assert body["access_token"]
    assert body["token_type"].lower() == "bearer"
    assert type(body["expires_in"]) is int, body
    assert 0 < body["expires_in"] <= 3600, body
    assert isinstance(body["scope"], str)
    assert "refresh_token" not in body, "a Server-to-Server token has no refresh token (§8.2)"


@pytest.mark.parametrize("who", ["wrong secret", "unknown client", "no credentials"])
async def test_bad_client_is_invalid_client(client: RestClient, who: str) -> None:
    """A wrong client secret, an unknown client id, or no Basic auth at all: 401 ``invalid_client``
    "Invalid client_id or client_secret" (docs/rest.md, OAuth)."""
    access = client.access
    authorization = {
        "wrong secret": basic(access.client_id, access.client_secret + "-wrong"),
        "unknown client": basic("rtms-contracts-no-such-client", access.client_secret),
        "no credentials": DROP,
    }[who]
    answer = await client.token_request(authorization=authorization)
    body = oauth_error(answer, 401, "invalid_client")
    assert body["reason"] == "Invalid client_id or client_secret", body


async def test_unsupported_grant_type(client: RestClient) -> None:
    """A grant Zoom does not have (``password``): 400 ``unsupported_grant_type`` (§8.2)."""
    answer = await client.token_request(grant_type="password")
    oauth_error(answer, 400, "unsupported_grant_type")


@pytest.mark.parametrize("account", ["rtms-contracts-no-such-account", DROP], ids=["other", "missing"])
async def test_wrong_account_is_invalid_request(client: RestClient, account: Any) -> None:
    """``account_credentials`` for an account that is not the app's, or for none: 400
    ``invalid_request`` naming ``account_id``."""
    answer = await client.token_request(account_id=account)
    body = oauth_error(answer, 400, "invalid_request")
    assert "account_id" in body["reason"].lower(), body


# -- REST: refusals every Zoom makes alike (§8.1) --------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [DROP, "Bearer rtms-contracts-not-a-token", "Basic"],
    ids=["no token", "unknown token", "basic credentials"],
)
async def test_without_a_valid_token_is_124(client: RestClient, world: RestWorld, authorization: Any) -> None:
    """No ``Authorization``, a bearer token Zoom never issued, or the app's Basic credentials in
    place of a token: 401, code 124 "Invalid access token." — before anything else is looked at."""
    if authorization == "Basic":
        authorization = basic(client.access.client_id, client.access.client_secret)
    answer = await client.rtms_status(NO_SUCH_MEETING, start_body(world), authorization=authorization)
    zoom_error(answer, 401, 124, INVALID_TOKEN)


async def test_unknown_meeting_is_3001(client: RestClient, world: RestWorld) -> None:
    """A valid request for a meeting id no meeting has: 404, code 3001 "Meeting does not exist: 1."."""
    answer = await client.rtms_status(NO_SUCH_MEETING, start_body(world))
    zoom_error(answer, 404, 3001, f"Meeting does not exist: {NO_SUCH_MEETING}.")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "explode"}, "action"),
        ({"settings": {}}, "action"),
        ({"action": "start", "settings": "all"}, "settings"),
        ({"action": "start", "settings": {}}, "settings.client_id"),
        ({"action": "start", "settings": {"client_id": ""}}, "settings.client_id"),
    ],
    ids=["unknown action", "no action", "settings not an object", "no client_id", "empty client_id"],
)
async def test_invalid_body_is_validation_failed(
    client: RestClient, world: RestWorld, body: dict[str, Any], field: str
) -> None:
    """A body that breaks the operation's schema: 400, code 300 "Validation Failed." with an
    ``errors`` list of ``{field, message}`` naming the field (Zoom's errors page). Sent for the
    world's meeting where there is one, so no meeting lookup can answer first."""
    answer = await client.rtms_status(world.meeting_id or NO_SUCH_MEETING, body)
    assert field in validation_fields(answer)


@pytest.mark.parametrize("raw", ["not json", "[]", '"start"'])
async def test_body_not_a_json_object_is_300(client: RestClient, world: RestWorld, raw: str) -> None:
    """A body that is not a JSON object: 400, code 300 (the wording is unconfirmed)."""
    answer = await client.rtms_status(world.meeting_id or NO_SUCH_MEETING, raw)
    zoom_error(answer, 400, 300)


# -- REST: starting and stopping RTMS in a meeting ------------------------------------------------


async def test_start_and_stop_rtms(target: Target, client: RestClient, world: RestWorld) -> None:
    """``start`` for the app in a running meeting: 204 with no body, then ``meeting.rtms_started``
    for that meeting; ``stop``: 204, then ``meeting.rtms_stopped`` for the same stream (§8.1, §7.1)."""
    if world.meeting_id is None:
        raise NotApplicable("no meeting to start RTMS in (RTMS_LIVE_MEETING_ID)")
    count = len(target.inbox.of("meeting.rtms_started")) + 1
    answer = await client.rtms_status(world.meeting_id, start_body(world))
    assert (answer.status, answer.body) == (204, b""), answer.text
    started = await target.await_webhook("meeting.rtms_started", count=count)
    stream_id = started.payload["rtms_stream_id"]
    assert started.payload["server_urls"], started.payload
    stopped_ok = False
    try:
        answer = await client.rtms_status(world.meeting_id, start_body(world, "stop"))
        assert (answer.status, answer.body) == (204, b""), answer.text
        stopped_ok = True
    finally:
        if not stopped_ok:  # leave no stream running in the user's meeting
            await client.rtms_status(world.meeting_id, start_body(world, "stop"))
    stopped = await target.await_webhook("meeting.rtms_stopped", stream_id=stream_id)
    assert stopped.payload["meeting_uuid"] == started.payload["meeting_uuid"]


# -- REST: refusals that depend on the world (the simulator's worlds) -------------------------------


@pytest.mark.needs(Capability.SCENARIOS)
async def test_stop_before_start_is_2310(client: RestClient, world: RestWorld) -> None:
    """``stop`` for an app that is not streaming: 400, code 2310 "Failed to perform RTMS app
    operation." (confirmed for sessions; a guess for meetings, docs/rest.md)."""
    assert world.meeting_id is not None
    answer = await client.rtms_status(world.meeting_id, start_body(world, "stop"))
    zoom_error(answer, 400, 2310, "Failed to perform RTMS app operation.")


@pytest.mark.needs(Capability.SCENARIOS)
async def test_meeting_not_in_progress_is_3000(target: Target) -> None:
    """``start`` in a scheduled meeting nobody has joined yet: 400, code 3000 (§8.1 prerequisites)."""
    world = await rest_world(target, started=False)
    assert world.meeting_id is not None
    async with RestClient(world.access, ssl_context=target.ssl_context) as client:
        answer = await client.rtms_status(world.meeting_id, rtms_body("start", world.client_id))
    zoom_error(answer, 400, 3000, f"Meeting {world.meeting_id} is not in progress.")


@pytest.mark.needs(Capability.SCENARIOS)
async def test_participant_not_in_meeting_is_2308(client: RestClient, world: RestWorld) -> None:
    """``start`` for a ``participant_user_id`` who is not in the meeting: 400, code 2308."""
    assert world.meeting_id is not None
    answer = await client.rtms_status(
        world.meeting_id, rtms_body("start", world.client_id, "rtms-contracts-nobody")
    )
    zoom_error(answer, 400, 2308)


@pytest.mark.needs(Capability.SCENARIOS)
async def test_app_not_in_meeting_is_13262(client: RestClient, world: RestWorld) -> None:
    """``start`` naming an app that may not access the meeting's content: 400, code 13262."""
    assert world.meeting_id is not None
    answer = await client.rtms_status(
        world.meeting_id, rtms_body("start", "rtms-contracts-other-app", world.participant_user_id)
    )
    body = zoom_error(answer, 400, 13262)
    assert "rtms-contracts-other-app" in body["message"], body


@pytest.mark.needs(Capability.SCENARIOS)
async def test_token_without_meeting_scope_is_4711(target: Target) -> None:
    """A token whose app lacks every meeting scope the operation accepts: 400, code 4711 naming the
    scopes (docs/rest.md; Zoom's errors page calls it 4700)."""
    world = await rest_world(target, scopes=("rtms:read:rtms_started:admin",))
    assert world.meeting_id is not None
    async with RestClient(world.access, ssl_context=target.ssl_context) as client:
        answer = await client.rtms_status(world.meeting_id, start_body(world))
    body = zoom_error(answer, 400, 4711)
    assert "meeting:update:participant_rtms_app_status" in body["message"], body


@pytest.mark.needs(Capability.SCENARIOS, Capability.CLOCK)
async def test_expired_token_is_124(target: Target, client: RestClient) -> None:
    """A token is good for ``expires_in`` seconds; after that: 401, code 124 "Access token is
    expired.", and a new token works again (§8.2)."""
    answer = await client.token_request()
    lifetime = answer.json["expires_in"]
    token = f"Bearer {answer.json['access_token']}"
    await target.pass_time(lifetime + 1, step=600)
    expired = await client.rtms_status(NO_SUCH_MEETING, {"action": "start"}, authorization=token)
    zoom_error(expired, 401, 124, "Access token is expired.")
    fresh = await client.token_request()
    renewed = await client.rtms_status(
        NO_SUCH_MEETING,
        rtms_body("start", "rtms-contracts-app"),
        authorization=f"Bearer {fresh.json['access_token']}",
    )
    zoom_error(renewed, 404, 3001)


@pytest.mark.needs(Capability.SCENARIOS, Capability.CLOCK)
async def test_rate_limit_is_429_until_the_next_second(target: Target, client: RestClient) -> None:
    """Within one second an account's requests meet a limit: 429, code 429, ``Retry-After``; once
    a second has passed the operation answers again (Zoom's ``MEDIUM`` label; docs/rest.md)."""
    body = rtms_body("start", "rtms-contracts-app")
    answers = []
    for _ in range(METER_LIMIT):
        answers.append(await client.rtms_status(NO_SUCH_MEETING, body))
        if answers[-1].status == 429:
            break
    limited = answers[-1]
    statuses = [a.status for a in answers]
    assert len(answers) > 1, statuses
    assert set(statuses[:-1]) == {404}, statuses
    zoom_error(limited, 429, 429)
    assert limited.headers.get("Retry-After") == "1", dict(limited.headers)
    await target.pass_time(1.0)
    zoom_error(await client.rtms_status(NO_SUCH_MEETING, body), 404, 3001)
