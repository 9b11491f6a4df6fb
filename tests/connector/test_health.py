"""The operations routes over real HTTP on 127.0.0.1: /metrics, /healthz, /readyz."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from connector.errors import ConfigError
from connector.health import add_ops_routes
from connector.metrics import Metrics

Serve = Callable[[web.Application], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start an app on 127.0.0.1:<free port>; returns its base URL. Cleaned up after the test."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        yield session


def always(ok: bool, **checks: object) -> Callable[[], tuple[bool, dict[str, object]]]:
    return lambda: (ok, dict(checks))


async def get_json(http: aiohttp.ClientSession, url: str) -> tuple[int, Any, aiohttp.ClientResponse]:
    async with http.get(url) as response:
        assert response.content_type == "application/json"
        assert response.headers["Cache-Control"] == "no-store"
        return response.status, await response.json(), response


async def test_metrics_route_serves_the_connectors_registry(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    metrics = Metrics(replica="r1")
    app = web.Application()
    add_ops_routes(app, metrics=metrics, ready=always(True))
    base = await serve(app)
    metrics.frame_in("audio")
    metrics.reconnect("failover")

    async def scrape() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        async with http.get(f"{base}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=")
            text = await response.text()
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    first = await scrape()
    assert first[("rtms_connector_frames_total", frozenset({("kind", "audio")}))] == 1
    assert first[("rtms_connector_reconnects_total", frozenset({("cause", "failover")}))] == 1
    assert first[("rtms_connector_info", frozenset({("replica", "r1")}))] == 1
    metrics.frame_in("audio")
    second = await scrape()
    assert second[("rtms_connector_frames_total", frozenset({("kind", "audio")}))] == 2


async def test_metrics_route_negotiates_openmetrics(serve: Serve, http: aiohttp.ClientSession) -> None:
    app = web.Application()
    add_ops_routes(app, metrics=Metrics(), ready=always(True))
    base = await serve(app)
    headers = {"Accept": "application/openmetrics-text;version=1.0.0,text/plain;q=0.1"}
    async with http.get(f"{base}/metrics", headers=headers) as response:
        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        assert (await response.text()).rstrip().endswith("# EOF")


async def test_healthz_is_ok_while_the_loop_runs(serve: Serve, http: aiohttp.ClientSession) -> None:
    app = web.Application()
    add_ops_routes(app, metrics=Metrics(), ready=always(False, redis="unreachable"))
    base = await serve(app)
    status, body, _ = await get_json(http, f"{base}/healthz")
    # Liveness does not depend on readiness: an unready replica must not be restarted for it.
    assert (status, body) == (200, {"status": "ok"})


async def test_healthz_reports_a_failing_live_probe(serve: Serve, http: aiohttp.ClientSession) -> None:
    state = {"ok": True}
    app = web.Application()
    add_ops_routes(
        app,
        metrics=Metrics(),
        ready=always(True),
        live=lambda: (state["ok"], {"sinks": "writable" if state["ok"] else "disk full"}),
    )
    base = await serve(app)
    assert (await get_json(http, f"{base}/healthz"))[:2] == (
        200,
        {"status": "ok", "checks": {"sinks": "writable"}},
    )
    state["ok"] = False
    assert (await get_json(http, f"{base}/healthz"))[:2] == (
        503,
        {"status": "unhealthy", "checks": {"sinks": "disk full"}},
    )


async def test_readyz_follows_the_ready_probe(serve: Serve, http: aiohttp.ClientSession) -> None:
    checks: dict[str, object] = {"redis": "ok", "draining": False}
    app = web.Application()
    add_ops_routes(
        app, metrics=Metrics(), ready=lambda: (checks["redis"] == "ok" and not checks["draining"], checks)
    )
    base = await serve(app)
    assert (await get_json(http, f"{base}/readyz"))[:2] == (
        200,
        {"status": "ready", "checks": {"redis": "ok", "draining": False}},
    )
    checks.update(redis="unreachable", draining=True)
    assert (await get_json(http, f"{base}/readyz"))[:2] == (
        503,
        {"status": "not ready", "checks": {"redis": "unreachable", "draining": True}},
    )


async def test_async_probes_are_awaited(serve: Serve, http: aiohttp.ClientSession) -> None:
    async def ready() -> tuple[bool, dict[str, object]]:
        await asyncio.sleep(0)
        return False, {"leases": "not yet loaded"}

    app = web.Application()
    add_ops_routes(app, metrics=Metrics(), ready=ready)
    base = await serve(app)
    assert (await get_json(http, f"{base}/readyz"))[:2] == (
        503,
        {"status": "not ready", "checks": {"leases": "not yet loaded"}},
    )


async def test_a_raising_probe_fails_without_leaking_its_message(
    serve: Serve, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    def ready() -> tuple[bool, dict[str, object]]:
        raise ConnectionError("redis://default:hunter2@redis:6379 refused")

    app = web.Application()
    add_ops_routes(app, metrics=Metrics(), ready=ready, live=lambda: None)  # type: ignore[arg-type,return-value]
    base = await serve(app)
    status, body, _ = await get_json(http, f"{base}/readyz")
    assert (status, body) == (503, {"status": "not ready", "checks": {"probe": "error: ConnectionError"}})
    status, body, _ = await get_json(http, f"{base}/healthz")
    assert (status, body) == (503, {"status": "unhealthy", "checks": {"probe": "error: TypeError"}})
    assert "the ready probe failed" in caplog.text


async def test_ops_routes_live_beside_the_webhook_even_on_the_same_path(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    async def webhook(request: web.Request) -> web.Response:
        return web.json_response({"webhook": request.path})

    app = web.Application()
    app.router.add_post("/", webhook)
    app.router.add_post("/metrics", webhook)  # ZM_RTMS_PATH=/metrics is odd, but must still work
    add_ops_routes(app, metrics=Metrics(), ready=always(True))
    base = await serve(app)
    for path in ("/", "/metrics"):
        async with http.post(f"{base}{path}", data=b"{}") as response:
            assert (response.status, await response.json()) == (200, {"webhook": path})
    async with http.get(f"{base}/metrics") as response:
        assert response.status == 200
        assert "rtms_connector_info" in await response.text()
    async with http.post(f"{base}/readyz") as response:
        assert response.status == 405
    async with http.get(f"{base}/") as response:
        assert response.status == 405


@pytest.mark.parametrize("method", ["GET", "*"])
def test_an_existing_get_route_on_an_ops_path_is_refused(method: str) -> None:
    async def other(request: web.Request) -> web.Response:
        return web.Response()

    app = web.Application()
    app.router.add_route(method, "/healthz", other)
    with pytest.raises(ConfigError, match="GET /healthz is already routed"):
        add_ops_routes(app, metrics=Metrics(), ready=always(True))
