"""Real Zoom as a contract target (opt-in), and its dry run against the simulator over TLS.

Configured only by environment variables (:data:`ENVIRONMENT`, docs/contracts.md). The suite
listens for Zoom's webhooks on a loopback port that the user's tunnel (ngrok, cloudflared ...)
forwards ``RTMS_LIVE_WEBHOOK_URL`` to. With a Server-to-Server OAuth app and a meeting id the
suite starts RTMS itself (``PATCH /v2/live_meetings/{id}/rtms_app/status``) before each
contract that needs a stream; without them it asks the user to start the app in the meeting
and waits, with a timeout whose message says what to check.

Real Zoom cannot be told to drop a socket, fail over, end a stream with a chosen reason or
move its clock, so those contracts are not applicable here; time passes in real time.

:func:`dry_run` points this same adapter at a simulator server process standing in for Zoom:
HTTPS REST and OAuth on its TLS port (trusted through the generated CA), ``wss://`` streams,
webhooks to the adapter's own endpoint, and the simulator's manual clock moved where real
Zoom would take real time. CI runs the live adapter this way.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from .. import wire
from ..inbox import Inbox
from ..probe import ProbeError
from ..target import Capability, Credentials, NotApplicable, RestAccess, Stream, Target

if TYPE_CHECKING:
    from .simulator import SimulatorProcess

__all__ = ["ENVIRONMENT", "LiveConfig", "LiveConfigError", "LiveTarget", "dry_run"]

log = logging.getLogger("contracts.live")

ENVIRONMENT: dict[str, str] = {
    "RTMS_LIVE_CLIENT_ID": "required: Client ID of the RTMS app, which signs the handshakes",
    "RTMS_LIVE_CLIENT_SECRET": "required: Client Secret of the RTMS app",
    "RTMS_LIVE_WEBHOOK_SECRET": "required: the app's webhook Secret Token",
    "RTMS_LIVE_WEBHOOK_URL": "required: the public https URL set as the app's event endpoint",
    "RTMS_LIVE_WEBHOOK_LISTEN": "loopback host:port the tunnel forwards that URL to (default 127.0.0.1:8080)",
    "RTMS_LIVE_MEETING_ID": "numeric id of a running meeting the suite may start RTMS in",
    "RTMS_LIVE_PARTICIPANT_USER_ID": "Zoom user id to start RTMS for (default: the token's user)",
    "RTMS_LIVE_ACCOUNT_ID": "Server-to-Server OAuth app: account id",
    "RTMS_LIVE_S2S_CLIENT_ID": "Server-to-Server OAuth app: Client ID",
    "RTMS_LIVE_S2S_CLIENT_SECRET": "Server-to-Server OAuth app: Client Secret",
    "RTMS_LIVE_API_URL": "REST API base (default https://api.zoom.us)",
    "RTMS_LIVE_OAUTH_URL": "OAuth server base (default https://zoom.us)",
    "RTMS_LIVE_CA_FILE": "CA bundle to trust instead of the system's (the dry run uses the simulator's)",
    "RTMS_LIVE_WEBHOOK_TIMEOUT": "seconds to wait for a webhook (default 120)",
}
_S2S = ("RTMS_LIVE_ACCOUNT_ID", "RTMS_LIVE_S2S_CLIENT_ID", "RTMS_LIVE_S2S_CLIENT_SECRET")


class LiveConfigError(ValueError):
    """The live target's configuration is incomplete or wrong; the message lists every problem."""


