"""Zoom's REST surface for RTMS: start, stop, pause and resume a stream (docs/protocol.md §8.1).

Two operations, answered as Zoom answers them (docs/rest.md lists every code and which are
confirmed by Zoom's published docs):

* ``PATCH /v2/live_meetings/{meetingId}/rtms_app/status`` — body
  ``{"action": "start"|"stop"|"pause"|"resume", "settings": {"client_id", "participant_user_id"?}}``.
* ``PATCH /v2/videosdk/sessions/{sessionId}/rtms_app/status`` — body ``{"action": …}``; the
  session id is URL-decoded twice, as Zoom asks ids containing ``/`` to be encoded twice.

The handlers check, in this order: the bearer token (401/124), the per-account rate limit
(429), the scope (meeting API only: 400/4711), the body (400/300 "Validation Failed."), the
path id (400/300), then hand the request to the :class:`RestBackend` — the world — which
raises Zoom's domain errors or returns for ``204 No Content``.

The meeting API takes OAuth tokens from the :class:`~.oauth.TokenStore`; the Video SDK API also
takes a Video SDK API JWT (HS256, signed with an app's client secret, ``iss`` or ``appKey`` = its
client id, ``exp`` checked against the scenario clock's epoch).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import warnings
from importlib import resources
from typing import Any, Protocol
from urllib.parse import unquote

import jwt
from aiohttp import hdrs, web

from .clock import Clock
from .errors import ZoomApiError
from .oauth import (
    EXPIRED_TOKEN,
    INVALID_TOKEN,
    AppRegistry,
    Grant,
    Token,
    TokenStore,
    add_oauth_routes,
    answer_errors,
    base_url,
)

__all__ = [
    "ACTIONS",
    "MEETING_SCOPES",
    "MEETING_STATUS_PATH",
    "OPENAPI_PATH",
    "RATE_LIMITED",
    "SESSION_STATUS_PATH",
    "RateLimiter",
    "RestBackend",
    "add_rest_routes",
    "openapi_document",
]

log = logging.getLogger("simulator.rest")

MEETING_STATUS_PATH = "/v2/live_meetings/{meetingId}/rtms_app/status"
SESSION_STATUS_PATH = "/v2/videosdk/sessions/{sessionId}/rtms_app/status"
OPENAPI_PATH = "/_sim/openapi.json"

ACTIONS = ("start", "stop", "pause", "resume")
MEETING_SCOPES = (
    "meeting:update:participant_rtms_app_status",
    "meeting:update:participant_rtms_app_status:admin",
    "meeting:write",
    "meeting:write:admin",
)
"""A token needs one of these for the meeting API (granular first, then the classic scopes)."""

MISSING_SCOPE = (
    "Invalid access token, does not contain scopes:"
    "[meeting:update:participant_rtms_app_status, meeting:update:participant_rtms_app_status:admin]."
)
RATE_LIMITED = "You have reached the maximum per-second rate limit for this API. Try again later."
NOT_JSON_OBJECT = "Request Body should be a valid JSON object."
VALIDATION_FAILED = "Validation Failed."
INVALID_MEETING_ID = "Invalid meeting ID."
INVALID_SESSION_ID = "Invalid session ID."
_INT64_MAX = 2**63 - 1


class RestBackend(AppRegistry, Protocol):
    """What the REST handlers ask the world. Domain errors are :class:`ZoomApiError` s it raises.

    ``update_*`` return on success (the handler answers 204). The meeting operation's errors are
    Zoom's 400 (13262, 3000, 2308, 2310), 403 and 404 (3001); the session operation's are 400
    (200, 2310, 13277), 403 (13273) and 404 (3001). The OpenAPI document lists these statuses,
    so a backend that raises another status makes the document wrong.
    """

    def update_meeting_rtms_status(
        self, meeting_id: str, action: str, *, token: Token, client_id: str, participant_user_id: str | None
    ) -> None: ...

    def update_session_rtms_status(self, session_id: str, action: str, *, token: Token) -> None: ...


class RateLimiter:
    """At most ``limit`` requests per account in each whole scenario second (a fixed window).

    Zoom's real limits are per account and per rate-limit label (these operations are ``MEDIUM``);
    a request over the limit is answered 429 with ``Retry-After: 1`` and is not counted.
    """

    def __init__(self, clock: Clock, limit: int) -> None:
        if limit < 1:
            raise ValueError("rate_limit must be at least 1")
        self.clock = clock
        self.limit = limit
        self._windows: dict[str, tuple[int, int]] = {}

    def hit(self, account_id: str) -> None:
        window = math.floor(self.clock.now())
        start, count = self._windows.get(account_id, (window, 0))
        if start != window:
            count = 0
        if count >= self.limit:
            raise ZoomApiError(429, 429, RATE_LIMITED, retry_after=1)
        self._windows[account_id] = (window, count + 1)


class _Rest:
    """Everything the handlers share, stored on the application."""

    def __init__(self, backend: RestBackend, tokens: TokenStore, clock: Clock, limiter: RateLimiter) -> None:
        self.backend = backend
        self.tokens = tokens
        self.clock = clock
        self.limiter = limiter


_REST: web.AppKey[_Rest] = web.AppKey("rest")


def add_rest_routes(
    app: web.Application, *, backend: RestBackend, tokens: TokenStore, clock: Clock, rate_limit: int
) -> None:
    """Mount Zoom's RTMS REST operations, the OAuth endpoints and ``GET /_sim/openapi.json``."""
    app[_REST] = _Rest(backend, tokens, clock, RateLimiter(clock, rate_limit))
    add_oauth_routes(app, registry=backend, tokens=tokens)
    # ``[^/]*`` so that an empty or malformed id reaches the handler and is answered in Zoom's
    # shape, rather than by the router's plain-text 404.
    app.router.add_patch(MEETING_STATUS_PATH.replace("{meetingId}", "{meetingId:[^/]*}"), _meeting_status)
    app.router.add_patch(SESSION_STATUS_PATH.replace("{sessionId}", "{sessionId:[^/]*}"), _session_status)
    app.router.add_get(OPENAPI_PATH, _openapi, allow_head=False)


