"""The file sink: everything a stream delivers, as files in the stream's own directory
(docs/sinks.md; docs/protocol.md §4.6, §4.12, §5.3).

``<output_dir>/<safe stream id>/`` (a later run of the same stream gets ``-1``, ``-2`` …)::

    audio.wav            mixed 16-bit PCM (audio.opus for Opus, audio.<codec>.bin otherwise)
    audio/<id>-<name>.wav   one file per participant with AUDIO_MULTI_STREAMS
    transcript.jsonl     one object per transcript line
    transcript.vtt       the same lines as WebVTT cues
    chat.jsonl           one object per chat message
    events.jsonl         one EVENT_UPDATE ``event`` object per line, as received
    video/, video.h264   camera video: one picture per JPG/PNG frame, or the H264 stream
    deskshare/, deskshare.h264   screen share, likewise
    stream.json          the stream summary, written by :meth:`FileSink.write_summary`

Files are created on first write. Text lines are written whole with one ``write()`` and
flushed; WAV headers are brought up to date once per second of audio and on close;
:func:`~connector.sinks.repair.repair_outputs` mends what a killed process left.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import msgspec
from msgspec import UnsetType

from ..errors import SinkError
from ..protocol import ChatContent, Codec, Event, MediaContent, MediaType, TranscriptContent
from .audio import AudioRecorder, PcmRecorder, audio_recorder
from .base import AudioFormat, Sink, StreamInfo, VideoFormat
from .frames import VideoRecorder
from .fs import AppendFile, file_error, write_atomically
from .webvtt import WebVttWriter

__all__ = [
    "CHAT_FILE",
    "DEFAULT_AUDIO",
    "EVENTS_FILE",
    "SUMMARY_FILE",
    "TRANSCRIPT_FILE",
    "TRANSCRIPT_VTT_FILE",
    "FileSink",
]

logger = logging.getLogger("connector.sinks.files")

TRANSCRIPT_FILE = "transcript.jsonl"
TRANSCRIPT_VTT_FILE = "transcript.vtt"
CHAT_FILE = "chat.jsonl"
EVENTS_FILE = "events.jsonl"
SUMMARY_FILE = "stream.json"

DEFAULT_AUDIO = AudioFormat(16000, 1, int(Codec.L16), False)
"""The WebSocket default when no format was negotiated: L16, 16 kHz, mono, mixed (§4.3)."""

_DEFAULT_VIDEO = {  # §4.3: JPG at 5 fps HD for video, 1 fps FHD for screen share
    MediaType.VIDEO: VideoFormat(MediaType.VIDEO, int(Codec.JPG), 5, 2),
    MediaType.DESKSHARE: VideoFormat(MediaType.DESKSHARE, int(Codec.JPG), 1, 3),
}
_encoder = msgspec.json.Encoder()


class _State(enum.Enum):
    NEW = "new"
    OPEN = "open"
    CLOSED = "closed"
    REVOKED = "revoked"


_OPEN = _State.OPEN


def _set(value: object) -> object:
    return None if isinstance(value, UnsetType) else value


class MixedPcmTap:
    """What :meth:`FileSink.audio` does with one frame of the mixed L16 stream, with as few
    objects touched as possible (each frame of each stream fetches them from memory again:
    docs/performance.md). :meth:`accepts` says whether :meth:`write` may take the frame's PCM
    now, exactly as :meth:`FileSink.audio` would: the sink still open, its recorder the same,
    the payload a whole number of samples. :meth:`write` then counts the message and appends
    the samples, raising :class:`SinkError` as the full path does."""

    __slots__ = ("frame_size", "recorder", "sink", "wav")

    def __init__(self, sink: FileSink, recorder: PcmRecorder) -> None:
        self.sink = sink
        self.recorder = recorder
        self.wav = recorder.mixed
        self.frame_size = recorder.frame_size

    def accepts(self, data: bytes) -> bool:
        sink = self.sink
        return sink._state is _OPEN and sink._audio is self.recorder and not len(data) % self.frame_size

    def write(self, data: bytes) -> None:
        self.recorder.messages += 1
        self.wav.write(data)


class FileSink(Sink):
    """Writes one stream into its directory. Per-item methods raise :class:`SinkError` when a
    file cannot be written; items that arrive after :meth:`close` or :meth:`revoke` are
    ignored."""

    name = "files"

    def __init__(self) -> None:
        self.info: StreamInfo | None = None
        self.transcript_lines = 0
        self.chat_messages = 0
        self.events = 0
        self.ignored = 0  # items that arrived after close or revoke
        self._state = _State.NEW
        self._audio_format = DEFAULT_AUDIO
        self._audio: AudioRecorder | None = None
        self._video_formats: dict[MediaType, VideoFormat] = dict(_DEFAULT_VIDEO)
        self._video: dict[MediaType, VideoRecorder] = {}
        self._lines: dict[str, AppendFile] = {}
        self._vtt: WebVttWriter | None = None
        self._warned: set[str] = set()
        self._deleted = False  # revoke() removed the directory

    # --- identity and counters -------------------------------------------------------------

    @property
    def directory(self) -> Path:
        if self.info is None:
            raise RuntimeError("FileSink used before open()")
        return self.info.directory

    @property
    def stream_id(self) -> str:
        return "-" if self.info is None else self.info.stream_id

    @property
    def revoked(self) -> bool:
        return self._state is _State.REVOKED

    @property
    def sample_rate(self) -> int:
        return self._audio_format.sample_rate

    @property
    def channels(self) -> int:
        return self._audio_format.channels

    @property
    def audio_frames(self) -> int:
        """Length of the stream's audio in samples per channel (of ``audio.wav`` for L16)."""
        return 0 if self._audio is None else self._audio.frames

    @property
    def audio_messages(self) -> int:
        return 0 if self._audio is None else self._audio.messages

    @property
    def seconds_of_audio(self) -> float:
        return self.audio_frames / self.sample_rate if self.sample_rate > 0 else 0.0

    @property
    def video_frames(self) -> int:
        recorder = self._video.get(MediaType.VIDEO)
        return 0 if recorder is None else recorder.frames

    @property
    def deskshare_frames(self) -> int:
        recorder = self._video.get(MediaType.DESKSHARE)
        return 0 if recorder is None else recorder.frames

    @property
    def files(self) -> list[str]:
        """Media files written so far, relative to the directory, in a stable order
        (``stream.json`` excluded; a directory of pictures is one ``video/`` entry)."""
        if self.revoked:
            return []
        names = [] if self._audio is None else self._audio.files
        for name in (TRANSCRIPT_FILE, TRANSCRIPT_VTT_FILE, CHAT_FILE, EVENTS_FILE):
            file = self._vtt.file if name == TRANSCRIPT_VTT_FILE and self._vtt else self._lines.get(name)
            if file is not None and file.created:
                names.append(name)
        for kind in (MediaType.VIDEO, MediaType.DESKSHARE):
            if kind in self._video:
                names += self._video[kind].files
        return names

    def stats(self) -> dict[str, int | float]:
        counters: dict[str, int | float] = {
            "audio_frames": self.audio_frames,
            "audio_messages": self.audio_messages,
            "seconds_of_audio": self.seconds_of_audio,
            "transcript_lines": self.transcript_lines,
            "chat_messages": self.chat_messages,
            "video_frames": self.video_frames,
            "deskshare_frames": self.deskshare_frames,
            "events": self.events,
            "ignored_after_close": self.ignored,
        }
        if self._audio is not None:
            counters.update(self._audio.stats())
        return counters

    # --- the Sink interface ----------------------------------------------------------------

    def open(self, info: StreamInfo) -> None:
        try:
            info.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise file_error(info.directory, exc, doing="create") from None
        self.info = info
        self._state = _State.OPEN

    def audio_format(self, fmt: AudioFormat) -> None:
        if self._audio is not None and fmt != self._audio.format:
            self._warn_once("audio-format", "audio format changed mid-stream (%s); keeping the first", fmt)
            return
        self._audio_format = fmt

    def video_format(self, fmt: VideoFormat) -> None:
        recorder = self._video.get(fmt.kind)
        if recorder is not None and fmt.codec != recorder.format.codec:
            self._warn_once(
                f"{fmt.kind.key}-format", "%s codec changed mid-stream; keeping the first", fmt.kind.key
            )
            return
        self._video_formats[fmt.kind] = fmt

    def audio(self, content: MediaContent) -> None:
        audio = self._audio
        if audio is not None and self._state is _State.OPEN:  # every frame but the first
            audio.write(content)
        elif self._accepting():
            if audio is None:
                audio = self._audio = audio_recorder(self.directory, self._audio_format)
            audio.write(content)

    def mixed_pcm_tap(self) -> MixedPcmTap | None:
        """The short path for this stream's audio frames, once its recorder writes the mixed
        L16 stream to ``audio.wav`` (``None`` before, and for any other audio)."""
        audio = self._audio
        if type(audio) is not PcmRecorder or audio.format.per_participant:
            return None
        return MixedPcmTap(self, audio)

    def video(self, kind: MediaType, content: MediaContent) -> None:
        if self._accepting():
            recorder = self._video.get(kind)
            if recorder is None:
                fmt = self._video_formats.get(kind)
                if fmt is None:
                    raise ValueError(f"not a video kind: {kind!r}")
                recorder = self._video[kind] = VideoRecorder(self.directory, fmt)
            recorder.write(content)

    def transcript(self, content: TranscriptContent, user_name: str | None) -> None:
        if not self._accepting():
            return
        if user_name is None and not isinstance(content.user_name, UnsetType):
            user_name = content.user_name
        line = {
            "user_id": _set(content.user_id),
            "user_name": user_name,
            "start_time": _set(content.start_time),
            "end_time": _set(content.end_time),
            "timestamp": _set(content.timestamp),
            "language": _set(content.language),
            "attribute": _set(content.attribute),
            "text": content.data,
        }
        self._append(TRANSCRIPT_FILE, _encoder.encode(line))
        if self._vtt is None:
            self._vtt = WebVttWriter(self.directory / TRANSCRIPT_VTT_FILE)
        self._vtt.add(content, user_name)
        self.transcript_lines += 1

    def chat(self, content: ChatContent) -> None:
        if self._accepting():
            line = {
                "user_id": _set(content.user_id),
                "user_name": _set(content.user_name),
                "timestamp": _set(content.timestamp),
                "text": content.data,
            }
            self._append(CHAT_FILE, _encoder.encode(line))
            self.chat_messages += 1

    def event(self, event: Event) -> None:
        if self._accepting():
            self._append(EVENTS_FILE, _encoder.encode(event))
            self.events += 1

    async def flush(self) -> None:
        """Hand buffered audio to the OS (text lines and H264 are flushed as written)."""
        self.flush_now()

    def flush_now(self) -> None:
        """What :meth:`flush` does, without a coroutine (it never waits)."""
        if self._state is _State.OPEN and self._audio is not None:
            self._audio.flush()

    async def close(self) -> None:
        """Write out the held-back mix, finish the WAV headers, close every file. Idempotent;
        failures are logged, never raised, so that the summary can still be written."""
        if self._state is not _State.OPEN:
            return
        self._state = _State.CLOSED
        for close in self._closers():
            try:
                close()
            except SinkError as exc:
                logger.error("stream %s: %s", self.stream_id, exc)

    async def revoke(self) -> None:
        """STREAM_REVOKED (stop reason 8): close every file and delete the stream directory
        with everything in it. Idempotent. Raises :class:`SinkError` if it cannot be deleted."""
        if self._state is not _State.REVOKED:
            self._state = _State.REVOKED
            for close in self._closers(final=False):
                with contextlib.suppress(SinkError):  # the file is being deleted anyway
                    close()
        if self.info is None or self._deleted:
            return
        directory = self.info.directory
        count = sum(1 for p in directory.rglob("*") if p.is_file()) if directory.exists() else 0
        try:
            shutil.rmtree(directory)
        except FileNotFoundError:
            pass
        except OSError as exc:  # a second revoke() tries again
            raise file_error(directory, exc, doing="delete") from None
        self._deleted = True
        logger.warning(
            "stream %s: STREAM_REVOKED (stop reason 8): deleted %d files in %s",
            self.stream_id,
            count,
            directory,
        )

    # --- stream.json -----------------------------------------------------------------------

    def write_summary(self, summary: Mapping[str, Any]) -> Path:
        """Write ``stream.json`` atomically (a reader never sees half a file). Raises
        :class:`SinkError`, also when the stream was revoked (nothing may be kept)."""
        if self.revoked:
            raise SinkError(
                f"stream {self.stream_id} was revoked; no summary is kept", path=str(self.directory)
            )
        path = self.directory / SUMMARY_FILE
        write_atomically(path, (json.dumps(dict(summary), indent=2) + "\n").encode("utf-8"))
        return path

    # --- internals -------------------------------------------------------------------------

    def _accepting(self) -> bool:
        if self._state is _State.OPEN:
            return True
        if self._state is _State.NEW:
            raise RuntimeError("FileSink used before open()")
        self.ignored += 1
        return False

    def _append(self, name: str, line: bytes) -> None:
        file = self._lines.get(name)
        if file is None:
            file = self._lines[name] = AppendFile(self.directory / name)
        file.append(line + b"\n")

    def _closers(self, *, final: bool = True) -> list[Callable[[], None]]:
        """Every close, the audio first (it writes out the held-back mix when ``final``)."""
        closers: list[Callable[[], None]] = []
        if self._audio is not None:
            closers.append(self._audio.close if final else self._audio.abandon)
        closers += [r.close for r in self._video.values()]
        closers += [f.close for f in self._lines.values()]
        if self._vtt is not None:
            closers.append(self._vtt.close)
        return closers

    def _warn_once(self, key: str, message: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning("stream %s: " + message, self.stream_id, *args)
