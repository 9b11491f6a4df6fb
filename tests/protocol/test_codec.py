"""Frames to messages and back, reference §4 and §1.1."""

from __future__ import annotations

import base64
import json

import msgspec
import pytest

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
    decode,
    encode,
)
from connector.protocol.messages import MESSAGE_TYPES

from .samples import HANDSHAKE_SIGNATURE, HS, MEETING_UUID, SAMPLES, SDK_HANDSHAKE_FRAME, STREAM_ID

# --- §4.1: the SDK's own frame ---------------------------------------------------------------

SDK_HANDSHAKE = SignalingHandshakeReq(
    protocol_version=1,
    sequence=37016,
    meeting_uuid=MEETING_UUID,
    rtms_stream_id=STREAM_ID,
    signature=HANDSHAKE_SIGNATURE,
    rtms_client_agent="rtms_sdk_cpp-.0.20260319-python-rtms",
)


def test_decode_the_sdk_handshake_frame() -> None:
    assert SDK_HANDSHAKE_FRAME.startswith(b'{\n\t"meeting_uuid" : ')
    assert SDK_HANDSHAKE_FRAME.endswith(b"\n}\n")
    message = decode(SDK_HANDSHAKE_FRAME)
    assert message == SDK_HANDSHAKE
    assert message.msg_type is MessageType.SIGNALING_HAND_SHAKE_REQ
    assert isinstance(message, SignalingHandshakeReq)
    assert message.buffer_data is msgspec.UNSET


def test_decode_the_sdk_handshake_frame_as_text() -> None:
    assert decode(SDK_HANDSHAKE_FRAME.decode()) == SDK_HANDSHAKE


def test_pretty_encoding_reproduces_the_sdk_frame_byte_for_byte() -> None:
    assert encode(SDK_HANDSHAKE, pretty=True) == SDK_HANDSHAKE_FRAME


def test_compact_encoding() -> None:
    assert encode(KeepAliveResp(timestamp=1795264973549, sequence=1)) == (
        b'{"msg_type":13,"timestamp":1795264973549,"sequence":1}'
    )


# --- §4: the documented and observed examples ---------------------------------------------

URLS = {
    "audio": "wss://host/audio",
    "video": "wss://host/video",
    "transcript": "wss://host/transcript",
    "deskshare": "wss://host/deskshare",
    "chat": "wss://host/chat",
    "all": "wss://host/all",
}
TS = 1727384349123


def _data_req(media_type: int, media_params: MediaParams | None, sequence: int = 37036) -> DataHandshakeReq:
    return DataHandshakeReq(sequence=sequence, media_type=media_type, media_params=media_params, **HS)


