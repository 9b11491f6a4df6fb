"""``rtms-connector``: run the connector until SIGTERM or SIGINT; ``rtms-connector explain CODE``
turns a stop reason, REST error or handshake status into plain guidance.

Contract:

* Options override the environment (see :mod:`connector.config` and docs/configuration.md).
* Once bound, exactly one line goes to stdout, flushed: ``listening http://HOST:PORT/PATH``
  with the real port (``--port 0`` picks a free one). Everything else is logging on stderr.
* SIGTERM / SIGINT drain: new webhooks get 503, every stream is closed gracefully
  (STREAM_CLOSE_REQ, wait for STREAM_CLOSE_RESP, bounded by the close timeout), sinks are
  flushed, leases released; exit 0.
* A configuration problem prints ``rtms-connector: error: <one line>`` on stderr and exits 2,
  never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence

from .config import LOG_LEVELS, ConnectorConfig
from .errors import ConfigError
from .guidance import explain_main
from .logs import configure_logging
from .loop import new_event_loop
from .service import Connector

__all__ = ["main"]

logger = logging.getLogger("connector.cli")

PROG = "rtms-connector"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Receive Zoom RTMS webhooks and record each stream's audio, transcript and events.",
        epilog="Secrets are best given through ZM_RTMS_SECRET and ZM_RTMS_WEBHOOK_SECRET: "
        "command-line arguments are visible to other local users.",
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on; 0 picks a free port (env ZM_RTMS_PORT)")
    parser.add_argument("--path", help="webhook URL path (env ZM_RTMS_PATH, default /)")
    parser.add_argument("--output", dest="output_dir", help="output directory (env ZM_RTMS_OUTPUT)")
    parser.add_argument("--client-id", help="app Client ID (env ZM_RTMS_CLIENT)")
    parser.add_argument("--client-secret", help="app Client Secret (env ZM_RTMS_SECRET)")
    parser.add_argument("--webhook-secret", help="webhook Secret Token (env ZM_RTMS_WEBHOOK_SECRET)")
    parser.add_argument("--ca", dest="ca_file", help="CA bundle for wss:// servers (env ZM_RTMS_CA)")
    parser.add_argument("--redis-url", help="Redis for ownership across replicas (env ZM_RTMS_REDIS_URL)")
    parser.add_argument("--replica-id", help="this replica's name in leases (env ZM_RTMS_REPLICA_ID)")
    parser.add_argument(
        "--lease-ttl", type=float, help="seconds a dead replica keeps its streams (env ZM_RTMS_LEASE_TTL)"
    )
    parser.add_argument(
        "--log-level",
        type=str.lower,
        choices=sorted(LOG_LEVELS),
        help="logging level on stderr (env ZM_RTMS_LOG_LEVEL, default info)",
    )
    parser.add_argument(
        "--log-format", choices=["text", "json"], help="env ZM_RTMS_LOG_FORMAT (default text)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rtms-connector`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "explain":
        return explain_main(argv[1:])
    if argv and argv[0] == "serve":
        argv = argv[1:]
    args = _parser().parse_args(argv)
    try:
        config = ConnectorConfig.from_env(os.environ, **vars(args))
        configure_logging(
            level=config.log_level, fmt=config.log_format, secrets=config.secrets, stream=sys.stderr
        )
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    try:
        with asyncio.Runner(loop_factory=lambda: new_event_loop(config.poll_interval)) as runner:
            return runner.run(_serve(config))
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        return 130


async def _serve(config: ConnectorConfig) -> int:
    connector = Connector(config)
    await connector.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"listening {connector.url}", flush=True)
    try:
        await stop.wait()
        logger.info("shutting down")
    finally:
        await connector.close()
    return 0
