"""One frozen :class:`msgspec.Struct` per wire message, msg_type 1-29 (reference §4).

The same types serve both directions. ``msg_type`` is the tag of each struct, so it is
written on encode and selects the type on decode. Optional fields default to
:data:`msgspec.UNSET`, which means *absent on the wire* (different from JSON ``null``, which
the official SDK sends as ``"media_params": null``). Codes are plain ``int`` so that a value
Zoom adds later still decodes; :mod:`.enums` names the known ones.

Binary payloads (``data`` of audio, video and share) are ``bytes``: base64 on the wire.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec
from msgspec import UNSET, UnsetType

from .enums import MessageType

__all__ = [
    "AudioParams",
    "given",
    "ChatContent",
    "ChatParams",
    "ClientReadyAck",
    "DataHandshakeReq",
    "DataHandshakeResp",
    "DeskshareParams",
    "Event",
    "EventSubscription",
    "EventUpdate",
    "KeepAliveReq",
    "KeepAliveResp",
    "MESSAGE_TYPES",
    "MediaContent",
    "MediaDataAudio",
    "MediaDataChat",
    "MediaDataShare",
    "MediaDataTranscript",
    "MediaDataVideo",
    "MediaParams",
    "MediaServer",
    "Message",
    "MetaDataAudio",
    "MetaDataChat",
    "MetaDataShare",
    "MetaDataTranscript",
    "MetaDataVideo",
    "Participant",
    "SessionStateReq",
    "SessionStateResp",
    "SessionStateUpdate",
    "SignalingHandshakeReq",
    "SignalingHandshakeResp",
    "StreamCloseReq",
    "StreamCloseResp",
    "StreamStateReq",
    "StreamStateResp",
    "StreamStateUpdate",
    "Subscription",
    "TranscriptContent",
    "TranscriptParams",
    "VideoParams",
    "VideoSubscriptionReq",
    "VideoSubscriptionResp",
]

UserId = int | str  # integers on the wire today; docs show string placeholders (§10.5)


def given(value: int | UnsetType, default: int) -> int:
    """``value``, or ``default`` when the field is absent on the wire (the server's default
    then applies, §4.3)."""
    return default if isinstance(value, UnsetType) else value


class _Struct(msgspec.Struct, frozen=True, kw_only=True):
    """Base of nested payload objects."""


class Message(msgspec.Struct, frozen=True, kw_only=True, tag_field="msg_type"):
    """Base of every RTMS message. ``msg_type`` is the struct tag."""

    MSG_TYPE: ClassVar[MessageType] = MessageType.UNDEFINED

    @property
    def msg_type(self) -> MessageType:
        return self.MSG_TYPE


# --- media parameters (§4.3, §4.4) -------------------------------------------------------


class AudioParams(_Struct, frozen=True, kw_only=True):
    content_type: int | UnsetType = UNSET
    sample_rate: int | UnsetType = UNSET
    channel: int | UnsetType = UNSET
    codec: int | UnsetType = UNSET
    data_opt: int | UnsetType = UNSET
    send_rate: int | UnsetType = UNSET
    frame_size: int | UnsetType = UNSET


class VideoParams(_Struct, frozen=True, kw_only=True):
    content_type: int | UnsetType = UNSET
    codec: int | UnsetType = UNSET
    resolution: int | UnsetType = UNSET
    data_opt: int | UnsetType = UNSET
    fps: int | UnsetType = UNSET


class DeskshareParams(VideoParams, frozen=True, kw_only=True):
    """Same fields as video; the SDK omits ``data_opt``."""


class TranscriptParams(_Struct, frozen=True, kw_only=True):
    content_type: int | UnsetType = UNSET
    src_language: int | UnsetType = UNSET
    enable_lid: bool | UnsetType = UNSET


class ChatParams(_Struct, frozen=True, kw_only=True):
    content_type: int | UnsetType = UNSET


class MediaParams(_Struct, frozen=True, kw_only=True):
    audio: AudioParams | UnsetType = UNSET
    video: VideoParams | UnsetType = UNSET
    deskshare: DeskshareParams | UnsetType = UNSET
    transcript: TranscriptParams | UnsetType = UNSET
    chat: ChatParams | UnsetType = UNSET


class MediaServer(_Struct, frozen=True, kw_only=True):
    """``media_server`` of the signaling handshake response: URLs keyed by media type."""

    server_urls: dict[str, str]


# --- signaling --------------------------------------------------------------------------


class SignalingHandshakeReq(Message, frozen=True, kw_only=True, tag=1):
    """§4.1. ``sequence`` is whatever the client sends (the SDK sends a tick counter)."""

    MSG_TYPE: ClassVar[MessageType] = MessageType.SIGNALING_HAND_SHAKE_REQ
    protocol_version: int = 1
    sequence: int = 0
    meeting_uuid: str
    rtms_stream_id: str
    signature: str
    rtms_client_agent: str | UnsetType = UNSET
    buffer_data: bool | UnsetType = UNSET


class SignalingHandshakeResp(Message, frozen=True, kw_only=True, tag=2):
    """§4.2. The SDK needs ``status_code`` and, on success, per-type ``server_urls``."""

    MSG_TYPE: ClassVar[MessageType] = MessageType.SIGNALING_HAND_SHAKE_RESP
    protocol_version: int = 1
    sequence: int = 0
    status_code: int
    reason: str = ""
    media_server: MediaServer | UnsetType = UNSET


class DataHandshakeReq(Message, frozen=True, kw_only=True, tag=3):
    """§4.3. ``media_type`` is one bit (SDK) or 32 for a single ``all`` socket."""

    MSG_TYPE: ClassVar[MessageType] = MessageType.DATA_HAND_SHAKE_REQ
    protocol_version: int = 1
    sequence: int = 0
    meeting_uuid: str
    rtms_stream_id: str
    signature: str
    media_type: int
    media_params: MediaParams | UnsetType | None = UNSET
    payload_encryption: bool | UnsetType = UNSET


class DataHandshakeResp(Message, frozen=True, kw_only=True, tag=4):
    """§4.4. ``payload_encrypted`` is always written: the SDK aborts the join without it."""

    MSG_TYPE: ClassVar[MessageType] = MessageType.DATA_HAND_SHAKE_RESP
    protocol_version: int = 1
    sequence: int = 0
    status_code: int
    reason: str = ""
    payload_encrypted: bool = False
    media_params: MediaParams | UnsetType | None = UNSET


class Subscription(_Struct, frozen=True, kw_only=True):
    event_type: int
    subscribe: bool


class EventSubscription(Message, frozen=True, kw_only=True, tag=5):
    """§4.5. No response."""

    MSG_TYPE: ClassVar[MessageType] = MessageType.EVENT_SUBSCRIPTION
    events: tuple[Subscription, ...]


class Participant(_Struct, frozen=True, kw_only=True):
    user_id: UserId
    user_name: str | UnsetType = UNSET


class Event(_Struct, frozen=True, kw_only=True):
    """The ``event`` object of EVENT_UPDATE (§4.6); which fields appear depends on the type."""

    event_type: int
    timestamp: int | UnsetType = UNSET
    user_id: UserId | UnsetType = UNSET
    user_name: str | UnsetType = UNSET
    participants: tuple[Participant, ...] | UnsetType = UNSET
    media_type: int | UnsetType = UNSET


class EventUpdate(Message, frozen=True, kw_only=True, tag=6):
    """§4.6. The payload key is ``event`` (the SDK rejects ``content``)."""

    MSG_TYPE: ClassVar[MessageType] = MessageType.EVENT_UPDATE
    event: Event


class ClientReadyAck(Message, frozen=True, kw_only=True, tag=7):
    """§4.7. Sent once every media handshake succeeded."""

    MSG_TYPE: ClassVar[MessageType] = MessageType.CLIENT_READY_ACK
    rtms_stream_id: str | UnsetType = UNSET


class StreamStateUpdate(Message, frozen=True, kw_only=True, tag=8):
    """§4.8. Docs and samples disagree on ``reason`` vs ``stop_reason``; both decode."""

    MSG_TYPE: ClassVar[MessageType] = MessageType.STREAM_STATE_UPDATE
    rtms_stream_id: str | UnsetType = UNSET
    state: int
    reason: int | UnsetType = UNSET
    stop_reason: int | UnsetType = UNSET
    timestamp: int | UnsetType = UNSET

    @property
    def stop_code(self) -> int:
        """The stop reason whichever key carried it; 0 (UNDEFINED) when neither did."""
        if not isinstance(self.reason, UnsetType):
            return self.reason
        if not isinstance(self.stop_reason, UnsetType):
            return self.stop_reason
        return 0


class SessionStateUpdate(Message, frozen=True, kw_only=True, tag=9):
    """§4.9. ``reason`` only when the session stopped."""

    MSG_TYPE: ClassVar[MessageType] = MessageType.SESSION_STATE_UPDATE
    rtms_session_id: str | UnsetType = UNSET
    state: int
    reason: int | UnsetType = UNSET
    stop_reason: int | UnsetType = UNSET
    timestamp: int | UnsetType = UNSET


class SessionStateReq(Message, frozen=True, kw_only=True, tag=10):
    MSG_TYPE: ClassVar[MessageType] = MessageType.SESSION_STATE_REQ
    rtms_session_id: str | UnsetType = UNSET


class SessionStateResp(Message, frozen=True, kw_only=True, tag=11):
    MSG_TYPE: ClassVar[MessageType] = MessageType.SESSION_STATE_RESP
    rtms_session_id: str | UnsetType = UNSET
    state: int
    timestamp: int | UnsetType = UNSET


class KeepAliveReq(Message, frozen=True, kw_only=True, tag=12):
    """§4.11. Zoom → client on every socket. The SDK ignores a REQ without ``sequence``."""

    MSG_TYPE: ClassVar[MessageType] = MessageType.KEEP_ALIVE_REQ
    timestamp: int
    sequence: int | UnsetType = UNSET


class KeepAliveResp(Message, frozen=True, kw_only=True, tag=13):
    """§4.11. Echoes the request's ``timestamp`` (and ``sequence`` when present)."""

    MSG_TYPE: ClassVar[MessageType] = MessageType.KEEP_ALIVE_RESP
    timestamp: int
    sequence: int | UnsetType = UNSET

    @classmethod
    def answering(cls, request: KeepAliveReq) -> KeepAliveResp:
        return cls(timestamp=request.timestamp, sequence=request.sequence)


