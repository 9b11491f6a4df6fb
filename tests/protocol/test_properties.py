"""Property tests: "accepted, or rejected with a documented error" (STYLE.md rule 11)."""

from __future__ import annotations

import json
import string
from typing import Any

import msgspec
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connector.protocol import (
    ClientReadyAck,
    Event,
    EventUpdate,
    FrameError,
    KeepAliveReq,
    KeepAliveResp,
    MediaContent,
    MediaDataAudio,
    MediaDataTranscript,
    Message,
    MetaDataAudio,
    Participant,
    SignalingHandshakeReq,
    StreamStateUpdate,
    TranscriptContent,
    VideoSubscriptionReq,
    WebhookError,
    WebhookEvent,
    decode,
    encode,
    parse_event,
    rtms_event,
    verify_webhook,
)
from connector.protocol.messages import MESSAGE_TYPES
from connector.protocol.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER

from .samples import SAMPLES, WEBHOOK_BODY, WEBHOOK_SECRET, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _field_names() -> list[str]:
    """Every key any message or nested object of the protocol has."""
    seen: set[str] = set()
    pending: list[type[msgspec.Struct]] = list(MESSAGE_TYPES.values())
    done: set[type[msgspec.Struct]] = set()
    while pending:
        cls = pending.pop()
        if cls in done:
            continue
        done.add(cls)
        for field in msgspec.structs.fields(cls):
            seen.add(field.encode_name)
            pending.extend(
                t for t in _struct_types(field.type) if isinstance(t, type) and issubclass(t, msgspec.Struct)
            )
    return sorted(seen | {"msg_type"})


def _struct_types(annotation: object) -> list[object]:
    args = getattr(annotation, "__args__", ())
    return [annotation, *(a for arg in args for a in _struct_types(arg))]


FIELD_NAMES = _field_names()

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["", "AAAA", "AAH/", "!!", "wss://x", "stream-abc"])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=10,
)
msg_types = st.integers(min_value=-2, max_value=32) | st.integers() | st.sampled_from(sorted(MESSAGE_TYPES))
message_like = st.builds(
    lambda msg_type, fields: {"msg_type": msg_type, **fields},
    msg_types.map(int),
    st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=6),
)


def _accepted_or_frame_error(frame: str | bytes) -> Message | None:
    try:
        message = decode(frame)
    except FrameError:
        return None
    assert isinstance(message, Message)
    assert type(message) is MESSAGE_TYPES[message.msg_type]
    return message


def _round_trips(message: Message) -> None:
    assert decode(encode(message)) == message
    assert decode(encode(message, pretty=True)) == message
    assert decode(encode(message).decode()) == message


# --- (a) arbitrary bytes and text ------------------------------------------------------------


@SETTINGS
@given(st.binary(max_size=300))
@example(b"")
@example(b"\xff")
@example(b"[" * 100000)
@example(b'{"msg_type":12,"timestamp":1}')
def test_decode_arbitrary_bytes(frame: bytes) -> None:
    _accepted_or_frame_error(frame)


@SETTINGS
@given(st.text(max_size=300) | st.text(alphabet=string.printable + "\ud800\udfff\x00", max_size=60))
@example("\ud800")
@example('{"msg_type":17,"content":{"data":"\ud800"}}')
def test_decode_arbitrary_text(frame: str) -> None:
    _accepted_or_frame_error(frame)


SAMPLE_FRAMES = [encode(m) for m in SAMPLES.values()] + [encode(m, pretty=True) for m in SAMPLES.values()]


@SETTINGS
@given(
    st.sampled_from(SAMPLE_FRAMES),
    st.lists(
        st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), min_size=1, max_size=4
    ),
)
def test_decode_mutated_frames(frame: bytes, edits: list[tuple[int, int]]) -> None:
    mutated = bytearray(frame)
    for position, value in edits:
        mutated[position % len(mutated)] = value
    _accepted_or_frame_error(bytes(mutated))


@SETTINGS
@given(st.sampled_from(SAMPLE_FRAMES), st.integers(min_value=0))
def test_decode_truncated_frames(frame: bytes, cut: int) -> None:
    body = frame.rstrip()  # without its closing brace, not just without the trailing newline
    truncated = body[: cut % len(body)]
    assert _accepted_or_frame_error(truncated) is None


