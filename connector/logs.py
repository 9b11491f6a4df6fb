"""Logging for the connector's entry points: text or JSON lines on stderr, secrets redacted.

Library code only ever does ``logging.getLogger("connector.<component>")`` and passes
structured fields with ``extra=``; :func:`configure_logging` (called by entry points only)
decides where and how lines are written.

Formats (``ZM_RTMS_LOG_FORMAT``):

* ``text``: ``2026-01-01T10:00:00.123Z INFO connector.stream: joined stream_id=03db...``
* ``json``: one object per line, ``{"ts", "level", "logger", "msg", <extra fields>, "exc"}``;
  ``ts`` is ISO-8601 UTC with milliseconds, ``exc`` the formatted exception when there is one.

Every line passes a :class:`RedactingFilter` first: the configured secret values (client
secret, webhook secret, S2S secret, Redis password...) and well-known credential shapes are
replaced by ``***`` in the message, its arguments, extra fields and exception text.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
import urllib.parse
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import IO, Any, Final, Literal

from .config import LOG_FORMATS, LOG_LEVELS
from .errors import ConfigError

__all__ = [
    "JsonFormatter",
    "LogFormat",
    "RedactingFilter",
    "TextFormatter",
    "configure_logging",
    "extra_fields",
    "parse_format",
    "parse_level",
]

LogFormat = Literal["text", "json"]

MASK: Final = "***"

_HANDLER_NAME: Final = "rtms-connector"

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_FIELDS: Final = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}

# Keys whose value is a credential wherever they appear: a JSON or repr'd dict, a query string,
# a header dump, ``key=value`` text. The value is masked, the key kept for the reader.
_SECRET_KEY = r"(?:[\w-]*(?:secret|password|passwd)[\w-]*|access_token|refresh_token|x-zm-signature)"
_SEPARATOR = r"""["']?\s*[:=]\s*["']?"""
_KEYED_VALUE = re.compile(rf"""(?P<key>["']?\b{_SECRET_KEY}{_SEPARATOR})[^"'&\s,;}})\]]+""", re.IGNORECASE)
# A handshake signature (§2) is hex; "signature: mismatch" in prose is left alone.
_SIGNATURE = re.compile(
    rf"""(?P<key>["']?\bsignature{_SEPARATOR}(?:v0=)?)[0-9a-fA-F]{{16,}}""", re.IGNORECASE
)
_AUTH_HEADER = re.compile(
    rf"""(?P<key>["']?\bauthorization{_SEPARATOR}(?:basic|bearer)\s+)[A-Za-z0-9._~+/-]+=*""", re.IGNORECASE
)
_BARE_TOKEN = re.compile(r"(?P<key>\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/-]{16,}=*")
_WEBHOOK_SIGNATURE = re.compile(r"(?P<key>\bv0=)[0-9a-fA-F]{16,}")  # x-zm-signature's value (§7.3)
_URL_PASSWORD = re.compile(r"(?P<key>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)[^@\s/]+(?=@)")
_PATTERNS: Final = (_AUTH_HEADER, _KEYED_VALUE, _SIGNATURE, _BARE_TOKEN, _WEBHOOK_SIGNATURE, _URL_PASSWORD)

# Field and dict-key names whose whole value is masked, whatever it looks like.
_SENSITIVE_FIELD = re.compile(
    r"^(?:.*(?:secret|password|passwd).*|access_token|refresh_token|x-zm-signature|signature"
    r"|authorization|cookie|set-cookie)$",
    re.IGNORECASE,
)


class RedactingFilter(logging.Filter):
    """Masks secrets in a record before any handler formats it; always lets the record through.

    ``secrets``: literal values to mask wherever they occur (their JSON-escaped, ``repr`` and
    URL-quoted spellings too). Empty values are ignored. Beyond those, these shapes are masked:
    ``"signature": "<hex>"``, ``Authorization: Basic|Bearer <token>``, ``access_token`` and
    ``refresh_token`` values, ``x-zm-signature`` values and ``v0=<hex>``, any ``*secret`` or
    ``*password`` key's value, and the password of a URL (``redis://user:***@host``).

    The record is rewritten in place: ``msg`` becomes the redacted, formatted message and
    ``args`` is emptied; extra fields are replaced by redacted copies (the caller's objects are
    not modified; values that are not JSON types become redacted strings); exception and stack
    text is formatted, redacted and kept in ``exc_text`` / ``stack_info`` with ``exc_info``
    cleared, so no handler can format the raw exception again.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        spellings: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            spellings |= {
                secret,
                json.dumps(secret)[1:-1],
                repr(secret)[1:-1],
                urllib.parse.quote(secret, safe=""),
                urllib.parse.quote_plus(secret),
            }
        # Longest first, so that a secret containing another is masked whole.
        ordered = sorted(spellings, key=len, reverse=True)
        self._literal = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def redact(self, text: str) -> str:
        """``text`` with every secret and credential shape replaced by ``***``."""
        if self._literal is not None:
            text = self._literal.sub(MASK, text)
        for pattern in _PATTERNS:
            text = pattern.sub(rf"\g<key>{MASK}", text)
        return text

    def redact_value(self, value: object) -> object:
        """A redacted copy of a structured value: strings redacted, containers copied with
        credential-named keys masked, JSON scalars kept, anything else turned into text."""
        if isinstance(value, str):
            return self.redact(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, Mapping):
            return {
                self.redact(str(key)): MASK if _SENSITIVE_FIELD.match(str(key)) else self.redact_value(item)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple | set | frozenset):
            return [self.redact_value(item) for item in value]
        return self.redact(str(value))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # logging would print msg and args raw to stderr when formatting fails later.
            message = f"{record.msg} (log arguments could not be formatted: {record.args!r})"
        record.msg = self.redact(message)
        record.args = None
        for key in list(record.__dict__):
            if key not in _RECORD_FIELDS:
                value = record.__dict__[key]
                record.__dict__[key] = MASK if _SENSITIVE_FIELD.match(key) else self.redact_value(value)
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_info = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a record got through ``extra=``, in the order they were set."""
    return {key: value for key, value in record.__dict__.items() if key not in _RECORD_FIELDS}


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``msg``, extra fields, ``exc``
    (and ``stack`` for ``stack_info=True``). An extra field named like one of those is written
    as ``field_<name>`` so that it cannot hide the record's own."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            line[f"field_{key}" if key in line or key in ("exc", "stack") else key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``<ts> <LEVEL> <logger>: <msg> key=value ...``, then the exception on following lines."""

    def format(self, record: logging.LogRecord) -> str:
        fields = "".join(f" {key}={_text_value(value)}" for key, value in extra_fields(record).items())
        text = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}{fields}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text = f"{text}\n{record.exc_text}"
        if record.stack_info:
            text = f"{text}\n{record.stack_info}"
        return text


