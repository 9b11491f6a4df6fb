"""Zoom's official SDK as a client of the target, run in a subprocess (``sdk_client.py``).

The SDK is a client nobody here wrote, so it only makes sense pointed at the simulator: the
``inprocess`` target (``ws://``) and the ``server`` target (``wss://`` with the simulator's CA
handed to the SDK as ``ZM_RTMS_CA``, docs/protocol.md §6.6). Against ``live`` there is no
simulator, and ``live-dryrun`` stands for real Zoom (no clock, no journal to judge the SDK by;
its simulator is the ``server`` target's, already covered), so the whole folder is not
applicable there and nothing is started.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from ..target import Stream, Target

CLIENT_SCRIPT = Path(__file__).with_name("sdk_client.py")
MARK = b"@@rtms "
SIMULATOR_TARGETS = ("inprocess", "server")
JOURNAL_POLL = 0.01  # real seconds between looks at the target's journal
Event = dict[str, Any]


@pytest.fixture(autouse=True)
def _simulator_only(target_kind: str) -> None:
    """Skip before any target is made: the SDK runs against the simulator only."""
    if target_kind not in SIMULATOR_TARGETS:
        pytest.skip(f"not applicable to {target_kind}: the official SDK is pointed at the simulator")


class SdkProcess:
    """The official SDK joined to one stream; its callbacks arrive as dicts in ``events``."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: list[Event] = []
        self.output: list[bytes] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            if line.startswith(MARK):
                self.events.append(json.loads(line[len(MARK) :]))
                self._changed.set()
            else:
                self.output.append(line)
        self._changed.set()

    def of(self, cb: str) -> list[Event]:
        """The callbacks ``cb`` so far, oldest first."""
        return [e for e in self.events if e["cb"] == cb]

    async def wait(
        self, predicate: Callable[[list[Event]], bool], what: str, *, timeout: float = 15.0
    ) -> None:
        """Wait (bounded, real time) until the SDK's callbacks so far satisfy ``predicate``."""

        async def until() -> None:
            while not predicate(self.events):
                if self._reader.done():
                    raise AssertionError(
                        f"the SDK exited (status {self.proc.returncode}) before {what};"
                        f" callbacks: {self.story()}; output: {self.tail()!r}"
                    )
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"the SDK gave no {what} within {timeout} s; output: {self.tail()!r}"
            ) from None

    async def first(self, cb: str, *, timeout: float = 15.0) -> Event:
        await self.wait(lambda events: any(e["cb"] == cb for e in events), f"{cb} callback", timeout=timeout)
        return self.of(cb)[0]

    async def count(self, cb: str, n: int, *, timeout: float = 15.0) -> list[Event]:
        """Wait until ``n`` callbacks ``cb`` arrived (exactly: more is a failure)."""
        await self.wait(
            lambda events: sum(e["cb"] == cb for e in events) >= n, f"{n} {cb} callbacks", timeout=timeout
        )
        got = self.of(cb)
        assert len(got) == n, f"the SDK got {len(got)} {cb} callbacks, the target sent {n}"
        return got

    def story(self) -> list[Event]:
        """The callbacks other than media frames, for failure messages."""
        return [e for e in self.events if e["cb"] not in ("audio", "video", "deskshare")]

    def tail(self) -> bytes:
        return b"".join(self.output[-20:])

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        await self._reader


class Sdk:
    """Starts the official SDK against streams of the target and kills it after the test."""

    def __init__(self, target: Target, cwd: Path, ca_file: Path | None) -> None:
        self.target = target
        self.cwd = cwd
        self.ca_file = ca_file
        self.running: list[SdkProcess] = []
        self.streams: list[Stream] = []

    async def join(
        self, stream: Stream, media: tuple[str, ...], *, audio: Mapping[str, int] | None = None
    ) -> SdkProcess:
        """The SDK, joining ``stream`` with callbacks for ``media`` (§6.4) and ``audio`` params."""
        tls = str(stream.payload["server_urls"]).startswith("wss://")
        if tls and self.ca_file is None:
            raise AssertionError(
                f"{self.target.name} hands out wss:// but the suite has no CA file for the SDK"
            )
        spec = {
            "payload": stream.payload,
            "client": self.target.credentials.client_id,
            "secret": self.target.credentials.client_secret,
            "media": list(media),
            "audio": dict(audio) if audio else None,
            "ca": str(self.ca_file) if tls else None,
            "timeout": 60,
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(CLIENT_SCRIPT),
            json.dumps(spec),
            cwd=self.cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        sdk = SdkProcess(proc)
        self.running.append(sdk)
        self.streams.append(stream)
        return sdk

    async def close(self) -> None:
        """End the streams the SDK joined, then stop the SDK.

        Ending them here, and waiting until the target has delivered their ``*.rtms_stopped``,
        keeps that webhook from racing the inbox's shutdown in the target's teardown (an
        inbox closed with a delivery in flight took 30 s to close)."""
        try:
            for stream in self.streams:
                await self.target.end_stream(stream)
                stopped = stream.event.replace("_started", "_stopped")
                await journal_until(
                    self.target,
                    _delivered(stopped),
                    f"the delivery of {stopped}",
                    stream_id=stream.stream_id,
                    kind="delivery",
                )
        finally:
            for sdk in self.running:
                await sdk.stop()


@pytest.fixture
async def sdk(target: Target, tmp_path: Path) -> AsyncIterator[Sdk]:
    """Start the official SDK against the target's streams (killed when the test ends)."""
    launcher = Sdk(target, tmp_path, target.ca_file)  # the SDK trusts a CA file, not a context (§6.6)
    try:
        yield launcher
    finally:
        await launcher.close()


def _delivered(event: str) -> Callable[[list[dict[str, Any]]], bool]:
    """The target's journal shows a delivery of ``event`` (an attempt that got an answer)."""
    return lambda records: any(
        r["detail"].get("event") == event and r["detail"].get("status") for r in records
    )


async def journal_until(
    target: Target,
    check: Callable[[list[dict[str, Any]]], bool],
    what: str,
    *,
    timeout: float = 15.0,
    **filters: str,
) -> list[dict[str, Any]]:
    """Poll the target's journal (bounded, real time) until the records matching ``filters``
    satisfy ``check``; those records."""

    async def until() -> list[dict[str, Any]]:
        while True:
            records = await target.journal(**filters)
            if check(records):
                return records
            await asyncio.sleep(JOURNAL_POLL)

    try:
        return await asyncio.wait_for(until(), timeout)
    except TimeoutError:
        raise AssertionError(f"{target.name} never journaled {what} within {timeout} s") from None
