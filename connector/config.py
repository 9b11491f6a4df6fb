"""The connector's configuration: one immutable object, built from keywords or the environment.

Every environment variable is listed in :data:`ENVIRONMENT` and documented in one place,
docs/configuration.md (a test keeps the two equal). Names follow Zoom's official SDK where one
exists (``ZM_RTMS_CLIENT``, ``ZM_RTMS_SECRET``, ``ZM_RTMS_PORT``, ``ZM_RTMS_PATH``,
``ZM_RTMS_CA``, ``ZM_RTMS_LOG_LEVEL``, ``ZM_RTMS_LOG_FORMAT``; docs/protocol.md §6.5), and the
SDK's values are accepted for the last two (``warn``, ``trace``; ``progressive``).

Keyword overrides win over the environment; an override of ``None`` means "not given".
Every problem is a :class:`~connector.errors.ConfigError` with a one-line message.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec

from .errors import ConfigError
from .loop import MAX_POLL_INTERVAL
from .protocol import (
    AudioChannel,
    AudioParams,
    ChatParams,
    Codec,
    ContentType,
    DataOption,
    DeskshareParams,
    MediaType,
    Resolution,
    SampleRate,
    TranscriptParams,
    VideoParams,
    given,
)

__all__ = [
    "DEFAULT_AUDIO",
    "DEFAULT_CHAT",
    "DEFAULT_DESKSHARE",
    "DEFAULT_TRANSCRIPT",
    "DEFAULT_VIDEO",
    "ENVIRONMENT",
    "LOG_FORMATS",
    "LOG_LEVELS",
    "SINK_NAMES",
    "SUPPORTED_MEDIA",
    "ConnectorConfig",
]

DEFAULT_AUDIO = AudioParams(
    content_type=int(ContentType.RAW_AUDIO),
    codec=int(Codec.L16),
    sample_rate=int(SampleRate.SR_16K),
    channel=int(AudioChannel.MONO),
    data_opt=int(DataOption.AUDIO_MIXED_STREAM),
    send_rate=20,
)
"""L16, 16 kHz, mono, mixed stream, 20 ms: the WebSocket defaults of §4.3."""

DEFAULT_VIDEO = VideoParams(
    content_type=int(ContentType.RAW_VIDEO),
    codec=int(Codec.JPG),
    resolution=int(Resolution.HD),
    data_opt=int(DataOption.VIDEO_SINGLE_ACTIVE_STREAM),
    fps=5,
)
"""JPG, HD, 5 fps, the active speaker: Zoom's WebSocket default for video (§4.3)."""

DEFAULT_DESKSHARE = DeskshareParams(
    content_type=int(ContentType.RAW_VIDEO), codec=int(Codec.JPG), resolution=int(Resolution.FHD), fps=1
)
"""JPG, FHD, 1 fps: Zoom's WebSocket default for screen share (§4.3)."""

DEFAULT_TRANSCRIPT = TranscriptParams(content_type=int(ContentType.TEXT))
DEFAULT_CHAT = ChatParams(content_type=int(ContentType.TEXT))

SUPPORTED_MEDIA = MediaType.singles()
"""Every single media type has a sink (docs/sinks.md)."""

SINK_NAMES = ("files", "redis")
"""``files`` is always on; ``redis`` adds the Redis Streams sink (needs ``redis_url``)."""

LOG_LEVELS = {
    "trace": "DEBUG",
    "debug": "DEBUG",
    "info": "INFO",
    "warn": "WARNING",
    "warning": "WARNING",
    "error": "ERROR",
    "critical": "CRITICAL",
}
"""Accepted ``ZM_RTMS_LOG_LEVEL`` values (the official SDK's, and Python's) → logging level."""

LOG_FORMATS = {"text": "text", "progressive": "text", "json": "json"}
"""Accepted ``ZM_RTMS_LOG_FORMAT`` values (``progressive`` is the SDK's name for text)."""