# --- media (§4.12) ------------------------------------------------------------------------


class MediaContent(_Struct, frozen=True, kw_only=True):
    """``content`` of audio, video and share frames. ``data`` is raw bytes (base64 on wire)."""

    user_id: UserId | UnsetType = UNSET
    user_name: str | UnsetType = UNSET
    channel_id: str | UnsetType = UNSET
    data: bytes
    length: int | UnsetType = UNSET
    timestamp: int | UnsetType = UNSET


class TranscriptContent(_Struct, frozen=True, kw_only=True):
    """``content`` of a transcript frame; ``data`` is the text itself."""

    user_id: UserId | UnsetType = UNSET
    user_name: str | UnsetType = UNSET
    channel_id: str | UnsetType = UNSET
    data: str
    start_time: int | UnsetType = UNSET
    end_time: int | UnsetType = UNSET
    timestamp: int | UnsetType = UNSET
    language: int | UnsetType = UNSET
    attribute: int | UnsetType = UNSET


class ChatContent(_Struct, frozen=True, kw_only=True):
    user_id: UserId | UnsetType = UNSET
    user_name: str | UnsetType = UNSET
    data: str
    timestamp: int | UnsetType = UNSET


class MediaDataAudio(Message, frozen=True, kw_only=True, tag=14):
    MSG_TYPE: ClassVar[MessageType] = MessageType.MEDIA_DATA_AUDIO
    content: MediaContent


