"""Every numeric code of the reference, reference §5."""

from __future__ import annotations

import enum

import pytest

from connector.protocol import (
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


def _names(text: str) -> list[str]:
    return text.split()


def _table(kind: type[enum.Enum]) -> dict[int, str]:
    return {member.value: member.name for member in kind}


# §5.1
MESSAGE_TYPES = _names(
    "UNDEFINED SIGNALING_HAND_SHAKE_REQ SIGNALING_HAND_SHAKE_RESP DATA_HAND_SHAKE_REQ DATA_HAND_SHAKE_RESP "
    "EVENT_SUBSCRIPTION EVENT_UPDATE CLIENT_READY_ACK STREAM_STATE_UPDATE SESSION_STATE_UPDATE "
    "SESSION_STATE_REQ SESSION_STATE_RESP KEEP_ALIVE_REQ KEEP_ALIVE_RESP MEDIA_DATA_AUDIO MEDIA_DATA_VIDEO "
    "MEDIA_DATA_SHARE MEDIA_DATA_TRANSCRIPT MEDIA_DATA_CHAT STREAM_STATE_REQ STREAM_STATE_RESP "
    "STREAM_CLOSE_REQ "
    "STREAM_CLOSE_RESP META_DATA_AUDIO META_DATA_VIDEO META_DATA_SHARE META_DATA_TRANSCRIPT META_DATA_CHAT "
    "VIDEO_SUBSCRIPTION_REQ VIDEO_SUBSCRIPTION_RESP"
)

# §5.2, current table (names without the STATUS_ prefix)
STATUS_CODES = _names(
    "OK INVALID_MESSAGE_TYPE INVALID_RTMS_STREAM_ID INVALID_SIGNATURE INVALID_PAYLOAD INVALID_EVENTS "
    "INVALID_EVENT_TYPE INVALID_MEDIA_TYPE DUPLICATE_SIGNAL_REQUEST MEDIA_TYPE_AUDIO_NOT_SUPPORT "
    "MEDIA_TYPE_VIDEO_NOT_SUPPORT MEDIA_TYPE_DESKSHARE_NOT_SUPPORT MEDIA_TYPE_TRANSCRIPT_NOT_SUPPORT "
    "MEDIA_TYPE_CHAT_NOT_SUPPORT MEDIA_TYPE_INVALID_VALUE MEDIA_DATA_ALL_CONNECTION_EXIST "
    "DUPLICATE_MEDIA_DATA_CONNECTION INVALID_MEDIA_PARAMS INVALID_MEDIA_AUDIO_PARAMS "
    "INVALID_MEDIA_AUDIO_CONTENT_TYPE INVALID_MEDIA_AUDIO_SAMPLE_RATE INVALID_MEDIA_AUDIO_CHANNEL "
    "INVALID_MEDIA_AUDIO_CODEC INVALID_MEDIA_AUDIO_DATA_OPT INVALID_MEDIA_AUDIO_SEND_RATE "
    "INVALID_MEDIA_VIDEO_PARAMS INVALID_MEDIA_VIDEO_CONTENT_TYPE INVALID_MEDIA_VIDEO_CODEC "
    "INVALID_MEDIA_VIDEO_RESOLUTION INVALID_MEDIA_VIDEO_DATA_OPT INVALID_MEDIA_VIDEO_FPS "
    "INVALID_MEDIA_DESKSHARE_PARAMS INVALID_MEDIA_DESKSHARE_CONTENT_TYPE INVALID_MEDIA_DESKSHARE_CODEC "
    "INVALID_MEDIA_DESKSHARE_RESOLUTION INVALID_MEDIA_DESKSHARE_FPS INVALID_MEDIA_TRANSCRIPT_PARAMS "
    "INVALID_MEDIA_TRANSCRIPT_CONTENT_TYPE INVALID_MEDIA_CHAT_PARAMS INVALID_MEDIA_CHAT_CONTENT_TYPE "
    "INVALID_RTMS_SESSION_ID INVALID_CLIENT_READY_ACK INVALID_EVENT_SUBSCRIBE "
    "INVALID_MEDIA_TRANSCRIPT_SOURCE_LANGUAGE DUPLICATE_VIDEO_SUBSCRIPTION INTERNAL_EXCEPTION"
)

# §5.3
STOP_REASONS = _names(
    "UNDEFINED HOST_TRIGGERED USER_TRIGGERED USER_LEFT USER_EJECTED HOST_DISABLED_APP MEETING_ENDED "
    "STREAM_CANCELED STREAM_REVOKED ALL_APPS_DISABLED INTERNAL_EXCEPTION CONNECTION_TIMEOUT "
    "INSTANCE_CONNECTION_INTERRUPTED SIGNAL_CONNECTION_INTERRUPTED DATA_CONNECTION_INTERRUPTED "
    "SIGNAL_CONNECTION_CLOSED_ABNORMALLY DATA_CONNECTION_CLOSED_ABNORMALLY EXIT_SIGNAL "
    "AUTHENTICATION_FAILURE "
    "AWAIT_RECONNECTION_TIMEOUT RECEIVER_REQUEST_CLOSE CUSTOMER_DISCONNECTED AGENT_DISCONNECTED "
    "ADMIN_DISABLED_APP KEEP_ALIVE_TIMEOUT MANUAL_API_TRIGGERED STREAMING_NOT_SUPPORTED"
)

# §5.8
ZCC_EVENTS = _names(
    "CONSUMER_ANSWERED CONSUMER_END USER_ANSWERED USER_END USER_HOLD USER_UNHOLD MONITOR_STARTED "
    "MONITOR_TRANSITIONED MONITOR_ENDED TAKEOVER_STARTED TRANSFER_INITIATED TRANSFER_CANCELED "
    "TRANSFER_ACCEPTED TRANSFER_COMPLETED TRANSFER_REJECTED TRANSFER_TIMEOUT CONFERENCE_CANCELED "
    "CONFERENCE_PARTICIPANT_CANCELED CONFERENCE_PARTICIPANT_INVITED CONFERENCE_PARTICIPANT_REJECTED "
    "CONFERENCE_PARTICIPANT_TIMEOUT CONFERENCE_PARTICIPANT_LEFT"
)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (MessageType, dict(enumerate(MESSAGE_TYPES))),
        (StatusCode, dict(enumerate(STATUS_CODES))),
        (StopReason, dict(enumerate(STOP_REASONS))),
        (SessionState, dict(enumerate(_names("INACTIVE INITIALIZE STARTED PAUSED RESUMED STOPPED")))),
        (
            StreamState,
            dict(enumerate(_names("INACTIVE ACTIVE INTERRUPTED TERMINATING TERMINATED PAUSED RESUMED"))),
        ),
        (ContentType, dict(enumerate(_names("UNDEFINED RTP RAW_AUDIO RAW_VIDEO FILE_STREAM TEXT")))),
        (Codec, dict(enumerate(_names("UNDEFINED L16 G711 G722 OPUS JPG PNG H264")))),
        (SampleRate, dict(enumerate(_names("SR_8K SR_16K SR_32K SR_48K")))),
        (AudioChannel, {1: "MONO", 2: "STEREO"}),
        (Resolution, {1: "SD", 2: "HD", 3: "FHD", 4: "QHD"}),
        (
            DataOption,
            dict(
                enumerate(
                    _names(
                        "UNDEFINED AUDIO_MIXED_STREAM AUDIO_MULTI_STREAMS VIDEO_SINGLE_ACTIVE_STREAM "
                        "VIDEO_SINGLE_INDIVIDUAL_STREAM VIDEO_MIXED_GALLERY_VIEW"
                    )
                )
            ),
        ),
        (TransmissionProtocol, {1: "WEBSOCKET", 2: "RTMP", 3: "UDP", 4: "WEBRTC"}),
        (DataMessageAttribute, dict(enumerate(_names("ATTR_NONE ATTR_NEW ATTR_UPDATE ATTR_DELETE")))),
        (
            EventType,
            dict(
                enumerate(
                    _names(
                        "UNDEFINED FIRST_PACKET_TIMESTAMP ACTIVE_SPEAKER_CHANGE PARTICIPANT_JOIN "
                        "PARTICIPANT_LEAVE "
                        "SHARING_START SHARING_STOP MEDIA_CONNECTION_INTERRUPTED PARTICIPANT_VIDEO_ON "
                        "PARTICIPANT_VIDEO_OFF CHAT_GROUP_CREATE CHAT_GROUP_DELETE CHAT_GROUP_MEMBERS_ADD "
                        "CHAT_GROUP_MEMBERS_DELETE CHAT_GROUP_MEMBER_STATUS_UPDATE"
                    )
                )
            ),
        ),
        (ZccVoiceEventType, dict(enumerate(ZCC_EVENTS, start=8))),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)
