"""Wake floor: what reading a few streams' frames costs a process that does nothing else.

With few streams a consumer's CPU per frame is mostly its wake-ups: 10 streams send 500
frames a second, 2 ms apart, and a consumer that hands each frame on within 2 ms (the
connector's bound) has to wake about once per frame, while one that may wait 10 ms (Zoom's
SDK) can read five at a wake-up. This benchmark measures that floor on this machine. A
sender on CPU 0 writes a 900-byte message on each of N loopback TCP sockets every 20 ms,
phases spread evenly over the period (as bench/connector_vs_sdk.py's streams); a receiver on
CPU 1 reads and discards them, with nothing else to do:

* ``epoll``: plain Python, one ``epoll`` set, blocking until a socket is readable, then one
  ``recv`` per readable socket (a frame is read as it comes);
* ``asyncio``: asyncio's own event loop, one protocol per socket that drops what it gets;
* ``poll10``: plain Python, sleeping 10 ms between polls that do not block (the SDK's
  ``EventLoop.run`` spacing: a frame waits up to 10 ms);
* ``socat``: one ``socat`` process per socket (compiled C, a ``select`` per read), when socat
  is installed: what a wake-up costs without an interpreter.

Printed per receiver: CPU per message (the scheduler's run time of the receiver's processes,
to the microsecond, split into user and system by the kernel's tick-sampled shares), wake-ups
per message (voluntary context switches of the receiver's processes) and CPU per wake-up.

    python bench/wake_floor.py [--streams 10] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import select
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import cpu_runtime, cpu_split, pin, wakeups, write_result
from send_floor import FRAME_BYTES, SENDER_CPU, STEP_MS, accept_on_grid, listener

RECEIVER_CPU = 1
RECEIVERS = ("epoll", "asyncio", "poll10", "socat")


# --- receivers (run as `python bench/wake_floor.py --receive KIND --port P --streams N`) -------


def _connect(port: int, streams: int) -> list[socket.socket]:
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(streams)]
    for conn in conns:
        conn.setblocking(False)
    return conns


def _drain(conn: socket.socket) -> bool:
    """Read what ``conn`` holds; False once the sender closed it."""
    try:
        return bool(conn.recv(65536))
    except BlockingIOError:
        return True


def _receive_epoll(conns: list[socket.socket], poll: float | None) -> None:
    epoll = select.epoll()
    by_fd = {conn.fileno(): conn for conn in conns}
    for fd in by_fd:
        epoll.register(fd, select.EPOLLIN)
    while by_fd:
        if poll is not None:
            time.sleep(poll)
        for fd, _ in epoll.poll(0 if poll is not None else -1):
            if not _drain(by_fd[fd]):
                epoll.unregister(fd)
                by_fd.pop(fd).close()


class _Discard(asyncio.Protocol):
    def __init__(self, done: asyncio.Future[None]) -> None:
        self.done = done

    def data_received(self, data: bytes) -> None:
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def _receive_asyncio(conns: list[socket.socket]) -> None:
    loop = asyncio.get_running_loop()
    done: list[asyncio.Future[None]] = []
    for conn in conns:
        future: asyncio.Future[None] = loop.create_future()
        await loop.connect_accepted_socket(lambda future=future: _Discard(future), conn)
        done.append(future)
    await asyncio.gather(*done)


def receive(kind: str, port: int, streams: int) -> None:
    conns = _connect(port, streams)
    if kind == "epoll":
        _receive_epoll(conns, None)
    elif kind == "poll10":
        _receive_epoll(conns, 0.01)
    elif kind == "asyncio":
        asyncio.run(_receive_asyncio(conns))
    else:
        raise SystemExit(f"unknown receiver {kind!r}")


# --- the sender and the measurement -------------------------------------------------------


def _start_receivers(kind: str, port: int, streams: int) -> list[subprocess.Popen[bytes]]:
    if kind == "socat":
        command = ["socat", "-u", f"TCP:127.0.0.1:{port}", "OPEN:/dev/null"]
        procs = [subprocess.Popen(command) for _ in range(streams)]
    else:
        command = [
            sys.executable,
            __file__,
            "--receive",
            kind,
            "--port",
            str(port),
            "--streams",
            str(streams),
        ]
        procs = [subprocess.Popen(command)]
    for proc in procs:
        pin(proc.pid, RECEIVER_CPU)
    return procs


def _totals(procs: list[subprocess.Popen[bytes]]) -> tuple[float, float, int]:
    """CPU seconds (to the microsecond), of them user seconds (the kernel's tick-sampled share
    of it), and wake-ups, summed over ``procs``."""
    cpu = user = 0.0
    wakes = 0
    for proc in procs:
        runtime = cpu_runtime(proc.pid)
        u, s = cpu_split(proc.pid)
        cpu += runtime
        user += runtime * u / (u + s) if u + s else 0.0
        wakes += wakeups(proc.pid)
    return cpu, user, wakes


def measure(kind: str, streams: int, seconds: float, warmup: float = 2.0) -> dict[str, Any]:
    listening, port = listener()
    procs = _start_receivers(kind, port, streams)
    pin(os.getpid(), SENDER_CPU)
    conns, slots = accept_on_grid(listening, streams, blocking=True)
    payload = b"x" * (FRAME_BYTES - 8)
    start = time.monotonic() + 0.2
    window_start, end = start + warmup, start + warmup + seconds
    sent = 0
    before: tuple[float, float, int] | None = None
    tick = 0
    while (due := start + tick / 1000.0) < end:
        if before is None and due >= window_start:
            before = _totals(procs)
            sent = 0
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
        for conn in slots.get(tick % STEP_MS, ()):
            conn.sendall(b"%08d" % (tick % 100_000_000) + payload)
            sent += 1
        tick += 1
    after = _totals(procs)
    for conn in conns:
        conn.close()
    listening.close()
    for proc in procs:
        proc.wait(timeout=30)
    assert before is not None
    cpu, user, wakes = (a - b for a, b in zip(after, before, strict=True))
    system = cpu - user
    return {
        "receiver": kind,
        "streams": streams,
        "seconds": seconds,
        "messages": sent,
        "user_us_per_message": round(user / sent * 1e6, 2),
        "system_us_per_message": round(system / sent * 1e6, 2),
        "cpu_us_per_message": round(cpu / sent * 1e6, 2),
        "wakeups_per_message": round(wakes / sent, 3),
        "us_per_wakeup": round(cpu / wakes * 1e6, 1) if wakes else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=10, help="sockets, one message each per 20 ms")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per receiver")
    parser.add_argument(
        "--receivers", default=",".join(RECEIVERS), help="comma-separated: " + ", ".join(RECEIVERS)
    )
    parser.add_argument("--repeat", type=int, default=2, help="rounds over the receivers (alternated)")
    parser.add_argument("--receive", help=argparse.SUPPRESS)  # a receiver process
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.receive:
        receive(args.receive, args.port, args.streams)
        return 0
    kinds = [k for k in args.receivers.split(",") if k]
    skipped = {}
    if "socat" in kinds and shutil.which("socat") is None:
        kinds.remove("socat")
        skipped["socat"] = "socat is not installed"
        print("socat: not measured (not installed)")
    print(
        f"sender on CPU {SENDER_CPU}, receivers on CPU {RECEIVER_CPU}; {args.streams} sockets, "
        f"a {FRAME_BYTES}-byte message each per {STEP_MS} ms"
    )
    runs: list[dict[str, Any]] = []
    for round_ in range(args.repeat):
        for kind in kinds:
            p = measure(kind, args.streams, args.seconds)
            p["round"] = round_
            runs.append(p)
            print(
                f"{kind:>8}: {p['cpu_us_per_message']:6.1f} µs/message "
                f"(user {p['user_us_per_message']:.1f}), "
                f"{p['wakeups_per_message']:.2f} wake-ups/message, {p['us_per_wakeup']} µs/wake-up",
                flush=True,
            )
    # Per receiver, the run with the median CPU per message (the lower middle one of two).
    points = []
    for kind in kinds:
        mine = sorted((r for r in runs if r["receiver"] == kind), key=lambda r: r["cpu_us_per_message"])
        points.append(
            {**mine[(len(mine) - 1) // 2], "runs_us_per_message": [r["cpu_us_per_message"] for r in mine]}
        )
    path = write_result(
        "wake_floor",
        {"frame_bytes": FRAME_BYTES, "streams": args.streams, "points": points, "skipped": skipped},
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
