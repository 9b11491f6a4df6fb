"""Webhook signing, verification and parsing, reference §7."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from connector.protocol import (
    Product,
    RtmsEvent,
    RtmsEventKind,
    WebhookError,
    WebhookEvent,
    WebhookSignatureError,
    WebhookTimestampError,
    parse_event,
    rtms_event,
    sign_webhook,
    signed_headers,
    url_validation_response,
    verify_webhook,
)
from connector.protocol.webhook import (
    REPLAY_WINDOW_SECONDS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    encode_event,
)

from .samples import (
    ENCRYPTED_TOKEN,
    MEETING_UUID,
    PLAIN_TOKEN,
    STREAM_ID,
    WEBHOOK_BODY,
    WEBHOOK_SECRET,
    WEBHOOK_SIGNATURE,
    WEBHOOK_TIMESTAMP,
)

HEADERS = {TIMESTAMP_HEADER: str(WEBHOOK_TIMESTAMP), SIGNATURE_HEADER: WEBHOOK_SIGNATURE}

# --- §7.2 URL validation ---------------------------------------------------------------------


def test_url_validation_vector() -> None:
    assert url_validation_response(WEBHOOK_SECRET, PLAIN_TOKEN) == {
        "plainToken": PLAIN_TOKEN,
        "encryptedToken": ENCRYPTED_TOKEN,
    }


# --- §7.3 request signature ------------------------------------------------------------------


def test_signature_vector() -> None:
    assert sign_webhook(WEBHOOK_SECRET, WEBHOOK_TIMESTAMP, WEBHOOK_BODY) == WEBHOOK_SIGNATURE


def test_signed_headers() -> None:
    headers = signed_headers(WEBHOOK_SECRET, WEBHOOK_TIMESTAMP, WEBHOOK_BODY)
    assert headers[TIMESTAMP_HEADER] == "1727384100"
    assert headers[SIGNATURE_HEADER] == WEBHOOK_SIGNATURE
    assert headers["content-type"].startswith("application/json")


def test_verify_accepts_the_vector() -> None:
    verify_webhook(WEBHOOK_SECRET, HEADERS, WEBHOOK_BODY, now=WEBHOOK_TIMESTAMP)  # does not raise


@pytest.mark.parametrize("skew", [-REPLAY_WINDOW_SECONDS, -1, 0, 1, REPLAY_WINDOW_SECONDS])
def test_verify_accepts_inside_the_window(skew: int) -> None:
    verify_webhook(WEBHOOK_SECRET, HEADERS, WEBHOOK_BODY, now=WEBHOOK_TIMESTAMP + skew)


@pytest.mark.parametrize("skew", [-REPLAY_WINDOW_SECONDS - 1, REPLAY_WINDOW_SECONDS + 1, 86400, -86400])
def test_verify_rejects_outside_the_window(skew: int) -> None:
    with pytest.raises(WebhookTimestampError):
        verify_webhook(WEBHOOK_SECRET, HEADERS, WEBHOOK_BODY, now=WEBHOOK_TIMESTAMP + skew)


def test_verify_window_is_a_parameter() -> None:
    verify_webhook(WEBHOOK_SECRET, HEADERS, WEBHOOK_BODY, now=WEBHOOK_TIMESTAMP + 3600, window=3600)
    with pytest.raises(WebhookTimestampError):
        verify_webhook(WEBHOOK_SECRET, HEADERS, WEBHOOK_BODY, now=WEBHOOK_TIMESTAMP + 11, window=10)


@pytest.mark.parametrize("index", [0, 10, len(WEBHOOK_BODY) // 2, len(WEBHOOK_BODY) - 1])
def test_verify_rejects_a_body_changed_by_one_byte(index: int) -> None:
    body = bytearray(WEBHOOK_BODY)
    body[index] ^= 0x01
    with pytest.raises(WebhookSignatureError):
        verify_webhook(WEBHOOK_SECRET, HEADERS, bytes(body), now=WEBHOOK_TIMESTAMP)


def test_verify_rejects_reserialised_json() -> None:
    # The classic mistake: hashing json.dumps(json.loads(body)), which adds spaces.
    reserialised = json.dumps(json.loads(WEBHOOK_BODY)).encode()
    assert json.loads(reserialised) == json.loads(WEBHOOK_BODY)
    assert b", " in reserialised
    with pytest.raises(WebhookSignatureError):
        verify_webhook(WEBHOOK_SECRET, HEADERS, reserialised, now=WEBHOOK_TIMESTAMP)


@pytest.mark.parametrize("body", [b"", WEBHOOK_BODY + b"\n", b" " + WEBHOOK_BODY])
def test_verify_rejects_other_bodies(body: bytes) -> None:
    with pytest.raises(WebhookSignatureError):
        verify_webhook(WEBHOOK_SECRET, HEADERS, body, now=WEBHOOK_TIMESTAMP)


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "v0=",
        WEBHOOK_SIGNATURE[3:],  # without the v0= prefix
        "v1=" + WEBHOOK_SIGNATURE[3:],
        WEBHOOK_SIGNATURE.upper(),
        WEBHOOK_SIGNATURE + "0",
        "v0=\ud800",
    ],
)
def test_verify_rejects_a_wrong_signature_header(signature: str) -> None:
    headers = {**HEADERS, SIGNATURE_HEADER: signature}
    with pytest.raises(WebhookSignatureError):
        verify_webhook(WEBHOOK_SECRET, headers, WEBHOOK_BODY, now=WEBHOOK_TIMESTAMP)


def test_verify_rejects_another_secret() -> None:
    with pytest.raises(WebhookSignatureError):
        verify_webhook("other", HEADERS, WEBHOOK_BODY, now=WEBHOOK_TIMESTAMP)


def test_verify_rejects_a_signature_made_for_another_timestamp() -> None:
    headers = {**HEADERS, TIMESTAMP_HEADER: str(WEBHOOK_TIMESTAMP + 1)}
    with pytest.raises(WebhookSignatureError):
        verify_webhook(WEBHOOK_SECRET, headers, WEBHOOK_BODY, now=WEBHOOK_TIMESTAMP)


def test_verify_rejects_missing_signature_header() -> None:
    with pytest.raises(WebhookSignatureError) as info:
        verify_webhook(WEBHOOK_SECRET, {TIMESTAMP_HEADER: "1727384100"}, WEBHOOK_BODY, now=WEBHOOK_TIMESTAMP)
    assert SIGNATURE_HEADER in info.value.reason


def test_verify_rejects_missing_timestamp_header() -> None:
    with pytest.raises(WebhookTimestampError) as info:
        verify_webhook(
            WEBHOOK_SECRET, {SIGNATURE_HEADER: WEBHOOK_SIGNATURE}, WEBHOOK_BODY, now=WEBHOOK_TIMESTAMP
        )
    assert TIMESTAMP_HEADER in info.value.reason


def test_verify_rejects_no_headers() -> None:
    with pytest.raises(WebhookError):
        verify_webhook(WEBHOOK_SECRET, {}, WEBHOOK_BODY, now=WEBHOOK_TIMESTAMP)


@pytest.mark.parametrize(
    "timestamp", ["", "abc", "1727384100.0", "1727384100000x", "0x66f5d924", "1e9", "9" * 5000]
)
def test_verify_rejects_a_non_integer_timestamp(timestamp: str) -> None:
    headers = {**HEADERS, TIMESTAMP_HEADER: timestamp}
    with pytest.raises(WebhookTimestampError):
        verify_webhook(WEBHOOK_SECRET, headers, WEBHOOK_BODY, now=WEBHOOK_TIMESTAMP)


@pytest.mark.parametrize("timestamp", ["1" * 400, "-" + "1" * 400])
def test_verify_rejects_a_timestamp_beyond_float_range(timestamp: str) -> None:
    # Found by the property test: now - int(header) raised OverflowError for a float ``now``.
    headers = {**HEADERS, TIMESTAMP_HEADER: timestamp}
    with pytest.raises(WebhookTimestampError):
        verify_webhook(WEBHOOK_SECRET, headers, WEBHOOK_BODY, now=float(WEBHOOK_TIMESTAMP))


def test_verify_checks_the_timestamp_in_milliseconds_as_out_of_window() -> None:
    # Zoom sends seconds; a sender using milliseconds is ~55 years in the future.
    headers = {**HEADERS, TIMESTAMP_HEADER: str(WEBHOOK_TIMESTAMP * 1000)}
    with pytest.raises(WebhookTimestampError):
        verify_webhook(WEBHOOK_SECRET, headers, WEBHOOK_BODY, now=WEBHOOK_TIMESTAMP)


def test_webhook_errors_are_protocol_errors() -> None:
    assert issubclass(WebhookSignatureError, WebhookError)
    assert issubclass(WebhookTimestampError, WebhookError)


# --- parsing ---------------------------------------------------------------------------------


def test_parse_event_of_the_vector() -> None:
    event = parse_event(WEBHOOK_BODY)
    assert event == WebhookEvent(
        event="meeting.rtms_started",
        event_ts=1727384100000,
        payload={
            "meeting_uuid": MEETING_UUID,
            "operator_id": "30R7kT7bTIKSNUFEuH_Qlg",
            "rtms_stream_id": STREAM_ID,
            "server_urls": "wss://127.0.0.1:8443/signal",
        },
    )
    assert parse_event(WEBHOOK_BODY.decode()) == event


def test_encode_event_is_zoom_compact_serialisation() -> None:
    assert encode_event(parse_event(WEBHOOK_BODY)) == WEBHOOK_BODY


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b"null",
        b'{"event":"meeting.rtms_started"}',
        b'{"event":1,"event_ts":1,"payload":{}}',
        b'{"event":"x","event_ts":"1","payload":{}}',
        b'{"event":"x","event_ts":1,"payload":[]}',
        b'{"event":"x","event_ts":1,"payload":{"a":"\xff"}}',
        b"[" * 100000,
        b'{"event":"x","event_ts":1,"payload":' + b'{"a":' * 100000,
        b'{"event":"x","event_ts":1,"payload":{"a":' + b"[" * 100000 + b"]" * 100000 + b"}}",
    ],
)
def test_parse_event_rejects(body: bytes) -> None:
    with pytest.raises(WebhookError):
        parse_event(body)


# --- §7.1 RTMS events ------------------------------------------------------------------------

URL = "wss://127.0.0.1:8443/signal"


def _event(name: str, **payload: Any) -> WebhookEvent:
    return WebhookEvent(event=name, event_ts=1727384100000, payload=payload)


@pytest.mark.parametrize(
    ("name", "product", "id_key"),
    [
        ("meeting.rtms_started", Product.MEETING, "meeting_uuid"),
        ("webinar.rtms_started", Product.WEBINAR, "webinar_uuid"),
        ("webinar.rtms_started", Product.WEBINAR, "meeting_uuid"),  # secondary docs' key
        ("session.rtms_started", Product.SESSION, "session_id"),
        ("contact_center.voice_rtms_started", Product.CONTACT_CENTER, "engagement_id"),
    ],
)
def test_rtms_started(name: str, product: Product, id_key: str) -> None:
    event = _event(name, **{id_key: "inst-1"}, rtms_stream_id=STREAM_ID, server_urls=URL, operator_id="op")
    assert rtms_event(event) == RtmsEvent(
        product=product,
        kind=RtmsEventKind.STARTED,
        instance_id="inst-1",
        rtms_stream_id=STREAM_ID,
        server_urls=URL,
        stop_reason=None,
        operator_id="op",
        event_ts=1727384100000,
    )


def test_webinar_prefers_webinar_uuid() -> None:
    event = _event(
        "webinar.rtms_stopped",
        webinar_uuid="web",
        meeting_uuid="meet",
        rtms_stream_id=STREAM_ID,
        stop_reason=6,
    )
    parsed = rtms_event(event)
    assert parsed is not None
    assert parsed.instance_id == "web"


@pytest.mark.parametrize("product", list(Product))
@pytest.mark.parametrize("kind", list(RtmsEventKind))
def test_rtms_event_for_every_product_and_kind(product: Product, kind: RtmsEventKind) -> None:
    payload: dict[str, Any] = {product.id_key: "inst-1", "rtms_stream_id": STREAM_ID}
    if kind is RtmsEventKind.STARTED:
        payload["server_urls"] = URL
    if kind is RtmsEventKind.STOPPED:
        payload["stop_reason"] = 20
    parsed = rtms_event(WebhookEvent(event=product.event_name(kind), event_ts=7, payload=payload))
    assert parsed is not None
    assert (parsed.product, parsed.kind) == (product, kind)
    assert parsed.instance_id == "inst-1"
    assert parsed.rtms_stream_id == STREAM_ID
    assert parsed.server_urls == (URL if kind is RtmsEventKind.STARTED else None)
    assert parsed.stop_reason == (20 if kind is RtmsEventKind.STOPPED else None)
    assert parsed.operator_id is None
    assert parsed.event_ts == 7


@pytest.mark.parametrize(
    ("product", "kind", "name"),
    [
        (Product.MEETING, RtmsEventKind.STOPPED, "meeting.rtms_stopped"),
        (Product.WEBINAR, RtmsEventKind.INTERRUPTED, "webinar.rtms_interrupted"),
        (Product.SESSION, RtmsEventKind.STARTED, "session.rtms_started"),
        (Product.CONTACT_CENTER, RtmsEventKind.STOPPED, "contact_center.voice_rtms_stopped"),
        (Product.CONTACT_CENTER, RtmsEventKind.INTERRUPTED, "contact_center.voice_rtms_interrupted"),
    ],
)
def test_event_names(product: Product, kind: RtmsEventKind, name: str) -> None:
    assert product.event_name(kind) == name


def test_id_keys() -> None:
    assert {p: p.id_key for p in Product} == {
        Product.MEETING: "meeting_uuid",
        Product.WEBINAR: "webinar_uuid",
        Product.SESSION: "session_id",
        Product.CONTACT_CENTER: "engagement_id",
    }


def test_rtms_event_of_the_signed_vector() -> None:
    parsed = rtms_event(parse_event(WEBHOOK_BODY))
    assert parsed is not None
    assert parsed.product is Product.MEETING
    assert parsed.kind is RtmsEventKind.STARTED
    assert parsed.instance_id == MEETING_UUID
    assert parsed.server_urls == URL
    assert parsed.operator_id == "30R7kT7bTIKSNUFEuH_Qlg"


@pytest.mark.parametrize(
    "name",
    [
        "endpoint.url_validation",
        "meeting.started",
        "meeting.participant_joined",
        "rtms.concurrency_limited",
        "rtms.concurrency_near_limit",
        "meeting.rtms_concurrency_limited",
        "meeting.rtms_paused",
        "contact_center.rtms_started",  # ZCC events are voice_rtms_*
        "MEETING.RTMS_STARTED",
        "",
    ],
)
def test_rtms_event_ignores_other_events(name: str) -> None:
    assert (
        rtms_event(_event(name, meeting_uuid=MEETING_UUID, rtms_stream_id=STREAM_ID, server_urls=URL)) is None
    )


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("meeting.rtms_started", {"rtms_stream_id": STREAM_ID, "server_urls": URL}),
        ("meeting.rtms_started", {"meeting_uuid": MEETING_UUID, "server_urls": URL}),
        ("meeting.rtms_started", {"meeting_uuid": MEETING_UUID, "rtms_stream_id": STREAM_ID}),
        (
            "meeting.rtms_started",
            {"meeting_uuid": MEETING_UUID, "rtms_stream_id": STREAM_ID, "server_urls": 1},
        ),
        ("meeting.rtms_started", {"meeting_uuid": 1, "rtms_stream_id": STREAM_ID, "server_urls": URL}),
        ("meeting.rtms_stopped", {"meeting_uuid": MEETING_UUID, "rtms_stream_id": None}),
        (
            "meeting.rtms_stopped",
            {"meeting_uuid": MEETING_UUID, "rtms_stream_id": STREAM_ID, "stop_reason": "6"},
        ),
        (
            "meeting.rtms_stopped",
            {"meeting_uuid": MEETING_UUID, "rtms_stream_id": STREAM_ID, "stop_reason": 6.0},
        ),
        (
            "meeting.rtms_stopped",
            {"meeting_uuid": MEETING_UUID, "rtms_stream_id": STREAM_ID, "stop_reason": True},
        ),
        ("webinar.rtms_interrupted", {"rtms_stream_id": STREAM_ID}),
        ("session.rtms_stopped", {"meeting_uuid": MEETING_UUID, "rtms_stream_id": STREAM_ID}),
        (
            "contact_center.voice_rtms_interrupted",
            {"meeting_uuid": MEETING_UUID, "rtms_stream_id": STREAM_ID},
        ),
        ("meeting.rtms_interrupted", {}),
    ],
)
def test_rtms_event_rejects_missing_or_mistyped_fields(name: str, payload: dict[str, Any]) -> None:
    with pytest.raises(WebhookError):
        rtms_event(_event(name, **payload))


def test_rtms_event_struct_is_frozen() -> None:
    parsed = rtms_event(parse_event(WEBHOOK_BODY))
    assert parsed is not None
    with pytest.raises(AttributeError):
        parsed.instance_id = "x"  # type: ignore[misc]
    assert msgspec.structs.asdict(parsed)["rtms_stream_id"] == STREAM_ID
