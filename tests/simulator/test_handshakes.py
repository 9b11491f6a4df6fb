"""Handshake failures are answered in Zoom's terms, then the socket is closed (§4.2, §4.4, §9.1).

Every rejection is a handshake response (msg 2 on signaling, msg 4 on media) with a non-zero
``status_code`` from the status table in force, followed by a close frame with code 1000.
These are the default switches (``DuplicatePolicy.REJECT``, ``AuthFailure.REJECT``); the other
settings (the newest connection wins; a bad signature stops the stream with 18) are tested in
``test_faults.py``.
"""

from __future__ import annotations

import aiohttp
import pytest

from connector.protocol import (
    AudioParams,
    DataHandshakeResp,
    MediaParams,
    MediaType,
    SignalingHandshakeResp,
    StatusCode,
    StatusTable,
    StreamState,
    StreamStateReq,
    StreamStateResp,
    VideoParams,
)
from simulator.config import SimulatorConfig
from simulator.server import Simulator

from .conftest import MakeSim
from .harness import Clients
from .probe import Probe


class INVALID:
    """Short names for the media-parameter codes used below."""

    AUDIO_SEND_RATE = StatusCode.INVALID_MEDIA_AUDIO_SEND_RATE
    AUDIO_SAMPLE_RATE = StatusCode.INVALID_MEDIA_AUDIO_SAMPLE_RATE
    VIDEO_FPS = StatusCode.INVALID_MEDIA_VIDEO_FPS


VIDEO_ECHO = {"content_type": 3, "resolution": 2, "data_opt": 3}
SHARE_ECHO = {"content_type": 3, "resolution": 3}


async def _rejected_signaling(probe: Probe) -> tuple[int, str]:
    answer = await probe.recv()
    assert isinstance(answer, SignalingHandshakeResp), answer
    assert await probe.wait_closed() == 1000
    return answer.status_code, answer.reason


async def _rejected_media(probe: Probe) -> tuple[int, str]:
    answer = await probe.recv()
    assert isinstance(answer, DataHandshakeResp), answer
    assert await probe.wait_closed() == 1000
    return answer.status_code, answer.reason


async def test_bad_signature(sim: Simulator, clients: Clients) -> None:
    stream = sim.start_stream()
    join = clients.join_for(sim, stream)
    probe = await clients.open(join.server_urls)
    await probe.send(join.signaling_req(signature="0" * 64))
    assert await _rejected_signaling(probe) == (StatusCode.INVALID_SIGNATURE, "invalid signature")
    assert stream.signaling is None
    assert stream.live


async def test_signature_made_for_another_meeting(sim: Simulator, clients: Clients) -> None:
    """A signature that is right for its own ids does not open a stream of another meeting."""
    stream = sim.start_stream()
    join = clients.join_for(sim, stream)
    probe = await clients.open(join.server_urls)
    other = type(join)(**{**join.__dict__, "instance_id": "AnotherMeetingUuid000=="})
    await probe.send(other.signaling_req())
    status, _ = await _rejected_signaling(probe)
    assert status == StatusCode.INVALID_SIGNATURE


async def test_unknown_stream(sim: Simulator, clients: Clients) -> None:
    stream = sim.start_stream()
    join = clients.join_for(sim, stream)
    probe = await clients.open(join.server_urls)
    await probe.send(join.signaling_req(rtms_stream_id="0" * 32))
    status, reason = await _rejected_signaling(probe)
    assert status == StatusCode.INVALID_RTMS_STREAM_ID
    assert "0" * 32 in reason


async def test_ended_stream_is_unknown(sim: Simulator, clients: Clients) -> None:
    stream = sim.start_stream()
    sim.stop_stream(stream)
    join = clients.join_for(sim, stream)
    probe = await clients.open(join.server_urls)
    await probe.send(join.signaling_req())
    status, _ = await _rejected_signaling(probe)
    assert status == StatusCode.INVALID_RTMS_STREAM_ID


