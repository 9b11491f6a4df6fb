"""Media sockets: the data handshake's parameters, its refusals, and the frames of each type.

After a signaling handshake a client opens ``media_server.server_urls.<type>`` (or ``all``) and
sends DATA_HAND_SHAKE_REQ; Zoom answers DATA_HAND_SHAKE_RESP with ``payload_encrypted`` and the
``media_params`` it will serve, its defaults filled in and its silent replacements made (§4.3,
§4.4), or refuses with the parameter's own status code and closes (§5.2). Nothing flows before
CLIENT_READY_ACK (§3, §4.7); then MEDIA_DATA_* frames of the negotiated shape arrive (§4.12).

What a meeting carries (speech, a shared screen, chat) is the meeting's: on the simulator it
is scripted, so a missing frame fails; on real Zoom a contract whose meeting never provided it
is reported not applicable. Time moves with ``target.pass_time``.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from contracts import wire
from contracts.probe import DROP, Joined, Message, Probe, ProbeClosed, ProbeError
from contracts.target import Capability, NotApplicable, Stream, Target

RESP = wire.MSG["DATA_HAND_SHAKE_RESP"]
MEDIA_MSGS = set(wire.MEDIA_MSG.values())
JPG, PNG, H264 = 5, 6, 7  # MEDIA_PAYLOAD_TYPE (§5.7)
MAGIC = {JPG: (b"\xff\xd8",), PNG: (b"\x89PNG\r\n\x1a\n",), H264: (b"\x00\x00\x00\x01", b"\x00\x00\x01")}
HERTZ = {0: 8000, 1: 16000, 2: 32000, 3: 48000}  # AUDIO_SAMPLE_RATE (§5.7)
# Zoom's defaults for `media_params: null` (§4.3): L16 16 kHz mono mixed 20 ms; video JPG 5 fps
# HD; share JPG 1 fps FHD; transcripts with language detection.
DEFAULTS: dict[str, dict[str, Any]] = {
    "audio": {"content_type": 2, "codec": 1, "sample_rate": 1, "channel": 1, "data_opt": 1, "send_rate": 20},
    "video": {"content_type": 3, "codec": JPG, "resolution": 2, "data_opt": 3, "fps": 5},
    "deskshare": {"content_type": 3, "codec": JPG, "resolution": 3, "fps": 1},
    "transcript": {"content_type": 5, "enable_lid": True},
    "chat": {"content_type": 5},
}


# -- helpers ------------------------------------------------------------------------------------


async def signaled(target: Target, stream: Stream) -> Joined:
    """A client through the signaling handshake only: no media socket, not ready."""
    return await target.joined(stream, {}, ready=False)


async def media_socket(target: Target, joined: Joined, key: str) -> Probe:
    url = joined.urls.get(key)
    if url is None:
        raise NotApplicable(f"the app has no {key} scope (no {key} URL in the handshake answer)")
    probe = await joined.join.open(url, role=key)
    target.track(probe)
    return probe


async def handshake(
    target: Target, joined: Joined, key: str, params: Any = None, **overrides: Any
) -> tuple[Probe, Message]:
    """DATA_HAND_SHAKE_REQ on a new ``key`` socket; the socket and Zoom's first answer."""
    probe = await media_socket(target, joined, key)
    media_type = wire.ALL if key == "all" else wire.MEDIA_KEYS[key]
    await probe.send(joined.join.data_req(media_type, params, **overrides))
    return probe, await probe.recv()


def accepted(answer: Message) -> dict[str, Any]:
    """The echoed ``media_params`` of an accepted handshake; ``payload_encrypted`` is always
    there (§4.4: the SDK aborts the join without it)."""
    assert answer["msg_type"] == RESP, answer
    assert answer["status_code"] == wire.STATUS["OK"], answer
    assert isinstance(answer.get("payload_encrypted"), bool), answer
    params = answer["media_params"]
    assert isinstance(params, dict), answer
    return params


def media_of(probe: Probe, msg_type: int | None = None) -> list[Message]:
    """The media frames ``probe`` received so far (of ``msg_type``), in order."""
    wanted = {msg_type} if msg_type is not None else MEDIA_MSGS
    return [m for m, _ in probe.received if m["msg_type"] in wanted]


