"""Zoom's OAuth surface: the token store and ``/oauth/token``, ``/oauth/authorize`` (docs/protocol.md §8.2).

Tokens are opaque random strings that live on the scenario clock (:meth:`Clock.now` seconds), so a
test expires one by advancing a :class:`~.clock.ManualClock` past 3599 s. The grants are Zoom's:

* ``account_credentials`` (Server-to-Server OAuth): ``account_id`` must be the app's account;
  no refresh token; the token carries all the app's scopes and no user.
* ``client_credentials``: an app-level token; it carries only the app's ``rtms:*`` scopes, so the
  meeting API answers it with 4711 (docs/rest.md).
* ``authorization_code``: the code minted by ``GET /oauth/authorize`` (which consents at once for
  the user named by the simulator's ``user_id`` parameter, or the account's default user), bound
  to its ``redirect_uri``; single use; returns a refresh token.
* ``refresh_token``: rotates; the refresh token used is invalid afterwards.

Errors are Zoom's OAuth shape ``{"reason", "error"}`` (:class:`~.errors.OAuthError`). Which of
these details real Zoom shares is listed in docs/rest.md; several are unconfirmed (§10 item 10).
"""

from __future__ import annotations

import base64
import enum
import functools
import hmac
import logging
import random
import re
from collections.abc import Awaitable, Callable, Container
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from aiohttp import hdrs, web
from multidict import MultiDict, MultiDictProxy

from .clock import Clock
from .errors import OAuthError, ZoomApiError
from .scenario import Account, AppSpec

__all__ = [
    "ACCESS_TOKEN_TTL",
    "AUTHORIZE_PATH",
    "CODE_TTL",
    "REFRESH_TOKEN_TTL",
    "TOKEN_PATH",
    "AppRegistry",
    "Grant",
    "Token",
    "TokenStore",
    "add_oauth_routes",
    "answer_errors",
    "base_url",
]

log = logging.getLogger("simulator.oauth")

TOKEN_PATH = "/oauth/token"
AUTHORIZE_PATH = "/oauth/authorize"

ACCESS_TOKEN_TTL = 3599.0
"""Seconds an access token lives: Zoom answers ``expires_in: 3599`` (§8.2)."""
REFRESH_TOKEN_TTL = 90 * 24 * 3600.0
"""Seconds a refresh token lives (unconfirmed: 90 days, as commonly reported for Zoom)."""
CODE_TTL = 600.0
"""Seconds an authorization code can be redeemed (a simulator choice: RFC 6749 §4.1.2's ten minutes)."""

INVALID_TOKEN = "Invalid access token."
EXPIRED_TOKEN = "Access token is expired."


class Grant(enum.StrEnum):
    """How a token was obtained (a refreshed token keeps the grant it was first issued under)."""

    ACCOUNT_CREDENTIALS = "account_credentials"
    CLIENT_CREDENTIALS = "client_credentials"
    AUTHORIZATION_CODE = "authorization_code"
    VIDEO_SDK_JWT = "video_sdk_jwt"  # not an OAuth grant: a Video SDK API JWT (simulator/rest.py)


@dataclass(frozen=True, kw_only=True)
class Token:
    """An access token and what it stands for. ``expires_at`` is scenario time (:meth:`Clock.now`)."""

    access_token: str
    app: AppSpec
    account_id: str
    user_id: str | None
    scopes: frozenset[str]
    expires_at: float
    refresh_token: str | None
    grant: Grant


@dataclass(frozen=True, kw_only=True)
class _Code:
    app_client_id: str
    account_id: str
    user_id: str
    redirect_uri: str
    expires_at: float


@dataclass(frozen=True, kw_only=True)
class _Refresh:
    token: Token  # the access token it was issued with: whose, which scopes, which grant
    expires_at: float


