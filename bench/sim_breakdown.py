"""Where the simulator's CPU per audio frame goes, and how far it is from the floor.

For each load point, ``--repeat`` runs of each of five kinds of ``rtms-sim serve`` (CPU 0, taken
in turn) under bench/loadgen.py (CPU 1), as bench/sim_capacity.py runs them (streams joined, a
settle, then a steady window); the run with the median CPU per frame is reported for each:

* **simulator**: the simulator as shipped, its socket writes timed (bench/sim_probe.py
  ``write-time``: asyncio's transport ``write``, its checks and the ``send()`` system call);
* **lean**: the same server with the audio pump's per-frame work cut to the least that sends a
  frame (bench/sim_probe.py ``lean``: no lateness record, no journal count, no script, pause or
  speaker checks, a fixed frame); an experiment that shows the cost of the server's
  architecture itself (asyncio loop, timer wheel, transport checks);
* **flat**: the same server with every audio pump on one list per millisecond, run by one
  ticker in one loop with the whole frame path written out flat (bench/sim_probe.py ``flat``:
  the shipped frames, checks, lateness record and journal count, then one ``send()`` on the
  socket when asyncio's transport holds nothing for it); an experiment that shows how far
  flattening the frame path inside the asyncio loop goes. Its write time is not measured
  (the probe times the transport's write, which this run mostly skips);
* **thread**: the flat lane run by a thread of its own that sleeps to each millisecond and
  sends its frames with ``send()`` (bench/sim_probe.py ``thread``), so no frame passes through
  the asyncio loop; an experiment that shows what moving the frames off the loop saves;
* **build-only**: that thread with the ``send()`` left out: each frame built, checked, recorded
  and counted, none sent (the client receives no audio); what the frame's Python work costs
  without the system call;

and the send floor of bench/results/send_floor.json (a bare Python loop sending the same
number of frames on plain sockets, bench/send_floor.py) beside them. Per frame: CPU (user and
system, from the probe's ``os.times``), the time inside the write (for the floor: inside
``send()``), and what 1000 streams
(50,000 frames a second) would need at that cost, in cores.

With ``--profile`` a further simulator run is sampled with py-spy for its window (when py-spy
is installed; sampling slows the process, so its figures are not the ones reported); the
functions with the most samples go to ``bench/results/profiles/sim_<streams>_pyspy.txt``.

    python bench/sim_breakdown.py [--streams 600,1000] [--window 12] [--profile]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, SimServer, write_result
from sim_capacity import LoadGen

HERE = Path(__file__).resolve().parent
PROFILES = RESULTS / "profiles"
FRAMES_PER_SECOND_AT_TARGET = 1000 * 50


def _pyspy(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        print("py-spy is not installed: no profile taken", file=sys.stderr)
        return None
    return subprocess.Popen(
        [
            exe,
            "record",
            "--nonblocking",
            "-p",
            str(pid),
            "-r",
            "200",
            "-d",
            str(int(seconds)),
            "-f",
            "raw",
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def summarize_profile(raw: Path, title: str, top: int = 25, rate: int = 200) -> str:
    """The functions with the most samples, on their own (self) and with what they call."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = [f.split(":")[0] + ")" if " (" in f else f for f in stack.split(";")]
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    note = "a function's own share includes the C calls it makes"
    lines = [title, f"{total} samples (py-spy, {rate} Hz); {note}", ""]
    lines.append("own share:")
    lines += [f"  {n / total * 100:5.1f}%  {f}" for f, n in own.most_common(top)]
    lines.append("")
    lines.append("with what it calls:")
    lines += [f"  {n / total * 100:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"


def run(streams: int, mode: str, *, window: float, settle: float, profile: bool) -> dict[str, Any]:
    out = Path(tempfile.mkstemp(prefix="rtms-probe-", suffix=".jsonl")[1])
    probe = (str(HERE / "sim_probe.py"), mode)
    server = SimServer(cpu=0, entry=probe, env={"RTMS_BENCH_PROBE_OUT": str(out)})
    raw = Path(tempfile.mkstemp(prefix="rtms-pyspy-", suffix=".txt")[1])
    spy = None
    with server as sim:
        gen = LoadGen(sim.base_url, cpu=1, ramp_per_stream=0.01)
        try:
            gen.ask("add", streams=streams)
            time.sleep(settle)
            os.kill(sim.pid, signal.SIGUSR2)
            if profile:
                spy = _pyspy(sim.pid, window, raw)
            time.sleep(window)
            os.kill(sim.pid, signal.SIGUSR1)
            if spy is not None:
                spy.wait(60)
            deadline = time.monotonic() + 10
            while not out.read_text().strip() and time.monotonic() < deadline:
                time.sleep(0.1)
            gen.ask("stop")
        finally:
            gen.close()
    record: dict[str, Any] = json.loads(out.read_text().splitlines()[-1])
    out.unlink()
    record["streams"] = streams
    record["cpu_us"] = round(record["user_us"] + record["system_us"], 2)
    record["cores_for_1000_streams"] = round(record["cpu_us"] * FRAMES_PER_SECOND_AT_TARGET / 1e6, 2)
    if spy is not None and raw.stat().st_size:
        PROFILES.mkdir(parents=True, exist_ok=True)
        path = PROFILES / f"sim_{streams}_pyspy.txt"
        title = f"rtms-sim serve, {streams} streams, steady window of {window:g} s"
        path.write_text(summarize_profile(raw, title))
        record["profile"] = str(path.relative_to(RESULTS.parent.parent))
    raw.unlink(missing_ok=True)
    return record


def _median(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median CPU per frame, with every run's figure beside it."""
    ranked = sorted(records, key=lambda r: r["cpu_us"])
    chosen = dict(ranked[(len(ranked) - 1) // 2])
    chosen["cpu_us_of_runs"] = [r["cpu_us"] for r in records]
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="600", help="load points, comma-separated")
    parser.add_argument("--window", type=float, default=12.0, help="seconds measured per run")
    parser.add_argument("--settle", type=float, default=4.0, help="seconds between the joins and the window")
    parser.add_argument("--profile", action="store_true", help="sample the simulator run with py-spy")
    parser.add_argument("--name", default="sim_breakdown", help="results file name")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each kind per load point (median kept)"
    )
    args = parser.parse_args(argv)
    floor_file = RESULTS / "send_floor.json"
    floor = json.loads(floor_file.read_text()) if floor_file.exists() else None
    print("per audio frame, µs; cores: what 1000 streams (50,000 frames/s) need at that cost")
    heads = ("user", "system", "cpu", "write", "cores")
    print(f"{'streams':>7} {'run':>10} {'frames':>8} " + " ".join(f"{h:>6}" for h in heads))
    points = []
    for n in (int(s) for s in args.streams.split(",") if s.strip()):
        # Runs alternate (simulator, lean, simulator, lean, ...): this machine's speed drifts
        # between runs, and each kind's median is reported with every run kept.
        runs: dict[str, list[dict[str, Any]]] = {
            "write-time": [],
            "lean": [],
            "flat": [],
            "thread": [],
            "build-only": [],
        }
        for _ in range(args.repeat):
            for mode, kept in runs.items():
                kept.append(run(n, mode, window=args.window, settle=args.settle, profile=False))
        rows = [
            ("simulator", _median(runs["write-time"])),
            ("lean", _median(runs["lean"])),
            ("flat", _median(runs["flat"])),
            ("thread", _median(runs["thread"])),
            ("build-only", _median(runs["build-only"])),
        ]
        if args.profile:  # a run of its own: sampling slows the process it samples
            profiled = run(n, "write-time", window=args.window, settle=args.settle, profile=True)
            rows[0][1]["profile"] = profiled.get("profile")
        if floor is not None:
            nearest = min(floor["points"], key=lambda p: abs(p["streams"] - n))
            rows.append(
                (
                    f"floor@{nearest['streams']}",
                    {
                        "frames": nearest["frames"],
                        "user_us": nearest["user_us_per_frame"],
                        "system_us": nearest["system_us_per_frame"],
                        "cpu_us": nearest["cpu_us_per_frame"],
                        "in_write_us": nearest["in_send_us_per_frame"],  # a bare send()
                        "cores_for_1000_streams": round(
                            nearest["cpu_us_per_frame"] * FRAMES_PER_SECOND_AT_TARGET / 1e6, 2
                        ),
                    },
                )
            )
        for name, r in rows:
            print(
                f"{n:>7} {name:>10} {r['frames']:>8} {r['user_us']:>6.2f} {r['system_us']:>6.2f}"
                f" {r['cpu_us']:>6.2f} {r['in_write_us']:>6.2f} {r['cores_for_1000_streams']:>6.2f}",
                flush=True,
            )
        points.append({"streams": n, "runs": {name: r for name, r in rows}})
    path = write_result(args.name, {"window_seconds": args.window, "points": points})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
