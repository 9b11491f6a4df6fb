"""The audio files of one stream (MEDIA_DATA_AUDIO, docs/protocol.md §4.12, §5.7).

=========================  ==================================================================
codec                      files
=========================  ==================================================================
L16 (and unset)            ``audio.wav``; with AUDIO_MULTI_STREAMS also
                           ``audio/<user_id>-<name>.wav`` per participant, and ``audio.wav``
                           is their sample-wise sum
OPUS                       ``audio.opus`` (Ogg Opus); with AUDIO_MULTI_STREAMS
                           ``audio/<user_id>-<name>.opus`` per participant (no mix: that would
                           need an Opus codec)
G711, G722, anything else  ``audio.<codec>.bin``, the payloads back to back as received; with
                           AUDIO_MULTI_STREAMS ``audio/<user_id>-<name>.<codec>.bin``
=========================  ==================================================================

With AUDIO_MULTI_STREAMS a frame whose ``user_id`` is 0 or absent (and that has no
``channel_id``) is the mixed stream: for L16 it is summed into ``audio.wav`` like any source,
for the other codecs it goes to the mixed file. Per-participant WAV and Opus files are
aligned on the stream's timeline: each starts at the stream's first audio frame and time
without packets (muted) is silence; a frame replayed after a reconnect (§4.12: audio is
buffered and replayed) is written once.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Protocol

from msgspec import UnsetType

from ..errors import SinkError
from ..protocol import Codec, MediaContent
from .base import AudioFormat
from .fs import AppendFile
from .mixer import Mixer, Timeline, pcm_samples
from .naming import plain_name, safe_name
from .ogg import OPUS_RATE, OggOpusWriter, opus_samples
from .wav import SAMPLE_WIDTH, WavWriter

__all__ = ["AUDIO_DIR", "AudioRecorder", "OpusRecorder", "PcmRecorder", "RawRecorder", "audio_recorder"]

logger = logging.getLogger("connector.sinks.files")

AUDIO_DIR = "audio"
WINDOW_SECONDS = 2.0  # how long the mix waits for late frames before writing a position out
SNAP_SECONDS = 0.010  # timestamp jitter absorbed without a gap or an overlap
MAX_GAP_SECONDS = 300.0  # longer silence between frames is shortened (see Timeline)

_RAW_NAMES = {Codec.G711: "g711", Codec.G722: "g722"}
_SILENCE_CHUNK = 1 << 16  # bytes of zeros written at a time when filling a gap


def audio_recorder(directory: Path, fmt: AudioFormat) -> AudioRecorder:
    """The recorder for ``fmt``: PCM, Opus or raw payloads."""
    if fmt.codec in (Codec.L16, Codec.UNDEFINED):
        return PcmRecorder(directory, fmt)
    if fmt.codec == Codec.OPUS:
        return OpusRecorder(directory, fmt)
    return RawRecorder(directory, fmt)


def source_of(content: MediaContent) -> str | None:
    """The participant (or ZCC channel) a frame belongs to; None for the mixed stream."""
    user = content.user_id
    if not isinstance(user, UnsetType) and user not in (0, "0", ""):
        return str(user)
    channel = content.channel_id
    if not isinstance(channel, UnsetType) and channel:
        return f"channel-{channel}"
    return None


def track_stem(source: str, content: MediaContent) -> str:
    """``<user_id>-<safe user name>`` (or ``<user_id>`` without a name) for a source's files."""
    stem = safe_name(source, limit=40)
    name = "" if isinstance(content.user_name, UnsetType) else plain_name(content.user_name)
    return f"{stem}-{name}" if name else stem


class _Closable(Protocol):
    def close(self) -> None: ...


def close_all(files: list[_Closable]) -> None:
    """Close every file even when one fails; then raise the first failure."""
    failure: SinkError | None = None
    for file in files:
        try:
            file.close()
        except SinkError as exc:
            failure = failure or exc
    if failure is not None:
        raise failure


