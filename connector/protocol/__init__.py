"""The RTMS wire core: messages, codes, codec, signatures, webhooks, state machines.

No sockets, no asyncio, no clocks: bytes and text in, typed messages out. Both the
connector and the simulator build on this package. Section numbers in docstrings refer to
``docs/protocol.md`` (the protocol reference).
"""

from .codec import decode, encode
from .enums import (
    AudioChannel,
    Codec,
    ContentType,
    DataMessageAttribute,
    DataOption,
    EventType,
    LegacyStatusCode,
    MediaType,
    MessageType,
    Resolution,
    SampleRate,
    SessionState,
    StatusCode,
    StatusTable,
    StopReason,
    StreamState,
    TranscriptLanguage,
    TransmissionProtocol,
    ZccVoiceEventType,
    describe,
)
from .errors import (
    FrameError,
    IllegalTransition,
    ProtocolError,
    SignatureError,
    UnknownMessageType,
    WebhookError,
    WebhookSignatureError,
    WebhookTimestampError,
)
from .machine import MEDIA, SIGNALING, Connection, ConnState, StateMachine, Trigger, trigger_of
from .messages import *  # noqa: F403 - the message types are the package's vocabulary
from .messages import __all__ as _message_names
from .signature import handshake_signature, verify_handshake_signature
from .webhook import (
    Product,
    RtmsEvent,
    RtmsEventKind,
    WebhookEvent,
    parse_event,
    rtms_event,
    sign_webhook,
    signed_headers,
    url_validation_response,
    verify_webhook,
)

__all__ = [
    "AudioChannel",
    "Codec",
    "ConnState",
    "Connection",
    "ContentType",
    "DataMessageAttribute",
    "DataOption",
    "EventType",
    "FrameError",
    "IllegalTransition",
    "LegacyStatusCode",
    "MEDIA",
    "MediaType",
    "MessageType",
    "Product",
    "ProtocolError",
    "Resolution",
    "RtmsEvent",
    "RtmsEventKind",
    "SIGNALING",
    "SampleRate",
    "SessionState",
    "SignatureError",
    "StateMachine",
    "StatusCode",
    "StatusTable",
    "StopReason",
    "StreamState",
    "TranscriptLanguage",
    "TransmissionProtocol",
    "Trigger",
    "UnknownMessageType",
    "WebhookError",
    "WebhookEvent",
    "WebhookSignatureError",
    "WebhookTimestampError",
    "ZccVoiceEventType",
    "decode",
    "describe",
    "encode",
    "handshake_signature",
    "parse_event",
    "rtms_event",
    "sign_webhook",
    "signed_headers",
    "trigger_of",
    "url_validation_response",
    "verify_handshake_signature",
    "verify_webhook",
    *_message_names,
]
