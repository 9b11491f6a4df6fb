"""Where a stream's media goes: the sink interface, the file and Redis sinks, the fan-out the
session uses, and the repair of files a killed process left (docs/sinks.md)."""

from __future__ import annotations

from .base import AudioFormat, Sink, StreamInfo, VideoFormat
from .fanout import StreamSinks
from .files import CHAT_FILE, EVENTS_FILE, SUMMARY_FILE, TRANSCRIPT_FILE, TRANSCRIPT_VTT_FILE, FileSink
from .naming import safe_name
from .redis_stream import RedisStreamSink
from .repair import RepairReport, repair_outputs

__all__ = [
    "CHAT_FILE",
    "EVENTS_FILE",
    "SUMMARY_FILE",
    "TRANSCRIPT_FILE",
    "TRANSCRIPT_VTT_FILE",
    "AudioFormat",
    "FileSink",
    "RedisStreamSink",
    "RepairReport",
    "Sink",
    "StreamInfo",
    "StreamSinks",
    "VideoFormat",
    "repair_outputs",
    "safe_name",
]
