"""Frames to messages and back (reference §4, §1.1).

``decode`` accepts a text or binary WebSocket frame holding compact or pretty-printed JSON
(the official SDK sends binary frames of tab-indented JSON) and returns a typed message, or
raises :class:`~.errors.FrameError`. It never raises anything else.

``encode`` writes compact JSON; ``encode(..., pretty=True)`` writes the JsonCpp style the
official SDK uses (tabs, ``"key" : value``, sorted keys, trailing newline), which probes use
to look like the SDK.
"""

from __future__ import annotations

import json
from typing import Union

import msgspec

from .enums import MessageType
from .errors import FrameError, UnknownMessageType
from .messages import MESSAGE_TYPES, Message

__all__ = ["DECODE_ERRORS", "decode", "decode_or_raise", "encode"]

_AnyMessage = Union[tuple(MESSAGE_TYPES.values())]  # type: ignore[valid-type]  # noqa: UP007 - built at runtime
_decoder: msgspec.json.Decoder[Message] = msgspec.json.Decoder(_AnyMessage)
_encoder = msgspec.json.Encoder()


class _Envelope(msgspec.Struct):
    msg_type: int


_envelope_decoder = msgspec.json.Decoder(_Envelope)

decode_or_raise = _decoder.decode
""":func:`decode` without its explanation of a failure, for the path every frame takes: it
raises one of :data:`DECODE_ERRORS`; :func:`decode` of the same frame then raises the
:class:`~.errors.FrameError` that says what is wrong with it."""

DECODE_ERRORS = (msgspec.MsgspecError, RecursionError, MemoryError, UnicodeError)
"""What :data:`decode_or_raise` raises for a frame that is not a message."""


def decode(frame: str | bytes | bytearray | memoryview) -> Message:
    """Decode one frame into its message; raise :class:`FrameError` for anything else."""
    try:
        return _decoder.decode(frame)
    except msgspec.ValidationError as exc:
        raise _explain(frame, str(exc)) from None
    except msgspec.DecodeError as exc:
        raise FrameError(f"frame is not JSON: {exc}") from None
    except (RecursionError, MemoryError, UnicodeError) as exc:  # pathological input
        raise FrameError(f"frame cannot be decoded: {type(exc).__name__}") from None


def _explain(frame: str | bytes | bytearray | memoryview, detail: str) -> FrameError:
    """Turn a validation failure into the error a peer can act on."""
    try:
        msg_type = _envelope_decoder.decode(frame).msg_type
    except (msgspec.MsgspecError, RecursionError, MemoryError, UnicodeError):
        return FrameError(f"frame has no integer msg_type ({detail})")
    try:
        known = MessageType(msg_type)
    except ValueError:
        return UnknownMessageType(f"msg_type {msg_type} is not an RTMS message type", msg_type=msg_type)
    if known is MessageType.UNDEFINED:
        return UnknownMessageType("msg_type 0 (UNDEFINED) is not a message", msg_type=0)
    return FrameError(f"{known.name} ({msg_type}) is malformed: {detail}", msg_type=msg_type)


def encode(message: Message, *, pretty: bool = False) -> bytes:
    """Encode ``message`` as UTF-8 JSON; absent (UNSET) fields are not written."""
    if not pretty:
        return _encoder.encode(message)
    text = json.dumps(msgspec.to_builtins(message), indent="\t", separators=(",", " : "), sort_keys=True)
    return (text + "\n").encode()
