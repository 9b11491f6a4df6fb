"""The file sink and the fan-out: WAV (mixed and per participant), Ogg Opus, raw codecs,
transcript JSONL and WebVTT, chat, events, video pictures and H264, revoke, and the isolation
of extra sinks."""

from __future__ import annotations

import logging
import re
import shutil
import struct
import wave
from array import array
from pathlib import Path

import pytest

from connector.errors import SinkError
from connector.participants import Roster
from connector.protocol import (
    ChatContent,
    Codec,
    Event,
    MediaContent,
    MediaType,
    Participant,
    Product,
    RtmsEvent,
    RtmsEventKind,
    TranscriptContent,
)
from connector.sinks import SUMMARY_FILE, AudioFormat, Sink, StreamSinks, VideoFormat, safe_name
from connector.sinks.audio import PcmRecorder
from connector.sinks.mixer import Mixer
from connector.sinks.ogg import OPUS_RATE, opus_samples
from connector.sinks.wav import WavWriter, wav_header

from .conftest import read_json, read_jsonl

OPUS_20MS = bytes([(31 << 3), 0xAA, 0xBB])  # CELT FB 20 ms, one frame, two payload bytes


def pcm(*samples: int) -> bytes:
    return array("h", samples).tobytes() if not _big() else _swapped(samples)


def _big() -> bool:
    return struct.pack("=h", 1) == b"\x00\x01"


def _swapped(samples: tuple[int, ...]) -> bytes:
    a = array("h", samples)
    a.byteswap()
    return a.tobytes()


def ramp(frames: int, *, channels: int = 1, start: int = 0) -> bytes:
    """Distinct samples, so that order and content can be checked."""
    return pcm(*(((start + i) % 30000) for i in range(frames * channels)))


def tone(value: int, frames: int) -> bytes:
    return pcm(*([value] * frames))


def read_wav(path: Path) -> tuple[tuple[int, int, int], list[int]]:
    """((rate, channels, width), samples) through the standard library's reader."""
    with wave.open(str(path), "rb") as wav:
        params = (wav.getframerate(), wav.getnchannels(), wav.getsampwidth())
        data = wav.readframes(wav.getnframes())
    samples = array("h")
    samples.frombytes(data)
    if _big():
        samples.byteswap()
    return params, list(samples)


def audio(
    data: bytes, *, user: int | None = None, name: str | None = None, ts: int | None = None
) -> MediaContent:
    fields: dict[str, object] = {"data": data}
    if user is not None:
        fields["user_id"] = user
    if name is not None:
        fields["user_name"] = name
    if ts is not None:
        fields["timestamp"] = ts
    return MediaContent(**fields)  # type: ignore[arg-type]


def make(tmp_path: Path, *, extra: tuple[Sink, ...] = (), stream_id: str = "s") -> StreamSinks:
    return StreamSinks.create(
        tmp_path / "out", stream_id=stream_id, instance_id="inst/==", product="meeting", fence=7, extra=extra
    )


# --- names and directories ----------------------------------------------------------------


def test_hex_stream_ids_are_kept_as_they_are() -> None:
    assert safe_name("03db704592624398931a588dd78200cb") == "03db704592624398931a588dd78200cb"


@pytest.mark.parametrize(
    "untrusted", ["../../etc/passwd", "4444AAAi/AAAAiAiAiiAii==", "..", "", "a\x00b", "é" * 300]
)
def test_unsafe_ids_become_plain_names(untrusted: str) -> None:
    name = safe_name(untrusted)
    assert name
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    assert not name.startswith(".")
    assert len(name) <= 100


def test_sanitising_never_merges_two_ids() -> None:
    assert safe_name("a/b") != safe_name("a_b")
    assert safe_name("a/b") == safe_name("a/b")


async def test_a_second_run_of_a_stream_gets_its_own_directory(tmp_path: Path) -> None:
    first, second = make(tmp_path, stream_id="abc"), make(tmp_path, stream_id="abc")
    assert (first.directory.name, second.directory.name) == ("abc", "abc-1")
    assert first.info.fence == 7
    assert first.info.instance_id == "inst/=="


