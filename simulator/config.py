"""Simulator configuration: immutable, keyword-only, with embedded defaults.

Every behaviour where Zoom's real behaviour is unconfirmed (docs/protocol.md §10) is a field
here rather than a guess baked into code: the status table, the frame kind, what happens to a
second connection for a stream, what a wrong signature does, and which stop reason ends a
stream whose lost connection never comes back.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from connector.protocol import MediaType, StatusTable, StopReason

__all__ = [
    "LOST_CONNECTION_STOP_REASONS",
    "App",
    "AuthFailure",
    "DuplicatePolicy",
    "FrameKind",
    "Loss",
    "PeerKind",
    "SimulatorConfig",
]


class FrameKind(enum.Enum):
    """How the simulator sends JSON (§10 item 6: Zoom's choice is unconfirmed)."""

    TEXT = "text"
    BINARY = "binary"


class DuplicatePolicy(enum.Enum):
    """What a second signaling (or same-type media) connection for a live stream gets (§10 item 1).

    ``REJECT``: the handshake is answered DUPLICATE_SIGNAL_REQUEST / DUPLICATE_MEDIA_DATA_CONNECTION
    and closed, as Zoom's status codes imply. ``REPLACE``: the newest connection wins, as Zoom's
    skill docs claim ("connecting twice kicks out the first"): the older socket (and, for
    signaling, its media sockets) is closed with a close frame; the stream goes on uninterrupted
    and no webhook is sent.
    """

    REJECT = "reject"
    REPLACE = "replace"


class Breakout(enum.Enum):
    """What happens to a stream when its app owner goes to a breakout room (scenarios doc §1 row 12
    says it stops, §2 that it may resume: unconfirmed)."""

    STOP = "stop"
    PAUSE = "pause"


class AuthFailure(enum.Enum):
    """What a handshake with a wrong signature gets (§10 item 2).

    ``REJECT``: a handshake response INVALID_SIGNATURE, then a close frame. ``STOP``: field
    report F1 — the socket is closed without a handshake response and the stream ends with
    stop reason 18 (AUTHENTICATION_FAILURE) in ``*.rtms_stopped``.
    """

    REJECT = "reject"
    STOP = "stop"


class PeerKind(enum.Enum):
    """Which of a client's sockets: the signaling socket or a media socket."""

    SIGNALING = "signaling"
    MEDIA = "media"


class Loss(enum.Enum):
    """How a connection was lost; with :class:`PeerKind` it decides the eventual stop reason."""

    CLIENT_CLOSED = "client_closed"  # the client sent a close frame
    CLIENT_DROPPED = "client_dropped"  # the client's TCP went away without a close frame
    ZOOM_FAULT = "zoom_fault"  # Zoom's side lost it (a fault the scenario injects)
    KEEP_ALIVE = "keep_alive"  # three keep-alive requests unanswered (§4.11)
    FAILOVER = "failover"  # Zoom's RTMS server failed; the stream moved to another server


LOST_CONNECTION_STOP_REASONS: Mapping[tuple[PeerKind, Loss], StopReason] = MappingProxyType(
    {
        # Only the keep-alive row is documented (§4.11). The others follow the names of the
        # stop reasons (§5.3) and are unconfirmed: which reason Zoom really sends when a
        # reconnection window expires is not documented.
        (PeerKind.SIGNALING, Loss.CLIENT_CLOSED): StopReason.AWAIT_RECONNECTION_TIMEOUT,
        (PeerKind.SIGNALING, Loss.CLIENT_DROPPED): StopReason.SIGNAL_CONNECTION_CLOSED_ABNORMALLY,
        (PeerKind.SIGNALING, Loss.ZOOM_FAULT): StopReason.SIGNAL_CONNECTION_INTERRUPTED,
        (PeerKind.SIGNALING, Loss.KEEP_ALIVE): StopReason.KEEP_ALIVE_TIMEOUT,
        (PeerKind.SIGNALING, Loss.FAILOVER): StopReason.AWAIT_RECONNECTION_TIMEOUT,
        (PeerKind.MEDIA, Loss.CLIENT_CLOSED): StopReason.AWAIT_RECONNECTION_TIMEOUT,
        (PeerKind.MEDIA, Loss.CLIENT_DROPPED): StopReason.DATA_CONNECTION_CLOSED_ABNORMALLY,
        (PeerKind.MEDIA, Loss.ZOOM_FAULT): StopReason.DATA_CONNECTION_INTERRUPTED,
        (PeerKind.MEDIA, Loss.KEEP_ALIVE): StopReason.KEEP_ALIVE_TIMEOUT,
        (PeerKind.MEDIA, Loss.FAILOVER): StopReason.AWAIT_RECONNECTION_TIMEOUT,
    }
)
"""The stop reason of a stream whose lost connection is not back when its window expires."""


@dataclass(frozen=True, kw_only=True)
class App:
    """A Zoom app allowed to join streams: its credentials and the media it has scopes for."""

    client_id: str = "rtms-sim-client"
    client_secret: str = "rtms-sim-secret"
    webhook_secret: str = "rtms-sim-webhook-secret"
    media_types: MediaType = (
        MediaType.AUDIO | MediaType.VIDEO | MediaType.DESKSHARE | MediaType.TRANSCRIPT | MediaType.CHAT
    )


@dataclass(frozen=True, kw_only=True)
class SimulatorConfig:
    """Where the simulator listens and how it behaves.

    ``port``/``tls_port`` 0 pick free ports. ``public_host`` is the host written into
    ``server_urls`` for ``ws://``; ``wss://`` URLs always use ``localhost`` because the
    official SDK checks the certificate's DNS name (§1.1).

    ``seed`` makes every generated id (stream ids, session ids, meeting uuids) reproducible;
    ``None`` draws them from the system's random source. ``webhook_retries`` are the gaps
    between delivery attempts, each measured from the start of the attempt before (§7.4).
    """

    host: str = "127.0.0.1"
    port: int = 0
    tls_port: int | None = 0
    public_host: str = "127.0.0.1"
    state_dir: Path | None = None
    scenario_scheme: str = "ws"  # scheme of server_urls for scenario streams: ws, or wss (TLS port)
    app: App = field(default_factory=App)
    seed: int | None = None
    status_table: StatusTable = StatusTable.CURRENT
    frame_kind: FrameKind = FrameKind.TEXT
    duplicate_connection: DuplicatePolicy = DuplicatePolicy.REJECT
    auth_failure: AuthFailure = AuthFailure.REJECT
    lost_connection_stop_reasons: Mapping[tuple[PeerKind, Loss], StopReason] = field(
        default_factory=lambda: LOST_CONNECTION_STOP_REASONS, hash=False
    )
    keep_alive_interval: float = 10.0
    keep_alive_misses: int = 3
    signaling_reconnect_window: float = 60.0
    media_reconnect_window: float = 65.0
    connect_timeout: float = 60.0
    webhook_timeout: float = 3.0
    webhook_retries: tuple[float, ...] = (300.0, 1200.0, 3600.0)
    breakout: Breakout = Breakout.STOP
    rest_rate_limit: int = 30  # REST requests per scenario second per account
    max_frame_bytes: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.scenario_scheme not in ("ws", "wss"):
            raise ValueError(f"scenario_scheme must be ws or wss, not {self.scenario_scheme!r}")
        if self.scenario_scheme == "wss" and self.tls_port is None:
            raise ValueError("scenario_scheme wss needs a TLS port")
        if self.keep_alive_interval <= 0:
            raise ValueError("keep_alive_interval must be positive")
        if self.keep_alive_misses < 1:
            raise ValueError("keep_alive_misses must be at least 1")
        if self.webhook_timeout <= 0:
            raise ValueError("webhook_timeout must be positive")
        if self.rest_rate_limit < 1:
            raise ValueError("rest_rate_limit must be at least 1 request per second")
        if any(not gap >= 0 for gap in self.webhook_retries):  # also rejects NaN
            raise ValueError("webhook_retries must be non-negative numbers of seconds")
        missing = {(k, loss) for k in PeerKind for loss in Loss} - set(self.lost_connection_stop_reasons)
        if missing:
            named = sorted(f"{kind.value}/{loss.value}" for kind, loss in missing)
            raise ValueError(f"lost_connection_stop_reasons lacks {', '.join(named)}")

    @classmethod
    def from_switches(cls, switches: Any, **overrides: Any) -> SimulatorConfig:
        """The configuration a scenario file's ``switches`` ask for (``simulator.scenario.Switches``).

        Every switch named like a field here is taken, enum switches by their values
        (``"replace"`` → :attr:`DuplicatePolicy.REPLACE`). ``overrides`` (e.g. ``seed``, ``tls_port``) win.
        """
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in overrides or not hasattr(switches, f.name):
                continue
            value = getattr(switches, f.name)
            enum_type = _ENUM_SWITCHES.get(f.name)
            if enum_type is not None:
                value = enum_type(value)
            elif isinstance(value, list):
                value = tuple(value)
            values[f.name] = value
        return cls(**values, **overrides)


_ENUM_SWITCHES: dict[str, type[enum.Enum]] = {
    "status_table": StatusTable,
    "frame_kind": FrameKind,
    "duplicate_connection": DuplicatePolicy,
    "auth_failure": AuthFailure,
    "breakout": Breakout,
}
