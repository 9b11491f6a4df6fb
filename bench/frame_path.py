"""The Python work per audio frame, from its bytes off the socket to its file, in one process
and without sockets or an event loop: the connector's path against bench/thin_consumer.py's,
on the same frames.

What the live benchmark (bench/connector_vs_sdk.py) measures per frame is this work plus the
work around it (the ``recv()``, the wake-ups, the event loop's dispatch). Here the path alone
is timed, so a change to it shows without the live run's 10-30 % drift between runs.

* **connector**: real :class:`~connector.session.StreamSession` objects, one per stream, each
  with its real client (handshakes answered, so its audio socket is streaming), its real
  file sinks writing ``audio.wav`` under a scratch directory, its metrics and its drains;
  each stream's :class:`~connector.websocket.RtmsWebSocket` cuts the frames and hands them to
  the session's reader, exactly as on the live path after ``recv_into``
  (``RtmsWebSocket._frames``). The sinks are flushed every 5 frames of each stream (the
  connector flushes every ``flush_interval``, 0.1 s: 5 frames of 20 ms).
* **thin**: bench/thin_consumer.py's message handling: cut from the socket's buffer, decoded
  with the connector's msgspec decoder, PCM appended to a buffered file.

The files go to ``/dev/shm`` where it exists (a tmpfs), so that the disk's writeback of what
the runs write does not take part. The frames are the simulator's own
(``simulator.stream._mixed_audio``: 20 ms of L16 16 kHz mono, the mixed stream, as compact
JSON in a text frame), one frame per read, streams taken in turn. CPU time
(``time.process_time``) over ``--frames`` frames per run; ``--repeat`` runs of each path,
alternated; the median is reported.

Each run is followed by one with cold caches, over a tenth of the frames: before each round
of the streams (one frame each) 64 MiB are copied, so that every object a frame touches is
fetched from memory again, as in the live process, which sleeps between its polls (and whose
CPU may run other work meanwhile). The live cost per frame is several times the hot loop's,
and with cold caches what a frame costs depends more on how many distinct objects it touches
than on how many instructions it runs.

``--ablate`` also times the connector's path with parts of it taken away one after the other
(the frame cut alone; with the decode; with the client's state check; with the session's
dispatch of the frame and its metric; with the WAV file's own write instead of the sinks;
with the sinks and the flush bookkeeping), to show
where its cost is: those are not connectors, and their frames do not all reach a file.
``--profile`` prints cProfile's view of one connector run.

    python bench/frame_path.py [--streams 100] [--frames 50000] [--repeat 5] [--ablate] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import write_result
from websockets.frames import Frame, Opcode

from connector.backpressure import Drains
from connector.config import ConnectorConfig
from connector.protocol import (
    AudioParams,
    DataHandshakeResp,
    MediaParams,
    MediaServer,
    MediaType,
    SignalingHandshakeResp,
)
from connector.protocol.codec import DECODE_ERRORS, decode_or_raise
from connector.protocol.webhook import Product, RtmsEvent, RtmsEventKind
from connector.session import _KEYS, StreamSession, _Reader
from connector.sinks.fanout import StreamSinks
from connector.stream import Media, Open, Send
from connector.websocket import RtmsWebSocket
from simulator.clock import ManualClock
from simulator.stream import _mixed_audio

FLUSH_EVERY = 5  # frames of a stream between flushes: 0.1 s of 20 ms frames


def wire_frames(count: int) -> list[bytes]:
    """``count`` different audio frames as the simulator sends them: WebSocket text frames."""
    rng = random.Random(0)
    frames = []
    for i in range(count):
        pcm = rng.randbytes(640)
        head, tail = _mixed_audio(pcm)
        payload = head + b"%d" % (1_763_000_000_000 + 20 * i) + tail
        frames.append(Frame(Opcode.TEXT, payload).serialize(mask=False))
    return frames


def _event(n: int) -> RtmsEvent:
    return RtmsEvent(
        product=Product.MEETING,
        kind=RtmsEventKind.STARTED,
        instance_id=f"inst-{n}==",
        rtms_stream_id=f"stream{n:06d}",
        server_urls="ws://127.0.0.1:1/signal",
    )


Path_ = tuple[list[Callable[[memoryview], None]], Callable[[], None], Callable[[], int]]


def connector_streams(out: Path, streams: int) -> Path_:
    """One fed-bytes callable per stream (its audio socket's frame cutter), the flush, and
    the count of frames the sinks took."""
    config = ConnectorConfig(
        client_id="c",
        client_secret="s",
        webhook_secret="w",
        port=0,
        output_dir=out,
        media_types=(MediaType.AUDIO,),
    )
    drains = Drains(ManualClock(), config.flush_interval)  # never advanced: the benchmark flushes
    feeds = []
    sessions = []
    for n in range(streams):
        event = _event(n)
        sinks = StreamSinks.create(
            out / event.rtms_stream_id,
            stream_id=event.rtms_stream_id,
            instance_id=event.instance_id,
            product="meeting",
        )
        session = StreamSession(config, event, sinks, rng=random.Random(n), drains=drains)
        client = session.client

        def apply(actions: list[Any], session: StreamSession = session) -> None:
            # What would go out on a socket or open one: there are no sockets here.
            session._apply([a for a in actions if not isinstance(a, Send | Open)])

        apply(client.start())
        apply(client.opened("signaling"))
        urls = {"audio": "ws://127.0.0.1:1/audio"}
        answer = SignalingHandshakeResp(status_code=0, media_server=MediaServer(server_urls=urls))
        apply(client.received("signaling", answer))
        apply(client.opened("audio"))
        params = MediaParams(audio=AudioParams(content_type=2, sample_rate=1, channel=1, codec=1, data_opt=1))
        apply(client.received("audio", DataHandshakeResp(status_code=0, media_params=params)))
        if not client.ready:
            raise SystemExit("frame_path: the stream did not become ready")
        ws = _socket()
        ws.deliver_to(_Reader(session, client, "audio", ws))
        feeds.append(ws._frames)
        sessions.append(session)
    return feeds, drains._run_flushes, lambda: sum(s.sinks.audio_messages for s in sessions)


def _socket() -> RtmsWebSocket:
    from websockets.client import ClientProtocol
    from websockets.protocol import State
    from websockets.uri import parse_uri

    protocol = ClientProtocol(parse_uri("ws://127.0.0.1:1/audio"))
    protocol.state = State.OPEN
    ws = RtmsWebSocket(protocol)
    ws.response = object()  # type: ignore[assignment]  # the handshake is over
    return ws


def thin_streams(out: Path, streams: int) -> Path_:
    """bench/thin_consumer.py's handling of a read: whole frames cut from the socket's buffer,
    each decoded and its PCM written to the stream's buffered file."""
    from thin_consumer import MediaDataAudio

    files = []
    feeds = []
    written = [0]
    for n in range(streams):
        directory = out / f"thin{n:06d}"
        directory.mkdir(parents=True)
        file = open(directory / "audio.raw", "wb")  # noqa: SIM115 - closed at the end
        files.append(file)
        buffer = bytearray(64 * 1024)

        def feed(data: memoryview, buffer: bytearray = buffer, file: Any = file) -> None:
            size = len(data)
            buffer[:size] = data  # recv_into the socket's own buffer
            pos = 0
            while size - pos >= 2:
                length = buffer[pos + 1] & 0x7F
                if length < 126:
                    start = pos + 2
                elif length == 126:
                    length = int.from_bytes(buffer[pos + 2 : pos + 4], "big")
                    start = pos + 4
                else:
                    length = int.from_bytes(buffer[pos + 2 : pos + 10], "big")
                    start = pos + 10
                end = start + length
                if end > size:
                    break
                try:
                    message = decode_or_raise(buffer[start:end])
                except DECODE_ERRORS:
                    return
                if type(message) is MediaDataAudio:
                    file.write(message.content.data)  # type: ignore[attr-defined]
                    written[0] += 1
                pos = end

        feeds.append(feed)

    def flush() -> None:  # a buffered file writes when its buffer fills: nothing to do
        pass

    return feeds, flush, lambda: written[0]


class _Evictor:
    """Copies ``size`` bytes from one buffer to another: every cache line of the CPU's caches
    then holds something else (64 MiB, more than the last-level caches here)."""

    def __init__(self, size: int = 64 * 2**20) -> None:
        self.source = bytearray(size)
        self.target = bytearray(size)

    def __call__(self) -> None:
        self.target[:] = self.source


_SCRATCH: list[Path] = []  # where the files go, once main() chose it


def _shrink() -> None:
    """Cut every file written so far to nothing (not timed). The open files go on writing at
    their offsets, into sparse files: without this, a run of a few hundred thousand frames
    fills a gigabyte of memory (a tmpfs), and the runs after it were measured 1.4-1.9 times
    slower."""
    for root in _SCRATCH:
        for path in root.rglob("*"):
            if path.is_file():
                os.truncate(path, 0)


def run_path(
    path: Path_,
    frames: list[memoryview],
    total: int,
    evict: Callable[[], None] | None = None,
    check: bool = True,
) -> float:
    """CPU seconds for ``total`` frames (a multiple of the streams), the streams taken in
    turn; every frame must reach the path's file. With ``evict``, the caches are emptied
    before each round of the streams (not counted)."""
    feeds, flush, taken = path
    rounds = max(1, total // len(feeds))
    count = len(frames)
    before = taken()
    spent = 0.0
    clock = time.process_time
    started = clock()
    for r in range(rounds):
        if evict is not None:
            spent += clock() - started
            evict()
            started = clock()
        frame = frames[r % count]
        for feed in feeds:
            feed(frame)
        if r % FLUSH_EVERY == FLUSH_EVERY - 1:
            flush()
    spent += clock() - started
    _shrink()
    if check and taken() - before != rounds * len(feeds):
        raise SystemExit(f"frame_path: {taken() - before} of {rounds * len(feeds)} frames reached the file")
    return spent


def _time_only(path: Path_, frames: list[memoryview], total: int, evict: Callable[[], None] | None) -> float:
    """:func:`run_path` for a path whose frames do not all reach a file (an ablation)."""
    feeds, flush, _ = path
    return run_path((feeds, flush, lambda: 0), frames, total, evict, check=False)


def ablations(
    out: Path, streams: int, frames: list[memoryview], total: int, repeat: int, evict: Callable[[], None]
) -> dict[str, dict[str, float]]:
    """The connector's path with parts of it taken away, one after the other: µs per frame,
    hot and with cold caches (medians of ``repeat`` runs). Not a connector: where its cost is."""
    feeds, flush, taken = connector_streams(out, streams)
    sockets = [feed.__self__ for feed in feeds]  # type: ignore[attr-defined]
    readers = [ws._handler for ws in sockets]
    run_path((feeds, flush, taken), frames, streams * 5)  # every stream's WAV file is open

    def handlers(make: Callable[[Any], Callable[[Any], Any]]) -> None:
        # Only the WebSockets' handlers are swapped: setting attributes on the sessions would
        # change how fast every attribute of theirs is looked up.
        for ws, reader in zip(sockets, readers, strict=True):
            ws._handler = make(reader)

    def dispatched(reader: Any) -> Callable[[Any], Any]:
        # The reader's decode and the client's check, then the session's dispatch of a media
        # frame (its metric), without the sinks.
        client, name, metrics = reader.client, reader.name, reader.session._metrics

        def handle(message: Any) -> None:
            for action in client.received(name, decode_or_raise(message)):
                if type(action) is Media:
                    metrics.frame_in(_KEYS[action.kind])

        return handle

    def sunk(reader: Any) -> Callable[[Any], Any]:
        # As above, then the sinks (StreamSinks.audio and everything under it) and the
        # session's flush bookkeeping, without the reader's and the session's checks.
        client, name, session = reader.client, reader.name, reader.session
        metrics, sinks = session._metrics, session.sinks

        def handle(message: Any) -> None:
            for action in client.received(name, decode_or_raise(message)):
                if type(action) is Media:
                    metrics.frame_in(_KEYS[action.kind])
                    sinks.audio(action.content)
                    session._unflushed = True
                    if not session._flush_due:
                        session._sunk()

        return handle

    def written(reader: Any) -> Callable[[Any], Any]:
        # As "sunk", with the sink chain (fan-out, file sink, recorder, WAV writer) collapsed
        # into the WAV file's own buffered write: what the chain costs above the write.
        client, name, session = reader.client, reader.name, reader.session
        metrics = session._metrics
        write = session.sinks.file_sink._audio.mixed._file.write

        def handle(message: Any) -> None:
            for action in client.received(name, decode_or_raise(message)):
                if type(action) is Media:
                    metrics.frame_in(_KEYS[action.kind])
                    write(action.content.data)
                    session._unflushed = True
                    if not session._flush_due:
                        session._sunk()

        return handle

    steps: list[tuple[str, Callable[[], None]]] = [
        ("cut only (handler does nothing)", lambda: handlers(lambda r: lambda m: None)),
        ("cut + decode", lambda: handlers(lambda r: decode_or_raise)),
        (
            "cut + decode + the client's check (StreamClient.received)",
            lambda: handlers(lambda r: lambda m, c=r.client, n=r.name: c.received(n, decode_or_raise(m))),
        ),
        ("+ the session's dispatch and metric, no sinks", lambda: handlers(dispatched)),
        ("+ the file's own write and the flush bookkeeping (no sink chain)", lambda: handlers(written)),
        ("+ the sinks and the flush bookkeeping", lambda: handlers(sunk)),
        ("shipped (the reader and the session's checks too)", lambda: handlers(lambda r: r)),
    ]
    results: dict[str, dict[str, float]] = {}
    for name, setup in steps:
        setup()
        _time_only((feeds, flush, taken), frames, streams * 20, None)
        hot = [_time_only((feeds, flush, taken), frames, total, None) / total * 1e6 for _ in range(repeat)]
        cold = [
            _time_only((feeds, flush, taken), frames, total // 10, evict) / (total // 10) * 1e6
            for _ in range(repeat)
        ]
        results[name] = {"hot": round(statistics.median(hot), 3), "cold": round(statistics.median(cold), 3)}
        print(
            f"  {name:58}: hot {results[name]['hot']:5.2f}, cold caches {results[name]['cold']:5.2f} µs/frame"
        )
    return results


async def main_async(args: argparse.Namespace, scratch: Path) -> int:
    try:
        frames = [memoryview(f) for f in wire_frames(50)]
        paths = {
            "connector": connector_streams(scratch / "connector", args.streams),
            "thin": thin_streams(scratch / "thin", args.streams),
        }
        for path in paths.values():  # warm up
            run_path(path, frames, args.streams * 50)
        total = args.frames - args.frames % args.streams
        cold_total = max(args.streams, (args.frames // 10) - (args.frames // 10) % args.streams)
        evict = _Evictor()
        results: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            for name, path in paths.items():
                results.setdefault(name, []).append(run_path(path, frames, total) / total * 1e6)
                cold = run_path(path, frames, cold_total, evict) / cold_total * 1e6
                results.setdefault(f"{name} (cold caches)", []).append(cold)
        medians = {name: statistics.median(v) for name, v in results.items()}
        for name, runs in results.items():
            print(
                f"{name:>23}: {medians[name]:6.2f} µs/frame (runs {', '.join(f'{r:.2f}' for r in runs)})",
                flush=True,
            )
        ratio = medians["connector"] / medians["thin"]
        cold_ratio = medians["connector (cold caches)"] / medians["thin (cold caches)"]
        print(f"connector / thin: {ratio:.2f}; with cold caches {cold_ratio:.2f}")
        ablated: dict[str, dict[str, float]] = {}
        if args.ablate:
            print("ablations of the connector's path (not a connector: where its cost is):")
            ablated = ablations(
                scratch / "ablations", args.streams, frames, cold_total * 10, args.repeat, evict
            )
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            run_path(paths["connector"], frames, total)
            profile.disable()
            text = io.StringIO()
            pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(25)
            print(text.getvalue())
        if args.name:
            path = write_result(
                args.name,
                {
                    "streams": args.streams,
                    "frames_per_run": total,
                    "flush_every": FLUSH_EVERY,
                    "us_per_frame": {k: round(v, 3) for k, v in medians.items()},
                    "runs": {k: [round(r, 3) for r in v] for k, v in results.items()},
                    "connector_over_thin": round(ratio, 3),
                    "connector_over_thin_cold": round(cold_ratio, 3),
                    "ablations": ablated,
                },
            )
            print(f"wrote {path}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--frames", type=int, default=50_000, help="frames per run")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile one connector run")
    parser.add_argument(
        "--ablate", action="store_true", help="also time the connector's path with parts taken away"
    )
    parser.add_argument("--name", default="frame_path", help="result file (empty: not written)")
    args = parser.parse_args()
    # In memory where there is a tmpfs: what is timed is the Python work and the write() calls,
    # not the disk's writeback of the gigabyte a run writes.
    shm = Path("/dev/shm")
    scratch = Path(tempfile.mkdtemp(prefix="rtms-frame-path-", dir=shm if shm.is_dir() else None))
    _SCRATCH.append(scratch)
    return asyncio.run(main_async(args, scratch))


if __name__ == "__main__":
    sys.exit(main())
