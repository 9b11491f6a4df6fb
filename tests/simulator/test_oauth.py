"""OAuth: the token store on the scenario clock, and ``/oauth/token`` + ``/oauth/authorize`` (§8.2)."""

from __future__ import annotations

import base64
import random
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import ClientResponse

from simulator.clock import ManualClock
from simulator.errors import OAuthError, ZoomApiError
from simulator.oauth import ACCESS_TOKEN_TTL, CODE_TTL, Grant, TokenStore

from .rest_backend import NO_SCOPE, S2S, USER_APP, VSDK_APP, RestHarness

REDIRECT = "https://app.example.test/oauth/callback"


@pytest.fixture
async def api(clock: ManualClock) -> AsyncIterator[RestHarness]:
    async with RestHarness(clock) as harness:
        yield harness


async def error_of(response: ClientResponse) -> tuple[int, dict[str, Any]]:
    return response.status, await response.json()


# -- the store -------------------------------------------------------------------------------


def test_issue_and_lookup(clock: ManualClock) -> None:
    store = TokenStore(clock)
    token = store.issue(S2S, account_id="acme", user_id=None, scopes=frozenset({"a", "b"}))
    assert store.lookup(token.access_token) is token
    assert token.expires_at == ACCESS_TOKEN_TTL == 3599
    assert (token.app, token.account_id, token.user_id, token.scopes) == (
        S2S,
        "acme",
        None,
        frozenset({"a", "b"}),
    )
    assert token.refresh_token is None
    assert token.grant is Grant.ACCOUNT_CREDENTIALS


def test_seeded_tokens_are_repeatable(clock: ManualClock) -> None:
    def first_two(seed: int) -> list[str]:
        store = TokenStore(clock, random.Random(seed))
        issued = [store.issue(S2S, account_id="acme", user_id=None, scopes=frozenset()) for _ in range(2)]
        return [t.access_token for t in issued]

    assert first_two(3) == first_two(3)
    assert first_two(3) != first_two(4)
    assert len(set(first_two(3))) == 2


def test_default_tokens_are_unpredictable(clock: ManualClock) -> None:
    store = TokenStore(clock)
    tokens = {
        store.issue(S2S, account_id="acme", user_id=None, scopes=frozenset()).access_token for _ in range(50)
    }
    assert len(tokens) == 50
    assert all(len(t) >= 40 and "." not in t for t in tokens)


def test_unknown_token_is_invalid(clock: ManualClock) -> None:
    with pytest.raises(ZoomApiError) as info:
        TokenStore(clock).lookup("nope")
    assert (info.value.status, info.value.code, info.value.message) == (401, 124, "Invalid access token.")


def test_token_expires_on_the_scenario_clock(clock: ManualClock) -> None:
    store = TokenStore(clock)
    token = store.issue(S2S, account_id="acme", user_id=None, scopes=frozenset())
    clock.advance(3000)
    assert store.expires_in(token) == 599
    clock.advance(598.5)
    assert store.lookup(token.access_token) is token
    clock.advance(0.5)
    with pytest.raises(ZoomApiError) as info:
        store.lookup(token.access_token)
    assert (info.value.status, info.value.code, info.value.message) == (401, 124, "Access token is expired.")


def test_non_positive_ttl_is_expired_at_once(clock: ManualClock) -> None:
    store = TokenStore(clock)
    token = store.issue(S2S, account_id="acme", user_id=None, scopes=frozenset(), ttl=-1.0)
    with pytest.raises(ZoomApiError, match="expired"):
        store.lookup(token.access_token)


def test_code_is_single_use_and_bound(clock: ManualClock) -> None:
    store = TokenStore(clock)
    code = store.create_code(USER_APP, account_id="acme", user_id="u-guest", redirect_uri=REDIRECT)
    with pytest.raises(OAuthError, match=r"Redirect URI mismatch\."):
        store.redeem_code(USER_APP, code, redirect_uri=REDIRECT + "/other")
    with pytest.raises(OAuthError, match="Invalid authorization code"):
        store.redeem_code(S2S, code, redirect_uri=REDIRECT)  # another app's code
    token = store.redeem_code(USER_APP, code, redirect_uri=REDIRECT)  # the mismatch did not spend it
    assert (token.user_id, token.grant, token.refresh_token is not None) == (
        "u-guest",
        "authorization_code",
        True,
    )
    with pytest.raises(OAuthError) as info:
        store.redeem_code(USER_APP, code, redirect_uri=REDIRECT)
    assert (info.value.status, info.value.error, info.value.reason) == (
        400,
        "invalid_request",
        "Invalid authorization code",
    )


def test_code_expires(clock: ManualClock) -> None:
    store = TokenStore(clock)
    code = store.create_code(USER_APP, account_id="acme", user_id="u-host", redirect_uri=REDIRECT)
    clock.advance(CODE_TTL)
    with pytest.raises(OAuthError, match="Invalid authorization code"):
        store.redeem_code(USER_APP, code, redirect_uri=REDIRECT)


