"""The stand-in app: what a scenario's app does when no real app is plugged in.

It is a plain RTMS client over real sockets, built on the protocol core only: an HTTP
endpoint that receives Zoom's webhooks (answering with the status and delay the scenario
gives, on the scenario clock), and for each ``*.rtms_started`` one signaling socket and one
media socket per requested type, per racing instance. It answers keep-alives (unless told
not to), re-joins on ``rtms_interrupted`` and after a failover, re-opens a media socket on
MEDIA_CONNECTION_INTERRUPTED, and counts what it receives. It is deliberately simple: the
reference connector lives in ``connector/``; this is the scenario's puppet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from connector.protocol import (
    AudioParams,
    ClientReadyAck,
    DataHandshakeReq,
    DataHandshakeResp,
    EventSubscription,
    EventType,
    EventUpdate,
    FrameError,
    KeepAliveReq,
    KeepAliveResp,
    MediaParams,
    MediaType,
    MessageType,
    Product,
    SessionStateUpdate,
    SignalingHandshakeReq,
    SignalingHandshakeResp,
    StreamState,
    StreamStateUpdate,
    Subscription,
    TranscriptParams,
    WebhookError,
    WebhookEvent,
    decode,
    encode,
    handshake_signature,
    verify_webhook,
)

from . import scenario as sc
from .clock import Clock

__all__ = ["StandIn"]

log = logging.getLogger("simulator.stand_in")

# MEDIA_DATA_AUDIO (14) … MEDIA_DATA_CHAT (18) follow the media types' wire order (§4.12).
_MEDIA_MESSAGES = {MessageType.MEDIA_DATA_AUDIO + i: m.key for i, m in enumerate(MediaType.singles())}
_ID_KEYS = tuple(p.id_key for p in Product)


@dataclass
class _Join:
    stream_id: str
    instance_id: str
    server_urls: str
    signaling: ClientConnection | None = None
    media: dict[str, ClientConnection] = field(default_factory=dict)
    media_urls: dict[str, str] = field(default_factory=dict)
    lost_media: set[str] = field(default_factory=set)  # media sockets that went away
    shaken: set[str] = field(default_factory=set)  # media types whose handshake succeeded
    ready_sent: bool = False  # CLIENT_READY_ACK goes once per signaling connection
    media_interrupted: bool = False  # Zoom said so before the socket's end reached us
    closed: bool = False


class StandIn:
    """One app's stand-in: its webhook endpoint and its stream clients."""

    def __init__(self, spec: sc.ClientSpec, *, clock: Clock, apps: dict[str, sc.AppSpec]) -> None:
        self.spec = spec
        self.clock = clock
        self.apps = apps  # by client id... filled by the runner: app id -> spec with credentials
        self.frames: Counter[tuple[str, str]] = Counter()  # (stream_id, media kind) -> frames received
        self.session_states: list[int] = []
        self.stream_states: list[int] = []
        self.handshakes: Counter[int] = Counter()  # signaling handshake status codes received
        self.webhooks: list[str] = []
        self.answer_keep_alives = spec.answer_keep_alives
        self.activity = 0  # bumps on every thing that happens: the runner's quiet detector
        self.connecting = 0
        self._attempts: Counter[bytes] = Counter()
        self._joins: dict[str, list[_Join]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/webhook/{app_id}", self._webhook)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/webhook"
        return self.url

    async def close(self) -> None:
        for joins in self._joins.values():
            for join in joins:
                await self._close_join(join)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- faults the scenario applies to the app itself ------------------------------------

    def crash(self) -> None:
        """The app process dies: every socket drops without a close frame."""
        for joins in self._joins.values():
            for join in joins:
                join.closed = True
                for ws in [join.signaling, *join.media.values()]:
                    if ws is not None:
                        ws.transport.abort()
        self.activity += 1

    # -- webhooks --------------------------------------------------------------------------

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.read()
        app = self.apps.get(request.match_info["app_id"])
        self.activity += 1
        if app is None:
            return web.Response(status=404)
        try:
            verify_webhook(app.webhook_secret, request.headers, body, now=self.clock.epoch_seconds())
        except WebhookError:
            return web.Response(status=401)
        self._attempts[body] += 1
        statuses = self.spec.webhook_status
        status = statuses[min(self._attempts[body], len(statuses)) - 1]
        if self.spec.webhook_delay > 0:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()

            def answer() -> None:
                if not waiter.done():
                    waiter.set_result(None)

            self.clock.call_later(self.spec.webhook_delay, answer)
            await waiter
        event = msgspec.json.decode(body, type=WebhookEvent)
        self.webhooks.append(event.event)
        if status in (200, 204):
            self._on_event(app, event)
        return web.Response(status=status)

    def _on_event(self, app: sc.AppSpec, event: WebhookEvent) -> None:
        name = event.event
        payload = event.payload
        stream_id = payload.get("rtms_stream_id")
        if not isinstance(stream_id, str):
            return
        joins = self._joins.get(stream_id, [])
        if name.endswith("rtms_started"):
            urls = str(payload.get("server_urls", ""))
            live = [j for j in joins if not j.closed]
            if live and self.spec.dedupe and all(j.server_urls == urls for j in live):
                return  # a retried or duplicated delivery
            for j in live:  # a failover: the old server is gone
                self._spawn(self._close_join(j))
            instance = next((str(payload[k]) for k in _ID_KEYS if k in payload), "")
            self._joins[stream_id] = []
            for _ in range(self.spec.instances):
                join = _Join(stream_id, instance, urls)
                self._joins[stream_id].append(join)
                self._spawn(self._run(app, join))
        elif name.endswith("rtms_interrupted") and self.spec.reconnect:
            for j in joins:
                if not j.closed:
                    self._spawn(self._rejoin(app, j))
        elif name.endswith("rtms_stopped"):
            for j in joins:
                j.closed = True

    # -- one client ------------------------------------------------------------------------

    def _signature(self, app: sc.AppSpec, join: _Join) -> tuple[str, str]:
        signer = app
        if self.spec.sign_as is not None:
            signer = self.apps[self.spec.sign_as]
        signature = handshake_signature(
            client_id=signer.client_id,
            client_secret=signer.client_secret,
            instance_id=join.instance_id,
            stream_id=join.stream_id,
        )
        return signer.client_id, signature

    async def _connect(self, url: str) -> ClientConnection | None:
        self.connecting += 1
        try:
            return await connect(
                url, proxy=None, compression=None, ping_interval=None, max_size=None, open_timeout=10
            )
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            log.info("stand-in could not connect to %s: %s", url, exc)
            return None
        finally:
            self.connecting -= 1
            self.activity += 1

    async def _send(self, ws: ClientConnection, message: Any) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(encode(message).decode())

    async def _rejoin(self, app: sc.AppSpec, join: _Join) -> None:
        await self._close_sockets(join)
        join.closed = False
        await self._run(app, join)

    async def _run(self, app: sc.AppSpec, join: _Join) -> None:
        ws = await self._connect(join.server_urls.split(",")[0])
        if ws is None:
            return
        join.signaling = ws
        _, signature = self._signature(app, join)
        await self._send(
            ws,
            SignalingHandshakeReq(
                meeting_uuid=join.instance_id, rtms_stream_id=join.stream_id, signature=signature
            ),
        )
        await self._read(app, join, ws, "signaling")

    async def _open_media(self, app: sc.AppSpec, join: _Join, kind: str) -> None:
        url = join.media_urls.get(kind) or join.media_urls.get("all")
        if url is None:
            return
        ws = await self._connect(url)
        if ws is None:
            return
        join.media[kind] = ws
        join.lost_media.discard(kind)
        _, signature = self._signature(app, join)
        media = MediaType[kind.upper()]
        await self._send(
            ws,
            DataHandshakeReq(
                meeting_uuid=join.instance_id,
                rtms_stream_id=join.stream_id,
                signature=signature,
                media_type=int(media),
                media_params=_params(media),
            ),
        )
        await self._read(app, join, ws, kind)
        if join.closed or join.media.get(kind) is not ws:
            return
        join.lost_media.add(kind)
        if join.media_interrupted:
            self._reopen_media(app, join)

    def _reopen_media(self, app: sc.AppSpec, join: _Join) -> None:
        """Re-open the media sockets that went away (Zoom's MEDIA_CONNECTION_INTERRUPTED)."""
        join.media_interrupted = False
        for kind in sorted(join.lost_media):
            join.media.pop(kind, None)
            self._spawn(self._open_media(app, join, kind))
        join.lost_media.clear()

    async def _read(self, app: sc.AppSpec, join: _Join, ws: ClientConnection, channel: str) -> None:
        try:
            async for raw in ws:
                self.activity += 1
                try:
                    message = decode(raw)
                except FrameError:
                    continue
                if isinstance(message, KeepAliveReq):
                    if self.answer_keep_alives:
                        await self._send(ws, KeepAliveResp.answering(message))
                    continue
                kind = _MEDIA_MESSAGES.get(int(message.msg_type))
                if kind is not None:
                    self.frames[(join.stream_id, kind)] += 1
                    continue
                await self._on_message(app, join, message, channel)
        except ConnectionClosed:
            pass
        finally:
            self.activity += 1

    async def _on_message(self, app: sc.AppSpec, join: _Join, message: Any, channel: str) -> None:
        if isinstance(message, SignalingHandshakeResp):
            self.handshakes[int(message.status_code)] += 1
            if message.status_code != 0 or join.signaling is None:
                return
            urls = message.media_server.server_urls if message.media_server else {}
            join.media_urls = dict(urls) if isinstance(urls, dict) else {}
            await self._send(
                join.signaling,
                EventSubscription(
                    events=tuple(
                        Subscription(event_type=t, subscribe=True)
                        for t in (
                            EventType.ACTIVE_SPEAKER_CHANGE,
                            EventType.PARTICIPANT_JOIN,
                            EventType.PARTICIPANT_LEAVE,
                        )
                    )
                ),
            )
            for kind in self.spec.media:
                self._spawn(self._open_media(app, join, kind))
        elif isinstance(message, DataHandshakeResp):
            if message.status_code == 0 and join.signaling is not None:
                join.shaken.add(channel)
                if not join.ready_sent and join.shaken >= set(self.spec.media):
                    join.ready_sent = True
                    await self._send(join.signaling, ClientReadyAck(rtms_stream_id=join.stream_id))
        elif isinstance(message, SessionStateUpdate):
            self.session_states.append(int(message.state))
        elif isinstance(message, StreamStateUpdate):
            self.stream_states.append(int(message.state))
            if message.state == StreamState.TERMINATED:
                join.closed = True
                await self._close_sockets(join)
        elif isinstance(message, EventUpdate):
            event = message.event
            if event.event_type == EventType.MEDIA_CONNECTION_INTERRUPTED and self.spec.reconnect:
                # The event and the socket's end come on different sockets, in either order.
                if join.lost_media:
                    self._reopen_media(app, join)
                else:
                    join.media_interrupted = True

    async def _close_sockets(self, join: _Join) -> None:
        sockets = [join.signaling, *join.media.values()]
        join.signaling = None
        join.media.clear()
        join.lost_media.clear()
        join.shaken.clear()
        join.ready_sent = False
        join.media_interrupted = False
        for ws in sockets:
            if ws is not None:
                await ws.close()

    async def _close_join(self, join: _Join) -> None:
        join.closed = True
        await self._close_sockets(join)

    # -- what it saw ------------------------------------------------------------------------

    def frames_for(self, stream_id: str | None = None) -> int:
        return sum(n for (sid, _), n in self.frames.items() if stream_id is None or sid == stream_id)


def _params(media: MediaType) -> MediaParams:
    if media is MediaType.AUDIO:
        # 100 ms frames: a fifth of the messages of the SDK's 20 ms, the same audio.
        return MediaParams(
            audio=AudioParams(content_type=2, sample_rate=1, channel=1, codec=1, data_opt=1, send_rate=100)
        )
    if media is MediaType.TRANSCRIPT:
        return MediaParams(transcript=TranscriptParams(content_type=5))
    return MediaParams()