# --- (b) arbitrary JSON --------------------------------------------------------------------


@SETTINGS
@given(json_values)
def test_decode_arbitrary_json(value: Any) -> None:
    message = _accepted_or_frame_error(json.dumps(value))
    if message is not None:
        _round_trips(message)


@SETTINGS
@given(message_like)
@example({"msg_type": 99})
@example({"msg_type": 0})
@example({"msg_type": 2**64})
@example({"msg_type": 12, "timestamp": 10**30})
@example({"msg_type": 23, "content": {"a": 1e308, "b": -0.0, "c": 10**100}})
def test_decode_message_like_json(value: dict[str, Any]) -> None:
    frame = json.dumps(value)
    try:
        result: Message | FrameError = decode(frame)
    except FrameError as exc:
        result = exc
    msg_type = value["msg_type"]
    if isinstance(result, FrameError):
        if type(msg_type) is int:
            # an integer msg_type is always read back into the error
            assert result.msg_type == msg_type
        else:
            assert result.msg_type is None
    else:
        assert result.msg_type == msg_type
        _round_trips(result)


@SETTINGS
@given(message_like)
def test_decode_message_like_json_pretty_and_binary(value: dict[str, Any]) -> None:
    compact = json.dumps(value)
    pretty = json.dumps(value, indent="\t", separators=(",", " : "), sort_keys=True) + "\n"
    results: list[Message | type[FrameError]] = []
    for frame in (compact, pretty.encode()):
        try:
            results.append(decode(frame))
        except FrameError as exc:
            results.append(type(exc))
    assert results[0] == results[1]


# --- (c) webhooks --------------------------------------------------------------------------


@SETTINGS
@given(st.binary(max_size=300) | st.text(max_size=300))
@example(WEBHOOK_BODY)
@example(b'{"event":"meeting.rtms_started","event_ts":1,"payload":{"meeting_uuid":1}}')
def test_parse_event_arbitrary_bodies(body: bytes | str) -> None:
    try:
        event = parse_event(body)
    except WebhookError:
        return
    assert isinstance(event, WebhookEvent)
    _rtms_event_or_webhook_error(event)


rtms_names = st.sampled_from(
    [
        f"{product}.rtms_{kind}"
        for product in ("meeting", "webinar", "session")
        for kind in ("started", "stopped", "interrupted")
    ]
    + [f"contact_center.voice_rtms_{kind}" for kind in ("started", "stopped", "interrupted")]
)
payload_keys = st.sampled_from(
    [
        "meeting_uuid",
        "webinar_uuid",
        "session_id",
        "engagement_id",
        "rtms_stream_id",
        "server_urls",
        "stop_reason",
        "operator_id",
    ]
)


def _rtms_event_or_webhook_error(event: WebhookEvent) -> None:
    try:
        parsed = rtms_event(event)
    except WebhookError:
        return
    if parsed is not None:
        assert isinstance(parsed.instance_id, str)
        assert isinstance(parsed.rtms_stream_id, str)
        assert parsed.stop_reason is None or type(parsed.stop_reason) is int


@SETTINGS
@given(
    rtms_names | st.text(max_size=30),
    st.integers(),
    st.dictionaries(payload_keys | st.text(max_size=8), json_values, max_size=8),
)
def test_rtms_event_arbitrary_payloads(name: str, event_ts: int, payload: dict[str, Any]) -> None:
    _rtms_event_or_webhook_error(WebhookEvent(event=name, event_ts=event_ts, payload=payload))


@SETTINGS
@given(rtms_names, st.dictionaries(payload_keys, json_values, max_size=8))
def test_parse_then_rtms_event_of_serialised_events(name: str, payload: dict[str, Any]) -> None:
    body = json.dumps({"event": name, "event_ts": 1727384100000, "payload": payload}).encode()
    _rtms_event_or_webhook_error(parse_event(body))


header_values = (
    st.text(max_size=80)
    # integers beyond the range of a float: this found the OverflowError of verify_webhook
    | st.integers(min_value=-(10**400), max_value=10**400).map(str)
    | st.from_regex(r"\A-?[0-9]{1,400}\Z")
    | st.sampled_from([str(WEBHOOK_TIMESTAMP), WEBHOOK_SIGNATURE, "v0=", " 1727384100 ", "1_727_384_100"])
)
webhook_headers = st.builds(
    lambda other, known: {**other, **known},
    st.dictionaries(st.text(max_size=10), header_values, max_size=3),
    st.fixed_dictionaries({}, optional={TIMESTAMP_HEADER: header_values, SIGNATURE_HEADER: header_values}),
)


