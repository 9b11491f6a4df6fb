"""What a contract needs from "Zoom", whichever Zoom it is.

A :class:`Target` is the simulator in this process, the simulator as a separate server
process, or real Zoom (opt-in, :mod:`contracts.targets.live`). Every contract is written
against this interface only; the probes (:mod:`contracts.probe`) talk to the URLs the target
hands out, so the same test judges each target by the same wire behaviour.

Not every target can do everything: real Zoom cannot be told to drop a socket or to move
its clock. A target states its :class:`Capability` set; a contract that needs one the
target lacks is reported *not applicable* (``pytest.mark.needs``), never passed.
"""

from __future__ import annotations

import enum
import ssl
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import wire
from .inbox import Delivery, Inbox
from .probe import Join, Joined, Probe
from .recording import Recorder

__all__ = ["Capability", "Credentials", "NotApplicable", "RestAccess", "Stream", "Target"]


WEBHOOK_POLL = 0.5  # seconds of the target's time between looks at the inbox
INBOX_GLANCE = 0.05  # real seconds a look waits for a POST already on its way


class Capability(enum.Enum):
    """Things a target may be able to do on the suite's request."""

    STOP = "stop"  # end a stream with a chosen stop reason
    PAUSE = "pause"  # pause and resume a stream
    FAULTS = "faults"  # lose a signaling or media connection on Zoom's side, fail over
    CLOCK = "clock"  # target time moves only when the suite moves it
    JOURNAL = "journal"  # the target reports what it received, message by message
    SCENARIOS = "scenarios"  # load scenario files of the catalogue
    PRODUCTS = "products"  # start webinar, Video SDK and Contact Center streams on demand
    URL_VALIDATION = "url_validation"  # send endpoint.url_validation on demand
    REST = "rest"  # a REST API and OAuth server with credentials to call it


class NotApplicable(Exception):
    """The contract cannot run against this target (reported as not applicable)."""


@dataclass(frozen=True)
class Credentials:
    """The RTMS app's credentials: handshake signatures and the webhook secret token."""

    client_id: str
    client_secret: str
    webhook_secret: str


@dataclass(frozen=True)
class RestAccess:
    """Where Zoom's REST API and OAuth server are, and a Server-to-Server OAuth app to call them."""

    api_url: str
    oauth_url: str
    account_id: str
    client_id: str
    client_secret: str
    meeting_id: str | None = None  # a meeting whose RTMS the contracts may start and stop
    participant_user_id: str | None = None  # whom RTMS is started for in that meeting (its host)


@dataclass
class Stream:
    """A stream the target started: its ``*.rtms_started`` delivery and what the target calls it."""

    started: Delivery
    handle: str  # the target's own name for it (the simulator's stream id; a meeting id on Zoom)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def event(self) -> str:
        return self.started.event

    @property
    def payload(self) -> dict[str, Any]:
        return self.started.payload

    @property
    def stream_id(self) -> str:
        return str(self.payload["rtms_stream_id"])

    @property
    def id_key(self) -> str:
        return next(k for k in wire.ID_KEYS if k in self.payload)

    @property
    def instance_id(self) -> str:
        return str(self.payload[self.id_key])


