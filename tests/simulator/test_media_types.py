"""Every media type on the wire (§4.3, §4.4, §4.12, §4.16): video, screen share, chat, and
Contact Center's ``channel_id``.

Pictures are checked for what they claim to be without an image library: a JPEG's segment
structure (baseline SOF0, entropy-coded data stuffed correctly, EOI), a PNG's chunks with
their CRCs and the inflated size of its pixels, and H.264's Annex-B NAL units with the SPS's
picture size and each IDR slice's ``idr_pic_id``. The client is the raw probe on 127.0.0.1;
scenario time is a manual clock.
"""

from __future__ import annotations

import struct
import zlib

import pytest
from msgspec import UnsetType

from connector.protocol import (
    AudioParams,
    ChatParams,
    Codec,
    DeskshareParams,
    EventType,
    EventUpdate,
    MediaContent,
    MediaDataAudio,
    MediaDataChat,
    MediaDataShare,
    MediaDataTranscript,
    MediaDataVideo,
    MediaParams,
    MediaType,
    Message,
    Product,
    TranscriptParams,
    VideoParams,
    VideoSubscriptionReq,
    VideoSubscriptionResp,
    decode,
    encode,
)
from simulator.chat import CHAT_EVERY, CHAT_FIRST, chat_lines
from simulator.clock import ManualClock
from simulator.server import Simulator
from simulator.speech import generate_script
from simulator.stream import SimStream
from simulator.video import PICTURE_SIZE, ScreenShare, default_share, frame_message, frame_set

from .harness import Clients, arrived

LONG = 60.0
WIDTH, HEIGHT = PICTURE_SIZE


# -- what a picture is, by its structure -----------------------------------------------------


def assert_jpeg(data: bytes) -> None:
    """A baseline JPEG: SOI, tables, SOF0 of the right size, SOS, stuffed scan data, EOI."""
    assert data[:2] == b"\xff\xd8", "no SOI"
    assert data[-2:] == b"\xff\xd9", "no EOI"
    seen: list[int] = []
    i = 2
    while True:
        assert data[i] == 0xFF, f"no marker at {i}"
        code = data[i + 1]
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        seen.append(code)
        if code == 0xC0:
            precision, height, width, components = struct.unpack(">BHHB", data[i + 4 : i + 10])
            assert (precision, width, height, components) == (8, WIDTH, HEIGHT, 3)
        i += 2 + length
        if code == 0xDA:  # start of scan: entropy-coded data up to EOI
            break
    assert {0xDB, 0xC4, 0xC0} <= set(seen), "quantisation tables, Huffman tables and SOF0"
    assert not {0xC1, 0xC2, 0xC3} & set(seen), "baseline only (not extended or progressive)"
    scan = data[i:-2]
    assert scan
    for at in range(len(scan) - 1):
        if scan[at] == 0xFF:  # a 0xFF byte in the scan is stuffed with 0x00 or is a restart marker
            assert scan[at + 1] == 0x00 or 0xD0 <= scan[at + 1] <= 0xD7


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def assert_png(data: bytes) -> None:
    """A PNG: signature, IHDR first, IDAT, IEND last, every CRC right, pixels the right size."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: list[tuple[bytes, bytes]] = []
    i = 8
    while i < len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind, body = data[i + 4 : i + 8], data[i + 8 : i + 8 + length]
        (crc,) = struct.unpack(">I", data[i + 8 + length : i + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        i += 12 + length
    assert i == len(data)
    assert chunks[0][0] == b"IHDR"
    assert chunks[-1] == (b"IEND", b"")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (width, height, depth, interlace) == (WIDTH, HEIGHT, 8, 0)
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(pixels) == height * (1 + width * _PNG_CHANNELS[colour])


class _Bits:
    """An RBSP bit reader (emulation-prevention bytes removed) with Exp-Golomb codes."""

    def __init__(self, payload: bytes) -> None:
        out = bytearray()
        zeros = 0
        for byte in payload:
            if zeros >= 2 and byte == 3:
                zeros = 0
                continue
            out.append(byte)
            zeros = zeros + 1 if byte == 0 else 0
        self.data = bytes(out)
        self.at = 0

    def u(self, n: int) -> int:
        value = 0
        for _ in range(n):
            value = (value << 1) | (self.data[self.at // 8] >> (7 - self.at % 8)) & 1
            self.at += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
        return (1 << zeros) - 1 + self.u(zeros)


def h264_units(data: bytes) -> list[bytes]:
    """The NAL units of an Annex-B byte stream (which must start with a start code)."""
    assert data.startswith((b"\x00\x00\x00\x01", b"\x00\x00\x01"))
    units = [u for u in data.replace(b"\x00\x00\x00\x01", b"\x00\x00\x01").split(b"\x00\x00\x01") if u]
    for unit in units:
        assert unit[0] & 0x80 == 0, "forbidden_zero_bit"
    return units


def assert_h264(data: bytes) -> int:
    """SPS (baseline, 160x90), PPS and one IDR I-slice; returns the slice's ``idr_pic_id``."""
    units = h264_units(data)
    assert [u[0] & 0x1F for u in units] == [7, 8, 5]
    assert all(u[0] & 0x60 for u in units), "SPS, PPS and IDR are reference NAL units"
    sps = _Bits(units[0][1:])
    profile, _, _ = sps.u(8), sps.u(8), sps.u(8)
    assert profile == 66  # baseline: no chroma_format fields follow
    sps.ue()  # seq_parameter_set_id
    frame_num_bits = sps.ue() + 4
    assert sps.ue() == 2  # pic_order_cnt_type 2: nothing more to read for it
    sps.ue()  # max_num_ref_frames
    sps.u(1)  # gaps_in_frame_num_value_allowed_flag
    mbs_wide, map_units_high = sps.ue() + 1, sps.ue() + 1
    assert sps.u(1) == 1  # frame_mbs_only_flag
    sps.u(1)  # direct_8x8_inference_flag
    crop = [sps.ue() for _ in range(4)] if sps.u(1) else [0, 0, 0, 0]
    # 4:2:0 crops in units of 2 pixels.
    assert (mbs_wide * 16 - 2 * (crop[0] + crop[1]), map_units_high * 16 - 2 * (crop[2] + crop[3])) == (
        WIDTH,
        HEIGHT,
    )
    header = _Bits(units[2][1:])
    assert header.ue() == 0  # first_mb_in_slice
    assert header.ue() in (2, 7)  # an I slice
    header.ue()  # pic_parameter_set_id
    assert header.u(frame_num_bits) == 0  # an IDR picture has frame_num 0
    return header.ue()


