"""The exception tree of the protocol core.

Every failure of the sans-I/O core is a :class:`ProtocolError`; callers catch that one
class and never see a JSON, base64 or validation error from a library underneath.

::

    ProtocolError
    ├── FrameError            a frame that is not a well-formed RTMS message (§4)
    │   └── UnknownMessageType    well-formed JSON whose ``msg_type`` is not 1-29
    ├── IllegalTransition     a message that the session state machine forbids now
    ├── SignatureError        a handshake signature that does not match (§2)
    └── WebhookError          a webhook request that fails verification (§7.2, §7.3)
        ├── WebhookSignatureError
        └── WebhookTimestampError
"""

from __future__ import annotations

__all__ = [
    "FrameError",
    "IllegalTransition",
    "ProtocolError",
    "SignatureError",
    "UnknownMessageType",
    "WebhookError",
    "WebhookSignatureError",
    "WebhookTimestampError",
]


class ProtocolError(Exception):
    """Root of every error raised by :mod:`connector.protocol`."""


class FrameError(ProtocolError):
    """A frame could not be decoded as an RTMS message.

    ``reason`` is a short human sentence in the protocol's own terms; ``msg_type`` is the
    message type when it could be read, else ``None``.
    """

    def __init__(self, reason: str, *, msg_type: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.msg_type = msg_type


class UnknownMessageType(FrameError):
    """The frame is JSON with an integer ``msg_type`` that RTMS does not define."""


class IllegalTransition(ProtocolError):
    """A message arrived (or was about to be sent) in a state that does not allow it."""

    def __init__(self, machine: str, state: str, trigger: str) -> None:
        super().__init__(f"{machine}: {trigger} is not allowed in state {state}")
        self.machine = machine
        self.state = state
        self.trigger = trigger


class SignatureError(ProtocolError):
    """A handshake signature does not match the expected HMAC."""


class WebhookError(ProtocolError):
    """A webhook request failed verification; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WebhookSignatureError(WebhookError):
    """``x-zm-signature`` is missing, malformed or does not match the raw body."""


class WebhookTimestampError(WebhookError):
    """``x-zm-request-timestamp`` is missing, not an integer, or outside the replay window."""
