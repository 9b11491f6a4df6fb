"""Simulator configuration: immutable, keyword-only, with embedded defaults.

Every behaviour where Zoom's real behaviour is unconfirmed (docs/protocol.md §10) is a field
here rather than a guess baked into code.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from connector.protocol import MediaType, StatusTable

__all__ = ["App", "FrameKind", "SimulatorConfig"]


class FrameKind(enum.Enum):
    """How the simulator sends JSON (§10 item 6: Zoom's choice is unconfirmed)."""

    TEXT = "text"
    BINARY = "binary"


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
    """

    host: str = "127.0.0.1"
    port: int = 0
    tls_port: int | None = 0
    public_host: str = "127.0.0.1"
    state_dir: Path | None = None
    app: App = field(default_factory=App)
    status_table: StatusTable = StatusTable.CURRENT
    frame_kind: FrameKind = FrameKind.TEXT
    keep_alive_interval: float = 10.0
    keep_alive_misses: int = 3
    signaling_reconnect_window: float = 60.0
    media_reconnect_window: float = 65.0
    connect_timeout: float = 60.0
    webhook_timeout: float = 3.0
    max_frame_bytes: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.keep_alive_interval <= 0:
            raise ValueError("keep_alive_interval must be positive")
        if self.keep_alive_misses < 1:
            raise ValueError("keep_alive_misses must be at least 1")
