"""Simulator capacity: concurrent real-time streams (L16 16 kHz mono 20 ms audio + transcript)
sustained on one core with p99 frame lateness <= 10 ms. Target: >= 1000 streams.

For each load point a fresh ``rtms-sim serve`` runs pinned to CPU 0 and a fresh load generator
(bench/loadgen.py: three sockets per stream, as the SDK joins) pinned to CPU 1. The streams are
joined with their frame phases spread over the 20 ms period, left to settle, then the
simulator's pacing counters are reset (``POST /_sim/pacing/reset``) and a steady window is
measured: the simulator's CPU time over the window's wall time (cores), frames it sent and
their lateness (``GET /_sim/pacing``: handed to the socket minus scheduled on the frame grid),
and frames the load generator received. After the window every stream is stopped and, once
every socket is closed, the frames sent since the start are compared with those received.

PASS: the worst kind's p99 lateness <= 10 ms, simulator CPU <= 1 core, no frame lost. Each
point also records how long the simulator waited for its CPU while another process had it
(``sim_cpu_wait``, from /proc/<pid>/schedstat): lateness measured on a busy machine is
pessimistic.

    python bench/sim_capacity.py [--streams 10,100,500,700,1000] [--window SECONDS] [--search]

``--search`` then looks upward from the largest passing point for the largest stream count
that still passes (x1.25 steps, then halving the gap to within 5%). ``--name`` changes the
results file (``bench/results/<name>.json``); a ``sim_capacity_before.json`` measured on earlier
code is carried into ``sim_capacity.json`` as ``before`` when present.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, SimServer, cpu_seconds, pin, write_result

HERE = Path(__file__).resolve().parent
TARGET_STREAMS = 1000
TARGET_P99_MS = 10.0
TARGET_CORES = 1.0


class LoadGen:
    """bench/loadgen.py in command mode, pinned to ``cpu``."""

    def __init__(self, base_url: str, cpu: int | None, ramp_per_stream: float) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "loadgen.py"),
                "--base",
                base_url,
                "--commands",
                "--ramp-per-stream",
                str(ramp_per_stream),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        pin(self.proc.pid, cpu)

    def ask(self, op: str, **fields: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the load generator exited ({self.proc.poll()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.ask_quit()
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()

    def ask_quit(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
        self.proc.stdin.flush()


def _control(base_url: str, method: str, path: str) -> dict[str, Any] | None:
    """A control API call; ``None`` when the route does not exist (older simulators)."""
    request = urllib.request.Request(
        f"{base_url}{path}", method=method, data=b"" if method == "POST" else None
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer: dict[str, Any] = json.load(response)
            return answer
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 405):
            return None
        raise


def _waited(pid: int) -> float:
    """Seconds ``pid`` has spent runnable but waiting for a CPU (another process had it)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


def _worst(pacing: dict[str, Any] | None, key: str) -> float | None:
    if pacing is None:
        return None
    values = [k[key] for k in pacing["kinds"].values() if k[key] is not None]
    return max(values) if values else None


def measure(streams: int, *, window: float, settle: float, ramp_per_stream: float) -> dict[str, Any]:
    """One load point on fresh processes."""
    with SimServer(cpu=0) as sim:
        gen = LoadGen(sim.base_url, cpu=1, ramp_per_stream=ramp_per_stream)
        try:
            t_ramp = time.monotonic()
            added = gen.ask("add", streams=streams)
            ramp_seconds = time.monotonic() - t_ramp
            time.sleep(settle)
            # the closed window is the ramp: lateness while streams were being created
            ramp = _control(sim.base_url, "POST", "/_sim/pacing/reset")
            has_pacing = ramp is not None
            gen.ask("reset")
            waited0 = _waited(sim.pid)
            cpu0, gen_cpu0, wall0 = cpu_seconds(sim.pid), cpu_seconds(gen.proc.pid), time.monotonic()
            time.sleep(window)
            cpu1, gen_cpu1, wall1 = cpu_seconds(sim.pid), cpu_seconds(gen.proc.pid), time.monotonic()
            waited1 = _waited(sim.pid)
            pacing = _control(sim.base_url, "POST", "/_sim/pacing/reset") if has_pacing else None
            received = gen.ask("reset")
            stopped = gen.ask("stop")
            totals = _control(sim.base_url, "GET", "/_sim/pacing") if has_pacing else None
        finally:
            gen.close()
    wall = wall1 - wall0
    cores = (cpu1 - cpu0) / wall
    frames_received = sum(received["window"].values())
    frames_sent = sum(k["frames"] for k in pacing["kinds"].values()) if pacing else None
    frames_per_second = (frames_sent if frames_sent is not None else frames_received) / wall
    total_sent = sum(k["total_frames"] for k in totals["kinds"].values()) if totals else None
    total_received = sum(stopped["frames"].values())
    lost = None if total_sent is None else total_sent - total_received
    p99 = _worst(pacing, "p99_ms")
    point: dict[str, Any] = {
        "streams": streams,
        "joined": added["streams"],
        "join_errors": stopped["errors"],
        "ramp_seconds": round(ramp_seconds, 1),
        "window_seconds": round(wall, 2),
        "frames_sent": frames_sent,
        "frames_received": frames_received,
        "frames_per_second": round(frames_per_second),
        "frames_sent_total": total_sent,
        "frames_received_total": total_received,
        "frames_lost": lost,
        "frames_total_by_kind": {
            kind: {
                "sent": totals["kinds"].get(kind, {}).get("total_frames") if totals else None,
                "received": stopped["frames"].get(kind, 0),
            }
            for kind in sorted({*stopped["frames"], *(totals["kinds"] if totals else ())})
            if stopped["frames"].get(kind) or (totals and kind in totals["kinds"])
        },
        "open_sockets_after_stop": stopped["open_sockets"],
        "sim_cores": round(cores, 3),
        # the share of the window the simulator was ready to run but its CPU ran something else:
        # above a few percent the machine was not idle and lateness is pessimistic
        "sim_cpu_wait": round((waited1 - waited0) / wall, 3),
        "cpu_us_per_frame": round((cpu1 - cpu0) / (frames_per_second * wall) * 1e6, 2),
        "cpu_ms_per_stream_second": round(cores / streams * 1000, 3),
        "lateness_ms": {
            kind: {key: k[key] for key in ("frames", "p50_ms", "p99_ms", "max_ms")}
            for kind, k in (pacing["kinds"].items() if pacing else ())
        },
        "p50_ms": _worst(pacing, "p50_ms"),
        "p99_ms": p99,
        "max_ms": _worst(pacing, "max_ms"),
        # while the streams were joining and settling (stream creation on the same loop)
        "ramp_lateness_ms": {key: _worst(ramp, key) for key in ("p50_ms", "p99_ms", "max_ms")},
        "client_audio_delay_ms": received["audio_delay_ms"],
        "loadgen_cores": round((gen_cpu1 - gen_cpu0) / wall, 3),
        "keep_alives_answered": stopped["keep_alives_answered"],
    }
    # Without the pacing counters (older simulators) lateness and loss are unknown: no verdict.
    point["pass"] = (
        None
        if pacing is None
        else (
            p99 is not None
            and p99 <= TARGET_P99_MS
            and cores <= TARGET_CORES
            and lost == 0
            and added["streams"] == streams
        )
    )
    return point


