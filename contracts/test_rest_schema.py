"""The REST surface against its OpenAPI documents, with schemathesis (§8.1; docs/rest.md).

Two documents, two levels of trust:

* **The simulator's own** (``GET /_sim/openapi.json``, simulator targets only): every RTMS
  operation and ``/oauth/token``, with positive and negative data, under all of schemathesis'
  default checks. A status, header, content type or body the document does not declare, a
  schema-valid request refused with a 400, or an invalid one accepted, fails. The world is a
  Video SDK account's app (:func:`~contracts.rest.rest_world`), so schema-valid requests are
  answered by the operation rather than refused for the account, and generated ids name no
  meeting or session. The target's clock moves one second before each example, so the
  per-second rate limit never answers for the document.
* **Zoom's published one** (``contracts/schemas/rtms-rest.openapi.json``, a byte-for-byte copy of
  the Video SDK operation from /work/shared/reference/zoom-openapi; Zoom's Meetings document
  could not be retrieved), on every target with REST, real Zoom included. It is safe to aim at
  a real account: **negative data only**, for a session id no session has
  (:data:`NO_SUCH_SESSION`), so no request can start, stop, pause or resume anything. Checked:
  no 5xx, every invalid request refused with a 4xx, and every refusal in Zoom's error shape
  ``{"code", "message"}``. Zoom's document lists no 401 and no response bodies, so status and
  body conformance are not asked of it.

Schemathesis' calls block, so they run in a worker thread while the event loop keeps serving
the in-process simulator. Requests go only to ``target.rest.api_url`` (loopback on every
simulator target), redirects are never followed, and each run is a few dozen requests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import pytest
import requests
import schemathesis
from requests.adapters import HTTPAdapter
from schemathesis import GenerationMode

from .published import REST_DOCUMENT
from .rest import RestClient, RestWorld, rest_world
from .target import Capability, Target

pytestmark = pytest.mark.needs(Capability.REST)

NO_SUCH_SESSION = "rtms-contracts-no-such-session"
SEED = 20260221
SIMULATOR_EXAMPLES = 25  # per operation and generation mode
PUBLISHED_EXAMPLES = 10  # fewer than any per-second limit: real Zoom sees no burst
SIMULATOR_PATHS = ("/v2/", "/oauth/token")  # /oauth/authorize redirects to generated URLs: left out
PUBLISHED_PATHS = ("/videosdk/",)  # under the document's server, https://api.zoom.us/v2
LIVE_CHECKS = ("not_a_server_error", "negative_data_rejection")


class _TlsAdapter(HTTPAdapter):
    """``requests`` over the target's TLS context (the dry run's simulator CA)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


def _session(target: Target) -> requests.Session:
    session = requests.Session()
    session.max_redirects = 0
    if target.ssl_context is not None:
        session.mount("https://", _TlsAdapter(target.ssl_context))
    return session


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _settings(examples: int) -> hypothesis.settings:
    # Generation only: no shrinking (each shrink step is another request), no database.
    return hypothesis.settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[hypothesis.Phase.generate],
        report_multiple_bugs=False,
        suppress_health_check=list(hypothesis.HealthCheck),
    )


Case = schemathesis.Case[Any]
Call = Callable[[Case], Any]


def _run(
    schema: Any,
    *,
    paths: tuple[str, ...],
    modes: tuple[GenerationMode, ...],
    examples: int,
    call: Call,
    path_parameters: dict[str, str] | None = None,
) -> list[str]:
    """Every operation under ``paths`` in every mode, ``examples`` cases each; the operations run."""
    ran = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith(paths):
            continue
        fixed = {k: v for k, v in (path_parameters or {}).items() if f"{{{k}}}" in operation.path}
        for mode in modes:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)

            @_settings(examples)
            @hypothesis.given(case=strategy)
            def check(case: Case) -> None:
                call(case)

            check()
        ran.append(f"{operation.method.upper()} {operation.path}")
    return ran