class TokenStore:
    """Access tokens, refresh tokens and authorization codes, on the scenario clock.

    ``rng`` makes token strings deterministic when seeded; the default is
    :class:`random.SystemRandom`. Expired tokens are kept so that :meth:`lookup` can tell
    "expired" from "invalid", as Zoom's messages do.
    """

    def __init__(self, clock: Clock, rng: random.Random | None = None) -> None:
        self.clock = clock
        self._rng = rng if rng is not None else random.SystemRandom()
        self._tokens: dict[str, Token] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._codes: dict[str, _Code] = {}

    def _new_secret(self, taken: Container[str]) -> str:
        while True:
            raw = self._rng.getrandbits(256).to_bytes(32, "big")
            secret = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
            if secret not in taken:
                return secret

    def issue(
        self,
        app: AppSpec,
        *,
        account_id: str,
        user_id: str | None,
        scopes: frozenset[str],
        ttl: float = ACCESS_TOKEN_TTL,
        refresh: bool = False,
        grant: Grant = Grant.ACCOUNT_CREDENTIALS,
    ) -> Token:
        """Mint an access token living ``ttl`` scenario seconds (``ttl <= 0``: already expired).

        With ``refresh``, a refresh token is minted with it (:data:`REFRESH_TOKEN_TTL`).
        """
        now = self.clock.now()
        refresh_token = self._new_secret(self._refresh) if refresh else None
        token = Token(
            access_token=self._new_secret(self._tokens),
            app=app,
            account_id=account_id,
            user_id=user_id,
            scopes=frozenset(scopes),
            expires_at=now + ttl,
            refresh_token=refresh_token,
            grant=grant,
        )
        self._tokens[token.access_token] = token
        if refresh_token is not None:
            self._refresh[refresh_token] = _Refresh(token=token, expires_at=now + REFRESH_TOKEN_TTL)
        log.info(
            "token issued: grant=%s client_id=%s account=%s user=%s scopes=%d ttl=%s",
            grant.value,
            app.client_id,
            account_id,
            user_id,
            len(token.scopes),
            ttl,
        )
        return token

    def lookup(self, access_token: str) -> Token:
        """The token for ``access_token``; :class:`ZoomApiError` 401/124 if unknown or expired."""
        token = self._tokens.get(access_token)
        if token is None:
            raise ZoomApiError(401, 124, INVALID_TOKEN)
        if self.clock.now() >= token.expires_at:
            raise ZoomApiError(401, 124, EXPIRED_TOKEN)
        return token

    def expires_in(self, token: Token) -> int:
        """Whole seconds ``token`` has left (what ``expires_in`` reports)."""
        return max(0, round(token.expires_at - self.clock.now()))

    # -- authorization codes ---------------------------------------------------------------

    def create_code(self, app: AppSpec, *, account_id: str, user_id: str, redirect_uri: str) -> str:
        """An authorization code for ``user_id``'s consent, redeemable once within :data:`CODE_TTL`."""
        code = self._new_secret(self._codes)
        self._codes[code] = _Code(
            app_client_id=app.client_id,
            account_id=account_id,
            user_id=user_id,
            redirect_uri=redirect_uri,
            expires_at=self.clock.now() + CODE_TTL,
        )
        return code

    def redeem_code(self, app: AppSpec, code: str, *, redirect_uri: str) -> Token:
        """Exchange a code for a token with a refresh token. The code is spent on success.

        Raises :class:`OAuthError` 400 ``invalid_request``: "Invalid authorization code" for a
        code that is unknown, spent, expired or another app's; "Redirect URI mismatch." when
        ``redirect_uri`` differs from the one the code was issued for (the code stays usable).
        """
        entry = self._codes.get(code)
        if entry is None or entry.app_client_id != app.client_id or self.clock.now() >= entry.expires_at:
            raise OAuthError(400, "invalid_request", "Invalid authorization code")
        if redirect_uri != entry.redirect_uri:
            raise OAuthError(400, "invalid_request", "Redirect URI mismatch.")
        del self._codes[code]
        return self.issue(
            app,
            account_id=entry.account_id,
            user_id=entry.user_id,
            scopes=frozenset(app.scopes),
            refresh=True,
            grant=Grant.AUTHORIZATION_CODE,
        )

    def refresh(self, app: AppSpec, refresh_token: str) -> Token:
        """A new access token and a new refresh token; ``refresh_token`` is spent (rotation).

        Raises :class:`OAuthError` 400 ``invalid_request`` "Invalid Token!" for a refresh token
        that is unknown, spent, expired or another app's. Access tokens already issued stay valid.
        """
        entry = self._refresh.get(refresh_token)
        if (
            entry is None
            or entry.token.app.client_id != app.client_id
            or self.clock.now() >= entry.expires_at
        ):
            raise OAuthError(400, "invalid_request", "Invalid Token!")
        del self._refresh[refresh_token]
        old = entry.token
        return self.issue(
            app,
            account_id=old.account_id,
            user_id=old.user_id,
            scopes=old.scopes,
            refresh=True,
            grant=old.grant,
        )