class AudioRecorder(ABC):
    """Writes the audio frames of one stream in one format. Methods raise
    :class:`~connector.errors.SinkError`."""

    def __init__(self, directory: Path, fmt: AudioFormat) -> None:
        self.directory = directory
        self.format = fmt
        self.messages = 0
        self.duplicates = 0  # frames dropped because their time was already written (replays)

    @property
    @abstractmethod
    def frames(self) -> int:
        """Length of the stream's audio in samples per channel at ``format.sample_rate``."""

    @property
    @abstractmethod
    def files(self) -> list[str]:
        """Paths (relative to the stream directory) of the files created, sorted."""

    @abstractmethod
    def write(self, content: MediaContent) -> None:
        """One audio frame."""

    @abstractmethod
    def flush(self) -> None:
        """Hand buffered bytes to the OS."""

    @abstractmethod
    def close(self) -> None:
        """Write out everything held back and close every file; idempotent."""

    def abandon(self) -> None:
        """Close every file without writing out what is held back (the files are going away)."""
        self.close()

    def stats(self) -> dict[str, int]:
        return {"audio_duplicate_frames": self.duplicates}


class PcmRecorder(AudioRecorder):
    """L16: ``audio.wav``, plus per-participant WAV files and their mix (AUDIO_MULTI_STREAMS)."""

    def __init__(self, directory: Path, fmt: AudioFormat) -> None:
        super().__init__(directory, fmt)
        rate, channels = fmt.sample_rate, fmt.channels
        self.frame_size = SAMPLE_WIDTH * channels
        self.mixed = WavWriter(directory / "audio.wav", rate, channels)
        self.tracks: dict[str, WavWriter] = {}
        self.timeline = Timeline(rate, snap=round(rate * SNAP_SECONDS), max_gap=round(rate * MAX_GAP_SECONDS))
        self.mixer = Mixer(channels)
        self.window = round(rate * WINDOW_SECONDS)
        self._warned_partial = False

    @property
    def frames(self) -> int:
        return self.mixed.frames

    @property
    def files(self) -> list[str]:
        names = [f"{AUDIO_DIR}/{w.path.name}" for w in self.tracks.values() if w.created]
        return (["audio.wav"] if self.mixed.created else []) + sorted(names)

    def write(self, content: MediaContent) -> None:
        data = content.data
        extra = len(data) % self.frame_size
        if extra:
            data = data[:-extra]
            if not self._warned_partial:
                self._warned_partial = True
                logger.warning("%s: audio payload not a whole number of frames; truncated", self.directory)
        self.messages += 1
        if not self.format.per_participant:
            self.mixed.write(data)
            return
        source = source_of(content)
        timestamp = None if isinstance(content.timestamp, UnsetType) else content.timestamp
        previous = self.timeline.end_of(source)
        position = self.timeline.place(source, timestamp, floor=self.mixer.base)
        frames = len(data) // self.frame_size
        self.timeline.advance(source, position, frames)
        # What this source already delivered for these positions (a replay) is used once.
        overlap = 0 if previous is None else min(max(previous - position, 0), frames)
        if overlap:
            self.duplicates += overlap
            position, data = position + overlap, data[overlap * self.frame_size :]
        # Write out what aged past the window before adding: after a long silence the mixer
        # then holds the window, not the whole silence.
        if self.timeline.end - self.mixer.base > self.window:
            for chunk in self.mixer.take(self.timeline.end - self.window):
                self.mixed.write(chunk)
        if data:
            if source is not None:
                self._track(source, content, position, data)
            self.mixer.add(position, pcm_samples(data))

    def _track(self, source: str, content: MediaContent, position: int, data: bytes) -> None:
        """Append to the participant's file at ``position``, after silence up to there."""
        track = self.tracks.get(source)
        if track is None:
            path = self.directory / AUDIO_DIR / f"{track_stem(source, content)}.wav"
            track = self.tracks[source] = WavWriter(path, self.format.sample_rate, self.format.channels)
        gap = (position - track.frames) * self.frame_size
        while gap > 0:
            track.write(bytes(min(gap, _SILENCE_CHUNK)))
            gap -= _SILENCE_CHUNK
        track.write(data)

    def flush(self) -> None:
        self.mixed.flush()
        for track in self.tracks.values():
            track.flush()

    def close(self) -> None:
        try:
            if self.format.per_participant:
                for chunk in self.mixer.take(self.timeline.end):
                    self.mixed.write(chunk)
        finally:
            self.abandon()

    def abandon(self) -> None:
        close_all([*self.tracks.values(), self.mixed])

    def stats(self) -> dict[str, int]:
        return {
            **super().stats(),
            "audio_late_frames": self.mixer.late,
            "audio_shortened_frames": self.timeline.shortened,
        }


