"""The connector's configuration: one immutable object, built from keywords or the environment.

Environment variables read by :meth:`ConnectorConfig.from_env` (the same names as Zoom's
official SDK where one exists, docs/protocol.md §6.5; also listed in docs/configuration.md):

====================== ================= ======================================================
Variable               Option            Meaning
====================== ================= ======================================================
ZM_RTMS_CLIENT         client_id         the app's Client ID (handshake signature, §2)
ZM_RTMS_SECRET         client_secret     the app's Client Secret (handshake signature, §2)
ZM_RTMS_WEBHOOK_SECRET webhook_secret    the app's webhook Secret Token (§7.2, §7.3)
ZM_RTMS_PORT           port              TCP port of the webhook receiver (default 8080; 0 = any)
ZM_RTMS_PATH           path              URL path of the webhook receiver (default ``/``)
ZM_RTMS_CA             ca_file           CA bundle (PEM) used to verify ``wss://`` servers
ZM_RTMS_OUTPUT         output_dir        directory for per-stream output (default rtms-output)
====================== ================= ======================================================

Keyword overrides win over the environment; an override of ``None`` means "not given".
Every problem is a :class:`~connector.errors.ConfigError` with a one-line message.
"""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from msgspec import UnsetType

from .errors import ConfigError
from .protocol import (
    AudioChannel,
    AudioParams,
    Codec,
    ContentType,
    DataOption,
    MediaType,
    SampleRate,
    TranscriptParams,
)

__all__ = ["DEFAULT_AUDIO", "DEFAULT_TRANSCRIPT", "ENVIRONMENT", "SUPPORTED_MEDIA", "ConnectorConfig"]

DEFAULT_AUDIO = AudioParams(
    content_type=int(ContentType.RAW_AUDIO),
    codec=int(Codec.L16),
    sample_rate=int(SampleRate.SR_16K),
    channel=int(AudioChannel.MONO),
    data_opt=int(DataOption.AUDIO_MIXED_STREAM),
    send_rate=20,
)
"""L16, 16 kHz, mono, mixed stream, 20 ms: the WebSocket defaults of §4.3."""

DEFAULT_TRANSCRIPT = TranscriptParams(content_type=int(ContentType.TEXT))

SUPPORTED_MEDIA = (MediaType.AUDIO, MediaType.TRANSCRIPT)
"""The media types this connector has sinks for (audio → WAV, transcript → JSONL)."""

ENVIRONMENT: dict[str, str] = {
    "ZM_RTMS_CLIENT": "client_id",
    "ZM_RTMS_SECRET": "client_secret",
    "ZM_RTMS_WEBHOOK_SECRET": "webhook_secret",
    "ZM_RTMS_PORT": "port",
    "ZM_RTMS_PATH": "path",
    "ZM_RTMS_CA": "ca_file",
    "ZM_RTMS_OUTPUT": "output_dir",
}
"""Environment variable → option name, for :meth:`ConnectorConfig.from_env`."""

_OPTION_SOURCE = {option: variable for variable, option in ENVIRONMENT.items()}


