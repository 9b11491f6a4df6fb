"""The simulator as a contract target, driven through its control API (``/_sim/...``) only.

Two ways to run it, one adapter: :func:`in_process` starts a :class:`simulator.server.Simulator`
in the test's event loop on a manual clock (``ws://``); :class:`SimulatorProcess` runs
``rtms-sim serve --manual-clock`` as a separate process (``wss://`` with its test CA). Either
way the adapter speaks HTTP to the control API, so both are judged through the same surface
a user's own tests would use, and the contracts never touch the simulator's objects.
"""

from __future__ import annotations

import asyncio
import os
import re
import ssl
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp

from ..inbox import Inbox
from ..target import Capability, Credentials, RestAccess, Stream, Target

__all__ = ["SimulatorProcess", "SimulatorTarget", "in_process"]

ALL_CAPABILITIES = frozenset(Capability)
STARTED_EVENTS = {
    "meeting": "meeting.rtms_started",
    "webinar": "webinar.rtms_started",
    "session": "session.rtms_started",
    "contact_center": "contact_center.voice_rtms_started",
}
# the simulator's defaults (``simulator.config.App``); a server started by the suite uses them too
DEFAULT_CREDENTIALS = Credentials(
    client_id="rtms-sim-client", client_secret="rtms-sim-secret", webhook_secret="rtms-sim-webhook-secret"
)
JOURNAL_POLL = 0.005  # real seconds between looks at the journal while waiting for a socket read


class ControlError(AssertionError):
    """The control API refused a request the suite made (a bug in the suite or the simulator)."""


class SimulatorTarget(Target):
    """Any running simulator reachable at ``base_url``."""

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        inbox: Inbox,
        scheme: str,
        ssl_context: ssl.SSLContext | None = None,
        ca_file: Path | None = None,
        credentials: Credentials = DEFAULT_CREDENTIALS,
    ) -> None:
        self.name = name
        self.capabilities = ALL_CAPABILITIES
        self.base_url = base_url.rstrip("/")
        self.inbox = inbox
        self.scheme = scheme
        self.ssl_context = ssl_context
        self.ca_file = ca_file
        self.credentials = credentials
        self.rest = RestAccess(
            api_url=self.base_url,
            oauth_url=self.base_url,
            account_id="sIm-AcCoUnT-0000000001",
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
        )
        self._http = aiohttp.ClientSession()
        self._streams: list[Stream] = []

    async def control(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, str] | None = None,
    ) -> Any:
        """One control API call; its JSON answer, or :class:`ControlError` with Zoom's error body."""
        async with self._http.request(
            method, f"{self.base_url}/_sim{path}", json=body, params=params
        ) as response:
            answer = await response.json(content_type=None)
            if response.status >= 400:
                raise ControlError(f"{method} /_sim{path} -> {response.status} {answer}")
            return answer

    # -- streams ---------------------------------------------------------------------------

    async def start_stream(self, *, product: str = "meeting", **options: Any) -> Stream:
        body = {
            "product": product,
            "webhook_url": self.inbox.url,
            "scheme": options.pop("scheme", self.scheme),
            "duration": options.pop("duration", 120.0),
            "participants": options.pop("participants", 3),
            "seed": options.pop("seed", len(self._streams)),
        }
        if options:
            raise TypeError(f"unknown stream options: {sorted(options)}")
        described = await self.control("POST", "/streams", body)
        stream_id = described["rtms_stream_id"]
        delivery = await self.inbox.wait_for(STARTED_EVENTS[product], stream_id=stream_id)
        stream = Stream(started=delivery, handle=stream_id, extra={"described": described})
        self._streams.append(stream)
        return stream

    async def describe(self, stream: Stream) -> dict[str, Any]:
        described: dict[str, Any] = await self.control("GET", f"/streams/{stream.handle}")
        return described

    async def end_stream(self, stream: Stream) -> None:
        if (await self.describe(stream))["state"] not in ("TERMINATED", "INACTIVE"):
            await self.control("POST", f"/streams/{stream.handle}/stop", {"reason": 6})

    async def stop_stream(self, stream: Stream, reason: int) -> None:
        await self.control("POST", f"/streams/{stream.handle}/stop", {"reason": reason})

    async def pause(self, stream: Stream) -> None:
        await self.control("POST", f"/streams/{stream.handle}/pause")

    async def resume(self, stream: Stream) -> None:
        await self.control("POST", f"/streams/{stream.handle}/resume")

    async def drop(self, stream: Stream, socket: str, *, close_frame: bool) -> None:
        await self.control(
            "POST", f"/streams/{stream.handle}/drop", {"socket": socket, "close_frame": close_frame}
        )

    async def failover(self, stream: Stream) -> None:
        await self.control("POST", f"/streams/{stream.handle}/failover")

    async def validate_url(self, url: str) -> dict[str, Any]:
        verdict: dict[str, Any] = await self.control("POST", "/webhooks/url_validation", {"url": url})
        return verdict

    async def load_scenario(self, text: str, *, webhook_url: str) -> dict[str, Any]:
        async with self._http.post(
            f"{self.base_url}/_sim/scenarios",
            data=text.encode(),
            params={"webhook_url": webhook_url},
            headers={"Content-Type": "application/yaml"},
        ) as response:
            answer: dict[str, Any] = await response.json(content_type=None)
            if response.status >= 400:
                raise ControlError(f"POST /_sim/scenarios -> {response.status} {answer}")
            return answer

    # -- time and journal --------------------------------------------------------------------

    async def now(self) -> float:
        answer = await self.control("POST", "/clock/advance", {"seconds": 0})
        return float(answer["now"])

    async def pass_time(self, seconds: float, *, step: float = 1.0) -> None:
        now = await self.now()
        end = now + seconds
        while now < end - 1e-9:
            answer = await self.control("POST", "/clock/run", {"until": min(now + step, end)})
            now = float(answer["now"])
            await asyncio.sleep(0)

    async def journal(self, **filters: str) -> list[dict[str, Any]]:
        answer = await self.control("GET", "/journal", params=filters)
        records: list[dict[str, Any]] = answer["records"]
        return records

    async def received(self, stream: Stream, kind: str, *, count: int = 1, timeout: float = 10.0) -> None:
        async def until() -> None:
            while True:
                records = await self.journal(stream_id=stream.stream_id, kind=kind, direction="in")
                if len(records) >= count:
                    return
                await asyncio.sleep(JOURNAL_POLL)

        try:
            await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name} did not read {count} {kind} of {stream.stream_id}") from None

    async def close(self) -> None:
        try:
            await self.control("POST", "/reset")
        finally:
            await self._http.close()


