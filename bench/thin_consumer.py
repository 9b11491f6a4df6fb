"""The least Python that does the SDK consumer's job, for bench/connector_vs_sdk.py
(``--systems thin``): how far a consumer written in Python can get below Zoom's SDK, measured
in the same run as the connector and the SDK.

It does what bench/sdk_consumer.py does in the SDK's callbacks, and nothing else: each
stream's audio frames are decoded (``connector.protocol``'s msgspec decoder, the connector's
own, which turns the base64 into bytes) and their PCM appended to ``<output>/<stream
id>/audio.raw`` through a buffered file; each transcript is written as one JSON line to
``transcript.jsonl`` and flushed. Keep-alives are answered. It has none of the connector's
work around the frames: no webhook, no stream state machine, no reconnects, no metrics, no
sink fan-out, no back-pressure, no ownership, no WAV header, no logs.

The sockets are bench/loadgen.py's: every socket of the process in one ``epoll`` set that the
asyncio loop watches, so one loop callback reads every socket that is ready; each socket reads
into its own buffer and cuts whole WebSocket frames in place. Joining is the loadgen's too
(signaling handshake, one media socket for audio and one for transcripts, in the SDK
consumer's audio format: L16, 16 kHz, mono, mixed, 20 ms). CLIENT_READY_ACK, which starts the
stream's media, goes out 0.2 s after the join command came (or once the sockets have shaken
hands, if later): the benchmark sends its joins a fixed spacing apart, so the streams' frame
phases spread over the 20 ms period as they do for the other consumers.

``--poll SECONDS`` runs it on connector/loop.py's paced event loop, polling at most once per
interval while frames keep coming (the latency bound the SDK's own 10 ms poll has); without
it, every frame is read as soon as it arrives.

Commands and answers are bench/sdk_consumer.py's (one per line on stdin; answers are JSON lines
on stdout prefixed with ``@@sdk``): ``join {payload}``, ``count``, ``quit``. A stream has
left once the simulator has closed all its sockets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadgen import Fleet, Socket, Stream
from sdk_consumer import Stream as Files
from sdk_consumer import answer

from connector.loop import new_event_loop
from connector.protocol import (
    ClientReadyAck,
    MediaDataAudio,
    MediaDataTranscript,
)
from connector.protocol.codec import DECODE_ERRORS, decode_or_raise

ACK_DELAY = 0.2  # seconds from a join command to its CLIENT_READY_ACK


class Output(Files):
    """One stream's files and counters (bench/sdk_consumer.py's), and its sockets."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.sockets: list[Socket] = []


class ThinFleet(Fleet):
    """bench/loadgen.py's fleet, decoding and writing its media instead of counting it."""

    def __init__(self, output: Path) -> None:
        super().__init__("http://127.0.0.1")  # never used: streams come as payloads
        self.output = output
        self.by_socket: dict[Socket, Output] = {}
        self.outputs: list[Output] = []

    def message(self, socket: Socket, buffer: bytearray, start: int, end: int) -> None:
        try:
            message = decode_or_raise(buffer[start:end])
        except DECODE_ERRORS as exc:
            self.errors.append(f"{socket.role}: {exc}")
            return
        kind = type(message)
        if kind is MediaDataAudio:
            out = self.by_socket[socket]
            out.audio_file.write(message.content.data)  # type: ignore[attr-defined]
            out.audio += 1
        elif kind is MediaDataTranscript:
            content = message.content  # type: ignore[attr-defined]
            self.by_socket[socket].add_transcript(
                {
                    "user_id": content.user_id,
                    "user_name": content.user_name,
                    "start_time": content.start_time,
                    "end_time": content.end_time,
                    "timestamp": content.timestamp,
                    "text": content.data,
                }
            )
        else:
            self.control(socket, message)

    def lost(self, socket: Socket) -> None:
        super().lost(socket)
        out = self.by_socket.get(socket)
        if out is not None and all(s.closed for s in out.sockets):
            out.left = True
            out.flush()

    async def join(self, payload: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        ack_at = loop.time() + ACK_DELAY
        out = Output(self.output / str(payload["rtms_stream_id"]))
        self.outputs.append(out)
        try:
            stream: Stream = await self.handshake(len(self.outputs), payload)
        except Exception as exc:  # counted as an error, as the SDK consumer counts a failed join
            self.errors.append(f"join: {exc!r}")
            out.left = True
            return
        out.sockets = list(stream.sockets)
        for s in stream.sockets:
            self.by_socket[s] = out
            if s.closed:
                self.lost(s)
        self.streams.append(stream)
        if (wait := ack_at - loop.time()) > 0:
            await asyncio.sleep(wait)
        stream.sockets[0].send(ClientReadyAck(rtms_stream_id=stream.stream_id))
        stream.ready = True

    def count(self) -> dict[str, int]:
        return {
            "audio": sum(o.audio for o in self.outputs),
            "transcript": sum(o.transcript for o in self.outputs),
            "joined": len(self.streams),
            "left": sum(o.left for o in self.outputs),
            "clients": len(self.outputs),
            "errors": len(self.errors),
        }


async def _main(output: Path) -> None:
    fleet = ThinFleet(output)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    joins: set[asyncio.Task[None]] = set()
    answer(ready=True)
    while line := await reader.readline():
        command, _, rest = line.decode().strip().partition(" ")
        if command == "join":
            task = asyncio.create_task(fleet.join(json.loads(rest)))
            joins.add(task)
            task.add_done_callback(joins.discard)
        elif command == "count":
            answer(**fleet.count())
        elif command == "quit":
            break
        elif command:
            answer(error=f"unknown command {command!r}")
    for out in fleet.outputs:
        out.flush()
    answer(**fleet.count(), final=True)
    await fleet.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, required=True, help="where each stream's files go")
    parser.add_argument("--poll", type=float, default=0.0, help="poll spacing while busy, seconds")
    args = parser.parse_args()
    loop = new_event_loop(args.poll)
    try:
        loop.run_until_complete(_main(args.output))
    finally:
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
