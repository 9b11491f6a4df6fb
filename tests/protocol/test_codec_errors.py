"""What ``decode`` rejects, and how (reference §4; errors.py)."""

from __future__ import annotations

import pytest

from connector.protocol import (
    FrameError,
    IllegalTransition,
    ProtocolError,
    SignatureError,
    UnknownMessageType,
    WebhookError,
    WebhookSignatureError,
    WebhookTimestampError,
    decode,
)

KEEP_ALIVE = '{"msg_type":12,"timestamp":1}'
HS = '"meeting_uuid":"m","rtms_stream_id":"s","signature":"x"'


def test_the_exception_tree() -> None:
    for cls in (FrameError, IllegalTransition, SignatureError, WebhookError):
        assert issubclass(cls, ProtocolError)
    assert issubclass(UnknownMessageType, FrameError)
    assert issubclass(WebhookSignatureError, WebhookError)
    assert issubclass(WebhookTimestampError, WebhookError)
    assert not issubclass(ProtocolError, (ValueError, TypeError))


@pytest.mark.parametrize(
    "frame",
    [
        "",
        b"",
        "{",
        "}",
        "not json",
        '{"msg_type":12,"timestamp":1',
        '{"msg_type":12,"timestamp":1,}',
        "{'msg_type':12,'timestamp':1}",
        '{"msg_type":12,"timestamp":1} {"msg_type":12,"timestamp":1}',
        '{"msg_type":12,"timestamp":1}x',
        '{"msg_type":12,"timestamp":NaN}',
        '{"msg_type":12,"timestamp":01}',
        b"\x00",
    ],
)
def test_malformed_json(frame: str | bytes) -> None:
    with pytest.raises(FrameError) as info:
        decode(frame)
    assert type(info.value) is FrameError
    assert info.value.msg_type is None
    assert info.value.reason


@pytest.mark.parametrize(
    "frame", ["[]", "[1]", "1", "-1", "1.5", '"text"', "null", "true", f"[{KEEP_ALIVE}]"]
)
def test_non_object(frame: str) -> None:
    with pytest.raises(FrameError) as info:
        decode(frame)
    assert type(info.value) is FrameError
    assert info.value.msg_type is None


@pytest.mark.parametrize(
    "frame",
    [
        "{}",
        '{"timestamp":1}',
        '{"msg_type":"12","timestamp":1}',
        '{"msg_type":"KEEP_ALIVE_REQ","timestamp":1}',
        '{"msg_type":12.0,"timestamp":1}',
        '{"msg_type":true,"timestamp":1}',
        '{"msg_type":null,"timestamp":1}',
        '{"msg_type":[12],"timestamp":1}',
        '{"MSG_TYPE":12,"timestamp":1}',
    ],
)
def test_missing_or_non_integer_msg_type(frame: str) -> None:
    with pytest.raises(FrameError) as info:
        decode(frame)
    assert not isinstance(info.value, UnknownMessageType)
    assert info.value.msg_type is None
    assert "msg_type" in info.value.reason


@pytest.mark.parametrize("msg_type", [0, -1, 30, 99, 255, 2**63, 10**30])
def test_unknown_msg_type(msg_type: int) -> None:
    with pytest.raises(UnknownMessageType) as info:
        decode(f'{{"msg_type":{msg_type},"timestamp":1}}')
    assert info.value.msg_type == msg_type
    assert isinstance(info.value, FrameError)


def test_msg_type_99() -> None:
    with pytest.raises(UnknownMessageType) as info:
        decode(b'{"msg_type":99}')
    assert info.value.msg_type == 99
    assert "99" in info.value.reason


@pytest.mark.parametrize(
    ("frame", "msg_type"),
    [
        ('{"msg_type":1,"meeting_uuid":"m","rtms_stream_id":"s"}', 1),  # no signature
        ('{"msg_type":2}', 2),  # no status_code
        ('{"msg_type":3,' + HS + "}", 3),  # no media_type
        ('{"msg_type":4,"reason":""}', 4),
        ('{"msg_type":5}', 5),
        ('{"msg_type":6,"content":{"event_type":1}}', 6),  # the SDK rejects `content` too (§4.6)
        ('{"msg_type":6,"event":{"timestamp":1}}', 6),
        ('{"msg_type":8,"reason":6}', 8),
        ('{"msg_type":9}', 9),
        ('{"msg_type":11}', 11),
        ('{"msg_type":12}', 12),
        ('{"msg_type":13,"sequence":1}', 13),
        ('{"msg_type":14}', 14),
        ('{"msg_type":14,"content":{"user_id":1}}', 14),  # no data
        ('{"msg_type":17,"content":{}}', 17),
        ('{"msg_type":18,"content":{"timestamp":1}}', 18),
        ('{"msg_type":20}', 20),
        ('{"msg_type":22}', 22),
        ('{"msg_type":28,"user_id":1}', 28),
        ('{"msg_type":29,"user_id":1}', 29),
    ],
)
def test_missing_required_field(frame: str, msg_type: int) -> None:
    with pytest.raises(FrameError) as info:
        decode(frame)
    assert type(info.value) is FrameError
    assert info.value.msg_type == msg_type


