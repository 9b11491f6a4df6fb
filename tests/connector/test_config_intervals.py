"""The flush and poll intervals: their defaults, the environment, and the bounds refused in
Zoom's terms of configuration errors (a clear message naming the variable)."""

from __future__ import annotations

import pytest

from connector.config import ConnectorConfig
from connector.errors import ConfigError
from connector.loop import MAX_POLL_INTERVAL

BASE_ENV = {"ZM_RTMS_CLIENT": "cid", "ZM_RTMS_SECRET": "csecret", "ZM_RTMS_WEBHOOK_SECRET": "wsecret"}


def test_defaults_flush_every_tenth_of_a_second_and_poll_every_two_milliseconds() -> None:
    config = ConnectorConfig.from_env(BASE_ENV)
    assert (config.flush_interval, config.poll_interval) == (0.1, 0.002)


def test_the_environment_sets_both_and_zero_turns_each_off() -> None:
    config = ConnectorConfig.from_env(
        {**BASE_ENV, "ZM_RTMS_FLUSH_INTERVAL": "0.5", "ZM_RTMS_POLL_INTERVAL": "0.001"}
    )
    assert (config.flush_interval, config.poll_interval) == (0.5, 0.001)
    config = ConnectorConfig.from_env(
        {**BASE_ENV, "ZM_RTMS_FLUSH_INTERVAL": "0", "ZM_RTMS_POLL_INTERVAL": "0"}
    )
    assert (config.flush_interval, config.poll_interval) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "ZM_RTMS_FLUSH_INTERVAL",
            "-1",
            "flush_interval (ZM_RTMS_FLUSH_INTERVAL) must be from 0 to 10 seconds",
        ),
        ("ZM_RTMS_FLUSH_INTERVAL", "11", "must be from 0 to 10 seconds"),
        ("ZM_RTMS_FLUSH_INTERVAL", "soon", "ZM_RTMS_FLUSH_INTERVAL must be a number of seconds"),
        (
            "ZM_RTMS_POLL_INTERVAL",
            "-0.001",
            "poll_interval (ZM_RTMS_POLL_INTERVAL) must be from 0 to 0.05 seconds",
        ),
        ("ZM_RTMS_POLL_INTERVAL", str(MAX_POLL_INTERVAL * 2), "must be from 0 to 0.05 seconds"),
        ("ZM_RTMS_POLL_INTERVAL", "fast", "ZM_RTMS_POLL_INTERVAL must be a number of seconds"),
        ("ZM_RTMS_POLL_INTERVAL", "nan", "must be from 0 to 0.05 seconds"),
    ],
)
def test_out_of_bounds_values_are_refused_naming_the_variable(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        ConnectorConfig.from_env({**BASE_ENV, variable: value})
    assert info.value.option == variable