CHECKS = {Codec.JPG: assert_jpeg, Codec.PNG: assert_png, Codec.H264: assert_h264}


# -- the pictures themselves -----------------------------------------------------------------------


@pytest.mark.parametrize("media", [MediaType.VIDEO, MediaType.DESKSHARE], ids=["video", "deskshare"])
@pytest.mark.parametrize("codec", [Codec.JPG, Codec.PNG, Codec.H264], ids=["jpg", "png", "h264"])
def test_every_picture_is_what_its_codec_says(media: MediaType, codec: Codec) -> None:
    frames = frame_set(media, codec)
    assert len(frames.pictures) >= 2, "the pictures cycle"
    datas = set()
    for variants in frames.pictures:
        assert len(variants) == (2 if codec is Codec.H264 else 1)
        for number, picture in enumerate(variants):
            assert len(picture.data) < 4096
            result = CHECKS[codec](picture.data)
            if codec is Codec.H264:
                assert result == number, "variant n has idr_pic_id n"
            datas.add(picture.data)
    assert len(datas) == len(frames.pictures) * frames.variants, "every picture is distinct"


def test_a_frame_is_the_protocol_message_without_encoding_per_frame() -> None:
    picture = frame_set(MediaType.VIDEO, Codec.JPG).picture(1)
    message = frame_message(
        MediaType.VIDEO, user_id=16778240, user_name="Ada", picture=picture, timestamp=1738392033699
    )
    assert message.content.data is picture.wire  # the base64 is the constant, spliced as it is
    reference = MediaDataVideo(
        content=MediaContent(
            user_id=16778240,
            user_name="Ada",
            data=picture.data,
            length=len(picture.data),
            timestamp=1738392033699,
        )
    )
    assert encode(message) == encode(reference)
    assert decode(encode(message)) == reference
    share = frame_message(MediaType.DESKSHARE, user_id=1, user_name="B", picture=picture, timestamp=5)
    assert isinstance(decode(encode(share)), MediaDataShare)


