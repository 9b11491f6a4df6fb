"""The connector against Zoom's official SDK on the same simulator streams, in one run.

One simulator server (``rtms-sim serve``, ws://) runs pinned to CPU 0 for the whole run. For
each load point, one after the other, each consumer runs alone pinned to CPU 1:

* **connector**: the reference connector as deployed (``python -m connector``, as
  ``rtms-demo`` starts it): file sinks in a scratch directory, ``ZM_RTMS_MEDIA=audio,transcript``,
  no Redis. Its streams start from the simulator's real, signed ``meeting.rtms_started``
  webhooks (``POST /_sim/streams`` with ``webhook_url``).
* **sdk**: :mod:`bench.sdk_consumer`, Zoom's ``rtms`` SDK on one explicit EventLoop, doing the
  same job in its callbacks (audio bytes appended to a buffered file per stream, transcript
  lines appended). Its streams are started through the same control API without a webhook;
  the join parameters are the ``payload`` of the control API's answer.

Streams (3 participants, seed ``i``) are started ``--spacing`` seconds apart, a spacing that is
not a multiple of 20 ms, so that the phases of their 20 ms audio frames spread over the period
(the SDK notes: the per-frame cost depends on it). The phases reached are reported: each
stream's media starts with its CLIENT_READY_ACK, whose time the simulator's journal holds; the
share of streams in the fullest tenth of the 20 ms period is 0.1 when they are spread evenly.

Once every stream is ACTIVE with its three sockets (signaling, audio, transcript) and
``--warmup`` seconds have passed, a steady window of ``--window`` seconds is measured: the
consumer's CPU seconds (every thread, from /proc), the audio + transcript frames it counted
(the connector's Prometheus counter ``rtms_connector_frames_total``; the SDK consumer's own
counters), its RSS. Audio frames received in the window are compared with those due (50 a
second per stream): a simulator that cannot keep up (it shares its CPU with nothing but may
be saturated) shows there first.

Every stream lasts a fixed ``duration`` of script time, so the simulator sends exactly
``50 x duration`` audio frames per stream when it keeps up: once every stream has ended, the
frames each consumer recorded (the connector's ``stream.json`` files; the SDK consumer's
counters) are compared with that (``missing``). The connector also reports the frames it
dropped itself (full queues, ``dropped``); frames missing but not dropped were not sent.

Per-stream memory is (RSS during the window - RSS before the first stream) / streams; the
cost per stream is the consumer's CPU in thousandths of a core per stream.

The connector runs with its defaults (``--connector-env`` adds settings); ``--connector-path``
runs another copy of the ``connector`` package (the unmodified one, for a before/after).
``--systems`` may add ``connector-inline``: the same connector started through
bench/connector_probe.py ``inline-reads`` (its selector reads the media sockets itself, an
experiment); it is measured like the others and kept under ``experiments``, not judged.
``connector-before`` adds the connector package found in ``--before-path`` (a checkout of an
earlier commit), measured like the connector in the same run, kept under ``experiments``.
``thin`` adds bench/thin_consumer.py, the least Python that does the SDK consumer's job (one
``epoll`` set for every socket, frames cut in place, the connector's msgspec decoder, buffered
files): a yardstick for how far below the SDK a consumer in Python can get, driven like the SDK
consumer and kept under ``experiments`` too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SimServer, cpu_seconds, cpu_split, peak_rss, rss, wakeups, write_result

from contracts.targets.simulator import DEFAULT_CREDENTIALS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FRAME_RATE = 50  # 20 ms L16 audio frames per second per stream (§4.3 defaults)
SOCKETS = 3  # signaling, media:audio, media:transcript
RATIO_TARGET = 0.5  # the connector's CPU per frame, as a fraction of the SDK's
CORE_TARGET_STREAMS = 500  # the connector handles this many streams on at most one core
DUE_SHARE = 0.95  # below this share of the audio frames due in the window, the load was not reached
_FRAMES = re.compile(r'^rtms_connector_frames_total\{kind="(\w+)"\} (\S+)$', re.M)
_OWNED = re.compile(r"^rtms_connector_streams_owned (\S+)$", re.M)


class BenchError(Exception):
    pass


@dataclass
class Measurement:
    """One consumer at one load point."""

    system: str
    streams: int
    window_s: float = 0.0
    cpu_s: float = 0.0
    user_s: float = 0.0
    wakeups: int = 0  # voluntary context switches of the consumer's threads in the window
    audio: int = 0
    transcript: int = 0
    sim_cpu_s: float = 0.0
    rss_idle: int = 0
    rss_load: int = 0
    peak_rss: int = 0
    join_s: float = 0.0
    expected_audio_total: int = 0
    audio_total: int = 0
    transcript_total: int = 0
    dropped: int | None = None  # frames the consumer itself dropped (the connector's full queues)
    phase_buckets: list[int] = field(default_factory=list)  # streams per 2 ms of the 20 ms period
    valid: bool = True
    round_no: int = 0  # of --repeat
    notes: list[str] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return self.audio + self.transcript

    @property
    def expected_audio(self) -> float:
        return self.streams * FRAME_RATE * self.window_s

    @property
    def cpu_per_1000(self) -> float:
        return 1000 * self.cpu_s / self.frames if self.frames else math.nan

    @property
    def us_per_frame(self) -> float:
        return self.cpu_per_1000 * 1000

    @property
    def wakeups_per_frame(self) -> float:
        return self.wakeups / self.frames if self.frames else math.nan

    @property
    def us_per_wakeup(self) -> float:
        return 1e6 * self.cpu_s / self.wakeups if self.wakeups else math.nan

    @property
    def cores(self) -> float:
        return self.cpu_s / self.window_s if self.window_s else math.nan

    @property
    def millicores_per_stream(self) -> float:
        return 1000 * self.cores / self.streams

    @property
    def phase_max_share(self) -> float:
        total = sum(self.phase_buckets)
        return max(self.phase_buckets) / total if total else math.nan

    @property
    def kib_per_stream(self) -> float:
        return (self.rss_load - self.rss_idle) / 1024 / self.streams

    @property
    def missing(self) -> int:
        """Audio frames due over the whole run and not recorded (dropped here, or never sent)."""
        return self.expected_audio_total - self.audio_total

    def as_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "streams": self.streams,
            "round": self.round_no,
            "window_s": round(self.window_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "audio_frames": self.audio,
            "transcript_frames": self.transcript,
            "due_audio_frames": round(self.expected_audio),
            "cpu_s_per_1000_frames": round(self.cpu_per_1000, 4),
            "us_per_frame": round(self.us_per_frame, 2),
            "user_us_per_frame": round(1e6 * self.user_s / self.frames, 2) if self.frames else None,
            "wakeups": self.wakeups,
            "wakeups_per_frame": round(self.wakeups_per_frame, 3),
            "us_per_wakeup": round(self.us_per_wakeup, 1),
            "cores": round(self.cores, 4),
            "millicores_per_stream": round(self.millicores_per_stream, 3),
            "simulator_cores": round(self.sim_cpu_s / self.window_s, 4) if self.window_s else None,
            "rss_idle_mib": round(self.rss_idle / 2**20, 2),
            "rss_load_mib": round(self.rss_load / 2**20, 2),
            "peak_rss_mib": round(self.peak_rss / 2**20, 2),
            "kib_per_stream": round(self.kib_per_stream, 1),
            "join_s": round(self.join_s, 2),
            "phase_buckets_2ms": self.phase_buckets,
            "phase_max_share": round(self.phase_max_share, 3),
            "audio_total": self.audio_total,
            "expected_audio_total": self.expected_audio_total,
            "audio_missing": self.missing,
            "dropped": self.dropped,
            "transcript_total": self.transcript_total,
            "valid": self.valid,
            "notes": self.notes,
        }


# --- consumers ------------------------------------------------------------------------------


def _on_cpu(cpu: int | None) -> Callable[[], None] | None:
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


class Consumer:
    """A consumer process: started before the streams, asked for its counts, stopped after."""

    system = ""
    pid = 0

    async def start(self) -> None: ...
    async def join(self, http: aiohttp.ClientSession, base: str, body: dict[str, Any]) -> str: ...
    async def frames(self) -> tuple[int, int]: ...
    async def streams_done(self) -> int: ...
    async def totals(self) -> tuple[int, int]: ...
    async def stop(self) -> None: ...


class ConnectorConsumer(Consumer):
    """``python -m connector`` with file sinks; streams come from the simulator's webhooks."""

    system = "connector"
    dropped: int | None = None

    def __init__(
        self,
        cpu: int | None,
        env: dict[str, str],
        python: str,
        path: str | None = None,
        probe: str | None = None,
    ) -> None:
        self.probe = probe  # a bench/connector_probe.py mode: an experimental read path
        self.cpu = cpu
        self.env = env
        self.python = python
        self.path = path  # a directory holding another ``connector`` package (a before/after run)
        self.scratch = Path(tempfile.mkdtemp(prefix="rtms-bench-connector-"))
        self.output = self.scratch / "out"
        self._stderr = open(self.scratch / "connector.log", "wb")  # noqa: SIM115 - the process's life
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""
        self.base = ""
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        creds = DEFAULT_CREDENTIALS
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZM_RTMS_")}
        env.update({"PYTHONUNBUFFERED": "1", "ZM_RTMS_MEDIA": "audio,transcript", **self.env})
        if self.path:
            env["PYTHONPATH"] = os.pathsep.join(p for p in (self.path, env.get("PYTHONPATH")) if p)
        entry = [str(HERE / "connector_probe.py"), self.probe] if self.probe else ["-m", "connector"]
        self.proc = await asyncio.create_subprocess_exec(
            self.python,
            *entry,
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--path",
            "/zoom/webhook",
            "--output",
            str(self.output),
            "--client-id",
            creds.client_id,
            "--client-secret",
            creds.client_secret,
            "--webhook-secret",
            creds.webhook_secret,
            "--log-level",
            "WARNING",
            stdout=asyncio.subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            # Not the checkout: ``-m`` puts the working directory first on the path, before
            # ``--connector-path``.
            cwd=str(self.scratch),
            preexec_fn=_on_cpu(self.cpu),
        )
        self.pid = self.proc.pid
        assert self.proc.stdout is not None
        line = (await asyncio.wait_for(self.proc.stdout.readline(), 30)).decode().strip()
        if not line.startswith("listening "):
            raise BenchError(f"the connector did not start: {line or self.log_tail()}")
        self.url = line.split(" ", 1)[1]
        self.base = self.url.split("/zoom/webhook")[0]
        self._http = aiohttp.ClientSession()

    async def join(self, http: aiohttp.ClientSession, base: str, body: dict[str, Any]) -> str:
        async with http.post(f"{base}/_sim/streams", json={**body, "webhook_url": self.url}) as r:
            if r.status != 201:
                raise BenchError(f"POST /_sim/streams: {r.status} {await r.text()}")
            return str((await r.json())["rtms_stream_id"])

    async def _metrics(self) -> str:
        assert self._http is not None
        async with self._http.get(f"{self.base}/metrics") as r:
            return await r.text()

    async def frames(self) -> tuple[int, int]:
        counts = {kind: float(v) for kind, v in _FRAMES.findall(await self._metrics())}
        return int(counts.get("audio", 0)), int(counts.get("transcript", 0))

    async def streams_done(self) -> int:
        return sum(1 for _ in self.output.glob("*/stream.json")) if self.output.exists() else 0

    async def totals(self) -> tuple[int, int]:
        audio = transcript = dropped = 0
        for path in self.output.glob("*/stream.json"):
            summary = json.loads(path.read_text())
            audio += int(summary.get("audio_messages", 0))
            transcript += int(summary.get("transcript_lines", 0))
            dropped += sum(int(n) for n in summary.get("dropped", {}).values())
        self.dropped = dropped
        return audio, transcript

    def log_tail(self, lines: int = 5) -> str:
        path = self.scratch / "connector.log"
        text = path.read_text(errors="replace").splitlines() if path.exists() else []
        return " | ".join(text[-lines:])

    def log_lines(self) -> int:
        path = self.scratch / "connector.log"
        return len(path.read_text(errors="replace").splitlines()) if path.exists() else 0

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 60)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self._stderr.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


