"""The published OpenAPI document against the running handlers, with schemathesis (docs/rest.md).

The REST and OAuth routes run on a real server on ``127.0.0.1:0`` (in a thread: schemathesis
calls are blocking); the document is the packaged one (test_rest.py checks that
``GET /_sim/openapi.json`` serves it).
Every operation is exercised with positive and negative data in the examples, coverage and
fuzzing phases, under all of schemathesis' default checks — so a status, header, content type
or body the document does not declare, a schema-valid request refused with a 400, or an invalid
one accepted, fails the test.

Credentials are configured so that requests get past authentication (the ``ignored_auth``
check separately sends them without it). Requests can only reach 127.0.0.1: name resolution
for any other host fails, and redirects are not followed.
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from aiohttp import web

from simulator.clock import ManualClock
from simulator.oauth import TokenStore
from simulator.rest import add_rest_routes, openapi_document

from .rest_backend import USER_APP, VSDK_APP, FakeBackend

LOOPBACK = "127.0.0.1"


class ThreadedServer:
    """The REST routes on ``127.0.0.1:0`` in an event loop of their own thread."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rest-server", daemon=True)
        self._runner: web.AppRunner | None = None
        self._error: BaseException | None = None
        self.url = ""

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        assert self._runner is not None
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    async def _start(self) -> None:
        self._runner = web.AppRunner(self._app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOOPBACK, 0)
        await site.start()
        assert self._runner.addresses
        port = self._runner.addresses[0][1]
        self.url = f"http://{LOOPBACK}:{port}"

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(timeout=10):
            raise RuntimeError("the REST server did not start")
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


@pytest.fixture(scope="module")
def loopback_only() -> Iterator[None]:
    """Fail name resolution for every host but 127.0.0.1 (no generated URL leaves the machine)."""
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in (LOOPBACK, LOOPBACK.encode()):
            raise socket.gaierror(socket.EAI_NONAME, f"test blocks resolving {host!r}: loopback only")
        return real(host, *args, **kwargs)

    socket.getaddrinfo = guarded
    try:
        yield
    finally:
        socket.getaddrinfo = real


SEED = 20260221


def _tokens(clock: ManualClock) -> tuple[TokenStore, str]:
    """A store seeded with :data:`SEED` and its first token: the same string on every call.

    The token is a Server-to-Server token of a Video SDK account's app: it has the meeting scope,
    and the Video SDK operation accepts its account (test_rest.py covers the Video SDK JWT).
    """
    tokens = TokenStore(clock, random.Random(SEED))
    bearer = tokens.issue(
        VSDK_APP, account_id=VSDK_APP.account, user_id=None, scopes=frozenset(VSDK_APP.scopes)
    )
    return tokens, bearer.access_token


# Collection needs the schema before any server runs (schemathesis' fixture-based loader does not
# work with this pytest), so the document is the packaged one and the token is known in advance.
BEARER = _tokens(ManualClock())[1]
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "cache": {"enabled": False},
        "generation": {"max-examples": 100, "database": "none"},
        "auth": {
            "openapi": {
                "bearerAuth": {"bearer": BEARER},
                "clientBasic": {"username": USER_APP.client_id, "password": USER_APP.client_secret},
            }
        },
        # A registered app, so that schema-valid authorize requests are answered with the redirect.
        "parameters": {"query.client_id": USER_APP.client_id},
        "max-redirects": 0,
    }
)
schema = schemathesis.openapi.from_dict(openapi_document(f"http://{LOOPBACK}:9"), config=CONFIG)


@pytest.fixture(scope="module")
def api_url(loopback_only: None) -> Iterator[str]:
    clock = ManualClock()  # never advanced: the token stays valid for the whole run
    tokens, bearer = _tokens(clock)
    assert bearer == BEARER
    app = web.Application()
    add_rest_routes(app, backend=FakeBackend(), tokens=tokens, clock=clock, rate_limit=1_000_000)
    server = ThreadedServer(app)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@schema.parametrize()
def test_openapi_conformance(case: schemathesis.Case[Any], api_url: str) -> None:
    case.call_and_validate(base_url=api_url, allow_redirects=False, timeout=10)
