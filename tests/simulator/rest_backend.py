"""Test-only: a small :class:`~simulator.rest.RestBackend` and a harness serving the REST routes.

:class:`FakeBackend` stands in for the simulator's world (a few apps, accounts, one meeting, one
session) so that the REST and OAuth handlers can be tested on their own. Its domain answers
(3001, 13262, 2308, 200) follow docs/rest.md; it records every call it accepts in
:attr:`FakeBackend.calls`. :class:`RestHarness` serves the routes on ``127.0.0.1:0``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import ClientResponse, encode_basic_auth, web
from aiohttp.test_utils import TestClient, TestServer

from simulator.clock import ManualClock
from simulator.errors import ZoomApiError
from simulator.oauth import Token, TokenStore
from simulator.rest import RestBackend, add_rest_routes
from simulator.scenario import Account, AppSpec

__all__ = ["JWT_SECRET", "MEETING", "SESSION", "Call", "FakeBackend", "RestHarness", "double_quote"]

MEETING = "81234567890"  # a live meeting number (no OpenAPI example uses it)
SESSION = "Sess/ion+1=="  # a Video SDK session id with a "/" (sent encoded twice)
JWT_SECRET = "vsdk-secret-0123456789abcdef0123456789abcdef"  # 32+ bytes: a proper HS256 key

ACME = Account(id="acme")
VSDK = Account(id="vsdk", video_sdk=True)

S2S = AppSpec(id="s2s", account="acme", client_id="acme-s2s-id", client_secret="acme-s2s-secret")
USER_APP = AppSpec(
    id="user-app",
    account="acme",
    client_id="acme-user-id",
    client_secret="acme-user-secret",
    scopes=("meeting:update:participant_rtms_app_status", "rtms:read:rtms_started"),
)
NO_SCOPE = AppSpec(
    id="no-scope",
    account="acme",
    client_id="acme-noscope-id",
    client_secret="acme-noscope-secret",
    scopes=("meeting:read:meeting:admin", "rtms:read:rtms_started:admin"),
)
VSDK_APP = AppSpec(id="vsdk-app", account="vsdk", client_id="vsdk-app-id", client_secret=JWT_SECRET)


@dataclass(frozen=True)
class Call:
    kind: str  # "meeting" or "session"
    target: str
    action: str
    token: Token
    client_id: str | None = None
    participant_user_id: str | None = None


class FakeBackend:
    """Accounts ``acme`` (users ``u-host``, ``u-guest``) and ``vsdk`` (a Video SDK account).

    Meeting :data:`MEETING` is live with ``u-host`` present; session :data:`SESSION` is live.
    """

    def __init__(self) -> None:
        self.accounts = {a.id: a for a in (ACME, VSDK)}
        self.apps = {a.client_id: a for a in (S2S, USER_APP, NO_SCOPE, VSDK_APP)}
        self.users = {"acme": ["u-host", "u-guest"], "vsdk": []}
        self.present = {MEETING: {"u-host"}}
        self.sessions = {SESSION}
        self.calls: list[Call] = []

    def app_by_client_id(self, client_id: str) -> AppSpec | None:
        return self.apps.get(client_id)

    def default_user(self, account_id: str) -> str | None:
        users = self.users.get(account_id, [])
        return users[0] if users else None

    def account(self, account_id: str) -> Account | None:
        return self.accounts.get(account_id)

    def update_meeting_rtms_status(
        self, meeting_id: str, action: str, *, token: Token, client_id: str, participant_user_id: str | None
    ) -> None:
        present = self.present.get(meeting_id)
        if present is None:
            raise ZoomApiError(404, 3001, f"Meeting does not exist: {meeting_id}.")
        if client_id not in self.apps:
            raise ZoomApiError(
                400, 13262, f"The app '{client_id}' is not authorized to access meeting content."
            )
        if (participant_user_id or token.user_id) not in present:
            raise ZoomApiError(400, 2308, "The user is not in the meeting.")
        self.calls.append(Call("meeting", meeting_id, action, token, client_id, participant_user_id))

    def update_session_rtms_status(self, session_id: str, action: str, *, token: Token) -> None:
        account = self.accounts.get(token.account_id)
        if account is None or not account.video_sdk:
            raise ZoomApiError(400, 200, "This API is only available for Video SDK accounts.")
        if session_id not in self.sessions:
            raise ZoomApiError(404, 3001, f"Session does not exist: {session_id}.")
        self.calls.append(Call("session", session_id, action, token))


class RestHarness:
    """The REST and OAuth routes on a real aiohttp server on ``127.0.0.1:0``, with a client.

    Time is the given :class:`ManualClock`; tokens are seeded, so a run is repeatable.
    """

    def __init__(
        self, clock: ManualClock, *, rate_limit: int = 30, backend: RestBackend | None = None
    ) -> None:
        self.clock = clock
        self.backend: RestBackend = backend if backend is not None else FakeBackend()
        self.tokens = TokenStore(clock, random.Random(7))
        app = web.Application()
        add_rest_routes(app, backend=self.backend, tokens=self.tokens, clock=clock, rate_limit=rate_limit)
        self.client = TestClient(TestServer(app, host="127.0.0.1", port=0))

    async def __aenter__(self) -> RestHarness:
        await self.client.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.client.port}"

    @property
    def fake(self) -> FakeBackend:
        assert isinstance(self.backend, FakeBackend)
        return self.backend

    def token(
        self, app: AppSpec, *, scopes: tuple[str, ...] | None = None, user_id: str | None = None
    ) -> str:
        """A token issued straight from the store (as a scenario runner would)."""
        chosen = frozenset(app.scopes if scopes is None else scopes)
        return self.tokens.issue(app, account_id=app.account, user_id=user_id, scopes=chosen).access_token

    async def patch_meeting(
        self, meeting_id: str, body: object, *, token: str | None, raw: bytes | None = None
    ) -> ClientResponse:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        path = f"/v2/live_meetings/{meeting_id}/rtms_app/status"
        if raw is not None:
            return await self.client.patch(path, data=raw, headers=headers)
        return await self.client.patch(path, json=body, headers=headers)

    async def patch_session(self, quoted_id: str, body: object, *, token: str | None) -> ClientResponse:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return await self.client.patch(
            f"/v2/videosdk/sessions/{quoted_id}/rtms_app/status", json=body, headers=headers
        )

    async def oauth_token(
        self,
        app: AppSpec | None,
        *,
        query: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        auth: str | None = None,
    ) -> ClientResponse:
        """``POST /oauth/token`` with Basic auth of ``app`` (or the raw ``auth`` header)."""
        headers: dict[str, str] = {}
        if auth is not None:
            headers["Authorization"] = auth
        elif app is not None:
            headers["Authorization"] = encode_basic_auth(app.client_id, app.client_secret)
        return await self.client.post("/oauth/token", params=query, data=form, headers=headers)


def double_quote(value: str) -> str:
    """A session id as Zoom asks for it in the path: URL-encoded twice."""
    return quote(quote(value, safe=""), safe="")
