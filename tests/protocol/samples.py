"""Shared test data: the reference's test vectors and one full instance of every message."""

from __future__ import annotations

from typing import TypedDict

from connector.protocol import (
    AudioParams,
    ChatContent,
    ChatParams,
    ClientReadyAck,
    DataHandshakeReq,
    DataHandshakeResp,
    DeskshareParams,
    Event,
    EventSubscription,
    EventUpdate,
    KeepAliveReq,
    KeepAliveResp,
    MediaContent,
    MediaDataAudio,
    MediaDataChat,
    MediaDataShare,
    MediaDataTranscript,
    MediaDataVideo,
    MediaParams,
    MediaServer,
    Message,
    MessageType,
    MetaDataAudio,
    MetaDataChat,
    MetaDataShare,
    MetaDataTranscript,
    MetaDataVideo,
    Participant,
    SessionStateReq,
    SessionStateResp,
    SessionStateUpdate,
    SignalingHandshakeReq,
    SignalingHandshakeResp,
    StreamCloseReq,
    StreamCloseResp,
    StreamStateReq,
    StreamStateResp,
    StreamStateUpdate,
    Subscription,
    TranscriptContent,
    TranscriptParams,
    VideoParams,
    VideoSubscriptionReq,
    VideoSubscriptionResp,
)

# --- reference §2 ---------------------------------------------------------------------------
CLIENT_ID = "test_client_id"
CLIENT_SECRET = "test_secret"
MEETING_UUID = "4444AAAiAAAAAiAiAiiAii=="
STREAM_ID = "stream-abc"
HANDSHAKE_SIGNATURE = "ef24b2a8b6e34b8c042edd249f9257e29f13ab3144ca803d7f061f28b2bb1ddf"

# --- reference §7.2, §7.3 -------------------------------------------------------------------
WEBHOOK_SECRET = "whsec"
PLAIN_TOKEN = "plaintoken123"
ENCRYPTED_TOKEN = "a14ab6fc5605d6c62111fcd226d2a32af323e4a177a2f9131491ef070b0540b0"
WEBHOOK_TIMESTAMP = 1727384100
WEBHOOK_BODY = (
    b'{"event":"meeting.rtms_started","event_ts":1727384100000,"payload":{"meeting_uuid":'
    b'"4444AAAiAAAAAiAiAiiAii==","operator_id":"30R7kT7bTIKSNUFEuH_Qlg","rtms_stream_id":"stream-abc",'
    b'"server_urls":"wss://127.0.0.1:8443/signal"}}'
)
WEBHOOK_SIGNATURE = "v0=33ea16a561d82f1707ad500ec57c0798eae32dbac60696ef19cd5d477f03d74f"

# --- reference §4.1: the exact first frame of the official SDK (binary, JsonCpp style) -------
SDK_HANDSHAKE_FRAME = (
    b"{\n"
    b'\t"meeting_uuid" : "4444AAAiAAAAAiAiAiiAii==",\n'
    b'\t"msg_type" : 1,\n'
    b'\t"protocol_version" : 1,\n'
    b'\t"rtms_client_agent" : "rtms_sdk_cpp-.0.20260319-python-rtms",\n'
    b'\t"rtms_stream_id" : "stream-abc",\n'
    b'\t"sequence" : 37016,\n'
    b'\t"signature" : "ef24b2a8b6e34b8c042edd249f9257e29f13ab3144ca803d7f061f28b2bb1ddf"\n'
    b"}\n"
)


class HandshakeIds(TypedDict):
    meeting_uuid: str
    rtms_stream_id: str
    signature: str


# the ids of msg 1 and msg 3, short, for messages whose ids do not matter
HS = HandshakeIds(meeting_uuid="m-1", rtms_stream_id="s-1", signature="sig")

_URLS = {
    key: f"wss://127.0.0.1:8443/{key}" for key in ("audio", "video", "transcript", "deskshare", "chat", "all")
}

