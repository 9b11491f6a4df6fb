"""The control API under ``/_sim/``: streams, scenarios, triggers, the journal, the clock, reset.

Kept apart from anything Zoom serves (moto's model): Zoom's own surfaces never live under
``/_sim``. Errors use Zoom's JSON error shape ``{"code": ..., "message": ...}``; the
operations themselves live in :mod:`.driver`, shared with the CLI and the pytest plugin.

Routes: ``GET /_sim/health``; ``GET|POST /_sim/streams``, ``GET /_sim/streams/{id}``,
``POST /_sim/streams/{id}/stop``, ``POST /_sim/streams/{id}/drop``, ``.../pause``, ``.../resume``,
``.../failover``; ``POST /_sim/webhooks/url_validation`` (``url``); ``POST /_sim/scenarios``
(YAML or JSON body, ``?webhook_url=``); ``GET /_sim/meetings``;
``POST /_sim/meetings/{meeting}/events`` (one timeline step without ``at``);
``GET /_sim/journal`` (``since``, ``direction``, ``stream_id``, ``kind``, ``channel``, ``limit``);
``POST /_sim/clock/advance`` (``seconds``), ``POST /_sim/clock/run`` (``until`` or ``speed``);
``GET /_sim/pacing``, ``POST /_sim/pacing/reset`` (media frame lateness, :mod:`.pacing`);
``POST /_sim/reset``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import TYPE_CHECKING, Any

from aiohttp import web

from connector.protocol import MediaType, Product, StopReason

from . import scenario as sc
from .clock import ManualClock
from .driver import Driver, DriverError
from .speech import generate_script

if TYPE_CHECKING:
    from .server import Simulator
    from .stream import SimStream

__all__ = ["PREFIX", "add_control_routes"]

PREFIX = "/_sim"
_SIM_KEY: web.AppKey[Simulator] = web.AppKey("simulator")
_MEDIA_KEYS = {t.key: t for t in (*MediaType.singles(), MediaType.ALL)}
_SCENARIO_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "application/json", "text/plain"}

log = logging.getLogger("simulator.control")


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
    r.add_post(f"{PREFIX}/streams/{{stream_id}}/{{action:pause|resume|failover}}", _stream_action)
    r.add_post(f"{PREFIX}/webhooks/url_validation", _validate_url)
    r.add_get(f"{PREFIX}/journal", _journal)
    r.add_post(f"{PREFIX}/clock/advance", _advance)
    r.add_post(f"{PREFIX}/clock/run", _run_clock)
    r.add_get(f"{PREFIX}/pacing", _pacing)
    r.add_post(f"{PREFIX}/pacing/reset", _reset_pacing)
    r.add_post(f"{PREFIX}/scenarios", _load_scenario)
    r.add_get(f"{PREFIX}/meetings", _list_meetings)
    r.add_post(f"{PREFIX}/meetings/{{meeting}}/events", _trigger)
    r.add_post(f"{PREFIX}/reset", _reset)
    app.middlewares.append(_zoom_errors)
    app.on_shutdown.append(_stop_driver)


async def _stop_driver(app: web.Application) -> None:
    await Driver.of(app[_SIM_KEY]).close()


@web.middleware
async def _zoom_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Driver errors in Zoom's shape; anything unexpected under ``/_sim`` as a 500 without a traceback."""
    try:
        response: web.StreamResponse = await handler(request)
    except DriverError as exc:
        return _error(exc.status, exc.code, exc.message)
    except web.HTTPException:
        raise
    except Exception:
        if not request.path.startswith(PREFIX):
            raise
        log.exception("control request failed: %s %s", request.method, request.path)
        return _error(500, 500, "Internal error in the simulator (see its log).")
    return response


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
        # An hour-long script is a thousand sentences: generated in a worker thread, so the
        # streams being paced get the interpreter back at every switch interval instead of
        # waiting for the whole script.
        script = await asyncio.to_thread(
            generate_script,
            seed=int(body.get("seed", 0)),
            participants=int(body.get("participants", 3)),
            duration=float(body.get("duration", 20.0)),
        )
        stream = sim.start_stream(
            product=product,
            webhook_url=body.get("webhook_url"),
            script=script,
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
    """No body: every connection of the stream is cut (the client's side of a network loss).
    ``{"socket": "signaling" | "audio" | ... | "all", "close_frame": bool}``: Zoom loses that
    connection (``Engine.drop_signaling`` / ``Engine.drop_media``), with its webhooks and windows."""
    sim = request.app[_SIM_KEY]
    stream = _stream(request)
    body = await _json_body(request)
    if not body:
        sim.engine.drop_connections(stream)
        return web.json_response(sim.describe(stream))
    socket = body.get("socket")
    close_frame = body.get("close_frame", False)
    if not isinstance(close_frame, bool):
        return _error(400, 300, "Validation Failed. close_frame must be true or false.")
    if socket == "signaling":
        sim.engine.drop_signaling(stream, close_frame=close_frame)
    elif socket in _MEDIA_KEYS:
        sim.engine.drop_media(stream, _MEDIA_KEYS[socket], close_frame=close_frame)
    else:
        named = ", ".join(["signaling", *_MEDIA_KEYS])
        return _error(400, 300, f"Validation Failed. socket must be one of {named}.")
    return web.json_response(sim.describe(stream))


async def _stream_action(request: web.Request) -> web.Response:
    """``pause``, ``resume`` or ``failover`` the stream now (``Engine.pause`` / ``resume`` / ``failover``)."""
    sim = request.app[_SIM_KEY]
    stream = _stream(request)
    actions = {"pause": sim.engine.pause, "resume": sim.engine.resume, "failover": sim.engine.failover}
    actions[request.match_info["action"]](stream)
    return web.json_response(sim.describe(stream))


async def _validate_url(request: web.Request) -> web.Response:
    """Send ``endpoint.url_validation`` to ``url`` now and report Zoom's verdict (§7.2)."""
    sim = request.app[_SIM_KEY]
    body = await _json_body(request)
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return _error(400, 300, "Validation Failed. url must be an http:// or https:// URL.")
    secret = body.get("webhook_secret", sim.config.app.webhook_secret)
    if not isinstance(secret, str) or not secret:
        return _error(400, 300, "Validation Failed. webhook_secret must be a non-empty string.")
    token = body.get("plain_token") or f"{sim.engine.rng.getrandbits(96):024x}"
    if not isinstance(token, str):
        return _error(400, 300, "Validation Failed. plain_token must be a string.")
    verdict = await sim.webhooks.validate_url(url, secret, token)
    return web.json_response({"plainToken": token, **verdict})


async def _journal(request: web.Request) -> web.Response:
    """Records, oldest first; ``since`` (scenario seconds, inclusive) and ``limit`` page through them."""
    sim = request.app[_SIM_KEY]
    q = request.query
    try:
        since = float(q.get("since", "-inf"))
        limit = int(q["limit"]) if "limit" in q else None
    except ValueError:
        return _error(400, 300, "Validation Failed. since must be a number of seconds and limit an integer.")
    if math.isnan(since) or (limit is not None and limit < 0):
        return _error(400, 300, "Validation Failed. since must be a number and limit must not be negative.")
    records = [
        r
        for r in sim.journal.select(
            stream_id=q.get("stream_id"),
            kind=q.get("kind"),
            channel=q.get("channel"),
            direction=q.get("direction"),
        )
        if r.t >= since
    ]
    return web.json_response({"records": [r.as_dict() for r in records[:limit]]})


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


async def _run_clock(request: web.Request) -> web.Response:
    """``{"until": t}``: run the manual clock timer by timer to scenario time ``t``, then answer.
    ``{"speed": x}``: free-run it at ``x`` times real time in the background (0 stops it)."""
    driver = Driver.of(request.app[_SIM_KEY])
    body = await _json_body(request)
    if ("until" in body) == ("speed" in body):
        return _error(400, 300, "Validation Failed. give either until (seconds) or speed (times real time).")
    key = "until" if "until" in body else "speed"
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _error(400, 300, f"Validation Failed. {key} must be a number.")
    if key == "until":
        ran = await driver.run_until(float(value))
        return web.json_response({"now": driver.sim.clock.now(), "timers_run": ran})
    driver.set_speed(float(value))
    return web.json_response({"now": driver.sim.clock.now(), "speed": driver.speed})


async def _pacing(request: web.Request) -> web.Response:
    """Media frames sent since the last pacing reset and how late they were handed to their
    sockets, per kind (p50/p99/max ms), with the clock's kind: lateness means real time only
    on the real clock."""
    sim = request.app[_SIM_KEY]
    return web.json_response(_pacing_report(sim, sim.engine.pacing.report()))


async def _reset_pacing(request: web.Request) -> web.Response:
    """Start a new pacing window (a benchmark's steady window); answers the window it closed."""
    sim = request.app[_SIM_KEY]
    return web.json_response(_pacing_report(sim, sim.engine.pacing.reset()))


def _pacing_report(sim: Simulator, report: dict[str, Any]) -> dict[str, Any]:
    return {"clock": "manual" if isinstance(sim.clock, ManualClock) else "real", **report}


async def _load_scenario(request: web.Request) -> web.Response:
    sim = request.app[_SIM_KEY]
    if request.content_type not in _SCENARIO_TYPES:
        return _error(
            415, 300, "Send the scenario as application/yaml or application/json, not " + request.content_type
        )
    text = await request.read()
    try:
        scenario = sc.loads(text, source="request body")
    except sc.ScenarioError as exc:
        return _error(400, 300, str(exc))
    described = Driver.of(sim).load(scenario, webhook_url=request.query.get("webhook_url"))
    return web.json_response(described, status=201)


async def _list_meetings(request: web.Request) -> web.Response:
    sim = request.app[_SIM_KEY]
    return web.json_response({"meetings": sim.world.describe()["meetings"]})


async def _trigger(request: web.Request) -> web.Response:
    sim = request.app[_SIM_KEY]
    body = await _json_body(request)
    return web.json_response(Driver.of(sim).trigger(request.match_info["meeting"], body))


async def _reset(request: web.Request) -> web.Response:
    sim = request.app[_SIM_KEY]
    Driver.of(sim).reset()
    return web.json_response({"status": "reset", "now": sim.clock.now()})
