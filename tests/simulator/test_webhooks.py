"""Webhooks the simulator sends (§7): signed over the raw body, shaped as Zoom publishes them.

Zoom's public RTMS webhook document and its body schemas come from :mod:`contracts.published`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import jsonschema
import pytest
from aiohttp import web
from multidict import CIMultiDict

from connector.protocol import (
    Product,
    StopReason,
    WebhookSignatureError,
    WebhookTimestampError,
    verify_webhook,
)
from contracts.published import PUBLISHED_STOP_REASONS, webhook_document, webhook_schema
from simulator.clock import ManualClock, settle
from simulator.config import SimulatorConfig
from simulator.journal import Record
from simulator.server import Simulator

from .conftest import MakeSim
from .harness import Clients, verify
from .receiver import Delivery, WebhookReceiver


def _validate(delivery: Delivery) -> None:
    jsonschema.validate(delivery.json, webhook_schema(delivery.event))


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
        "attempt": 1,
        "status": 200,
        "delivered": True,
        "late": False,
        "duplicate": False,
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
        jsonschema.validate(body, webhook_schema("webinar.rtms_stopped"))
    body["payload"] = {"session_id": "s", "rtms_stream_id": "y"}
    with pytest.raises(jsonschema.ValidationError, match="session_key"):
        jsonschema.validate(body, webhook_schema("session.rtms_interrupted"))


@pytest.mark.parametrize("event", ["meeting.rtms_stopped", "webinar.rtms_stopped", "session.rtms_stopped"])
def test_published_stop_reason_enum_is_narrower(event: str) -> None:
    """Zoom's schema enumerates 1-4 and 7-11 only, though its own description defines 5 and 6.

    Real streams end with 6 (meeting ended) more than anything else, and the simulator also
    sends 19, 20 and 24 (§5.3). This is why emitted events are validated without the enum.
    """
    stop_reason = webhook_schema(event, strict_stop_reason=True)["properties"]["payload"]["properties"][
        "stop_reason"
    ]
    assert stop_reason["enum"] == PUBLISHED_STOP_REASONS
    assert "* 6 " in stop_reason["description"]  # defined in the text, left out of the enum
    for everyday in (StopReason.MEETING_ENDED, StopReason.KEEP_ALIVE_TIMEOUT):
        assert everyday not in stop_reason["enum"]
    ids = {"meeting_uuid": "m", "webinar_uuid": "w", "session_id": "i", "session_key": "k"}
    body = {"event": event, "event_ts": 1, "payload": {**ids, "rtms_stream_id": "s", "stop_reason": 6}}
    with pytest.raises(jsonschema.ValidationError, match="is not one of"):
        jsonschema.validate(body, webhook_schema(event, strict_stop_reason=True))
    jsonschema.validate(body, webhook_schema(event))


def test_schema_file_is_zoom_swebhook_document() -> None:
    document = webhook_document()
    rtms_events = {
        f"{p}.rtms_{k}"
        for p in ("meeting", "webinar", "session")
        for k in ("started", "stopped", "interrupted")
    }
    assert rtms_events <= set(document["paths"])
    for event in rtms_events:
        required = webhook_schema(event)["properties"]["payload"]["required"]
        assert "rtms_stream_id" in required


# -- delivery and retries (§7.4) -------------------------------------------------------------

Answer = int | tuple[int, float | None]
"""A status, or (status, delay): answer after ``delay`` seconds of scenario time (None: never)."""


class ScriptedReceiver(WebhookReceiver):
    """Answers its n-th POST as ``answers[n]`` says (the last entry for every later POST).

    A delayed answer waits on the scenario clock (a future resolved by ``clock.call_later``),
    never on the wall clock: the simulator must judge it by scenario time.
    """

    def __init__(self, clock: ManualClock, answers: list[Answer]) -> None:
        super().__init__()
        self.clock = clock
        self.answers = answers
        self._held: list[asyncio.Future[None]] = []

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        answer = self.answers[min(len(self.deliveries), len(self.answers) - 1)]
        self.deliveries.append(Delivery(request.path, CIMultiDict(request.headers), body))
        self._changed.set()
        status, delay = answer if isinstance(answer, tuple) else (answer, 0.0)
        if delay != 0.0:
            held: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._held.append(held)
            if delay is not None:

                def release() -> None:
                    if not held.done():
                        held.set_result(None)

                self.clock.call_later(delay, release)
            await held
        return web.Response(status=status)

    async def close(self) -> None:
        for held in self._held:
            held.cancel()
        await super().close()


Script = Callable[[list[Answer]], Awaitable[ScriptedReceiver]]


@pytest.fixture
async def scripted(clock: ManualClock) -> AsyncIterator[Script]:
    made: list[ScriptedReceiver] = []

    async def make(answers: list[Answer]) -> ScriptedReceiver:
        receiver = ScriptedReceiver(clock, answers)
        await receiver.start()
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        await receiver.close()


async def _attempt(sim: Simulator, n: int, *, duplicate: bool = False) -> Record:
    def match(r: Record) -> bool:
        return r.kind == "delivery" and r.detail["attempt"] == n and r.detail["duplicate"] is duplicate

    return await sim.journal.wait_for(match)


async def _deliveries(receiver: WebhookReceiver, count: int) -> list[Delivery]:
    async def until() -> None:
        while len(receiver.deliveries) < count:
            receiver._changed.clear()
            await receiver._changed.wait()

    await asyncio.wait_for(until(), 5.0)
    return receiver.deliveries[:count]


def _started_payload() -> dict[str, Any]:
    return {"account_id": "acc", "object": {"id": "81234567890", "uuid": "4444AAAiAAAAAiAiAiiAii=="}}


@pytest.mark.parametrize(
    ("answer", "cut_off"),
    [(500, False), ((200, None), True), ((200, 5.0), True)],
    ids=["http-500", "never-answers", "answers-after-5s"],
)
async def test_failed_deliveries_are_retried_at_5_20_and_60_minutes(
    sim: Simulator, clock: ManualClock, scripted: Script, answer: Answer, cut_off: bool
) -> None:
    """Attempts at t0, t0+300, t0+1500, t0+5100 (each gap counted from the attempt before),
    then nothing: the same body each time, signed again with the time of the attempt."""
    receiver = await scripted([answer])
    secret = sim.config.app.webhook_secret
    clock.advance(7.0)  # any t0
    t0 = clock.now()
    event = sim.webhooks.send_event(
        url=receiver.url, secret=secret, name="meeting.started", payload=_started_payload()
    )
    assert event.event_ts == clock.epoch_ms()

    records = []
    for n, at in enumerate([t0, t0 + 300, t0 + 1500, t0 + 5100], start=1):
        clock.advance(at - clock.now())
        (*_, delivery) = await _deliveries(receiver, n)
        assert delivery.headers["x-zm-request-timestamp"] == str(clock.epoch_seconds())
        verify(sim, delivery)  # signed with the timestamp of this attempt, over the same bytes
        assert json.loads(delivery.body)["event_ts"] == event.event_ts
        if cut_off:
            clock.advance(3.0)  # the deadline, in scenario time
        record = await _attempt(sim, n)
        assert record.t == (at + 3.0 if cut_off else at)
        records.append(record)
        held = 1 if answer == (200, 5.0) else 0  # the receiver's own timer, 2 s from now
        assert clock.pending == held + (1 if n < 4 else 0)  # the next attempt; after the 4th none

    assert len({d.body for d in receiver.deliveries}) == 1
    for record in records:
        assert record.detail["delivered"] is False
        assert record.detail["late"] is cut_off
        assert record.detail["duplicate"] is False
        assert record.detail["event"] == "meeting.started"
        if cut_off:
            assert record.detail["error"] == "no answer within 3 s"
        else:
            assert record.detail["status"] == 500
    clock.advance(7 * 24 * 3600.0)
    await settle()
    assert len(receiver.deliveries) == 4
    assert len(sim.journal.select(kind="delivery")) == 4
    assert len(sim.journal.select(channel="webhook", direction="out")) == 1  # the event, once


async def test_a_2xx_on_the_second_attempt_stops_the_retries(
    make_sim: MakeSim, clock: ManualClock, scripted: Script
) -> None:
    sim = await make_sim(SimulatorConfig(tls_port=None, connect_timeout=0))  # no rtms_stopped at 60 s
    receiver = await scripted([503, 204])
    stream = sim.start_stream(webhook_url=receiver.url)
    first = await _attempt(sim, 1)
    assert (first.detail["status"], first.detail["delivered"]) == (503, False)
    assert first.stream_id == stream.stream_id

    clock.advance(300.0)
    second = await _attempt(sim, 2)
    assert (second.t, second.detail["status"], second.detail["delivered"]) == (300.0, 204, True)
    (one, two) = await _deliveries(receiver, 2)
    assert one.body == two.body
    assert one.payload["rtms_stream_id"] == stream.stream_id

    clock.advance(6000.0)
    await settle()
    assert len(receiver.deliveries) == 2
    assert [r.detail["attempt"] for r in sim.journal.select(kind="delivery")] == [1, 2]


async def test_an_answer_in_time_is_judged_by_scenario_time(
    sim: Simulator, clock: ManualClock, scripted: Script
) -> None:
    """An answer 2 s of scenario time after the POST is in time; one 5 s after is not, and the
    retry that follows it succeeds."""
    receiver = await scripted([(200, 2.0), (200, 5.0), 200])
    secret = sim.config.app.webhook_secret
    sim.webhooks.send_event(url=receiver.url, secret=secret, name="meeting.started", payload={"n": 1})
    await _deliveries(receiver, 1)
    clock.advance(2.0)
    in_time = await _attempt(sim, 1)
    assert (in_time.t, in_time.detail["delivered"], in_time.detail["late"]) == (2.0, True, False)

    sim.webhooks.send_event(url=receiver.url, secret=secret, name="meeting.started", payload={"n": 2})
    await _deliveries(receiver, 2)
    clock.advance(6.0)
    late = await sim.journal.wait_for(lambda r: r.kind == "delivery" and r.t > 2.0)
    assert (late.t, late.detail["delivered"], late.detail["late"]) == (5.0, False, True)
    clock.advance(302.0 - clock.now())
    retried = await _attempt(sim, 2)
    assert (retried.t, retried.detail["delivered"]) == (302.0, True)


async def test_retry_schedule_and_timeout_are_switches(
    make_sim: MakeSim, clock: ManualClock, scripted: Script
) -> None:
    sim = await make_sim(SimulatorConfig(tls_port=None, webhook_timeout=1.0, webhook_retries=(10.0,)))
    receiver = await scripted([(200, None)])
    sim.webhooks.send_event(url=receiver.url, secret="s", name="rtms.concurrency_limited", payload={})
    await _deliveries(receiver, 1)
    clock.advance(1.0)
    assert (await _attempt(sim, 1)).t == 1.0
    clock.advance(9.0)
    await _deliveries(receiver, 2)
    clock.advance(1.0)
    assert (await _attempt(sim, 2)).t == 11.0
    assert clock.pending == 0


async def test_redeliver_posts_the_same_event_again(
    sim: Simulator, clock: ManualClock, receiver: WebhookReceiver
) -> None:
    stream = sim.start_stream(webhook_url=receiver.url)
    original = await receiver.wait_for("meeting.rtms_started")
    await _attempt(sim, 1)
    clock.advance(31.0)  # any later time: the body is the same, the signature is new

    event = sim.webhooks.redeliver("meeting.rtms_started", stream.stream_id)
    assert event is not None
    duplicate = await _attempt(sim, 1, duplicate=True)
    assert duplicate.detail["delivered"] is True
    (_, again) = await _deliveries(receiver, 2)
    assert again.body == original.body
    assert again.headers["x-zm-request-timestamp"] == str(clock.epoch_seconds())
    verify(sim, again)
    assert len(sim.journal.select(channel="webhook", direction="out")) == 1
    assert sim.webhooks.redeliver("meeting.rtms_stopped", stream.stream_id) is None


async def test_send_event_without_url_is_journaled_only(sim: Simulator, clock: ManualClock) -> None:
    event = sim.webhooks.send_event(url=None, secret="s", name="meeting.ended", payload={"object": {}})
    (record,) = sim.journal.select(channel="webhook")
    assert (record.kind, record.direction, record.stream_id) == ("meeting.ended", "out", None)
    assert record.detail == {"payload": {"object": {}}, "url": None}
    assert event.event_ts == clock.epoch_ms()
    assert sim.webhooks.redeliver("meeting.ended", None) is event  # known, but nowhere to post
    await settle()
    assert not sim.journal.select(kind="delivery")
