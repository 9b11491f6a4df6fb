"""One stream's sinks behind one object: the file sink first, then any extra sinks.

The session talks to a :class:`StreamSinks` only. The file sink is the stream's record: its
:class:`~connector.errors.SinkError` propagates (the stream cannot capture). An extra sink
(Redis, or one of your own) must not take the stream down: its errors are logged once per
sink, counted in ``stats()["sink_errors"]``, and the other sinks carry on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import SinkError
from ..protocol import ChatContent, Event, MediaContent, MediaType, TranscriptContent
from .base import AudioFormat, Sink, StreamInfo, VideoFormat
from .files import FileSink, MixedPcmTap
from .naming import stream_directory

__all__ = ["StreamSinks"]

logger = logging.getLogger("connector.sinks")


class StreamSinks:
    """The sinks of one stream, called like one :class:`~connector.sinks.base.Sink`."""

    def __init__(self, info: StreamInfo, file_sink: FileSink, extra: Sequence[Sink] = ()) -> None:
        self.info = info
        self.file_sink = file_sink
        self.extra = tuple(extra)
        self.sink_errors = 0
        self._failed: set[int] = set()  # id() of extra sinks whose failure was logged

    @classmethod
    def create(
        cls,
        output_dir: Path,
        *,
        stream_id: str,
        instance_id: str,
        product: str,
        fence: int | None = None,
        extra: Sequence[Sink] = (),
    ) -> StreamSinks:
        """Make a fresh directory for the stream (``<safe id>``, then ``-1``, ``-2`` … for
        later runs), open the file sink in it, then each of ``extra``. Raises
        :class:`SinkError` when the directory cannot be created."""
        directory = stream_directory(output_dir, stream_id)
        info = StreamInfo(stream_id, instance_id, product, directory, fence)
        file_sink = FileSink()
        file_sink.open(info)
        sinks = cls(info, file_sink, extra)
        for sink in sinks.extra:
            sinks._each(sink, "open", lambda s: s.open(info))
        return sinks

    # --- what the summary reads ------------------------------------------------------------

    @property
    def directory(self) -> Path:
        return self.info.directory

    @property
    def files(self) -> list[str]:
        """Media files written (relative paths, stable order, ``stream.json`` excluded)."""
        return self.file_sink.files

    @property
    def revoked(self) -> bool:
        return self.file_sink.revoked

    @property
    def sample_rate(self) -> int:
        return self.file_sink.sample_rate

    @property
    def channels(self) -> int:
        return self.file_sink.channels

    @property
    def audio_frames(self) -> int:
        """Samples per channel of the stream's audio (the length of ``audio.wav``)."""
        return self.file_sink.audio_frames

    @property
    def audio_messages(self) -> int:
        return self.file_sink.audio_messages

    @property
    def seconds_of_audio(self) -> float:
        return self.file_sink.seconds_of_audio

    @property
    def transcript_lines(self) -> int:
        return self.file_sink.transcript_lines

    @property
    def chat_messages(self) -> int:
        return self.file_sink.chat_messages

    @property
    def video_frames(self) -> int:
        return self.file_sink.video_frames

    @property
    def deskshare_frames(self) -> int:
        return self.file_sink.deskshare_frames

    @property
    def events(self) -> int:
        return self.file_sink.events

    def stats(self) -> dict[str, int | float]:
        """The file sink's counters, ``sink_errors``, and each extra sink's counters as
        ``<sink name>.<counter>``."""
        counters: dict[str, int | float] = {**self.file_sink.stats(), "sink_errors": self.sink_errors}
        names: set[str] = set()
        for n, sink in enumerate(self.extra):
            name = sink.name if sink.name not in names else f"{sink.name}{n}"
            names.add(name)
            try:
                extra = sink.stats()
            except Exception as exc:
                self._error(sink, "stats", exc)
                continue
            counters.update({f"{name}.{key}": value for key, value in extra.items()})
        return counters

    # --- the Sink calls, fanned out --------------------------------------------------------

    def audio_format(self, fmt: AudioFormat) -> None:
        self.file_sink.audio_format(fmt)
        self._extras("audio_format", lambda s: s.audio_format(fmt))

    def video_format(self, fmt: VideoFormat) -> None:
        self.file_sink.video_format(fmt)
        self._extras("video_format", lambda s: s.video_format(fmt))

    # Per item: the extras' call is only built when there are extra sinks.

    def audio(self, content: MediaContent) -> None:
        self.file_sink.audio(content)
        if self.extra:
            self._extras("audio", lambda s: s.audio(content))

    def mixed_pcm_tap(self) -> MixedPcmTap | None:
        """The file sink's short path for audio frames (:meth:`FileSink.mixed_pcm_tap`), when
        the file sink is the only sink (``None`` with extra sinks)."""
        return None if self.extra else self.file_sink.mixed_pcm_tap()

    def video(self, kind: MediaType, content: MediaContent) -> None:
        self.file_sink.video(kind, content)
        if self.extra:
            self._extras("video", lambda s: s.video(kind, content))

    def transcript(self, content: TranscriptContent, user_name: str | None) -> None:
        self.file_sink.transcript(content, user_name)
        if self.extra:
            self._extras("transcript", lambda s: s.transcript(content, user_name))

    def chat(self, content: ChatContent) -> None:
        self.file_sink.chat(content)
        if self.extra:
            self._extras("chat", lambda s: s.chat(content))

    def event(self, event: Event) -> None:
        self.file_sink.event(event)
        if self.extra:
            self._extras("event", lambda s: s.event(event))

    async def flush(self) -> None:
        """Flush every sink, the file sink first (its :class:`SinkError` propagates)."""
        self.flush_files()
        await self.flush_extras()

    def flush_files(self) -> None:
        """The file sink's part of :meth:`flush`, which never waits."""
        self.file_sink.flush_now()

    async def flush_extras(self) -> None:
        """The extra sinks' part of :meth:`flush` (their errors are counted, not raised)."""
        if self.extra:
            await self._extras_async("flush", lambda s: s.flush())

    async def close(self) -> None:
        """Close every sink; never raises."""
        await self.file_sink.close()
        await self._extras_async("close", lambda s: s.close())  # one that raises anyway is counted

    async def revoke(self) -> None:
        """STREAM_REVOKED: every sink deletes what it stored. Each is asked even when another
        fails; a failure of an extra sink is logged every time (assets may remain), and the
        file sink's :class:`SinkError`, if any, is raised at the end."""
        failure: SinkError | None = None
        try:
            await self.file_sink.revoke()
        except SinkError as exc:
            failure = exc
        for sink in self.extra:
            try:
                await sink.revoke()
            except Exception as exc:
                self.sink_errors += 1
                logger.error(
                    "stream %s: sink %s could not delete its data: %s", self.info.stream_id, sink.name, exc
                )
        if failure is not None:
            raise failure

    def write_summary(self, summary: Mapping[str, Any]) -> Path:
        """Write ``stream.json`` (see :meth:`FileSink.write_summary`)."""
        return self.file_sink.write_summary(summary)

    # --- errors of extra sinks -------------------------------------------------------------

    def _extras(self, what: str, call: Callable[[Sink], None]) -> None:
        for sink in self.extra:
            self._each(sink, what, call)

    async def _extras_async(self, what: str, call: Callable[[Sink], Awaitable[None]]) -> None:
        for sink in self.extra:
            try:
                await call(sink)
            except Exception as exc:
                self._error(sink, what, exc)

    def _each(self, sink: Sink, what: str, call: Callable[[Sink], None]) -> None:
        try:
            call(sink)
        except Exception as exc:
            self._error(sink, what, exc)

    def _error(self, sink: Sink, what: str, exc: Exception) -> None:
        self.sink_errors += 1
        if id(sink) in self._failed:
            return
        self._failed.add(id(sink))
        stream = self.info.stream_id
        if isinstance(exc, SinkError):
            logger.error(
                "stream %s: sink %s: %s failed: %s (further failures are only counted)",
                stream,
                sink.name,
                what,
                exc,
            )
        else:  # a bug in the sink: keep the traceback for its author
            logger.exception(
                "stream %s: sink %s: %s raised (further failures are only counted)", stream, sink.name, what
            )
