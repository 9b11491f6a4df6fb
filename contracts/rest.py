"""A raw client for Zoom's REST API and OAuth server (§8), independent of the connector.

:class:`RestClient` sends exactly what a contract asks for (any parameter may be left out with
:data:`DROP`, any header replaced) and hands back the answer as it came (:class:`Answer`), so a
contract can judge a refusal as closely as a success. It speaks to whatever
:class:`~contracts.target.RestAccess` names: the simulator over ``http://127.0.0.1``, its TLS
port in the live dry run, or ``https://api.zoom.us`` and ``https://zoom.us``.

:func:`rest_world` gives the contracts a world where ``target.rest`` can be used. Real Zoom
already is one (the user's Server-to-Server OAuth app, and a meeting if they named one). A
simulator serves REST for the apps of its loaded scenario only, so on a target that can load
scenarios a small one is loaded first: an account, the app that ``target.rest`` names, a host,
and a meeting with the app added.
"""

from __future__ import annotations

import base64
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
from multidict import CIMultiDict

from .probe import DROP
from .target import Capability, RestAccess, Target

__all__ = [
    "DROP",
    "Answer",
    "RestClient",
    "RestError",
    "RestWorld",
    "basic",
    "rest_world",
    "rtms_body",
]

TIMEOUT = aiohttp.ClientTimeout(total=30)


class RestError(AssertionError):
    """Zoom refused a request the contract needed to succeed (e.g. the OAuth token)."""

    def __init__(self, what: str, answer: Answer) -> None:
        super().__init__(f"{what}: {answer.status} {answer.text!r}")
        self.answer = answer


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as it arrived."""

    status: int
    headers: CIMultiDict[str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def json(self) -> Any:
        """The body as JSON; an :class:`AssertionError` naming the body if it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            raise AssertionError(f"the {self.status} answer is not JSON: {self.text!r}") from None

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()


def basic(client_id: str, client_secret: str) -> str:
    """``Authorization: Basic base64(client_id:client_secret)``, as Zoom's OAuth server wants it (§8.2)."""
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


def rtms_body(action: Any, client_id: Any = DROP, participant_user_id: Any = DROP) -> dict[str, Any]:
    """A ``rtms_app/status`` body (§8.1); a value of :data:`DROP` leaves its member out."""
    settings = {
        k: v
        for k, v in (("client_id", client_id), ("participant_user_id", participant_user_id))
        if v is not DROP
    }
    return {"action": action, "settings": settings}


class RestClient:
    """Raw requests to the REST API and OAuth server that ``access`` names."""

    def __init__(self, access: RestAccess, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.access = access
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=ssl_context if ssl_context is not None else True),
            timeout=TIMEOUT,
        )
        self._token: str | None = None

    async def __aenter__(self) -> RestClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.close()

    async def request(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, **options: Any
    ) -> Answer:
        # Redirects are never followed: an answer is judged as Zoom gave it, and no request is
        # sent anywhere but the configured hosts.
        async with self._http.request(
            method, url, headers=dict(headers or {}), allow_redirects=False, **options
        ) as response:
            body = await response.read()
            return Answer(response.status, CIMultiDict(response.headers), body)

    # -- OAuth (§8.2) -------------------------------------------------------------------------

    async def token_request(
        self,
        *,
        grant_type: Any = "account_credentials",
        account_id: Any = None,
        authorization: Any = None,
        in_form: bool = False,
    ) -> Answer:
        """``POST {oauth_url}/oauth/token``.

        ``account_id`` defaults to the access's account and ``authorization`` to its Basic
        credentials; :data:`DROP` leaves either (or ``grant_type``) out. The parameters go in
        the query string, as Zoom's Node example sends them, or with ``in_form`` in a form body.
        """
        account = self.access.account_id if account_id is None else account_id
        params = {k: v for k, v in (("grant_type", grant_type), ("account_id", account)) if v is not DROP}
        if authorization is None:
            authorization = basic(self.access.client_id, self.access.client_secret)
        headers = {} if authorization is DROP else {"Authorization": authorization}
        url = f"{self.access.oauth_url}/oauth/token"
        if in_form:
            return await self.request("POST", url, headers=headers, data=params)
        return await self.request("POST", url, headers=headers, params=params)

    async def token(self) -> str:
        """A Server-to-Server access token (``account_credentials``), asked for once per client."""
        if self._token is None:
            answer = await self.token_request()
            if answer.status != 200:
                raise RestError(f"{self.access.oauth_url} refused the OAuth token", answer)
            self._token = str(answer.json["access_token"])
        return self._token

    async def bearer(self) -> str:
        return f"Bearer {await self.token()}"

    # -- the RTMS operation (§8.1) ---------------------------------------------------------------

    async def rtms_status(self, meeting_id: str, body: Any, *, authorization: Any = None) -> Answer:
        """``PATCH {api_url}/v2/live_meetings/{meeting_id}/rtms_app/status``.

        ``body`` is sent as JSON, or as it is when it is ``str`` or ``bytes``; ``authorization``
        defaults to this client's bearer token, and :data:`DROP` sends no ``Authorization``.
        """
        if authorization is None:
            authorization = await self.bearer()
        headers = {} if authorization is DROP else {"Authorization": authorization}
        url = f"{self.access.api_url}/v2/live_meetings/{meeting_id}/rtms_app/status"
        if isinstance(body, str | bytes):
            headers["Content-Type"] = "application/json"
            return await self.request("PATCH", url, headers=headers, data=body)
        return await self.request("PATCH", url, headers=headers, json=body)