EXAMPLES: list[tuple[str, Message]] = [
    # §4.1
    (SDK_HANDSHAKE_FRAME.decode(), SDK_HANDSHAKE),
    (
        '{"msg_type":1,"protocol_version":1,"sequence":1,"meeting_uuid":"m-1","rtms_stream_id":"s-1",'
        '"signature":"sig","buffer_data":false}',
        SignalingHandshakeReq(sequence=1, buffer_data=False, **HS),
    ),
    (
        '{"msg_type":1,"sequence":4294820112,"meeting_uuid":"m-1","rtms_stream_id":"s-1","signature":"sig"}',
        SignalingHandshakeReq(sequence=4294820112, **HS),
    ),
    # §4.2
    (
        '{"msg_type":2,"protocol_version":1,"sequence":0,"status_code":0,"reason":"",'
        '"media_server":{"server_urls":{"audio":"wss://host/audio","video":"wss://host/video",'
        '"transcript":"wss://host/transcript","deskshare":"wss://host/deskshare","chat":"wss://host/chat",'
        '"all":"wss://host/all"}}}',
        SignalingHandshakeResp(status_code=0, reason="", media_server=MediaServer(server_urls=URLS)),
    ),
    ('{"msg_type":2,"status_code":3}', SignalingHandshakeResp(status_code=3)),
    # §4.3, docs variant: one socket for everything
    (
        '{"msg_type":3,"protocol_version":1,"sequence":0,"meeting_uuid":"m-1","rtms_stream_id":"s-1",'
        '"signature":"sig","media_type":32,"media_params":{'
        '"audio":{"content_type":2,"sample_rate":1,"channel":1,"codec":1,"data_opt":1,"send_rate":100},'
        '"video":{"codec":5,"resolution":2,"fps":5},'
        '"deskshare":{"codec":5,"resolution":3,"fps":1},'
        '"transcript":{"content_type":5,"src_language":9,"enable_lid":true}}}',
        _data_req(
            32,
            MediaParams(
                audio=AudioParams(
                    content_type=2, sample_rate=1, channel=1, codec=1, data_opt=1, send_rate=100
                ),
                video=VideoParams(codec=5, resolution=2, fps=5),
                deskshare=DeskshareParams(codec=5, resolution=3, fps=1),
                transcript=TranscriptParams(content_type=5, src_language=9, enable_lid=True),
            ),
            sequence=0,
        ),
    ),
    # §4.3, SDK variants
    (
        '{"media_params":{"audio":{"channel":2,"codec":4,"content_type":2,"data_opt":2,"sample_rate":3,'
        '"send_rate":20}},"media_type":1,"meeting_uuid":"m-1","msg_type":3,"protocol_version":1,'
        '"rtms_stream_id":"s-1","sequence":37036,"signature":"sig"}',
        _data_req(
            1,
            MediaParams(
                audio=AudioParams(channel=2, codec=4, content_type=2, data_opt=2, sample_rate=3, send_rate=20)
            ),
        ),
    ),
    (
        '{"media_params":{"video":{"codec":7,"content_type":3,"data_opt":3,"fps":30,"resolution":2}},'
        '"media_type":2,"meeting_uuid":"m-1","msg_type":3,"protocol_version":1,"rtms_stream_id":"s-1",'
        '"sequence":37036,"signature":"sig"}',
        _data_req(
            2, MediaParams(video=VideoParams(codec=7, content_type=3, data_opt=3, fps=30, resolution=2))
        ),
    ),
    (
        '{"media_params":{"video":{"codec":5,"content_type":3,"data_opt":4,"fps":5,"resolution":2}},'
        '"media_type":2,"meeting_uuid":"m-1","msg_type":3,"protocol_version":1,"rtms_stream_id":"s-1",'
        '"sequence":37036,"signature":"sig"}',
        _data_req(
            2, MediaParams(video=VideoParams(codec=5, content_type=3, data_opt=4, fps=5, resolution=2))
        ),
    ),
    (
        '{"media_params":{"deskshare":{"codec":7,"content_type":3,"fps":30,"resolution":2}},'
        '"media_type":4,"meeting_uuid":"m-1","msg_type":3,"protocol_version":1,"rtms_stream_id":"s-1",'
        '"sequence":37036,"signature":"sig"}',
        _data_req(4, MediaParams(deskshare=DeskshareParams(codec=7, content_type=3, fps=30, resolution=2))),
    ),
    (
        '{\n\t"media_params" : null,\n\t"media_type" : 8,\n\t"meeting_uuid" : "m-1",\n\t"msg_type" : 3,\n'
        '\t"protocol_version" : 1,\n\t"rtms_stream_id" : "s-1",\n\t"sequence" : 37036,\n'
        '\t"signature" : "sig"\n}\n',
        _data_req(8, None),
    ),
    (
        '{"media_params":{"transcript":{"content_type":5,"enable_lid":false,"src_language":9}},'
        '"media_type":8,"meeting_uuid":"m-1","msg_type":3,"protocol_version":1,"rtms_stream_id":"s-1",'
        '"sequence":37036,"signature":"sig"}',
        _data_req(
            8, MediaParams(transcript=TranscriptParams(content_type=5, enable_lid=False, src_language=9))
        ),
    ),
    (
        '{"media_params":{"audio":{"channel":1,"codec":1,"content_type":2,"data_opt":1,"sample_rate":1,'
        '"send_rate":100}},"media_type":1,"meeting_uuid":"m-1","msg_type":3,"protocol_version":1,'
        '"rtms_stream_id":"s-1","sequence":37036,"signature":"sig"}',
        _data_req(
            1,
            MediaParams(
                audio=AudioParams(
                    channel=1, codec=1, content_type=2, data_opt=1, sample_rate=1, send_rate=100
                )
            ),
        ),
    ),
    # §4.4
    (
        '{"msg_type":4,"protocol_version":1,"status_code":0,"reason":"","sequence":0,"payload_encrypted":false,'
        '"media_params":{"audio":{"content_type":2,"sample_rate":1,"channel":1,"codec":1,"data_opt":1,'
        '"send_rate":100},"video":{"content_type":3,"codec":5,"resolution":2,"data_opt":3,"fps":5},'
        '"deskshare":{"content_type":3,"codec":5,"resolution":3,"fps":1},'
        '"transcript":{"content_type":5,"src_language":9,"enable_lid":true},"chat":{"content_type":5}}}',
        DataHandshakeResp(
            status_code=0,
            payload_encrypted=False,
            media_params=MediaParams(
                audio=AudioParams(
                    content_type=2, sample_rate=1, channel=1, codec=1, data_opt=1, send_rate=100
                ),
                video=VideoParams(content_type=3, codec=5, resolution=2, data_opt=3, fps=5),
                deskshare=DeskshareParams(content_type=3, codec=5, resolution=3, fps=1),
                transcript=TranscriptParams(content_type=5, src_language=9, enable_lid=True),
                chat=ChatParams(content_type=5),
            ),
        ),
    ),
    (
        '{"msg_type":4,"status_code":0,"payload_encrypted":false,"media_params":null}',
        DataHandshakeResp(status_code=0, media_params=None),
    ),
    (
        '{"msg_type":4,"status_code":17,"reason":"bad params"}',
        DataHandshakeResp(status_code=17, reason="bad params"),
    ),
    # §4.5
    (
        '{"msg_type":5,"events":[{"event_type":2,"subscribe":true},{"event_type":3,"subscribe":true}]}',
        EventSubscription(
            events=(Subscription(event_type=2, subscribe=True), Subscription(event_type=3, subscribe=True))
        ),
    ),
    ('{"msg_type":5,"events":[]}', EventSubscription(events=())),
    # §4.6, every example
    (
        '{"msg_type":6,"event":{"event_type":1,"timestamp":1727384349123}}',
        EventUpdate(event=Event(event_type=1, timestamp=TS)),
    ),
    (
        '{"msg_type":6,"event":{"event_type":2,"timestamp":1727384349123,"user_id":22334455,'
        '"user_name":"John Smith"}}',
        EventUpdate(event=Event(event_type=2, timestamp=TS, user_id=22334455, user_name="John Smith")),
    ),
    (
        '{"msg_type":6,"event":{"event_type":3,"timestamp":1727384349123,'
        '"participants":[{"user_id":16778240,"user_name":"John Smith"}]}}',
        EventUpdate(
            event=Event(
                event_type=3,
                timestamp=TS,
                participants=(Participant(user_id=16778240, user_name="John Smith"),),
            )
        ),
    ),
    (
        '{"msg_type":6,"event":{"event_type":4,"timestamp":1727384349123,"participants":[{"user_id":16778240}]}}',
        EventUpdate(event=Event(event_type=4, timestamp=TS, participants=(Participant(user_id=16778240),))),
    ),
    (
        '{"msg_type":6,"event":{"event_type":5,"timestamp":1727384349123,"user_id":16778240,'
        '"user_name":"John Smith"}}',
        EventUpdate(event=Event(event_type=5, timestamp=TS, user_id=16778240, user_name="John Smith")),
    ),
    (
        '{"msg_type":6,"event":{"event_type":6,"timestamp":1727384349123}}',
        EventUpdate(event=Event(event_type=6, timestamp=TS)),
    ),
    (
        '{"msg_type":6,"event":{"event_type":7,"timestamp":1727384349123}}',
        EventUpdate(event=Event(event_type=7, timestamp=TS)),
    ),
    (
        '{"msg_type":6,"event":{"event_type":8,"timestamp":1727384349123,"participants":[{"user_id":16778240}]}}',
        EventUpdate(event=Event(event_type=8, timestamp=TS, participants=(Participant(user_id=16778240),))),
    ),
    (
        '{"msg_type":6,"event":{"event_type":9,"timestamp":1727384349123,"participants":[{"user_id":16778240}]}}',
        EventUpdate(event=Event(event_type=9, timestamp=TS, participants=(Participant(user_id=16778240),))),
    ),
    (
        # the docs' string placeholder for participant ids (§4.6, §10.5) stays a string
        '{"msg_type":6,"event":{"event_type":3,"timestamp":1727384349123,"participants":[{"user_id":"xxxxxxxxxx"}]}}',
        EventUpdate(
            event=Event(event_type=3, timestamp=TS, participants=(Participant(user_id="xxxxxxxxxx"),))
        ),
    ),
    # §4.7
    ('{"msg_type":7,"rtms_stream_id":"stream-abc"}', ClientReadyAck(rtms_stream_id="stream-abc")),
    # §4.8
    (
        '{"msg_type":8,"rtms_stream_id":"s-1","state":4,"reason":6,"timestamp":1727384349123}',
        StreamStateUpdate(rtms_stream_id="s-1", state=4, reason=6, timestamp=TS),
    ),
    (
        '{"msg_type":8,"state":4,"stop_reason":20,"timestamp":1727384349123}',
        StreamStateUpdate(state=4, stop_reason=20, timestamp=TS),
    ),
    # §4.9
    (
        '{"msg_type":9,"rtms_session_id":"sess","state":2,"timestamp":1727384349123}',
        SessionStateUpdate(rtms_session_id="sess", state=2, timestamp=TS),
    ),
    (
        '{"msg_type":9,"rtms_session_id":"sess","state":5,"reason":1,"timestamp":1727384349123}',
        SessionStateUpdate(rtms_session_id="sess", state=5, reason=1, timestamp=TS),
    ),
    # §4.10
    ('{"msg_type":10,"rtms_session_id":"sess"}', SessionStateReq(rtms_session_id="sess")),
    (
        '{"msg_type":11,"rtms_session_id":"sess","state":1,"timestamp":1727384349123}',
        SessionStateResp(rtms_session_id="sess", state=1, timestamp=TS),
    ),
    # §4.11, with and without sequence
    (
        '{"msg_type":12,"timestamp":1795264973549,"sequence":1}',
        KeepAliveReq(timestamp=1795264973549, sequence=1),
    ),
    ('{"msg_type":12,"timestamp":1795264973549}', KeepAliveReq(timestamp=1795264973549)),
    (
        '{"msg_type":13,"timestamp":1795264973549,"sequence":1}',
        KeepAliveResp(timestamp=1795264973549, sequence=1),
    ),
    ('{"msg_type":13,"timestamp":1795264973549}', KeepAliveResp(timestamp=1795264973549)),
    # §4.12
    (
        '{"msg_type":14,"content":{"user_id":16778240,"user_name":"John Smith","data":"AAECAwQ=","length":5,'
        '"timestamp":1738392033699}}',
        MediaDataAudio(
            content=MediaContent(
                user_id=16778240,
                user_name="John Smith",
                data=b"\x00\x01\x02\x03\x04",
                length=5,
                timestamp=1738392033699,
            )
        ),
    ),
    (
        '{"msg_type":14,"content":{"user_id":0,"data":"","timestamp":1738392033699}}',
        MediaDataAudio(content=MediaContent(user_id=0, data=b"", timestamp=1738392033699)),
    ),
    (
        '{"msg_type":14,"content":{"channel_id":"ch-7","data":"/w==","timestamp":1}}',
        MediaDataAudio(content=MediaContent(channel_id="ch-7", data=b"\xff", timestamp=1)),
    ),
    (
        '{"msg_type":15,"content":{"user_id":16778240,"user_name":"John Smith","data":"/9j/4A==","length":4,'
        '"timestamp":1738392033699}}',
        MediaDataVideo(
            content=MediaContent(
                user_id=16778240,
                user_name="John Smith",
                data=b"\xff\xd8\xff\xe0",
                length=4,
                timestamp=1738392033699,
            )
        ),
    ),
    (
        '{"msg_type":16,"content":{"user_id":16778240,"user_name":"John Smith","data":"iVBORw==","length":4,'
        '"timestamp":1738392033699}}',
        MediaDataShare(
            content=MediaContent(
                user_id=16778240, user_name="John Smith", data=b"\x89PNG", length=4, timestamp=1738392033699
            )
        ),
    ),
    (
        '{"msg_type":17,"content":{"user_id":19778240,"user_name":"John Smith","start_time":1727384100000,'
        '"end_time":1727384310000,"timestamp":1727384349000,"language":9,"data":"Hi, hello world!"}}',
        MediaDataTranscript(
            content=TranscriptContent(
                user_id=19778240,
                user_name="John Smith",
                start_time=1727384100000,
                end_time=1727384310000,
                timestamp=1727384349000,
                language=9,
                data="Hi, hello world!",
            )
        ),
    ),
    (
        '{"msg_type":18,"content":{"timestamp":1727384349000,"data":"Chat message"}}',
        MediaDataChat(content=ChatContent(timestamp=1727384349000, data="Chat message")),
    ),
    # §4.13
    ('{"msg_type":19,"rtms_stream_id":"s-1"}', StreamStateReq(rtms_stream_id="s-1")),
    (
        '{"msg_type":20,"state":1,"rtms_stream_id":"s-1","timestamp":1694204592}',
        StreamStateResp(state=1, rtms_stream_id="s-1", timestamp=1694204592),
    ),
    # §4.14
    ('{"msg_type":21,"rtms_stream_id":"s-1"}', StreamCloseReq(rtms_stream_id="s-1")),
    (
        '{"msg_type":22,"rtms_stream_id":"s-1","status_code":0,"reason":"OK","timestamp":1694204592}',
        StreamCloseResp(rtms_stream_id="s-1", status_code=0, reason="OK", timestamp=1694204592),
    ),
    # §4.15
    (
        '{"msg_type":23,"content":{"interpreter":{"lid":9},"target":[{"lid":14,"tone":"t"}]}}',
        MetaDataAudio(content={"interpreter": {"lid": 9}, "target": [{"lid": 14, "tone": "t"}]}),
    ),
    # §4.16
    (
        '{"msg_type":28,"user_id":16778240,"subscribe":true,"timestamp":1738392033699}',
        VideoSubscriptionReq(user_id=16778240, subscribe=True, timestamp=1738392033699),
    ),
    (
        '{"msg_type":29,"user_id":16778240,"status_code":0,"reason":"OK","timestamp":1738392033699}',
        VideoSubscriptionResp(user_id=16778240, status_code=0, reason="OK", timestamp=1738392033699),
    ),
]