class MediaDataVideo(Message, frozen=True, kw_only=True, tag=15):
    MSG_TYPE: ClassVar[MessageType] = MessageType.MEDIA_DATA_VIDEO
    content: MediaContent


class MediaDataShare(Message, frozen=True, kw_only=True, tag=16):
    MSG_TYPE: ClassVar[MessageType] = MessageType.MEDIA_DATA_SHARE
    content: MediaContent


class MediaDataTranscript(Message, frozen=True, kw_only=True, tag=17):
    MSG_TYPE: ClassVar[MessageType] = MessageType.MEDIA_DATA_TRANSCRIPT
    content: TranscriptContent


class MediaDataChat(Message, frozen=True, kw_only=True, tag=18):
    MSG_TYPE: ClassVar[MessageType] = MessageType.MEDIA_DATA_CHAT
    content: ChatContent


# --- stream state and close (§4.13, §4.14) ------------------------------------------------


class StreamStateReq(Message, frozen=True, kw_only=True, tag=19):
    MSG_TYPE: ClassVar[MessageType] = MessageType.STREAM_STATE_REQ
    rtms_stream_id: str | UnsetType = UNSET


class StreamStateResp(Message, frozen=True, kw_only=True, tag=20):
    MSG_TYPE: ClassVar[MessageType] = MessageType.STREAM_STATE_RESP
    rtms_stream_id: str | UnsetType = UNSET
    state: int
    reason: int | UnsetType = UNSET
    timestamp: int | UnsetType = UNSET


