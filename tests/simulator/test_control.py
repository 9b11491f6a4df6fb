"""The control API under ``/_sim`` over real HTTP (moto-style control namespace)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from connector.protocol import SignalingHandshakeResp, StopReason, StreamState, StreamStateUpdate
from simulator.clock import ManualClock
from simulator.config import SimulatorConfig
from simulator.server import Simulator
from simulator.speech import generate_script

from .harness import Clients, verify
from .probe import Join
from .receiver import WebhookReceiver


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _json(response: aiohttp.ClientResponse) -> Any:
    return await response.json(content_type=None)


async def test_health(sim: Simulator, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{sim.http_url}/_sim/health") as response:
        assert (response.status, await _json(response)) == (200, {"status": "ok"})


async def test_create_list_join_and_stop_a_stream(
    sim: Simulator, http: aiohttp.ClientSession, receiver: WebhookReceiver, clients: Clients
) -> None:
    body = {"webhook_url": receiver.url, "duration": 30, "seed": 5, "participants": 2}
    async with http.post(f"{sim.http_url}/_sim/streams", json=body) as response:
        assert response.status == 201
        created = await _json(response)
    stream_id = created["rtms_stream_id"]
    payload = created["payload"]
    assert payload["rtms_stream_id"] == stream_id
    assert payload["meeting_uuid"] == created["meeting_uuid"]
    assert payload["server_urls"] == created["server_urls"] == sim.signaling_url()
    assert (created["product"], created["state"], created["stop_reason"]) == ("meeting", "INACTIVE", None)
    # the seeded meeting, whichever thread generated its script
    seeded = generate_script(seed=5, participants=2, duration=30.0)
    assert [p["user_name"] for p in created["participants"]] == [p.user_name for p in seeded.participants]
    started = await receiver.wait_for("meeting.rtms_started")
    verify(sim, started)
    assert started.payload == payload  # what the control API reports is what the app was sent

    async with http.get(f"{sim.http_url}/_sim/streams") as response:
        listed = (await _json(response))["streams"]
    assert [s["rtms_stream_id"] for s in listed] == [stream_id]

    # The payload is enough to join.
    app = sim.config.app
    join = Join.from_payload(payload, client_id=app.client_id, client_secret=app.client_secret)
    signaling = await clients.open(join.server_urls)
    await signaling.send(join.signaling_req())
    assert (await signaling.expect(SignalingHandshakeResp)).status_code == 0
    async with http.get(f"{sim.http_url}/_sim/streams/{stream_id}") as response:
        described = await _json(response)
    assert [c["channel"] for c in described["connections"]] == ["signaling"]

    async with http.post(f"{sim.http_url}/_sim/streams/{stream_id}/stop", json={"reason": 8}) as response:
        assert response.status == 200
        stopped_view = await _json(response)
    assert (stopped_view["state"], stopped_view["stop_reason"]) == ("TERMINATED", StopReason.STREAM_REVOKED)
    end = await signaling.expect(StreamStateUpdate)
    assert (end.state, end.reason) == (StreamState.TERMINATED, StopReason.STREAM_REVOKED)
    assert await signaling.wait_closed() == 1000
    stopped = await receiver.wait_for("meeting.rtms_stopped")
    assert stopped.payload["stop_reason"] == StopReason.STREAM_REVOKED


async def test_create_with_a_product(sim: Simulator, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{sim.http_url}/_sim/streams", json={"product": "webinar"}) as response:
        assert response.status == 201
        created = await _json(response)
    assert created["product"] == "webinar"
    assert set(created["payload"]) >= {"webinar_uuid", "rtms_stream_id", "server_urls", "operator_id"}
    assert "meeting_uuid" not in created["payload"]


async def test_stop_defaults_to_meeting_ended(sim: Simulator, http: aiohttp.ClientSession) -> None:
    stream = sim.start_stream()
    async with http.post(f"{sim.http_url}/_sim/streams/{stream.stream_id}/stop") as response:
        assert response.status == 200
    assert stream.stop_reason == StopReason.MEETING_ENDED


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/_sim/streams/nope"), ("POST", "/_sim/streams/nope/stop"), ("POST", "/_sim/streams/nope/drop")],
)
async def test_unknown_stream_is_404(
    sim: Simulator, http: aiohttp.ClientSession, method: str, path: str
) -> None:
    async with http.request(method, sim.http_url + path) as response:
        assert response.status == 404
        assert await _json(response) == {"code": 3001, "message": "Stream does not exist."}


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("/_sim/streams", "{not json", "Request body is not JSON."),
        ("/_sim/streams", "[1, 2]", "Request body must be a JSON object."),
        ("/_sim/streams", '{"product": "spaceship"}', "Validation Failed."),
        ("/_sim/streams", '{"duration": -5}', "Validation Failed."),
        ("/_sim/streams", '{"duration": NaN}', "Validation Failed. duration must be a positive, finite"),
        ("/_sim/streams", '{"duration": Infinity}', "Validation Failed. duration must be a positive, finite"),
        ("/_sim/streams", '{"participants": 0}', "Validation Failed."),
        ("/_sim/streams", '{"scheme": "wss"}', "Validation Failed."),  # this simulator has no TLS port
        ("/_sim/clock/advance", "{}", "Validation Failed. seconds must be a number."),
        ("/_sim/clock/advance", '{"seconds": -1}', "Validation Failed. seconds must not be negative."),
        ("/_sim/clock/advance", '{"seconds": NaN}', "Validation Failed. seconds must be a finite"),
        ("/_sim/clock/advance", '{"seconds": Infinity}', "Validation Failed. seconds must be a finite"),
    ],
    ids=[
        "not-json", "not-object", "bad-product", "bad-duration", "nan-duration", "infinite-duration",
        "no-participants", "no-tls", "no-seconds", "negative-seconds", "nan-seconds", "infinite-seconds",
    ],
)  # fmt: skip
async def test_bad_requests_are_400(
    sim: Simulator, http: aiohttp.ClientSession, path: str, data: str, message: str
) -> None:
    headers = {"content-type": "application/json"}
    async with http.post(sim.http_url + path, data=data, headers=headers) as response:
        assert response.status == 400
        body = await _json(response)
    assert body["code"] == 300
    assert body["message"].startswith(message)
    assert sim.engine.streams == {}
    assert sim.clock.now() == 0.0


async def test_stop_with_an_unknown_reason_is_400(sim: Simulator, http: aiohttp.ClientSession) -> None:
    stream = sim.start_stream()
    url = f"{sim.http_url}/_sim/streams/{stream.stream_id}/stop"
    async with http.post(url, json={"reason": 99}) as response:
        assert response.status == 400
        assert (await _json(response))["code"] == 300
    assert stream.live


async def test_advance_the_manual_clock(
    sim: Simulator, clock: ManualClock, http: aiohttp.ClientSession, receiver: WebhookReceiver
) -> None:
    stream = sim.start_stream(webhook_url=receiver.url)  # nobody connects: 60 s connect timeout
    async with http.post(f"{sim.http_url}/_sim/clock/advance", json={"seconds": 2.5}) as response:
        assert response.status == 200
        assert await _json(response) == {"now": 2.5, "timers_run": 0}
    assert clock.now() == 2.5
    async with http.post(f"{sim.http_url}/_sim/clock/advance", json={"seconds": 57.5}) as response:
        assert (await _json(response))["timers_run"] == 1
    stopped = await receiver.wait_for("meeting.rtms_stopped")
    assert stopped.payload["stop_reason"] == StopReason.CONNECTION_TIMEOUT
    assert not stream.live


async def test_advance_needs_a_manual_clock(http: aiohttp.ClientSession) -> None:
    async with (
        Simulator(SimulatorConfig(tls_port=None)) as real,
        http.post(f"{real.http_url}/_sim/clock/advance", json={"seconds": 1}) as response,
    ):
        assert response.status == 409
        assert (await _json(response))["code"] == 409


async def test_journal_filters_by_stream(sim: Simulator, http: aiohttp.ClientSession) -> None:
    one = sim.start_stream()
    two = sim.start_stream()
    sim.stop_stream(two, StopReason.HOST_TRIGGERED)
    async with http.get(f"{sim.http_url}/_sim/journal", params={"stream_id": two.stream_id}) as response:
        records = (await _json(response))["records"]
    assert {r["stream_id"] for r in records} == {two.stream_id}
    assert [r["kind"] for r in records] == [
        "stream_created",
        "meeting.rtms_started",
        "terminated",
        "meeting.rtms_stopped",
    ]
    assert records[2]["detail"] == {"stop_reason": StopReason.HOST_TRIGGERED}

    query = {"stream_id": one.stream_id, "channel": "webhook"}
    async with http.get(f"{sim.http_url}/_sim/journal", params=query) as response:
        records = (await _json(response))["records"]
    assert [(r["kind"], r["direction"]) for r in records] == [("meeting.rtms_started", "out")]
    assert records[0]["detail"]["payload"]["rtms_stream_id"] == one.stream_id


async def test_drop_cuts_the_sockets(sim: Simulator, http: aiohttp.ClientSession, clients: Clients) -> None:
    stream = sim.start_stream()
    joined = await clients.joined(sim, stream)
    async with http.post(f"{sim.http_url}/_sim/streams/{stream.stream_id}/drop") as response:
        assert response.status == 200
    assert await joined.signaling.wait_closed() is None


# -- scenarios, triggers, the clock and reset (the control surface of a loaded world) ----------

ROOT = Path(__file__).resolve().parents[2]
S09 = ROOT / "scenarios" / "s09-host-present-no-approval.yaml"
YAML = {"content-type": "application/yaml"}


async def _load(sim: Simulator, http: aiohttp.ClientSession, text: str, **query: str) -> Any:
    async with http.post(f"{sim.http_url}/_sim/scenarios", data=text, headers=YAML, params=query) as response:
        assert response.status == 201, await response.text()
        return await _json(response)


async def _post(http: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, Any]:
    async with http.post(url, json=body) as response:
        return response.status, await _json(response)


async def test_a_loaded_scenario_plays_its_timeline_on_the_clock(
    sim: Simulator, clock: ManualClock, http: aiohttp.ClientSession, receiver: WebhookReceiver
) -> None:
    clock.advance(100.0)  # the timeline starts when the scenario is loaded, not at zero
    loaded = await _load(sim, http, S09.read_text(), webhook_url=receiver.url + "/{app}")
    assert loaded["scenario"] == "s09-host-present-no-approval"
    [meeting] = loaded["meetings"]
    assert (meeting["meeting"], meeting["started"], meeting["present"]) == ("standup", False, [])
    assert sim.world.apps["notetaker"].webhook_url == receiver.url + "/notetaker"

    status, ran = await _post(http, f"{sim.http_url}/_sim/clock/run", {"until": 111})
    assert status == 200
    assert ran["now"] == 111
    assert ran["timers_run"] >= 3
    async with http.get(f"{sim.http_url}/_sim/meetings") as response:
        [meeting] = (await _json(response))["meetings"]
    assert (meeting["started"], meeting["present"]) == (True, ["host", "owner"])
    assert meeting["apps"]["notetaker"]["state"] == "streaming"
    started = await receiver.wait_for("meeting.rtms_started")
    assert started.json["event"] == "meeting.rtms_started"
    assert [r.t for r in sim.journal.select(kind="step")] == [100.0, 105.0, 110.0]


async def test_a_bad_scenario_is_400_naming_the_field(sim: Simulator, http: aiohttp.ClientSession) -> None:
    text = S09.read_text().replace("do: join, user: host", "do: jion, user: host")
    async with http.post(f"{sim.http_url}/_sim/scenarios", data=text, headers=YAML) as response:
        assert response.status == 400
        body = await _json(response)
    assert body["code"] == 300
    assert body["message"].startswith("request body: at $.timeline[0].do: Invalid value 'jion'")
    assert "expected one of: join, leave" in body["message"]
    async with http.post(f"{sim.http_url}/_sim/scenarios", data="name: [", headers=YAML) as response:
        assert (response.status, (await _json(response))["code"]) == (400, 300)
    headers = {"content-type": "image/png"}
    async with http.post(f"{sim.http_url}/_sim/scenarios", data=b"x", headers=headers) as response:
        assert response.status == 415
    assert sim.world.meetings == {}


async def test_triggered_events_change_the_world_now(
    sim: Simulator, clock: ManualClock, http: aiohttp.ClientSession
) -> None:
    await _load(sim, http, S09.read_text().split("timeline:")[0])  # the world, no timeline
    events = f"{sim.http_url}/_sim/meetings/standup/events"
    for user in ("host", "owner"):
        status, meeting = await _post(http, events, {"do": "join", "user": user})
        assert status == 200
    assert meeting["present"] == ["host", "owner"]
    status, meeting = await _post(http, events, {"do": "start_app"})
    assert meeting["apps"]["notetaker"]["state"] == "streaming"
    status, meeting = await _post(http, events, {"do": "pause"})
    assert (status, meeting["apps"]["notetaker"]["state"]) == (200, "paused")
    status, meeting = await _post(http, events, {"do": "fault", "kind": "stop", "reason": 8})
    assert status == 200
    [stream] = sim.engine.streams.values()
    assert stream.stop_reason == StopReason.STREAM_REVOKED
    assert clock.now() == 0.0  # all of it now, without moving time


@pytest.mark.parametrize(
    ("meeting", "body", "status", "code", "message"),
    [
        ("nope", {"do": "pause"}, 404, 3001, "Meeting does not exist: nope."),
        ("standup", {"do": "jion"}, 400, 300, "Validation Failed. Invalid value 'jion' - at `$.do`; expect"),
        ("standup", {"do": "join"}, 400, 300, "Validation Failed. Object missing required field `user`"),
        ("standup", {"do": "fault", "kind": "meteor"}, 400, 300, "Invalid enum value 'meteor' - at `$.kind`"),
        ("standup", {"do": "join", "user": "ghost"}, 400, 300, "Validation Failed. unknown user 'ghost'"),
        ("standup", {"do": "pause", "app": "ghost"}, 400, 300, "Validation Failed. app 'ghost' is not added"),
        ("standup", {"do": "pause", "at": 5}, 400, 300, "Validation Failed. `at` is not accepted"),
        ("standup", {"do": "rest", "action": "start"}, 400, 300, "Validation Failed. REST calls are not"),
    ],
    ids=[
        "unknown-meeting", "unknown-step", "missing-field", "bad-fault", "unknown-user", "unknown-app", "at",
        "rest",
    ],
)  # fmt: skip
async def test_bad_triggers_fail_like_zoom(
    sim: Simulator, http: aiohttp.ClientSession, meeting: str, body: Any, status: int, code: int, message: str
) -> None:
    await _load(sim, http, S09.read_text().split("timeline:")[0])
    got_status, got = await _post(http, f"{sim.http_url}/_sim/meetings/{meeting}/events", body)
    assert (got_status, got["code"]) == (status, code)
    assert message in got["message"]
    assert got["message"].startswith("Validation Failed. " if status == 400 else "Meeting")
    assert sim.world.meeting("standup").present == set()


async def test_reset_ends_streams_cancels_the_timeline_and_clears_the_journal(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    await _load(sim, http, S09.read_text())
    await _post(http, f"{sim.http_url}/_sim/clock/run", {"until": 20})
    [stream] = sim.engine.streams.values()
    assert stream.live
    status, _ = await _post(http, f"{sim.http_url}/_sim/reset", {})
    assert status == 200
    assert not stream.live
    assert stream.stop_reason == StopReason.MEETING_ENDED
    async with http.get(f"{sim.http_url}/_sim/meetings") as response:
        assert await _json(response) == {"meetings": []}
    assert sim.world.scenario is None
    await _post(http, f"{sim.http_url}/_sim/clock/run", {"until": 200})  # the "end" at 90 s is gone
    assert sim.journal.select(kind="step") == []


async def test_journal_filters(sim: Simulator, clock: ManualClock, http: aiohttp.ClientSession) -> None:
    sim.start_stream()
    clock.advance(5.0)
    later = sim.start_stream()
    url = f"{sim.http_url}/_sim/journal"
    async with http.get(url, params={"since": "5", "direction": "out", "channel": "webhook"}) as response:
        records = (await _json(response))["records"]
    assert [(r["t"], r["stream_id"], r["kind"]) for r in records] == [
        (5.0, later.stream_id, "meeting.rtms_started")
    ]
    async with http.get(url, params={"kind": "stream_created", "limit": "1"}) as response:
        records = (await _json(response))["records"]
    assert [r["t"] for r in records] == [0.0]
    for bad in ({"since": "soon"}, {"limit": "-1"}, {"since": "nan"}):
        async with http.get(url, params=bad) as response:
            assert (response.status, (await _json(response))["code"]) == (400, 300)


async def test_run_the_clock_until(sim: Simulator, clock: ManualClock, http: aiohttp.ClientSession) -> None:
    stream = sim.start_stream()  # nobody joins: the connect timeout ends it at 60 s
    status, body = await _post(http, f"{sim.http_url}/_sim/clock/run", {"until": 61})
    assert (status, body["now"]) == (200, 61.0)
    assert stream.stop_reason == StopReason.CONNECTION_TIMEOUT
    for bad in ({"until": 10}, {"until": "soon"}, {}, {"until": 70, "speed": 1}):
        status, body = await _post(http, f"{sim.http_url}/_sim/clock/run", bad)
        assert (status, body["code"]) == (400, 300), bad
    assert clock.now() == 61.0


async def test_free_run_the_clock(sim: Simulator, clock: ManualClock, http: aiohttp.ClientSession) -> None:
    url = f"{sim.http_url}/_sim/clock/run"
    assert await _post(http, url, {"speed": 1000}) == (200, {"now": 0.0, "speed": 1000.0})
    status, body = await _post(http, url, {"until": 1000})
    assert (status, body["code"]) == (409, 409)  # two drivers of one clock: refused
    for _ in range(1000):  # a bound in real time; what is asserted is the clock's progress
        if clock.now() >= 5.0:
            break
        await asyncio.sleep(0.01)
    assert clock.now() >= 5.0
    status, body = await _post(http, url, {"speed": 0})
    assert (status, body["speed"]) == (200, 0.0)
    stopped = clock.now()
    await asyncio.sleep(0.05)
    assert clock.now() == stopped


async def test_running_the_clock_needs_a_manual_clock(http: aiohttp.ClientSession) -> None:
    async with Simulator(SimulatorConfig(tls_port=None)) as real:
        for body in ({"until": 1}, {"speed": 2}):
            async with http.post(f"{real.http_url}/_sim/clock/run", json=body) as response:
                assert (response.status, (await _json(response))["code"]) == (409, 409)