@pytest.mark.parametrize(("frame", "expected"), EXAMPLES)
def test_decode_documented_example(frame: str, expected: Message) -> None:
    assert decode(frame) == expected
    assert decode(frame.encode()) == expected
    assert decode(frame).msg_type == json.loads(frame)["msg_type"]


def test_examples_cover_every_message_but_reserved_metadata() -> None:
    covered = {type(message).MSG_TYPE for _, message in EXAMPLES}
    reserved = {MessageType(t) for t in range(24, 28)}
    assert covered == set(MESSAGE_TYPES) - reserved


def test_unknown_fields_are_ignored() -> None:
    # Zoom adds fields over time (length, buffer_data, ...): a new key must not break decoding.
    frame = '{"msg_type":12,"timestamp":1,"sequence":2,"region":"sjc","extra":[1,{"a":null}]}'
    assert decode(frame) == KeepAliveReq(timestamp=1, sequence=2)


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ('{"msg_type":8,"state":4,"reason":6}', 6),
        ('{"msg_type":8,"state":4,"stop_reason":24}', 24),
        ('{"msg_type":8,"state":4,"reason":6,"stop_reason":24}', 6),
        ('{"msg_type":8,"state":1}', 0),
    ],
)
def test_stop_code_reads_either_key(frame: str, code: int) -> None:
    message = decode(frame)
    assert isinstance(message, StreamStateUpdate)
    assert message.stop_code == code


