"""``rtms-demo``: the whole path on one machine, with embedded defaults.

Starts the simulator, starts the reference connector as a separate process (as it would be
deployed), plays a short meeting whose ``meeting.rtms_started`` webhook reaches the connector,
lets the connector stream it into files, stops the connector with SIGTERM (it closes its
streams with STREAM_CLOSE_REQ) and prints where the media landed, with a summary read back
from the files themselves. No external service is needed.

The simulator imports nothing from the connector but the protocol core; the connector is run
through its command line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .config import SimulatorConfig
from .server import Simulator

__all__ = ["main", "summarize"]

log = logging.getLogger("simulator.demo")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rtms-demo", description="Stream a simulated meeting through the connector."
    )
    parser.add_argument("--output", type=Path, default=Path("rtms-output"), help="where the connector writes")
    parser.add_argument("--duration", type=float, default=12.0, help="seconds of meeting (real time)")
    parser.add_argument("--participants", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--verbose", action="store_true", help="show the connector's and simulator's logs")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s"
    )
    logging.getLogger("aiohttp.websocket").setLevel(logging.ERROR)
    if args.duration <= 0 or args.participants < 1:
        print("rtms-demo: --duration must be > 0 and --participants >= 1", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_run(args))
    except DemoError as exc:
        print(f"rtms-demo: {exc}", file=sys.stderr)
        return 1


class DemoError(Exception):
    pass


async def _start_connector(
    config: SimulatorConfig, output: Path, verbose: bool
) -> tuple[asyncio.subprocess.Process, str]:
    app = config.app
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "connector",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--path",
        "/zoom/webhook",
        "--output",
        str(output),
        "--client-id",
        app.client_id,
        "--client-secret",
        app.client_secret,
        "--webhook-secret",
        app.webhook_secret,
        "--log-level",
        "INFO" if verbose else "WARNING",
        stdout=asyncio.subprocess.PIPE,
        # Every medium the simulator streams: audio, camera video and screen share as JPEG
        # frames, transcripts and chat.
        env={**os.environ, "PYTHONUNBUFFERED": "1", "ZM_RTMS_MEDIA": "audio,video,deskshare,transcript,chat"},
    )
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
    except TimeoutError:
        proc.kill()
        raise DemoError("the connector did not start within 30 s") from None
    text = line.decode().strip()
    if not text.startswith("listening "):
        await proc.wait()
        raise DemoError(f"the connector did not start (exit {proc.returncode}): {text or 'no output'}")
    return proc, text.split(" ", 1)[1]


async def _run(args: argparse.Namespace) -> int:
    config = SimulatorConfig(tls_port=None)
    output: Path = args.output.resolve()
    async with Simulator(config) as sim:
        connector, webhook_url = await _start_connector(config, output, args.verbose)
        print(f"simulator  {sim.http_url}  (signaling {sim.signaling_url()})")
        print(f"connector  {webhook_url}  (pid {connector.pid})")
        try:
            stream = sim.start_stream(
                webhook_url=webhook_url,
                seed=args.seed,
                participants=args.participants,
                duration=args.duration,
            )
            print(f"meeting    {stream.instance_id}  stream {stream.stream_id}")
            names = ", ".join(p.user_name for p in stream.script.participants)
            print(f"playing    {args.duration:.0f} s with {names} ...", flush=True)
            try:
                reason = await asyncio.wait_for(sim.wait_ended(stream), args.duration + 60)
            except TimeoutError:
                raise DemoError("the meeting did not end in time; see --verbose") from None
            print(f"ended      stop_reason {reason}")
        finally:
            if connector.returncode is None:
                connector.send_signal(signal.SIGTERM)
            try:
                code = await asyncio.wait_for(connector.wait(), 30)
            except TimeoutError:
                connector.kill()
                code = await connector.wait()
        sent = sim.journal.media_counts
        frames_sent = sent[(stream.stream_id, "audio")]
        lines_sent = sent[(stream.stream_id, "transcript")]
        pictures_sent = {kind: sent[(stream.stream_id, kind)] for kind in ("video", "deskshare")}
        chat_sent = sent[(stream.stream_id, "chat")]
    if code != 0:
        raise DemoError(f"the connector exited with status {code}")
    summary = summarize(output / stream.stream_id)
    print()
    print(f"captured in {summary['directory']}")
    for name in summary["files"]:
        print(f"  {name}")
    print(
        f"audio       {summary['audio_seconds']:.2f} s "
        f"({summary['audio_frames']} frames received, {frames_sent} sent)\n"
        f"transcript  {summary['transcript_lines']} lines ({lines_sent} sent)\n"
        f"video       {summary['video']} JPEG frames ({pictures_sent['video']} sent)\n"
        f"share       {summary['deskshare']} JPEG frames ({pictures_sent['deskshare']} sent)\n"
        f"chat        {summary['chat']} messages ({chat_sent} sent)\n"
        f"people      {', '.join(summary['participants']) or 'none'}"
    )
    for line in summary["transcript_preview"]:
        print(f"  > {line}")
    # Frames still in flight when a stream ends may be dropped by any client; the demo only
    # insists that media arrived. Exact delivery is asserted by the end-to-end tests.
    return 0 if summary["audio_frames"] and summary["transcript_lines"] else 1


def summarize(directory: Path) -> dict[str, Any]:
    """What a stream's directory holds, read back from the files themselves."""
    if not directory.is_dir():
        raise DemoError(f"no output for the stream in {directory}")
    wav = directory / "audio.wav"
    frames = seconds = 0.0
    audio_frames = 0
    if wav.exists():
        with wave.open(str(wav), "rb") as w:
            frames = w.getnframes()
            seconds = frames / w.getframerate()
            audio_frames = round(seconds * 50)  # 20 ms frames, unless stream.json says better
    transcript: list[dict[str, Any]] = []
    if (directory / "transcript.jsonl").exists():
        with (directory / "transcript.jsonl").open() as f:
            transcript = [json.loads(line) for line in f if line.strip()]
    chat = directory / "chat.jsonl"
    chat_lines = sum(1 for line in chat.open() if line.strip()) if chat.exists() else 0
    pictures = {
        kind: len(list((directory / kind).glob("*.jpg"))) if (directory / kind).is_dir() else 0
        for kind in ("video", "deskshare")
    }
    people: dict[str, str] = {}
    meta_file = directory / "stream.json"
    if meta_file.exists():
        meta = json.loads(meta_file.read_text())
        audio_frames = int(meta.get("audio_messages", audio_frames))
        for p in meta.get("participants", []):
            people[str(p.get("user_id"))] = str(p.get("user_name", ""))
    return {
        "directory": str(directory),
        "files": sorted(p.name for p in directory.iterdir()),
        "audio_seconds": seconds,
        "audio_frames": audio_frames,
        "transcript_lines": len(transcript),
        "video": pictures["video"],
        "deskshare": pictures["deskshare"],
        "chat": chat_lines,
        "participants": sorted(n for n in people.values() if n),
        "transcript_preview": [f"{t.get('user_name')}: {t.get('text')}" for t in transcript[:3]],
    }


if __name__ == "__main__":
    sys.exit(main())