# -- the OpenAPI document ----------------------------------------------------------------------


@functools.cache
def _openapi_text() -> str:
    return resources.files("simulator").joinpath("openapi.json").read_text(encoding="utf-8")


def openapi_document(server_url: str) -> dict[str, Any]:
    """The OpenAPI 3 document of these routes, with ``servers`` set to ``server_url``."""
    doc: dict[str, Any] = json.loads(_openapi_text())
    doc["servers"] = [{"url": server_url, "description": "this simulator"}]
    return doc


@answer_errors
async def _openapi(request: web.Request) -> web.StreamResponse:
    return web.json_response(openapi_document(base_url(request)))


# -- authentication ----------------------------------------------------------------------------


def _bearer(request: web.Request) -> str:
    scheme, _, value = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise ZoomApiError(401, 124, INVALID_TOKEN)
    return value


def _video_sdk_token(bearer: str, state: _Rest) -> Token:
    """A Video SDK API JWT as a :class:`Token` of its app (no scopes, no user)."""
    invalid = ZoomApiError(401, 124, INVALID_TOKEN)
    try:
        unverified = jwt.decode(bearer, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise invalid from None
    client_id = unverified.get("iss") or unverified.get("appKey")
    app = state.backend.app_by_client_id(client_id) if isinstance(client_id, str) else None
    if app is None:
        raise invalid
    try:
        with warnings.catch_warnings():
            # The secret is the scenario's; a short one is the scenario's choice, not an error.
            warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
            claims = jwt.decode(
                bearer,
                app.client_secret,
                algorithms=["HS256"],
                # Time claims are checked below against the scenario clock, not the wall clock.
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "require": ["exp"]},
            )
    except jwt.PyJWTError:
        raise invalid from None
    exp = claims["exp"]
    if isinstance(exp, bool) or not isinstance(exp, int | float) or not math.isfinite(exp):
        raise invalid
    now = state.clock.epoch_seconds()
    if exp <= now:
        raise ZoomApiError(401, 124, EXPIRED_TOKEN)
    return Token(
        access_token=bearer,
        app=app,
        account_id=app.account,
        user_id=None,
        scopes=frozenset(),
        expires_at=state.clock.now() + (exp - now),
        refresh_token=None,
        grant=Grant.VIDEO_SDK_JWT,
    )


