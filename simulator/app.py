"""The aiohttp layer: WebSocket endpoints for signaling and media.

Each socket becomes a :class:`~.peer.Peer`; frames are decoded with the protocol core and
handed to the :class:`~.engine.Engine`. The SDK's upgrade quirks need nothing special:
``Sec-WebSocket-Protocol: websocket`` is not echoed (the SDK accepts that), ``x-websocket-token``
is ignored and a ``Host`` without port is fine (§1.1). PINGs are answered by aiohttp.

One simulator plays several RTMS "servers": the endpoints are served at their plain paths
(region 1) and again under ``/r<N>`` (``/r2/rtms/signaling``, ``/r2/rtms/media/audio``), so a
failover can move a stream to "another server" whose URLs differ (§7.1, failover).
"""

from __future__ import annotations

import logging

from aiohttp import WSCloseCode, WSMsgType, web

from connector.protocol import FrameError, MediaType, decode

from .engine import Engine
from .peer import Peer, PeerKind

__all__ = ["SIGNALING_PATH", "add_socket_routes"]

log = logging.getLogger("simulator.app")

SIGNALING_PATH = "/rtms/signaling"
MEDIA_PATH = "/rtms/media/{kind}"
REGION_PREFIX = "/r{region:[1-9][0-9]{0,5}}"
_MEDIA_KEYS = {t.key for t in MediaType.singles()} | {"all"}

ENGINE_KEY = web.AppKey("engine", Engine)


def add_socket_routes(app: web.Application, engine: Engine) -> None:
    app[ENGINE_KEY] = engine
    for prefix in ("", REGION_PREFIX):
        app.router.add_get(prefix + SIGNALING_PATH, _signaling)
        app.router.add_get(prefix + MEDIA_PATH, _media)


async def _signaling(request: web.Request) -> web.StreamResponse:
    return await _serve(request, PeerKind.SIGNALING, "signaling")


async def _media(request: web.Request) -> web.StreamResponse:
    kind = request.match_info["kind"]
    if kind not in _MEDIA_KEYS:
        raise web.HTTPNotFound(text=f"no media endpoint {kind!r}")
    return await _serve(request, PeerKind.MEDIA, kind)


async def _serve(request: web.Request, kind: PeerKind, path_kind: str) -> web.StreamResponse:
    engine = request.app[ENGINE_KEY]
    ws = web.WebSocketResponse(autoping=True, max_msg_size=engine.config.max_frame_bytes)
    await ws.prepare(request)
    peer = Peer(
        ws,
        request,
        kind=kind,
        path_kind=path_kind,
        frame_kind=engine.config.frame_kind,
        on_sent=engine.on_sent,
        region=int(request.match_info.get("region", 1)),
        pacing=engine.pacing,
    )
    try:
        async for frame in ws:
            if frame.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                _dispatch(engine, peer, frame.data)
            elif frame.type is WSMsgType.ERROR:
                break
    finally:
        clean = ws.close_code not in (None, WSCloseCode.ABNORMAL_CLOSURE)
        try:
            engine.on_closed(peer, clean=clean)
        except Exception:  # a simulator bug must not leak a traceback to the client
            log.exception("error while closing %r", peer)
        peer.stop_writer()
    return ws


def _dispatch(engine: Engine, peer: Peer, data: str | bytes) -> None:
    try:
        message = decode(data)
    except FrameError as error:
        engine.on_bad_frame(peer, error)
        return
    try:
        engine.on_frame(peer, message)
    except Exception:
        # A simulator bug: log it for the developer; the client only sees the socket go on.
        log.exception("error handling %s on %r", message.msg_type.name, peer)