async def in_process(inbox: Inbox) -> tuple[SimulatorTarget, Any]:
    """A simulator in this event loop on a manual clock, and the target adapter for it.

    Returns the adapter and the simulator (to be closed after the adapter)."""
    from simulator.clock import ManualClock
    from simulator.config import SimulatorConfig
    from simulator.server import Simulator

    sim = Simulator(SimulatorConfig(host="127.0.0.1", port=0, tls_port=None), clock=ManualClock())
    await sim.start()
    target = SimulatorTarget(name="simulator (in-process)", base_url=sim.http_url, inbox=inbox, scheme="ws")
    return target, sim


_CONTROL_LINE = re.compile(r"^control\s+(http://\S+)/_sim/streams")
_TLS_LINE = re.compile(r"^signaling\s+wss://localhost:(\d+)/")


class SimulatorProcess:
    """``rtms-sim serve`` in a process of its own: manual clock, TLS with a generated CA."""

    def __init__(self, *extra_args: str, scheme: str = "wss") -> None:
        self.scheme = scheme
        self._dir = tempfile.TemporaryDirectory(prefix="rtms-contracts-")
        self.state_dir = Path(self._dir.name)
        self.ca_file = self.state_dir / "tls" / "ca.pem"
        self.tls_port = 0
        args = [
            sys.executable,
            "-m",
            "simulator",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--tls-port",
            "0",
            "--manual-clock",
            "--scheme",
            scheme,
            "--state-dir",
            str(self.state_dir),
            "--log-level",
            "WARNING",
            *extra_args,
        ]
        self.log_file = self.state_dir / "simulator.log"
        self._log = self.log_file.open("w")
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.base_url = self._read_urls()

    def _read_urls(self) -> str:
        """The control URL (and the TLS port) from what ``serve`` prints as it starts."""
        assert self.proc.stdout is not None
        seen: list[str] = []
        base = ""
        for line in self.proc.stdout:
            seen.append(line.rstrip())
            control = _CONTROL_LINE.match(line)
            if control:
                base = control.group(1)
            tls = _TLS_LINE.match(line)
            if tls:
                self.tls_port = int(tls.group(1))
                return base
        self.proc.wait()
        error = self.log_file.read_text()
        raise RuntimeError(f"rtms-sim serve did not start: {' / '.join(seen)} {error.strip()}")

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()
        self._dir.cleanup()
