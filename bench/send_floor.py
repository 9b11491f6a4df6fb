"""Send floor: what N streams' 20 ms audio frames cost with the least Python there can be.

The simulator-capacity target (1000 streams on one core) is 50,000 frames a second, each a
``send()`` on its own loopback TCP socket. This benchmark sends the same load with nothing
else: a plain Python loop on CPU 0 wakes every millisecond and writes each due socket's
frame (a prebuilt ~900-byte buffer with a changing prefix) with one ``send()``; a reader
process on CPU 1 drains every socket through one epoll set. No asyncio, no WebSocket framing,
no state, no pacing record. Phases spread evenly over the 20 ms period, as in sim_capacity.

Printed per load point: the sender's user and system CPU per frame (from ``os.times``; the
kernel's tick accounting, so the split is coarse), the time inside ``send()`` per frame
(``perf_counter`` around each call), and the cores the sender needs. The simulator's own
figure (bench/sim_capacity.py) minus this floor is what its per-frame Python work costs.

    python bench/send_floor.py [--streams 100,1000] [--seconds 8]
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import pin, write_result

FRAME_BYTES = 900  # about an encoded 640-byte L16 frame in its JSON and WebSocket framing
STEP_MS = 20
SENDER_CPU, READER_CPU = 0, 1


def _reader(port: int, streams: int, seconds: float) -> None:
    """The child: connect ``streams`` sockets, then drain them until ``seconds`` have passed."""
    pin(os.getpid(), READER_CPU)
    selector = selectors.EpollSelector()
    for _ in range(streams):
        conn = socket.create_connection(("127.0.0.1", port))
        conn.setblocking(False)
        selector.register(conn, selectors.EVENT_READ)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for key, _ in selector.select(0.1):
            try:
                key.fileobj.recv(65536)  # type: ignore[union-attr]
            except BlockingIOError:
                continue
    os._exit(0)


def listener() -> tuple[socket.socket, int]:
    """A loopback listening socket and its port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)
    return sock, sock.getsockname()[1]


def accept_on_grid(
    listening: socket.socket, streams: int, *, blocking: bool
) -> tuple[list[socket.socket], dict[int, list[socket.socket]]]:
    """Accept ``streams`` connections (``TCP_NODELAY``) and spread them evenly over the 20 ms
    period: the sockets, and the sockets due at each millisecond of the period."""
    conns = []
    for _ in range(streams):
        conn, _ = listening.accept()
        conn.setblocking(blocking)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conns.append(conn)
    slots: dict[int, list[socket.socket]] = {}
    for i, conn in enumerate(conns):
        slots.setdefault(i * STEP_MS // streams, []).append(conn)
    return conns, slots


def measure(streams: int, seconds: float) -> dict[str, Any]:
    listening, port = listener()
    child = os.fork()
    if child == 0:
        _reader(port, streams, seconds + 10)
    pin(os.getpid(), SENDER_CPU)
    conns, slots = accept_on_grid(listening, streams, blocking=False)
    payload = b"x" * (FRAME_BYTES - 8)
    start = time.monotonic() + 0.2
    end = start + seconds
    sent = 0
    in_send = 0.0
    tick = 0
    before = os.times()
    while (due := start + tick / 1000.0) < end:
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
        for conn in slots.get(tick % STEP_MS, ()):
            frame = b"%08d" % (tick % 100_000_000) + payload
            t = time.perf_counter()
            conn.send(frame)
            in_send += time.perf_counter() - t
            sent += 1
        tick += 1
    after = os.times()
    os.waitpid(child, 0)
    for conn in conns:
        conn.close()
    listening.close()
    user, system = after.user - before.user, after.system - before.system
    return {
        "streams": streams,
        "seconds": seconds,
        "frames": sent,
        "user_us_per_frame": round(user / sent * 1e6, 2),
        "system_us_per_frame": round(system / sent * 1e6, 2),
        "cpu_us_per_frame": round((user + system) / sent * 1e6, 2),
        "in_send_us_per_frame": round(in_send / sent * 1e6, 2),
        "cores": round((user + system) / seconds, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="100,1000", help="load points, comma-separated")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds sent per load point")
    args = parser.parse_args(argv)
    print(f"sender on CPU {SENDER_CPU}, reader on CPU {READER_CPU}; {FRAME_BYTES}-byte frames, {STEP_MS} ms")
    columns = ("streams", "frames", "user µs", "sys µs", "cpu µs", "send µs", "cores")
    keys = ("user_us_per_frame", "system_us_per_frame", "cpu_us_per_frame", "in_send_us_per_frame")
    print(" ".join(f"{c:>8}" for c in columns))
    points = []
    for n in (int(s) for s in args.streams.split(",") if s.strip()):
        p = measure(n, args.seconds)
        points.append(p)
        figures = [f"{p['streams']:>8}", f"{p['frames']:>8}", *(f"{p[k]:>8.2f}" for k in keys)]
        print(" ".join([*figures, f"{p['cores']:>8.3f}"]), flush=True)
    path = write_result("send_floor", {"frame_bytes": FRAME_BYTES, "points": points})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