def test_the_default_share_and_the_chat_are_data() -> None:
    script = generate_script(seed=3, duration=20.0)
    assert default_share(script) == ScreenShare(user_id=script.utterances[0].user_id, start=2.0, end=18.0)
    assert default_share(generate_script(seed=3, duration=5.0)) == ScreenShare(
        user_id=generate_script(seed=3, duration=5.0).utterances[0].user_id, start=0.5, end=4.5
    )
    with pytest.raises(ValueError, match="start < end"):
        ScreenShare(user_id=1, start=3.0, end=3.0)
    lines = chat_lines(script)
    assert [line.at for line in lines] == [3.0, 8.0, 13.0, 18.0]
    assert lines == chat_lines(generate_script(seed=3, duration=20.0)), "same seed, same chat"
    assert [line.text for line in lines] != [line.text for line in chat_lines(generate_script(seed=4))]
    for line in lines:
        assert script.participant(line.user_id).present_at(line.at)
        assert line.text.endswith(".")
        assert len(line.text.split()) >= 2


# -- on the wire -----------------------------------------------------------------------------------


def _int(value: int | str | UnsetType) -> int:
    assert isinstance(value, int)
    return value


def _sent(sim: Simulator, stream: SimStream, kind: str) -> int:
    return sim.journal.media_counts[(stream.stream_id, kind)]


def _speaker_at(stream: SimStream, t: float) -> int:
    """Who the active-speaker video shows at script time ``t``: the last speaker still present,
    else the first person present."""
    started = [u for u in stream.script.utterances if u.start <= round(t, 9)]  # the clock keeps ns
    last = started[-1].user_id if started else None
    return last if last is not None and last in stream.present(t) else stream.present(t)[0]


@pytest.mark.parametrize(
    ("codec", "fps"), [(Codec.JPG, 5), (Codec.PNG, 2), (Codec.H264, 30)], ids=["jpg", "png", "h264"]
)
async def test_video_frames_arrive_at_the_negotiated_fps(
    sim: Simulator, clock: ManualClock, clients: Clients, codec: Codec, fps: int
) -> None:
    stream = sim.start_stream(duration=LONG, seed=5)
    params = MediaParams(video=VideoParams(content_type=3, codec=codec, resolution=2, data_opt=3, fps=fps))
    joined = await clients.joined(sim, stream, {"video": params})
    assert joined.accepted["video"].media_params == params
    start = clock.epoch_ms()

    await clock.run_for(3.0, step=0.05)
    sent = _sent(sim, stream, "video")
    assert sent == 3 * fps + 1  # slots 0 s, 1/fps s, ... 3 s
    frames = await joined.media["video"].collect(MediaDataVideo, sent)
    names = {p.user_id: p.user_name for p in stream.script.participants}
    check = CHECKS[codec]
    ids = []
    for n, frame in enumerate(frames):
        content = frame.content
        assert content.timestamp == start + round(n * 1000 / fps)  # advancing by 1000/fps ms
        assert content.length == len(content.data)
        assert content.user_id == _speaker_at(stream, n / fps)
        assert content.user_name == names[content.user_id]
        ids.append(check(content.data))
    if codec is Codec.H264:
        assert ids == [n % 2 for n in range(sent)], "consecutive IDR pictures differ in idr_pic_id"
    assert len({f.content.data for f in frames}) > 1, "the pictures cycle"
    assert "channel_id" not in joined.media["video"].raw_json(frames[0])["content"]
    assert not sim.journal.select(kind="MEDIA_DATA_VIDEO"), "frames are counted, not journaled one by one"


async def test_active_speaker_video_follows_the_speaker(
    sim: Simulator, clock: ManualClock, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, seed=12)
    joined = await clients.joined(sim, stream, {"video": MediaParams(video=VideoParams(fps=2))})
    await clock.run_for(30.0, step=0.25)
    frames = await joined.media["video"].collect(MediaDataVideo, _sent(sim, stream, "video"))
    assert len(frames) == 61
    shown = [f.content.user_id for f in frames]
    assert shown == [_speaker_at(stream, n / 2) for n in range(61)]
    spoken = {u.user_id for u in stream.script.utterances if u.start <= 30.0}
    assert set(shown) == spoken | {stream.script.participants[0].user_id}
    assert len(set(shown)) >= 2