# -- HTTP ------------------------------------------------------------------------------------


class AppRegistry(Protocol):
    """What the OAuth endpoints ask the world (a part of :class:`~.rest.RestBackend`)."""

    def app_by_client_id(self, client_id: str) -> AppSpec | None: ...

    def default_user(self, account_id: str) -> str | None: ...

    def account(self, account_id: str) -> Account | None: ...


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_REGISTRY: web.AppKey[AppRegistry] = web.AppKey("oauth_registry")
_TOKENS: web.AppKey[TokenStore] = web.AppKey("oauth_tokens")

_PARAMS = ("grant_type", "account_id", "code", "redirect_uri", "refresh_token")
_FORM = "application/x-www-form-urlencoded"
# An absolute http(s) URL with an ASCII host, no spaces and no fragment (RFC 6749 §3.1.2).
_REDIRECT_URI = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-\"$-~]*)?")


def answer_errors(handler: Handler) -> Handler:
    """Turn :class:`ZoomApiError` / :class:`OAuthError` into Zoom's JSON bodies.

    Anything else unexpected is logged and answered ``500 {"code": 500, ...}``: a Python
    traceback never reaches the wire (STYLE rule 6). aiohttp's own HTTP errors pass through.
    """

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ZoomApiError as exc:
            headers = {hdrs.RETRY_AFTER: str(exc.retry_after)} if exc.retry_after is not None else None
            return web.json_response(exc.body(), status=exc.status, headers=headers)
        except OAuthError as exc:
            return web.json_response(exc.body(), status=exc.status)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("unexpected error answering %s %s", request.method, request.path)
            return web.json_response({"code": 500, "message": "Internal server error."}, status=500)

    return wrapper


def base_url(request: web.Request) -> str:
    """``scheme://host:port`` the client reached the simulator at (the ``Host`` it sent)."""
    host = request.host
    if not re.search(r":\d+$", host):
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        if sockname:
            host = f"{host}:{sockname[1]}"
    return f"{request.scheme}://{host}"


def add_oauth_routes(app: web.Application, *, registry: AppRegistry, tokens: TokenStore) -> None:
    """Mount ``POST /oauth/token`` and ``GET /oauth/authorize`` (§8.2)."""
    app[_REGISTRY] = registry
    app[_TOKENS] = tokens
    app.router.add_post(TOKEN_PATH, _token)
    app.router.add_get(AUTHORIZE_PATH, _authorize, allow_head=False)


def _client(request: web.Request, registry: AppRegistry) -> AppSpec:
    """The app named by ``Authorization: Basic base64(client_id:client_secret)``, or 401."""
    failed = OAuthError(401, "invalid_client", "Invalid client_id or client_secret")
    scheme, _, encoded = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    if scheme.lower() != "basic":
        raise failed
    try:
        decoded = base64.b64decode(encoded.strip().encode("ascii"), validate=True).decode("utf-8")
    except ValueError:  # binascii.Error and UnicodeError are ValueErrors
        raise failed from None
    client_id, colon, secret = decoded.partition(":")
    app = registry.app_by_client_id(client_id) if colon else None
    if app is None or not hmac.compare_digest(secret.encode(), app.client_secret.encode()):
        raise failed
    return app


