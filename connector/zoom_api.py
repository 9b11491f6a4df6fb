"""A client for the part of Zoom's REST API an RTMS app calls (docs/protocol.md §8).

* Server-to-Server OAuth (§8.2): ``POST {oauth_url}/oauth/token?grant_type=account_credentials
  &account_id=…`` with ``Authorization: Basic base64(client_id:client_secret)``. The token is
  cached and fetched again ``refresh_margin`` seconds before it expires, measured on the
  injected :class:`~connector.clock.Clock`. Concurrent callers share one token request. The
  response's ``api_url``, when present, is where API calls go from then on.
* ``PATCH /v2/live_meetings/{meetingId}/rtms_app/status`` and the Video SDK variant
  ``PATCH /v2/videosdk/sessions/{sessionId}/rtms_app/status`` (§8.1): ``204`` means done; the
  stream then starts asynchronously with ``*.rtms_started``.

Failures are :class:`ZoomApiError`, one line with the guidance headline
(:mod:`connector.guidance`); a library exception never escapes. Every non-2xx body is logged
with tokens and secrets redacted. A ``401``/``124`` answer drops the cached token and the call
is made once more with a fresh one; ``429`` waits ``Retry-After`` seconds of the clock and
retries, at most :data:`MAX_RATE_LIMIT_RETRIES` times.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, get_args
from urllib.parse import quote, urlsplit

import aiohttp

from .clock import Clock, sleep
from .errors import ConnectorError
from .guidance import Guidance, for_rest_answer
from .logs import RedactingFilter

__all__ = [
    "MAX_RATE_LIMIT_RETRIES",
    "Action",
    "ZoomApi",
    "ZoomApiError",
    "encode_path_id",
]

log = logging.getLogger("connector.zoom_api")

Action = Literal["start", "stop", "pause", "resume"]
ACTIONS: tuple[str, ...] = get_args(Action)

TOKEN_PATH = "/oauth/token"
MEETING_STATUS_PATH = "/v2/live_meetings/{}/rtms_app/status"
SESSION_STATUS_PATH = "/v2/videosdk/sessions/{}/rtms_app/status"

MAX_RATE_LIMIT_RETRIES = 3
DEFAULT_RETRY_AFTER = 1.0
MAX_RETRY_AFTER = 60.0
"""A ``Retry-After`` above this is waited only this long (the call is then refused again if
Zoom still means it)."""

_BODY_LOG_LIMIT = 2000


class ZoomApiError(ConnectorError):
    """A REST or OAuth call failed. ``str(error)`` is one line ending in the guidance headline.

    ``http_status`` is 0 when no answer came (network error or timeout). ``code`` is Zoom's body
    ``code`` when it sent one. ``message`` is Zoom's ``message`` (OAuth: ``reason``), or what
    went wrong. ``body`` is the response body as received, redacted. ``oauth_error`` is the
    OAuth ``error`` name, ``retry_after`` the seconds of a 429's ``Retry-After``.
    """

    def __init__(
        self,
        *,
        http_status: int,
        code: int | None,
        message: str,
        body: str = "",
        oauth_error: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.http_status = http_status
        self.code = code
        self.message = message
        self.body = body
        self.oauth_error = oauth_error
        self.retry_after = retry_after
        super().__init__(self._line())

    @property
    def guidance(self) -> Guidance:
        """What this answer means and what to do (:func:`connector.guidance.for_rest_answer`)."""
        return for_rest_answer(self.http_status, self.code, self.oauth_error)

    @property
    def retryable(self) -> bool:
        """Whether the same call may succeed later (network errors, 5xx, 429, 3000, 2308)."""
        return self.guidance.retry

    def _line(self) -> str:
        where = "no answer" if self.http_status == 0 else str(self.http_status)
        if self.code is not None:
            where += f" code {self.code}"
        elif self.oauth_error is not None:
            where += f" {self.oauth_error}"
        message = " ".join(self.message.split())  # one line, whatever Zoom sent
        return f"Zoom API {where}: {message} — {self.guidance.headline}"


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float  # clock seconds
    refresh_at: float  # clock seconds


def encode_path_id(value: int | str) -> str:
    """A meeting or session ID for a URL path: percent-encoded, twice if it contains ``/``.

    Zoom asks for IDs containing ``/`` (meeting UUIDs, session IDs) to be encoded twice (§8.1).
    """
    text = str(value)
    once = quote(text, safe="")
    return quote(once, safe="") if "/" in text else once


def _retry_after(header: str | None) -> float:
    """Seconds to wait from a ``Retry-After`` header (HTTP dates and garbage: the default)."""
    try:
        seconds = float(header) if header is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER
    if not math.isfinite(seconds) or seconds < 0:
        return DEFAULT_RETRY_AFTER
    return min(seconds, MAX_RETRY_AFTER)


def _base_url(url: str, option: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{option} must be an http(s) URL, not {url!r}")
    return url.rstrip("/")


class ZoomApi:
    """Zoom's REST API with a Server-to-Server OAuth app's credentials.

    ``session``: an aiohttp session to use (the caller closes it); by default the client opens
    its own and :meth:`close` closes it. ``timeout``: seconds one HTTP request may take.
    ``refresh_margin``: seconds before expiry the token is fetched again (at most half the
    token's lifetime).
    """

    def __init__(
        self,
        *,
        account_id: str,
        client_id: str,
        client_secret: str,
        api_url: str = "https://api.zoom.us",
        oauth_url: str = "https://zoom.us",
        clock: Clock,
        session: aiohttp.ClientSession | None = None,
        refresh_margin: float = 300.0,
        timeout: float = 10.0,
    ) -> None:
        if not account_id or not client_id or not client_secret:
            raise ValueError("account_id, client_id and client_secret are required")
        if not refresh_margin >= 0:
            raise ValueError("refresh_margin must be a non-negative number of seconds")
        if not timeout > 0:
            raise ValueError("timeout must be a positive number of seconds")
        self.account_id = account_id
        self.client_id = client_id
        self._client_secret = client_secret
        self.api_url = _base_url(api_url, "api_url")
        self.oauth_url = _base_url(oauth_url, "oauth_url")
        self.clock = clock
        self.refresh_margin = refresh_margin
        self.timeout = timeout
        self._session = session
        self._own_session = session is None
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()
        # Masks the secret, the current token and credential shapes in what is logged or raised.
        self._redactor = RedactingFilter([client_secret])

    def __repr__(self) -> str:  # never the secret
        return (
            f"ZoomApi(account_id={self.account_id!r}, client_id={self.client_id!r}, api_url={self.api_url!r})"
        )

    async def __aenter__(self) -> ZoomApi:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client opened it."""
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    # -- the RTMS operations (§8.1) ------------------------------------------------------------

    async def rtms_app_status(
        self,
        meeting_id: int | str,
        action: Action,
        *,
        client_id: str,
        participant_user_id: str | None = None,
    ) -> None:
        """Start, stop, pause or resume the RTMS app ``client_id`` in a live meeting (204: done).

        ``meeting_id`` is the numeric meeting ID. ``participant_user_id`` is the Zoom user the
        stream is for; left out, Zoom takes the token's user, which a Server-to-Server token
        does not have (Zoom then answers 2308).
        """
        _check_action(action)
        settings: dict[str, str] = {"client_id": client_id}
        if participant_user_id is not None:
            settings["participant_user_id"] = participant_user_id
        path = MEETING_STATUS_PATH.format(encode_path_id(meeting_id))
        await self._call("PATCH", path, {"action": action, "settings": settings})

    async def session_rtms_app_status(self, session_id: str, action: Action) -> None:
        """The Video SDK variant: the RTMS app in session ``session_id`` (204: done)."""
        _check_action(action)
        path = SESSION_STATUS_PATH.format(encode_path_id(session_id))
        await self._call("PATCH", path, {"action": action})

    # -- tokens (§8.2) -------------------------------------------------------------------------

    async def access_token(self) -> str:
        """A valid access token: the cached one, or a new one (one request for all callers)."""
        return (await self._valid_token()).value

    def invalidate_token(self, value: str | None = None) -> None:
        """Forget the cached token (only if it is ``value``, when given)."""
        if self._token is not None and (value is None or self._token.value == value):
            self._token = None

    async def _valid_token(self) -> _Token:
        token = self._token
        if token is not None and self.clock.now() < token.refresh_at:
            return token
        async with self._token_lock:
            # Whoever held the lock may have fetched one for everybody.
            token = self._token
            now = self.clock.now()
            if token is not None and now < token.refresh_at:
                return token
            try:
                self._token = await self._fetch_token()
            except ZoomApiError:
                if token is not None and now < token.expires_at:
                    log.warning("token refresh failed; using the current token until it expires")
                    return token
                raise
            return self._token

    async def _fetch_token(self) -> _Token:
        url = f"{self.oauth_url}{TOKEN_PATH}"
        params = {"grant_type": "account_credentials", "account_id": self.account_id}
        headers = {"Authorization": aiohttp.encode_basic_auth(self.client_id, self._client_secret)}
        status, text, _ = await self._send("POST", url, TOKEN_PATH, params=params, headers=headers)
        if status != 200:
            self._log_failure("POST", TOKEN_PATH, status, text)
            raise self._oauth_error(status, text)
        body = _json(text)
        value = body.get("access_token") if isinstance(body, dict) else None
        expires_in = body.get("expires_in", 3599) if isinstance(body, dict) else None
        if (
            not isinstance(value, str)
            or not value
            or isinstance(expires_in, bool)
            or not isinstance(expires_in, int | float)
            or not expires_in > 0
        ):
            raise ZoomApiError(
                http_status=status,
                code=None,
                message="the token response has no usable access_token and expires_in",
                body=self._redact(text),
            )
        assert isinstance(body, dict)
        api_url = body.get("api_url")
        if isinstance(api_url, str) and api_url:
            try:
                self.api_url = _base_url(api_url, "api_url")
            except ValueError:
                log.warning("ignoring api_url %r of the token response: not an http(s) URL", api_url)
        self._redactor = RedactingFilter([self._client_secret, value])
        now = self.clock.now()
        margin = min(self.refresh_margin, expires_in / 2)
        log.info("access token obtained for account %s: expires in %d s", self.account_id, expires_in)
        return _Token(value=value, expires_at=now + expires_in, refresh_at=now + expires_in - margin)

    # -- requests ------------------------------------------------------------------------------

    async def _call(self, method: str, path: str, body: dict[str, Any]) -> None:
        """Send an API request until it succeeds or fails for good (see the module docstring)."""
        refreshed = False
        rate_limited = 0
        while True:
            token = await self._valid_token()
            url = f"{self.api_url}{path}"
            headers = {"Authorization": f"Bearer {token.value}"}
            status, text, retry_after = await self._send(method, url, path, json_body=body, headers=headers)
            if 200 <= status < 300:
                log.info("%s %s %s: %d", method, path, body.get("action", ""), status)
                return
            self._log_failure(method, path, status, text)
            error = self._api_error(status, text, retry_after)
            if (status == 401 or error.code == 124) and not refreshed:
                refreshed = True
                self.invalidate_token(token.value)
                log.info("%s %s: token refused (%d); retrying once with a new token", method, path, status)
                continue
            if status == 429 and rate_limited < MAX_RATE_LIMIT_RETRIES:
                rate_limited += 1
                delay = _retry_after(retry_after)
                log.info(
                    "%s %s: rate limited; retry %d of %d in %g s",
                    method,
                    path,
                    rate_limited,
                    MAX_RATE_LIMIT_RETRIES,
                    delay,
                )
                await sleep(self.clock, delay)
                continue
            raise error

    async def _send(
        self,
        method: str,
        url: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, str | None]:
        """One HTTP request: status, body text and ``Retry-After``; no answer is a ZoomApiError."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.request(
                method,
                url,
                params=params,
                json=json_body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                allow_redirects=False,
            ) as response:
                text = await response.text(errors="replace")
                return response.status, text, response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            what = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
            message = self._redact(f"{method} {path} got no answer from {urlsplit(url).netloc}: {what}")
            log.warning("%s", message)
            raise ZoomApiError(http_status=0, code=None, message=message) from None

    def _redact(self, text: str) -> str:
        return self._redactor.redact(text)

    def _log_failure(self, method: str, path: str, status: int, text: str) -> None:
        """Every non-2xx answer is logged with its body (field report F2 asks for it)."""
        shown = self._redact(text)
        if len(shown) > _BODY_LOG_LIMIT:
            shown = shown[:_BODY_LOG_LIMIT] + "…"
        log.warning("%s %s answered %d: %s", method, path, status, shown or "(no body)")

    def _api_error(self, status: int, text: str, retry_after: str | None) -> ZoomApiError:
        text = self._redact(text)
        body = _json(text)
        code = body.get("code") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        return ZoomApiError(
            http_status=status,
            code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            message=message if isinstance(message, str) and message else _fallback_message(status, text),
            body=text,
            retry_after=_retry_after(retry_after) if status == 429 else None,
        )

    def _oauth_error(self, status: int, text: str) -> ZoomApiError:
        text = self._redact(text)
        body = _json(text)
        fields = body if isinstance(body, dict) else {}
        error = fields.get("error")
        reason = fields.get("reason") or fields.get("message") or fields.get("error_description")
        code = fields.get("code")
        return ZoomApiError(
            http_status=status,
            code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            message=reason if isinstance(reason, str) and reason else _fallback_message(status, text),
            body=text,
            oauth_error=error if isinstance(error, str) and error else None,
        )


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")


def _json(text: str) -> object:
    try:
        parsed: object = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return parsed


def _fallback_message(status: int, text: str) -> str:
    first = text.strip().splitlines()[0][:200] if text.strip() else ""
    return f"HTTP {status} {first}".strip() if first else f"HTTP {status} with no Zoom error body"