@SETTINGS
@given(
    webhook_headers,
    st.binary(max_size=64) | st.just(WEBHOOK_BODY),
    st.floats(min_value=0, max_value=2**40) | st.just(float(WEBHOOK_TIMESTAMP)),
)
@example({TIMESTAMP_HEADER: "1" * 400, SIGNATURE_HEADER: WEBHOOK_SIGNATURE}, WEBHOOK_BODY, 1727384100.0)
@example({TIMESTAMP_HEADER: "-" + "9" * 400, SIGNATURE_HEADER: "v0="}, b"", 1727384100.5)
@example({TIMESTAMP_HEADER: "9" * 4301, SIGNATURE_HEADER: "v0="}, b"", 1727384100.0)
@example({TIMESTAMP_HEADER: "\ud800", SIGNATURE_HEADER: "\ud800"}, b"", 0.0)
def test_verify_webhook_arbitrary_headers(headers: dict[str, str], body: bytes, now: float) -> None:
    try:
        verify_webhook(WEBHOOK_SECRET, headers, body, now=now)
    except WebhookError:
        return
    # accepted: then it really was the vector
    assert body == WEBHOOK_BODY
    assert headers[SIGNATURE_HEADER] == WEBHOOK_SIGNATURE


# --- (d) messages built from strategies round-trip ------------------------------------------

texts = st.text(max_size=40)
ints = st.integers(min_value=-(2**70), max_value=2**70) | st.integers()
user_ids = ints | texts


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return strategy | st.just(msgspec.UNSET)


built_messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(KeepAliveReq, timestamp=ints, sequence=_maybe(ints)),
    st.builds(KeepAliveResp, timestamp=ints, sequence=_maybe(ints)),
    st.builds(ClientReadyAck, rtms_stream_id=_maybe(texts)),
    st.builds(
        SignalingHandshakeReq,
        protocol_version=ints,
        sequence=ints,
        meeting_uuid=texts,
        rtms_stream_id=texts,
        signature=texts,
        rtms_client_agent=_maybe(texts),
        buffer_data=_maybe(st.booleans()),
    ),
    st.builds(
        StreamStateUpdate,
        rtms_stream_id=_maybe(texts),
        state=ints,
        reason=_maybe(ints),
        stop_reason=_maybe(ints),
        timestamp=_maybe(ints),
    ),
    st.builds(
        EventUpdate,
        event=st.builds(
            Event,
            event_type=ints,
            timestamp=_maybe(ints),
            user_id=_maybe(user_ids),
            user_name=_maybe(texts),
            participants=_maybe(
                st.lists(st.builds(Participant, user_id=user_ids, user_name=_maybe(texts)), max_size=3).map(
                    tuple
                )
            ),
        ),
    ),
    st.builds(
        MediaDataAudio,
        content=st.builds(
            MediaContent,
            user_id=_maybe(user_ids),
            user_name=_maybe(texts),
            data=st.binary(max_size=200),
            length=_maybe(ints),
            timestamp=_maybe(ints),
        ),
    ),
    st.builds(
        MediaDataTranscript,
        content=st.builds(
            TranscriptContent, data=st.text(max_size=200), language=_maybe(ints), start_time=_maybe(ints)
        ),
    ),
    st.builds(VideoSubscriptionReq, user_id=user_ids, subscribe=st.booleans(), timestamp=_maybe(ints)),
    st.builds(
        MetaDataAudio,
        content=_maybe(st.dictionaries(st.text(max_size=6), json_values, max_size=5)),
    ),
)


@SETTINGS
@given(built_messages)
@example(KeepAliveReq(timestamp=2**64, sequence=-(2**63) - 1))
@example(MediaDataAudio(content=MediaContent(data=b"")))
@example(MediaDataTranscript(content=TranscriptContent(data="\x00\u2028\U0001f600")))
def test_built_messages_round_trip(message: Message) -> None:
    _round_trips(message)
    assert json.loads(encode(message)) == json.loads(encode(message, pretty=True))