class SdkConsumer(Consumer):
    """:mod:`sdk_consumer` in a scratch working directory; joins are sent on its stdin."""

    system = "sdk"

    def __init__(
        self, cpu: int | None, python: str, script: str = "sdk_consumer.py", poll: float | None = None
    ) -> None:
        self.cpu = cpu
        self.python = python
        self.script = script  # or thin_consumer.py: the same commands and answers
        self.poll = poll  # the SDK EventLoop's poll interval, seconds (None: the SDK's 10 ms)
        self.scratch = Path(tempfile.mkdtemp(prefix="rtms-bench-sdk-"))
        self.proc: asyncio.subprocess.Process | None = None
        self._answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.final: dict[str, Any] | None = None

    async def start(self) -> None:
        creds = DEFAULT_CREDENTIALS
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZM_RTMS_")}
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                "ZM_RTMS_CLIENT": creds.client_id,
                "ZM_RTMS_SECRET": creds.client_secret,
            }
        )
        self.proc = await asyncio.create_subprocess_exec(
            self.python,
            str(HERE / self.script),
            "--output",
            str(self.scratch / "out"),
            *(["--poll", str(self.poll)] if self.poll is not None else []),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
            cwd=str(self.scratch),
            preexec_fn=_on_cpu(self.cpu),
            limit=2**20,
        )
        self.pid = self.proc.pid
        self._reader = asyncio.create_task(self._read())
        ready = await asyncio.wait_for(self._answers.get(), 30)
        if not ready.get("ready"):
            raise BenchError(f"the SDK consumer did not start: {ready}")

    async def _read(self) -> None:
        """Every stdout line is read (the SDK prints too); ours are kept."""
        assert self.proc is not None
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            line = raw.decode(errors="replace")
            if line.startswith("@@sdk "):
                await self._answers.put(json.loads(line[6:]))
        await self._answers.put({"eof": True})

    async def _ask(self, command: str) -> dict[str, Any]:
        assert self.proc is not None
        assert self.proc.stdin is not None
        async with self._lock:
            self.proc.stdin.write(command.encode() + b"\n")
            await self.proc.stdin.drain()
            answer = await asyncio.wait_for(self._answers.get(), 30)
        if answer.get("eof"):
            raise BenchError("the SDK consumer exited")
        return answer

    async def join(self, http: aiohttp.ClientSession, base: str, body: dict[str, Any]) -> str:
        async with http.post(f"{base}/_sim/streams", json=body) as r:
            if r.status != 201:
                raise BenchError(f"POST /_sim/streams: {r.status} {await r.text()}")
            described = await r.json()
        assert self.proc is not None
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"join " + json.dumps(described["payload"]).encode() + b"\n")
        return str(described["rtms_stream_id"])

    async def frames(self) -> tuple[int, int]:
        counts = await self._ask("count")
        return int(counts["audio"]), int(counts["transcript"])

    async def streams_done(self) -> int:
        return int((await self._ask("count"))["left"])

    async def totals(self) -> tuple[int, int]:
        counts = await self._ask("count")
        return int(counts["audio"]), int(counts["transcript"])

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            try:
                self.final = await self._ask("quit")
                await asyncio.wait_for(self.proc.wait(), 30)
            except (BenchError, TimeoutError, ConnectionError):
                self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()
        shutil.rmtree(self.scratch, ignore_errors=True)