def test_keep_alive_answer_echoes_timestamp_and_sequence() -> None:
    assert KeepAliveResp.answering(KeepAliveReq(timestamp=5, sequence=9)) == KeepAliveResp(
        timestamp=5, sequence=9
    )
    answer = KeepAliveResp.answering(KeepAliveReq(timestamp=5))
    assert encode(answer) == b'{"msg_type":13,"timestamp":5}'


# --- round trips ----------------------------------------------------------------------------


def test_message_types_are_exactly_1_to_29() -> None:
    assert set(MESSAGE_TYPES) == {MessageType(t) for t in range(1, 30)}
    assert set(SAMPLES) == set(MESSAGE_TYPES)
    for msg_type, cls in MESSAGE_TYPES.items():
        assert cls.MSG_TYPE is msg_type
        assert type(SAMPLES[msg_type]) is cls


@pytest.mark.parametrize("msg_type", sorted(SAMPLES), ids=lambda t: t.name)
def test_round_trip(msg_type: MessageType) -> None:
    message = SAMPLES[msg_type]
    compact = encode(message)
    pretty = encode(message, pretty=True)
    assert isinstance(compact, bytes)
    assert json.loads(compact)["msg_type"] == int(msg_type)
    assert json.loads(compact) == json.loads(pretty)
    for frame in (compact, pretty, compact.decode(), pretty.decode(), bytearray(compact), memoryview(pretty)):
        assert decode(frame) == message
    assert decode(encode(message)).msg_type is msg_type