async def _params(request: web.Request) -> dict[str, str]:
    """The token request's parameters from the query string and a form body, merged.

    Zoom documents both places (§8.2). A parameter given more than once with different values
    is refused, so that no value is silently preferred.
    """
    form: MultiDictProxy[str] = MultiDictProxy(MultiDict())
    if request.content_type == _FORM:
        try:
            posted = await request.post()
        except ValueError:
            raise OAuthError(400, "invalid_request", "Invalid request body.") from None
        form = MultiDictProxy(MultiDict((k, v) for k, v in posted.items() if isinstance(v, str)))
    params: dict[str, str] = {}
    for name in _PARAMS:
        values = {*request.query.getall(name, []), *form.getall(name, [])}
        if len(values) > 1:
            raise OAuthError(400, "invalid_request", f"Conflicting values for {name}.")
        if values:
            params[name] = values.pop()
    return params


def _token_body(tokens: TokenStore, token: Token, request: web.Request) -> dict[str, object]:
    body: dict[str, object] = {
        "access_token": token.access_token,
        "token_type": "bearer",
        "expires_in": tokens.expires_in(token),
        "scope": " ".join(sorted(token.scopes)),
        "api_url": base_url(request),
    }
    if token.refresh_token is not None:
        body["refresh_token"] = token.refresh_token
    return body


@answer_errors
async def _token(request: web.Request) -> web.StreamResponse:
    registry = request.app[_REGISTRY]
    tokens = request.app[_TOKENS]
    app = _client(request, registry)
    params = await _params(request)
    grant = params.get("grant_type")
    if grant == Grant.ACCOUNT_CREDENTIALS:
        if params.get("account_id") != app.account or registry.account(app.account) is None:
            raise OAuthError(400, "invalid_request", "Invalid account_id")
        token = tokens.issue(
            app,
            account_id=app.account,
            user_id=None,
            scopes=frozenset(app.scopes),
            grant=Grant.ACCOUNT_CREDENTIALS,
        )
    elif grant == Grant.CLIENT_CREDENTIALS:
        scopes = frozenset(s for s in app.scopes if s.startswith("rtms:"))
        token = tokens.issue(
            app, account_id=app.account, user_id=None, scopes=scopes, grant=Grant.CLIENT_CREDENTIALS
        )
    elif grant == Grant.AUTHORIZATION_CODE:
        token = tokens.redeem_code(app, params.get("code", ""), redirect_uri=params.get("redirect_uri", ""))
    elif grant == "refresh_token":
        token = tokens.refresh(app, params.get("refresh_token", ""))
    else:
        raise OAuthError(400, "unsupported_grant_type", "Unsupported grant type")
    return web.json_response(_token_body(tokens, token, request))


@answer_errors
async def _authorize(request: web.Request) -> web.StreamResponse:
    """Consent at once and redirect to ``redirect_uri?code=…&state=…``.

    Errors are JSON 400s rather than Zoom's HTML pages or error redirects: the simulator has
    no browser to show them to.
    """
    registry = request.app[_REGISTRY]
    tokens = request.app[_TOKENS]
    query = request.query
    app = registry.app_by_client_id(query.get("client_id", ""))
    if app is None:
        raise OAuthError(400, "invalid_client", "Invalid client_id")
    redirect_uri = query.get("redirect_uri", "")
    if not _REDIRECT_URI.fullmatch(redirect_uri):
        raise OAuthError(400, "invalid_request", "Invalid redirect_uri")
    if query.get("response_type") != "code":
        raise OAuthError(400, "unsupported_response_type", "Unsupported response type")
    user_id = query.get("user_id") or registry.default_user(app.account)
    if user_id is None:
        raise OAuthError(400, "invalid_request", "No user in the app's account to authorize it")
    code = tokens.create_code(app, account_id=app.account, user_id=user_id, redirect_uri=redirect_uri)
    answer = {"code": code}
    if "state" in query:
        answer["state"] = query["state"]
    separator = "&" if "?" in redirect_uri else "?"
    log.info("authorized: client_id=%s user=%s", app.client_id, user_id)
    return web.Response(status=302, headers={hdrs.LOCATION: redirect_uri + separator + urlencode(answer)})
