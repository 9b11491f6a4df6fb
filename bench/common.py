"""What every benchmark shares: processes pinned to a core, their CPU time and peak memory,
percentiles, a description of the machine, a simulator server to load, and the results folder.

Benchmarks compare systems side by side in one run and print absolutes and ratios; each
writes ``bench/results/<name>.json`` (figures, machine, command) for docs/performance.md.
Everything listens on and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "RESULTS",
    "SimServer",
    "cpu_seconds",
    "cores",
    "machine",
    "peak_rss",
    "percentile",
    "pin",
    "rss",
    "write_result",
]

RESULTS = Path(__file__).resolve().parent / "results"
_TICK = os.sysconf("SC_CLK_TCK")


def cores() -> list[int]:
    """The CPUs this process may run on."""
    return sorted(os.sched_getaffinity(0))


def pin(pid: int, cpu: int | None) -> None:
    """Keep ``pid`` (all its threads) on one CPU; ``None`` leaves it free."""
    if cpu is None:
        return
    task_dir = Path(f"/proc/{pid}/task")
    tids = [int(t) for t in os.listdir(task_dir)] if task_dir.exists() else [pid]
    for tid in tids:
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(tid, {cpu})


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of a whole process (every thread), in seconds."""
    if pid is None or pid == os.getpid():
        return time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID)
    return sum(cpu_split(pid))


def cpu_split(pid: int) -> tuple[float, float]:
    """User and system CPU time of a whole process (every thread), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) / _TICK, int(fields[12]) / _TICK  # utime, stime (fields 14 and 15)


def cpu_runtime(pid: int) -> float:
    """CPU time of a whole process in seconds, to the microsecond: the scheduler's
    ``se.sum_exec_runtime`` of each thread (``/proc/<pid>/task/*/sched``). ``/proc/<pid>/stat``
    counts in whole clock ticks (10 ms), too coarse for a process that uses a few of them in a
    window. Falls back to :func:`cpu_seconds` where the kernel has no ``sched`` file."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            for line in (task / "sched").read_text().splitlines():
                if line.startswith("se.sum_exec_runtime"):
                    total += float(line.split(":")[1]) / 1000.0  # milliseconds
                    break
        except FileNotFoundError:
            return cpu_seconds(pid)
    return total


def wakeups(pid: int) -> int:
    """Voluntary context switches of every thread of a process so far: each is the thread
    going to sleep (a poll, a sleep, a lock) and so, on its return, one wake-up."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for line in (task / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    total += int(line.split()[1])
    return total


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def peak_rss(pid: int | None = None) -> int:
    """Peak resident memory of a process in bytes (VmHWM)."""
    return _status_kb(pid or os.getpid(), "VmHWM") * 1024


def rss(pid: int | None = None) -> int:
    """Resident memory of a process in bytes now (VmRSS)."""
    return _status_kb(pid or os.getpid(), "VmRSS") * 1024


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` percentile (0-100) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100.0 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": {
            name: _version(name)
            for name in ("rtms", "websockets", "aiohttp", "msgspec", "uvloop")
            if _version(name) is not None
        },
    }


def write_result(name: str, figures: dict[str, Any]) -> Path:
    """Keep ``figures`` with the machine and the command that produced them."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    record = {
        "benchmark": name,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": "python " + shlex.join(["bench/" + Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": machine(),
        **figures,
    }
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


_CONTROL = re.compile(r"^control\s+(http://\S+)/_sim/streams")
_SIGNALING = re.compile(r"^signaling\s+(ws://\S+)")


@dataclass
class SimServer:
    """``rtms-sim serve`` (real clock, ws:// only) as a process of its own, pinned to ``cpu``.

    Use as a context manager; ``base_url`` is its control API, ``signaling_url`` its
    signaling endpoint.
    """

    cpu: int | None = None
    extra: Sequence[str] = ()
    entry: Sequence[str] = ("-m", "simulator")  # how the interpreter is told to run rtms-sim
    env: dict[str, str] = field(default_factory=dict)  # added to the environment
    base_url: str = ""
    signaling_url: str = ""
    proc: subprocess.Popen[str] | None = field(default=None, repr=False)
    log_file: Path | None = None

    def __enter__(self) -> SimServer:
        args = [
            sys.executable,
            *self.entry,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-tls",
            "--log-level",
            "WARNING",
            *self.extra,
        ]
        # The simulator's log (webhook retries at shutdown and the like) goes to a file.
        self.log_file = Path(tempfile.mkstemp(prefix="rtms-sim-", suffix=".log")[1])
        with self.log_file.open("w") as log:
            self.proc = subprocess.Popen(
                args,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
            )
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if m := _CONTROL.match(line):
                self.base_url = m.group(1)
            if m := _SIGNALING.match(line):
                self.signaling_url = m.group(1)
            if self.base_url and self.signaling_url:
                break
        if not self.base_url:
            self.proc.wait()
            raise RuntimeError(
                f"rtms-sim serve did not start (exit {self.proc.returncode}); see {self.log_file}"
            )
        pin(self.proc.pid, self.cpu)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
