"""Test-side helpers over the probe: joins built from a simulator's streams, cleanup, signatures."""

from __future__ import annotations

from typing import Any

from connector.protocol import MediaParams, verify_webhook
from simulator.clock import ManualClock, settle
from simulator.journal import Record
from simulator.server import Simulator
from simulator.stream import SimStream

from .probe import Join, Joined, Probe
from .receiver import Delivery

__all__ = ["Clients", "arrived", "audio_frames_in", "verify"]


class Clients:
    """Opens probes and full joins, and closes whatever is left open at teardown."""

    def __init__(self) -> None:
        self._joined: list[Joined] = []
        self._probes: list[Probe] = []

    def join_for(self, sim: Simulator, stream: SimStream) -> Join:
        app = sim.config.app
        return Join.from_payload(
            sim.started_payload(stream), client_id=app.client_id, client_secret=app.client_secret
        )

    async def open(self, url: str, **options: Any) -> Probe:
        probe = await Probe.open(url, **options)
        self._probes.append(probe)
        return probe

    def track(self, *probes: Probe) -> None:
        self._probes.extend(probes)

    async def joined(
        self,
        sim: Simulator,
        stream: SimStream,
        media: dict[str, MediaParams | None] | None = None,
        **options: Any,
    ) -> Joined:
        joined = await Joined.connect(self.join_for(sim, stream), media or {}, **options)
        self._joined.append(joined)
        # Scenario time must not move before the simulator has read what the client sent.
        last = "EVENT_SUBSCRIPTION" if options.get("events") else "CLIENT_READY_ACK"
        if options.get("ready", True):
            joins = sum(1 for j in self._joined if j.join.rtms_stream_id == stream.stream_id)
            await arrived(sim, stream.stream_id, last, count=joins)
        return joined

    async def close(self) -> None:
        for joined in self._joined:
            await joined.close()
        for probe in self._probes:
            if not probe.closed:
                await probe.close()


async def arrived(
    sim: Simulator,
    stream_id: str,
    kind: str,
    *,
    count: int = 1,
    timeout: float = 5.0,
) -> Record:
    """Wait until the simulator has journaled ``count`` inbound ``kind`` messages of a stream.

    A client's frame is read by the simulator a moment after it is sent; tests call this
    before moving scenario time so that the message takes effect at the time it was sent.
    """

    def enough(_: Record) -> bool:
        return len(sim.journal.select(stream_id=stream_id, kind=kind, direction="in")) >= count

    await sim.journal.wait_for(enough, timeout=timeout)
    return sim.journal.select(stream_id=stream_id, kind=kind, direction="in")[count - 1]


async def audio_frames_in(sim: Simulator, stream_id: str, seconds: float) -> int:
    """How many audio frames the stream sends in the scenario-time window (now, now + seconds]."""
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    clock.advance(0)  # what is due now belongs to the past
    await settle()
    before = sim.journal.media_counts[(stream_id, "audio")]
    await clock.run_for(seconds, step=0.1)
    return sim.journal.media_counts[(stream_id, "audio")] - before


def verify(sim: Simulator, delivery: Delivery) -> None:
    """Check ``delivery``'s Zoom signature with the app's webhook secret at scenario time."""
    verify_webhook(
        sim.config.app.webhook_secret, delivery.headers, delivery.body, now=sim.clock.epoch_ms() / 1000.0
    )
