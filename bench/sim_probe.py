"""``rtms-sim`` with a probe, for bench/sim_breakdown.py: where the simulator's CPU per frame goes.

    python bench/sim_probe.py MODE serve [rtms-sim serve options]

MODE ``write-time`` times every write to a socket transport (``perf_counter`` around asyncio's
``write``: its checks, then the ``send()`` system call; media frames are almost all of them),
otherwise the simulator's own code path. MODE ``lean`` replaces the audio
pump's per-frame work with the least that still sends a frame on the same grid through the
same sockets: a fixed silent frame, no paced-lateness record, no journal count, no
pause/speaker/script checks. It is an experiment, not a simulator: its frames are not Zoom's
(the timestamp is the slot index). It shows what the server's architecture itself (asyncio
loop, timer wheel, transport checks, system call) costs per frame. MODE ``flat`` keeps the
shipped frames and bookkeeping but runs every audio pump from one list per millisecond with
the frame path written out inline and ``send()`` on the socket; MODE ``thread`` runs that
lane in a thread of its own, off the asyncio loop; MODE ``build-only`` is that thread with
the ``send()`` left out (every frame built and counted, none sent: what the frame's Python
work costs alone; the client receives no audio). ``flat`` and ``thread`` deliver the same frames as the
simulator (a capacity run loses none); they are experiments that measure what flattening the
frame path, and moving it off the loop, would save. (The thread writes a socket the loop may
write too: the two never split a frame only while the socket takes whole writes, which is
what an experiment on loopback can assume and a simulator could not.)

SIGUSR2 opens a window; SIGUSR1 closes it and appends one JSON line to ``$RTMS_BENCH_PROBE_OUT``:
the mode, the writes made, and per write the seconds in it and the process's user and system
CPU.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import sys
import threading
import time
from asyncio import selector_events
from typing import Any

from simulator import cli
from simulator import clock as clock_module
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


class _FlatLane:
    """MODE ``flat``: every audio pump of the process on one list per millisecond, run by one
    clock ticker per millisecond in one loop, with the frame path written out flat: the same
    checks, frame bytes, lateness record and journal count as the shipped pump, then one
    ``send()`` on the socket when asyncio's transport has nothing buffered for it (otherwise
    the peer's own path). An experiment: how far flattening the path inside the asyncio loop
    goes, against the shipped simulator, the lean run and the bare floor."""

    def __init__(self) -> None:
        self.slots: dict[int, list[Any]] = {}
        self.ticker: Any = None

    def _put(self, pump: Any, due: float) -> None:
        self.slots.setdefault(math.ceil(due * 1000.0), []).append(pump)

    def add(self, pump: Any, due: float) -> None:
        self._put(pump, due)
        if self.ticker is None:
            self.ticker = pump.timeline.clock.call_periodic(0.0, 0.001, math.ceil(due * 1000.0), self.tick)

    def tick(self, slot: int) -> bool:
        pumps = self.slots.pop(slot, None)
        if pumps:
            self.send(pumps)
        return True

    def later(self, callback: Any, *args: Any) -> None:
        """Run ``callback(*args)`` on the asyncio loop: this lane runs on it, so now."""
        callback(*args)

    def enlist(self, due: list[tuple[Any, float]]) -> None:
        for pump, when in due:
            self._put(pump, when)

    def send(self, pumps: list[Any]) -> None:
        """Each pump's frame of this millisecond: the one frame path of both lanes."""
        streaming, media_machine = peer_module._STREAMING, peer_module.MEDIA
        audio = stream_module.MediaType.AUDIO
        mixed_audio, header, later = stream_module._mixed_audio, peer_module._header, self.later
        requeue: list[tuple[Any, float]] = []
        sent = 0
        for pump in pumps:
            if pump._ticker.cancelled:  # the pump was cancelled (its peer detached, ...)
                continue
            peer, timeline = pump.peer, pump.timeline
            stream = timeline.stream
            index = pump.index
            if peer.gone or not stream.live:
                later(timeline._stopped, peer, audio)
                continue
            script_t = index * pump.step
            if pump.multi:
                if not stream.paused:
                    later(timeline._send_speaker_audio, peer, pump.source, script_t)
            elif not stream.paused:
                due = stream.media_started_at + script_t
                head, tail = mixed_audio(pump.source.mixed_frame(script_t))
                data = head + b"%d" % timeline.clock.epoch_ms_at(due) + tail
                machine, transport = peer.machine, peer._transport
                ready = machine.state is streaming and machine.machine is media_machine
                busy = transport is None or transport.get_write_buffer_size()
                direct = ready and not peer._pending and peer._direct and not busy
                if direct:
                    frame = header(peer._first_byte, len(data)) + data
                    try:
                        done = transport._sock.send(frame) if _SEND else len(frame)
                    except (BlockingIOError, InterruptedError):
                        done = 0
                    except OSError:
                        direct = False  # the peer's own path reports it
                if not direct:  # the state machine, a queue or an error: the peer's own path
                    later(peer.send_encoded_media, data, "audio", due)
                else:
                    if done < len(frame):
                        later(transport.write, frame[done:])
                    if peer._pacing is not None:
                        peer._pacing.record("audio", due)
                    sent += 1
                timeline.journal.media_counts[pump._counted] += 1
            index += 1
            pump.index = index
            if index * pump.step >= stream.script.duration:
                later(timeline._stopped, peer, audio)
                continue
            requeue.append((pump, stream.media_started_at + index * pump.step))
        self.enlist(requeue)
        _window["sends"] += sent


