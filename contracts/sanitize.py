"""Sanitized transcripts: a recording that is safe to share and commit (docs/contracts.md, "Recording").

:func:`save` writes one JSON file per contract test, one entry per line::

    {"format": 1, "test": "<node id>", "target": "live", "entries": [
    {"t": 0.0, "phase": "setup", "role": "webhook", "direction": "in", "message": {...}, ...},
    ...]}

What is replaced, and with what:

* secrets (handshake ``signature`` (§2), ``x-zm-signature`` (§7.3), URL-validation tokens
  (§7.2), OAuth tokens, ``session_key``) become fixed placeholders such as ``"<signature>"``;
* identifiers (meeting/webinar uuids, session and engagement ids, ``rtms_stream_id``,
  ``rtms_session_id``, user ids and names, account and operator ids) become numbered
  placeholders, the same real value always the same placeholder within one file (a string id
  ``"<stream-1>"``, an integer id ``1``; user id ``0``, Zoom's mixed audio, stays ``0``), also
  where the value appears inside another string such as a URL path;
* URL hosts become ``<host-n>``; the scheme and the path's shape stay, id-like path segments
  and query values do not;
* base64 media ``data`` (§4.12) becomes ``{"bytes": n, "kind": "jpeg"|"png"|"h264"|"pcm"|…}``,
  transcript and chat text ``"<text n chars>"``;
* epoch timestamps become offsets (same unit) from the first one in the file;
* webhook headers are dropped except ``content-type`` and the presence of
  ``x-zm-request-timestamp`` and ``x-zm-signature``;
* any other string that still looks like a secret (:func:`secret_like`) becomes ``"<redacted>"``.

``msg_type``, ``status_code``, ``state``, ``reason``, ``event_type``, ``media_params``, every
key and every JSON type stay as they were: they are what :mod:`contracts.drift` compares.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from .recording import Recorder

__all__ = ["FORMAT", "filename", "sanitize", "save", "secret_like", "secrets_in"]

FORMAT = 1

SECRET_KEYS = {
    "signature": "<signature>",
    "encryptedToken": "<token>",
    "plainToken": "<token>",
    "token": "<token>",
    "access_token": "<token>",
    "refresh_token": "<token>",
    "client_secret": "<secret>",
    "secret": "<secret>",
    "password": "<secret>",
    "session_key": "<secret>",
}
# key → placeholder prefix; values are identifiers of a meeting, a stream or a person
ID_KEYS = {
    "meeting_uuid": "meeting",
    "webinar_uuid": "webinar",
    "uuid": "meeting",
    "session_id": "session",
    "engagement_id": "engagement",
    "rtms_stream_id": "stream",
    "rtms_session_id": "rtms-session",
    "meeting_id": "meeting-id",
    "user_id": "user",
    "operator_id": "user",
    "host_id": "user",
    "participant_uuid": "user",
    "user_name": "name",
    "email": "email",
    "account_id": "account",
    "channel_id": "channel",
}
TIME_KEYS = frozenset({"timestamp", "event_ts", "start_time", "end_time"})
TEXT_KEYS = frozenset({"text", "topic"})
MEDIA_MSG = {14: "audio", 15: "video", 16: "deskshare"}  # base64 data (§4.12)
TEXT_MSG = {17: "transcript", 18: "chat"}  # UTF-8 text data (§4.12)
AUDIO_KIND = {1: "pcm", 2: "g711", 3: "g722", 4: "opus"}  # by negotiated codec (§5.7)
KEPT_HEADERS = frozenset({"content-type"})
PRESENT_HEADERS = {"x-zm-request-timestamp": "<present>", "x-zm-signature": "v0=<signature>"}

# What still looks like a secret after sanitizing; ``rtms-contracts sanitize-check`` uses the same.
SECRET_PATTERNS = {
    "64-hex signature": re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])"),
    "32-hex id": re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32}(?![0-9A-Fa-f])"),
    "JWT": re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*"),
    "long base64": re.compile(r"[A-Za-z0-9+/_-]{40,}={0,2}"),
    "uuid base64": re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{22}=="),
}
_MIXED = re.compile(r"(?=.*\d)(?=.*[a-z])(?=.*[A-Z])")
_URL = re.compile(r"^(wss?|https?)://", re.IGNORECASE)
_ID_SEGMENT = re.compile(r"^(?=.*\d)[A-Za-z0-9_=+%-]{16,}$|^\d{6,}$")
_EPOCH_MS = 10**11  # ints from here on are epoch milliseconds (after 1973)
_EPOCH_S = 10**9  # and from here to _EPOCH_MS, epoch seconds


def secret_like(text: str) -> str | None:
    """The name of the first :data:`SECRET_PATTERNS` entry ``text`` matches, or ``None``.

    A long run of base64 letters counts only if it mixes digits, upper and lower case, as random
    bytes do: a long path or word does not.
    """
    for name, pattern in SECRET_PATTERNS.items():
        for match in pattern.finditer(text):
            if name != "long base64" or _MIXED.search(match.group()):
                return name
    return None


def secrets_in(document: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """``(path, pattern name)`` of every string in ``document`` that looks like a secret."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield from secrets_in(value, f"{path}.{key}" if path else str(key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from secrets_in(value, f"{path}[{index}]")
    elif isinstance(document, str) and (found := secret_like(document)):
        yield path, found