async def test_video_above_5_fps_without_h264_falls_back_to_jpg_at_5(
    sim: Simulator, clock: ManualClock, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG)
    joined = await clients.joined(
        sim, stream, {"video": MediaParams(video=VideoParams(codec=Codec.PNG, fps=30))}
    )
    video = joined.accepted["video"].media_params
    assert not isinstance(video, UnsetType | None)
    assert video.video == VideoParams(content_type=3, codec=Codec.JPG, resolution=2, data_opt=3, fps=5)
    await clock.run_for(1.0, step=0.1)
    frames = await joined.media["video"].collect(MediaDataVideo, 6)
    for frame in frames:
        assert_jpeg(frame.content.data)


async def test_individual_video_waits_for_a_subscription(
    sim: Simulator, clock: ManualClock, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, seed=2)
    params = MediaParams(video=VideoParams(codec=Codec.JPG, fps=5, data_opt=4))
    joined = await clients.joined(sim, stream, {"video": params}, events=(8, 9))
    video, signaling = joined.media["video"], joined.signaling
    first, second = (p.user_id for p in stream.script.participants[:2])

    await clock.run_for(3.0, step=0.1)
    assert _sent(sim, stream, "video") == 0, "no video before a subscription"

    async def subscribe(user_id: int, on: bool, count: int) -> VideoSubscriptionResp:
        await signaling.send(VideoSubscriptionReq(user_id=user_id, subscribe=on, timestamp=39996))
        await arrived(sim, stream.stream_id, "VIDEO_SUBSCRIPTION_REQ", count=count)
        return await signaling.expect(VideoSubscriptionResp)

    async def frames_of_the_next_second() -> list[int]:
        before = _sent(sim, stream, "video")
        await clock.run_for(1.0, step=0.1)
        frames = await video.collect(MediaDataVideo, _sent(sim, stream, "video") - before)
        return [_int(f.content.user_id) for f in frames]

    unknown = await subscribe(12345, True, 1)
    assert (unknown.status_code, unknown.reason) == (4, "unknown user_id")
    assert await frames_of_the_next_second() == []

    assert (await subscribe(second, True, 2)).status_code == 0
    # From the slot of the subscription (4 s) to 5 s; then five frames a second.
    assert await frames_of_the_next_second() == [second] * 6
    # A new subscription replaces the previous one.
    assert (await subscribe(first, True, 3)).status_code == 0
    assert await frames_of_the_next_second() == [first] * 5
    # Unsubscribing someone else changes nothing; unsubscribing the one shown stops the video.
    await subscribe(second, False, 4)
    assert await frames_of_the_next_second() == [first] * 5
    await subscribe(first, False, 5)
    assert await frames_of_the_next_second() == []


async def test_screen_share_flows_only_while_someone_shares(
    sim: Simulator, clock: ManualClock, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, seed=8)
    sharer = stream.script.participants[1]
    stream.screen_share = ScreenShare(user_id=sharer.user_id, start=2.0, end=5.0)
    # Deskshare defaults: JPG at 1 fps, FHD.
    joined = await clients.joined(sim, stream, {"deskshare": None}, events=(5, 6))
    assert joined.accepted["deskshare"].media_params == MediaParams(
        deskshare=DeskshareParams(content_type=3, codec=Codec.JPG, resolution=3, fps=1)
    )
    start = clock.epoch_ms()
    await clock.run_for(8.0, step=0.1)

    assert _sent(sim, stream, "deskshare") == 3
    frames = await joined.media["deskshare"].collect(MediaDataShare, 3)
    assert [_int(f.content.timestamp) - start for f in frames] == [2000, 3000, 4000]
    for frame in frames:
        assert (frame.content.user_id, frame.content.user_name) == (sharer.user_id, sharer.user_name)
        assert_jpeg(frame.content.data)
    sharing = (EventType.SHARING_START, EventType.SHARING_STOP)
    events = [
        (await joined.signaling.expect(EventUpdate, where=lambda m: m.event.event_type in sharing)).event
        for _ in sharing
    ]
    assert [(e.event_type, _int(e.timestamp) - start) for e in events] == [(5, 2000), (6, 5000)]
    assert (events[0].user_id, events[0].user_name) == (sharer.user_id, sharer.user_name)


