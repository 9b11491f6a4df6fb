"""``transcript.vtt``: the transcript as WebVTT cues, appended as lines arrive (§4.12).

Cue times are relative to the first transcript line: its ``start_time``, or its
``timestamp`` when Zoom sent no start. A line with ``start_time``/``end_time`` becomes a cue
over that span; one without them a one-second cue at its ``timestamp``. The speaker is a
voice tag (``<v John Smith>``).
"""

from __future__ import annotations

import re
from pathlib import Path

from msgspec import UnsetType

from ..protocol import TranscriptContent
from .fs import AppendFile

__all__ = ["WEBVTT_HEADER", "WebVttWriter", "cue_time"]

WEBVTT_HEADER = b"WEBVTT\n\n"
DEFAULT_CUE_MS = 1000
_BLANK_LINES = re.compile(r"\s*\n\s*")


def cue_time(ms: int) -> str:
    """``HH:MM:SS.mmm`` (hours grow past two digits when needed)."""
    ms = max(ms, 0)
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _escape(text: str) -> str:
    # "&", "<" and ">" are markup in a cue; escaping ">" also rules out "-->" in the text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _set(value: int | UnsetType) -> int | None:
    return None if isinstance(value, UnsetType) else value


class WebVttWriter:
    """One ``.vtt`` file, created (with its ``WEBVTT`` header) on the first cue. Each cue is
    one write: a killed process leaves whole cues. Raises :class:`~connector.errors.SinkError`."""

    def __init__(self, path: Path) -> None:
        self.file = AppendFile(path, header=WEBVTT_HEADER)
        self.cues = 0
        self._origin: int | None = None

    def add(self, content: TranscriptContent, user_name: str | None) -> bool:
        """Append the cue for one transcript line; False when it has no text or no time."""
        text = _BLANK_LINES.sub("\n", content.data.strip())
        start, end, stamp = _set(content.start_time), _set(content.end_time), _set(content.timestamp)
        begin = start if start is not None else stamp
        if not text or begin is None:
            return False
        if self._origin is None:
            self._origin = begin
        if end is None or end <= begin:
            end = begin + DEFAULT_CUE_MS
        voice = f"<v {_escape(user_name)}>" if user_name else ""
        cue = (
            f"{cue_time(begin - self._origin)} --> {cue_time(end - self._origin)}\n{voice}{_escape(text)}\n\n"
        )
        self.file.append(cue.encode("utf-8"))
        self.cues += 1
        return True

    def close(self) -> None:
        self.file.close()