@dataclass(frozen=True, kw_only=True)
class ConnectorConfig:
    """Everything the connector needs; validated on construction (raises :class:`ConfigError`).

    Secrets are excluded from ``repr`` so that logging a config never leaks them.
    """

    client_id: str
    client_secret: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 8080
    path: str = "/"
    output_dir: Path = Path("rtms-output")
    ca_file: Path | None = None
    media_types: tuple[MediaType, ...] = (MediaType.AUDIO, MediaType.TRANSCRIPT)
    audio: AudioParams = DEFAULT_AUDIO
    transcript: TranscriptParams = DEFAULT_TRANSCRIPT
    connect_timeout: float = 10.0
    join_timeout: float = 10.0
    close_timeout: float = 5.0
    replay_window: float = 300.0
    max_message_size: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("client_id", "client_secret", "webhook_secret"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise _error(name, "is required")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise _error("port", f"must be an integer from 0 to 65535, got {self.port!r}")
        if not isinstance(self.path, str) or not self.path.startswith("/"):
            raise _error("path", f"must start with '/', got {self.path!r}")
        # Accept str for paths (environment, CLI) but store Path: the type is part of the contract.
        object.__setattr__(self, "output_dir", Path(self.output_dir))
        if self.ca_file is not None:
            ca_file = Path(self.ca_file)
            if not ca_file.is_file():
                raise _error("ca_file", f"CA file {str(ca_file)!r} does not exist")
            object.__setattr__(self, "ca_file", ca_file)
        self._check_media()
        for name in ("connect_timeout", "join_timeout", "close_timeout", "replay_window"):
            if not getattr(self, name) > 0:
                raise _error(name, f"must be a positive number of seconds, got {getattr(self, name)!r}")

    def _check_media(self) -> None:
        media = tuple(MediaType(m) for m in self.media_types)
        if not media or len(set(media)) != len(media):
            raise _error("media_types", f"must list each wanted media type once, got {self.media_types!r}")
        unsupported = [m for m in media if m not in SUPPORTED_MEDIA]
        if unsupported:
            names = ", ".join(m.key for m in unsupported)
            raise _error("media_types", f"{names}: no sink for this media type yet (audio, transcript)")
        object.__setattr__(self, "media_types", media)
        # The WAV sink writes 16-bit PCM of one mixed stream (docs/protocol.md §4.3, §5.7); an
        # absent (UNSET) field means Zoom's WebSocket default, which is exactly that.
        audio = self.audio
        if _given(audio.codec, Codec.L16) != Codec.L16 or (
            _given(audio.content_type, ContentType.RAW_AUDIO) != ContentType.RAW_AUDIO
        ):
            raise _error("audio", "only RAW_AUDIO with codec L16 can be written to a WAV file")
        if _given(audio.data_opt, DataOption.AUDIO_MIXED_STREAM) != DataOption.AUDIO_MIXED_STREAM:
            raise _error("audio", "only AUDIO_MIXED_STREAM (data_opt 1) is supported")
        if _given(audio.sample_rate, SampleRate.SR_16K) not in set(SampleRate):
            raise _error("audio", f"sample_rate must be one of {[int(r) for r in SampleRate]}")
        if _given(audio.channel, AudioChannel.MONO) not in set(AudioChannel):
            raise _error("audio", "channel must be 1 (mono) or 2 (stereo)")

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> ConnectorConfig:
        """Build a config from ``environ`` (see the module table), then apply ``overrides``.

        Empty variables count as unset; overrides equal to ``None`` are ignored.
        """
        options: dict[str, Any] = {}
        for variable, option in ENVIRONMENT.items():
            value = environ.get(variable, "")
            if value:
                options[option] = value
        if "port" in options:
            try:
                options["port"] = int(options["port"])
            except ValueError:
                raise ConfigError(
                    f"ZM_RTMS_PORT must be an integer, got {options['port']!r}", option="ZM_RTMS_PORT"
                ) from None
        options.update({k: v for k, v in overrides.items() if v is not None})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(f"unknown option(s): {', '.join(unknown)}")
        for required in ("client_id", "client_secret", "webhook_secret"):
            if not options.get(required):
                raise _error(required, "is required")
        return cls(**options)

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context for ``wss://`` URLs: ``ca_file`` when set, else the system store."""
        cafile = str(self.ca_file) if self.ca_file is not None else None
        try:
            return ssl.create_default_context(cafile=cafile)
        except (OSError, ssl.SSLError) as exc:
            raise _error("ca_file", f"cannot load CA file {cafile!r}: {exc}") from None


def _given(value: int | UnsetType, default: int) -> int:
    """``value``, or ``default`` when the field is absent on the wire."""
    return default if isinstance(value, UnsetType) else value


def _error(option: str, problem: str) -> ConfigError:
    """A :class:`ConfigError` naming the environment variable when the option has one."""
    source = _OPTION_SOURCE.get(option)
    label = f"{option} ({source})" if source else option
    return ConfigError(f"{label} {problem}", option=source or option)
