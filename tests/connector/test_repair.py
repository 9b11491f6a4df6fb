"""Repair at start: files left broken on purpose, as a killed process leaves them."""

from __future__ import annotations

import os
import struct
import wave
from pathlib import Path

from connector.protocol import Codec, Event, MediaContent
from connector.sinks import AudioFormat, StreamSinks, repair_outputs
from connector.sinks.wav import WavWriter

from .conftest import read_jsonl


def pcm(frames: int, *, channels: int = 1) -> bytes:
    return b"".join((i % 30000).to_bytes(2, "little") for i in range(frames * channels))


def frames_of(path: Path) -> tuple[int, bytes]:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes(), wav.readframes(wav.getnframes())


def written_wav(path: Path, frames: int, *, channels: int = 1) -> bytes:
    """A closed, consistent WAV of ``frames`` frames; returns its samples."""
    writer = WavWriter(path, 16000, channels)
    data = pcm(frames, channels=channels)
    writer.write(data)
    writer.close()
    return data


def test_a_wav_whose_header_was_zeroed_is_repaired(tmp_path: Path) -> None:
    path = tmp_path / "s" / "audio.wav"
    data = written_wav(path, 800)
    with open(path, "r+b") as file:
        for offset in (4, 40):
            file.seek(offset)
            file.write(b"\0\0\0\0")
    assert struct.unpack_from("<I", path.read_bytes(), 40)[0] == 0  # the header claims no samples
    report = repair_outputs(tmp_path)
    assert report.wav_headers == [path]
    assert frames_of(path) == (800, data)
    assert struct.unpack_from("<I", path.read_bytes(), 4)[0] == path.stat().st_size - 8


def test_a_wav_cut_mid_sample_loses_only_the_partial_frame(tmp_path: Path) -> None:
    """Stereo: a frame is 4 bytes; the kill left 3 bytes of the next one and a stale header."""
    path = tmp_path / "audio.wav"
    data = written_wav(path, 100, channels=2)
    with open(path, "ab") as file:
        file.write(pcm(50, channels=2) + b"\x01\x02\x03")
    report = repair_outputs(tmp_path)
    assert report.wav_headers == [path]
    assert frames_of(path) == (150, data + pcm(50, channels=2))
    assert path.stat().st_size == 44 + 150 * 4


async def test_a_stream_killed_mid_write_is_readable_after_repair(tmp_path: Path) -> None:
    """The file sink's own output, never closed (the process died): every sample counts after
    repair, including the per-participant files and the JSONL."""
    sinks = StreamSinks.create(tmp_path / "out", stream_id="s", instance_id="i", product="meeting")
    sinks.audio_format(AudioFormat(16000, 1, int(Codec.L16), True))
    for i in range(70):  # 1.4 s: the header was patched once, at 1 s
        sinks.audio(MediaContent(data=pcm(320), user_id=1, user_name="A", timestamp=20 * i))
    sinks.event(Event(event_type=1, timestamp=1))
    await sinks.flush()
    track = sinks.directory / "audio" / "1-A.wav"
    assert frames_of(track)[0] == 16000  # stale: what the last patch said
    events = sinks.directory / "events.jsonl"
    events.write_bytes(events.read_bytes() + b'{"event_type":2,"timest')  # the kill hit a write()
    report = repair_outputs(tmp_path / "out")
    assert track in report.wav_headers
    assert frames_of(track)[0] == 70 * 320
    assert report.partial_records == [sinks.directory / "events.jsonl"]
    assert read_jsonl(sinks.directory / "events.jsonl") == [{"event_type": 1, "timestamp": 1}]


def test_consistent_files_are_left_alone(tmp_path: Path) -> None:
    wav = tmp_path / "audio.wav"
    written_wav(wav, 10)
    lines = tmp_path / "transcript.jsonl"
    lines.write_bytes(b'{"a":1}\n{"a":2}\n')
    vtt = tmp_path / "transcript.vtt"
    vtt.write_bytes(b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nhi\n\n")
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (wav, lines, vtt)}
    report = repair_outputs(tmp_path)
    assert not report
    assert report.changed == 0
    assert report.unrepairable == []
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in before} == before


def test_half_a_line_and_half_a_cue_are_cut_off(tmp_path: Path) -> None:
    lines = tmp_path / "chat.jsonl"
    lines.write_bytes(b'{"a":1}\n{"a":2}\n{"a":')
    only_partial = tmp_path / "events.jsonl"
    only_partial.write_bytes(b'{"event_ty')
    vtt = tmp_path / "transcript.vtt"
    vtt.write_bytes(b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nhi\n\n00:00:02.000 --> 00:0")
    report = repair_outputs(tmp_path)
    assert sorted(report.partial_records) == sorted([lines, only_partial, vtt])
    assert lines.read_bytes() == b'{"a":1}\n{"a":2}\n'
    assert only_partial.read_bytes() == b""
    assert vtt.read_bytes() == b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nhi\n\n"


def test_the_last_newline_is_found_far_from_the_end(tmp_path: Path) -> None:
    """The partial line is longer than the block the search reads at a time."""
    path = tmp_path / "transcript.jsonl"
    whole = b'{"text":"x"}\n'
    path.write_bytes(whole + b"y" * 200_000)
    assert repair_outputs(tmp_path).partial_records == [path]
    assert path.read_bytes() == whole


def test_leftover_temporary_files_are_removed(tmp_path: Path) -> None:
    pictures = tmp_path / "s" / "video"
    pictures.mkdir(parents=True)
    (pictures / "100-1.jpg").write_bytes(b"whole")
    (pictures / "200-1.jpg.tmp").write_bytes(b"hal")
    (tmp_path / "s" / "stream.json.tmp").write_text("{")
    report = repair_outputs(tmp_path)
    assert sorted(report.temporary_removed) == sorted(
        [pictures / "200-1.jpg.tmp", tmp_path / "s" / "stream.json.tmp"]
    )
    assert sorted(p.name for p in pictures.iterdir()) == ["100-1.jpg"]
    assert report
    assert "2 temporary files removed" in str(report)


def test_what_cannot_be_repaired_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "not.wav").write_bytes(b"ID3 this is an mp3")
    (tmp_path / "header-only.wav").write_bytes(b"RIFF\0\0\0\0WAVEfmt ")
    report = repair_outputs(tmp_path)
    assert sorted(p.name for p, _ in report.unrepairable) == ["header-only.wav", "not.wav"]
    assert report.changed == 0
    assert report  # worth a log line


def test_recent_files_are_skipped_when_asked(tmp_path: Path) -> None:
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    for path in (old, new):
        path.write_bytes(b'{"a":1}\n{"a"')
    os.utime(old, (1_000_000, 1_000_000))
    os.utime(new, (1_000_100, 1_000_100))
    report = repair_outputs(tmp_path, min_age=60, now=1_000_120)
    assert report.partial_records == [old]
    assert report.skipped_recent == [new]
    assert new.read_bytes() == b'{"a":1}\n{"a"'


def test_a_missing_output_directory_is_nothing_to_repair(tmp_path: Path) -> None:
    report = repair_outputs(tmp_path / "never-created")
    assert report.changed == 0
    assert report.unrepairable == []
