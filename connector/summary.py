"""What one stream produced and how it ended: the content of ``stream.json``.

Stop reasons and status codes are given as numbers and Zoom's names
(``STOP_BC_MEETING_ENDED``, ``STATUS_INVALID_SIGNATURE``; docs/protocol.md §5.2, §5.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .guidance import headline
from .participants import Roster
from .protocol import RtmsEvent, StatusTable, StopReason
from .sinks import SUMMARY_FILE, StreamSinks
from .stream import Outcome

__all__ = ["StreamSummary", "stop_reason_name"]


def stop_reason_name(code: int) -> str:
    """Zoom's name of a stop reason, ``STOP_BC_<code>`` when unknown."""
    try:
        return StopReason(code).zoom_name
    except ValueError:
        return f"STOP_BC_{code}"


@dataclass(frozen=True, kw_only=True)
class StreamSummary:
    """One finished stream. ``as_json()`` is exactly what ``stream.json`` holds.

    ``audio_frames`` counts samples per channel of the stream's audio (the length of
    ``audio.wav``), ``audio_messages`` the MEDIA_DATA_AUDIO messages they came in.
    ``end_cause`` is an :class:`~connector.stream.EndCause` value; ``detail`` says the same in
    words. ``dropped`` counts, per kind, the items the stream's queue dropped because the sinks
    fell behind; ``sink_errors`` the failures of extra sinks (Redis …); ``reconnects`` the
    times the connection was re-established; ``fence`` the fencing token of the ownership
    lease the stream ran under (``None`` without ownership).
    """

    rtms_stream_id: str
    instance_id: str
    product: str
    directory: str
    started_ms: int
    ended_ms: int
    end_cause: str
    detail: str
    stop_reason: int | None
    stop_reason_name: str | None
    status_code: int | None
    status_name: str | None
    guidance: str | None
    sample_rate: int
    channels: int
    seconds_of_audio: float
    audio_frames: int
    audio_messages: int
    transcript_lines: int
    chat_messages: int
    video_frames: int
    deskshare_frames: int
    events: int
    dropped: dict[str, int] = field(default_factory=dict)
    sink_errors: int = 0
    reconnects: int = 0
    fence: int | None = None
    participants: list[dict[str, object]]
    files: list[str]

    @classmethod
    def build(
        cls,
        *,
        event: RtmsEvent,
        outcome: Outcome,
        sinks: StreamSinks,
        roster: Roster,
        started_ms: int,
        ended_ms: int,
        dropped: Mapping[str, int] | None = None,
        reconnects: int = 0,
        fence: int | None = None,
    ) -> StreamSummary:
        stop, status = outcome.stop_reason, outcome.status_code
        return cls(
            rtms_stream_id=event.rtms_stream_id,
            instance_id=event.instance_id,
            product=event.product.value,
            directory=str(sinks.directory),
            started_ms=started_ms,
            ended_ms=ended_ms,
            end_cause=outcome.cause.value,
            detail=outcome.detail,
            stop_reason=stop,
            stop_reason_name=None if stop is None else stop_reason_name(stop),
            status_code=status,
            status_name=None if status is None else StatusTable.CURRENT.name_of(status),
            guidance=_guidance(stop, status),
            sample_rate=sinks.sample_rate,
            channels=sinks.channels,
            seconds_of_audio=round(sinks.seconds_of_audio, 3),
            audio_frames=sinks.audio_frames,
            audio_messages=sinks.audio_messages,
            transcript_lines=sinks.transcript_lines,
            chat_messages=sinks.chat_messages,
            video_frames=sinks.video_frames,
            deskshare_frames=sinks.deskshare_frames,
            events=sinks.events,
            dropped={kind: count for kind, count in sorted((dropped or {}).items()) if count},
            sink_errors=sinks.sink_errors,
            reconnects=reconnects,
            fence=fence,
            participants=[p.as_json() for p in roster.everyone],
            files=[*sinks.files, SUMMARY_FILE],
        )

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def one_line(self) -> str:
        """The log line printed when a stream ends."""
        why = self.stop_reason_name or self.status_name or "-"
        dropped = sum(self.dropped.values())
        extras = "".join(
            f", {n} {what}"
            for n, what in (
                (self.video_frames, "video frames"),
                (self.deskshare_frames, "share frames"),
                (self.chat_messages, "chat messages"),
                (dropped, "dropped"),
                (self.reconnects, "reconnects"),
                (self.sink_errors, "sink errors"),
            )
            if n
        )
        return (
            f"stream {self.rtms_stream_id} ended: {self.end_cause} ({why}); "
            f"{self.seconds_of_audio:.1f} s audio, {self.transcript_lines} transcript lines{extras}, "
            f"{len(self.participants)} participants, {self.ended_ms - self.started_ms} ms; "
            f"{self.directory} — {self.detail}"
        )


def _guidance(stop_reason: int | None, status_code: int | None) -> str | None:
    """What to do about how the stream ended, in one sentence (docs/guidance.md)."""
    if stop_reason is not None:
        return headline(stop_reason, kind="stop_reason")
    if status_code is not None:
        return headline(status_code, kind="status")
    return None
