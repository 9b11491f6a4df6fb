"""Logging configuration: JSON and text lines, and secrets that never reach the output."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connector.errors import ConfigError
from connector.logs import RedactingFilter, configure_logging

CLIENT_SECRET = "cs-Q7v9xLm2pR4tZ8wK"
WEBHOOK_SECRET = "wh-3NfB6yHs1JcD0aEe"
S2S_SECRET = "s2s-Yt5Gk8Uo2Wi7Pq9R"
REDIS_PASSWORD = "rd-Hj4Lz6Nb1Vc3Xm5Q"
SECRETS = (CLIENT_SECRET, WEBHOOK_SECRET, S2S_SECRET, REDIS_PASSWORD)
HEX = "ef24b2a8b6e34b8c042edd249f9257e29f13ab3144ca803d7f061f28b2bb1ddf"  # a handshake signature
TOKEN = "eyJhbGciOiJIUzUxMiJ9.eyJhdWQiOiJ6b29tIn0.c2lnbmF0dXJlLWJ5dGVz"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    websockets = logging.getLogger("websockets")
    handlers, level, ws_level = list(root.handlers), root.level, websockets.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    websockets.setLevel(ws_level)


def configure(fmt: str = "json", level: str = "DEBUG") -> io.StringIO:
    out = io.StringIO()
    configure_logging(level=level, fmt=fmt, secrets=SECRETS, stream=out)
    return out


def json_lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def assert_no_secret(text: str) -> None:
    for secret in (*SECRETS, HEX, TOKEN):
        assert secret not in text
    assert "***" in text


def test_json_line_fields() -> None:
    out = configure("json")
    logging.getLogger("connector.stream").info(
        "joined %s in %d ms", "stream-abc", 42, extra={"stream_id": "stream-abc", "media": ["audio"], "n": 3}
    )
    [line] = json_lines(out)
    assert list(line)[:4] == ["ts", "level", "logger", "msg"]
    assert line["level"] == "INFO"
    assert line["logger"] == "connector.stream"
    assert line["msg"] == "joined stream-abc in 42 ms"
    assert line["stream_id"] == "stream-abc"
    assert line["media"] == ["audio"]
    assert line["n"] == 3
    assert "exc" not in line
    assert line["ts"].endswith("Z")
    moment = datetime.fromisoformat(line["ts"].replace("Z", "+00:00"))
    assert moment.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=1)


def test_json_exception_and_one_object_per_line() -> None:
    out = configure("json")
    log = logging.getLogger("connector.session")
    try:
        raise RuntimeError("socket went away\nwith a second line")
    except RuntimeError:
        log.exception("stream failed", extra={"stream_id": "s1"})
    log.warning("after")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "ERROR"
    assert first["exc"].startswith("Traceback (most recent call last)")
    assert "RuntimeError: socket went away\nwith a second line" in first["exc"]
    assert second == {**second, "msg": "after", "level": "WARNING"}


def test_extra_fields_cannot_hide_the_records_own() -> None:
    out = configure("json")
    logging.getLogger("connector.x").info("m", extra={"ts": "fake", "level": "fake", "exc": "fake"})
    [line] = json_lines(out)
    assert line["level"] == "INFO"
    assert line["ts"] != "fake"
    assert "exc" not in line
    assert (line["field_ts"], line["field_level"], line["field_exc"]) == ("fake", "fake", "fake")


def test_text_format() -> None:
    out = configure("text")
    logging.getLogger("connector.receiver").warning(
        "rejected %s", "webhook", extra={"status": 401, "reason": "bad signature"}
    )
    [line] = out.getvalue().splitlines()
    ts, level, rest = line.split(" ", 2)
    assert ts.endswith("Z")
    datetime.fromisoformat(ts.replace("Z", "+00:00"))
    assert level == "WARNING"
    assert rest == 'connector.receiver: rejected webhook status=401 reason="bad signature"'


def test_level_filters_and_websockets_is_held_at_info() -> None:
    out = configure("json", level="warning")
    logging.getLogger("connector.a").info("quiet")
    logging.getLogger("connector.a").error("loud")
    assert [line["msg"] for line in json_lines(out)] == ["loud"]
    configure("json", level="debug")
    assert logging.getLogger().level == logging.DEBUG
    assert logging.getLogger("websockets").level == logging.INFO


def test_configuring_again_replaces_the_handler() -> None:
    first = configure("json")
    second = configure("json")
    logging.getLogger("connector.a").info("once")
    assert first.getvalue() == ""
    assert len(json_lines(second)) == 1


@pytest.mark.parametrize(
    ("level", "fmt", "expected"),
    [
        ("TRACE", "json", logging.DEBUG),
        ("warn", "progressive", logging.WARNING),
        (" Error ", "JSON", logging.ERROR),
    ],
)
def test_sdk_spellings_are_accepted(level: str, fmt: str, expected: int) -> None:
    configure_logging(level=level, fmt=fmt, stream=io.StringIO())
    assert logging.getLogger().level == expected


@pytest.mark.parametrize(
    ("options", "variable"),
    [
        ({"level": "loud"}, "ZM_RTMS_LOG_LEVEL"),
        ({"level": ""}, "ZM_RTMS_LOG_LEVEL"),
        ({"fmt": "xml"}, "ZM_RTMS_LOG_FORMAT"),
    ],
)
def test_bad_level_or_format_is_a_config_error(options: dict[str, str], variable: str) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    with pytest.raises(ConfigError) as caught:
        configure_logging(**options)  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith(variable)
    assert "\n" not in message
    assert caught.value.option == variable
    assert root.handlers == before


# -- redaction -------------------------------------------------------------------------------


def test_configured_secrets_are_masked_in_message_and_args() -> None:
    out = configure("json")
    log = logging.getLogger("connector.cli")
    log.info("client secret is %s", CLIENT_SECRET)
    log.info(f"webhook secret inline {WEBHOOK_SECRET} and {S2S_SECRET}")
    log.info("config %r", {"nested": [f"x{REDIS_PASSWORD}y"]})
    output = out.getvalue()
    assert_no_secret(output)
    assert [line["msg"] for line in json_lines(out)] == [
        "client secret is ***",
        "webhook secret inline *** and ***",
        "config {'nested': ['x***y']}",
    ]


def test_secrets_are_masked_in_extra_fields_without_touching_the_callers_objects() -> None:
    out = configure("json")

    class Opaque:
        def __str__(self) -> str:
            return f"Opaque({CLIENT_SECRET})"

    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "x-zm-signature": f"v0={HEX}",
        "Accept": "application/json",
    }
    payload = {"meeting_uuid": "u1", "signature": HEX, "inner": {"client_secret": "anything"}}
    logging.getLogger("connector.rest").info(
        "request",
        extra={
            "headers": headers,
            "payload": payload,
            "webhook_secret": "not-a-configured-value",
            "url": f"redis://default:{REDIS_PASSWORD}@redis:6379/0",
            "opaque": Opaque(),
            "items": (S2S_SECRET, 1, None),
        },
    )
    [line] = json_lines(out)
    assert_no_secret(json.dumps(line))
    assert "not-a-configured-value" not in out.getvalue()
    assert line["headers"] == {"Authorization": "***", "x-zm-signature": "***", "Accept": "application/json"}
    assert line["payload"] == {"meeting_uuid": "u1", "signature": "***", "inner": {"client_secret": "***"}}
    assert line["webhook_secret"] == "***"
    assert line["url"] == "redis://default:***@redis:6379/0"
    assert line["opaque"] == "Opaque(***)"
    assert line["items"] == ["***", 1, None]
    assert headers["Authorization"] == f"Bearer {TOKEN}"  # the caller's dict is unchanged
    assert payload["signature"] == HEX


def test_secrets_are_masked_in_exceptions() -> None:
    out = configure("json")
    try:
        try:
            raise KeyError(CLIENT_SECRET)
        except KeyError as inner:
            raise ConnectionError(
                f"cannot reach redis://:{REDIS_PASSWORD}@redis:6379 as {WEBHOOK_SECRET}"
            ) from inner
    except ConnectionError:
        logging.getLogger("connector.lease").exception("lease loop failed")
    [line] = json_lines(out)
    assert "ConnectionError: cannot reach redis://:***@redis:6379 as ***" in line["exc"]
    assert "KeyError: '***'" in line["exc"]
    assert_no_secret(out.getvalue())


def test_secrets_are_masked_in_text_format_exceptions_and_stacks() -> None:
    out = configure("text")
    try:
        raise ValueError(f"token {S2S_SECRET}")
    except ValueError:
        logging.getLogger("connector.rest").error("failed", exc_info=True, stack_info=True)
    output = out.getvalue()
    assert "ValueError: token ***" in output
    assert "Stack (most recent call last)" in output
    assert_no_secret(output)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'{{"msg_type": 1, "signature": "{HEX}"}}', '{"msg_type": 1, "signature": "***"}'),
        (f"{{'signature': '{HEX}'}}", "{'signature': '***'}"),
        (f'"signature" : "{HEX}"', '"signature" : "***"'),  # JsonCpp's pretty print (§1.1)
        (f"Authorization: Basic {TOKEN}==", "Authorization: Basic ***"),
        (f"{{'Authorization': 'Bearer {TOKEN}'}}", "{'Authorization': 'Bearer ***'}"),
        (f"sent Bearer {TOKEN}", "sent Bearer ***"),
        (f'{{"access_token":"{TOKEN}","expires_in":3599}}', '{"access_token":"***","expires_in":3599}'),
        (
            f"grant_type=refresh_token&refresh_token={TOKEN}&x=1",
            "grant_type=refresh_token&refresh_token=***&x=1",
        ),
        (f"x-zm-signature: v0={HEX}", "x-zm-signature: ***"),
        (f"expected v0={HEX}", "expected v0=***"),
        ("redis://user:hunter2hunter2@redis:6379/0", "redis://user:***@redis:6379/0"),
        ("rediss://:pw@cache.internal:6380", "rediss://:***@cache.internal:6380"),
        ("client_secret=abc123 port=8080", "client_secret=*** port=8080"),
        ("REDIS_PASSWORD='p4ss'", "REDIS_PASSWORD='***'"),
    ],
)
def test_credential_shapes_are_masked(text: str, expected: str) -> None:
    assert RedactingFilter().redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "signature: mismatch",
        "webhook signature verification failed",
        "http://127.0.0.1:8080/webhook",
        "Basic auth required",
        "client_secret (ZM_RTMS_SECRET) is required",
        "plainToken=abc encryptedToken=def",
        "stop reason 18 STOP_BC_AUTHENTICATION_FAILURE",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert RedactingFilter(["unrelated-secret"]).redact(text) == text


def test_escaped_spellings_of_a_secret_are_masked() -> None:
    secret = 'a"b\\c d/e'
    redact = RedactingFilter([secret, ""]).redact
    assert redact(json.dumps({"k": secret})) == '{"k": "***"}'
    assert redact(repr(secret)) == "'***'"
    assert redact("q=a%22b%5Cc%20d%2Fe") == "q=***"
    assert redact("q=a%22b%5Cc+d%2Fe") == "q=***"


def test_unformattable_arguments_do_not_leak() -> None:
    out = io.StringIO()
    handler = configure_logging(fmt="json", secrets=SECRETS, stream=out)
    # Handed to the handler directly: other handlers on the root (pytest's) would raise first.
    record = logging.LogRecord("connector.a", logging.INFO, __file__, 1, "count %d", (CLIENT_SECRET,), None)
    handler.handle(record)
    [line] = json_lines(out)
    assert "could not be formatted" in line["msg"]
    assert_no_secret(line["msg"])
