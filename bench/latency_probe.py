"""The reference connector as deployed (``rtms-connector``), with timing probes for the latency
benchmark: when each RTMS webhook was accepted and when each audio frame reached the sinks.

The probes wrap the entry points and change nothing else: the webhook receiver's handler
hand-off (the moment a verified ``rtms_started`` is dispatched), and the two ways an audio frame
reaches the sinks, the stream's sink fan-out (``StreamSinks.audio``) and the audio short path
(``StreamSession._audio_tapped``, which most mixed-audio frames take: docs/operations.md), each
stamped once the sinks took the frame. Each record is a
``time.time_ns()`` stamp; they are written to ``$RTMS_BENCH_TRACE`` as JSON when the process
exits (after SIGTERM's graceful shutdown). Arguments are the connector's own.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import time
from typing import Any

from connector import cli
from connector.protocol import MediaContent
from connector.receiver import WebhookReceiver
from connector.session import StreamSession
from connector.sinks import StreamSinks
from connector.sinks.files import MixedPcmTap

_accepted: dict[str, int] = {}  # stream id → first webhook dispatch
_frames: dict[str, list[tuple[int, int]]] = {}  # stream id → [(frame timestamp ms, sink ns)]

_run_handler = WebhookReceiver._run_handler
_audio = StreamSinks.audio
_audio_tapped = StreamSession._audio_tapped


async def _timed_handler(self: WebhookReceiver, event: Any) -> None:
    _accepted.setdefault(event.rtms_stream_id, time.time_ns())
    await _run_handler(self, event)


def _timed_audio(self: StreamSinks, content: MediaContent) -> None:
    _audio(self, content)
    stamp = time.time_ns()  # after the sink took it: the frame is "in the sink"
    _frames.setdefault(self.info.stream_id, []).append((int(content.timestamp or 0), stamp))


def _timed_tap(self: StreamSession, tap: MixedPcmTap, content: MediaContent) -> None:
    _audio_tapped(self, tap, content)
    stamp = time.time_ns()
    _frames.setdefault(self.stream_id, []).append((int(content.timestamp or 0), stamp))


def _dump() -> None:
    path = os.environ.get("RTMS_BENCH_TRACE")
    if path:
        with open(path, "w") as f:
            json.dump({"accepted": _accepted, "frames": _frames}, f)


WebhookReceiver._run_handler = _timed_handler  # type: ignore[method-assign]
StreamSinks.audio = _timed_audio  # type: ignore[method-assign]
StreamSession._audio_tapped = _timed_tap  # type: ignore[method-assign]
atexit.register(_dump)

if __name__ == "__main__":
    sys.exit(cli.main())