def _config(world: RestWorld, token: str, *, scheme: str, checks: tuple[str, ...] | None) -> Any:
    config: dict[str, Any] = {
        "seed": SEED,
        "cache": {"enabled": False},
        "generation": {"database": "none"},
        "max-redirects": 0,
        "auth": {"openapi": {scheme: {"bearer": token}}},
    }
    if scheme == "bearerAuth":  # the simulator's document also describes /oauth/token's Basic auth
        config["auth"]["openapi"]["clientBasic"] = {
            "username": world.access.client_id,
            "password": world.access.client_secret,
        }
    if checks is not None:
        config["checks"] = {"enabled": False, **{name: {"enabled": True} for name in checks}}
    return schemathesis.Config.from_dict(config)


@pytest.fixture
def statuses() -> list[int]:
    return []


@pytest.mark.needs(Capability.SCENARIOS)
async def test_simulator_document(target: Target, statuses: list[int]) -> None:
    """The simulator answers its own OpenAPI document's operations as the document says (see the
    module doc): positive and negative data, all default checks, every answer conforming."""
    world = await rest_world(target, video_sdk=True)
    api_url = world.access.api_url
    assert _is_loopback(api_url), f"a simulator target's REST must be on loopback, not {api_url}"
    async with RestClient(world.access, ssl_context=target.ssl_context) as client:
        document = (await client.request("GET", f"{api_url}/_sim/openapi.json")).json
        token = await client.token()
    schema = schemathesis.openapi.from_dict(
        document, config=_config(world, token, scheme="bearerAuth", checks=None)
    )
    loop = asyncio.get_running_loop()
    session = _session(target)

    def call(case: Case) -> None:
        # A fresh second of the target's clock for every example: the rate limit stays out of it.
        asyncio.run_coroutine_threadsafe(target.pass_time(1.0), loop).result(timeout=30)
        response = case.call_and_validate(
            base_url=api_url, session=session, allow_redirects=False, timeout=10
        )
        statuses.append(response.status_code)

    try:
        ran = await asyncio.to_thread(
            _run,
            schema,
            paths=SIMULATOR_PATHS,
            modes=(GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
            examples=SIMULATOR_EXAMPLES,
            call=call,
        )
    finally:
        session.close()
    assert len(ran) == 3, ran
    # The token was accepted (a 404 needs it) and requests were refused on their merits.
    assert {400, 404} <= set(statuses), sorted(set(statuses))


async def test_published_document_negative(target: Target, statuses: list[int]) -> None:
    """Zoom's published Video SDK operation, negative data only, for a session that does not exist:
    never a 5xx, every invalid request refused with a 4xx in Zoom's ``{"code", "message"}`` shape."""
    world = await rest_world(target)
    api_url = world.access.api_url
    if target.can(Capability.SCENARIOS):
        assert _is_loopback(api_url), f"a simulator target's REST must be on loopback, not {api_url}"
    async with RestClient(world.access, ssl_context=target.ssl_context) as client:
        token = await client.token()
    document = json.loads(REST_DOCUMENT.read_text())
    schema = schemathesis.openapi.from_dict(
        document, config=_config(world, token, scheme="openapi_authorization", checks=LIVE_CHECKS)
    )
    session = _session(target)

    def call(case: Case) -> None:
        response = case.call_and_validate(
            base_url=f"{api_url}/v2", session=session, allow_redirects=False, timeout=10
        )
        statuses.append(response.status_code)
        assert 400 <= response.status_code < 500, (response.status_code, response.text)
        body = response.json()
        assert isinstance(body.get("code"), int), body
        assert isinstance(body.get("message"), str), body

    try:
        ran = await asyncio.to_thread(
            _run,
            schema,
            paths=PUBLISHED_PATHS,
            modes=(GenerationMode.NEGATIVE,),
            examples=PUBLISHED_EXAMPLES,
            call=call,
            path_parameters={"sessionId": NO_SUCH_SESSION},
        )
    finally:
        session.close()
    assert ran == ["PATCH /videosdk/sessions/{sessionId}/rtms_app/status"], ran
    assert statuses, "no request was sent"
    # Negative data mangles the Authorization header too (401s); the rest were judged with the token.
    assert set(statuses) - {401}, f"every request was refused as unauthenticated: {statuses}"