def test_enum_is_exactly_the_reference_table(kind: type[enum.Enum], expected: dict[int, str]) -> None:
    assert _table(kind) == expected


def test_message_type_0_to_29() -> None:
    assert [int(t) for t in MessageType] == list(range(30))


def test_status_code_0_to_45() -> None:
    assert [int(c) for c in StatusCode] == list(range(46))
    assert int(StatusCode.INVALID_SIGNATURE) == 3
    assert int(StatusCode.DUPLICATE_SIGNAL_REQUEST) == 8
    assert int(StatusCode.DUPLICATE_MEDIA_DATA_CONNECTION) == 16
    assert int(StatusCode.MEDIA_DATA_ALL_CONNECTION_EXIST) == 15
    assert StatusCode.INVALID_SIGNATURE.zoom_name == "STATUS_INVALID_SIGNATURE"


def test_legacy_status_code_0_to_75() -> None:
    assert [int(c) for c in LegacyStatusCode] == list(range(76))
    assert LegacyStatusCode(0).name == "OK"
    assert LegacyStatusCode(1).name == "CONNECTION_TIMEOUT"
    assert LegacyStatusCode(2).name == "INVALID_JSON_MSG_SIZE"
    assert LegacyStatusCode(3).name == "INVALID_JSON_MSG"
    assert LegacyStatusCode(13).name == "SESSION_NOT_FOUND"
    assert LegacyStatusCode(14).name == "SIGNATURE_NOT_EXIST"
    assert LegacyStatusCode(15).name == "INVALID_SIGNATURE"
    assert LegacyStatusCode(16).name == "INVALID_MEETING_OR_STREAM_ID"
    assert LegacyStatusCode(17).name == "DUPLICATE_SIGNAL_REQUEST"
    assert LegacyStatusCode(30).name == "MEDIA_DATA_ALL_CONNECTION_EXIST"
    assert LegacyStatusCode(31).name == "DUPLICATE_MEDIA_DATA_CONNECTION"