@pytest.mark.parametrize(
    ("frame", "msg_type"),
    [
        ('{"msg_type":12,"timestamp":"1"}', 12),
        ('{"msg_type":12,"timestamp":1.5}', 12),
        ('{"msg_type":12,"timestamp":1.0}', 12),
        ('{"msg_type":12,"timestamp":null}', 12),
        ('{"msg_type":12,"timestamp":1,"sequence":"1"}', 12),
        ('{"msg_type":12,"timestamp":true}', 12),
        ('{"msg_type":1,"meeting_uuid":1,"rtms_stream_id":"s","signature":"x"}', 1),
        ('{"msg_type":1,' + HS + ',"buffer_data":"false"}', 1),
        ('{"msg_type":2,"status_code":0,"media_server":{"server_urls":"wss://x"}}', 2),
        ('{"msg_type":2,"status_code":0,"media_server":{"server_urls":{"audio":1}}}', 2),
        ('{"msg_type":3,' + HS + ',"media_type":"1"}', 3),
        ('{"msg_type":3,' + HS + ',"media_type":1,"media_params":[]}', 3),
        ('{"msg_type":3,' + HS + ',"media_type":1,"media_params":{"audio":{"codec":"OPUS"}}}', 3),
        ('{"msg_type":3,' + HS + ',"media_type":8,"media_params":{"transcript":{"enable_lid":1}}}', 3),
        ('{"msg_type":4,"status_code":0,"payload_encrypted":"no"}', 4),
        ('{"msg_type":5,"events":{"event_type":2,"subscribe":true}}', 5),
        ('{"msg_type":5,"events":[{"event_type":2,"subscribe":1}]}', 5),
        ('{"msg_type":5,"events":[2,3]}', 5),
        ('{"msg_type":6,"event":{"event_type":3,"participants":[{"user_id":1.5}]}}', 6),
        ('{"msg_type":6,"event":{"event_type":3,"participants":{"user_id":1}}}', 6),
        ('{"msg_type":7,"rtms_stream_id":null}', 7),
        ('{"msg_type":8,"state":"4"}', 8),
        ('{"msg_type":14,"content":{"data":123}}', 14),
        ('{"msg_type":14,"content":[]}', 14),
        ('{"msg_type":17,"content":{"data":["a"]}}', 17),
        ('{"msg_type":23,"content":[]}', 23),
        ('{"msg_type":28,"user_id":null,"subscribe":true}', 28),
        ('{"msg_type":28,"user_id":1,"subscribe":"yes"}', 28),
    ],
)
def test_wrong_field_types(frame: str, msg_type: int) -> None:
    with pytest.raises(FrameError) as info:
        decode(frame)
    assert type(info.value) is FrameError
    assert info.value.msg_type == msg_type


@pytest.mark.parametrize("data", ["!!!!", "AAA", "AAAAA", "A===", "AA=A", "ü", "AA AA"])
@pytest.mark.parametrize("msg_type", [14, 15, 16])
def test_invalid_base64_in_media_data(msg_type: int, data: str) -> None:
    with pytest.raises(FrameError) as info:
        decode(f'{{"msg_type":{msg_type},"content":{{"data":"{data}"}}}}')
    assert info.value.msg_type == msg_type


@pytest.mark.parametrize(
    "frame",
    [
        b'{"msg_type":17,"content":{"data":"\xff"}}',
        b'{"msg_type":17,"content":{"data":"\xc3"}}',
        b'{"msg_type":17,"content":{"data":"\xed\xa0\x80"}}',  # an encoded surrogate
        b'\xef\xbb\xbf{"msg_type":12,"timestamp":1}',  # UTF-8 byte order mark
        b'{"msg_type":12,"timestamp":1}\xff',
        b"\xff\xfe{\x00}\x00",
        b'{"msg_type":17,"content":{"data":"\\ud800"}}',  # lone surrogate escape
    ],
)
def test_invalid_utf8(frame: bytes) -> None:
    with pytest.raises(FrameError):
        decode(frame)


def test_text_with_a_lone_surrogate() -> None:
    with pytest.raises(FrameError):
        decode('{"msg_type":17,"content":{"data":"\ud800"}}')


@pytest.mark.parametrize(
    "frame",
    [
        "[" * 100000,
        "[" * 100000 + "]" * 100000,
        "{" * 100000,
        '{"a":' * 100000,
        '{"msg_type":23,"content":{"a":' + "[" * 100000 + "]" * 100000 + "}}",
        '{"msg_type":23,"content":' + '{"a":' * 100000 + "1" + "}" * 100000 + "}",
        '{"msg_type":12,"timestamp":1,"extra":' + "[" * 100000 + "]" * 100000 + "}",
    ],
)
def test_deeply_nested(frame: str) -> None:
    with pytest.raises(FrameError) as info:
        decode(frame)
    assert isinstance(info.value, ProtocolError)


@pytest.mark.parametrize(
    "frame",
    [
        '{"msg_type":12,"timestamp":' + "9" * 5000 + "}",
        '{"msg_type":' + "9" * 5000 + "}",
        '{"msg_type":23,"content":{"a":1e400}}',
    ],
)
def test_numbers_out_of_range(frame: str) -> None:
    with pytest.raises(FrameError):
        decode(frame)


def test_duplicate_msg_type_keys() -> None:
    with pytest.raises(FrameError):
        decode('{"msg_type":12,"msg_type":13,"timestamp":1}')


def test_frame_error_reason_names_the_message_and_field() -> None:
    with pytest.raises(FrameError) as info:
        decode('{"msg_type":12,"timestamp":"soon"}')
    assert "KEEP_ALIVE_REQ" in info.value.reason
    assert "timestamp" in info.value.reason
    assert str(info.value) == info.value.reason
