"""The live target's configuration checks: what CI can verify of it without Zoom.

``LiveConfig.from_env`` reads ``RTMS_LIVE_*`` (docs/contracts.md) and names every problem in
one error; ``pytest contracts --target live`` without them stops at once with that message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.targets.live import ENVIRONMENT, LiveConfig, LiveConfigError

REPO = Path(__file__).resolve().parents[2]
MINIMAL = {
    "RTMS_LIVE_CLIENT_ID": "app-client",
    "RTMS_LIVE_CLIENT_SECRET": "app-secret",
    "RTMS_LIVE_WEBHOOK_SECRET": "whsec",
    "RTMS_LIVE_WEBHOOK_URL": "https://abc.tunnel.example/webhooks/zoom",
}
S2S = {
    "RTMS_LIVE_ACCOUNT_ID": "acct",
    "RTMS_LIVE_S2S_CLIENT_ID": "s2s-client",
    "RTMS_LIVE_S2S_CLIENT_SECRET": "s2s-secret",
}


def _problems(env: dict[str, str]) -> str:
    with pytest.raises(LiveConfigError) as caught:
        LiveConfig.from_env(env)
    return str(caught.value)


def test_minimal_configuration_has_defaults_and_no_rest() -> None:
    config = LiveConfig.from_env(MINIMAL)
    assert config.credentials.client_id == "app-client"
    assert config.credentials.webhook_secret == "whsec"
    assert (config.listen_host, config.listen_port) == ("127.0.0.1", 8080)
    assert config.rest is None
    assert config.webhook_timeout == 120.0


def test_full_configuration_with_rest_and_meeting() -> None:
    env = {
        **MINIMAL,
        **S2S,
        "RTMS_LIVE_MEETING_ID": "812 3456 7890",
        "RTMS_LIVE_WEBHOOK_LISTEN": "127.0.0.1:9000",
        "RTMS_LIVE_WEBHOOK_TIMEOUT": "30",
        "RTMS_LIVE_PARTICIPANT_USER_ID": "u-1",
    }
    config = LiveConfig.from_env(env)
    assert config.rest is not None
    assert config.rest.meeting_id == "81234567890"  # spaces as Zoom prints meeting ids
    assert (config.rest.api_url, config.rest.oauth_url) == ("https://api.zoom.us", "https://zoom.us")
    assert config.rest.account_id == "acct"
    assert config.listen_port == 9000
    assert config.webhook_timeout == 30.0
    assert config.rest.participant_user_id == "u-1"


def test_nothing_set_names_every_required_variable() -> None:
    text = _problems({})
    for name in (
        "RTMS_LIVE_CLIENT_ID",
        "RTMS_LIVE_CLIENT_SECRET",
        "RTMS_LIVE_WEBHOOK_SECRET",
        "RTMS_LIVE_WEBHOOK_URL",
    ):
        assert name in text
    assert "docs/contracts.md" in text


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"RTMS_LIVE_WEBHOOK_URL": "http://abc.example/hook"}, "must be an https:// URL"),
        ({"RTMS_LIVE_WEBHOOK_LISTEN": "0.0.0.0:8080"}, "must be a loopback address"),
        ({"RTMS_LIVE_WEBHOOK_LISTEN": "127.0.0.1:99999"}, "port 1-65535"),
        ({"RTMS_LIVE_MEETING_ID": "standup", **S2S}, "numeric meeting id"),
        ({"RTMS_LIVE_MEETING_ID": "81234567890"}, "needs the Server-to-Server OAuth app"),
        ({"RTMS_LIVE_ACCOUNT_ID": "acct"}, "RTMS_LIVE_S2S_CLIENT_ID, RTMS_LIVE_S2S_CLIENT_SECRET missing"),
        ({"RTMS_LIVE_API_URL": "http://api.zoom.us", **S2S}, "RTMS_LIVE_API_URL must be an https:// URL"),
        ({"RTMS_LIVE_CA_FILE": "/nonexistent/ca.pem"}, "names no file"),
        ({"RTMS_LIVE_WEBHOOK_TIMEOUT": "-1"}, "positive number of seconds"),
        ({"RTMS_LIVE_WEBHOOK_TIMEOUT": "soon"}, "positive number of seconds"),
    ],
)
def test_each_problem_is_named(override: dict[str, str], fragment: str) -> None:
    assert fragment in _problems({**MINIMAL, **override})


def test_several_problems_are_reported_together() -> None:
    text = _problems({**MINIMAL, "RTMS_LIVE_WEBHOOK_URL": "ftp://x", "RTMS_LIVE_WEBHOOK_TIMEOUT": "0"})
    assert text.count("\n  - ") == 2


def test_ipv6_loopback_listen_is_accepted() -> None:
    config = LiveConfig.from_env({**MINIMAL, "RTMS_LIVE_WEBHOOK_LISTEN": "[::1]:8081"})
    assert (config.listen_host, config.listen_port) == ("::1", 8081)


def test_every_variable_is_documented() -> None:
    doc = (REPO / "docs" / "contracts.md").read_text()
    for name in ENVIRONMENT:
        assert f"`{name}`" in doc, name


def test_live_target_without_configuration_stops_with_the_list() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTMS_LIVE_")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "contracts", "--target", "live", "-q", "-p", "no:cacheprovider"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 4  # pytest's usage error: nothing ran
    assert "the live target is not configured" in done.stderr
    assert "RTMS_LIVE_WEBHOOK_URL is not set" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