async def test_second_signaling_is_a_duplicate(sim: Simulator, clients: Clients) -> None:
    stream = sim.start_stream()
    first = await clients.joined(sim, stream)
    join = first.join
    second = await clients.open(join.server_urls)
    await second.send(join.signaling_req())
    assert await _rejected_signaling(second) == (
        StatusCode.DUPLICATE_SIGNAL_REQUEST,
        "duplicate signaling connection",
    )
    # The first connection is untouched.
    await first.signaling.send(StreamStateReq(rtms_stream_id=stream.stream_id))
    state = await first.signaling.expect(StreamStateResp)
    assert state.state == StreamState.ACTIVE
    assert stream.signaling is not None
    assert not stream.signaling.gone


async def test_second_audio_socket_is_a_duplicate(sim: Simulator, clients: Clients) -> None:
    stream = sim.start_stream()
    joined = await clients.joined(sim, stream, {"audio": None})
    probe = await clients.open(joined.urls["audio"])
    await probe.send(joined.join.data_req(int(MediaType.AUDIO)))
    status, _ = await _rejected_media(probe)
    assert status == StatusCode.DUPLICATE_MEDIA_DATA_CONNECTION
    assert list(stream.media) == [MediaType.AUDIO]


@pytest.mark.parametrize(
    ("first", "then"),
    [("audio", "all"), ("all", "transcript"), ("all", "all")],
)
async def test_all_and_single_sockets_exclude_each_other(
    sim: Simulator, clients: Clients, first: str, then: str
) -> None:
    stream = sim.start_stream()
    joined = await clients.joined(sim, stream, {first: None})
    media_type = MediaType.ALL if then == "all" else MediaType.TRANSCRIPT
    probe = await clients.open(joined.urls[then])
    await probe.send(joined.join.data_req(int(media_type)))
    status, _ = await _rejected_media(probe)
    assert status == StatusCode.MEDIA_DATA_ALL_CONNECTION_EXIST


@pytest.mark.parametrize(
    ("key", "media_type", "params", "status"),
    [
        ("audio", MediaType.AUDIO, MediaParams(audio=AudioParams(send_rate=30)), INVALID.AUDIO_SEND_RATE),
        ("audio", MediaType.AUDIO, MediaParams(audio=AudioParams(sample_rate=9)), INVALID.AUDIO_SAMPLE_RATE),
        ("video", MediaType.VIDEO, MediaParams(video=VideoParams(fps=99)), INVALID.VIDEO_FPS),
        ("audio", MediaType.AUDIO | MediaType.VIDEO, None, StatusCode.MEDIA_TYPE_INVALID_VALUE),
    ],
    ids=["send_rate-30", "sample_rate-9", "fps-99", "media_type-3"],
)
async def test_invalid_media_params(
    sim: Simulator,
    clients: Clients,
    key: str,
    media_type: int,
    params: MediaParams | None,
    status: StatusCode,
) -> None:
    stream = sim.start_stream()
    joined = await clients.joined(sim, stream)
    probe = await clients.open(joined.urls[key])
    await probe.send(joined.join.data_req(int(media_type), params))
    code, reason = await _rejected_media(probe)
    assert code == status
    assert reason
    assert stream.media == {}


async def test_media_handshake_before_signaling(sim: Simulator, clients: Clients) -> None:
    stream = sim.start_stream()
    join = clients.join_for(sim, stream)
    url = join.server_urls.replace("/signaling", "/media/audio")
    probe = await clients.open(url)
    await probe.send(join.data_req(int(MediaType.AUDIO)))
    assert await _rejected_media(probe) == (
        StatusCode.INVALID_RTMS_STREAM_ID,
        "no signaling connection for this stream",
    )