async def until(
    target: Target, probe: Probe, done: Callable[[Probe], bool], *, within: float, lacking: str
) -> None:
    """Let the target's time pass a second at a time until ``done(probe)``, for ``within`` s."""
    waited = 0.0
    while not done(probe) and waited < within:
        await target.pass_time(1.0, step=0.5)
        waited += 1.0
    while not done(probe):  # what the target sent may still be on its way
        try:
            await probe.recv(timeout=2.0)
        except ProbeClosed:
            raise
        except ProbeError:
            if probe.bad_frames or target.can(Capability.CLOCK):
                raise AssertionError(f"{lacking} within {within:g} s of {target.name}'s time") from None
            raise NotApplicable(f"{lacking} within {within:g} s: the meeting did not provide it") from None


async def frames(
    target: Target, probe: Probe, msg_type: int, count: int, *, within: float, lacking: str
) -> list[Message]:
    await until(target, probe, lambda p: len(media_of(p, msg_type)) >= count, within=within, lacking=lacking)
    return media_of(probe, msg_type)[:count]


def payload(content: dict[str, Any]) -> bytes:
    """The bytes of an audio, video or share frame: base64 of exactly ``length`` bytes (§4.12)."""
    data = base64.b64decode(content["data"], validate=True)
    assert content["length"] == len(data)
    return data


def assert_grid(stamps: list[int], step: float) -> None:
    """Epoch-ms timestamps, each a positive multiple of ``step`` after the last (a gap is
    silence or a camera off), at least once exactly ``step`` (§4.12)."""
    assert all(isinstance(t, int) and t > 10**12 for t in stamps), stamps
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert all(g > 0 and g % step == 0 for g in gaps), gaps
    assert step in gaps, gaps


# -- the data handshake -------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(DEFAULTS))
async def test_null_media_params_get_the_defaults(target: Target, stream: Stream, key: str) -> None:
    """``media_params: null`` (what the SDK sends for transcripts) is answered with that type's
    defaults, and only that type's (§4.3, §4.4)."""
    joined = await signaled(target, stream)
    _, answer = await handshake(target, joined, key, None)
    params = accepted(answer)
    assert set(params) == {key}
    assert params[key].items() >= DEFAULTS[key].items(), params[key]


async def test_send_rate_above_1000_is_clamped(target: Target, stream: Stream) -> None:
    """An audio ``send_rate`` above 1000 ms is served at 1000 ms (§4.3)."""
    joined = await signaled(target, stream)
    _, answer = await handshake(target, joined, "audio", {"audio": {**DEFAULTS["audio"], "send_rate": 2000}})
    assert accepted(answer)["audio"]["send_rate"] == 1000


@pytest.mark.parametrize(
    ("key", "asked", "served"),
    [
        ("video", {"codec": PNG, "fps": 30}, {"codec": JPG, "fps": 5}),
        ("video", {"codec": H264, "fps": 30}, {"codec": H264, "fps": 30}),
        ("deskshare", {"codec": PNG, "fps": 10}, {"codec": JPG, "fps": 1}),
        ("deskshare", {"codec": H264, "fps": 10}, {"codec": H264, "fps": 10}),
    ],
    ids=["video-png-30-to-jpg-5", "video-h264-30-kept", "share-png-10-to-jpg-1", "share-h264-10-kept"],
)
async def test_fast_pictures_need_h264(
    target: Target, stream: Stream, key: str, asked: dict[str, int], served: dict[str, int]
) -> None:
    """Above 5 fps (video) or 1 fps (share) only H.264 is served; another codec silently becomes
    JPG at 5 or 1 fps (§4.3)."""
    joined = await signaled(target, stream)
    _, answer = await handshake(target, joined, key, {key: asked})
    assert accepted(answer)[key].items() >= served.items()


