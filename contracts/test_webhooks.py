"""Webhooks (§7): every POST signed over its raw body, shaped as Zoom publishes it.

Zoom's webhook document comes from :mod:`contracts.published`. Its ``stop_reason`` enum is
``[1, 2, 3, 4, 7, 8, 9, 10, 11]``: narrower than reality, and narrower than its own
description (which defines 5 and 6). Streams end with every reason 0-26 (§5.3): 6 (meeting
ended) most of all, 20 after STREAM_CLOSE_REQ, 24 after missed keep-alives. So payloads are
validated with that one enum removed, and ``stop_reason`` is checked separately to be an
integer 0-26 (docs/contracts.md).
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema  # no stubs in the lint environment
import pytest

from . import wire
from .inbox import Delivery
from .probe import Probe
from .published import PUBLISHED_STOP_REASONS, STOP_REASONS, webhook_document, webhook_schema
from .target import Capability, Stream, Target

REPLAY_WINDOW = 300  # seconds: how far x-zm-request-timestamp may be from the event (§7.3)
RTMS_EVENTS = ("rtms_started", "rtms_stopped", "rtms_interrupted")


def assert_published_shape(delivery: Delivery) -> None:
    """The body validates against Zoom's schema of its event (enum relaxed) where one is published,
    and a ``stop_reason`` is one of Zoom's 0-26."""
    if delivery.event in webhook_document()["paths"]:
        jsonschema.validate(delivery.json, webhook_schema(delivery.event))
    if "stop_reason" in delivery.payload:
        reason = delivery.payload["stop_reason"]
        assert type(reason) is int, f"stop_reason {reason!r} is not an integer"
        assert reason in STOP_REASONS, f"stop_reason {reason} is not 0-26 (§5.3)"


def assert_signed(delivery: Delivery, secret: str) -> None:
    """``x-zm-request-timestamp`` is Unix seconds near the event, ``x-zm-signature`` is
    ``v0=HMAC-SHA256(secret, "v0:{ts}:{raw body}")`` (§7.3).

    "Near" is judged on the target's own clock, the body's ``event_ts`` (ms): a simulator on a
    manual clock lives in its own time, and a timestamp in milliseconds misses by ~50 years."""
    timestamp = delivery.headers.get("x-zm-request-timestamp", "")
    assert timestamp.isdigit(), f"{delivery.event}: x-zm-request-timestamp {timestamp!r} is not Unix seconds"
    event_ts = delivery.json.get("event_ts")
    assert type(event_ts) is int, f"{delivery.event}: event_ts {event_ts!r} is not an integer"
    assert abs(int(timestamp) - event_ts / 1000) <= REPLAY_WINDOW, (
        f"{delivery.event}: x-zm-request-timestamp {timestamp} is not within {REPLAY_WINDOW} s "
        f"of event_ts {event_ts} ms"
    )
    expected = wire.webhook_signature(secret, timestamp, delivery.body)
    assert delivery.headers.get("x-zm-signature") == expected, f"{delivery.event}: x-zm-signature is wrong"


def assert_rtms_envelope(delivery: Delivery, stream: Stream) -> None:
    """Compact JSON ``{"event", "event_ts" (int ms), "payload"}`` with a flat payload (§7.1)."""
    body = delivery.json
    assert {"event", "event_ts", "payload"} <= set(body), f"envelope keys: {sorted(body)}"
    assert body["event_ts"] > 10**12, "event_ts must be epoch milliseconds"
    compact = {
        json.dumps(body, separators=(",", ":"), ensure_ascii=ascii).encode() for ascii in (False, True)
    }
    assert delivery.body in compact, "the body is not compact JSON"
    payload = delivery.payload
    assert "object" not in payload, "the payload is flat: no payload.object (§7.1)"
    assert payload["rtms_stream_id"] == stream.stream_id
    assert payload[stream.id_key] == stream.instance_id
    assert [k for k in wire.ID_KEYS if k in payload] == [stream.id_key], "one id key per product"


async def _close_over_signaling(target: Target, stream: Stream) -> Probe:
    """A fresh signaling connection asks Zoom to close the stream (STREAM_CLOSE_REQ, §4.14)."""
    probe, answer = await target.join_for(stream).signaling()
    target.track(probe)
    assert answer["status_code"] == wire.STATUS["OK"], f"signaling handshake refused: {answer}"
    await probe.send({"msg_type": wire.MSG["STREAM_CLOSE_REQ"], "rtms_stream_id": stream.stream_id})
    resp = await probe.expect(wire.MSG["STREAM_CLOSE_RESP"])
    assert resp["status_code"] == wire.STATUS["OK"]
    return probe


async def _webhook(target: Target, event: str, stream: Stream) -> Delivery:
    return await target.inbox.wait_for(event, stream_id=stream.stream_id, timeout=target.webhook_timeout)