@pytest.mark.parametrize("msg_type", sorted(SAMPLES), ids=lambda t: t.name)
def test_pretty_encoding_is_jsoncpp_style(msg_type: MessageType) -> None:
    pretty = encode(SAMPLES[msg_type], pretty=True)
    text = pretty.decode()
    assert text.endswith("}\n")
    assert "\t" in text
    assert '" : ' in text
    keys = [line.split('"')[1] for line in text.splitlines() if line.startswith('\t"')]
    assert keys == sorted(keys)
    assert "msg_type" in keys


def test_unset_fields_are_not_written() -> None:
    assert encode(ClientReadyAck()) == b'{"msg_type":7}'
    assert encode(KeepAliveReq(timestamp=1)) == b'{"msg_type":12,"timestamp":1}'
    assert json.loads(encode(_data_req(8, None))) == {
        "msg_type": 3,
        "protocol_version": 1,
        "sequence": 37036,
        "meeting_uuid": "m-1",
        "rtms_stream_id": "s-1",
        "signature": "sig",
        "media_type": 8,
        "media_params": None,
    }
    assert "media_params" not in json.loads(encode(DataHandshakeReq(media_type=1, **HS)))
    assert "payload_encryption" not in json.loads(encode(DataHandshakeReq(media_type=1, **HS)))
    assert msgspec.json.encode(MediaParams(audio=AudioParams(codec=1))) == b'{"audio":{"codec":1}}'