# --- one load point -------------------------------------------------------------------------


async def _phases(http: aiohttp.ClientSession, base: str, ids: set[str]) -> list[int]:
    """Streams per 2 ms of the 20 ms frame period: when each one's media started (its first
    CLIENT_READY_ACK, from the simulator's journal)."""
    query = {"kind": "CLIENT_READY_ACK", "direction": "in"}
    async with http.get(f"{base}/_sim/journal", params=query) as r:
        records = (await r.json())["records"]
    started: dict[str, int] = {}
    for record in records:
        if record["stream_id"] in ids:
            started.setdefault(record["stream_id"], int(record["epoch_ms"]))
    buckets = [0] * 10
    for epoch_ms in started.values():
        buckets[(epoch_ms % 20) // 2] += 1
    return buckets


async def _states(http: aiohttp.ClientSession, base: str, ids: set[str]) -> dict[str, tuple[str, int]]:
    async with http.get(f"{base}/_sim/streams") as r:
        listed = (await r.json())["streams"]
    return {
        s["rtms_stream_id"]: (s["state"], len(s["connections"])) for s in listed if s["rtms_stream_id"] in ids
    }


async def measure(
    consumer: Consumer,
    sim: SimServer,
    streams: int,
    *,
    window: float,
    warmup: float,
    spacing: float,
    seed0: int,
) -> Measurement:
    m = Measurement(consumer.system, streams)
    base = sim.base_url
    span = spacing * streams
    join_margin = 10 + streams * 0.02
    duration = math.ceil(span + join_margin + warmup + window + 5)
    m.expected_audio_total = streams * duration * FRAME_RATE
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        await consumer.start()
        await asyncio.sleep(1.0)
        m.rss_idle = rss(consumer.pid)
        t_start = time.monotonic()
        posts: list[asyncio.Task[str]] = []
        for i in range(streams):
            delay = t_start + i * spacing - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            body = {"duration": duration, "participants": 3, "seed": seed0 + i}
            posts.append(asyncio.create_task(consumer.join(http, base, body)))
        ids = set(await asyncio.gather(*posts))
        # Every stream ACTIVE with its three sockets.
        deadline = time.monotonic() + join_margin + 30
        while True:
            states = await _states(http, base, ids)
            joined = sum(1 for state, conns in states.values() if state == "ACTIVE" and conns >= SOCKETS)
            if joined == streams:
                break
            if time.monotonic() > deadline:
                # Measured all the same (a consumer that cannot join them all is a result too).
                m.valid = False
                m.notes.append(f"only {joined} of {streams} streams joined")
                break
            await asyncio.sleep(0.5)
        m.join_s = time.monotonic() - t_start
        m.phase_buckets = await _phases(http, base, ids)
        if m.join_s > span + join_margin:
            m.valid = False
            m.notes.append(f"joining took {m.join_s:.1f} s, more than the {span + join_margin:.1f} s planned")
        await asyncio.sleep(warmup)
        a0, t0 = await consumer.frames()
        k0, (u0, _) = wakeups(consumer.pid), cpu_split(consumer.pid)
        c0, s0, w0 = cpu_seconds(consumer.pid), cpu_seconds(sim.pid), time.monotonic()
        await asyncio.sleep(window)
        c1, s1, w1 = cpu_seconds(consumer.pid), cpu_seconds(sim.pid), time.monotonic()
        k1, (u1, _) = wakeups(consumer.pid), cpu_split(consumer.pid)
        m.wakeups, m.user_s = k1 - k0, u1 - u0
        a1, t1 = await consumer.frames()
        m.rss_load, m.peak_rss = rss(consumer.pid), peak_rss(consumer.pid)
        m.window_s, m.cpu_s, m.sim_cpu_s = w1 - w0, c1 - c0, s1 - s0
        m.audio, m.transcript = a1 - a0, t1 - t0
        states = await _states(http, base, ids)
        still = sum(1 for state, _ in states.values() if state == "ACTIVE")
        if still < streams:
            m.valid = False
            m.notes.append(f"{streams - still} streams were no longer ACTIVE at the end of the window")
        if m.audio < DUE_SHARE * m.expected_audio:
            # The simulator could not send at the due rate, or the consumer could not read at it
            # (TCP then slows the sender): either way the load point was not reached.
            m.valid = False
            m.notes.append(
                f"only {m.audio / m.expected_audio:.2f} of the audio frames due arrived in the window"
            )
        # Every stream ends on its own after `duration`; then the totals are final.
        deadline = time.monotonic() + duration + span + 60
        while await consumer.streams_done() < streams:
            if time.monotonic() > deadline:
                m.notes.append(f"only {await consumer.streams_done()} of {streams} streams finished")
                m.valid = False
                break
            await asyncio.sleep(0.5)
        m.audio_total, m.transcript_total = await consumer.totals()
        m.dropped = getattr(consumer, "dropped", None)
        if isinstance(consumer, ConnectorConsumer) and (lines := consumer.log_lines()):
            m.notes.append(f"{lines} log lines at WARNING or above, the last: {consumer.log_tail(2)}")
        await consumer.stop()
        async with http.post(f"{base}/_sim/reset") as r:
            await r.read()
    return m


# --- report -------------------------------------------------------------------------------


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(
        c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )


def report(points: list[tuple[Measurement, Measurement | None]]) -> tuple[str, list[dict[str, Any]], bool]:
    head = [
        "streams",
        "system",
        "round",
        "frames",
        "of due",
        "CPU s/1000",
        "µs/frame",
        "user µs",
        "wakes/frame",
        "µs/wake",
        "cores",
        "mcore/stream",
        "sim cores",
        "RSS MiB",
        "peak MiB",
        "KiB/stream",
        "missing",
        "dropped",
    ]
    rows: list[list[str]] = []
    verdicts: list[dict[str, Any]] = []
    ok = True
    for conn, sdk in points:
        for m in (conn, sdk):
            if m is None:
                continue
            rows.append(
                [
                    str(m.streams),
                    m.system + ("" if m.valid else " (!)"),
                    str(m.round_no),
                    str(m.frames),
                    f"{m.audio / m.expected_audio:.3f}" if m.expected_audio else "-",
                    f"{m.cpu_per_1000:.4f}",
                    f"{m.us_per_frame:.1f}",
                    f"{1e6 * m.user_s / m.frames:.1f}" if m.frames else "-",
                    f"{m.wakeups_per_frame:.2f}",
                    f"{m.us_per_wakeup:.1f}",
                    f"{m.cores:.3f}",
                    f"{m.millicores_per_stream:.2f}",
                    f"{m.sim_cpu_s / m.window_s:.2f}",
                    f"{m.rss_load / 2**20:.1f}",
                    f"{m.peak_rss / 2**20:.1f}",
                    f"{m.kib_per_stream:.1f}",
                    str(m.missing),
                    "-" if m.dropped is None else str(m.dropped),
                ]
            )
    by_streams: dict[int, list[tuple[Measurement, Measurement | None]]] = {}
    for conn, sdk in points:
        by_streams.setdefault(conn.streams, []).append((conn, sdk))
    for n, rounds in by_streams.items():
        pairs = [(c, s) for c, s in rounds if s is not None]
        if pairs:
            # With several rounds, the medians of each system's rounds are compared; every
            # round's own ratio is kept beside them.
            c_us = statistics.median(c.us_per_frame for c, _ in pairs)
            s_us = statistics.median(s.us_per_frame for _, s in pairs)
            ratio = c_us / s_us
            c_kib = statistics.median(c.kib_per_stream for c, _ in pairs)
            s_kib = statistics.median(s.kib_per_stream for _, s in pairs)
            mem = c_kib / s_kib if s_kib > 0 else math.nan
            # Not judged (None) when either side did not run at the load point as planned.
            valid = all(c.valid and s.valid for c, s in pairs)
            passed: bool | None = ratio <= RATIO_TARGET if valid else None
            ok &= passed is True
            verdict: dict[str, Any] = {
                "streams": n,
                "cpu_ratio": round(ratio, 3),
                "memory_ratio": round(mem, 3),
                "target": f"cpu_ratio <= {RATIO_TARGET}",
                "pass": passed,
            }
            if len(pairs) > 1:
                each = [c.us_per_frame / s.us_per_frame for c, s in pairs]
                verdict["round_ratios"] = [round(r, 3) for r in each]
                verdict["rounds_passed"] = sum(r <= RATIO_TARGET for r in each)
            verdicts.append(verdict)
        if n == CORE_TARGET_STREAMS:
            conns = [c for c, _ in rounds]
            cores = statistics.median(c.cores for c in conns)
            missing = sum(c.missing for c in conns)
            dropped = sum(c.dropped or 0 for c in conns)
            passed = (cores <= 1.0 and missing == 0 and dropped == 0) if all(c.valid for c in conns) else None
            ok &= passed is True
            verdicts.append(
                {
                    "streams": n,
                    "connector_cores": round(cores, 3),
                    "audio_missing": missing,
                    "dropped": dropped,
                    "target": f"connector <= 1 core at {CORE_TARGET_STREAMS} streams, no frame lost",
                    "pass": passed,
                }
            )
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(head)]
    lines = [_row(head, widths), _row(["-" * w for w in widths], widths)]
    lines += [_row(r, widths) for r in rows]
    lines.append("")
    for v in verdicts:
        verdict = {True: "PASS", False: "FAIL", None: "NOT JUDGED (see the notes)"}[v["pass"]]
        if "cpu_ratio" in v:
            lines.append(
                f"{v['streams']:>5} streams: connector/SDK CPU per frame {v['cpu_ratio']:.3f}, "
                f"memory per stream {v['memory_ratio']:.2f}  [{v['target']}: {verdict}]"
                + (
                    f"; rounds {', '.join(f'{r:.3f}' for r in v['round_ratios'])} "
                    f"({v['rounds_passed']} of {len(v['round_ratios'])} within the target)"
                    if "round_ratios" in v
                    else ""
                )
            )
        else:
            lines.append(
                f"{v['streams']:>5} streams: connector {v['connector_cores']:.3f} cores, "
                f"{v['audio_missing']} audio frames missing, {v['dropped']} dropped  "
                f"[{v['target']}: {verdict}]"
            )
    return "\n".join(lines), verdicts, ok