class StreamCloseReq(Message, frozen=True, kw_only=True, tag=21):
    """§4.14. A deterministic teardown; Zoom then ends the stream with stop reason 20."""

    MSG_TYPE: ClassVar[MessageType] = MessageType.STREAM_CLOSE_REQ
    rtms_stream_id: str | UnsetType = UNSET


class StreamCloseResp(Message, frozen=True, kw_only=True, tag=22):
    MSG_TYPE: ClassVar[MessageType] = MessageType.STREAM_CLOSE_RESP
    rtms_stream_id: str | UnsetType = UNSET
    status_code: int
    reason: str = ""
    timestamp: int | UnsetType = UNSET


# --- metadata (§4.15): structure unconfirmed, so kept as plain JSON objects ---------------


class MetaDataAudio(Message, frozen=True, kw_only=True, tag=23):
    MSG_TYPE: ClassVar[MessageType] = MessageType.META_DATA_AUDIO
    content: dict[str, Any] | UnsetType = UNSET


class MetaDataVideo(Message, frozen=True, kw_only=True, tag=24):
    MSG_TYPE: ClassVar[MessageType] = MessageType.META_DATA_VIDEO
    content: dict[str, Any] | UnsetType = UNSET


class MetaDataShare(Message, frozen=True, kw_only=True, tag=25):
    MSG_TYPE: ClassVar[MessageType] = MessageType.META_DATA_SHARE
    content: dict[str, Any] | UnsetType = UNSET


class MetaDataTranscript(Message, frozen=True, kw_only=True, tag=26):
    MSG_TYPE: ClassVar[MessageType] = MessageType.META_DATA_TRANSCRIPT
    content: dict[str, Any] | UnsetType = UNSET


class MetaDataChat(Message, frozen=True, kw_only=True, tag=27):
    MSG_TYPE: ClassVar[MessageType] = MessageType.META_DATA_CHAT
    content: dict[str, Any] | UnsetType = UNSET


# --- individual video (§4.16) -------------------------------------------------------------


class VideoSubscriptionReq(Message, frozen=True, kw_only=True, tag=28):
    MSG_TYPE: ClassVar[MessageType] = MessageType.VIDEO_SUBSCRIPTION_REQ
    user_id: UserId
    subscribe: bool
    timestamp: int | UnsetType = UNSET


class VideoSubscriptionResp(Message, frozen=True, kw_only=True, tag=29):
    MSG_TYPE: ClassVar[MessageType] = MessageType.VIDEO_SUBSCRIPTION_RESP
    user_id: UserId
    status_code: int
    reason: str = ""
    timestamp: int | UnsetType = UNSET


MESSAGE_TYPES: dict[MessageType, type[Message]] = {
    cls.MSG_TYPE: cls
    for cls in (
        SignalingHandshakeReq,
        SignalingHandshakeResp,
        DataHandshakeReq,
        DataHandshakeResp,
        EventSubscription,
        EventUpdate,
        ClientReadyAck,
        StreamStateUpdate,
        SessionStateUpdate,
        SessionStateReq,
        SessionStateResp,
        KeepAliveReq,
        KeepAliveResp,
        MediaDataAudio,
        MediaDataVideo,
        MediaDataShare,
        MediaDataTranscript,
        MediaDataChat,
        StreamStateReq,
        StreamStateResp,
        StreamCloseReq,
        StreamCloseResp,
        MetaDataAudio,
        MetaDataVideo,
        MetaDataShare,
        MetaDataTranscript,
        MetaDataChat,
        VideoSubscriptionReq,
        VideoSubscriptionResp,
    )
}
"""Every message class by its type; exactly the types 1-29."""