ENVIRONMENT: dict[str, str] = {
    "ZM_RTMS_CLIENT": "client_id",
    "ZM_RTMS_SECRET": "client_secret",
    "ZM_RTMS_WEBHOOK_SECRET": "webhook_secret",
    "ZM_RTMS_HOST": "host",
    "ZM_RTMS_PORT": "port",
    "ZM_RTMS_PATH": "path",
    "ZM_RTMS_CA": "ca_file",
    "ZM_RTMS_OUTPUT": "output_dir",
    "ZM_RTMS_LOG_LEVEL": "log_level",
    "ZM_RTMS_LOG_FORMAT": "log_format",
    "ZM_RTMS_MEDIA": "media_types",
    "ZM_RTMS_AUDIO": "audio",
    "ZM_RTMS_VIDEO": "video",
    "ZM_RTMS_DESKSHARE": "deskshare",
    "ZM_RTMS_TRANSCRIPT": "transcript",
    "ZM_RTMS_VIDEO_USER": "video_user",
    "ZM_RTMS_SINKS": "sinks",
    "ZM_RTMS_QUEUE_SIZE": "queue_size",
    "ZM_RTMS_FLUSH_INTERVAL": "flush_interval",
    "ZM_RTMS_POLL_INTERVAL": "poll_interval",
    "ZM_RTMS_REDIS_URL": "redis_url",
    "ZM_RTMS_LEASE_TTL": "lease_ttl",
    "ZM_RTMS_REPLICA_ID": "replica_id",
    "ZM_RTMS_RECONNECT_ATTEMPTS": "reconnect_attempts",
    "ZM_RTMS_MANUAL_START": "manual_start",
    "ZM_RTMS_ACCOUNT_ID": "account_id",
    "ZM_RTMS_S2S_CLIENT": "s2s_client_id",
    "ZM_RTMS_S2S_SECRET": "s2s_client_secret",
    "ZM_RTMS_API_URL": "api_url",
    "ZM_RTMS_OAUTH_URL": "oauth_url",
}
"""Environment variable → option name, for :meth:`ConnectorConfig.from_env`."""

_OPTION_SOURCE = {option: variable for variable, option in ENVIRONMENT.items()}
_SECRETS = ("client_secret", "webhook_secret", "s2s_client_secret")


