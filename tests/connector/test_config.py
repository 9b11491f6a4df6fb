"""ConnectorConfig: environment, overrides, validation, and the documentation of every variable."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from msgspec.structs import replace

from connector.config import DEFAULT_AUDIO, DEFAULT_DESKSHARE, DEFAULT_VIDEO, ENVIRONMENT, ConnectorConfig
from connector.errors import ConfigError, ConnectorError
from connector.protocol import Codec, DataOption, MediaType

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"

BASE_ENV = {"ZM_RTMS_CLIENT": "cid", "ZM_RTMS_SECRET": "csecret", "ZM_RTMS_WEBHOOK_SECRET": "wsecret"}


def test_from_env_reads_every_variable(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("dummy")
    env = {
        **BASE_ENV,
        "ZM_RTMS_PORT": "9000",
        "ZM_RTMS_PATH": "/hook",
        "ZM_RTMS_CA": str(ca),
        "ZM_RTMS_OUTPUT": str(tmp_path / "o"),
    }
    config = ConnectorConfig.from_env(env)
    assert (config.client_id, config.client_secret, config.webhook_secret) == ("cid", "csecret", "wsecret")
    assert (config.port, config.path, config.ca_file, config.output_dir) == (
        9000,
        "/hook",
        ca,
        tmp_path / "o",
    )


def test_defaults() -> None:
    config = ConnectorConfig.from_env(BASE_ENV)
    assert (config.host, config.port, config.path, config.output_dir) == (
        "127.0.0.1",
        8080,
        "/",
        Path("rtms-output"),
    )
    assert config.media_types == (MediaType.AUDIO, MediaType.TRANSCRIPT)
    assert (DEFAULT_AUDIO.codec, DEFAULT_AUDIO.sample_rate, DEFAULT_AUDIO.channel) == (1, 1, 1)
    assert (DEFAULT_AUDIO.data_opt, DEFAULT_AUDIO.send_rate, DEFAULT_AUDIO.content_type) == (1, 20, 2)
    assert (config.close_timeout, config.replay_window, config.ca_file) == (5.0, 300.0, None)


def test_overrides_win_and_none_means_not_given() -> None:
    config = ConnectorConfig.from_env({**BASE_ENV, "ZM_RTMS_PORT": "9000"}, port=0, path=None, client_id="x")
    assert (config.port, config.path, config.client_id) == (0, "/", "x")


def test_empty_variables_count_as_unset() -> None:
    assert ConnectorConfig.from_env({**BASE_ENV, "ZM_RTMS_PORT": ""}).port == 8080


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ZM_RTMS_SECRET": ""}, "client_secret (ZM_RTMS_SECRET) is required"),
        ({"ZM_RTMS_WEBHOOK_SECRET": ""}, "webhook_secret (ZM_RTMS_WEBHOOK_SECRET) is required"),
        ({"ZM_RTMS_PORT": "http"}, "ZM_RTMS_PORT must be an integer, got 'http'"),
        ({"ZM_RTMS_PORT": "70000"}, "port (ZM_RTMS_PORT) must be an integer from 0 to 65535"),
        ({"ZM_RTMS_PATH": "hook"}, "path (ZM_RTMS_PATH) must start with '/'"),
        (
            {"ZM_RTMS_CA": "/nonexistent/ca.pem"},
            "ca_file (ZM_RTMS_CA) CA file '/nonexistent/ca.pem' does not exist",
        ),
    ],
)
def test_bad_config_is_a_one_line_config_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        ConnectorConfig.from_env({**BASE_ENV, **env})
    assert isinstance(info.value, ConnectorError)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_override_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown option"):
        ConnectorConfig.from_env(BASE_ENV, colour="blue")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"media_types": (MediaType.ALL,)}, "media_types"),
        ({"media_types": ()}, "media_types"),
        ({"media_types": (MediaType.AUDIO, MediaType.AUDIO)}, "media_types"),
        ({"audio": replace(DEFAULT_AUDIO, codec=int(Codec.JPG))}, "codec must be L16, G711, G722 or OPUS"),
        ({"audio": replace(DEFAULT_AUDIO, data_opt=3)}, "data_opt must be AUDIO_MIXED_STREAM"),
        ({"audio": replace(DEFAULT_AUDIO, sample_rate=7)}, "sample_rate"),
        (
            {"video": replace(DEFAULT_VIDEO, codec=int(Codec.L16))},
            "video (ZM_RTMS_VIDEO) codec must be JPG, PNG or H264",
        ),
        (
            {"deskshare": replace(DEFAULT_DESKSHARE, fps=60)},
            "deskshare (ZM_RTMS_DESKSHARE) fps must be from 1 to 30",
        ),
        ({"close_timeout": 0}, "close_timeout"),
        ({"lease_ttl": -1}, "lease_ttl (ZM_RTMS_LEASE_TTL) must be a positive number"),
        ({"queue_size": 0}, "queue_size (ZM_RTMS_QUEUE_SIZE) must be at least 1"),
        ({"sinks": ("s3",)}, "unknown sink(s) s3"),
        ({"sinks": ("redis",)}, "the redis sink (ZM_RTMS_SINKS) needs ZM_RTMS_REDIS_URL"),
        (
            {"manual_start": True, "account_id": "a"},
            "manual start (ZM_RTMS_MANUAL_START) needs s2s_client_id",
        ),
        ({"log_level": "loud"}, "log_level (ZM_RTMS_LOG_LEVEL) must be one of"),
        ({"log_format": "xml"}, "log_format (ZM_RTMS_LOG_FORMAT) must be one of"),
    ],
)
def test_unusable_settings_are_rejected(
    make_config: Callable[..., ConnectorConfig], overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        make_config(**overrides)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_every_media_type_is_accepted(make_config: Callable[..., ConnectorConfig]) -> None:
    config = make_config(media_types=MediaType.singles(), video_user=16778240)
    assert config.media_types == MediaType.singles()
    # One participant's video needs the individual-stream option (§4.16).
    assert config.video.data_opt == DataOption.VIDEO_SINGLE_INDIVIDUAL_STREAM


def test_media_and_ownership_variables() -> None:
    env = {
        **BASE_ENV,
        "ZM_RTMS_MEDIA": "audio, video,share,transcript,chat",
        "ZM_RTMS_AUDIO": "codec=OPUS,sample_rate=SR_48K,channel=2,data_opt=AUDIO_MULTI_STREAMS",
        "ZM_RTMS_VIDEO": "codec=H264,fps=30",
        "ZM_RTMS_TRANSCRIPT": "src_language=9,enable_lid=false",
        "ZM_RTMS_REDIS_URL": "redis://:pw@127.0.0.1:6379/2",
        "ZM_RTMS_SINKS": "files,redis",
        "ZM_RTMS_LEASE_TTL": "2.5",
        "ZM_RTMS_REPLICA_ID": "replica-a",
        "ZM_RTMS_LOG_LEVEL": "warn",
        "ZM_RTMS_LOG_FORMAT": "progressive",
        "ZM_RTMS_QUEUE_SIZE": "64",
        "ZM_RTMS_MANUAL_START": "yes",
        "ZM_RTMS_ACCOUNT_ID": "acct",
        "ZM_RTMS_S2S_CLIENT": "s2s",
        "ZM_RTMS_S2S_SECRET": "s2s-secret",
    }
    config = ConnectorConfig.from_env(env)
    assert config.media_types == MediaType.singles()
    assert (config.audio.codec, config.audio.sample_rate, config.audio.channel) == (4, 3, 2)
    assert config.audio.send_rate == 20  # unspecified fields keep the defaults
    assert (config.video.codec, config.video.fps, config.video.resolution) == (7, 30, 2)
    assert (config.transcript.src_language, config.transcript.enable_lid) == (9, False)
    assert config.sinks == ("files", "redis")
    assert (config.lease_ttl, config.replica_id, config.queue_size) == (2.5, "replica-a", 64)
    assert (config.log_level, config.log_format) == ("WARNING", "text")  # the SDK's spellings
    assert config.manual_start
    assert config.account_id == "acct"
    # Only the Redis password is a secret, not the whole URL.
    assert set(config.secrets) == {"csecret", "wsecret", "s2s-secret", "pw"}
    assert "s2s-secret" not in repr(config)
    assert "pw@" not in repr(config)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ZM_RTMS_MEDIA": "audio,smell"}, "ZM_RTMS_MEDIA: unknown media type 'smell'"),
        ({"ZM_RTMS_VIDEO": "codec=H265"}, "ZM_RTMS_VIDEO: codec='H265' is not valid"),
        ({"ZM_RTMS_VIDEO": "colour=red"}, "ZM_RTMS_VIDEO: expected key=value with keys"),
        ({"ZM_RTMS_LEASE_TTL": "soon"}, "ZM_RTMS_LEASE_TTL must be a number of seconds"),
        ({"ZM_RTMS_MANUAL_START": "maybe"}, "ZM_RTMS_MANUAL_START must be true or false"),
    ],
)
def test_bad_variables_name_themselves(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        ConnectorConfig.from_env({**BASE_ENV, **env})
    assert message in str(info.value)


def test_repr_never_shows_secrets() -> None:
    text = repr(ConnectorConfig.from_env(BASE_ENV))
    assert "cid" in text
    assert "csecret" not in text
    assert "wsecret" not in text


def test_every_variable_is_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for variable, option in ENVIRONMENT.items():
        assert f"`{variable}` | `{option}`" in docs, variable
    documented = set(re.findall(r"^\| `(ZM_RTMS_[A-Z0-9_]+)`", docs, re.MULTILINE))
    assert documented == set(ENVIRONMENT)
    # The names of Zoom's official SDK are kept (docs/protocol.md §6.5).
    assert {"ZM_RTMS_CLIENT", "ZM_RTMS_SECRET", "ZM_RTMS_PORT", "ZM_RTMS_PATH"} <= set(ENVIRONMENT)
    assert {"ZM_RTMS_LOG_LEVEL", "ZM_RTMS_LOG_FORMAT", "ZM_RTMS_CA"} <= set(ENVIRONMENT)