# -- a world to call it in --------------------------------------------------------------------


@dataclass(frozen=True)
class RestWorld:
    """Where the contracts call REST, and the meeting (if any) they may start RTMS in."""

    access: RestAccess
    client_id: str  # the RTMS app the operation names (``settings.client_id``)
    meeting_id: str | None
    participant_user_id: str | None = None  # who the app is started for (the meeting's host)
    described: dict[str, Any] = field(default_factory=dict)  # the simulator's view of the world


async def rest_world(
    target: Target, *, video_sdk: bool = False, scopes: tuple[str, ...] | None = None, started: bool = True
) -> RestWorld:
    """A world where ``target.rest`` works (see the module doc).

    On a target that loads scenarios, ``video_sdk`` makes the account a Video SDK account,
    ``scopes`` replaces the app's scopes, and ``started=False`` leaves the meeting not yet begun.
    """
    target.require(Capability.REST)
    access = target.rest
    assert access is not None
    if not target.can(Capability.SCENARIOS):
        return RestWorld(
            access=access,
            client_id=target.credentials.client_id,
            meeting_id=access.meeting_id,
            participant_user_id=access.participant_user_id,
        )
    described = await target.load_scenario(
        json.dumps(_scenario(target, video_sdk, scopes, started)), webhook_url=target.inbox.url
    )
    meeting = described["meetings"][0]
    host = None
    if started:
        begun = await target.await_webhook("meeting.started")
        host = str(begun.payload["object"]["host_id"])
    return RestWorld(
        access=replace(access, meeting_id=str(meeting["id"])),
        client_id=target.credentials.client_id,
        meeting_id=str(meeting["id"]),
        participant_user_id=host,
        described=described,
    )


def _scenario(
    target: Target, video_sdk: bool, scopes: tuple[str, ...] | None, started: bool
) -> dict[str, Any]:
    access = target.rest
    assert access is not None
    app: dict[str, Any] = {
        "id": "rest-app",
        "account": access.account_id,
        "client_id": access.client_id,
        "client_secret": access.client_secret,
        "webhook_secret": target.credentials.webhook_secret,
    }
    if scopes is not None:
        app["scopes"] = list(scopes)
    return {
        "name": "contracts-rest",
        "description": "The REST contracts' world: target.rest's app, a host, a meeting with the app.",
        "seed": 11,
        "accounts": [{"id": access.account_id, "video_sdk": video_sdk}],
        "apps": [app],
        "users": [{"id": "host", "account": access.account_id}],
        "meetings": [{"id": "rest-meeting", "host": "host", "apps": ["rest-app"]}],
        # A meeting that is not started yet begins long after any contract has ended.
        "timeline": [
            {"at": 0 if started else 30000, "do": "join", "user": "host"},
            {"at": 36000, "do": "end"},
        ],
    }
