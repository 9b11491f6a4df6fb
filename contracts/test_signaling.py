"""The signaling socket: the handshake, its refusals, and the requests a joined client may make.

A client opens the ``server_urls`` of a ``*.rtms_started`` event and sends
SIGNALING_HAND_SHAKE_REQ (§4.1); Zoom answers SIGNALING_HAND_SHAKE_RESP with ``status_code`` 0
and a per-type ``media_server.server_urls`` (§4.2, §1), or with a non-zero ``status_code`` and
then closes the socket (§4.2, §9.1 point 9). Zoom must take what the official SDK sends: binary
frames of pretty JSON, the id under ``meeting_uuid`` for every product, a ``sequence`` that is
a millisecond tick counter (§1.1, §2, §4.1).

Refusals are checked with the default switches of the simulator (docs/simulator.md
"Switches"): a bad signature is answered with INVALID_SIGNATURE, a second signaling socket with
DUPLICATE_SIGNAL_REQUEST. Whether real Zoom does the same is what §10.1 and §10.2 ask; a live
run of these contracts answers it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from contracts import wire
from contracts.probe import DROP, Message, Probe
from contracts.target import Capability, Stream, Target
from contracts.targets.simulator import SimulatorTarget

MEDIA_URL_KEYS = {*wire.MEDIA_KEYS, "all"}
# A tick counter the SDK was seen sending (§4.1): near the top of uint32, far from "starts at 1".


async def opened(target: Target, stream: Stream, *, role: str = "signaling") -> Probe:
    """A fresh signaling socket to ``stream``'s ``server_urls``, closed when the test ends."""
    probe = await target.join_for(stream).open(stream.payload["server_urls"], role=role)
    target.track(probe)
    return probe


def _scheme(url: str) -> str:
    return url.split("://", 1)[0]


# -- the handshake ------------------------------------------------------------------------------


@pytest.mark.parametrize("pretty", [True, False], ids=["sdk-binary-pretty", "compact-text"])
async def test_handshake_answers_per_type_media_urls(target: Target, stream: Stream, pretty: bool) -> None:
    """Status 0 and ``media_server.server_urls`` keyed by media type, for SDK frames (binary,
    pretty JSON) and compact text frames alike (§1.1, §4.2)."""
    probe, answer = await target.join_for(stream).signaling(pretty=pretty)
    target.track(probe)
    assert answer["msg_type"] == wire.MSG["SIGNALING_HAND_SHAKE_RESP"]
    assert answer["status_code"] == wire.STATUS["OK"]
    urls = answer["media_server"]["server_urls"]
    assert isinstance(urls, dict)
    if isinstance(target, SimulatorTarget):
        # The simulator's default app has a scope for every medium, and `all` is offered too.
        assert set(urls) == MEDIA_URL_KEYS
    else:
        # Which keys appear depends on the app's scopes (§1); an RTMS app has audio at least.
        assert set(urls) <= MEDIA_URL_KEYS
        assert "audio" in urls
    signaling_scheme = _scheme(stream.payload["server_urls"])
    for key, url in urls.items():
        assert isinstance(url, str), f"{key}: {url!r}"
        assert _scheme(url) in ("ws", "wss"), f"{key}: {url!r}"
        assert _scheme(url) == signaling_scheme, f"{key} is served over another scheme: {url}"
    assert not probe.closed


@pytest.mark.parametrize(
    "overrides",
    [{"protocol_version": DROP}, {"sequence": wire.TICK_SEQUENCE}, {"rtms_client_agent": DROP}],
    ids=["no-protocol-version", "tick-counter-sequence", "no-client-agent"],
)
async def test_handshake_takes_what_the_sdk_sends(
    target: Target, stream: Stream, overrides: dict[str, Any]
) -> None:
    """``protocol_version`` and ``rtms_client_agent`` may be missing, ``sequence`` is not
    validated (§4.1: the SDK sends a millisecond tick counter)."""
    join = target.join_for(stream)
    probe = await opened(target, stream)
    await probe.send(join.signaling_req(**overrides))
    answer = await probe.expect(wire.MSG["SIGNALING_HAND_SHAKE_RESP"])
    assert answer["status_code"] == wire.STATUS["OK"], answer


@pytest.mark.needs(Capability.PRODUCTS)
@pytest.mark.parametrize("product", ["webinar", "session", "contact_center"])
async def test_every_product_joins_with_the_id_under_meeting_uuid(target: Target, product: str) -> None:
    """The SDK puts a webinar's, a session's or an engagement's id under ``meeting_uuid`` and
    signs it with that id (§2); Zoom accepts it."""
    started = await target.start_stream(product=product)
    try:
        join = target.join_for(started)
        request = join.signaling_req()
        assert request["meeting_uuid"] == started.instance_id
        assert started.id_key not in request or started.id_key == "meeting_uuid"
        probe = await opened(target, started)
        await probe.send(request)
        answer = await probe.expect(wire.MSG["SIGNALING_HAND_SHAKE_RESP"])
        assert answer["status_code"] == wire.STATUS["OK"], answer
        assert "audio" in answer["media_server"]["server_urls"]
    finally:
        await target.end_stream(started)


# -- refusals -----------------------------------------------------------------------------------