@pytest.mark.parametrize(
    ("key", "params", "status"),
    [
        ("audio", {"audio": {"codec": 9}}, "INVALID_MEDIA_AUDIO_CODEC"),
        ("audio", {"audio": {"sample_rate": 9}}, "INVALID_MEDIA_AUDIO_SAMPLE_RATE"),
        ("audio", {"audio": {"channel": 3}}, "INVALID_MEDIA_AUDIO_CHANNEL"),
        ("audio", {"audio": {"send_rate": 30}}, "INVALID_MEDIA_AUDIO_SEND_RATE"),
        ("audio", {"audio": {"codec": 4, "sample_rate": 1}}, "INVALID_MEDIA_AUDIO_PARAMS"),
        ("audio", {"audio": {"codec": 2, "sample_rate": 0, "channel": 2}}, "INVALID_MEDIA_AUDIO_PARAMS"),
        ("video", {"video": {"codec": 1}}, "INVALID_MEDIA_VIDEO_CODEC"),
        ("video", {"video": {"resolution": 9}}, "INVALID_MEDIA_VIDEO_RESOLUTION"),
        ("video", {"video": {"fps": 99}}, "INVALID_MEDIA_VIDEO_FPS"),
        ("deskshare", {"deskshare": {"codec": 2}}, "INVALID_MEDIA_DESKSHARE_CODEC"),
        ("transcript", {"transcript": {"src_language": 999}}, "INVALID_MEDIA_TRANSCRIPT_SOURCE_LANGUAGE"),
    ],
    ids=[
        "audio-codec-9",
        "sample-rate-9",
        "channel-3",
        "send-rate-30",
        "opus-at-16k",
        "g711-stereo",
        "video-codec-l16",
        "resolution-9",
        "fps-99",
        "share-codec-g711",
        "language-999",
    ],
)
async def test_invalid_params_are_refused_with_their_code(
    target: Target, stream: Stream, key: str, params: dict[str, Any], status: str
) -> None:
    """Each invalid parameter, and each unsupported audio combination, has its own status code
    (§4.3 supported combinations, §5.2); a DATA_HAND_SHAKE_RESP, then a close frame."""
    joined = await signaled(target, stream)
    probe = await media_socket(target, joined, key)
    await probe.send(joined.join.data_req(wire.MEDIA_KEYS[key], params))
    assert await probe.refusal(RESP) == wire.STATUS[status]


async def test_media_type_of_two_bits_is_refused(target: Target, stream: Stream) -> None:
    """``media_type`` is one type bit or ALL (32): audio|video (3) is MEDIA_TYPE_INVALID_VALUE (§5.6)."""
    joined = await signaled(target, stream)
    probe = await media_socket(target, joined, "audio")
    await probe.send(joined.join.data_req(wire.MEDIA_KEYS["audio"] | wire.MEDIA_KEYS["video"]))
    assert await probe.refusal(RESP) == wire.STATUS["MEDIA_TYPE_INVALID_VALUE"]


@pytest.mark.parametrize(("first", "then"), [("audio", "all"), ("all", "audio")])
async def test_all_excludes_single_sockets(target: Target, stream: Stream, first: str, then: str) -> None:
    """One ``all`` socket or per-type sockets, never both: MEDIA_DATA_ALL_CONNECTION_EXIST (15)."""
    joined = await signaled(target, stream)
    kept, answer = await handshake(target, joined, first)
    accepted(answer)
    probe = await media_socket(target, joined, then)
    await probe.send(joined.join.data_req(wire.ALL if then == "all" else wire.MEDIA_KEYS[then]))
    assert await probe.refusal(RESP) == wire.STATUS["MEDIA_DATA_ALL_CONNECTION_EXIST"]
    assert not kept.closed


async def test_second_socket_of_a_type_is_refused(target: Target, stream: Stream) -> None:
    """A second audio socket: DUPLICATE_MEDIA_DATA_CONNECTION (16) (default switch, §10.1);
    the first stays open."""
    joined = await signaled(target, stream)
    kept, answer = await handshake(target, joined, "audio")
    accepted(answer)
    probe = await media_socket(target, joined, "audio")
    await probe.send(joined.join.data_req(wire.MEDIA_KEYS["audio"]))
    assert await probe.refusal(RESP) == wire.STATUS["DUPLICATE_MEDIA_DATA_CONNECTION"]
    assert not kept.closed


async def test_bad_signature_is_refused_with_3(target: Target, stream: Stream) -> None:
    """A media handshake is signed like the signaling one (§2): a wrong one is INVALID_SIGNATURE."""
    joined = await signaled(target, stream)
    probe = await media_socket(target, joined, "audio")
    await probe.send(joined.join.data_req(wire.MEDIA_KEYS["audio"], signature="f" * 64))
    assert await probe.refusal(RESP) == wire.STATUS["INVALID_SIGNATURE"]