@dataclass(frozen=True, kw_only=True)
class LiveConfig:
    credentials: Credentials
    webhook_url: str
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    rest: RestAccess | None = None
    ca_file: Path | None = None
    webhook_timeout: float = 120.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LiveConfig:
        """Read and check every ``RTMS_LIVE_*`` variable; one :class:`LiveConfigError` names all problems."""
        problems: list[str] = []

        def get(name: str) -> str:
            return env.get(name, "").strip()

        for name in ("RTMS_LIVE_CLIENT_ID", "RTMS_LIVE_CLIENT_SECRET", "RTMS_LIVE_WEBHOOK_SECRET"):
            if not get(name):
                problems.append(f"{name} is not set ({ENVIRONMENT[name].removeprefix('required: ')})")
        webhook_url = get("RTMS_LIVE_WEBHOOK_URL")
        if not webhook_url:
            problems.append("RTMS_LIVE_WEBHOOK_URL is not set (the public https URL Zoom posts events to)")
        elif urlsplit(webhook_url).scheme != "https" or not urlsplit(webhook_url).hostname:
            problems.append(
                "RTMS_LIVE_WEBHOOK_URL must be an https:// URL (Zoom only posts to https), "
                f"not {webhook_url!r}"
            )
        host, port = "127.0.0.1", 8080
        listen = get("RTMS_LIVE_WEBHOOK_LISTEN")
        if listen:
            host, _, port_text = listen.rpartition(":")
            host = host.strip("[]") or "127.0.0.1"
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                problems.append(
                    f"RTMS_LIVE_WEBHOOK_LISTEN needs host:port with a port 1-65535, not {listen!r}"
                )
            else:
                port = int(port_text)
            if not _is_loopback(host):
                problems.append(
                    "RTMS_LIVE_WEBHOOK_LISTEN must be a loopback address (the tunnel forwards to it), "
                    f"not {host!r}"
                )
        meeting_id = get("RTMS_LIVE_MEETING_ID").replace(" ", "")
        if meeting_id and not (meeting_id.isdigit() and 0 < int(meeting_id) < 2**63):
            problems.append(f"RTMS_LIVE_MEETING_ID must be the numeric meeting id, not {meeting_id!r}")
        given = [name for name in _S2S if get(name)]
        if given and len(given) < len(_S2S):
            missing = ", ".join(name for name in _S2S if name not in given)
            problems.append(f"a Server-to-Server OAuth app needs all three variables: {missing} missing")
        if meeting_id and len(given) < len(_S2S):
            problems.append("RTMS_LIVE_MEETING_ID needs the Server-to-Server OAuth app to start RTMS in it")
        api_url = get("RTMS_LIVE_API_URL") or "https://api.zoom.us"
        oauth_url = get("RTMS_LIVE_OAUTH_URL") or "https://zoom.us"
        for name, url in (("RTMS_LIVE_API_URL", api_url), ("RTMS_LIVE_OAUTH_URL", oauth_url)):
            if urlsplit(url).scheme != "https":
                problems.append(f"{name} must be an https:// URL, not {url!r}")
        ca_file = get("RTMS_LIVE_CA_FILE")
        if ca_file and not Path(ca_file).is_file():
            problems.append(f"RTMS_LIVE_CA_FILE names no file: {ca_file}")
        timeout_text = get("RTMS_LIVE_WEBHOOK_TIMEOUT") or "120"
        try:
            timeout = float(timeout_text)
            if not timeout > 0:
                raise ValueError
        except ValueError:
            problems.append(
                f"RTMS_LIVE_WEBHOOK_TIMEOUT must be a positive number of seconds, not {timeout_text!r}"
            )
            timeout = 120.0
        if problems:
            raise LiveConfigError(
                "the live target is not configured:\n  - "
                + "\n  - ".join(problems)
                + "\n(see docs/contracts.md)"
            )
        rest = None
        if len(given) == len(_S2S):
            rest = RestAccess(
                api_url=api_url.rstrip("/"),
                oauth_url=oauth_url.rstrip("/"),
                account_id=get("RTMS_LIVE_ACCOUNT_ID"),
                client_id=get("RTMS_LIVE_S2S_CLIENT_ID"),
                client_secret=get("RTMS_LIVE_S2S_CLIENT_SECRET"),
                meeting_id=meeting_id or None,
                participant_user_id=get("RTMS_LIVE_PARTICIPANT_USER_ID") or None,
            )
        return cls(
            credentials=Credentials(
                client_id=get("RTMS_LIVE_CLIENT_ID"),
                client_secret=get("RTMS_LIVE_CLIENT_SECRET"),
                webhook_secret=get("RTMS_LIVE_WEBHOOK_SECRET"),
            ),
            webhook_url=webhook_url,
            listen_host=host,
            listen_port=port,
            rest=rest,
            ca_file=Path(ca_file) if ca_file else None,
            webhook_timeout=timeout,
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


TimePasser = Callable[[float], Awaitable[None]]


async def _real_time(seconds: float) -> None:
    await asyncio.sleep(seconds)


class LiveTarget(Target):
    """Real Zoom (or anything that behaves like it at the configured URLs)."""

    def __init__(self, config: LiveConfig, inbox: Inbox, *, name: str, passer: TimePasser) -> None:
        self.name = name
        self.config = config
        self.credentials = config.credentials
        self.inbox = inbox
        self.rest = config.rest
        self.closers: list[Callable[[], Awaitable[None]]] = []  # run after the target's own close
        self.ssl_context = ssl.create_default_context(
            cafile=str(config.ca_file) if config.ca_file is not None else None
        )
        self.ca_file = config.ca_file
        self.webhook_timeout = config.webhook_timeout
        self._pass = passer
        self._t0 = time.monotonic()
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self.ssl_context))
        self._token: str | None = None

    @classmethod
    async def start(
        cls, config: LiveConfig, *, name: str = "Zoom (live)", passer: TimePasser = _real_time
    ) -> LiveTarget:
        inbox = Inbox(
            secret=config.credentials.webhook_secret, host=config.listen_host, port=config.listen_port
        )
        await inbox.start()
        return cls(config, inbox, name=name, passer=passer)

    # -- REST ------------------------------------------------------------------------------

    async def token(self) -> str:
        """A Server-to-Server OAuth access token (``account_credentials``, §8.2)."""
        rest = self.rest
        if rest is None:
            raise NotApplicable("no Server-to-Server OAuth app is configured (RTMS_LIVE_S2S_*)")
        if self._token is None:
            basic = base64.b64encode(f"{rest.client_id}:{rest.client_secret}".encode()).decode()
            async with self._http.post(
                f"{rest.oauth_url}/oauth/token",
                params={"grant_type": "account_credentials", "account_id": rest.account_id},
                headers={"Authorization": f"Basic {basic}"},
            ) as response:
                body = await response.json(content_type=None)
                if response.status != 200:
                    raise AssertionError(f"Zoom refused the OAuth token: {response.status} {body}")
                self._token = str(body["access_token"])
        return self._token

    async def rtms_status(self, action: str) -> tuple[int, Any]:
        """``PATCH /v2/live_meetings/{id}/rtms_app/status`` with ``action``; status and body."""
        rest = self.rest
        if rest is None or rest.meeting_id is None:
            raise NotApplicable("no meeting to start RTMS in (RTMS_LIVE_MEETING_ID with RTMS_LIVE_S2S_*)")
        settings: dict[str, str] = {"client_id": self.credentials.client_id}
        if rest.participant_user_id:
            settings["participant_user_id"] = rest.participant_user_id
        async with self._http.patch(
            f"{rest.api_url}/v2/live_meetings/{rest.meeting_id}/rtms_app/status",
            json={"action": action, "settings": settings},
            headers={"Authorization": f"Bearer {await self.token()}"},
        ) as response:
            text = await response.text()
            return response.status, text

    # -- streams ---------------------------------------------------------------------------

    async def start_stream(self, *, product: str = "meeting", **options: Any) -> Stream:
        if product != "meeting":
            raise NotApplicable(f"the live target starts meeting streams only, not {product}")
        count = len(self.inbox.of("meeting.rtms_started")) + 1
        meeting = self.rest.meeting_id if self.rest is not None else None
        if meeting is not None:
            status, body = await self.rtms_status("start")
            if status != 204:
                raise AssertionError(f"Zoom refused to start RTMS in meeting {meeting}: {status} {body}")
            hint = (
                f"Zoom accepted the start call for meeting {meeting}: check that the host is in the meeting, "
                f"that the app's event endpoint is {self.config.webhook_url} with meeting.rtms_started "
                f"subscribed, and that the tunnel forwards it to {self.inbox.url}."
            )
        else:
            log.warning("start the RTMS app in your meeting now; waiting %g s", self.webhook_timeout)
            hint = (
                "Start the app in a meeting (or set RTMS_LIVE_MEETING_ID and RTMS_LIVE_S2S_* to let the "
                f"suite start it), and check that {self.config.webhook_url} reaches {self.inbox.url}."
            )
        delivery = await self.await_webhook("meeting.rtms_started", count=count, hint=hint)
        return Stream(started=delivery, handle=str(meeting or delivery.payload.get("meeting_uuid")))

    async def end_stream(self, stream: Stream) -> None:
        """End ``stream`` the documented way (STREAM_CLOSE_REQ, §4.14); else through REST."""
        if self.inbox.of("meeting.rtms_stopped", stream_id=stream.stream_id):
            return
        await self.close_clients()
        try:
            probe, answer = await self.join_for(stream).signaling()
            self.track(probe)
            if answer.get("status_code") == 0:
                await probe.send(
                    {"msg_type": wire.MSG["STREAM_CLOSE_REQ"], "rtms_stream_id": stream.stream_id}
                )
                await probe.expect(wire.MSG["STREAM_CLOSE_RESP"])
                return
        except ProbeError as exc:
            log.warning("could not close stream %s over signaling: %s", stream.stream_id, exc)
        if self.rest is not None and self.rest.meeting_id is not None:
            await self.rtms_status("stop")

    async def pass_time(self, seconds: float, *, step: float = 1.0) -> None:
        await self._pass(seconds)

    async def now(self) -> float:
        return time.monotonic() - self._t0

    @property
    def capabilities(self) -> frozenset[Capability]:  # type: ignore[override]
        return frozenset({Capability.REST} if self.rest is not None else set())

    async def close(self) -> None:
        try:
            await self._http.close()
        finally:
            for close in self.closers:
                await close()


