"""Output files: WAV, transcript and event JSONL, stream.json, and safe directory names."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from connector.errors import SinkError
from connector.protocol import Event, Participant, TranscriptContent
from connector.sinks import StreamSinks, safe_name

from .conftest import read_json, read_jsonl


def pcm(frames: int, *, channels: int = 1, start: int = 0) -> bytes:
    """Distinct 16-bit little-endian samples, so that order and content can be checked."""
    return b"".join(((start + i) % 65536).to_bytes(2, "little") for i in range(frames * channels))


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


def test_a_second_run_of_a_stream_gets_its_own_directory(tmp_path: Path) -> None:
    first = StreamSinks.create(tmp_path / "out", "abc")
    second = StreamSinks.create(tmp_path / "out", "abc")
    assert (first.directory.name, second.directory.name) == ("abc", "abc-1")


def test_unusable_output_dir_is_a_sink_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(SinkError) as info:
        StreamSinks.create(blocker, "abc")
    assert info.value.path == str(blocker)


def test_wav_has_the_frames_written_at_the_negotiated_format(tmp_path: Path) -> None:
    sinks = StreamSinks.create(tmp_path, "s")
    sinks.configure_audio(48000, 2)
    chunks = [pcm(960, channels=2, start=i * 1920) for i in range(3)]
    for chunk in chunks:
        sinks.write_audio(chunk)
    sinks.close()
    with wave.open(str(sinks.directory / "audio.wav"), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (48000, 2, 2)
        assert wav.getnframes() == 2880
        assert wav.readframes(2880) == b"".join(chunks)
    assert (sinks.audio_frames, sinks.audio_messages) == (2880, 3)
    assert sinks.seconds_of_audio == pytest.approx(0.06)


def test_wav_header_is_current_while_the_stream_runs(tmp_path: Path) -> None:
    """A process killed mid-stream leaves a WAV whose header counts the audio written."""
    sinks = StreamSinks.create(tmp_path, "s")
    sinks.configure_audio(16000, 1)
    for i in range(51):  # 51 frames of 20 ms: more than one second
        sinks.write_audio(pcm(320, start=i * 320))
    with wave.open(str(sinks.directory / "audio.wav"), "rb") as wav:
        assert wav.getnframes() == 16000
    sinks.close()


def test_partial_audio_frames_are_dropped(tmp_path: Path) -> None:
    sinks = StreamSinks.create(tmp_path, "s")
    sinks.write_audio(pcm(10) + b"\x01")
    sinks.close()
    with wave.open(str(sinks.directory / "audio.wav"), "rb") as wav:
        assert wav.getnframes() == 10


def test_transcript_lines_are_json_with_every_field(tmp_path: Path) -> None:
    sinks = StreamSinks.create(tmp_path, "s")
    full = TranscriptContent(
        user_id=19778240, data="Hi, hello world!", start_time=1, end_time=2, timestamp=3, language=9
    )
    sinks.write_transcript(full, "John Smith")
    sinks.write_transcript(TranscriptContent(data="bare"), None)
    sinks.close()
    assert read_jsonl(sinks.directory / "transcript.jsonl") == [
        {
            "user_id": 19778240,
            "user_name": "John Smith",
            "start_time": 1,
            "end_time": 2,
            "timestamp": 3,
            "language": 9,
            "text": "Hi, hello world!",
        },
        {
            "user_id": None,
            "user_name": None,
            "start_time": None,
            "end_time": None,
            "timestamp": None,
            "language": None,
            "text": "bare",
        },
    ]
    assert sinks.transcript_lines == 2


def test_events_are_written_as_received(tmp_path: Path) -> None:
    sinks = StreamSinks.create(tmp_path, "s")
    sinks.write_event(Event(event_type=3, timestamp=7, participants=(Participant(user_id=1, user_name="A"),)))
    sinks.write_event(Event(event_type=1, timestamp=8))
    sinks.close()
    assert read_jsonl(sinks.directory / "events.jsonl") == [
        {"event_type": 3, "timestamp": 7, "participants": [{"user_id": 1, "user_name": "A"}]},
        {"event_type": 1, "timestamp": 8},
    ]


def test_files_lists_only_what_was_produced_and_summary_is_written(tmp_path: Path) -> None:
    sinks = StreamSinks.create(tmp_path, "s")
    sinks.write_transcript(TranscriptContent(data="x"), None)
    sinks.close()
    assert sinks.files == ["transcript.jsonl"]
    path = sinks.write_summary({"rtms_stream_id": "s"})
    assert read_json(path) == {"rtms_stream_id": "s"}
    assert sorted(p.name for p in sinks.directory.iterdir()) == ["stream.json", "transcript.jsonl"]


def test_close_is_idempotent(tmp_path: Path) -> None:
    sinks = StreamSinks.create(tmp_path, "s")
    sinks.write_audio(pcm(4))
    sinks.close()
    sinks.close()
    with wave.open(str(sinks.directory / "audio.wav"), "rb") as wav:
        assert wav.getnframes() == 4
