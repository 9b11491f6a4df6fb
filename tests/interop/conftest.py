"""Fixtures that run Zoom's official SDK in a subprocess against an in-process simulator."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from simulator.clock import ManualClock
from simulator.server import Simulator

CLIENT_SCRIPT = Path(__file__).with_name("sdk_client.py")
MARK = b"@@rtms "


class SdkProcess:
    """The official SDK joined to a stream; its callbacks arrive as dicts in ``events``."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: list[dict[str, Any]] = []
        self.output: list[bytes] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, spec: dict[str, Any], cwd: Path) -> SdkProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(CLIENT_SCRIPT),
            json.dumps(spec),
            cwd=cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            if line.startswith(MARK):
                self.events.append(json.loads(line[len(MARK) :]))
                self._changed.set()
            else:
                self.output.append(line)
        self._changed.set()

    def of(self, cb: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["cb"] == cb]

    async def wait(self, predicate: Callable[[list[dict[str, Any]]], bool], *, timeout: float = 20.0) -> None:
        """Wait (bounded) until the SDK's callbacks so far satisfy ``predicate``."""

        async def until() -> None:
            while not predicate(self.events):
                if self._reader.done():
                    raise AssertionError(f"SDK exited; output tail: {b''.join(self.output[-20:])!r}")
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(until(), timeout)

    async def first(self, cb: str, *, timeout: float = 20.0) -> dict[str, Any]:
        await self.wait(lambda events: any(e["cb"] == cb for e in events), timeout=timeout)
        return self.of(cb)[0]

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        await self._reader


@pytest.fixture
async def manual_sim() -> AsyncIterator[tuple[Simulator, ManualClock]]:
    clock = ManualClock()
    sim = Simulator(clock=clock)
    await sim.start()
    try:
        yield sim, clock
    finally:
        await sim.close()