class Target(ABC):
    """One Zoom to check. Subclasses fill in what their Zoom can do."""

    name: str
    capabilities: frozenset[Capability]
    credentials: Credentials
    inbox: Inbox
    rest: RestAccess | None = None
    ssl_context: ssl.SSLContext | None = None
    ca_file: Path | None = None  # the CA behind ssl_context, for clients that take a file
    recorder: Recorder | None = None
    webhook_timeout: float = 10.0

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def require(self, capability: Capability) -> None:
        if capability not in self.capabilities:
            raise NotApplicable(f"{self.name} cannot {capability.value}")

    # -- streams ---------------------------------------------------------------------------

    @abstractmethod
    async def start_stream(self, *, product: str = "meeting", **options: Any) -> Stream:
        """Make the target start a stream and return once its ``*.rtms_started`` arrived."""

    @abstractmethod
    async def end_stream(self, stream: Stream) -> None:
        """End ``stream`` however this target can (cleanup; no stop reason is promised)."""

    async def stop_stream(self, stream: Stream, reason: int) -> None:
        """End ``stream`` with stop reason ``reason`` (:attr:`Capability.STOP`)."""
        self.require(Capability.STOP)
        raise NotImplementedError

    async def pause(self, stream: Stream) -> None:
        self.require(Capability.PAUSE)
        raise NotImplementedError

    async def resume(self, stream: Stream) -> None:
        self.require(Capability.PAUSE)
        raise NotImplementedError

    async def drop(self, stream: Stream, socket: str, *, close_frame: bool) -> None:
        """Zoom loses ``socket`` (``"signaling"`` or a media key) (:attr:`Capability.FAULTS`)."""
        self.require(Capability.FAULTS)
        raise NotImplementedError

    async def failover(self, stream: Stream) -> None:
        self.require(Capability.FAULTS)
        raise NotImplementedError

    async def load_scenario(self, text: str, *, webhook_url: str) -> dict[str, Any]:
        """Load a scenario file's world (YAML or JSON text) (:attr:`Capability.SCENARIOS`)."""
        self.require(Capability.SCENARIOS)
        raise NotImplementedError

    async def validate_url(self, url: str) -> dict[str, Any]:
        """Have the target check ``url`` as Zoom's Marketplace does (:attr:`Capability.URL_VALIDATION`)."""
        self.require(Capability.URL_VALIDATION)
        raise NotImplementedError

    # -- time and what the target saw --------------------------------------------------------

    @abstractmethod
    async def pass_time(self, seconds: float, *, step: float = 1.0) -> None:
        """Let ``seconds`` of the target's time pass (a manual clock moved in ``step`` s steps;
        real Zoom: real time)."""

    async def await_webhook(
        self, event: str, *, count: int = 1, stream_id: str | None = None, hint: str = ""
    ) -> Delivery:
        """The ``count``-th ``event`` delivery (of ``stream_id``) in the inbox, letting up to
        :attr:`webhook_timeout` seconds of the target's time pass while it is awaited."""
        waited = 0.0
        while True:
            try:
                return await self.inbox.wait_for(
                    event, count=count, stream_id=stream_id, timeout=INBOX_GLANCE, hint=hint
                )
            except AssertionError:
                if waited >= self.webhook_timeout:
                    raise
            await self.pass_time(WEBHOOK_POLL, step=WEBHOOK_POLL)
            waited += WEBHOOK_POLL

    async def journal(self, **filters: str) -> list[dict[str, Any]]:
        """What the target recorded, oldest first (:attr:`Capability.JOURNAL`)."""
        self.require(Capability.JOURNAL)
        raise NotImplementedError

    async def received(self, stream: Stream, kind: str, *, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until the target has read ``count`` inbound ``kind`` messages of ``stream``.

        A client's frame is read by the target a moment after it is sent; before moving the
        target's clock a contract waits for it. Without a journal there is nothing to wait for."""
        return None

    async def now(self) -> float:
        """The target's time in seconds."""
        raise NotImplementedError

    # -- joining -----------------------------------------------------------------------------

    def join_for(self, stream: Stream, *, client_secret: str | None = None) -> Join:
        return Join.from_payload(
            stream.payload,
            client_id=self.credentials.client_id,
            client_secret=client_secret or self.credentials.client_secret,
            ssl_context=self.ssl_context,
            recorder=self.recorder,
        )

    async def joined(self, stream: Stream, media: Mapping[str, Any], **options: Any) -> Joined:
        """A full join of ``stream``; the target has read the client's last message when it returns."""
        last = "EVENT_SUBSCRIPTION" if options.get("events") else "CLIENT_READY_ACK"
        before = 0
        if self.can(Capability.JOURNAL):  # a rejoin: its message comes on top of the earlier ones
            before = len(await self.journal(stream_id=stream.stream_id, kind=last, direction="in"))
        joined = await Joined.connect(self.join_for(stream), media, **options)
        self.track(joined)
        if options.get("ready", True):
            await self.received(stream, last, count=before + 1)
        return joined

    # -- lifecycle ---------------------------------------------------------------------------

    def track(self, *clients: Joined | Probe) -> None:
        """Close these clients' sockets when the contract ends."""
        self.__dict__.setdefault("_clients", []).extend(clients)

    async def close_clients(self) -> None:
        for client in self.__dict__.pop("_clients", []):
            if isinstance(client, Joined) or not client.closed:
                await client.close()

    async def close(self) -> None:
        """Release what the target holds (streams, servers, sessions)."""
        return None