def test_refresh_rotates(clock: ManualClock) -> None:
    store = TokenStore(clock)
    first = store.issue(USER_APP, account_id="acme", user_id="u-host", scopes=frozenset({"s"}), refresh=True)
    assert first.refresh_token is not None
    with pytest.raises(OAuthError, match="Invalid Token!"):
        store.refresh(S2S, first.refresh_token)  # another app's refresh token
    second = store.refresh(USER_APP, first.refresh_token)
    assert second.access_token != first.access_token
    assert second.refresh_token not in (None, first.refresh_token)
    assert (second.user_id, second.scopes, second.account_id) == ("u-host", frozenset({"s"}), "acme")
    with pytest.raises(OAuthError, match="Invalid Token!"):
        store.refresh(USER_APP, first.refresh_token)
    assert store.lookup(first.access_token) is first  # an access token outlives its refresh token


# -- POST /oauth/token -------------------------------------------------------------------------


async def test_account_credentials_in_the_query(api: RestHarness) -> None:
    response = await api.oauth_token(S2S, query={"grant_type": "account_credentials", "account_id": "acme"})
    assert response.status == 200
    body = await response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "api_url"}  # no refresh_token
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3599
    assert body["scope"] == " ".join(sorted(S2S.scopes))
    assert body["api_url"] == api.base_url
    token = api.tokens.lookup(body["access_token"])
    assert (token.app, token.account_id, token.user_id, token.grant) == (
        S2S,
        "acme",
        None,
        "account_credentials",
    )


async def test_account_credentials_in_a_form_body(api: RestHarness) -> None:
    response = await api.oauth_token(S2S, form={"grant_type": "account_credentials", "account_id": "acme"})
    assert response.status == 200
    assert api.tokens.lookup((await response.json())["access_token"]).app == S2S


async def test_form_and_query_combine(api: RestHarness) -> None:
    response = await api.oauth_token(
        S2S, query={"grant_type": "account_credentials"}, form={"account_id": "acme"}
    )
    assert response.status == 200


async def test_conflicting_values_are_refused(api: RestHarness) -> None:
    response = await api.oauth_token(
        S2S,
        query={"grant_type": "client_credentials"},
        form={"grant_type": "account_credentials", "account_id": "acme"},
    )
    assert await error_of(response) == (
        400,
        {"reason": "Conflicting values for grant_type.", "error": "invalid_request"},
    )


@pytest.mark.parametrize("account_id", [None, "", "vsdk", "ACME"])
async def test_account_credentials_for_another_account(api: RestHarness, account_id: str | None) -> None:
    query = {"grant_type": "account_credentials"}
    if account_id is not None:
        query["account_id"] = account_id
    response = await api.oauth_token(S2S, query=query)
    assert await error_of(response) == (400, {"reason": "Invalid account_id", "error": "invalid_request"})


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    "auth",
    [
        None,  # no Authorization header
        basic(S2S.client_id, "wrong-secret"),
        basic("unknown-client", S2S.client_secret),
        basic(S2S.client_id, USER_APP.client_secret),  # another app's secret
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(f"{S2S.client_id}{S2S.client_secret}".encode()).decode(),  # no colon
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),  # not UTF-8
        "Basic",
        "Bearer " + base64.b64encode(f"{S2S.client_id}:{S2S.client_secret}".encode()).decode(),
    ],
)
async def test_client_authentication_fails(api: RestHarness, auth: str | None) -> None:
    response = await api.oauth_token(
        None, query={"grant_type": "account_credentials", "account_id": "acme"}, auth=auth
    )
    assert await error_of(response) == (
        401,
        {"reason": "Invalid client_id or client_secret", "error": "invalid_client"},
    )


@pytest.mark.parametrize(
    "grant", [None, "", "password", "urn:ietf:params:oauth:grant-type:device_code", "video_sdk_jwt"]
)
async def test_unsupported_grant(api: RestHarness, grant: str | None) -> None:
    response = await api.oauth_token(S2S, query=None if grant is None else {"grant_type": grant})
    assert await error_of(response) == (
        400,
        {"reason": "Unsupported grant type", "error": "unsupported_grant_type"},
    )


async def test_client_credentials_carry_only_rtms_scopes(api: RestHarness) -> None:
    response = await api.oauth_token(VSDK_APP, form={"grant_type": "client_credentials"})
    body = await response.json()
    rtms = sorted(s for s in VSDK_APP.scopes if s.startswith("rtms:"))
    assert 0 < len(rtms) < len(VSDK_APP.scopes)
    assert body["scope"] == " ".join(rtms)
    assert "refresh_token" not in body
    token = api.tokens.lookup(body["access_token"])
    assert (token.account_id, token.user_id, token.grant) == ("vsdk", None, "client_credentials")


# -- the authorization code flow ---------------------------------------------------------------


async def authorize(api: RestHarness, **params: str) -> ClientResponse:
    return await api.client.get("/oauth/authorize", params=params, allow_redirects=False)


