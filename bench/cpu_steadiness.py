"""CPU steadiness: how evenly each CPU of this machine runs a fixed piece of Python.

The lateness targets judge 10 ms: a CPU that runs slower for a few tens of milliseconds
(another guest on the same host, a sibling hyperthread, frequency changes) makes frames late
whatever the simulator does. This benchmark runs the same small loop (dict stores) on each CPU
in turn, alone, and counts how many times it completes in each 10 ms slice. Printed per CPU:
the median count per slice, the share of slices under 60 % and under 30 % of that median,
and the slowest slice. On a steady machine almost every slice is near the median.

    python bench/cpu_steadiness.py [--cpus 0,1] [--seconds 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import pin, write_result

SLICE = 0.01


def _slices(seconds: float) -> list[int]:
    """Completions of the fixed loop per 10 ms slice, for ``seconds``."""
    clock = time.perf_counter
    store: dict[int, int] = {}
    counts: list[int] = []
    end = clock() + seconds
    while True:
        start = clock()
        if start >= end:
            return counts
        done = 0
        while clock() - start < SLICE:
            for i in range(200):
                store[i] = i * 2
            done += 1
        counts.append(done)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpus", default="0,1", help="CPUs to measure, comma-separated")
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds per CPU")
    args = parser.parse_args(argv)
    rows = []
    print("cpu  slices  median/slice  < 60 %  < 30 %  slowest")
    for cpu in (int(c) for c in args.cpus.split(",")):
        pin(0, cpu)
        counts = _slices(args.seconds)
        median = statistics.median(counts)
        under_60 = sum(1 for c in counts if c < 0.6 * median) / len(counts)
        under_30 = sum(1 for c in counts if c < 0.3 * median) / len(counts)
        slowest = min(counts) / median
        rows.append(
            {
                "cpu": cpu,
                "slices": len(counts),
                "median_per_slice": median,
                "share_under_60pct": round(under_60, 4),
                "share_under_30pct": round(under_30, 4),
                "slowest_vs_median": round(slowest, 3),
            }
        )
        print(f"{cpu:>3} {len(counts):>7} {median:>13.0f} {under_60:>7.1%} {under_30:>7.1%} {slowest:>8.1%}")
    path = write_result("cpu_steadiness", {"slice_seconds": SLICE, "seconds": args.seconds, "cpus": rows})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