async def test_first_frame_not_json_is_refused_with_4(target: Target, stream: Stream) -> None:
    """A media socket whose first frame is not JSON: INVALID_PAYLOAD in a DATA_HAND_SHAKE_RESP."""
    joined = await signaled(target, stream)
    probe = await media_socket(target, joined, "audio")
    await probe.send_raw(b"\x00\x01 not json")
    assert await probe.refusal(RESP) == wire.STATUS["INVALID_PAYLOAD"]


async def test_handshake_takes_what_the_sdk_sends(target: Target, stream: Stream) -> None:
    """No ``protocol_version``, and one tick-counter ``sequence`` reused by simultaneous
    handshakes (§4.1, §4.3), are accepted."""
    joined = await signaled(target, stream)
    quirks = {"protocol_version": DROP, "sequence": wire.TICK_SEQUENCE}
    for key in ("audio", "transcript"):
        _, answer = await handshake(target, joined, key, None, **quirks)
        assert set(accepted(answer)) == {key}


# -- frames -------------------------------------------------------------------------------------


async def test_nothing_flows_before_client_ready(target: Target, stream: Stream) -> None:
    """Until CLIENT_READY_ACK the sockets carry keep-alives only; then media flows (§3, §4.7).
    The media socket's first keep-alive (10 s) shows that everything sent before it arrived."""
    joined = await target.joined(stream, {"audio": None}, ready=False)
    audio = joined.media["audio"]
    await target.pass_time(11.0, step=0.5)
    await audio.wait_keep_alives(1)
    assert media_of(audio) == []
    assert {m["msg_type"] for m, _ in joined.signaling.received} <= {
        wire.MSG["SIGNALING_HAND_SHAKE_RESP"],
        wire.MSG["KEEP_ALIVE_REQ"],
    }
    await joined.signaling.send(
        {"msg_type": wire.MSG["CLIENT_READY_ACK"], "rtms_stream_id": stream.stream_id}
    )
    await frames(target, audio, wire.MSG["MEDIA_DATA_AUDIO"], 1, within=10.0, lacking="no audio")


async def test_audio_frames(target: Target, stream: Stream) -> None:
    """MEDIA_DATA_AUDIO (14): ``user_id`` 0 for mixed audio, base64 of ``length`` bytes of L16 at
    the negotiated rate and channels, timestamps ``send_rate`` ms apart (§4.12)."""
    asked = {"audio": {**DEFAULTS["audio"], "send_rate": 100}}
    joined = await target.joined(stream, {"audio": asked})
    params = accepted(joined.accepted["audio"])["audio"]
    assert params["send_rate"] == 100
    got = await frames(target, joined.media["audio"], 14, 5, within=10.0, lacking="no audio")
    size = HERTZ[params["sample_rate"]] * params["channel"] * 2 * params["send_rate"] // 1000
    for frame in got:
        content = frame["content"]
        assert content["user_id"] == 0  # mixed audio (data_opt 1)
        assert len(payload(content)) == size
    assert_grid([f["content"]["timestamp"] for f in got], params["send_rate"])


async def test_transcript_frames(target: Target, stream: Stream) -> None:
    """MEDIA_DATA_TRANSCRIPT (17): the text as a plain string, who said it, when (§4.12)."""
    joined = await target.joined(stream, {"transcript": None})
    got = await frames(target, joined.media["transcript"], 17, 1, within=30.0, lacking="nobody spoke")
    content = got[0]["content"]
    assert isinstance(content["data"], str)
    assert content["data"]
    assert isinstance(content["user_id"], int)
    assert isinstance(content["user_name"], str)
    assert isinstance(content["language"], int)
    assert 10**12 < content["start_time"] <= content["end_time"]
    assert isinstance(content["timestamp"], int)