async def test_a_share_starting_between_frames_shows_no_earlier_frame(
    sim: Simulator, clock: ManualClock, clients: Clients
) -> None:
    stream = sim.start_stream(duration=12.0)  # the default share: 1.2 s to 10.8 s
    share = default_share(stream.script)
    assert share is not None
    assert (share.start, share.end) == (1.2, 10.8)
    media: dict[str, MediaParams | None] = {
        "deskshare": MediaParams(deskshare=DeskshareParams(codec=Codec.H264, fps=10)),
        "video": MediaParams(video=VideoParams(codec=Codec.PNG, fps=1, data_opt=4)),
    }
    joined = await clients.joined(sim, stream, media)
    start = clock.epoch_ms()
    await clock.run_for(1.5, step=0.05)
    await joined.signaling.send(VideoSubscriptionReq(user_id=share.user_id, subscribe=True))
    await arrived(sim, stream.stream_id, "VIDEO_SUBSCRIPTION_REQ")
    await clock.run_for(10.0, step=0.05)
    shared = await joined.media["deskshare"].collect(MediaDataShare, _sent(sim, stream, "deskshare"))
    stamps = [_int(f.content.timestamp) - start for f in shared]
    assert stamps == [1200 + 100 * n for n in range(96)]  # 1.2 s up to (not including) 10.8 s
    video = await joined.media["video"].collect(MediaDataVideo, _sent(sim, stream, "video"))
    assert [_int(f.content.timestamp) - start for f in video] == [2000 + 1000 * n for n in range(10)]


async def test_sharing_events_only_to_a_subscribed_client(
    sim: Simulator, clock: ManualClock, clients: Clients
) -> None:
    stream = sim.start_stream(duration=20.0)
    joined = await clients.joined(sim, stream, {"deskshare": None}, events=(2,))
    await clock.run_for(19.0, step=0.1)
    share = default_share(stream.script)
    assert share is not None
    assert _sent(sim, stream, "deskshare") == 16  # 2 s, 3 s, ... 17 s of the default share
    sent = sim.journal.select(stream_id=stream.stream_id, kind="EVENT_UPDATE", direction="out")
    assert not [r for r in sent if r.detail["event"]["event_type"] in (5, 6)]
    frames = await joined.media["deskshare"].collect(MediaDataShare, 16)
    assert {f.content.user_id for f in frames} == {share.user_id}


async def test_chat_lines_arrive(sim: Simulator, clock: ManualClock, clients: Clients) -> None:
    stream = sim.start_stream(duration=LONG, seed=6, product=Product.WEBINAR)
    joined = await clients.joined(sim, stream, {"chat": MediaParams(chat=ChatParams(content_type=5))})
    start = clock.epoch_ms()
    await clock.run_for(20.0, step=0.1)
    expected = [line for line in chat_lines(stream.script) if line.at <= 20.0]
    assert [line.at for line in expected] == [CHAT_FIRST + n * CHAT_EVERY for n in range(4)]
    frames = await joined.media["chat"].collect(MediaDataChat, len(expected))
    names = {p.user_id: p.user_name for p in stream.script.participants}
    for frame, line in zip(frames, expected, strict=True):
        content = frame.content
        assert (content.user_id, content.user_name, content.data) == (
            line.user_id,
            names[line.user_id],
            line.text,
        )
        assert content.timestamp == start + round(line.at * 1000)
    assert _sent(sim, stream, "chat") == len(expected)


async def test_the_all_socket_carries_every_type(
    sim: Simulator, clock: ManualClock, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG, seed=9)
    stream.screen_share = ScreenShare(user_id=stream.script.participants[0].user_id, start=1.0, end=50.0)
    params = MediaParams(
        audio=AudioParams(content_type=2, codec=1, sample_rate=1, channel=1, data_opt=1, send_rate=100),
        video=VideoParams(content_type=3, codec=Codec.H264, resolution=2, data_opt=3, fps=10),
        deskshare=DeskshareParams(content_type=3, codec=Codec.PNG, resolution=3, fps=1),
        transcript=TranscriptParams(content_type=5),
        chat=ChatParams(content_type=5),
    )
    joined = await clients.joined(sim, stream, {"all": params})
    await clock.run_for(6.0, step=0.1)
    counts = {
        kind: _sent(sim, stream, kind) for kind in ("audio", "video", "deskshare", "transcript", "chat")
    }
    # Audio every 100 ms and video at 10 fps from 0 s to 6 s, the share from 1 s, chat at 3 s.
    assert (counts["audio"], counts["video"], counts["deskshare"], counts["chat"]) == (61, 61, 6, 1)
    assert counts["transcript"] >= 1
    received = await joined.media["all"].collect(Message, sum(counts.values()))
    kinds = (MediaDataAudio, MediaDataVideo, MediaDataShare, MediaDataTranscript, MediaDataChat)
    assert [sum(isinstance(m, kind) for m in received) for kind in kinds] == list(counts.values())
    for message in received:
        if isinstance(message, MediaDataVideo):
            assert_h264(message.content.data)
        elif isinstance(message, MediaDataShare):
            assert_png(message.content.data)