async def code_from(
    response: ClientResponse, redirect_uri: str = REDIRECT
) -> tuple[str, dict[str, list[str]]]:
    assert response.status == 302, await response.text()
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert location.startswith(redirect_uri.split("?")[0] + "?")
    query = parse_qs(parts.query, keep_blank_values=True)
    return query["code"][0], query


async def test_authorization_code_flow(api: RestHarness) -> None:
    response = await authorize(
        api, response_type="code", client_id=USER_APP.client_id, redirect_uri=REDIRECT, state="xyz 1/2"
    )
    code, query = await code_from(response)
    assert query["state"] == ["xyz 1/2"]

    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    response = await api.oauth_token(USER_APP, form=form)
    assert response.status == 200
    body = await response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "api_url", "refresh_token"}
    assert body["scope"] == " ".join(sorted(USER_APP.scopes))
    token = api.tokens.lookup(body["access_token"])
    assert (token.user_id, token.account_id, token.grant) == ("u-host", "acme", "authorization_code")
    assert token.refresh_token == body["refresh_token"]

    again = await api.oauth_token(USER_APP, form=form)  # a code is single use
    assert await error_of(again) == (
        400,
        {"reason": "Invalid authorization code", "error": "invalid_request"},
    )


async def test_authorize_for_a_named_user_keeps_the_redirect_query(api: RestHarness) -> None:
    redirect = REDIRECT + "?tenant=7"
    response = await authorize(
        api, response_type="code", client_id=USER_APP.client_id, redirect_uri=redirect, user_id="u-guest"
    )
    code, query = await code_from(response, redirect)
    assert query["tenant"] == ["7"]
    assert "state" not in query
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect}
    body = await (await api.oauth_token(USER_APP, form=form)).json()
    assert api.tokens.lookup(body["access_token"]).user_id == "u-guest"


async def test_code_needs_its_redirect_uri_and_its_app(api: RestHarness) -> None:
    code, _ = await code_from(
        await authorize(api, response_type="code", client_id=USER_APP.client_id, redirect_uri=REDIRECT)
    )
    mismatch = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT + "x"}
    assert await error_of(await api.oauth_token(USER_APP, form=mismatch)) == (
        400,
        {"reason": "Redirect URI mismatch.", "error": "invalid_request"},
    )
    right = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    assert await error_of(await api.oauth_token(S2S, form=right)) == (
        400,
        {"reason": "Invalid authorization code", "error": "invalid_request"},
    )
    assert (await api.oauth_token(USER_APP, form=right)).status == 200


async def test_refresh_token_grant_rotates(api: RestHarness) -> None:
    code, _ = await code_from(
        await authorize(api, response_type="code", client_id=USER_APP.client_id, redirect_uri=REDIRECT)
    )
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    first = await (await api.oauth_token(USER_APP, form=form)).json()

    response = await api.oauth_token(
        USER_APP, query={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert response.status == 200
    second = await response.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert api.tokens.lookup(second["access_token"]).user_id == "u-host"

    reused = await api.oauth_token(
        USER_APP, form={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert await error_of(reused) == (400, {"reason": "Invalid Token!", "error": "invalid_request"})
    again = await api.oauth_token(
        USER_APP, form={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
    )
    assert again.status == 200


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"response_type": "code", "client_id": "nobody", "redirect_uri": REDIRECT},
            {"reason": "Invalid client_id", "error": "invalid_client"},
        ),
        (
            {"response_type": "code", "redirect_uri": REDIRECT},
            {"reason": "Invalid client_id", "error": "invalid_client"},
        ),
        (
            {"response_type": "token", "client_id": USER_APP.client_id, "redirect_uri": REDIRECT},
            {"reason": "Unsupported response type", "error": "unsupported_response_type"},
        ),
        (
            {"client_id": USER_APP.client_id, "redirect_uri": REDIRECT},
            {"reason": "Unsupported response type", "error": "unsupported_response_type"},
        ),
        *(
            (
                {"response_type": "code", "client_id": USER_APP.client_id, "redirect_uri": uri},
                {"reason": "Invalid redirect_uri", "error": "invalid_request"},
            )
            for uri in ("", "/callback", "ftp://host/cb", REDIRECT + "#frag", "https://bad host/", "https://")
        ),
    ],
)
async def test_authorize_errors(api: RestHarness, params: dict[str, str], expected: dict[str, str]) -> None:
    assert await error_of(await authorize(api, **params)) == (400, expected)


async def test_authorize_without_a_user_to_consent(api: RestHarness) -> None:
    response = await authorize(api, response_type="code", client_id=VSDK_APP.client_id, redirect_uri=REDIRECT)
    assert await error_of(response) == (
        400,
        {"reason": "No user in the app's account to authorize it", "error": "invalid_request"},
    )


async def test_token_issued_over_http_expires(api: RestHarness, clock: ManualClock) -> None:
    body = await (await api.oauth_token(NO_SCOPE, query={"grant_type": "client_credentials"})).json()
    clock.advance(3599)
    with pytest.raises(ZoomApiError, match=r"Access token is expired\."):
        api.tokens.lookup(body["access_token"])
