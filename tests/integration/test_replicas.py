"""Three connector replicas, one stream, one real Redis: exactly one owner, and a handover when
the owner is killed (docs/ownership.md).

The replicas are real processes (``python -m connector``) sharing a real Redis server; the
simulator runs in this process on real time, because the replicas do. Zoom's webhook reaches
all three at once — the way field report F1's four instances each received it — through a
small fan-out endpoint. The simulator's journal is the judge: it records every signaling
handshake and every socket close, in its clock's time (``loop.time()``, the same monotonic
clock as ``time.monotonic()`` here).

Waits are bounded event waits on the journal or on a process; none sleeps for behaviour.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from connector.lease import RedisLeaseStore
from connector.protocol import MessageType, StopReason
from contracts.connector.fanout import FanOut
from simulator.config import SimulatorConfig
from simulator.journal import Record
from simulator.server import Simulator

LEASE_TTL = 3.0
REPLICAS = 3
STARTUP = 30.0  # bound on a replica printing its URL (a cold interpreter imports aiohttp, redis …)


@dataclass
class Replica:
    name: str
    process: asyncio.subprocess.Process
    url: str
    output: Path
    log: Path

    @classmethod
    async def start(cls, name: str, env: dict[str, str], output: Path) -> Replica:
        log = output.with_suffix(".log")
        with log.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "connector",
                env={**env, "ZM_RTMS_REPLICA_ID": name, "ZM_RTMS_OUTPUT": str(output)},
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
            )
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), STARTUP)
        text = line.decode().strip()
        assert text.startswith("listening "), f"replica {name} did not start: {text!r}"
        return cls(name, process, text.split(" ", 1)[1], output, log)

    def logged(self, needle: str) -> list[dict[str, object]]:
        """This replica's JSON log records whose message contains ``needle``."""
        records = [json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")]
        return [r for r in records if needle in str(r.get("msg", ""))]

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    async with Simulator(SimulatorConfig(tls_port=None)) as sim:
        yield sim


def _signaling_intervals(records: list[Record], stream_id: str) -> list[tuple[float, float]]:
    """(opened, closed) of every signaling connection that sent a handshake, in journal order."""
    opened: list[float] = []
    intervals: list[tuple[float, float]] = []
    for r in records:
        if r.stream_id != stream_id or r.channel != "signaling":
            continue
        if r.kind == MessageType.SIGNALING_HAND_SHAKE_REQ.name and r.direction == "in":
            opened.append(r.t)
        elif r.kind == "socket_closed" and opened:
            intervals.append((opened.pop(0), r.t))
    intervals += [(t, float("inf")) for t in opened]
    return intervals


def _max_concurrent(intervals: list[tuple[float, float]]) -> int:
    edges = sorted(
        [(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals], key=lambda e: (e[0], e[1])
    )
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak


async def test_three_replicas_one_owner_and_handover_on_sigkill(
    simulator: Simulator, redis_db: str, tmp_path: Path
) -> None:
    app = simulator.config.app
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ZM_RTMS_")},
        "ZM_RTMS_CLIENT": app.client_id,
        "ZM_RTMS_SECRET": app.client_secret,
        "ZM_RTMS_WEBHOOK_SECRET": app.webhook_secret,
        "ZM_RTMS_PORT": "0",
        "ZM_RTMS_REDIS_URL": redis_db,
        "ZM_RTMS_LEASE_TTL": str(LEASE_TTL),
        "ZM_RTMS_LOG_FORMAT": "json",
    }
    replicas = list(
        await asyncio.gather(
            *(Replica.start(f"replica-{i}", env, tmp_path / f"out-{i}") for i in range(REPLICAS))
        )
    )
    fan_out = FanOut()
    fan_out.targets = [r.url for r in replicas]
    fan_out_url = await fan_out.start()
    store = RedisLeaseStore(redis_db)
    try:
        stream = simulator.start_stream(webhook_url=fan_out_url, duration=300.0, seed=5)
        sid = stream.stream_id
        journal = simulator.journal
        await journal.wait_for(
            lambda r: r.stream_id == sid and r.kind == MessageType.EVENT_SUBSCRIPTION.name, timeout=20
        )
        holder = await store.holder(sid)
        assert holder is not None
        owner = next(r for r in replicas if r.name == holder.owner)
        first_token = holder.token
        # Every replica got the webhook; the two that lost the lease never opened a socket.
        # The owner may subscribe before the fan-out has answered the webhook: wait for the
        # simulator's record of the delivery rather than assume it is there already.
        await journal.wait_for(lambda r: r.stream_id == sid and r.kind == "delivery", timeout=20)
        deliveries = journal.select(stream_id=sid, kind="delivery")
        assert [d.detail["status"] for d in deliveries] == [200]

        killed_at, killed_wall = time.monotonic(), time.time()
        owner.process.send_signal(signal.SIGKILL)
        await owner.process.wait()
        second = await journal.wait_for(
            lambda r: (
                r.stream_id == sid and r.kind == MessageType.EVENT_SUBSCRIPTION.name and r.t > killed_at
            ),
            timeout=LEASE_TTL + 15,
        )
        handshake = next(
            r
            for r in journal.select(stream_id=sid, kind=MessageType.SIGNALING_HAND_SHAKE_REQ.name)
            if r.t > killed_at
        )
        new_holder = await store.holder(sid)
        assert new_holder is not None
        assert new_holder.owner != owner.name
        assert new_holder.token > first_token  # the fencing token moved on
        new_owner = next(r for r in replicas if r.name == new_holder.owner)
        adopted = new_owner.logged("adopted")
        assert len(adopted) == 1, adopted
        taken = datetime.fromisoformat(str(adopted[0]["ts"])).timestamp() - killed_wall
        handshake_after = handshake.t - killed_at
        print(
            f"\nhandover after SIGKILL: lease taken {taken:.3f} s,"
            f" signaling handshake {handshake_after:.3f} s,"
            f" streaming again {second.t - killed_at:.3f} s (lease TTL {LEASE_TTL} s)"
        )
        assert taken <= LEASE_TTL, f"the lease moved {taken:.3f} s after the kill, more than its TTL"
        # Joining is a few loopback round trips after taking the lease.
        assert handshake_after <= LEASE_TTL + 0.5

        # The journal's verdict: never two signaling connections at once, all accepted.
        intervals = _signaling_intervals(journal.records, sid)
        assert len(intervals) == 2
        assert _max_concurrent(intervals) == 1
        responses = journal.select(stream_id=sid, kind=MessageType.SIGNALING_HAND_SHAKE_RESP.name)
        assert [r.detail["status_code"] for r in responses] == [0, 0]

        # The meeting ends: the new owner finalizes the stream in its own output directory
        # (stream.json is written before the process can exit on SIGTERM).
        simulator.stop_stream(stream, StopReason.MEETING_ENDED)
        await journal.wait_for(
            lambda r: (
                r.stream_id == sid
                and r.channel == "signaling"
                and r.kind == "socket_closed"
                and r.t > second.t
            ),
            timeout=15,
        )
        assert await new_owner.stop() == 0
        written = sorted(new_owner.output.glob("*/stream.json"))
        assert len(written) == 1
        summary = json.loads(written[0].read_text())
        assert summary["stop_reason"] == StopReason.MEETING_ENDED
        assert summary["fence"] == new_holder.token
        assert await store.holder(sid) is None  # released and unregistered
    finally:
        await store.close()
        await fan_out.close()
        codes = [await r.stop() for r in replicas]
    survivors = [c for r, c in zip(replicas, codes, strict=True) if r is not owner]
    assert survivors == [0, 0]  # SIGTERM drains and exits 0
