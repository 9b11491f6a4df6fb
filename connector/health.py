"""Operations routes on the connector's HTTP app: ``/metrics``, ``/healthz``, ``/readyz``.

They share the webhook receiver's port, so one port serves Zoom, Prometheus and the
orchestrator's probes. They are GET routes; the webhook receiver takes POST only (at
``ZM_RTMS_PATH``, default ``/``), so even a webhook path of ``/metrics`` cannot collide.

* ``GET /metrics``: :meth:`connector.metrics.Metrics.render`, Prometheus text or OpenMetrics
  as the scraper's ``Accept`` header asks.
* ``GET /healthz`` (liveness): ``200 {"status": "ok"}``. Being answered at all shows the process
  is up and its event loop is turning; a blocked loop shows up as the probe timing out.
  ``live()``, when given, may add checks of its own: ``(False, checks)`` gives
  ``503 {"status": "unhealthy", "checks": ...}``.
* ``GET /readyz`` (readiness): ``ready()`` says whether this replica should get webhooks now
  (Redis reachable, not draining...). ``(True, checks)`` gives ``200 {"status": "ready",
  "checks": ...}``, ``(False, checks)`` gives ``503 {"status": "not ready", "checks": ...}``,
  e.g. ``{"status": "not ready", "checks": {"redis": "unreachable", "draining": true}}``.

A probe is a callable returning ``(ok, checks)``, or an awaitable of it; it should read state
kept up to date elsewhere (the lease loop knows whether Redis answers) rather than do slow I/O.
A probe that raises counts as failing; the response names the exception's type only, because
its message might carry a URL with a password, and the full error goes to the (redacting) log.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import hdrs, web

from .errors import ConfigError
from .metrics import Metrics

__all__ = [
    "HEALTHZ_PATH",
    "METRICS_PATH",
    "OPS_PATHS",
    "READYZ_PATH",
    "Probe",
    "ProbeResult",
    "add_ops_routes",
]

logger = logging.getLogger("connector.health")

METRICS_PATH: Final = "/metrics"
HEALTHZ_PATH: Final = "/healthz"
READYZ_PATH: Final = "/readyz"
OPS_PATHS: Final = (METRICS_PATH, HEALTHZ_PATH, READYZ_PATH)

ProbeResult = tuple[bool, dict[str, object]]
Probe = Callable[[], ProbeResult | Awaitable[ProbeResult]]

_NO_STORE: Final = {"Cache-Control": "no-store"}


def add_ops_routes(
    app: web.Application,
    *,
    metrics: Metrics,
    ready: Probe,
    live: Probe | None = None,
) -> None:
    """Add ``GET /metrics``, ``GET /healthz`` and ``GET /readyz`` to ``app`` (before it starts).

    Raises :class:`ConfigError` if ``app`` already answers GET on one of those paths.
    """
    for resource in app.router.resources():
        path = resource.canonical
        if path in OPS_PATHS and any(route.method in (hdrs.METH_GET, hdrs.METH_ANY) for route in resource):
            raise ConfigError(f"GET {path} is already routed; the operations routes need it", option="path")

    async def metrics_route(request: web.Request) -> web.Response:
        body, content_type = metrics.render(request.headers.get(hdrs.ACCEPT))
        return web.Response(body=body, headers={hdrs.CONTENT_TYPE: content_type, **_NO_STORE})

    async def healthz_route(request: web.Request) -> web.Response:
        if live is None:
            return _json(200, {"status": "ok"})
        ok, checks = await _run(live, "live")
        if ok:
            return _json(200, {"status": "ok", "checks": checks})
        return _json(503, {"status": "unhealthy", "checks": checks})

    async def readyz_route(request: web.Request) -> web.Response:
        ok, checks = await _run(ready, "ready")
        status = 200 if ok else 503
        return _json(status, {"status": "ready" if ok else "not ready", "checks": checks})

    app.router.add_get(METRICS_PATH, metrics_route)
    app.router.add_get(HEALTHZ_PATH, healthz_route)
    app.router.add_get(READYZ_PATH, readyz_route)


async def _run(probe: Probe, name: str) -> ProbeResult:
    """``probe()``, awaited if need be; a probe that raises or misbehaves reports failure."""
    try:
        result = probe()
        if inspect.isawaitable(result):
            result = await result
        ok, checks = result
        return bool(ok), dict(checks)
    except Exception as exc:
        logger.exception("the %s probe failed", name)
        return False, {"probe": f"error: {type(exc).__name__}"}


def _json(status: int, body: dict[str, object]) -> web.Response:
    # default=str: a check value that is not JSON (a Path, an enum) is shown, not a 500.
    text = json.dumps(body, default=str)
    return web.Response(status=status, text=text, content_type="application/json", headers=_NO_STORE)
