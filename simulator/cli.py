"""``rtms-sim``: run the simulator as a server.

``rtms-sim serve`` binds the HTTP/WebSocket port (and a TLS port for ``wss://``), prints the
URLs it bound (``--port 0`` picks a free port), optionally starts streams that deliver
``meeting.rtms_started`` to ``--webhook-url``, and runs until SIGINT or SIGTERM. Streams can
also be started through the control API (``POST /_sim/streams``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from connector.protocol import Product, StatusTable

from .config import App, FrameKind, SimulatorConfig
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
    serve.add_argument("--scheme", choices=["ws", "wss"], default="ws", help="scheme of server_urls")
    serve.add_argument("--status-table", choices=[t.value for t in StatusTable], default="current")
    serve.add_argument("--frame-kind", choices=[k.value for k in FrameKind], default="text")
    serve.add_argument("--log-level", default="INFO")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # The official SDK offers the subprotocol "websocket"; Zoom does not echo it and neither
    # do we, which aiohttp reports at WARNING for every socket.
    logging.getLogger("aiohttp.websocket").setLevel(logging.ERROR)
    try:
        config = SimulatorConfig(
            host=args.host,
            port=args.port,
            tls_port=None if args.no_tls else args.tls_port,
            state_dir=args.state_dir,
            app=App(
                client_id=args.client_id, client_secret=args.client_secret, webhook_secret=args.webhook_secret
            ),
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
        asyncio.run(_serve(config, args))
    except OSError as exc:
        print(f"rtms-sim: cannot listen: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(config: SimulatorConfig, args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Simulator(config) as sim:
        print(f"control   {sim.http_url}/_sim/streams", flush=True)
        print(f"signaling {sim.signaling_url('ws')}", flush=True)
        if sim.tls_port is not None:
            print(f"signaling {sim.signaling_url('wss')}  (trust {sim.ca_file} via ZM_RTMS_CA)", flush=True)
        if args.webhook_url:
            for i in range(args.streams):
                stream = sim.start_stream(
                    product=Product(args.product),
                    webhook_url=args.webhook_url,
                    seed=args.seed + i,
                    duration=args.duration,
                    scheme=args.scheme,
                )
                print(f"stream    {stream.stream_id} -> {args.webhook_url}", flush=True)
        await stop.wait()
        log.info("shutting down")


if __name__ == "__main__":
    sys.exit(main())