def filename(test: str) -> str:
    """A portable file name for a node id: ``a/test_x.py::test_y[p]`` → ``a_test_x.py__test_y_p.json``.

    A name too long for every file system is cut and keeps a hash of the whole id, so that two
    long ids never share a file.
    """
    name = re.sub(r"[^A-Za-z0-9._-]", "_", test.replace("::", "__")).strip("._") or "test"
    if len(name) > 180:
        name = f"{name[:170]}-{hashlib.sha256(test.encode()).hexdigest()[:8]}"
    return name + ".json"


def save(recorder: Recorder, directory: Path) -> Path:
    """Write the sanitized transcript of ``recorder`` into ``directory``; its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / filename(recorder.test)
    head = json.dumps({"format": FORMAT, "test": recorder.test, "target": recorder.target})
    # one entry per line: a recording reads, and diffs, message by message
    lines = ",\n".join(json.dumps(entry) for entry in sanitize(recorder.entries))
    path.write_text(f'{head[:-1]}, "entries": [\n{lines}\n]}}\n')
    return path


def sanitize(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sanitized copy of a raw transcript (:attr:`Recorder.entries`); the input is untouched."""
    return _Sanitizer(entries).run()


class _Sanitizer:
    """One file's placeholders: identifiers, hosts and the time origin are numbered per file."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.entries = entries
        self.ids: dict[str, tuple[str, int]] = {}  # str(real value) → (prefix, n)
        self.counts: dict[str, int] = {}
        self.hosts: dict[str, str] = {}
        self.t0: float | None = None
        self.epoch_ms: int | None = None
        self.audio_codec: dict[str, int] = {}  # role → negotiated audio codec
        for entry in entries:  # number identifiers first, so a URL seen early hides them too
            self._collect(entry.get("message"))

    def _collect(self, value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                self._collect(v, k)
        elif isinstance(value, list):
            for v in value:
                self._collect(v, key)
        elif key in ID_KEYS and _id_value(value) and str(value) not in self.ids:
            prefix = ID_KEYS[key]
            self.counts[prefix] = self.counts.get(prefix, 0) + 1
            self.ids[str(value)] = (prefix, self.counts[prefix])

    def run(self) -> list[dict[str, Any]]:
        return [self._entry(entry) for entry in self.entries]

    def _entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        out = dict(entry)
        if isinstance(entry.get("t"), int | float):
            self.t0 = entry["t"] if self.t0 is None else self.t0
            out["t"] = round(entry["t"] - self.t0, 4)
        if "url" in entry:
            out["url"] = self._string(str(entry["url"]))
        if "headers" in entry:
            out["headers"] = _headers(entry["headers"])
        message = entry.get("message")
        if isinstance(message, dict):
            if set(message) == {"unparsable"}:
                out["message"] = {"unparsable": _text(str(message["unparsable"]))}
            else:
                out["message"] = self._message(str(entry.get("role", "")), message)
        return out

    def _message(self, role: str, message: dict[str, Any]) -> Any:
        msg_type = message.get("msg_type")
        if msg_type == 4:  # DATA_HAND_SHAKE_RESP: remember the audio codec the frames carry
            codec = _dig(message, "media_params", "audio", "codec")
            if isinstance(codec, int):
                self.audio_codec[role] = codec
        content = message.get("content")
        data = _dig(message, "content", "data")
        if not (isinstance(content, dict) and isinstance(data, str) and msg_type in MEDIA_MSG | TEXT_MSG):
            return self._value(message)
        # described, never scanned: a frame's data is most of a recording's bytes
        described = self._media(data, MEDIA_MSG[msg_type], role) if msg_type in MEDIA_MSG else _text(data)
        cleaned = self._value({**message, "content": {**content, "data": ""}})
        cleaned["content"]["data"] = described
        return cleaned

    def _media(self, data: str, medium: str, role: str) -> dict[str, Any]:
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return {"bytes": len(data.encode()), "kind": "not base64"}
        return {"bytes": len(raw), "kind": _kind(raw, medium, self.audio_codec.get(role))}

    def _value(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self._value(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._value(v, key) for v in value]
        if isinstance(value, bool) or value is None or isinstance(value, float):
            return value
        if key in SECRET_KEYS:
            return SECRET_KEYS[key]
        if isinstance(value, int):
            if key in ID_KEYS and _id_value(value):
                return self.ids[str(value)][1]
            return self._time(value) if key in TIME_KEYS else value
        if key in TEXT_KEYS:
            return _text(value)
        return self._string(value)

    def _time(self, value: int) -> int:
        if value < _EPOCH_S:
            return value  # a tick counter or a small number, not a date (§4.16)
        in_ms = value if value >= _EPOCH_MS else value * 1000
        self.epoch_ms = in_ms if self.epoch_ms is None else self.epoch_ms
        return value - self.epoch_ms if value >= _EPOCH_MS else value - self.epoch_ms // 1000

    def _string(self, value: str) -> str:
        if value in self.ids:
            prefix, n = self.ids[value]
            return f"<{prefix}-{n}>"
        for real, (prefix, n) in self.ids.items():
            if len(real) >= 6:
                for form in {real, quote(real, safe="")}:
                    value = value.replace(form, f"<{prefix}-{n}>")
        if _URL.match(value):
            value = self._url(value)
        return "<redacted>" if secret_like(value) else value

    def _url(self, url: str) -> str:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        placeholder = self.hosts.setdefault(host, f"<host-{len(self.hosts) + 1}>")
        path = "/".join("<id>" if _ID_SEGMENT.match(s) else s for s in parts.path.split("/"))
        query = "&".join(f"{pair.partition('=')[0]}=<v>" for pair in parts.query.split("&") if pair)
        return urlunsplit((parts.scheme, placeholder, path, query, ""))


def _headers(headers: Any) -> dict[str, str]:
    lowered = {str(k).lower(): str(v) for k, v in dict(headers).items()}
    kept = {k: v for k, v in lowered.items() if k in KEPT_HEADERS}
    kept.update({k: mark for k, mark in PRESENT_HEADERS.items() if k in lowered})
    return dict(sorted(kept.items()))


def _id_value(value: Any) -> bool:
    """An identifier worth a placeholder: a non-empty string or a non-zero integer (0 is mixed audio)."""
    return isinstance(value, str | int) and not isinstance(value, bool) and value not in (0, "")


def _text(text: str) -> str:
    return f"<text {len(text)} chars>"


def _kind(raw: bytes, medium: str, codec: int | None) -> str:
    """What the media bytes are, by their magic numbers or, for audio, the negotiated codec (§5.7)."""
    if raw.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if raw.startswith(b"OggS"):
        return "ogg"
    if medium == "audio":
        return AUDIO_KIND.get(codec or 1, "audio")
    if raw.startswith((b"\x00\x00\x00\x01", b"\x00\x00\x01")):
        return "h264"
    return "empty" if not raw else "binary"


def _dig(document: Any, *keys: str) -> Any:
    for key in keys:
        document = document.get(key) if isinstance(document, dict) else None
    return document
