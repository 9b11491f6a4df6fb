"""``rtms-sim``: run the simulator as a server, run and check scenario files, poke a server.

* ``rtms-sim serve`` binds the HTTP/WebSocket port (and a TLS port for ``wss://``), prints the
  URLs it bound (``--port 0`` picks a free port), optionally starts streams that deliver
  ``meeting.rtms_started`` to ``--webhook-url`` or loads a scenario (``--scenario FILE``, its
  apps' webhooks to ``--webhook-url`` with ``{app}`` replaced), and runs until SIGINT or
  SIGTERM. ``--speed X`` runs it on a manual clock free-running at X times real time;
  ``--manual-clock`` on one that moves only when the control API moves it.
* ``rtms-sim run FILE...`` plays scenarios headless and checks their ``expect`` (exit 1 if one
  fails); ``rtms-sim validate FILE...`` only checks the files; bad files exit 2.
* ``rtms-sim schema`` prints the JSON Schema of scenario files.
* ``rtms-sim trigger EVENT`` sends one timeline step to a running server
  (``POST /_sim/meetings/{meeting}/events``), like ``stripe trigger``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from connector.protocol import Product, StatusTable

from . import scenario as sc
from .clock import Clock, ManualClock
from .collector import Collector
from .config import App, FrameKind, SimulatorConfig
from .driver import Driver
from .runner import Outcome, run_scenario
from .server import Simulator

__all__ = ["main"]

log = logging.getLogger("simulator.cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rtms-sim", description="A fake Zoom for RTMS apps.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the simulator until interrupted")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=9400, help="HTTP/ws port; 0 picks a free one")
    serve.add_argument("--tls-port", type=int, default=9443, help="wss port; 0 picks a free one")
    serve.add_argument("--no-tls", action="store_true", help="serve no wss:// port")
    serve.add_argument("--state-dir", type=Path, help="where the test CA is written (default: a temp dir)")
    serve.add_argument("--client-id", default=App().client_id)
    serve.add_argument("--client-secret", default=App().client_secret)
    serve.add_argument("--webhook-secret", default=App().webhook_secret)
    serve.add_argument("--webhook-url", help="start streams at once and send their webhooks here")
    serve.add_argument("--streams", type=int, default=1, help="streams to start with --webhook-url")
    serve.add_argument("--product", choices=[p.value for p in Product], default="meeting")
    serve.add_argument("--duration", type=float, default=20.0, help="seconds of meeting per stream")
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument(
        "--scheme",
        choices=["ws", "wss"],
        default="ws",
        help="scheme of server_urls (streams and scenario meetings)",
    )
    serve.add_argument("--status-table", choices=[t.value for t in StatusTable], default="current")
    serve.add_argument("--frame-kind", choices=[k.value for k in FrameKind], default="text")
    serve.add_argument("--log-level", default="INFO")
    serve.add_argument("--scenario", type=Path, help="load this scenario file at start (its switches apply)")
    clock = serve.add_mutually_exclusive_group()
    clock.add_argument(
        "--speed", type=float, help="run on a manual clock free-running at this many times real time"
    )
    clock.add_argument(
        "--manual-clock",
        action="store_true",
        help="run on a manual clock that moves only through POST /_sim/clock/advance or /_sim/clock/run",
    )

    run = sub.add_parser("run", help="play scenario files headless and check their expectations")
    run.add_argument("files", nargs="+", type=Path, metavar="FILE")
    run.add_argument("--log-level", default="WARNING")
    validate = sub.add_parser("validate", help="check scenario files against the schema")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    sub.add_parser("schema", help="print the JSON Schema of scenario files")

    trigger = sub.add_parser("trigger", help="carry out one timeline step in a running simulator now")
    trigger.add_argument("event", metavar="EVENT", choices=[k for k in sc.STEP_TYPES if k != "rest"])
    trigger.add_argument("--url", default="http://127.0.0.1:9400", help="the simulator's HTTP URL")
    trigger.add_argument("--meeting", help="meeting id (default: the only one loaded)")
    for name in ("user", "app", "kind", "media", "to", "by", "scope"):
        trigger.add_argument(f"--{name}")
    trigger.add_argument("--reason", type=int, help="stop reason (fault kind stop)")
    enabled = trigger.add_mutually_exclusive_group()
    enabled.add_argument("--enabled", dest="enabled", action="store_const", const=True)
    enabled.add_argument("--disabled", dest="enabled", action="store_const", const=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        return _run(args.files, args.log_level)
    if args.command == "validate":
        return _validate(args.files)
    if args.command == "schema":
        print(sc.schema_text(), end="")
        return 0
    if args.command == "trigger":
        return _trigger(args)
    return _serve_main(args)


def _load_all(files: Sequence[Path]) -> list[sc.Scenario] | None:
    """Every file loaded, or ``None`` after printing one line per bad file."""
    loaded: list[sc.Scenario] = []
    bad = False
    for path in files:
        try:
            loaded.append(sc.load(path))
        except sc.ScenarioError as exc:
            print(f"rtms-sim: {_one_line(str(exc))}", file=sys.stderr)
            bad = True
    return None if bad else loaded


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _validate(files: Sequence[Path]) -> int:
    loaded = _load_all(files)
    if loaded is None:
        return 2
    for path in files:
        print(f"ok {path}")
    return 0


def _run(files: Sequence[Path], log_level: str) -> int:
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    loaded = _load_all(files)
    if loaded is None:
        return 2
    failed = 0
    for scenario in loaded:
        outcome: Outcome = asyncio.run(run_scenario(scenario))
        print(outcome.report(), flush=True)
        failed += not outcome.ok
    if len(loaded) > 1:
        print(f"{len(loaded) - failed} passed, {failed} failed")
    return 1 if failed else 0


def _trigger(args: argparse.Namespace) -> int:
    base = args.url.rstrip("/")
    step: dict[str, Any] = {"do": args.event}
    for name in ("user", "app", "kind", "media", "to", "by", "scope", "reason", "enabled"):
        value = getattr(args, name)
        if value is not None:
            step[name] = value
    try:
        meeting = args.meeting
        if meeting is None:
            meetings = [m["meeting"] for m in _request("GET", f"{base}/_sim/meetings")["meetings"]]
            if len(meetings) != 1:
                named = ", ".join(meetings) or "none loaded"
                print(
                    f"rtms-sim: name the meeting with --meeting (the simulator has: {named})", file=sys.stderr
                )
                return 2
            meeting = meetings[0]
        path = urllib.parse.quote(meeting, safe="")
        result = _request("POST", f"{base}/_sim/meetings/{path}/events", step)
    except _RequestError as exc:
        print(f"rtms-sim: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


class _RequestError(Exception):
    pass


def _request(method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    """One JSON request to the control API; failures as one-line :class:`_RequestError`."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            error = json.loads(exc.read())
            detail = f"{error['message']} (code {error['code']})"
        except (ValueError, KeyError, TypeError):
            detail = exc.reason
        raise _RequestError(f"{method} {url} failed: {exc.code} {_one_line(str(detail))}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise _RequestError(f"cannot reach the simulator at {url}: {reason}") from None
    except ValueError:
        raise _RequestError(f"{method} {url} did not answer JSON; is that the simulator?") from None


def _serve_main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # The official SDK offers the subprotocol "websocket"; Zoom does not echo it and neither
    # do we, which aiohttp reports at WARNING for every socket.
    logging.getLogger("aiohttp.websocket").setLevel(logging.ERROR)
    scenario: sc.Scenario | None = None
    if args.scenario is not None:
        try:
            scenario = sc.load(args.scenario)
        except sc.ScenarioError as exc:
            print(f"rtms-sim: {_one_line(str(exc))}", file=sys.stderr)
            return 2
    try:
        if args.speed is not None and not args.speed > 0:
            raise ValueError("--speed must be a positive number")
        options: dict[str, Any] = dict(
            host=args.host,
            port=args.port,
            tls_port=None if args.no_tls else args.tls_port,
            state_dir=args.state_dir,
            scenario_scheme=args.scheme if not args.no_tls else "ws",
            app=App(
                client_id=args.client_id, client_secret=args.client_secret, webhook_secret=args.webhook_secret
            ),
        )
        if scenario is not None:  # the file's switches; addresses and credentials from here
            config = SimulatorConfig.from_switches(scenario.switches, seed=scenario.seed, **options)
        else:
            config = SimulatorConfig(
                **options,
                status_table=StatusTable(args.status_table),
                frame_kind=FrameKind(args.frame_kind),
            )
        if args.scheme == "wss" and config.tls_port is None:
            raise ValueError("--scheme wss needs the TLS port (drop --no-tls)")
        if args.streams < 0 or args.duration <= 0:
            raise ValueError("--streams must be >= 0 and --duration > 0")
    except ValueError as exc:
        print(f"rtms-sim: bad configuration: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(config, args, scenario))
    except OSError as exc:
        print(f"rtms-sim: cannot listen: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(config: SimulatorConfig, args: argparse.Namespace, scenario: sc.Scenario | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    clock: Clock | None = None
    if args.speed is not None or args.manual_clock:
        clock = ManualClock(start_epoch_ms=int(time.time() * 1000))
    async with Simulator(config, clock=clock) as sim:
        driver = Driver.of(sim)
        # A serving process paces its garbage collection (simulator/collector.py).
        collector = Collector(lambda: not any(s.live for s in sim.engine.streams.values()))
        collector.start()
        # Stream scripts are generated in a worker thread (control.py): the loop pacing the
        # frames waits at most this long for the interpreter while one is (default: 5 ms).
        sys.setswitchinterval(0.001)
        print(f"control   {sim.http_url}/_sim/streams", flush=True)
        print(f"signaling {sim.signaling_url('ws')}", flush=True)
        if sim.tls_port is not None:
            print(f"signaling {sim.signaling_url('wss')}  (trust {sim.ca_file} via ZM_RTMS_CA)", flush=True)
        if scenario is not None:
            described = driver.load(scenario, webhook_url=args.webhook_url)
            meetings = ", ".join(m["meeting"] for m in described["meetings"])
            print(f"scenario  {scenario.name}: meetings {meetings}", flush=True)
        elif args.webhook_url:
            for i in range(args.streams):
                stream = sim.start_stream(
                    product=Product(args.product),
                    webhook_url=args.webhook_url,
                    seed=args.seed + i,
                    duration=args.duration,
                    scheme=args.scheme,
                )
                print(f"stream    {stream.stream_id} -> {args.webhook_url}", flush=True)
        if args.speed is not None:
            driver.set_speed(args.speed)
            print(f"clock     manual, {args.speed:g}x real time", flush=True)
        elif args.manual_clock:
            print("clock     manual, moved by POST /_sim/clock/advance or /_sim/clock/run", flush=True)
        try:
            await stop.wait()
        finally:
            log.info("shutting down")
            collector.close()
        await driver.close()


if __name__ == "__main__":
    sys.exit(main())