async def test_bad_signature_is_refused_with_3(target: Target, stream: Stream) -> None:
    """A wrong signature: INVALID_SIGNATURE (3), then a close frame (§2, §5.2; the simulator's
    default ``auth_failure`` switch, §10.2). The stream stays joinable with the right one."""
    join = target.join_for(stream)
    probe = await opened(target, stream)
    await probe.send(join.signaling_req(signature="0" * 64))
    assert await probe.refusal(wire.MSG["SIGNALING_HAND_SHAKE_RESP"]) == wire.STATUS["INVALID_SIGNATURE"]

    again, answer = await join.signaling()
    target.track(again)
    assert answer["status_code"] == wire.STATUS["OK"]


async def test_secret_of_another_app_is_refused_with_3(target: Target, stream: Stream) -> None:
    """A signature made with another secret is as wrong as a made-up one (§2)."""
    join = target.join_for(stream, client_secret="not-the-app-secret")
    probe = await opened(target, stream)
    await probe.send(join.signaling_req())
    assert await probe.refusal(wire.MSG["SIGNALING_HAND_SHAKE_RESP"]) == wire.STATUS["INVALID_SIGNATURE"]


async def test_unknown_stream_is_refused_with_2(target: Target, stream: Stream) -> None:
    """A stream id Zoom does not know, correctly signed for itself: INVALID_RTMS_STREAM_ID (2),
    then a close frame (§5.2)."""
    other = dataclasses.replace(target.join_for(stream), rtms_stream_id="0123456789abcdef" * 2)
    probe = await opened(target, stream)
    await probe.send(other.signaling_req())
    assert await probe.refusal(wire.MSG["SIGNALING_HAND_SHAKE_RESP"]) == wire.STATUS["INVALID_RTMS_STREAM_ID"]


async def test_second_signaling_socket_is_refused_and_the_first_lives_on(
    target: Target, stream: Stream
) -> None:
    """A second signaling handshake for a joined stream: DUPLICATE_SIGNAL_REQUEST (8) and a close
    frame (the default ``duplicate_connection`` switch, §10.1); the first connection is untouched
    and still gets its keep-alives (§4.11)."""
    first = await target.joined(stream, {})
    second = await opened(target, stream, role="second signaling")
    await second.send(first.join.signaling_req())
    assert (
        await second.refusal(wire.MSG["SIGNALING_HAND_SHAKE_RESP"]) == wire.STATUS["DUPLICATE_SIGNAL_REQUEST"]
    )

    await target.pass_time(11.0, step=0.5)  # past the next keep-alive (every 10 s)
    requests = await first.signaling.wait_keep_alives(1)
    assert isinstance(requests[0].get("timestamp"), int)
    assert not first.signaling.closed


@pytest.mark.parametrize(
    ("frame", "status"),
    [
        (b"\x00\x01 not json", "INVALID_PAYLOAD"),
        ("not json at all", "INVALID_PAYLOAD"),
        ('{"msg_type": 99}', "INVALID_MESSAGE_TYPE"),
    ],
    ids=["binary-garbage", "text-garbage", "unknown-msg-type"],
)
async def test_first_frame_that_is_not_a_handshake_is_refused(
    target: Target, stream: Stream, frame: str | bytes, status: str
) -> None:
    """A first frame that is not JSON: INVALID_PAYLOAD (4); JSON of a message type Zoom does not
    define: INVALID_MESSAGE_TYPE (1). Either way a SIGNALING_HAND_SHAKE_RESP, then a close frame
    (§5.2; docs/simulator.md "Failures")."""
    probe = await opened(target, stream)
    await probe.send_raw(frame)
    assert await probe.refusal(wire.MSG["SIGNALING_HAND_SHAKE_RESP"]) == wire.STATUS[status]


# -- requests of a joined client ----------------------------------------------------------------


async def test_stream_state_request_is_answered(target: Target, stream: Stream) -> None:
    """STREAM_STATE_REQ (19) of a ready client: STREAM_STATE_RESP (20) naming the stream, state
    ACTIVE, a timestamp (§4.13)."""
    joined = await target.joined(stream, {})
    await joined.signaling.send(
        {"msg_type": wire.MSG["STREAM_STATE_REQ"], "rtms_stream_id": stream.stream_id}
    )
    answer = await joined.signaling.expect(wire.MSG["STREAM_STATE_RESP"])
    assert answer["rtms_stream_id"] == stream.stream_id
    assert answer["state"] == wire.STREAM_STATE["ACTIVE"]
    assert isinstance(answer["timestamp"], int)


async def test_session_state_request_is_answered(target: Target, stream: Stream) -> None:
    """SESSION_STATE_REQ (10) for the session SESSION_STATE_UPDATE announced: SESSION_STATE_RESP
    (11) with the same ``rtms_session_id``, state STARTED, a timestamp (§4.9, §4.10)."""
    joined = await target.joined(stream, {})
    update: Message = await joined.signaling.expect(wire.MSG["SESSION_STATE_UPDATE"])
    assert update["state"] == wire.SESSION_STATE["STARTED"]
    session_id = update["rtms_session_id"]
    assert isinstance(session_id, str)
    assert session_id
    await joined.signaling.send({"msg_type": wire.MSG["SESSION_STATE_REQ"], "rtms_session_id": session_id})
    answer = await joined.signaling.expect(wire.MSG["SESSION_STATE_RESP"])
    assert answer["rtms_session_id"] == session_id
    assert answer["state"] == wire.SESSION_STATE["STARTED"]
    assert isinstance(answer["timestamp"], int)