async def test_no_video_share_or_chat_while_paused(
    sim: Simulator, clock: ManualClock, clients: Clients
) -> None:
    stream = sim.start_stream(duration=LONG)
    stream.screen_share = ScreenShare(user_id=stream.script.participants[0].user_id, start=0.0, end=50.0)
    media: dict[str, MediaParams | None] = {"video": None, "deskshare": None, "chat": None}
    await clients.joined(sim, stream, media)
    kinds = ("video", "deskshare", "chat")
    await clock.run_for(4.0, step=0.1)
    before = [_sent(sim, stream, k) for k in kinds]
    assert before == [21, 5, 1]  # 5 fps and 1 fps from 0 s to 4 s; the chat line of 3 s
    sim.engine.pause(stream)
    await clock.run_for(10.0, step=0.1)
    assert [_sent(sim, stream, k) for k in kinds] == before
    sim.engine.resume(stream)
    await clock.run_for(4.0, step=0.1)
    after = [_sent(sim, stream, k) - b for k, b in zip(kinds, before, strict=True)]
    assert after == [20, 4, 1]  # the frames of (14 s, 18 s]; the chat line of 18 s


async def test_contact_center_names_the_channel(sim: Simulator, clock: ManualClock, clients: Clients) -> None:
    stream = sim.start_stream(duration=LONG, seed=4, product=Product.CONTACT_CENTER)
    assert stream.screen_share is None
    per_speaker = MediaParams(
        audio=AudioParams(content_type=2, codec=1, sample_rate=1, channel=1, data_opt=2)
    )
    joined = await clients.joined(sim, stream, {"audio": per_speaker, "transcript": None, "video": None})
    first = stream.script.utterances[0]
    await clock.run_for(first.end + 0.5, step=0.1)

    audio = joined.media["audio"]
    frames = await audio.collect(MediaDataAudio, _sent(sim, stream, "audio"))
    assert first.user_id in {f.content.user_id for f in frames}
    for frame in frames:
        user_id = frame.content.user_id
        assert isinstance(user_id, int)
        assert (
            frame.content.channel_id == format(user_id, "x") == audio.raw_json(frame)["content"]["channel_id"]
        )
    transcript = await joined.media["transcript"].expect(MediaDataTranscript)
    assert (transcript.content.channel_id, transcript.content.data) == (
        format(first.user_id, "x"),
        first.text,
    )
    # A voice call: no camera.
    assert _sent(sim, stream, "video") == 0


async def test_meetings_carry_no_channel_id(sim: Simulator, clock: ManualClock, clients: Clients) -> None:
    stream = sim.start_stream(duration=LONG, seed=4)
    per_speaker = MediaParams(
        audio=AudioParams(content_type=2, codec=1, sample_rate=1, channel=1, data_opt=2)
    )
    joined = await clients.joined(sim, stream, {"audio": per_speaker, "transcript": None})
    await clock.run_for(stream.script.utterances[0].end + 0.5, step=0.1)
    audio = await joined.media["audio"].expect(MediaDataAudio)
    transcript = await joined.media["transcript"].expect(MediaDataTranscript)
    assert "channel_id" not in joined.media["audio"].raw_json(audio)["content"]
    assert "channel_id" not in joined.media["transcript"].raw_json(transcript)["content"]


async def test_contact_center_and_sessions_have_no_chat(
    sim: Simulator, clock: ManualClock, clients: Clients
) -> None:
    for product in (Product.CONTACT_CENTER, Product.SESSION):
        stream = sim.start_stream(duration=LONG, product=product)
        await clients.joined(sim, stream, {"chat": None})
        await clock.run_for(10.0, step=0.5)
        assert _sent(sim, stream, "chat") == 0, product