# -- the dry run -----------------------------------------------------------------------------

DRY_RUN_SCENARIO = """\
name: live-dry-run
description: >
  The simulator standing in for real Zoom in the live adapter's dry run: one meeting with its
  host present, an RTMS app the contracts start and stop through REST, running for ten hours.
seed: 17
accounts:
  - {id: contracts-org}
apps:
  - id: contracts-app
    account: contracts-org
    client_id: dry-run-client-id
    client_secret: dry-run-client-secret
    webhook_secret: dry-run-webhook-secret
users:
  - {id: host, account: contracts-org}
meetings:
  - id: contract-meeting
    host: host
    apps: [contracts-app]
    app_owner: host
timeline:
  - {at: 0, do: join, user: host}
  - {at: 36000, do: end}
"""


async def dry_run(process: SimulatorProcess) -> LiveTarget:
    """The live adapter pointed at ``process`` serving as Zoom over TLS (see module doc)."""
    from .simulator import SimulatorTarget

    if process.scheme != "wss":
        raise ValueError(
            "the dry run needs a simulator process serving wss:// (SimulatorProcess(scheme='wss'))"
        )

    control = SimulatorTarget(
        name="dry-run control", base_url=process.base_url, inbox=Inbox(secret=""), scheme="wss"
    )
    await control.control("POST", "/reset")
    base = LiveConfig(
        credentials=Credentials(
            client_id="dry-run-client-id",
            client_secret="dry-run-client-secret",
            webhook_secret="dry-run-webhook-secret",
        ),
        webhook_url="https://rtms-contracts.example/webhooks/zoom",  # what a tunnel would publish
        listen_port=0,
        ca_file=process.ca_file,
        webhook_timeout=10.0,
    )

    async def passer(seconds: float) -> None:
        # Small steps with a yield between them: where real Zoom would take real time, the
        # simulator's clock moves, slowly enough that every answer a probe sends within a few
        # milliseconds is read before the next keep-alive falls due.
        await control.pass_time(seconds, step=0.1)

    target = await LiveTarget.start(base, name="Zoom (live adapter, dry run on the simulator)", passer=passer)
    await control.load_scenario(DRY_RUN_SCENARIO, webhook_url=target.inbox.url)
    started = await target.await_webhook("meeting.started", hint="the dry-run meeting did not start")
    meeting = started.payload["object"]
    tls = f"https://localhost:{process.tls_port}"
    target.rest = RestAccess(
        api_url=tls,
        oauth_url=tls,
        account_id="contracts-org",
        client_id="dry-run-client-id",
        client_secret="dry-run-client-secret",
        meeting_id=str(meeting["id"]),
        participant_user_id=str(meeting["host_id"]),
    )
    target.closers.append(control.close)
    return target