def test_unset_and_null_decode_differently() -> None:
    absent = decode(
        '{"msg_type":3,"meeting_uuid":"m-1","rtms_stream_id":"s-1","signature":"sig","media_type":8}'
    )
    null = decode(
        '{"msg_type":3,"meeting_uuid":"m-1","rtms_stream_id":"s-1","signature":"sig","media_type":8,"media_params":null}'
    )
    assert isinstance(absent, DataHandshakeReq)
    assert isinstance(null, DataHandshakeReq)
    assert absent.media_params is msgspec.UNSET
    assert null.media_params is None
    assert b'"media_params":null' in encode(null)
    assert b'"media_params" : null' in encode(null, pretty=True)
    assert b"media_params" not in encode(absent)
    assert b"media_params" not in encode(absent, pretty=True)


def test_payload_encrypted_is_always_written() -> None:
    # The SDK aborts the join when the data handshake response lacks it (§4.4).
    assert json.loads(encode(DataHandshakeResp(status_code=0))) == {
        "msg_type": 4,
        "protocol_version": 1,
        "sequence": 0,
        "status_code": 0,
        "reason": "",
        "payload_encrypted": False,
    }


@pytest.mark.parametrize(
    "msg_type", [MessageType.MEDIA_DATA_AUDIO, MessageType.MEDIA_DATA_VIDEO, MessageType.MEDIA_DATA_SHARE]
)
def test_binary_data_is_base64_on_the_wire(msg_type: MessageType) -> None:
    message = SAMPLES[msg_type]
    assert isinstance(message, (MediaDataAudio, MediaDataVideo, MediaDataShare))
    for frame in (encode(message), encode(message, pretty=True)):
        data = json.loads(frame)["content"]["data"]
        assert data == base64.b64encode(message.content.data).decode("ascii")
        assert base64.b64decode(data, validate=True) == message.content.data


def test_audio_data_encodes_exactly() -> None:
    assert encode(MediaDataAudio(content=MediaContent(data=b"\x00\x01\xff"))) == (
        b'{"msg_type":14,"content":{"data":"AAH/"}}'
    )


def test_transcript_and_chat_data_are_text() -> None:
    transcript = SAMPLES[MessageType.MEDIA_DATA_TRANSCRIPT]
    assert isinstance(transcript, MediaDataTranscript)
    assert json.loads(encode(transcript))["content"]["data"] == transcript.content.data
    assert json.loads(encode(transcript, pretty=True))["content"]["data"] == transcript.content.data


def test_messages_are_frozen() -> None:
    message = KeepAliveReq(timestamp=1)
    with pytest.raises(AttributeError):
        message.timestamp = 2  # type: ignore[misc]