def _authenticate(request: web.Request, state: _Rest, *, allow_jwt: bool) -> Token:
    """The caller's token (401/124 otherwise), counted against its account's rate limit (429)."""
    bearer = _bearer(request)
    if allow_jwt and bearer.count(".") == 2:  # a JWT; the store's tokens have no dots
        token = _video_sdk_token(bearer, state)
    else:
        token = state.tokens.lookup(bearer)
    state.limiter.hit(token.account_id)
    return token


# -- bodies and ids ----------------------------------------------------------------------------


async def _json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object (any ``Content-Type``), or 400/300."""
    raw = await request.read()
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise ZoomApiError(400, 300, NOT_JSON_OBJECT) from None
    if not isinstance(body, dict):
        raise ZoomApiError(400, 300, NOT_JSON_OBJECT)
    return body


def _field_errors(body: dict[str, Any], *, meeting: bool) -> list[dict[str, str]]:
    """What is wrong with a body, field by field (empty: nothing). Unknown keys are ignored."""
    errors: list[dict[str, str]] = []

    def check_string(obj: dict[str, Any], key: str, field: str, *, required: bool) -> None:
        if key not in obj:
            if required:
                errors.append({"field": field, "message": "This field is required."})
        elif not isinstance(obj[key], str):
            errors.append({"field": field, "message": "Must be a string."})
        elif not obj[key]:
            errors.append({"field": field, "message": "Must not be empty."})

    if "action" not in body:
        errors.append({"field": "action", "message": "This field is required."})
    elif body["action"] not in ACTIONS:
        errors.append({"field": "action", "message": f"Must be one of: {', '.join(ACTIONS)}."})
    if meeting:
        if "settings" not in body:
            errors.append({"field": "settings", "message": "This field is required."})
        elif not isinstance(body["settings"], dict):
            errors.append({"field": "settings", "message": "Must be an object."})
        else:
            check_string(body["settings"], "client_id", "settings.client_id", required=True)
            check_string(
                body["settings"], "participant_user_id", "settings.participant_user_id", required=False
            )
    return errors


def _validated(body: dict[str, Any], *, meeting: bool) -> str:
    errors = _field_errors(body, meeting=meeting)
    if errors:
        raise ZoomApiError(400, 300, VALIDATION_FAILED, errors=errors)
    action: str = body["action"]
    return action


def _meeting_id(raw: str) -> str:
    """A meeting number (int64, positive) in canonical decimal, or 400/300."""
    if not re.fullmatch(r"[0-9]{1,19}", raw) or not 1 <= int(raw) <= _INT64_MAX:
        raise ZoomApiError(400, 300, INVALID_MEETING_ID)
    return str(int(raw))


def _session_id(raw: str) -> str:
    """The session id, decoded a second time (Zoom's double encoding), or 400/300 if empty."""
    session_id = unquote(raw)
    if not session_id:
        raise ZoomApiError(400, 300, INVALID_SESSION_ID)
    return session_id


# -- handlers ----------------------------------------------------------------------------------


@answer_errors
async def _meeting_status(request: web.Request) -> web.StreamResponse:
    state = request.app[_REST]
    token = _authenticate(request, state, allow_jwt=False)
    if token.scopes.isdisjoint(MEETING_SCOPES):
        raise ZoomApiError(400, 4711, MISSING_SCOPE)
    body = await _json_object(request)
    action = _validated(body, meeting=True)
    meeting_id = _meeting_id(request.match_info["meetingId"])
    settings = body["settings"]
    state.backend.update_meeting_rtms_status(
        meeting_id,
        action,
        token=token,
        client_id=settings["client_id"],
        participant_user_id=settings.get("participant_user_id"),
    )
    log.info("meeting %s: rtms %s by client_id=%s", meeting_id, action, settings["client_id"])
    return web.Response(status=204)


@answer_errors
async def _session_status(request: web.Request) -> web.StreamResponse:
    state = request.app[_REST]
    token = _authenticate(request, state, allow_jwt=True)
    body = await _json_object(request)
    action = _validated(body, meeting=False)
    session_id = _session_id(request.match_info["sessionId"])
    state.backend.update_session_rtms_status(session_id, action, token=token)
    log.info("session %s: rtms %s by client_id=%s", session_id, action, token.app.client_id)
    return web.Response(status=204)