def test_stop_reason_0_to_26() -> None:
    assert [int(r) for r in StopReason] == list(range(27))
    assert StopReason.MEETING_ENDED.zoom_name == "STOP_BC_MEETING_ENDED"
    assert int(StopReason.AUTHENTICATION_FAILURE) == 18
    assert int(StopReason.RECEIVER_REQUEST_CLOSE) == 20
    assert int(StopReason.KEEP_ALIVE_TIMEOUT) == 24
    assert StopReason.UNDEFINED.zoom_name == "UNDEFINED"


def test_media_type_bits() -> None:
    assert {name: int(m) for name, m in MediaType.__members__.items()} == {
        "UNDEFINED": 0,
        "AUDIO": 1,
        "VIDEO": 2,
        "DESKSHARE": 4,
        "TRANSCRIPT": 8,
        "CHAT": 16,
        "ALL": 32,
    }
    # ALL is its own bit, not the union of the others (§5.6)
    union = MediaType.AUDIO | MediaType.VIDEO | MediaType.DESKSHARE | MediaType.TRANSCRIPT | MediaType.CHAT
    assert int(union) == 31
    assert MediaType.ALL not in union
    assert MediaType.singles() == (
        MediaType.AUDIO,
        MediaType.VIDEO,
        MediaType.DESKSHARE,
        MediaType.TRANSCRIPT,
        MediaType.CHAT,
    )
    assert [m.key for m in (*MediaType.singles(), MediaType.ALL)] == [
        "audio",
        "video",
        "deskshare",
        "transcript",
        "chat",
        "all",
    ]


def test_sample_rate_hertz() -> None:
    assert [r.hertz for r in SampleRate] == [8000, 16000, 32000, 48000]


def test_resolution_size() -> None:
    assert [r.size for r in Resolution] == [(854, 480), (1280, 720), (1920, 1080), (2560, 1440)]


def test_transcript_language() -> None:
    assert len(TranscriptLanguage) == 38
    assert [int(lang) for lang in TranscriptLanguage] == list(range(-1, 37))
    assert int(TranscriptLanguage.NONE) == -1
    assert int(TranscriptLanguage.ARABIC) == 0
    assert int(TranscriptLanguage.ENGLISH) == 9
    assert int(TranscriptLanguage.VIETNAMESE) == 36