def test_unusable_output_dir_is_a_sink_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(SinkError) as info:
        StreamSinks.create(blocker, stream_id="abc", instance_id="i", product="meeting")
    assert info.value.path == str(blocker)


# --- mixed audio --------------------------------------------------------------------------


async def test_mixed_wav_has_the_frames_written_at_the_negotiated_format(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    sinks.audio_format(AudioFormat(48000, 2, int(Codec.L16), False))
    chunks = [ramp(960, channels=2, start=i * 1920) for i in range(3)]
    for chunk in chunks:
        sinks.audio(audio(chunk, user=0))
    await sinks.close()
    params, samples = read_wav(sinks.directory / "audio.wav")
    assert params == (48000, 2, 2)
    assert pcm(*samples) == b"".join(chunks)
    assert (sinks.audio_frames, sinks.audio_messages) == (2880, 3)
    assert sinks.seconds_of_audio == pytest.approx(0.06)


async def test_wav_header_is_current_while_the_stream_runs(tmp_path: Path) -> None:
    """A process killed mid-stream leaves a WAV whose header counts the audio written."""
    sinks = make(tmp_path)
    sinks.audio_format(AudioFormat(16000, 1))
    for i in range(51):  # 51 frames of 20 ms: more than one second
        sinks.audio(audio(ramp(320, start=i * 320)))
    await sinks.flush()
    with wave.open(str(sinks.directory / "audio.wav"), "rb") as wav:
        assert wav.getnframes() == 16000
    await sinks.close()
    with wave.open(str(sinks.directory / "audio.wav"), "rb") as wav:
        assert wav.getnframes() == 51 * 320


async def test_partial_audio_frames_are_dropped(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    sinks.audio(audio(ramp(10) + b"\x01"))
    await sinks.close()
    _, samples = read_wav(sinks.directory / "audio.wav")
    assert len(samples) == 10


async def test_close_is_idempotent_and_later_items_are_ignored(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    sinks.audio(audio(ramp(4)))
    await sinks.close()
    await sinks.close()
    sinks.audio(audio(ramp(4)))
    _, samples = read_wav(sinks.directory / "audio.wav")
    assert len(samples) == 4
    assert sinks.stats()["ignored_after_close"] == 1


# --- per-participant audio ----------------------------------------------------------------

MULTI = AudioFormat(16000, 1, int(Codec.L16), True)


async def test_each_participant_gets_a_file_and_audio_wav_is_their_sum(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    sinks.audio_format(MULTI)
    for i in range(5):  # 20 ms frames, both speaking at the same time
        sinks.audio(audio(tone(1000, 320), user=16778240, name="John Smith", ts=1000 + 20 * i))
        sinks.audio(audio(tone(-300, 320), user=19778240, name="Ann/Lee", ts=1000 + 20 * i))
    await sinks.close()
    assert sinks.files[:3] == ["audio.wav", "audio/16778240-John_Smith.wav", "audio/19778240-Ann_Lee.wav"]
    (rate, channels, _), john = read_wav(sinks.directory / "audio/16778240-John_Smith.wav")
    _, ann = read_wav(sinks.directory / "audio/19778240-Ann_Lee.wav")
    _, mixed = read_wav(sinks.directory / "audio.wav")
    assert (rate, channels) == (16000, 1)
    assert john == [1000] * 1600
    assert ann == [-300] * 1600
    assert mixed == [700] * 1600
    assert sinks.audio_frames == 1600
    assert sinks.audio_messages == 10


async def test_the_mix_saturates_instead_of_wrapping(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    sinks.audio_format(MULTI)
    for user in (1, 2, 3):
        sinks.audio(audio(pcm(30000, -30000, 20000, 5), user=user, ts=0))
    await sinks.close()
    _, mixed = read_wav(sinks.directory / "audio.wav")
    assert mixed == [32767, -32768, 32767, 15]


async def test_participant_files_are_aligned_on_the_stream_timeline(tmp_path: Path) -> None:
    """B starts 40 ms after A and is muted for 40 ms: silence fills both places, in B's file
    and in the mix, so all files share one timeline."""
    sinks = make(tmp_path)
    sinks.audio_format(MULTI)
    sinks.audio(audio(tone(100, 320), user=1, ts=5000))  # A: 0-20 ms
    sinks.audio(audio(tone(100, 320), user=1, ts=5020))  # A: 20-40 ms
    sinks.audio(audio(tone(7, 320), user=2, ts=5040))  # B: 40-60 ms
    sinks.audio(audio(tone(7, 320), user=2, ts=5100))  # B: 100-120 ms (muted 60-100)
    await sinks.close()
    _, b = read_wav(sinks.directory / "audio/2.wav")
    _, mixed = read_wav(sinks.directory / "audio.wav")
    assert b == [0] * 640 + [7] * 320 + [0] * 640 + [7] * 320
    assert mixed == [100] * 640 + [7] * 320 + [0] * 640 + [7] * 320


async def test_millisecond_jitter_neither_clicks_nor_drifts(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    sinks.audio_format(MULTI)
    for i, jitter in enumerate((0, 3, -2, 4, 0)):
        sinks.audio(audio(tone(5, 320), user=1, ts=20 * i + jitter))
    await sinks.close()
    _, samples = read_wav(sinks.directory / "audio/1.wav")
    assert samples == [5] * 1600


async def test_audio_replayed_after_a_reconnect_is_written_once(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    sinks.audio_format(MULTI)
    for i in range(4):
        sinks.audio(audio(tone(i + 1, 320), user=1, ts=20 * i))
    for i in range(2, 6):  # replay of 40-80 ms, then new audio
        sinks.audio(audio(tone(i + 1, 320), user=1, ts=20 * i))
    await sinks.close()
    _, samples = read_wav(sinks.directory / "audio/1.wav")
    _, mixed = read_wav(sinks.directory / "audio.wav")
    expected = [v for i in range(6) for v in [i + 1] * 320]
    assert samples == expected
    assert mixed == expected
    assert sinks.stats()["audio_duplicate_frames"] == 640


async def test_the_mix_is_written_out_during_the_stream_not_only_at_close(tmp_path: Path) -> None:
    """Only a short window is held in memory: older positions reach audio.wav as they age."""
    sinks = make(tmp_path)
    sinks.audio_format(MULTI)
    for i in range(200):  # 4 s of two speakers
        sinks.audio(audio(tone(1, 320), user=1, ts=20 * i))
        sinks.audio(audio(tone(2, 320), user=2, ts=20 * i))
    await sinks.flush()
    with wave.open(str(sinks.directory / "audio.wav"), "rb") as wav:
        assert wav.getnframes() >= 16000  # header patched once a second of the written mix
    assert 16000 <= sinks.audio_frames <= 64000 - 2 * 16000 + 320
    await sinks.close()
    _, mixed = read_wav(sinks.directory / "audio.wav")
    assert mixed == [3] * 64000


def test_the_mixer_holds_only_positions_not_yet_taken() -> None:
    mixer = Mixer(1)
    mixer.add(0, array("h", [1, 2, 3, 4]))
    taken = b"".join(mixer.take(2))
    assert taken == pcm(1, 2)
    mixer.add(1, array("h", [10, 10]))  # position 1 was handed out: only its second sample counts
    assert mixer.late == 1
    assert b"".join(mixer.take(4)) == pcm(13, 4)
    assert b"".join(mixer.take(6)) == pcm(0, 0)  # nothing added there: silence


def test_after_a_silence_the_mixer_holds_only_its_window(tmp_path: Path) -> None:
    recorder = PcmRecorder(tmp_path, MULTI)
    recorder.write(audio(tone(1, 320), user=1, ts=0))
    recorder.write(audio(tone(2, 320), user=2, ts=240_000))  # four minutes later
    assert recorder.mixer.held <= 2 * 16000 + 320
    assert recorder.mixed.frames >= 240 * 16000 - 2 * 16000  # the silence went to disk
    recorder.close()
    _, mixed = read_wav(tmp_path / "audio.wav")
    assert len(mixed) == 240 * 16000 + 320
    assert mixed[:320] == [1] * 320
    assert mixed[-320:] == [2] * 320


async def test_frames_without_a_user_are_the_mixed_stream(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    sinks.audio_format(MULTI)
    sinks.audio(audio(tone(10, 320), user=0, ts=0))
    sinks.audio(audio(tone(1, 320), user=5, ts=0))
    await sinks.close()
    assert [f for f in sinks.files if f.startswith("audio")] == ["audio.wav", "audio/5.wav"]
    _, mixed = read_wav(sinks.directory / "audio.wav")
    assert mixed == [11] * 320


async def test_a_long_silence_is_shortened_not_written(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    sinks.audio_format(MULTI)
    sinks.audio(audio(tone(1, 320), user=1, ts=0))
    sinks.audio(audio(tone(2, 320), user=1, ts=3_600_000))  # an hour later
    await sinks.close()
    _, samples = read_wav(sinks.directory / "audio/1.wav")
    assert samples == [1] * 320 + [2] * 320
    assert sinks.stats()["audio_shortened_frames"] > 0


# --- other codecs -------------------------------------------------------------------------


def ogg_crc(data: bytes) -> int:
    """Bit by bit, independently of the table the sink uses."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def ogg_pages(path: Path) -> list[tuple[int, int, list[bytes]]]:
    """(flags, granule, packets) of each page; checks capture pattern, sequence and CRC."""
    data = path.read_bytes()
    pages, at, sequence = [], 0, 0
    while at < len(data):
        capture, version, flags, granule, _, seq, crc, count = struct.unpack_from("<4sBBqIIIB", data, at)
        assert (capture, version, seq) == (b"OggS", 0, sequence)
        lacing = data[at + 27 : at + 27 + count]
        size = 27 + count + sum(lacing)
        page = bytearray(data[at : at + size])
        page[22:26] = b"\0\0\0\0"
        assert ogg_crc(bytes(page)) == crc
        body, packets, current = data[at + 27 + count : at + size], [], b""
        offset = 0
        for value in lacing:
            current += body[offset : offset + value]
            offset += value
            if value < 255:
                packets.append(current)
                current = b""
        pages.append((flags, granule, packets))
        at += size
        sequence += 1
    return pages


def test_opus_packet_durations_come_from_the_toc_byte() -> None:
    assert opus_samples(OPUS_20MS) == 960
    assert opus_samples(bytes([(1 << 3) | 1, 0])) == 2 * 960  # SILK 20 ms, two frames
    assert opus_samples(bytes([(16 << 3) | 3, 5])) == 5 * 120  # CELT 2.5 ms, five frames
    assert opus_samples(b"") == 0


async def test_opus_is_written_as_ogg_opus(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    sinks.audio_format(AudioFormat(48000, 2, int(Codec.OPUS), False))
    for _ in range(3):
        sinks.audio(audio(OPUS_20MS, user=0))
    await sinks.close()
    assert sinks.files == ["audio.opus"]
    pages = ogg_pages(sinks.directory / "audio.opus")
    head = pages[0][2][0]
    assert pages[0][0] == 0x02  # beginning of stream
    assert head[:8] == b"OpusHead"
    assert struct.unpack_from("<BBHI", head, 8) == (1, 2, 0, 48000)
    assert pages[1][2][0][:8] == b"OpusTags"
    assert [(g, p) for _, g, p in pages[2:]] == [(960, [OPUS_20MS]), (1920, [OPUS_20MS]), (2880, [OPUS_20MS])]
    assert sinks.audio_frames == 2880
    assert sinks.seconds_of_audio == pytest.approx(0.06)


async def test_per_participant_opus_keeps_real_time_with_dtx_frames(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    sinks.audio_format(AudioFormat(48000, 1, int(Codec.OPUS), True))
    sinks.audio(audio(OPUS_20MS, user=1, name="A", ts=1000))
    sinks.audio(audio(OPUS_20MS, user=2, name="B", ts=1000))
    sinks.audio(audio(OPUS_20MS, user=1, name="A", ts=1100))  # 80 ms muted in between
    await sinks.close()
    assert sinks.files == ["audio/1-A.opus", "audio/2-B.opus"]
    pages = ogg_pages(sinks.directory / "audio/1-A.opus")[2:]
    assert pages[0][1:] == (960, [OPUS_20MS])
    assert pages[1][1] == 960 + 4 * 960
    assert pages[1][2] == [bytes([31 << 3])] * 4
    assert pages[2][1:] == (6 * 960, [OPUS_20MS])
    assert sinks.audio_frames == 6 * 960 * 48000 // OPUS_RATE


async def test_g711_payloads_are_kept_as_received(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    sinks.audio_format(AudioFormat(8000, 1, int(Codec.G711), False))
    sinks.audio(audio(b"\xd5" * 160))
    sinks.audio(audio(b"\x55" * 160))
    await sinks.close()
    assert sinks.files == ["audio.g711.bin"]
    assert (sinks.directory / "audio.g711.bin").read_bytes() == b"\xd5" * 160 + b"\x55" * 160
    assert sinks.seconds_of_audio == pytest.approx(0.04)


# --- text ---------------------------------------------------------------------------------


async def test_transcript_lines_are_json_with_every_field(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    full = TranscriptContent(
        user_id=19778240,
        data="Hi, hello world!",
        start_time=1,
        end_time=2,
        timestamp=3,
        language=9,
        attribute=1,
    )
    sinks.transcript(full, "John Smith")
    sinks.transcript(TranscriptContent(data="bare", user_name="From Zoom"), None)
    await sinks.close()
    assert read_jsonl(sinks.directory / "transcript.jsonl") == [
        {
            "user_id": 19778240,
            "user_name": "John Smith",
            "start_time": 1,
            "end_time": 2,
            "timestamp": 3,
            "language": 9,
            "attribute": 1,
            "text": "Hi, hello world!",
        },
        {
            "user_id": None,
            "user_name": "From Zoom",
            "start_time": None,
            "end_time": None,
            "timestamp": None,
            "language": None,
            "attribute": None,
            "text": "bare",
        },
    ]
    assert sinks.transcript_lines == 2


CUE_TIMING = re.compile(r"^(\d{2,}:\d{2}:\d{2}\.\d{3}) --> (\d{2,}:\d{2}:\d{2}\.\d{3})$")


def parse_vtt(text: str) -> list[tuple[str, str, str]]:
    """(start, end, payload) of each cue; asserts the WebVTT structure."""
    assert text.startswith("WEBVTT\n\n")
    cues = []
    for block in text.removeprefix("WEBVTT\n\n").split("\n\n"):
        if not block:
            continue
        timing, _, payload = block.partition("\n")
        match = CUE_TIMING.match(timing)
        assert match, timing
        cues.append((match[1], match[2], payload))
    assert text.endswith("\n\n")
    return cues


async def test_transcript_vtt_cues_are_relative_to_the_first_line(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    base = 1727384100000
    sinks.transcript(TranscriptContent(data="Hello", start_time=base, end_time=base + 2500), "John Smith")
    sinks.transcript(
        TranscriptContent(data="a <b> & c --> d", start_time=base + 3_723_004, end_time=base + 3_724_000),
        None,
    )
    sinks.transcript(TranscriptContent(data="no span\n\n\nat all", timestamp=base + 61_000), "Ann")
    sinks.transcript(TranscriptContent(data="   "), "Nobody")  # nothing to show: no cue
    await sinks.close()
    cues = parse_vtt((sinks.directory / "transcript.vtt").read_text(encoding="utf-8"))
    assert cues == [
        ("00:00:00.000", "00:00:02.500", "<v John Smith>Hello"),
        ("01:02:03.004", "01:02:04.000", "a &lt;b&gt; &amp; c --&gt; d"),
        ("00:01:01.000", "00:01:02.000", "<v Ann>no span\nat all"),
    ]
    assert sinks.transcript_lines == 4  # every line is in the JSONL


async def test_chat_and_events_are_lines(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    sinks.chat(ChatContent(data="hi all", user_id=5, user_name="Ann", timestamp=9))
    sinks.chat(ChatContent(data="anon"))
    sinks.event(Event(event_type=3, timestamp=7, participants=(Participant(user_id=1, user_name="A"),)))
    sinks.event(Event(event_type=1, timestamp=8))
    await sinks.close()
    assert read_jsonl(sinks.directory / "chat.jsonl") == [
        {"user_id": 5, "user_name": "Ann", "timestamp": 9, "text": "hi all"},
        {"user_id": None, "user_name": None, "timestamp": None, "text": "anon"},
    ]
    assert read_jsonl(sinks.directory / "events.jsonl") == [
        {"event_type": 3, "timestamp": 7, "participants": [{"user_id": 1, "user_name": "A"}]},
        {"event_type": 1, "timestamp": 8},
    ]
    assert (sinks.chat_messages, sinks.events) == (2, 2)


# --- video --------------------------------------------------------------------------------


async def test_jpg_frames_are_one_file_each_and_h264_is_one_stream(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    sinks.video_format(VideoFormat(MediaType.VIDEO, int(Codec.JPG), 5, 2))
    sinks.video_format(VideoFormat(MediaType.DESKSHARE, int(Codec.H264), 30, 3))
    sinks.video(MediaType.VIDEO, MediaContent(data=b"\xff\xd8one", user_id=16778240, timestamp=100))
    sinks.video(MediaType.VIDEO, MediaContent(data=b"\xff\xd8two", user_id=16778240, timestamp=100))
    sinks.video(MediaType.VIDEO, MediaContent(data=b"\xff\xd8three", user_id=16778240, timestamp=300))
    sinks.video(MediaType.DESKSHARE, MediaContent(data=b"\0\0\0\1\x67sps", timestamp=1))
    sinks.video(MediaType.DESKSHARE, MediaContent(data=b"\0\0\0\1\x65idr", timestamp=2))
    await sinks.close()
    pictures = sinks.directory / "video"
    assert sorted(p.name for p in pictures.iterdir()) == [
        "100-16778240-1.jpg",
        "100-16778240.jpg",
        "300-16778240.jpg",
    ]
    assert (pictures / "100-16778240.jpg").read_bytes() == b"\xff\xd8one"
    assert (pictures / "100-16778240-1.jpg").read_bytes() == b"\xff\xd8two"
    assert (sinks.directory / "deskshare.h264").read_bytes() == b"\0\0\0\1\x67sps\0\0\0\1\x65idr"
    assert (sinks.video_frames, sinks.deskshare_frames) == (3, 2)
    assert sinks.files == ["video/", "deskshare.h264"]


async def test_video_defaults_to_jpg_pictures_and_png_is_kept_as_png(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    sinks.video(MediaType.VIDEO, MediaContent(data=b"jpg"))  # no format negotiated: JPG (§4.3)
    sinks.video_format(VideoFormat(MediaType.DESKSHARE, int(Codec.PNG), 1, 3))
    sinks.video(MediaType.DESKSHARE, MediaContent(data=b"png", user_id=3, timestamp=5))
    await sinks.close()
    assert [p.name for p in (sinks.directory / "video").iterdir()] == ["n0-0.jpg"]
    assert [p.name for p in (sinks.directory / "deskshare").iterdir()] == ["5-3.png"]


# --- files, summary, revoke -----------------------------------------------------------------


async def test_files_lists_what_was_produced_in_a_stable_order(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    sinks.event(Event(event_type=1))
    sinks.chat(ChatContent(data="x"))
    sinks.transcript(TranscriptContent(data="x", timestamp=1), None)
    sinks.audio(audio(ramp(4)))
    await sinks.close()
    assert sinks.files == ["audio.wav", "transcript.jsonl", "transcript.vtt", "chat.jsonl", "events.jsonl"]
    path = sinks.write_summary({"rtms_stream_id": "s"})
    assert read_json(path) == {"rtms_stream_id": "s"}
    on_disk = sorted(p.name for p in sinks.directory.iterdir())
    assert on_disk == sorted([*sinks.files, SUMMARY_FILE])


async def test_revoke_deletes_the_stream_directory_at_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sinks = make(tmp_path)
    sinks.audio_format(MULTI)
    sinks.audio(audio(tone(1, 320), user=1, ts=0))
    sinks.transcript(TranscriptContent(data="secret", timestamp=1), None)
    sinks.video(MediaType.VIDEO, MediaContent(data=b"jpg", timestamp=1))
    other = make(tmp_path, stream_id="other")
    other.event(Event(event_type=1))
    with caplog.at_level(logging.INFO, logger="connector.sinks"):
        await sinks.revoke()
        await sinks.revoke()
    assert not sinks.directory.exists()
    assert other.directory.exists()  # only this stream's assets
    lines = [r.getMessage() for r in caplog.records if "STREAM_REVOKED" in r.getMessage()]
    assert len(lines) == 1
    assert "deleted 4 files" in lines[0]
    sinks.audio(audio(tone(1, 320), user=1, ts=20))  # a frame still in flight: ignored
    assert not sinks.directory.exists()
    assert sinks.files == []
    with pytest.raises(SinkError):
        sinks.write_summary({"x": 1})
    await sinks.close()  # after revoke: nothing to do, nothing raised


async def test_a_revoke_that_could_not_delete_is_an_error_and_can_be_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sinks = make(tmp_path)
    sinks.event(Event(event_type=1))
    real_rmtree = shutil.rmtree

    def refuse(path: Path) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(shutil, "rmtree", refuse)
    with pytest.raises(SinkError, match=r"cannot delete .*Permission denied") as info:
        await sinks.revoke()
    assert info.value.path == str(sinks.directory)
    assert sinks.directory.exists()
    monkeypatch.setattr(shutil, "rmtree", real_rmtree)
    await sinks.revoke()
    assert not sinks.directory.exists()


async def test_a_file_that_cannot_be_written_is_a_sink_error(tmp_path: Path) -> None:
    sinks = make(tmp_path)
    (sinks.directory / "events.jsonl").mkdir()  # in the way of the file
    with pytest.raises(SinkError) as info:
        sinks.event(Event(event_type=1))
    assert info.value.path == str(sinks.directory / "events.jsonl")
    assert "Traceback" not in str(info.value)


# --- extra sinks --------------------------------------------------------------------------


class Recording(Sink):
    name = "recording"

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.revoked = False
        self.closed = 0

    def audio(self, content: MediaContent) -> None:
        self.seen.append("audio")

    def event(self, event: Event) -> None:
        self.seen.append("event")

    async def close(self) -> None:
        self.closed += 1

    async def revoke(self) -> None:
        self.revoked = True


class Broken(Sink):
    name = "broken"

    def audio(self, content: MediaContent) -> None:
        raise SinkError("disk on fire", path="/nowhere")

    def event(self, event: Event) -> None:
        raise KeyError("a bug")

    async def flush(self) -> None:
        raise SinkError("still on fire", path="/nowhere")

    async def close(self) -> None:
        raise RuntimeError("close must not raise, but this one does")

    async def revoke(self) -> None:
        raise SinkError("cannot delete", path="/nowhere")

    def stats(self) -> dict[str, int | float]:
        return {"fires": 1}


async def test_an_extra_sink_failing_does_not_stop_the_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken, recording = Broken(), Recording()
    sinks = make(tmp_path, extra=(broken, recording))
    with caplog.at_level(logging.ERROR, logger="connector.sinks"):
        for _ in range(3):
            sinks.audio(audio(ramp(4)))
        sinks.event(Event(event_type=1))
        await sinks.flush()
        await sinks.close()
    assert recording.seen == ["audio", "audio", "audio", "event"]
    assert recording.closed == 1
    assert sinks.audio_messages == 3  # the file sink got everything too
    stats = sinks.stats()
    assert stats["sink_errors"] == 3 + 1 + 1 + 1  # audio x3, event, flush, close
    assert stats["broken.fires"] == 1
    broken_lines = [r for r in caplog.records if "broken" in r.getMessage()]
    assert len(broken_lines) == 1  # logged once per sink
    assert "disk on fire" in broken_lines[0].getMessage()


async def test_revoke_reaches_every_sink_even_when_one_fails(tmp_path: Path) -> None:
    recording = Recording()
    sinks = make(tmp_path, extra=(Broken(), recording))
    sinks.audio(audio(ramp(4)))
    await sinks.revoke()
    assert recording.revoked
    assert not sinks.directory.exists()
    assert sinks.stats()["sink_errors"] >= 1


def test_a_sink_must_say_how_it_revokes() -> None:
    class Forgetful(Sink):
        name = "forgetful"

    with pytest.raises(TypeError):
        Forgetful()  # type: ignore[abstract]


async def test_the_custom_sink_in_the_docs_works(tmp_path: Path) -> None:
    """The example in docs/sinks.md, run as written."""
    docs = Path(__file__).parents[2] / "docs" / "sinks.md"
    example = docs.read_text(encoding="utf-8").split("<!-- example: custom sink -->")[1]
    code = example.split("```python\n")[1].split("```")[0]
    namespace: dict[str, object] = {}
    exec(compile(code, str(docs), "exec"), namespace)
    counter = namespace["SpeakerSeconds"]()  # type: ignore[operator]
    sinks = make(tmp_path, extra=(counter,))
    sinks.audio_format(MULTI)
    for i in range(50):
        sinks.audio(audio(tone(1, 320), user=7, ts=20 * i))
    await sinks.close()
    assert sinks.stats()["speakers.7"] == pytest.approx(1.0)


# --- summary ------------------------------------------------------------------------------


async def test_the_summary_counts_everything_the_sinks_wrote(tmp_path: Path) -> None:
    from connector.stream import EndCause, Outcome
    from connector.summary import StreamSummary

    sinks = make(tmp_path)
    sinks.audio(audio(ramp(320)))
    sinks.chat(ChatContent(data="x"))
    sinks.video(MediaType.VIDEO, MediaContent(data=b"jpg"))
    await sinks.close()
    event = RtmsEvent(
        product=Product.MEETING,
        kind=RtmsEventKind.STARTED,
        instance_id="inst/==",
        rtms_stream_id="s",
        event_ts=1,
    )
    summary = StreamSummary.build(
        event=event,
        outcome=Outcome(EndCause.TERMINATED, "Zoom ended the stream", stop_reason=6),
        sinks=sinks,
        roster=Roster(),
        started_ms=1000,
        ended_ms=3000,
        dropped={"audio": 3, "video": 0},
        reconnects=2,
        fence=7,
    )
    data = summary.as_json()
    assert data["stop_reason_name"] == "STOP_BC_MEETING_ENDED"
    assert (data["audio_frames"], data["chat_messages"], data["video_frames"]) == (320, 1, 1)
    assert (data["dropped"], data["reconnects"], data["fence"], data["sink_errors"]) == (
        {"audio": 3},
        2,
        7,
        0,
    )
    assert data["files"] == ["audio.wav", "chat.jsonl", "video/", "stream.json"]
    assert "3 dropped" in summary.one_line()
    assert "2 reconnects" in summary.one_line()


def test_the_header_patch_leaves_the_samples_in_place(tmp_path: Path) -> None:
    path = tmp_path / "audio.wav"
    writer = WavWriter(path, 16000, 1)
    data = bytes(range(256)) * 250  # 2 s of 16 kHz mono: the header is patched twice
    for at in range(0, len(data), 640):
        writer.write(data[at : at + 640])
    assert path.read_bytes() == wav_header(16000, 1, len(data)) + data  # no close: as killed
    writer.write(data[:640])
    writer.close()
    assert path.read_bytes() == wav_header(16000, 1, len(data) + 640) + data + data[:640]