# One instance of every message with every optional field set, so a field the codec drops
# or renames breaks the round trip.
SAMPLES: dict[MessageType, Message] = {
    m.MSG_TYPE: m
    for m in (
        SignalingHandshakeReq(
            protocol_version=1,
            sequence=37016,
            meeting_uuid=MEETING_UUID,
            rtms_stream_id=STREAM_ID,
            signature=HANDSHAKE_SIGNATURE,
            rtms_client_agent="rtms_sdk_cpp-.0.20260319-python-rtms",
            buffer_data=False,
        ),
        SignalingHandshakeResp(
            sequence=1, status_code=0, reason="", media_server=MediaServer(server_urls=_URLS)
        ),
        DataHandshakeReq(
            sequence=37036,
            meeting_uuid=MEETING_UUID,
            rtms_stream_id=STREAM_ID,
            signature=HANDSHAKE_SIGNATURE,
            media_type=32,
            media_params=MediaParams(
                audio=AudioParams(
                    content_type=2,
                    sample_rate=1,
                    channel=1,
                    codec=1,
                    data_opt=1,
                    send_rate=100,
                    frame_size=1600,
                ),
                video=VideoParams(content_type=3, codec=5, resolution=2, data_opt=4, fps=5),
                deskshare=DeskshareParams(content_type=3, codec=5, resolution=3, fps=1),
                transcript=TranscriptParams(content_type=5, src_language=9, enable_lid=True),
                chat=ChatParams(content_type=5),
            ),
            payload_encryption=False,
        ),
        DataHandshakeResp(
            status_code=0,
            reason="",
            payload_encrypted=False,
            media_params=MediaParams(audio=AudioParams(content_type=2, codec=4, sample_rate=3, channel=2)),
        ),
        EventSubscription(
            events=(Subscription(event_type=2, subscribe=True), Subscription(event_type=3, subscribe=False))
        ),
        EventUpdate(
            event=Event(
                event_type=3,
                timestamp=1727384349123,
                user_id=16778240,
                user_name="John Smith",
                participants=(
                    Participant(user_id=16778240, user_name="John Smith"),
                    Participant(user_id="u-2"),
                ),
                media_type=2,
            )
        ),
        ClientReadyAck(rtms_stream_id=STREAM_ID),
        StreamStateUpdate(
            rtms_stream_id=STREAM_ID, state=4, reason=6, stop_reason=6, timestamp=1727384349123
        ),
        SessionStateUpdate(
            rtms_session_id="sess-1", state=5, reason=1, stop_reason=1, timestamp=1727384349123
        ),
        SessionStateReq(rtms_session_id="sess-1"),
        SessionStateResp(rtms_session_id="sess-1", state=1, timestamp=1727384349123),
        KeepAliveReq(timestamp=1795264973549, sequence=1),
        KeepAliveResp(timestamp=1795264973549, sequence=1),
        MediaDataAudio(
            content=MediaContent(
                user_id=16778240,
                user_name="John Smith",
                channel_id="sip-1",
                data=bytes(range(256)),
                length=256,
                timestamp=1738392033699,
            )
        ),
        MediaDataVideo(
            content=MediaContent(user_id=16778240, data=b"\xff\xd8\xff\xe0", length=4, timestamp=1)
        ),
        MediaDataShare(content=MediaContent(user_id="16778240", data=b"\x89PNG\r\n", length=6, timestamp=2)),
        MediaDataTranscript(
            content=TranscriptContent(
                user_id=19778240,
                user_name="John Smith",
                channel_id="sip-1",
                data="Hi, hello world! \u00e9\u4e16\U0001f600",
                start_time=1727384100000,
                end_time=1727384310000,
                timestamp=1727384349000,
                language=9,
                attribute=1,
            )
        ),
        MediaDataChat(
            content=ChatContent(user_id=1, user_name="A", data="Chat message", timestamp=1727384349000)
        ),
        StreamStateReq(rtms_stream_id=STREAM_ID),
        StreamStateResp(rtms_stream_id=STREAM_ID, state=1, reason=0, timestamp=1694204592),
        StreamCloseReq(rtms_stream_id=STREAM_ID),
        StreamCloseResp(rtms_stream_id=STREAM_ID, status_code=0, reason="OK", timestamp=1694204592),
        MetaDataAudio(
            content={
                "interpreter": {"lid": 9, "timestamp": 1, "channel": 1, "sample_rate": 16000},
                "target": [{"lid": 14, "tone": "neutral", "voice_id": "v1", "engine": "e"}],
                "speaker": [{"lid": 9, "user_id": 16778240}],
                "ratio": 0.5,
                "none": None,
            }
        ),
        MetaDataVideo(content={"k": [1, "two", True]}),
        MetaDataShare(content={}),
        MetaDataTranscript(content={"nested": {"deeper": {"x": -1}}}),
        MetaDataChat(content={"text": "hi"}),
        VideoSubscriptionReq(user_id=16778240, subscribe=True, timestamp=39996),
        VideoSubscriptionResp(user_id=16778240, status_code=0, reason="OK", timestamp=1738392033699),
    )
}