def _default_replica_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


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
    log_level: str = "INFO"
    log_format: str = "text"
    # media (§4.3)
    media_types: tuple[MediaType, ...] = (MediaType.AUDIO, MediaType.TRANSCRIPT)
    audio: AudioParams = DEFAULT_AUDIO
    video: VideoParams = DEFAULT_VIDEO
    deskshare: DeskshareParams = DEFAULT_DESKSHARE
    transcript: TranscriptParams = DEFAULT_TRANSCRIPT
    chat: ChatParams = DEFAULT_CHAT
    video_user: int | None = None
    # sinks and backpressure
    sinks: tuple[str, ...] = ("files",)
    queue_size: int = 4096
    flush_interval: float = 0.1
    # the event loop
    poll_interval: float = 0.002
    redis_stream_maxlen: int = 100_000
    # ownership across replicas
    redis_url: str | None = field(default=None, repr=False)
    redis_prefix: str = "rtms"
    lease_ttl: float = 15.0
    replica_id: str = field(default_factory=_default_replica_id)
    # reconnects (§9.2)
    reconnect_attempts: int = 6
    reconnect_deadline: float = 60.0
    keepalive_silence: float = 65.0
    # manual start over REST (§8)
    manual_start: bool = False
    account_id: str | None = None
    s2s_client_id: str | None = None
    s2s_client_secret: str | None = field(default=None, repr=False)
    api_url: str = "https://api.zoom.us"
    oauth_url: str = "https://zoom.us"
    # timeouts
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
        level = LOG_LEVELS.get(str(self.log_level).lower())
        if level is None:
            raise _error("log_level", f"must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}")
        object.__setattr__(self, "log_level", level)
        log_format = LOG_FORMATS.get(str(self.log_format).lower())
        if log_format is None:
            raise _error("log_format", f"must be one of {', '.join(LOG_FORMATS)}, got {self.log_format!r}")
        object.__setattr__(self, "log_format", log_format)
        self._check_media()
        self._check_sinks()
        for name in (
            "connect_timeout",
            "join_timeout",
            "close_timeout",
            "replay_window",
            "lease_ttl",
            "reconnect_deadline",
            "keepalive_silence",
        ):
            if not getattr(self, name) > 0:
                raise _error(name, f"must be a positive number of seconds, got {getattr(self, name)!r}")
        if not 0 <= self.flush_interval <= 10:
            raise _error("flush_interval", f"must be from 0 to 10 seconds, got {self.flush_interval!r}")
        if not 0 <= self.poll_interval <= MAX_POLL_INTERVAL:
            raise _error(
                "poll_interval",
                f"must be from 0 to {MAX_POLL_INTERVAL:g} seconds, got {self.poll_interval!r}",
            )
        for name in ("queue_size", "redis_stream_maxlen"):
            if not getattr(self, name) >= 1:
                raise _error(name, f"must be at least 1, got {getattr(self, name)!r}")
        if self.reconnect_attempts < 0:
            raise _error("reconnect_attempts", f"must be 0 or more, got {self.reconnect_attempts!r}")
        if not self.replica_id:
            raise _error("replica_id", "must not be empty")
        if self.manual_start:
            missing = [
                n for n in ("account_id", "s2s_client_id", "s2s_client_secret") if not getattr(self, n)
            ]
            if missing:
                names = ", ".join(_label(n) for n in missing)
                raise ConfigError(f"manual start (ZM_RTMS_MANUAL_START) needs {names}", option=missing[0])

    def _check_media(self) -> None:
        media = tuple(MediaType(m) for m in self.media_types)
        if not media or len(set(media)) != len(media):
            raise _error("media_types", f"must list each wanted media type once, got {self.media_types!r}")
        unsupported = [m for m in media if m not in SUPPORTED_MEDIA]
        if unsupported:
            raise _error("media_types", f"{unsupported!r}: not a single media type")
        object.__setattr__(self, "media_types", media)
        audio = self.audio
        if given(audio.data_opt, DataOption.AUDIO_MIXED_STREAM) not in (
            DataOption.AUDIO_MIXED_STREAM,
            DataOption.AUDIO_MULTI_STREAMS,
        ):
            raise _error("audio", "data_opt must be AUDIO_MIXED_STREAM (1) or AUDIO_MULTI_STREAMS (2)")
        if given(audio.sample_rate, SampleRate.SR_16K) not in set(SampleRate):
            raise _error("audio", f"sample_rate must be one of {[int(r) for r in SampleRate]}")
        if given(audio.channel, AudioChannel.MONO) not in set(AudioChannel):
            raise _error("audio", "channel must be 1 (mono) or 2 (stereo)")
        if given(audio.codec, Codec.L16) not in (Codec.L16, Codec.G711, Codec.G722, Codec.OPUS):
            raise _error("audio", "codec must be L16, G711, G722 or OPUS")
        for name, params in (("video", self.video), ("deskshare", self.deskshare)):
            if given(params.codec, Codec.JPG) not in (Codec.JPG, Codec.PNG, Codec.H264):
                raise _error(name, "codec must be JPG, PNG or H264")
            if given(params.fps, 1) not in range(1, 31):
                raise _error(name, "fps must be from 1 to 30")
        individual = given(self.video.data_opt, 0) == DataOption.VIDEO_SINGLE_INDIVIDUAL_STREAM
        if self.video_user is not None and not individual:
            # One participant's video needs data_opt 4 and a VIDEO_SUBSCRIPTION_REQ (§4.16).
            object.__setattr__(
                self,
                "video",
                VideoParams(
                    content_type=self.video.content_type,
                    codec=self.video.codec,
                    resolution=self.video.resolution,
                    data_opt=int(DataOption.VIDEO_SINGLE_INDIVIDUAL_STREAM),
                    fps=self.video.fps,
                ),
            )

    def _check_sinks(self) -> None:
        sinks = tuple(dict.fromkeys(("files", *self.sinks)))
        unknown = [s for s in sinks if s not in SINK_NAMES]
        if unknown:
            raise _error("sinks", f"unknown sink(s) {', '.join(unknown)}; known: {', '.join(SINK_NAMES)}")
        if "redis" in sinks and not self.redis_url:
            raise ConfigError(
                "the redis sink (ZM_RTMS_SINKS) needs ZM_RTMS_REDIS_URL", option="ZM_RTMS_SINKS"
            )
        object.__setattr__(self, "sinks", sinks)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for log redaction (the Redis URL may hold a password)."""
        values = [getattr(self, n) for n in _SECRETS]
        if self.redis_url:
            values.append(urlsplit(self.redis_url).password)
        return tuple(v for v in values if v)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> ConnectorConfig:
        """Build a config from ``environ`` (see :data:`ENVIRONMENT`), then apply ``overrides``.

        Empty variables count as unset; overrides equal to ``None`` are ignored.
        """
        options: dict[str, Any] = {}
        for variable, option in ENVIRONMENT.items():
            value = environ.get(variable, "")
            if value:
                options[option] = _PARSERS.get(option, _text)(variable, value)
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


# --- environment parsers ---------------------------------------------------------------------


def _text(variable: str, value: str) -> str:
    return value


def _int(variable: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{variable} must be an integer, got {value!r}", option=variable) from None


def _seconds(variable: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{variable} must be a number of seconds, got {value!r}", option=variable) from None


def _bool(variable: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{variable} must be true or false, got {value!r}", option=variable)


def _names(variable: str, value: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in value.split(",") if part.strip())


def _media(variable: str, value: str) -> tuple[MediaType, ...]:
    by_key = {m.key: m for m in MediaType.singles()}
    by_key["share"] = MediaType.DESKSHARE
    out = []
    for name in _names(variable, value):
        if name not in by_key:
            known = ", ".join(m.key for m in MediaType.singles())
            raise ConfigError(f"{variable}: unknown media type {name!r}; known: {known}", option=variable)
        out.append(by_key[name])
    return tuple(out)


_FIELD_ENUMS: dict[str, type[enum.IntEnum]] = {
    "content_type": ContentType,
    "codec": Codec,
    "sample_rate": SampleRate,
    "channel": AudioChannel,
    "data_opt": DataOption,
    "resolution": Resolution,
}


def _params(default: Any) -> Callable[[str, str], Any]:
    """A parser of ``key=value,key=value`` over ``default`` (an AudioParams, VideoParams …);
    values are numbers or Zoom's enum names (``codec=H264,fps=30,resolution=HD``)."""
    kind = type(default)

    def parse(variable: str, value: str) -> Any:
        fields: dict[str, Any] = {}
        allowed = set(kind.__struct_fields__)
        for part in filter(None, (p.strip() for p in value.split(","))):
            key, sep, raw = part.partition("=")
            key = key.strip().lower()
            if not sep or key not in allowed:
                raise ConfigError(
                    f"{variable}: expected key=value with keys {', '.join(sorted(allowed))}, got {part!r}",
                    option=variable,
                )
            raw = raw.strip()
            if key == "enable_lid":
                fields[key] = _bool(variable, raw)
                continue
            try:
                fields[key] = int(raw)
            except ValueError:
                names = _FIELD_ENUMS.get(key)
                member = names.__members__.get(raw.upper()) if names is not None else None
                if member is None:
                    raise ConfigError(f"{variable}: {key}={raw!r} is not valid", option=variable) from None
                fields[key] = int(member)
        return msgspec.structs.replace(default, **fields)

    return parse


_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "port": _int,
    "media_types": _media,
    "audio": _params(DEFAULT_AUDIO),
    "video": _params(DEFAULT_VIDEO),
    "deskshare": _params(DEFAULT_DESKSHARE),
    "transcript": _params(DEFAULT_TRANSCRIPT),
    "video_user": _int,
    "sinks": _names,
    "queue_size": _int,
    "flush_interval": _seconds,
    "poll_interval": _seconds,
    "lease_ttl": _seconds,
    "reconnect_attempts": _int,
    "manual_start": _bool,
}


def _label(option: str) -> str:
    source = _OPTION_SOURCE.get(option)
    return f"{option} ({source})" if source else option


def _error(option: str, problem: str) -> ConfigError:
    """A :class:`ConfigError` naming the environment variable when the option has one."""
    return ConfigError(f"{_label(option)} {problem}", option=_OPTION_SOURCE.get(option) or option)
