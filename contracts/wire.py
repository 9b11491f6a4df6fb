"""Zoom's RTMS wire vocabulary as the contracts state it, written from Zoom's documents alone.

Deliberately independent of ``connector.protocol``: a probe built on the connector's codec
would share its mistakes, and a difference between the simulator and Zoom could hide behind
them. Messages here are plain JSON objects (``dict``); numbers are Zoom's, names are Zoom's
(docs/protocol.md §4, §5, §7).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ALL",
    "EVENT",
    "MEDIA_KEYS",
    "MEDIA_MSG",
    "MSG",
    "SESSION_STATE",
    "STATUS",
    "STREAM_STATE",
    "TICK_SEQUENCE",
    "ID_KEYS",
    "decode",
    "encode",
    "handshake_signature",
    "name_of",
    "url_validation_token",
    "webhook_signature",
]

MSG = {
    "SIGNALING_HAND_SHAKE_REQ": 1,
    "SIGNALING_HAND_SHAKE_RESP": 2,
    "DATA_HAND_SHAKE_REQ": 3,
    "DATA_HAND_SHAKE_RESP": 4,
    "EVENT_SUBSCRIPTION": 5,
    "EVENT_UPDATE": 6,
    "CLIENT_READY_ACK": 7,
    "STREAM_STATE_UPDATE": 8,
    "SESSION_STATE_UPDATE": 9,
    "SESSION_STATE_REQ": 10,
    "SESSION_STATE_RESP": 11,
    "KEEP_ALIVE_REQ": 12,
    "KEEP_ALIVE_RESP": 13,
    "MEDIA_DATA_AUDIO": 14,
    "MEDIA_DATA_VIDEO": 15,
    "MEDIA_DATA_SHARE": 16,
    "MEDIA_DATA_TRANSCRIPT": 17,
    "MEDIA_DATA_CHAT": 18,
    "STREAM_STATE_REQ": 19,
    "STREAM_STATE_RESP": 20,
    "STREAM_CLOSE_REQ": 21,
    "STREAM_CLOSE_RESP": 22,
    "META_DATA_AUDIO": 23,
    "VIDEO_SUBSCRIPTION_REQ": 28,
    "VIDEO_SUBSCRIPTION_RESP": 29,
}
_NAMES = {v: k for k, v in MSG.items()}

# media_type bits (§5.6) and the media message each carries (§4.12)
MEDIA_KEYS = {"audio": 1, "video": 2, "deskshare": 4, "transcript": 8, "chat": 16}
ALL = 32
MEDIA_MSG = {"audio": 14, "video": 15, "deskshare": 16, "transcript": 17, "chat": 18}

STATUS = {
    "OK": 0,
    "INVALID_MESSAGE_TYPE": 1,
    "INVALID_RTMS_STREAM_ID": 2,
    "INVALID_SIGNATURE": 3,
    "INVALID_PAYLOAD": 4,
    "INVALID_MEDIA_TYPE": 7,
    "DUPLICATE_SIGNAL_REQUEST": 8,
    "MEDIA_DATA_ALL_CONNECTION_EXIST": 15,
    "MEDIA_TYPE_INVALID_VALUE": 14,
    "DUPLICATE_MEDIA_DATA_CONNECTION": 16,
    "INVALID_MEDIA_AUDIO_PARAMS": 18,
    "INVALID_MEDIA_AUDIO_SAMPLE_RATE": 20,
    "INVALID_MEDIA_AUDIO_CHANNEL": 21,
    "INVALID_MEDIA_AUDIO_CODEC": 22,
    "INVALID_MEDIA_AUDIO_SEND_RATE": 24,
    "INVALID_MEDIA_VIDEO_CODEC": 27,
    "INVALID_MEDIA_VIDEO_RESOLUTION": 28,
    "INVALID_MEDIA_VIDEO_FPS": 30,
    "INVALID_MEDIA_DESKSHARE_CODEC": 33,
    "INVALID_MEDIA_TRANSCRIPT_SOURCE_LANGUAGE": 43,
}
STREAM_STATE = {
    "INACTIVE": 0,
    "ACTIVE": 1,
    "INTERRUPTED": 2,
    "TERMINATING": 3,
    "TERMINATED": 4,
    "PAUSED": 5,
    "RESUMED": 6,
}
SESSION_STATE = {"INACTIVE": 0, "INITIALIZE": 1, "STARTED": 2, "PAUSED": 3, "RESUMED": 4, "STOPPED": 5}
EVENT = {
    "FIRST_PACKET_TIMESTAMP": 1,
    "ACTIVE_SPEAKER_CHANGE": 2,
    "PARTICIPANT_JOIN": 3,
    "PARTICIPANT_LEAVE": 4,
    "SHARING_START": 5,
    "SHARING_STOP": 6,
    "MEDIA_CONNECTION_INTERRUPTED": 7,
}

TICK_SEQUENCE = 4294820112
"""A ``sequence`` as the official SDK sends it: a millisecond tick counter, not 1, 2, 3 (§4.1)."""

# the key that names the instance in each product's webhook payload (§2, §7.1)
ID_KEYS = ("meeting_uuid", "webinar_uuid", "session_id", "engagement_id")


def name_of(msg_type: object) -> str:
    """Zoom's name of a message type, or ``msg_type <n>`` for a number Zoom does not define."""
    return _NAMES.get(msg_type, f"msg_type {msg_type!r}") if isinstance(msg_type, int) else repr(msg_type)


def _hmac_hex(key: str, message: bytes) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def handshake_signature(client_id: str, client_secret: str, instance_id: str, stream_id: str) -> str:
    """``hex(HMAC-SHA256(secret, "{client_id},{id},{rtms_stream_id}"))`` (§2)."""
    return _hmac_hex(client_secret, f"{client_id},{instance_id},{stream_id}".encode())


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``x-zm-signature``: ``"v0=" + hex(HMAC-SHA256(secret, "v0:{timestamp}:" + body))`` (§7.3)."""
    return "v0=" + _hmac_hex(secret, b"v0:" + timestamp.encode() + b":" + body)


def url_validation_token(secret: str, plain_token: str) -> str:
    """``encryptedToken`` of an ``endpoint.url_validation`` answer (§7.2)."""
    return _hmac_hex(secret, plain_token.encode())


def encode(message: Mapping[str, Any], *, pretty: bool) -> bytes:
    """JSON as the official SDK sends it (tab-indented, ``"key" : value``, sorted keys) or compact."""
    if not pretty:
        return json.dumps(message, separators=(",", ":")).encode()
    return (json.dumps(message, indent="\t", sort_keys=True, separators=(",", " : ")) + "\n").encode()


def decode(raw: str | bytes) -> dict[str, Any]:
    """A frame's JSON object; :class:`ValueError` if the frame is not one JSON object with ``msg_type``."""
    loaded = json.loads(raw)
    if not isinstance(loaded, dict) or not isinstance(loaded.get("msg_type"), int):
        raise ValueError("not a JSON object with an integer msg_type")
    return loaded
