"""ConnectorConfig: environment, overrides, validation, and the documentation of every variable."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from msgspec.structs import replace

import connector.config
from connector.config import DEFAULT_AUDIO, ENVIRONMENT, ConnectorConfig
from connector.errors import ConfigError, ConnectorError
from connector.protocol import Codec, MediaType

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
    "overrides",
    [
        {"media_types": (MediaType.VIDEO,)},
        {"media_types": ()},
        {"media_types": (MediaType.AUDIO, MediaType.AUDIO)},
        {"audio": replace(DEFAULT_AUDIO, codec=int(Codec.OPUS))},
        {"audio": replace(DEFAULT_AUDIO, data_opt=2)},
        {"audio": replace(DEFAULT_AUDIO, sample_rate=7)},
        {"close_timeout": 0},
    ],
)
def test_unsupported_media_settings_are_rejected(
    make_config: Callable[..., ConnectorConfig], overrides: dict[str, object]
) -> None:
    with pytest.raises(ConfigError):
        make_config(**overrides)


def test_repr_never_shows_secrets() -> None:
    text = repr(ConnectorConfig.from_env(BASE_ENV))
    assert "cid" in text
    assert "csecret" not in text
    assert "wsecret" not in text


def test_every_variable_is_documented_in_both_places() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    module_doc = connector.config.__doc__ or ""
    assert set(ENVIRONMENT) == {
        "ZM_RTMS_CLIENT",
        "ZM_RTMS_SECRET",
        "ZM_RTMS_WEBHOOK_SECRET",
        "ZM_RTMS_PORT",
        "ZM_RTMS_PATH",
        "ZM_RTMS_CA",
        "ZM_RTMS_OUTPUT",
    }
    for variable, option in ENVIRONMENT.items():
        assert f"`{variable}` | `{option}`" in docs, variable
        assert re.search(rf"^{variable} +{option} ", module_doc, re.MULTILINE), variable
