"""Webhooks the simulator sends (§7): signed over the raw body, shaped as Zoom publishes them.

``data/rtms-webhooks.openapi.json`` is Zoom's public RTMS webhook document (snapshot of
2026-02-07, unchanged); each event's body schema sits under
``paths[event].post.requestBody.content["application/json"].schema``.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from connector.protocol import (
    Product,
    StopReason,
    WebhookSignatureError,
    WebhookTimestampError,
    verify_webhook,
)
from simulator.clock import ManualClock
from simulator.server import Simulator

from .harness import Clients, verify
from .receiver import Delivery, WebhookReceiver

SCHEMAS = Path(__file__).with_name("data") / "rtms-webhooks.openapi.json"
PUBLISHED_STOP_REASONS = [1, 2, 3, 4, 7, 8, 9, 10, 11]


@cache
def _document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMAS.read_text())
    return loaded


def schema_of(event: str, *, strict_stop_reason: bool = False) -> dict[str, Any]:
    """The published body schema of ``event``.

    The published ``stop_reason`` enum leaves out codes Zoom sends every day (6, meeting
    ended, above all; see ``test_published_stop_reason_enum_is_narrower``), so unless
    ``strict_stop_reason`` it is removed and only the integer type is checked.
    """
    schema: dict[str, Any] = copy.deepcopy(
        _document()["paths"][event]["post"]["requestBody"]["content"]["application/json"]["schema"]
    )
    stop_reason = schema["properties"]["payload"]["properties"].get("stop_reason")
    if stop_reason is not None and not strict_stop_reason:
        del stop_reason["enum"]
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def _validate(delivery: Delivery) -> None:
    jsonschema.validate(delivery.json, schema_of(delivery.event))


# -- signatures ----------------------------------------------------------------------------


async def test_rtms_started_is_signed(sim: Simulator, clock: ManualClock, receiver: WebhookReceiver) -> None:
    await clock.run_for(12.0, step=4.0)  # any scenario time: signatures follow the clock
    stream = sim.start_stream(webhook_url=receiver.url)
    started = await receiver.wait_for("meeting.rtms_started")
    secret = sim.config.app.webhook_secret
    now = clock.epoch_ms() / 1000.0

    verify_webhook(secret, started.headers, started.body, now=now)
    assert started.headers["x-zm-request-timestamp"] == str(clock.epoch_seconds())
    assert started.headers["content-type"].startswith("application/json")
    assert started.json["event_ts"] == clock.epoch_ms()
    assert started.path == "/webhooks/zoom"
    # Zoom's compact serialisation is what is signed and sent.
    assert started.body == json.dumps(started.json, separators=(",", ":"), ensure_ascii=False).encode()
    assert started.payload["rtms_stream_id"] == stream.stream_id

    with pytest.raises(WebhookSignatureError):
        verify_webhook(
            secret, started.headers, started.body.replace(b"meeting_uuid", b"meeting_uuiD"), now=now
        )
    with pytest.raises(WebhookSignatureError):
        verify_webhook("another-apps-secret", started.headers, started.body, now=now)
    with pytest.raises(WebhookTimestampError):
        verify_webhook(secret, started.headers, started.body, now=now + 301)


async def test_deliveries_are_journaled(sim: Simulator, receiver: WebhookReceiver) -> None:
    good = sim.start_stream(webhook_url=receiver.url)
    bad = sim.start_stream(webhook_url=sim.http_url + "/not-a-webhook-endpoint")
    unsent = sim.start_stream()  # no URL: journaled, not posted

    delivered = await sim.journal.wait_for(lambda r: r.kind == "delivery" and r.stream_id == good.stream_id)
    assert delivered.detail == {
        "event": "meeting.rtms_started",
        "url": receiver.url,
        "status": 200,
        "delivered": True,
    }
    failed = await sim.journal.wait_for(lambda r: r.kind == "delivery" and r.stream_id == bad.stream_id)
    assert failed.detail["delivered"] is False
    assert failed.detail["status"] in (404, 405)
    assert sim.journal.select(stream_id=unsent.stream_id, channel="webhook", kind="meeting.rtms_started")
    assert not sim.journal.select(stream_id=unsent.stream_id, kind="delivery")
    assert [d.payload["rtms_stream_id"] for d in receiver.deliveries] == [good.stream_id]


# -- Zoom's published schemas ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "id_key"),
    [(Product.MEETING, "meeting_uuid"), (Product.WEBINAR, "webinar_uuid"), (Product.SESSION, "session_id")],
)
async def test_emitted_events_match_the_published_schemas(
    sim: Simulator,
    clock: ManualClock,
    receiver: WebhookReceiver,
    clients: Clients,
    product: Product,
    id_key: str,
) -> None:
    prefix = product.value
    stream = sim.start_stream(product=product, webhook_url=receiver.url, duration=100.0)
    started = await receiver.wait_for(f"{prefix}.rtms_started")

    joined = await clients.joined(sim, stream)  # the handshake carries the id as meeting_uuid (§2)
    await clock.run_for(2.0, step=1.0)
    await joined.signaling.close()
    interrupted = await receiver.wait_for(f"{prefix}.rtms_interrupted")
    sim.stop_stream(stream, StopReason.MEETING_ENDED)
    stopped = await receiver.wait_for(f"{prefix}.rtms_stopped")

    for delivery in (started, interrupted, stopped):
        verify(sim, delivery)
        _validate(delivery)
        assert delivery.payload[id_key] == stream.instance_id
        assert delivery.payload["rtms_stream_id"] == stream.stream_id
        assert isinstance(delivery.json["event_ts"], int)
    assert stopped.payload["stop_reason"] == StopReason.MEETING_ENDED
    if product is Product.SESSION:
        assert {d.payload["session_key"] for d in (started, interrupted, stopped)} == {
            started.payload["session_key"]
        }
    else:
        assert "session_key" not in started.payload
    assert "meeting_uuid" not in started.payload or product is Product.MEETING


def test_a_payload_missing_a_required_field_fails_validation() -> None:
    """The validation above can fail: the published schemas do require fields."""
    payload = {"meeting_uuid": "x", "rtms_stream_id": "y", "stop_reason": 1}
    body: dict[str, Any] = {"event": "webinar.rtms_stopped", "event_ts": 1, "payload": payload}
    with pytest.raises(jsonschema.ValidationError, match="webinar_uuid"):
        jsonschema.validate(body, schema_of("webinar.rtms_stopped"))
    body["payload"] = {"session_id": "s", "rtms_stream_id": "y"}
    with pytest.raises(jsonschema.ValidationError, match="session_key"):
        jsonschema.validate(body, schema_of("session.rtms_interrupted"))


@pytest.mark.parametrize("event", ["meeting.rtms_stopped", "webinar.rtms_stopped", "session.rtms_stopped"])
def test_published_stop_reason_enum_is_narrower(event: str) -> None:
    """Zoom's schema enumerates 1-4 and 7-11 only, though its own description defines 5 and 6.

    Real streams end with 6 (meeting ended) more than anything else, and the simulator also
    sends 19, 20 and 24 (§5.3). This is why emitted events are validated without the enum.
    """
    stop_reason = schema_of(event, strict_stop_reason=True)["properties"]["payload"]["properties"][
        "stop_reason"
    ]
    assert stop_reason["enum"] == PUBLISHED_STOP_REASONS
    assert "* 6 " in stop_reason["description"]  # defined in the text, left out of the enum
    for everyday in (StopReason.MEETING_ENDED, StopReason.KEEP_ALIVE_TIMEOUT):
        assert everyday not in stop_reason["enum"]
    ids = {"meeting_uuid": "m", "webinar_uuid": "w", "session_id": "i", "session_key": "k"}
    body = {"event": event, "event_ts": 1, "payload": {**ids, "rtms_stream_id": "s", "stop_reason": 6}}
    with pytest.raises(jsonschema.ValidationError, match="is not one of"):
        jsonschema.validate(body, schema_of(event, strict_stop_reason=True))
    jsonschema.validate(body, schema_of(event))


def test_schema_file_is_zoom_s_document() -> None:
    document = _document()
    rtms_events = {
        f"{p}.rtms_{k}"
        for p in ("meeting", "webinar", "session")
        for k in ("started", "stopped", "interrupted")
    }
    assert rtms_events <= set(document["paths"])
    for event in rtms_events:
        required = schema_of(event)["properties"]["payload"]["required"]
        assert "rtms_stream_id" in required
