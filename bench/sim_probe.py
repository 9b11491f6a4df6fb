"""``rtms-sim`` with a probe, for bench/sim_breakdown.py: where the simulator's CPU per frame goes.

    python bench/sim_probe.py MODE serve [rtms-sim serve options]

MODE ``write-time`` times every write to a socket transport (``perf_counter`` around asyncio's
``write``: its checks, then the ``send()`` system call; media frames are almost all of them),
otherwise the simulator's own code path. MODE ``lean`` replaces the audio
pump's per-frame work with the least that still sends a frame on the same grid through the
same sockets: a fixed silent frame, no paced-lateness record, no journal count, no
pause/speaker/script checks. It is an experiment, not a simulator: its frames are not Zoom's
(the timestamp is the slot index). It shows what the server's architecture itself (asyncio
loop, timer wheel, transport checks, system call) costs per frame.

SIGUSR2 opens a window; SIGUSR1 closes it and appends one JSON line to ``$RTMS_BENCH_PROBE_OUT``:
the mode, the writes made, and per write the seconds in it and the process's user and system
CPU.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from asyncio import selector_events
from typing import Any

from simulator import cli
from simulator import peer as peer_module
from simulator import stream as stream_module

MODE = sys.argv[1]
_window: dict[str, Any] = {"sends": 0, "in_write": 0.0}
_clock = time.perf_counter
_write = selector_events._SelectorSocketTransport.write
_init = peer_module.Peer.__init__


def _timed_write(self: Any, data: Any) -> None:
    """The socket transport's write (asyncio's checks, then its send() system call), timed."""
    started = _clock()
    _write(self, data)
    _window["in_write"] += _clock() - started
    _window["sends"] += 1


def _init_without_pacing(self: peer_module.Peer, *args: Any, **kwargs: Any) -> None:
    _init(self, *args, **kwargs)
    self._pacing = None  # the lean run records no lateness


def _lean_fire(self: Any, index: int) -> bool:
    peer = self.peer
    if peer.gone:
        self.timeline._stopped(peer, stream_module.MediaType.AUDIO)
        return False
    head, tail = stream_module._mixed_audio(self.source._silence)
    peer.send_encoded_media(head + b"%d" % index + tail, "audio", 0.0)
    self.index = index + 1
    return True


def _open(*_: object) -> None:
    _window.update(sends=0, in_write=0.0, times=os.times())


def _close(*_: object) -> None:
    after = os.times()
    before = _window["times"]
    n = max(_window["sends"], 1)
    record = {
        "mode": MODE,
        "frames": _window["sends"],
        "in_write_us": round(_window["in_write"] / n * 1e6, 2),
        "user_us": round((after.user - before.user) / n * 1e6, 2),
        "system_us": round((after.system - before.system) / n * 1e6, 2),
    }
    with open(os.environ["RTMS_BENCH_PROBE_OUT"], "a") as out:
        out.write(json.dumps(record) + "\n")


if MODE not in ("write-time", "lean"):
    sys.exit(f"sim_probe: unknown mode {MODE!r} (write-time or lean)")
selector_events._SelectorSocketTransport.write = _timed_write  # type: ignore[method-assign]
if MODE == "lean":
    peer_module.Peer.__init__ = _init_without_pacing  # type: ignore[method-assign]
    stream_module._AudioPump._fire = _lean_fire  # type: ignore[method-assign]
signal.signal(signal.SIGUSR2, _open)
signal.signal(signal.SIGUSR1, _close)
sys.exit(cli.main(sys.argv[2:]))