def _consumer(system: str, args: argparse.Namespace, env: dict[str, str]) -> Consumer:
    consumer: Consumer
    if system == "connector":
        consumer = ConnectorConsumer(args.cpu, env, args.python, args.connector_path)
    elif system == "connector-inline":  # an experiment: bench/connector_probe.py
        consumer = ConnectorConsumer(args.cpu, env, args.python, args.connector_path, "inline-reads")
        consumer.system = system
    elif system == "sdk":
        consumer = SdkConsumer(args.cpu, args.python, poll=args.sdk_poll)
    elif system == "connector-before":  # another copy of the package, side by side
        if not args.before_path:
            raise BenchError("--systems connector-before needs --before-path")
        consumer = ConnectorConsumer(args.cpu, env, args.python, args.before_path)
        consumer.system = system
    elif system == "thin":  # a yardstick: bench/thin_consumer.py
        consumer = SdkConsumer(args.cpu, args.python, "thin_consumer.py", args.sdk_poll)
        consumer.system = system
    else:
        raise BenchError(f"unknown system {system!r}")
    return consumer


async def run(args: argparse.Namespace) -> int:
    # SIGTERM and SIGINT cancel the run: every process it started is stopped on the way out.
    main = asyncio.current_task()
    assert main is not None
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, main.cancel)
    streams = [int(s) for s in args.streams.split(",") if s.strip()]
    env = dict(item.split("=", 1) for item in args.connector_env)
    points: list[tuple[Measurement, Measurement | None]] = []
    experiments: list[Measurement] = []  # connector-inline, thin: not judged, kept beside the others
    seed0 = 0
    if args.sim_cpu is not None:
        os.sched_setaffinity(0, {args.sim_cpu})  # this driver stays off the consumers' CPU
    with SimServer(cpu=args.sim_cpu) as sim:
        print(f"simulator {sim.base_url} on CPU {args.sim_cpu}; consumers on CPU {args.cpu}", flush=True)
        for n in streams:
            for round_ in range(args.repeat):  # rounds alternate the systems at each load point
                common = {
                    "window": args.window,
                    "warmup": args.warmup,
                    "spacing": args.spacing,
                    "seed0": seed0,
                }
                results: dict[str, Measurement] = {}
                for system in args.systems.split(","):
                    consumer = _consumer(system, args, env)
                    try:
                        m = await measure(consumer, sim, n, **common)
                    finally:
                        await consumer.stop()
                    m.round_no = round_
                    results[system] = m
                    print(
                        f"{n:>5} streams {system:>9}: {m.us_per_frame:6.1f} µs/frame, "
                        f"{m.wakeups_per_frame:.2f} wake-ups/frame, {m.us_per_wakeup:.1f} µs/wake-up, "
                        f"{m.cores:.3f} cores, {m.frames} frames ({m.audio / m.expected_audio:.3f} of due), "
                        f"{m.kib_per_stream:.1f} KiB/stream, missing {m.missing}, dropped {m.dropped}, "
                        f"phases {m.phase_buckets}" + (f"  [{'; '.join(m.notes)}]" if m.notes else ""),
                        flush=True,
                    )
                seed0 += n
                conn = results.get("connector")
                if conn is not None:
                    points.append((conn, results.get("sdk")))
                experiments += [
                    results[s] for s in ("connector-inline", "connector-before", "thin") if s in results
                ]
    table, verdicts, ok = report(points)
    print()
    print(table)
    figures = {
        "phase_model": f"streams started {args.spacing * 1000:g} ms apart (phases spread over each 20 ms)",
        "window_s": args.window,
        "connector_env": env,
        "sdk_poll_s": args.sdk_poll if args.sdk_poll is not None else 0.01,
        "thin_poll": args.sdk_poll is not None,  # the thin consumer polls as the SDK does
        "connector_path": args.connector_path,
        "results": [m.as_dict() for pair in points for m in pair if m is not None],
        "verdicts": verdicts,
    }
    if experiments:
        figures["experiments"] = [m.as_dict() for m in experiments]
    path = write_result(args.name, figures)
    print(f"\nwrote {path.relative_to(ROOT)}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="10,100,500,1000", help="load points (comma-separated)")
    parser.add_argument("--window", type=float, default=15.0, help="steady window measured, seconds")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds after the last join")
    parser.add_argument(
        "--spacing", type=float, default=0.01236, help="seconds between stream starts (not a 20 ms multiple)"
    )
    parser.add_argument(
        "--systems",
        default="connector,sdk",
        help="connector, sdk, connector-inline (an experiment), connector-before (see --before-path), "
        "thin (a yardstick), comma-separated",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds per load point, each measuring every system in turn"
    )
    parser.add_argument("--cpu", type=int, default=1, help="CPU the consumers run on")
    parser.add_argument("--sim-cpu", type=int, default=0, help="CPU the simulator runs on")
    parser.add_argument(
        "--connector-env", action="append", default=[], metavar="NAME=VALUE", help="extra connector setting"
    )
    parser.add_argument(
        "--sdk-poll",
        type=float,
        help="the SDK EventLoop's poll interval in seconds (default: the SDK's own, 0.01); also the thin "
        "consumer's poll spacing (default: none)",
    )
    parser.add_argument("--python", default=sys.executable, help="interpreter for the consumers")
    parser.add_argument(
        "--connector-path",
        help="directory put first on the connector's PYTHONPATH (another connector package)",
    )
    parser.add_argument(
        "--before-path",
        help="directory holding the connector package measured as connector-before (before/after in one run)",
    )
    parser.add_argument(
        "--name", default="connector_vs_sdk", help="result file name (bench/results/NAME.json)"
    )
    args = parser.parse_args()
    try:
        return asyncio.run(run(args))
    except BenchError as exc:
        print(f"connector_vs_sdk: {exc}", file=sys.stderr)
        return 2
    except asyncio.CancelledError:
        print("connector_vs_sdk: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
