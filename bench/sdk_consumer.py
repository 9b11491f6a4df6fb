"""Zoom's official SDK (``rtms`` 1.1.0) as a consumer of many streams, for the connector
benchmark: the same job as the connector's file sink, done in the SDK's callbacks.

One explicit :class:`rtms.EventLoop` on a thread of its own carries every client (the
zero-config mode segfaults with a second client). Each stream's audio callback appends the
frame's bytes to ``<output>/<stream id>/audio.raw`` through a buffered file; the transcript
callback appends one JSON line to ``transcript.jsonl`` and flushes it, as the connector does.
Audio is asked for in the connector's format: L16, 16 kHz, mono, the mixed stream, 20 ms.

Run it in a scratch working directory (the SDK writes ``logs/`` there). Commands, one per line
on stdin; every answer is one JSON line on stdout prefixed with ``@@sdk``:

* ``join {...}``: join a stream; the object is the ``rtms_started`` payload (``meeting_uuid``,
  ``rtms_stream_id``, ``server_urls`` ...). The app's credentials come from ``ZM_RTMS_CLIENT``
  and ``ZM_RTMS_SECRET``.
* ``count``: ``{"audio": frames, "transcript": lines, "joined": n, "left": n, "clients": n}``.
* ``quit``: flush every file, answer with the final count, and leave the process (the SDK's
  native core asserts when torn down off its own thread, so without running destructors).

The first line, once the loop runs, is ``@@sdk {"ready": true}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from pathlib import Path
from typing import IO, Any

MARK = "@@sdk "
# What the connector asks for by default (docs/protocol.md §4.3): L16, 16 kHz, mono, the mixed
# stream, 20 ms frames. The SDK's own default is per-speaker Opus, a different workload.
L16_MIXED = {
    "content_type": 2,  # RAW_AUDIO
    "codec": 1,  # L16
    "sample_rate": 1,  # SR_16K
    "channel": 1,  # MONO
    "data_opt": 1,  # AUDIO_MIXED_STREAM
    "duration": 20,
    "frame_size": 320,
}


def answer(**fields: Any) -> None:
    sys.stdout.write(MARK + json.dumps(fields) + "\n")
    sys.stdout.flush()


class Stream:
    """One stream's output files and counters; the callbacks run on the SDK's loop thread."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.audio_file: IO[bytes] = open(directory / "audio.raw", "wb")  # noqa: SIM115 - kept open
        self.transcript_file: IO[bytes] | None = None
        self.audio = 0
        self.transcript = 0
        self.joined = False
        self.left = False

    def on_audio(self, data: bytes, size: int, timestamp: int, meta: Any) -> None:
        self.audio_file.write(data)
        self.audio += 1

    def on_transcript(self, data: bytes, size: int, timestamp: int, meta: Any) -> None:
        self.add_transcript(
            {
                "user_id": meta.userId,
                "user_name": meta.userName,
                "start_time": meta.startTs,
                "end_time": meta.endTs,
                "timestamp": timestamp,
                "text": data.decode("utf-8", "replace"),
            }
        )

    def add_transcript(self, line: dict[str, Any]) -> None:
        """One transcript line, appended and flushed."""
        if self.transcript_file is None:
            self.transcript_file = open(self.directory / "transcript.jsonl", "ab")  # noqa: SIM115
        self.transcript_file.write(json.dumps(line).encode() + b"\n")
        self.transcript_file.flush()
        self.transcript += 1

    def on_join(self, reason: int) -> None:
        self.joined = reason == 0

    def on_leave(self, reason: int) -> None:
        self.left = True

    def flush(self) -> None:
        self.audio_file.flush()
        if self.transcript_file is not None:
            self.transcript_file.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, required=True, help="where each stream's files go")
    parser.add_argument("--poll", type=float, default=0.01, help="the loop's poll interval (SDK default)")
    args = parser.parse_args()
    os.makedirs("logs", exist_ok=True)  # the native core logs to ./logs/
    import rtms

    loop = rtms.EventLoop(poll_interval=args.poll)
    thread = threading.Thread(target=loop.run, daemon=True, name="rtms-loop")
    thread.start()
    streams: list[Stream] = []
    clients: list[Any] = []  # keep every client alive
    credentials = {"client": os.environ["ZM_RTMS_CLIENT"], "secret": os.environ["ZM_RTMS_SECRET"]}

    def count() -> dict[str, int]:
        return {
            "audio": sum(s.audio for s in streams),
            "transcript": sum(s.transcript for s in streams),
            "joined": sum(s.joined for s in streams),
            "left": sum(s.left for s in streams),
            "clients": len(clients),
        }

    answer(ready=True)
    for raw in sys.stdin:
        command, _, rest = raw.strip().partition(" ")
        if command == "join":
            payload = json.loads(rest)
            stream = Stream(args.output / payload["rtms_stream_id"])
            client = rtms.Client()
            client.on_join_confirm(stream.on_join)
            client.on_leave(stream.on_leave)
            client.on_audio_data(stream.on_audio)
            client.on_transcript_data(stream.on_transcript)
            client.set_audio_params(rtms.AudioParams(**L16_MIXED))
            loop.add(client)
            client.join({**payload, **credentials})
            streams.append(stream)
            clients.append(client)
        elif command == "count":
            answer(**count())
        elif command == "quit":
            break
        elif command:
            answer(error=f"unknown command {command!r}")
    loop.stop()
    for stream in streams:
        stream.flush()
    answer(**count(), final=True)
    os._exit(0)


if __name__ == "__main__":
    main()