@pytest.mark.parametrize(("codec", "fps"), [(JPG, 5), (PNG, 2), (H264, 10)], ids=["jpg", "png", "h264"])
async def test_video_frames(target: Target, stream: Stream, codec: int, fps: int) -> None:
    """MEDIA_DATA_VIDEO (15): pictures in the negotiated codec, 1000/fps ms apart (§4.12)."""
    asked = {"video": {"content_type": 3, "codec": codec, "resolution": 2, "data_opt": 3, "fps": fps}}
    joined = await target.joined(stream, {"video": asked})
    assert accepted(joined.accepted["video"])["video"].items() >= {"codec": codec, "fps": fps}.items()
    got = await frames(target, joined.media["video"], 15, 3, within=10.0, lacking="no camera was on")
    for frame in got:
        content = frame["content"]
        assert isinstance(content["user_id"], int)
        assert payload(content).startswith(MAGIC[codec])
    assert_grid([f["content"]["timestamp"] for f in got], 1000 // fps)


@pytest.mark.parametrize(("codec", "fps"), [(JPG, 1), (PNG, 1), (H264, 2)], ids=["jpg", "png", "h264"])
async def test_share_frames_flow_while_sharing(target: Target, stream: Stream, codec: int, fps: int) -> None:
    """MEDIA_DATA_SHARE (16) arrives only after SHARING_START (5), in the negotiated codec
    (§4.6, §4.12). The simulator's meeting shares from 2 s (docs/simulator.md "Video")."""
    asked = {"deskshare": {"content_type": 3, "codec": codec, "resolution": 3, "fps": fps}}
    joined = await target.joined(
        stream, {"deskshare": asked}, events=(wire.EVENT["SHARING_START"], wire.EVENT["SHARING_STOP"])
    )

    def sharing_starts(probe: Probe) -> list[Message]:
        return [
            m
            for m, _ in probe.received
            if m["msg_type"] == wire.MSG["EVENT_UPDATE"]
            and m["event"]["event_type"] == wire.EVENT["SHARING_START"]
        ]

    await until(
        target, joined.signaling, lambda p: bool(sharing_starts(p)), within=10.0, lacking="nobody shared"
    )
    started = sharing_starts(joined.signaling)[0]["event"]["timestamp"]
    share = joined.media["deskshare"]
    got = await frames(target, share, 16, 2, within=10.0, lacking="no share frames")
    # The event and the frames travel on different sockets: their timestamps tell the order.
    assert all(f["content"]["timestamp"] >= started for f in media_of(share)), "a frame before SHARING_START"
    for frame in got:
        assert payload(frame["content"]).startswith(MAGIC[codec])
    assert_grid([f["content"]["timestamp"] for f in got], 1000 // fps)


async def test_chat_frames(target: Target, stream: Stream) -> None:
    """MEDIA_DATA_CHAT (18): the message as a plain string and its timestamp (§4.12)."""
    joined = await target.joined(stream, {"chat": None})
    got = await frames(target, joined.media["chat"], 18, 2, within=15.0, lacking="nobody chatted")
    for frame in got:
        assert isinstance(frame["content"]["data"], str)
        assert frame["content"]["data"]
    first, second = (f["content"]["timestamp"] for f in got)
    assert 10**12 < first < second


async def test_one_all_socket_carries_several_types(target: Target, stream: Stream) -> None:
    """One ``all`` socket (``media_type`` 32) negotiates every type it names and carries their
    frames, told apart by ``msg_type`` (§1, §4.3)."""
    asked = {
        "audio": {**DEFAULTS["audio"], "send_rate": 100},
        "video": {"content_type": 3, "codec": JPG, "resolution": 2, "data_opt": 3, "fps": 2},
        "deskshare": {"content_type": 3, "codec": PNG, "resolution": 3, "fps": 1},
        "transcript": {"content_type": 5},
        "chat": {"content_type": 5},
    }
    joined = await target.joined(stream, {"all": asked})
    served = accepted(joined.accepted["all"])
    assert set(served) <= set(asked)
    assert "audio" in served
    expected = {wire.MEDIA_MSG[key] for key in served}
    probe = joined.media["all"]
    await until(
        target,
        probe,
        lambda p: len({m["msg_type"] for m in media_of(p)}) >= 3,
        within=10.0,
        lacking="fewer than three kinds of media",
    )
    kinds = {m["msg_type"] for m in media_of(probe)}
    assert kinds <= expected, f"frames of types not negotiated: {kinds - expected}"
    for frame in media_of(probe, wire.MEDIA_MSG["deskshare"]):
        assert payload(frame["content"]).startswith(MAGIC[PNG])