# -- signatures and envelopes --------------------------------------------------------------


async def test_every_delivery_is_signed_over_its_raw_body(target: Target, stream: Stream) -> None:
    """Started, interrupted, stopped, and anything else the target posts: each signed, each in
    compact JSON with a flat payload (§7.1, §7.3)."""
    joined = await target.joined(stream, {"audio": None})
    await joined.signaling.abort()  # the signaling socket breaks: *.rtms_interrupted (§7.1)
    await _webhook(target, "meeting.rtms_interrupted", stream)
    await _close_over_signaling(target, stream)
    await _webhook(target, "meeting.rtms_stopped", stream)

    secret = target.credentials.webhook_secret
    for delivery in target.inbox.deliveries:
        assert_signed(delivery, secret)
    rtms = [d for d in target.inbox.deliveries if d.event.split(".")[-1] in RTMS_EVENTS]
    assert [d.event for d in rtms] == [
        "meeting.rtms_started",
        "meeting.rtms_interrupted",
        "meeting.rtms_stopped",
    ]
    for delivery in rtms:
        assert_rtms_envelope(delivery, stream)
        assert_published_shape(delivery)


async def test_a_signature_over_other_bytes_or_another_secret_does_not_match(
    target: Target, stream: Stream
) -> None:
    """The check above has teeth: one changed byte of the body, or the wrong secret, fails it."""
    started = stream.started
    secret = target.credentials.webhook_secret
    assert_signed(started, secret)
    tampered = Delivery(started.path, started.headers, started.body.replace(b'"payload"', b'"Payload"'))
    with pytest.raises(AssertionError, match="x-zm-signature"):
        assert_signed(tampered, secret)
    with pytest.raises(AssertionError, match="x-zm-signature"):
        assert_signed(started, secret + "-of-another-app")


async def test_rtms_started_gives_what_a_client_needs(target: Target, stream: Stream) -> None:
    """``meeting.rtms_started`` (§7.1): the stream id, the meeting UUID the handshake signs,
    and ``server_urls``, one ``ws://`` or ``wss://`` URL string the signaling socket opens."""
    started = stream.started
    assert started.event == "meeting.rtms_started"
    assert_rtms_envelope(started, stream)
    assert_published_shape(started)
    payload = started.payload
    assert isinstance(payload["server_urls"], str)
    assert payload["server_urls"].startswith(("ws://", "wss://"))
    assert isinstance(payload["operator_id"], str)
    joined = await target.joined(stream, {})
    assert joined.answer["status_code"] == wire.STATUS["OK"]  # the payload is enough to join


async def test_rtms_stopped_after_stream_close_matches_the_published_schema(
    target: Target, stream: Stream
) -> None:
    """``meeting.rtms_stopped`` carries RECEIVER_REQUEST_CLOSE (20), which the published enum
    does not list: valid against the schema with the enum relaxed, and 0-26 (§5.3, §4.14)."""
    await _close_over_signaling(target, stream)
    stopped = await _webhook(target, "meeting.rtms_stopped", stream)
    assert_signed(stopped, target.credentials.webhook_secret)
    assert_rtms_envelope(stopped, stream)
    assert_published_shape(stopped)
    assert stopped.payload["stop_reason"] == 20
    with pytest.raises(jsonschema.ValidationError, match="is not one of"):
        jsonschema.validate(stopped.json, webhook_schema(stopped.event, strict_stop_reason=True))


@pytest.mark.needs(Capability.STOP)
@pytest.mark.parametrize("reason", [1, 6, 8])
async def test_rtms_stopped_carries_the_reason_the_client_was_told(
    target: Target, stream: Stream, reason: int
) -> None:
    """The ``stop_reason`` of ``*.rtms_stopped`` is the ``reason`` of the STREAM_STATE_UPDATE
    TERMINATED the client got on signaling (§4.8, §7.1)."""
    joined = await target.joined(stream, {"audio": None})
    await target.stop_stream(stream, reason)
    end = await joined.signaling.expect(
        wire.MSG["STREAM_STATE_UPDATE"], where=lambda m: m["state"] == wire.STREAM_STATE["TERMINATED"]
    )
    stopped = await _webhook(target, "meeting.rtms_stopped", stream)
    assert end["reason"] == stopped.payload["stop_reason"] == reason
    assert_signed(stopped, target.credentials.webhook_secret)
    assert_rtms_envelope(stopped, stream)
    assert_published_shape(stopped)


# -- products ------------------------------------------------------------------------------


