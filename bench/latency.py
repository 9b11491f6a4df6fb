"""Latency: webhook to first audio frame in the sink, and frame emission to sink, p50/p99, at
1 and at 100 streams (target: p99 frame-to-sink <= 5 ms at 100 streams on loopback).

One run: the simulator as a server process pinned to CPU 0, the reference connector as
deployed (``rtms-connector`` with file sinks, audio and transcript) pinned to CPU 1, with the
timing probes of ``bench/latency_probe.py``. Streams are started through the simulator's
control API and reach the connector as real signed ``meeting.rtms_started`` webhooks; they
start 20 ms + 20 ms/N apart so their frame phases spread evenly over each 20 ms period.

* webhook → first audio: from the connector dispatching the verified webhook to the first
  audio frame handed to its sinks (signaling handshake, media handshake, CLIENT_READY_ACK and
  the first frame on the way). Also given from the benchmark's control request, which adds
  the simulator's webhook delivery.
* frame → sink: from the frame's emission by the simulator to the moment it was handed to the
  sinks, for every audio frame in the steady window after all streams joined.
  {EMISSION}

    python bench/latency.py [--streams 1,100] [--window 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import SimServer, percentile, pin, write_result

from simulator.config import App

ROOT = Path(__file__).resolve().parent.parent
TARGET_P99_MS = 5.0
EMISSION = (
    "Frame to sink is measured from the frame's scheduled emission, its `timestamp` field (the "
    "epoch time of its slot on the 20 ms grid, in whole milliseconds), so it includes the "
    "simulator's own lateness (reported beside it from GET /_sim/pacing); the millisecond "
    "stamp makes it err late by up to 1.5 ms or early by up to 0.5 ms."
)
__doc__ = __doc__.replace("{EMISSION}", EMISSION)


class Probe:
    """The instrumented connector process."""

    def __init__(self, output: Path, trace: Path, cpu: int | None) -> None:
        app = App()
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "ZM_RTMS_MEDIA": "audio,transcript",
            "RTMS_BENCH_TRACE": str(trace),
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "latency_probe.py"),
                "--host", "127.0.0.1", "--port", "0", "--path", "/zoom/webhook",
                "--output", str(output),
                "--client-id", app.client_id,
                "--client-secret", app.client_secret,
                "--webhook-secret", app.webhook_secret,
                "--log-level", "warning",
            ],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening "):
            self.proc.kill()
            raise RuntimeError(f"the connector did not start: {line!r}")
        self.url = line.split(" ", 1)[1]
        pin(self.proc.pid, cpu)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


async def _start_streams(base: str, webhook_url: str, n: int, duration: float) -> list[dict[str, Any]]:
    """Start ``n`` streams 20 ms + 20 ms/n apart; each with the wall time of its request."""
    spacing = 0.02 + 0.02 / n
    started: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as http:
        t0 = time.perf_counter()
        for i in range(n):
            delay = t0 + i * spacing - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            requested = time.time_ns()
            body = {"webhook_url": webhook_url, "duration": duration, "participants": 3, "seed": i}
            async with http.post(f"{base}/_sim/streams", json=body) as resp:
                described = await resp.json()
            started.append({"stream_id": described["rtms_stream_id"], "requested_ns": requested})
    return started


def _run(n: int, window: float, warmup: float, cpus: tuple[int | None, int | None]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="rtms-latency-") as tmp, SimServer(cpu=cpus[0]) as sim:
        trace = Path(tmp) / "trace.json"
        probe = Probe(Path(tmp) / "out", trace, cpus[1])
        try:
            spread = n * (0.02 + 0.02 / n)
            duration = spread + warmup + window + 5
            streams = asyncio.run(_start_streams(sim.base_url, probe.url + "", n, duration))
            time.sleep(warmup)  # the streams run in real time; nothing here waits on behaviour
            _control(sim.base_url, "POST", "/_sim/pacing/reset")
            window_start_ns = time.time_ns()
            time.sleep(window)
            window_end_ns = time.time_ns()
            pacing = _control(sim.base_url, "GET", "/_sim/pacing")
        finally:
            probe.stop()
        data = json.loads(trace.read_text())
    accepted: dict[str, int] = data["accepted"]
    frames: dict[str, list[list[int]]] = data["frames"]
    to_first: list[float] = []
    from_request: list[float] = []
    missing = 0
    for s in streams:
        sid = s["stream_id"]
        got = frames.get(sid)
        if not got or sid not in accepted:
            missing += 1
            continue
        first_ns = got[0][1]
        to_first.append((first_ns - accepted[sid]) / 1e6)
        from_request.append((first_ns - s["requested_ns"]) / 1e6)
    delays: list[float] = []
    for got in frames.values():
        for timestamp_ms, sink_ns in got:
            if window_start_ns <= sink_ns <= window_end_ns:
                delays.append(sink_ns / 1e6 - timestamp_ms)
    return {
        "streams": n,
        "streams_without_audio": missing,
        "webhook_to_first_audio_ms": _stats(to_first),
        "request_to_first_audio_ms": _stats(from_request),
        "frame_to_sink_ms": _stats(delays),
        "simulator_lateness_ms": pacing.get("kinds", {}).get("audio", {}),
        "window_seconds": window,
    }


def _control(base: str, method: str, path: str) -> dict[str, Any]:
    request = urllib.request.Request(base + path, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=30) as resp:
        answer: dict[str, Any] = json.load(resp)
    return answer


def _stats(values: list[float]) -> dict[str, float | int]:
    return {
        "samples": len(values),
        "p50": round(percentile(values, 50), 3),
        "p99": round(percentile(values, 99), 3),
        "max": round(max(values), 3) if values else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="1,100", help="comma-separated load points")
    parser.add_argument("--window", type=float, default=15.0, help="seconds measured per load point")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds after the last join")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the two processes to CPUs 0 and 1")
    parser.add_argument("--name", default="latency", help="result file name (bench/results/NAME.json)")
    args = parser.parse_args(argv)
    cpus: tuple[int | None, int | None] = (None, None) if args.no_pin else (0, 1)
    rows = []
    print(f"{'streams':>7} {'webhook->first audio p50/p99 ms':>32} {'frame->sink p50/p99/max ms':>28} "
          f"{'frames':>8} {'sim late p99':>12}  verdict")  # fmt: skip
    failed = False
    for n in (int(x) for x in args.streams.split(",")):
        row = _run(n, args.window, args.warmup, cpus)
        f, w = row["frame_to_sink_ms"], row["webhook_to_first_audio_ms"]
        verdict = ""
        if n >= 100:
            ok = f["p99"] <= TARGET_P99_MS and row["streams_without_audio"] == 0
            failed |= not ok
            verdict = ("PASS" if ok else "FAIL") + f" (p99 <= {TARGET_P99_MS:g} ms)"
        if row["streams_without_audio"]:
            verdict += f" {row['streams_without_audio']} stream(s) got no audio"
        if not f["samples"]:  # the probe's hooks missed the way frames reach the sinks
            failed = True
            verdict += " no frame was timed reaching the sinks (bench/latency_probe.py)"
        late = row["simulator_lateness_ms"].get("p99_ms") or float("nan")
        first = f"{w['p50']:>15.2f} / {w['p99']:<14.2f}"
        print(
            f"{n:>7} {first} {f['p50']:>9.2f} / {f['p99']:.2f} / {f['max']:<8.2f}"
            f" {f['samples']:>8} {late:>9.2f} ms  {verdict}"
        )
        rows.append(row)
    # Connector settings from the environment (ZM_RTMS_POLL_INTERVAL=0.01, say) go with the figures.
    settings = {k: v for k, v in os.environ.items() if k.startswith("ZM_RTMS_")}
    path = write_result(
        args.name,
        {
            "target_p99_ms": TARGET_P99_MS,
            "emission": EMISSION,
            "pinned": not args.no_pin,
            "connector_env": settings,
            "rows": rows,
        },
    )
    print(f"\n{EMISSION}\nwritten to {path.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