class OpusRecorder(AudioRecorder):
    """Opus: ``audio.opus`` and, with AUDIO_MULTI_STREAMS, one Ogg Opus file per participant."""

    def __init__(self, directory: Path, fmt: AudioFormat) -> None:
        super().__init__(directory, fmt)
        self.mixed = self._writer(directory / "audio.opus", 0)
        self.tracks: dict[str, OggOpusWriter] = {}
        self.timeline = Timeline(
            OPUS_RATE, snap=round(OPUS_RATE * SNAP_SECONDS), max_gap=round(OPUS_RATE * MAX_GAP_SECONDS)
        )
        self.invalid = 0

    def _writer(self, path: Path, serial: int) -> OggOpusWriter:
        return OggOpusWriter(
            path, channels=self.format.channels, input_rate=self.format.sample_rate, serial=serial
        )

    @property
    def frames(self) -> int:
        samples = max([self.mixed.samples, *(t.samples for t in self.tracks.values())])
        return samples * self.format.sample_rate // OPUS_RATE

    @property
    def files(self) -> list[str]:
        names = [f"{AUDIO_DIR}/{w.path.name}" for w in self.tracks.values() if w.created]
        return (["audio.opus"] if self.mixed.created else []) + sorted(names)

    def write(self, content: MediaContent) -> None:
        self.messages += 1
        source = source_of(content) if self.format.per_participant else None
        if source is None:
            if not self.mixed.write(content.data):
                self.invalid += 1
            return
        samples = opus_samples(content.data)
        if samples == 0:
            self.invalid += 1
            return
        track = self.tracks.get(source)
        if track is None:
            path = self.directory / AUDIO_DIR / f"{track_stem(source, content)}.opus"
            track = self.tracks[source] = self._writer(path, len(self.tracks) + 1)
        timestamp = None if isinstance(content.timestamp, UnsetType) else content.timestamp
        position = self.timeline.place(source, timestamp, floor=track.samples)
        self.timeline.advance(source, position, samples)
        if position + self.timeline.snap < track.samples:  # a packet cannot be cut: all or nothing
            self.duplicates += samples
            return
        track.write_silence(position - track.samples)
        track.write(content.data)

    def flush(self) -> None:
        for writer in (self.mixed, *self.tracks.values()):
            writer.flush()

    def close(self) -> None:
        close_all([*self.tracks.values(), self.mixed])

    def stats(self) -> dict[str, int]:
        return {**super().stats(), "audio_invalid_packets": self.invalid}


class RawRecorder(AudioRecorder):
    """G711, G722 or an unknown codec: the payloads as received, no timing kept."""

    def __init__(self, directory: Path, fmt: AudioFormat) -> None:
        super().__init__(directory, fmt)
        try:
            self.suffix = f"{_RAW_NAMES[Codec(fmt.codec)]}.bin"
        except (KeyError, ValueError):
            self.suffix = f"codec{fmt.codec}.bin"
        self.mixed = AppendFile(directory / f"audio.{self.suffix}")
        self.tracks: dict[str, AppendFile] = {}

    @property
    def frames(self) -> int:
        longest = max([self.mixed.bytes_written, *(t.bytes_written for t in self.tracks.values())])
        if self.format.codec == Codec.G711:  # 8 bits per sample
            return longest // self.format.channels
        if self.format.codec == Codec.G722:  # 64 kbit/s at 16 kHz: 4 bits per sample
            return 2 * longest // self.format.channels
        return 0  # unknown codec: unknown duration

    @property
    def files(self) -> list[str]:
        names = [f"{AUDIO_DIR}/{f.path.name}" for f in self.tracks.values() if f.created]
        return ([self.mixed.path.name] if self.mixed.created else []) + sorted(names)

    def write(self, content: MediaContent) -> None:
        self.messages += 1
        source = source_of(content) if self.format.per_participant else None
        if source is None:
            self.mixed.append(content.data)
            return
        track = self.tracks.get(source)
        if track is None:
            path = self.directory / AUDIO_DIR / f"{track_stem(source, content)}.{self.suffix}"
            track = self.tracks[source] = AppendFile(path)
        track.append(content.data)

    def flush(self) -> None:
        """Nothing: every payload is flushed as it is appended."""

    def close(self) -> None:
        close_all([*self.tracks.values(), self.mixed])
