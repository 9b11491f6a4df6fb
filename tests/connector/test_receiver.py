"""The webhook receiver over real HTTP on 127.0.0.1 (docs/protocol.md §7)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from connector.config import ConnectorConfig
from connector.protocol import Product, RtmsEvent, RtmsEventKind, signed_headers
from connector.receiver import WebhookReceiver

from .conftest import INSTANCE_ID, STREAM_ID, TIMEOUT, WEBHOOK_SECRET, started_payload, webhook

NOW = 1727384100  # the manual clock: webhook verification never reads the wall clock


class Handler:
    """Records events and then blocks until released, so a test can prove Zoom is answered
    before the handler finishes."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[RtmsEvent] = asyncio.Queue()
        self.release = asyncio.Event()

    async def __call__(self, event: RtmsEvent) -> None:
        self.events.put_nowait(event)
        await self.release.wait()


@pytest.fixture
def handler() -> Handler:
    return Handler()


@pytest.fixture
def receiver(make_config: Callable[..., ConnectorConfig], handler: Handler) -> WebhookReceiver:
    return WebhookReceiver(make_config(path="/zoom"), handler, clock=lambda: NOW)


@pytest.fixture
async def http(receiver: WebhookReceiver, handler: Handler) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(receiver.app(), host="127.0.0.1")) as client:
        yield client
    handler.release.set()
    await receiver.close()


