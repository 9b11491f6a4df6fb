"""Per-stream output files (docs/protocol.md §4.6, §4.12).

Each stream writes into ``<output_dir>/<safe stream id>/``:

``audio.wav``
    16-bit PCM at the negotiated rate and channel count, frames appended as they arrive;
    the header is brought up to date once per second of audio and on close.
``transcript.jsonl``
    one object per MEDIA_DATA_TRANSCRIPT: user_id, user_name, start_time, end_time,
    timestamp, language, text (``null`` where Zoom sent nothing).
``events.jsonl``
    one EVENT_UPDATE ``event`` object per line, as Zoom sent it.
``stream.json``
    the :class:`~connector.summary.StreamSummary`, written when the stream ends.

Files are created on first write, so ``files`` lists exactly what a stream produced. Every
``OSError`` becomes a :class:`~connector.errors.SinkError` naming the path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import wave
from pathlib import Path
from typing import IO, Any

import msgspec
from msgspec import UnsetType

from .errors import SinkError
from .protocol import Event, TranscriptContent

__all__ = ["AUDIO_FILE", "EVENTS_FILE", "SUMMARY_FILE", "TRANSCRIPT_FILE", "StreamSinks", "safe_name"]

logger = logging.getLogger("connector.sinks")

AUDIO_FILE = "audio.wav"
TRANSCRIPT_FILE = "transcript.jsonl"
EVENTS_FILE = "events.jsonl"
SUMMARY_FILE = "stream.json"

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_encoder = msgspec.json.Encoder()


def safe_name(untrusted: str, *, limit: int = 80) -> str:
    """A file name made from ``untrusted``: ``[A-Za-z0-9._-]`` only, no leading dot, at most
    ``limit`` characters. When anything had to change, a hash of the original is appended so
    that two different ids never share a directory (instance ids contain ``/`` and ``=``)."""
    cleaned = _UNSAFE.sub("_", untrusted)[:limit].lstrip(".")
    if cleaned == untrusted and cleaned:
        return cleaned
    digest = hashlib.sha256(untrusted.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{cleaned or 'stream'}-{digest}"


def _optional(value: object) -> object:
    return None if isinstance(value, UnsetType) else value


class StreamSinks:
    """The open output files of one stream. Not thread-safe; one owner."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.sample_rate = 16000
        self.channels = 1
        self.audio_frames = 0  # WAV frames, i.e. samples per channel
        self.audio_messages = 0
        self.transcript_lines = 0
        self.events = 0
        self._audio_file: IO[bytes] | None = None
        self._wav: wave.Wave_write | None = None
        self._frames_since_header = 0
        self._lines: dict[str, IO[bytes]] = {}
        self._warned_partial_frame = False

    @classmethod
    def create(cls, output_dir: Path, stream_id: str) -> StreamSinks:
        """Make a fresh directory for ``stream_id``; a later run of the same stream gets
        ``<name>-1``, ``<name>-2`` … so that no earlier output is overwritten."""
        base = safe_name(stream_id)
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
            for n in range(10_000):
                directory = output_dir / (base if n == 0 else f"{base}-{n}")
                try:
                    directory.mkdir()
                except FileExistsError:
                    continue
                return cls(directory)
        except OSError as exc:
            raise SinkError(
                f"cannot create a directory in {output_dir}: {exc}", path=str(output_dir)
            ) from None
        raise SinkError(f"too many runs of stream {base} in {output_dir}", path=str(output_dir))

    # --- audio ---------------------------------------------------------------------------

    def configure_audio(self, sample_rate: int, channels: int) -> None:
        """Set the PCM format; must come before the first audio frame to take effect."""
        if self._wav is not None:
            if (sample_rate, channels) != (self.sample_rate, self.channels):
                logger.warning("%s: audio format changed mid-stream; keeping the first", self.directory)
            return
        self.sample_rate, self.channels = sample_rate, channels

    def write_audio(self, data: bytes) -> None:
        """Append PCM bytes; a trailing partial frame is dropped (16-bit samples)."""
        wav = self._wav or self._open_wav()
        frame_size = 2 * self.channels
        extra = len(data) % frame_size
        if extra:
            data = data[:-extra]
            if not self._warned_partial_frame:
                self._warned_partial_frame = True
                logger.warning("%s: audio payload not a whole number of frames; truncated", self.directory)
        frames = len(data) // frame_size
        try:
            # writeframesraw does not rewrite the header (three seeks) on every 20 ms frame;
            # writeframes(b"") does, once a second, so a killed process leaves a valid file.
            wav.writeframesraw(data)
            self._frames_since_header += frames
            if self._frames_since_header >= self.sample_rate:
                self._frames_since_header = 0
                wav.writeframes(b"")
        except OSError as exc:
            raise self._error(AUDIO_FILE, exc) from None
        self.audio_frames += frames
        self.audio_messages += 1

    def _open_wav(self) -> wave.Wave_write:
        path = self.directory / AUDIO_FILE
        try:
            self._audio_file = open(path, "wb")  # noqa: SIM115 - kept open for the stream's life
            wav = wave.open(self._audio_file, "wb")  # noqa: SIM115
            wav.setnchannels(self.channels)
            wav.setsampwidth(2)
            wav.setframerate(self.sample_rate)
        except OSError as exc:
            raise self._error(AUDIO_FILE, exc) from None
        self._wav = wav
        return wav

    # --- text ----------------------------------------------------------------------------

    def write_transcript(self, content: TranscriptContent, user_name: str | None) -> None:
        """One JSON line for one transcript message (§4.12)."""
        line = {
            "user_id": _optional(content.user_id),
            "user_name": user_name,
            "start_time": _optional(content.start_time),
            "end_time": _optional(content.end_time),
            "timestamp": _optional(content.timestamp),
            "language": _optional(content.language),
            "text": content.data,
        }
        self._append(TRANSCRIPT_FILE, _encoder.encode(line))
        self.transcript_lines += 1

    def write_event(self, event: Event) -> None:
        """One JSON line per EVENT_UPDATE, the ``event`` object as received (§4.6)."""
        self._append(EVENTS_FILE, _encoder.encode(event))
        self.events += 1

    def _append(self, name: str, line: bytes) -> None:
        try:
            file = self._lines.get(name)
            if file is None:
                file = self._lines[name] = open(self.directory / name, "ab")  # noqa: SIM115
            file.write(line + b"\n")
            file.flush()  # lines are rare; a crash must not lose them
        except OSError as exc:
            raise self._error(name, exc) from None

    # --- end -----------------------------------------------------------------------------

    @property
    def seconds_of_audio(self) -> float:
        return self.audio_frames / self.sample_rate

    @property
    def files(self) -> list[str]:
        """Names of the media files written so far (``stream.json`` excluded), in a stable order."""
        return [n for n in (AUDIO_FILE, TRANSCRIPT_FILE, EVENTS_FILE) if (self.directory / n).exists()]

    def close(self) -> None:
        """Flush and close every file (the WAV header gets its final length). Idempotent;
        a failure is logged, never raised, so that the summary can still be written."""
        files: list[IO[bytes]] = list(self._lines.values())
        self._lines.clear()
        try:
            if self._wav is not None:
                self._wav.close()
        except OSError as exc:
            logger.error("%s", self._error(AUDIO_FILE, exc))
        finally:
            self._wav = None
            if self._audio_file is not None:
                files.append(self._audio_file)
                self._audio_file = None
        for file in files:
            try:
                file.close()
            except OSError as exc:
                logger.error("%s: cannot close %s: %s", self.directory, file.name, exc)

    def write_summary(self, summary: dict[str, Any]) -> Path:
        """Write ``stream.json`` atomically (a reader never sees half a file)."""
        path = self.directory / SUMMARY_FILE
        temporary = path.with_suffix(".json.tmp")
        try:
            temporary.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
            os.replace(temporary, path)
        except OSError as exc:
            raise self._error(SUMMARY_FILE, exc) from None
        return path

    def _error(self, name: str, exc: OSError) -> SinkError:
        path = self.directory / name
        return SinkError(f"cannot write {path}: {exc.strerror or exc}", path=str(path))