@pytest.mark.parametrize(
    ("frame", "status"),
    [
        (b"\x00\x01 not json", StatusCode.INVALID_PAYLOAD),
        ("{}", StatusCode.INVALID_PAYLOAD),
        ('{"msg_type": 1, "meeting_uuid": 5}', StatusCode.INVALID_PAYLOAD),
        ('{"msg_type": 99}', StatusCode.INVALID_MESSAGE_TYPE),
        ('{"msg_type": 7}', StatusCode.INVALID_MESSAGE_TYPE),  # a valid message, but not a handshake
    ],
    ids=["binary-garbage", "no-msg-type", "malformed-handshake", "unknown-type", "ready-first"],
)
async def test_first_signaling_frame_not_a_handshake(
    sim: Simulator, clients: Clients, frame: str | bytes, status: StatusCode
) -> None:
    probe = await clients.open(sim.signaling_url())
    await probe.send_raw(frame)
    code, reason = await _rejected_signaling(probe)
    assert code == status
    assert reason
    records = sim.journal.select(channel="signaling", direction="out", kind="SIGNALING_HAND_SHAKE_RESP")
    assert [r.detail["status_code"] for r in records] == [status]


async def test_first_media_frame_not_a_handshake(sim: Simulator, clients: Clients) -> None:
    probe = await clients.open(sim.signaling_url().replace("/signaling", "/media/audio"))
    await probe.send_raw("not json at all")
    code, _ = await _rejected_media(probe)
    assert code == StatusCode.INVALID_PAYLOAD


async def test_unknown_media_path_is_404(sim: Simulator) -> None:
    async with aiohttp.ClientSession() as http:
        url = sim.http_url + "/rtms/media/hologram"
        async with http.get(url) as response:
            assert response.status == 404


async def test_legacy_status_table(make_sim: MakeSim, clients: Clients) -> None:
    """The older beta table numbers the same failures differently (§5.2, §10 item 3)."""
    sim = await make_sim(SimulatorConfig(tls_port=None, status_table=StatusTable.LEGACY))
    stream = sim.start_stream()
    join = clients.join_for(sim, stream)

    bad = await clients.open(join.server_urls)
    await bad.send(join.signaling_req(signature="f" * 64))
    status, _ = await _rejected_signaling(bad)
    assert status == 15  # INVALID_SIGNATURE in the legacy table

    await clients.joined(sim, stream)
    duplicate = await clients.open(join.server_urls)
    await duplicate.send(join.signaling_req())
    status, _ = await _rejected_signaling(duplicate)
    assert status == 17  # DUPLICATE_SIGNAL_REQUEST in the legacy table


@pytest.mark.parametrize(
    ("key", "asked", "echoed"),
    [
        # Above 5 fps only H.264 is served; JPG at 30 fps silently becomes JPG at 5 fps (§4.3).
        ("video", {"codec": 5, "fps": 30}, {**VIDEO_ECHO, "codec": 5, "fps": 5}),
        ("video", {"codec": 7, "fps": 30}, {**VIDEO_ECHO, "codec": 7, "fps": 30}),
        (
            "video",
            {"codec": 6, "fps": 5, "resolution": 3},
            {**VIDEO_ECHO, "codec": 6, "resolution": 3, "fps": 5},
        ),
        # Share: above 1 fps only H.264; PNG at 10 fps becomes JPG at 1 fps. No data_opt.
        ("deskshare", {"codec": 6, "fps": 10}, {**SHARE_ECHO, "codec": 5, "fps": 1}),
        ("deskshare", {"codec": 7, "fps": 10}, {**SHARE_ECHO, "codec": 7, "fps": 10}),
    ],
    ids=["jpg-30-to-5", "h264-30-kept", "png-5-kept", "share-png-10-to-jpg-1", "share-h264-10-kept"],
)
async def test_visual_params_replaced_silently(
    sim: Simulator, clients: Clients, key: str, asked: dict[str, int], echoed: dict[str, int]
) -> None:
    stream = sim.start_stream()
    joined = await clients.joined(sim, stream)
    single = MediaType.VIDEO if key == "video" else MediaType.DESKSHARE
    params = MediaParams(**{key: VideoParams(**asked)})  # type: ignore[arg-type]
    probe = await clients.open(joined.urls[key])
    await probe.send(joined.join.data_req(int(single), params))
    answer = await probe.expect(DataHandshakeResp)
    assert answer.status_code == 0
    assert probe.raw_json(answer)["media_params"] == {key: echoed}
