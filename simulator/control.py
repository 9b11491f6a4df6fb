"""The control API under ``/_sim/``: start and stop streams, read the journal, move the clock.

Kept apart from anything Zoom serves (moto's model): Zoom's own surfaces never live under
``/_sim``. Errors use Zoom's JSON error shape ``{"code": ..., "message": ...}``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from aiohttp import web

from connector.protocol import Product, StopReason

from .clock import ManualClock

if TYPE_CHECKING:
    from .server import Simulator
    from .stream import SimStream

__all__ = ["PREFIX", "add_control_routes"]

PREFIX = "/_sim"
_SIM_KEY: web.AppKey[Simulator] = web.AppKey("simulator")


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status)


def add_control_routes(app: web.Application, sim: Simulator) -> None:
    app[_SIM_KEY] = sim
    r = app.router
    r.add_get(f"{PREFIX}/health", _health)
    r.add_get(f"{PREFIX}/streams", _list_streams)
    r.add_post(f"{PREFIX}/streams", _start_stream)
    r.add_get(f"{PREFIX}/streams/{{stream_id}}", _get_stream)
    r.add_post(f"{PREFIX}/streams/{{stream_id}}/stop", _stop_stream)
    r.add_post(f"{PREFIX}/streams/{{stream_id}}/drop", _drop_stream)
    r.add_get(f"{PREFIX}/journal", _journal)
    r.add_post(f"{PREFIX}/clock/advance", _advance)


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _list_streams(request: web.Request) -> web.Response:
    sim = request.app[_SIM_KEY]
    return web.json_response({"streams": [sim.describe(s) for s in sim.engine.streams.values()]})


async def _json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(
            text='{"code": 300, "message": "Request body is not JSON."}', content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"code": 300, "message": "Request body must be a JSON object."}',
            content_type="application/json",
        )
    return body


async def _start_stream(request: web.Request) -> web.Response:
    sim = request.app[_SIM_KEY]
    body = await _json_body(request)
    try:
        product = Product(body.get("product", "meeting"))
        stream = sim.start_stream(
            product=product,
            webhook_url=body.get("webhook_url"),
            seed=int(body.get("seed", 0)),
            participants=int(body.get("participants", 3)),
            duration=float(body.get("duration", 20.0)),
            scheme=str(body.get("scheme", "ws")),
        )
    except (ValueError, TypeError) as exc:
        return _error(400, 300, f"Validation Failed. {exc}")
    return web.json_response(sim.describe(stream), status=201)


def _stream(request: web.Request) -> SimStream:
    """The stream named in the path, or a 404 in Zoom's error shape."""
    stream = request.app[_SIM_KEY].engine.streams.get(request.match_info["stream_id"])
    if stream is None:
        raise web.HTTPNotFound(
            text='{"code": 3001, "message": "Stream does not exist."}', content_type="application/json"
        )
    return stream


async def _get_stream(request: web.Request) -> web.Response:
    sim = request.app[_SIM_KEY]
    stream = _stream(request)
    return web.json_response(sim.describe(stream))


async def _stop_stream(request: web.Request) -> web.Response:
    sim = request.app[_SIM_KEY]
    stream = _stream(request)
    body = await _json_body(request)
    try:
        reason = StopReason(int(body.get("reason", StopReason.MEETING_ENDED)))
    except (ValueError, TypeError):
        return _error(400, 300, "Validation Failed. reason must be a stop reason 0-26.")
    sim.engine.terminate(stream, reason)
    return web.json_response(sim.describe(stream))


async def _drop_stream(request: web.Request) -> web.Response:
    sim = request.app[_SIM_KEY]
    stream = _stream(request)
    sim.engine.drop_connections(stream)
    return web.json_response(sim.describe(stream))


async def _journal(request: web.Request) -> web.Response:
    sim = request.app[_SIM_KEY]
    q = request.query
    records = sim.journal.select(stream_id=q.get("stream_id"), kind=q.get("kind"), channel=q.get("channel"))
    return web.json_response({"records": [r.as_dict() for r in records]})


async def _advance(request: web.Request) -> web.Response:
    sim = request.app[_SIM_KEY]
    if not isinstance(sim.clock, ManualClock):
        return _error(
            409, 409, "The simulator runs on the real clock; start it with a manual clock to advance time."
        )
    body = await _json_body(request)
    try:
        seconds = float(body["seconds"])
    except (KeyError, ValueError, TypeError):
        return _error(400, 300, "Validation Failed. seconds must be a number.")
    if not math.isfinite(seconds):  # JSON as Python reads it allows NaN and Infinity
        return _error(400, 300, "Validation Failed. seconds must be a finite number.")
    if seconds < 0:
        return _error(400, 300, "Validation Failed. seconds must not be negative.")
    ran = sim.clock.advance(seconds)
    return web.json_response({"now": sim.clock.now(), "timers_run": ran})