@pytest.mark.needs(Capability.PRODUCTS)
@pytest.mark.parametrize(
    ("product", "prefix", "id_key"),
    [
        ("webinar", "webinar.rtms", "webinar_uuid"),
        ("session", "session.rtms", "session_id"),
        ("contact_center", "contact_center.voice_rtms", "engagement_id"),
    ],
)
async def test_each_product_names_its_instance_its_own_way(
    target: Target, product: str, prefix: str, id_key: str
) -> None:
    """Webinars key on ``webinar_uuid``, Video SDK sessions on ``session_id`` plus ``session_key``
    (as Zoom's schema requires), Contact Center on ``engagement_id`` (§7.1); the client still
    joins with the id under ``meeting_uuid`` (§2), and the stop names the product too."""
    stream = await target.start_stream(product=product)
    started = stream.started
    assert started.event == f"{prefix}_started"
    assert stream.id_key == id_key
    assert_signed(started, target.credentials.webhook_secret)
    assert_rtms_envelope(started, stream)
    assert_published_shape(started)
    assert started.payload["server_urls"].startswith(("ws://", "wss://"))
    if product == "session":
        assert isinstance(started.payload["session_key"], str)
        assert started.payload["session_key"]
    else:
        assert "session_key" not in started.payload

    await _close_over_signaling(target, stream)
    stopped = await _webhook(target, f"{prefix}_stopped", stream)
    assert_signed(stopped, target.credentials.webhook_secret)
    assert_rtms_envelope(stopped, stream)
    assert_published_shape(stopped)
    assert stopped.payload["stop_reason"] == 20
    if product == "session":
        assert stopped.payload["session_key"] == started.payload["session_key"]


# -- URL validation (§7.2) -------------------------------------------------------------------


def _validation_request(target: Target) -> Delivery:
    (request,) = target.inbox.of("endpoint.url_validation")
    assert_signed(request, target.credentials.webhook_secret)
    token = request.payload.get("plainToken")
    assert isinstance(token, str), "endpoint.url_validation carries a plainToken"
    assert token, "the plainToken is empty"
    return request


@pytest.mark.needs(Capability.URL_VALIDATION)
async def test_url_validation_accepts_the_right_answer(target: Target) -> None:
    """Zoom POSTs a signed ``endpoint.url_validation`` with a ``plainToken``; an endpoint that
    answers ``encryptedToken = hex(HMAC-SHA256(secret, plainToken))`` is validated (§7.2)."""
    verdict = await target.validate_url(target.inbox.url)
    request = _validation_request(target)
    assert verdict["validated"] is True, f"a correct answer was refused: {verdict}"
    assert set(request.payload) == {"plainToken"}


@pytest.mark.needs(Capability.URL_VALIDATION)
@pytest.mark.parametrize("answer", ["wrong", "refuse"])
async def test_url_validation_refuses_a_wrong_answer(target: Target, answer: str) -> None:
    """A token made with another secret, or an HTTP 401, leaves the URL unvalidated (§7.2)."""
    target.inbox.validation = answer
    verdict = await target.validate_url(target.inbox.url)
    _validation_request(target)
    assert verdict["validated"] is False, f"an endpoint that answered {answer!r} was validated: {verdict}"


# -- the schema document itself ------------------------------------------------------------


def test_the_schema_copy_is_zoom_swebhook_document() -> None:
    """The copy holds every published RTMS event, and the enum this suite relaxes is narrower
    than the description next to it (5 and 6 are defined there, left out of the enum)."""
    rtms = {f"{p}.{k}" for p in ("meeting", "webinar", "session") for k in RTMS_EVENTS}
    assert rtms <= set(webhook_document()["paths"])
    for event in sorted(e for e in rtms if e.endswith("_stopped")):
        stop_reason = webhook_schema(event, strict_stop_reason=True)["properties"]["payload"]["properties"][
            "stop_reason"
        ]
        assert stop_reason["enum"] == PUBLISHED_STOP_REASONS
        assert "* 6 " in stop_reason["description"]


def test_validation_against_the_published_schema_can_fail() -> None:
    """The relaxed schemas still require Zoom's fields: a webinar event keyed on
    ``meeting_uuid``, or a session event without ``session_key``, is rejected."""
    body: dict[str, Any] = {
        "event": "webinar.rtms_stopped",
        "event_ts": 1727387700000,
        "payload": {"meeting_uuid": "m", "rtms_stream_id": "s", "stop_reason": 6},
    }
    with pytest.raises(jsonschema.ValidationError, match="webinar_uuid"):
        jsonschema.validate(body, webhook_schema("webinar.rtms_stopped"))
    body = {
        "event": "session.rtms_started",
        "event_ts": 1,
        "payload": {"session_id": "i", "rtms_stream_id": "s"},
    }
    with pytest.raises(jsonschema.ValidationError, match="session_key"):
        jsonschema.validate(body, webhook_schema("session.rtms_started"))
