"""The sink interface: where the media of one stream goes (docs/protocol.md §4.6, §4.12, §5.3).

A :class:`Sink` receives everything one stream delivers, already decoded: audio, video and
screen-share frames, transcript lines, chat messages and EVENT_UPDATE events. The connector
ships two (:class:`~connector.sinks.files.FileSink`, always first, and
:class:`~connector.sinks.redis_stream.RedisStreamSink`); :class:`~connector.sinks.StreamSinks`
fans one stream out to several.

The per-item methods are synchronous and must be cheap: they run on the event loop between
two reads of the stream's queue. A sink that talks to the network buffers in memory there and
sends in :meth:`Sink.flush`, which the drain task awaits after each batch.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ..protocol import ChatContent, Codec, Event, MediaContent, MediaType, TranscriptContent

__all__ = ["AudioFormat", "Sink", "StreamInfo", "VideoFormat"]

logger = logging.getLogger("connector.sinks")


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """The stream a sink serves. ``directory`` is the stream's own output directory (already
    created); ``fence`` is the fencing token of the ownership lease this instance holds for the
    stream, ``None`` when the connector runs without ownership."""

    stream_id: str
    instance_id: str
    product: str
    directory: Path
    fence: int | None


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """The negotiated audio format (DATA_HAND_SHAKE_RESP echo, §4.4, §5.7).

    ``sample_rate`` in Hz; ``codec`` a :class:`~connector.protocol.Codec` value;
    ``per_participant`` is ``data_opt`` 2 AUDIO_MULTI_STREAMS: one stream per speaker, each
    frame naming its ``user_id`` (0 or absent for the mixed stream).
    """

    sample_rate: int
    channels: int
    codec: int = int(Codec.L16)
    per_participant: bool = False


@dataclass(frozen=True, slots=True)
class VideoFormat:
    """The negotiated format of camera video or screen share (§4.3, §5.7).

    ``kind`` is :attr:`MediaType.VIDEO` or :attr:`MediaType.DESKSHARE`; ``codec`` JPG, PNG or
    H264 (:class:`~connector.protocol.Codec`); ``resolution`` a
    :class:`~connector.protocol.Resolution` value.
    """

    kind: MediaType
    codec: int
    fps: int
    resolution: int


class Sink(ABC):
    """One destination of a stream's media. One instance serves one stream, on one task.

    Call order: :meth:`open` once, then the format and per-item methods in arrival order
    interleaved with :meth:`flush`, then :meth:`close` or :meth:`revoke`. Per-item methods may
    raise :class:`~connector.errors.SinkError`; :meth:`close` never raises.

    :meth:`revoke` is the only abstract method: stop reason 8 STREAM_REVOKED means every asset
    captured for the stream must be deleted at once (§5.3, §9.2), and every sink has to say
    how it does that (a sink that keeps nothing implements it as a no-op).
    """

    name: ClassVar[str] = "sink"

    def open(self, info: StreamInfo) -> None:  # noqa: B027 - a sink implements only what it needs
        """The stream starts; nothing has been delivered yet."""

    def audio_format(self, fmt: AudioFormat) -> None:  # noqa: B027 - a sink implements only what it needs
        """The audio format, before the first audio frame (again after a reconnect)."""

    def video_format(self, fmt: VideoFormat) -> None:  # noqa: B027 - a sink implements only what it needs
        """The format of ``fmt.kind``, before its first frame (again after a reconnect)."""

    def audio(self, content: MediaContent) -> None:  # noqa: B027 - a sink implements only what it needs
        """One MEDIA_DATA_AUDIO (14) frame."""

    def video(self, kind: MediaType, content: MediaContent) -> None:  # noqa: B027 - a sink implements only what it needs
        """One MEDIA_DATA_VIDEO (15, ``kind`` VIDEO) or MEDIA_DATA_SHARE (16, ``kind`` DESKSHARE) frame."""

    def transcript(self, content: TranscriptContent, user_name: str | None) -> None:  # noqa: B027 - a sink implements only what it needs
        """One MEDIA_DATA_TRANSCRIPT (17) line; ``user_name`` is the roster's name when Zoom
        left it out (None when unknown)."""

    def chat(self, content: ChatContent) -> None:  # noqa: B027 - a sink implements only what it needs
        """One MEDIA_DATA_CHAT (18) message."""

    def event(self, event: Event) -> None:  # noqa: B027 - a sink implements only what it needs
        """The ``event`` object of one EVENT_UPDATE (6), as received."""

    async def flush(self) -> None:  # noqa: B027 - a sink implements only what it needs
        """Push out what the per-item methods buffered; awaited after each batch."""

    async def close(self) -> None:
        """Flush and finalize. Idempotent; never raises (a failure is logged)."""
        try:
            await self.flush()
        except Exception as exc:
            logger.error("sink %s: final flush failed: %s", self.name, exc)

    @abstractmethod
    async def revoke(self) -> None:
        """STREAM_REVOKED: delete everything this sink stored for the stream, now. Idempotent.
        Raises :class:`~connector.errors.SinkError` when something could not be deleted."""

    def stats(self) -> dict[str, int | float]:
        """Counters for the summary and metrics; names are the sink's own."""
        return {}
