"""The simulator as one object: in-process for tests, behind the CLI as a server.

``Simulator`` binds one plain HTTP/WebSocket port and (by default) one TLS port, owns the
engine, journal, clock and webhook sender, and offers the same operations the control API
exposes.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from connector.protocol import Product, RtmsEventKind, StopReason, StreamState

from .app import SIGNALING_PATH, add_socket_routes
from .clock import Clock, RealClock
from .config import Breakout, SimulatorConfig
from .control import add_control_routes
from .engine import Engine
from .journal import Journal
from .oauth import TokenStore
from .rest import add_rest_routes
from .scenario import Scenario
from .speech import MeetingScript, generate_script
from .stream import SimStream
from .tls import TestAuthority, create_authority
from .webhooks import WebhookSender, rtms_payload
from .world import World

__all__ = ["Simulator"]

log = logging.getLogger("simulator.server")


class Simulator:
    """A fake Zoom: webhooks out, signaling and media WebSockets in, a control API."""

    def __init__(self, config: SimulatorConfig | None = None, *, clock: Clock | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.clock = clock or RealClock()
        self.journal = Journal()
        self.webhooks = WebhookSender(
            self.clock, self.journal, timeout=self.config.webhook_timeout, retries=self.config.webhook_retries
        )
        self.engine = Engine(self.config, self.clock, self.journal, self._on_rtms_event)
        self.tokens = TokenStore(self.clock, self.engine.rng)
        self.world = self._new_world()
        self.authority: TestAuthority | None = None
        self._ended: dict[str, asyncio.Future[int]] = {}
        self._runner: web.AppRunner | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.port = 0
        self.tls_port: int | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        add_socket_routes(app, self.engine)
        add_control_routes(app, self)
        add_rest_routes(
            app,
            backend=self.world,
            tokens=self.tokens,
            clock=self.clock,
            rate_limit=self.config.rest_rate_limit,
        )
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        self.port = _bound_port(site)
        if self.config.tls_port is not None:
            state_dir = self.config.state_dir
            if state_dir is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="rtms-sim-")
                state_dir = Path(self._tmp.name)
            self.authority = create_authority(state_dir / "tls")
            tls_site = web.TCPSite(
                self._runner,
                self.config.host,
                self.config.tls_port,
                ssl_context=self.authority.server_context(),
            )
            await tls_site.start()
            self.tls_port = _bound_port(tls_site)
        await self.webhooks.start()
        log.info("simulator listening on %s", self.http_url)

    async def close(self) -> None:
        for stream in self.engine.streams.values():
            if stream.live:
                self.engine.drop_connections(stream)
            stream.cancel_timers()
        await self.webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._tmp is not None:
            self._tmp.cleanup()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- addresses -------------------------------------------------------------------------

    @property
    def http_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def ca_file(self) -> Path | None:
        return None if self.authority is None else self.authority.ca_file

    def signaling_url(self, scheme: str = "ws") -> str:
        if scheme == "ws":
            return f"ws://{self.config.public_host}:{self.port}{SIGNALING_PATH}"
        if scheme == "wss":
            if self.tls_port is None:
                raise ValueError("this simulator has no TLS port (tls_port=None)")
            return f"wss://localhost:{self.tls_port}{SIGNALING_PATH}"
        raise ValueError(f"scheme must be ws or wss, not {scheme!r}")

    # -- streams ---------------------------------------------------------------------------

    def start_stream(
        self,
        *,
        product: Product = Product.MEETING,
        webhook_url: str | None = None,
        seed: int = 0,
        participants: int = 3,
        duration: float = 20.0,
        scheme: str = "ws",
        instance_id: str | None = None,
        script: MeetingScript | None = None,
    ) -> SimStream:
        """Start a meeting's stream: create it and send ``*.rtms_started`` to ``webhook_url``.

        Its script is generated from ``seed``, ``participants`` and ``duration`` unless given
        (``script``, as the control API passes one it generated off the event loop)."""
        if script is None:
            script = generate_script(seed=seed, participants=participants, duration=duration)
        stream = self.engine.create_stream(
            product=product,
            script=script,
            server_urls=self.signaling_url(scheme),
            webhook_url=webhook_url,
            instance_id=instance_id,
        )
        if product is Product.MEETING:  # since Apr/May 2026 (§7.1); a meeting number of 11 digits
            number = 10_000_000_000 + self.engine.rng.randrange(90_000_000_000)
            stream.started_fields = {"meeting_id": number, "is_original_host": True}
        self._ended[stream.stream_id] = asyncio.get_running_loop().create_future()
        self.webhooks.send(stream, RtmsEventKind.STARTED, {})
        return stream

    def started_payload(self, stream: SimStream) -> dict[str, Any]:
        """The ``payload`` of the stream's ``rtms_started`` webhook (what a client joins with)."""
        return rtms_payload(stream, RtmsEventKind.STARTED)

    def stop_stream(self, stream: SimStream, reason: StopReason = StopReason.MEETING_ENDED) -> None:
        self.engine.terminate(stream, reason)

    async def wait_ended(self, stream: SimStream) -> int:
        """Wait until ``stream`` ends; returns its stop reason."""
        return await asyncio.shield(self._ended[stream.stream_id])

    # -- scenarios -------------------------------------------------------------------------

    def _new_world(self) -> World:
        return World(
            engine=self.engine,
            webhooks=self.webhooks,
            clock=self.clock,
            journal=self.journal,
            server_urls=lambda: self.signaling_url(self.config.scenario_scheme),
            breakout_pauses=self.config.breakout is Breakout.PAUSE,
        )

    def load_scenario(self, scenario: Scenario, *, webhook_url: str | None = None) -> World:
        """Load ``scenario``'s world (replacing the one loaded before); its timeline is the caller's.

        ``webhook_url`` sends every app's webhooks there; ``{app}`` in it becomes the app id.
        """
        if self.world.scenario is not None:
            self.world.reset()
        self.world.load(scenario, webhook_url=webhook_url)
        return self.world

    def _on_rtms_event(self, stream: SimStream, kind: RtmsEventKind, extra: dict[str, Any]) -> None:
        self.webhooks.send(stream, kind, extra)
        self.world.on_stream_event(stream, kind, extra)
        if kind is RtmsEventKind.STOPPED:
            future = self._ended.get(stream.stream_id)
            if future is not None and not future.done():
                future.set_result(int(extra.get("stop_reason", 0)))

    def describe(self, stream: SimStream) -> dict[str, Any]:
        return {
            "rtms_stream_id": stream.stream_id,
            "product": stream.product.value,
            stream.product.id_key: stream.instance_id,
            "state": StreamState(stream.state).name,
            "stop_reason": stream.stop_reason,
            "server_urls": stream.server_urls,
            "webhook_url": stream.webhook_url,
            "participants": [
                {"user_id": p.user_id, "user_name": p.user_name} for p in stream.script.participants
            ],
            "connections": [p.describe() for p in stream.peers()],
            "payload": self.started_payload(stream),
        }


def _bound_port(site: web.TCPSite) -> int:
    server = site._server
    assert isinstance(server, asyncio.base_events.Server)
    port: int = server.sockets[0].getsockname()[1]
    return port