def _flat_arm(self: Any) -> bool:
    if self._over(self.index):
        return False
    started = self.timeline.stream.media_started_at
    self._ticker = clock_module.Ticker(0.0, 0.0, 0, lambda _: False)  # stands for the lane: cancel()
    _lane.add(self, started + self.index * self.step)
    return True


class _ThreadLane(_FlatLane):
    """MODE ``thread``: the flat lane run by a thread of its own, a plain loop that sleeps to
    each millisecond and sends that millisecond's frames with ``send()`` on the sockets, so no
    frame passes through the asyncio loop (which keeps the handshakes, keep-alives,
    transcripts and the control API). What must happen on the loop (a pump that stops, a frame
    that cannot go out directly) is handed to it with ``call_soon_threadsafe``. An experiment:
    what moving the frames off the asyncio loop saves."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.loop: Any = None

    def add(self, pump: Any, due: float) -> None:
        with self.lock:
            self._put(pump, due)
            if self.loop is None:
                self.loop = asyncio.get_running_loop()
                threading.Thread(target=self.run, name="frames", daemon=True).start()

    def later(self, callback: Any, *args: Any) -> None:
        self.loop.call_soon_threadsafe(callback, *args)

    def enlist(self, due: list[tuple[Any, float]]) -> None:
        with self.lock:
            super().enlist(due)

    def run(self) -> None:
        slot = math.ceil(time.monotonic() * 1000.0)
        while True:
            wait = slot / 1000.0 - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            with self.lock:
                due = [s for s in self.slots if s <= slot]
                pumps = [p for s in sorted(due) for p in self.slots.pop(s)]
            if pumps:
                self.send(pumps)
            slot += 1


_SEND = MODE != "build-only"  # build-only: the thread lane builds each frame and sends nothing
_lane: _FlatLane = _ThreadLane() if MODE in ("thread", "build-only") else _FlatLane()


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


if MODE not in ("write-time", "lean", "flat", "thread", "build-only"):
    sys.exit(f"sim_probe: unknown mode {MODE!r} (write-time, lean, flat, thread or build-only)")
selector_events._SelectorSocketTransport.write = _timed_write  # type: ignore[method-assign]
if MODE == "lean":
    peer_module.Peer.__init__ = _init_without_pacing  # type: ignore[method-assign]
    stream_module._AudioPump._fire = _lean_fire  # type: ignore[method-assign]
if MODE in ("flat", "thread", "build-only"):
    stream_module._AudioPump.arm = _flat_arm  # type: ignore[method-assign]
signal.signal(signal.SIGUSR2, _open)
signal.signal(signal.SIGUSR1, _close)
sys.exit(cli.main(sys.argv[2:]))