def _fmt(value: Any, spec: str = "") -> str:
    return "n/a" if value is None else format(value, spec)


def _row(p: dict[str, Any]) -> str:
    verdict = {True: "PASS", False: "FAIL", None: "n/a"}[p["pass"]]
    return (
        f"{p['streams']:>7} {_fmt(p['frames_sent']):>10} {p['frames_received']:>10}"
        f" {_fmt(p['frames_lost']):>6}"
        f" {p['sim_cores']:>6.3f} {p['cpu_us_per_frame']:>8.2f} {p['cpu_ms_per_stream_second']:>9.3f}"
        f" {_fmt(p['p50_ms']):>7} {_fmt(p['p99_ms']):>7} {_fmt(p['max_ms']):>8}"
        f" {_fmt(p['client_audio_delay_ms']['p99']):>7} {p['loadgen_cores']:>6.3f} {p['sim_cpu_wait']:>5.2f}"
        f" {_fmt(p['ramp_lateness_ms']['p99_ms']):>8} {_fmt(p['ramp_lateness_ms']['max_ms']):>9}"
        f"  {verdict}"
    )


HEADER = (
    f"{'streams':>7} {'sent':>10} {'received':>10} {'lost':>6} {'cores':>6} {'µs/frame':>8}"
    f" {'ms/s/strm':>9} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>8} {'cl p99':>7} {'lg cpu':>6} {'wait':>5}"
    f" {'ramp p99':>8} {'ramp max':>9}  verdict"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="10,100,500,700,1000", help="load points, comma-separated")
    parser.add_argument("--window", type=float, default=15.0, help="seconds measured per load point")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds between ramp and window")
    parser.add_argument("--ramp-per-stream", type=float, default=0.01, help="seconds between joins' readies")
    parser.add_argument("--search", action="store_true", help="then search for the largest passing count")
    parser.add_argument("--name", default="sim_capacity", help="results file name")
    args = parser.parse_args(argv)
    counts = [int(s) for s in args.streams.split(",") if s.strip()]

    def run(n: int) -> dict[str, Any]:
        point = measure(n, window=args.window, settle=args.settle, ramp_per_stream=args.ramp_per_stream)
        print(_row(point), flush=True)
        return point

    print(
        f"simulator on CPU 0, load generator on CPU 1; window {args.window:g} s; "
        f"PASS: p99 <= {TARGET_P99_MS:g} ms, cores <= {TARGET_CORES:g}, none lost"
    )
    print(
        "(cl p99: end-to-end audio delay seen by the load generator, whole ms, its own delays included;"
        " wait: share of the window the simulator waited for its CPU, taken by another process)"
    )
    print(HEADER, flush=True)
    points = [run(n) for n in counts]
    largest = max((p["streams"] for p in points if p["pass"]), default=None)
    searched: list[dict[str, Any]] = []
    if args.search and largest is not None:
        low, high = largest, None
        while high is None or high - low > max(1, low // 20):
            n = int(low * 1.25) if high is None else (low + high) // 2
            searched.append(run(n))
            if searched[-1]["pass"]:
                low = n
            else:
                high = n
        largest = low
    print(f"largest passing stream count measured: {_fmt(largest)} (target >= {TARGET_STREAMS})")
    figures: dict[str, Any] = {
        "target": {"streams": TARGET_STREAMS, "p99_ms": TARGET_P99_MS, "cores": TARGET_CORES},
        "window_seconds": args.window,
        "points": points,
        "largest_passing": largest,
        "search": searched,
    }
    before = RESULTS / "sim_capacity_before.json"
    if args.name == "sim_capacity" and before.exists():
        figures["before"] = json.loads(before.read_text())
    path = write_result(args.name, figures)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