def _text_value(value: object) -> str:
    """A field value for a text line: bare when it is one word, JSON otherwise."""
    if isinstance(value, str) and value and not any(c.isspace() or c in '"=' for c in value):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def parse_level(level: str) -> int:
    """The :mod:`logging` level for a ``ZM_RTMS_LOG_LEVEL`` value (one of
    :data:`connector.config.LOG_LEVELS`, any case); :class:`ConfigError` otherwise."""
    name = LOG_LEVELS.get(level.strip().lower()) if isinstance(level, str) else None
    if name is None:
        raise ConfigError(
            f"ZM_RTMS_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {level!r}",
            option="ZM_RTMS_LOG_LEVEL",
        )
    return logging.getLevelNamesMapping()[name]


def parse_format(fmt: str) -> LogFormat:
    """The log format for a ``ZM_RTMS_LOG_FORMAT`` value (one of
    :data:`connector.config.LOG_FORMATS`, any case); :class:`ConfigError` otherwise."""
    kind = LOG_FORMATS.get(fmt.strip().lower()) if isinstance(fmt, str) else None
    if kind == "json":
        return "json"
    if kind == "text":
        return "text"
    raise ConfigError(
        f"ZM_RTMS_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {fmt!r}",
        option="ZM_RTMS_LOG_FORMAT",
    )


def configure_logging(
    *,
    level: str = "INFO",
    fmt: str = "text",
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Send every log record to ``stream`` (default stderr) in ``fmt``, redacting ``secrets``.

    For entry points only. Sets the root logger's level and installs one handler on it; a
    handler installed by an earlier call is replaced (other handlers are left alone).
    ``websockets`` is held at INFO or above even at DEBUG: its frame log would print 50 lines
    a second per stream. Returns the installed handler.

    ``level`` and ``fmt`` take the values of ``ZM_RTMS_LOG_LEVEL`` / ``ZM_RTMS_LOG_FORMAT``
    (:data:`connector.config.LOG_LEVELS` / :data:`~connector.config.LOG_FORMATS`: Python's
    level names and the SDK's ``trace``/``warn``; ``text``, ``json`` and the SDK's
    ``progressive``), in any case. Anything else raises :class:`ConfigError` naming the
    variable, before any logger is touched.
    """
    numeric = parse_level(level)
    kind = parse_format(fmt)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RedactingFilter(secrets))
    handler.setFormatter(JsonFormatter() if kind == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(numeric)
    logging.getLogger("websockets").setLevel(max(logging.INFO, numeric))
    return handler