def test_zcc_voice_events_8_to_29() -> None:
    assert [int(e) for e in ZccVoiceEventType] == list(range(8, 30))


# --- status tables ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meaning", "current", "legacy"),
    [
        (StatusCode.OK, 0, 0),
        (StatusCode.INVALID_SIGNATURE, 3, 15),
        (StatusCode.DUPLICATE_SIGNAL_REQUEST, 8, 17),
        (StatusCode.MEDIA_DATA_ALL_CONNECTION_EXIST, 15, 30),
        (StatusCode.DUPLICATE_MEDIA_DATA_CONNECTION, 16, 31),
        (StatusCode.INVALID_MESSAGE_TYPE, 1, 4),
        (StatusCode.INVALID_RTMS_STREAM_ID, 2, 16),
    ],
)
def test_status_table_codes(meaning: StatusCode, current: int, legacy: int) -> None:
    assert StatusTable.CURRENT.code(meaning) == current
    assert StatusTable.LEGACY.code(meaning) == legacy


@pytest.mark.parametrize("meaning", list(StatusCode), ids=lambda c: c.name)
def test_every_status_code_has_a_code_in_both_tables(meaning: StatusCode) -> None:
    assert StatusTable.CURRENT.code(meaning) == int(meaning)
    legacy = StatusTable.LEGACY.code(meaning)
    assert type(legacy) is int
    assert legacy in {int(c) for c in LegacyStatusCode}
    # success stays success, failure stays failure
    assert (legacy == 0) == (meaning is StatusCode.OK)
    if meaning.name in LegacyStatusCode.__members__:
        assert legacy == LegacyStatusCode[meaning.name]


@pytest.mark.parametrize(
    ("table", "value", "name"),
    [
        (StatusTable.CURRENT, 0, "STATUS_OK"),
        (StatusTable.CURRENT, 3, "STATUS_INVALID_SIGNATURE"),
        (StatusTable.CURRENT, 8, "STATUS_DUPLICATE_SIGNAL_REQUEST"),
        (StatusTable.CURRENT, 45, "STATUS_INTERNAL_EXCEPTION"),
        (StatusTable.CURRENT, 46, "STATUS_46"),
        (StatusTable.CURRENT, -1, "STATUS_-1"),
        (StatusTable.LEGACY, 3, "STATUS_INVALID_JSON_MSG"),
        (StatusTable.LEGACY, 15, "STATUS_INVALID_SIGNATURE"),
        (StatusTable.LEGACY, 17, "STATUS_DUPLICATE_SIGNAL_REQUEST"),
        (StatusTable.LEGACY, 75, "STATUS_RTMS_SESSION_NOT_FOUND"),
        (StatusTable.LEGACY, 76, "STATUS_76"),
    ],
)
def test_status_table_name_of(table: StatusTable, value: int, name: str) -> None:
    assert table.name_of(value) == name


def test_status_tables_round_trip_names() -> None:
    for meaning in StatusCode:
        assert StatusTable.CURRENT.name_of(StatusTable.CURRENT.code(meaning)) == meaning.zoom_name


# --- describe --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "text"),
    [
        (MessageType, 1, "SIGNALING_HAND_SHAKE_REQ (1)"),
        (MessageType, 29, "VIDEO_SUBSCRIPTION_RESP (29)"),
        (MessageType, 30, "unknown MessageType (30)"),
        (StatusCode, 3, "STATUS_INVALID_SIGNATURE (3)"),
        (StatusCode, 99, "unknown StatusCode (99)"),
        (LegacyStatusCode, 15, "STATUS_INVALID_SIGNATURE (15)"),
        (StopReason, 0, "UNDEFINED (0)"),
        (StopReason, 6, "STOP_BC_MEETING_ENDED (6)"),
        (StopReason, 18, "STOP_BC_AUTHENTICATION_FAILURE (18)"),
        (StopReason, 27, "unknown StopReason (27)"),
        (StopReason, -1, "unknown StopReason (-1)"),
        (StreamState, 4, "TERMINATED (4)"),
        (EventType, 3, "PARTICIPANT_JOIN (3)"),
        (ZccVoiceEventType, 7, "unknown ZccVoiceEventType (7)"),
        (TranscriptLanguage, -1, "NONE (-1)"),
    ],
)
def test_describe(kind: type[enum.IntEnum], value: int, text: str) -> None:
    assert describe(kind, value) == text