async def post(http: TestClient[Any, Any], body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    async with asyncio.timeout(TIMEOUT):
        response = await http.post("/zoom", data=body, headers=headers)
        return response.status, await response.json()


async def test_url_validation_is_answered_with_the_encrypted_token(http: TestClient[Any, Any]) -> None:
    body, headers = webhook("endpoint.url_validation", {"plainToken": "plaintoken123"}, timestamp=NOW)
    status, answer = await post(http, body, headers)
    assert status == 200
    # The test vector of docs/protocol.md §7.2.
    assert answer == {
        "plainToken": "plaintoken123",
        "encryptedToken": "a14ab6fc5605d6c62111fcd226d2a32af323e4a177a2f9131491ef070b0540b0",
    }


async def test_unsigned_url_validation_is_refused(http: TestClient[Any, Any]) -> None:
    body, headers = webhook("endpoint.url_validation", {"plainToken": "p"}, timestamp=NOW, secret="other")
    status, answer = await post(http, body, headers)
    assert status == 401
    assert "encryptedToken" not in answer


async def test_rtms_started_is_acknowledged_before_the_handler_finishes(
    http: TestClient[Any, Any], handler: Handler
) -> None:
    body, headers = webhook(
        "meeting.rtms_started", started_payload("wss://127.0.0.1:1/signal"), timestamp=NOW
    )
    status, answer = await post(http, body, headers)
    assert (status, answer) == (200, {"status": "ok"})
    async with asyncio.timeout(TIMEOUT):
        event = await handler.events.get()
    assert not handler.release.is_set()  # the handler is still running: Zoom did not wait for it
    assert event == RtmsEvent(
        product=Product.MEETING,
        kind=RtmsEventKind.STARTED,
        instance_id=INSTANCE_ID,
        rtms_stream_id=STREAM_ID,
        server_urls="wss://127.0.0.1:1/signal",
        operator_id="30R7kT7bTIKSNUFEuH_Qlg",
        event_ts=NOW * 1000,
    )


async def test_rtms_stopped_reaches_the_handler_with_its_reason(
    http: TestClient[Any, Any], handler: Handler
) -> None:
    payload = {"meeting_uuid": INSTANCE_ID, "rtms_stream_id": STREAM_ID, "stop_reason": 6}
    status, _ = await post(http, *webhook("meeting.rtms_stopped", payload, timestamp=NOW))
    assert status == 200
    async with asyncio.timeout(TIMEOUT):
        event = await handler.events.get()
    assert (event.kind, event.stop_reason) == (RtmsEventKind.STOPPED, 6)


async def test_the_documented_signature_vector_is_accepted(
    make_config: Callable[..., ConnectorConfig], handler: Handler
) -> None:
    """docs/protocol.md §7.3: exact bytes, timestamp and signature from the reference."""
    body = (
        b'{"event":"meeting.rtms_started","event_ts":1727384100000,"payload":{"meeting_uuid":'
        b'"4444AAAiAAAAAiAiAiiAii==","operator_id":"30R7kT7bTIKSNUFEuH_Qlg","rtms_stream_id":'
        b'"stream-abc","server_urls":"wss://127.0.0.1:8443/signal"}}'
    )
    headers = {
        "x-zm-request-timestamp": "1727384100",
        "x-zm-signature": "v0=33ea16a561d82f1707ad500ec57c0798eae32dbac60696ef19cd5d477f03d74f",
    }
    receiver = WebhookReceiver(make_config(), handler, clock=lambda: 1727384100 + 299)
    async with TestClient(TestServer(receiver.app(), host="127.0.0.1")) as http:
        response = await http.post("/", data=body, headers=headers)
        assert response.status == 200
    handler.release.set()
    await receiver.close()
    assert (await handler.events.get()).rtms_stream_id == "stream-abc"


async def test_wrong_signature_is_401_and_nothing_is_handled(
    http: TestClient[Any, Any], receiver: WebhookReceiver, handler: Handler
) -> None:
    body, headers = webhook(
        "meeting.rtms_started", started_payload("wss://x/s"), timestamp=NOW, secret="nope"
    )
    status, answer = await post(http, body, headers)
    assert status == 401
    assert "x-zm-signature does not match" in answer["error"]
    await receiver.drain()
    assert handler.events.empty()


async def test_body_tampered_after_signing_is_401(http: TestClient[Any, Any]) -> None:
    body, headers = webhook("meeting.rtms_started", started_payload("wss://x/s"), timestamp=NOW)
    status, _ = await post(http, body.replace(b"wss://x/s", b"wss://y/s"), headers)
    assert status == 401


@pytest.mark.parametrize("age", [301, -301])
async def test_timestamp_outside_the_replay_window_is_401(http: TestClient[Any, Any], age: int) -> None:
    body, headers = webhook("meeting.rtms_started", started_payload("wss://x/s"), timestamp=NOW - age)
    status, answer = await post(http, body, headers)
    assert status == 401
    assert "replay window" in answer["error"]


async def test_missing_signature_headers_are_401(http: TestClient[Any, Any]) -> None:
    status, answer = await post(http, b'{"event":"x","event_ts":1,"payload":{}}', {})
    assert status == 401
    assert "x-zm-request-timestamp" in answer["error"]


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"event":"meeting.rtms_started"}',
        b'{"event":"meeting.rtms_started","event_ts":1,"payload":{"meeting_uuid":"u","rtms_stream_id":"s"}}',
        b'{"event":"endpoint.url_validation","event_ts":1,"payload":{}}',
    ],
    ids=["not-json", "no-payload", "started-without-server-urls", "validation-without-token"],
)
async def test_malformed_signed_body_is_400(http: TestClient[Any, Any], body: bytes) -> None:
    status, answer = await post(http, body, signed_headers(WEBHOOK_SECRET, NOW, body))
    assert status == 400
    assert answer["error"].startswith("invalid request body")


async def test_other_events_are_acknowledged_and_not_handled(
    http: TestClient[Any, Any], receiver: WebhookReceiver, handler: Handler
) -> None:
    status, _ = await post(http, *webhook("meeting.started", {"object": {"id": 1}}, timestamp=NOW))
    assert status == 200
    await receiver.drain()
    assert handler.events.empty()


async def test_only_post_on_the_configured_path(http: TestClient[Any, Any]) -> None:
    assert (await http.get("/zoom")).status == 405
    assert (await http.post("/other", data=b"{}")).status == 404


async def test_a_closing_receiver_answers_503(http: TestClient[Any, Any], receiver: WebhookReceiver) -> None:
    await receiver.close()
    status, answer = await post(http, *webhook("endpoint.url_validation", {"plainToken": "p"}, timestamp=NOW))
    assert status == 503
    assert answer == {"error": "the connector is shutting down"}
