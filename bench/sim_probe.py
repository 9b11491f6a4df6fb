"""``rtms-sim`` with a probe, for bench/sim_breakdown.py: where the simulator's CPU per frame goes.

    python bench/sim_probe.py MODE serve [rtms-sim serve options]

MODE ``send-time`` times every ``send()`` of a media frame on its socket (``perf_counter``
around the call, otherwise the simulator's own code path). MODE ``lean`` replaces the audio
pump's per-frame work with the least that still sends a frame on the same grid through the
same sockets: a fixed silent frame, no paced-lateness record, no journal count, no
pause/speaker/script checks. It is an experiment, not a simulator: its frames are not Zoom's
(the timestamp is the slot index). It shows what the server's architecture itself (asyncio
loop, timer wheel, transport checks, system call) costs per frame.

SIGUSR2 opens a window; SIGUSR1 closes it and appends one JSON line to ``$RTMS_BENCH_PROBE_OUT``:
the mode, the frames sent, and per frame the seconds in ``send()`` and the process's user and
system CPU.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any

from simulator import cli
from simulator import peer as peer_module
from simulator import stream as stream_module

MODE = sys.argv[1]
_window: dict[str, Any] = {"sends": 0, "in_send": 0.0}
_clock = time.perf_counter
_LEN_16 = peer_module._LEN_16


def _timed_send_encoded_media(self: peer_module.Peer, data: bytes, kind: str, due: float) -> None:
    """Peer.send_encoded_media's direct path with the send() timed; the rest as it is."""
    if self.gone:
        return
    machine = self.machine
    if machine.state is not peer_module._STREAMING or machine.machine is not peer_module.MEDIA:
        machine.fire(peer_module.Trigger.MEDIA)
    transport = self._transport
    sock = self._sock
    if (
        self._pending
        or sock is None
        or transport is None
        or transport.get_write_buffer_size()
        or transport.is_closing()
        or self.ws.closed
        or self._protocol.writing_paused
        or len(data) >= 65536
    ):
        if not self._write_now(data):
            self._put((data, kind, due))
            return
    else:
        frame = _LEN_16(self._first_byte, 126, len(data)) + data
        started = _clock()
        try:
            sent = sock.send(frame)
        except (BlockingIOError, InterruptedError, OSError):
            sent = 0
        _window["in_send"] += _clock() - started
        _window["sends"] += 1
        if sent < len(frame):
            transport.write(frame[sent:])
    if MODE != "lean" and self._pacing is not None:
        self._pacing.record(kind, due)


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
    _window.update(sends=0, in_send=0.0, times=os.times())


def _close(*_: object) -> None:
    after = os.times()
    before = _window["times"]
    n = max(_window["sends"], 1)
    record = {
        "mode": MODE,
        "frames": _window["sends"],
        "in_send_us": round(_window["in_send"] / n * 1e6, 2),
        "user_us": round((after.user - before.user) / n * 1e6, 2),
        "system_us": round((after.system - before.system) / n * 1e6, 2),
    }
    with open(os.environ["RTMS_BENCH_PROBE_OUT"], "a") as out:
        out.write(json.dumps(record) + "\n")


if MODE not in ("send-time", "lean"):
    sys.exit(f"sim_probe: unknown mode {MODE!r} (send-time or lean)")
peer_module.Peer.send_encoded_media = _timed_send_encoded_media  # type: ignore[method-assign]
if MODE == "lean":
    stream_module._AudioPump._fire = _lean_fire  # type: ignore[method-assign]
signal.signal(signal.SIGUSR2, _open)
signal.signal(signal.SIGUSR1, _close)
sys.exit(cli.main(sys.argv[2:]))
