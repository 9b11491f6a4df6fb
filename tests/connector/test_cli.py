"""``rtms-connector`` as a real process: the stdout line, signals, exit codes (docs/configuration.md)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from connector.cli import main
from connector.protocol import StreamCloseReq

from .conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    STREAM_ID,
    TIMEOUT,
    WEBHOOK_SECRET,
    Peer,
    joining_peer,
    read_json,
    started_payload,
    webhook,
)

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"^listening http://127\.0\.0\.1:(\d+)/hook\n$")


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZM_RTMS_")}
    env.update(
        PYTHONPATH=str(ROOT),
        ZM_RTMS_CLIENT=CLIENT_ID,
        ZM_RTMS_SECRET=CLIENT_SECRET,
        ZM_RTMS_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    env.update(extra)
    return env


async def run(*args: str, env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "connector",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@asynccontextmanager
async def connector_process(
    tmp_path: Path, *args: str
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """Start the CLI on a free port; yield it and its webhook URL; never leave it running."""
    process = await run(
        "--port", "0", "--path", "/hook", "--output", "out", *args, env=environment(), cwd=tmp_path
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(TIMEOUT):
            line = (await process.stdout.readline()).decode()
        match = LISTENING.match(line)
        assert match, f"unexpected first line {line!r}"
        yield process, f"http://127.0.0.1:{match.group(1)}/hook"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def terminate(process: asyncio.subprocess.Process) -> tuple[int, str, str]:
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(TIMEOUT * 2):
        stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_prints_the_bound_url_answers_zoom_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    async with connector_process(tmp_path) as (process, url), aiohttp.ClientSession() as http:
        body, headers = webhook(
            "endpoint.url_validation", {"plainToken": "plaintoken123"}, timestamp=int(time.time())
        )
        async with asyncio.timeout(TIMEOUT):
            response = await http.post(url, data=body, headers=headers)
            answer = await response.json()
        assert answer["encryptedToken"] == "a14ab6fc5605d6c62111fcd226d2a32af323e4a177a2f9131491ef070b0540b0"
        code, stdout, stderr = await terminate(process)
    assert code == 0
    assert stdout == ""  # the listening line was the only one
    assert "Traceback" not in stderr
    assert CLIENT_SECRET not in stderr
    assert WEBHOOK_SECRET not in stderr


@pytest.mark.parametrize(
    ("extra_env", "args", "message"),
    [
        ({"ZM_RTMS_SECRET": ""}, [], "client_secret (ZM_RTMS_SECRET) is required"),
        ({"ZM_RTMS_PORT": "eighty"}, [], "ZM_RTMS_PORT must be an integer, got 'eighty'"),
        ({}, ["--ca", "/nonexistent/ca.pem"], "CA file '/nonexistent/ca.pem' does not exist"),
    ],
)
async def test_bad_configuration_exits_2_with_one_line(
    tmp_path: Path, extra_env: dict[str, str], args: list[str], message: str
) -> None:
    process = await run(*args, env=environment(**extra_env), cwd=tmp_path)
    async with asyncio.timeout(TIMEOUT * 2):
        stdout, stderr = await process.communicate()
    assert process.returncode == 2
    assert stdout == b""
    lines = stderr.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("rtms-connector: error: ")
    assert message in lines[0]


async def test_a_port_in_use_exits_2(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        process = await run("--port", str(busy.getsockname()[1]), env=environment(), cwd=tmp_path)
        async with asyncio.timeout(TIMEOUT * 2):
            _, stderr = await process.communicate()
    assert process.returncode == 2
    assert "cannot listen on 127.0.0.1:" in stderr.decode()
    assert "Traceback" not in stderr.decode()


async def test_sigterm_closes_active_streams_gracefully(tmp_path: Path, peer: Peer) -> None:
    joined, received = joining_peer(peer)
    async with connector_process(tmp_path) as (process, url), aiohttp.ClientSession() as http:
        body, headers = webhook(
            "meeting.rtms_started", started_payload(peer.url("/signal")), timestamp=int(time.time())
        )
        async with asyncio.timeout(TIMEOUT):
            response = await http.post(url, data=body, headers=headers)
            assert response.status == 200
            await joined.wait()
        code, _, stderr = await terminate(process)
    assert code == 0
    assert received == [StreamCloseReq(rtms_stream_id=STREAM_ID)]
    stream = read_json(tmp_path / "out" / STREAM_ID / "stream.json")
    assert (stream["end_cause"], stream["stop_reason"]) == ("closed", 20)
    assert f"stream {STREAM_ID} ended: closed (STOP_BC_RECEIVER_REQUEST_CLOSE)" in stderr


def test_main_in_process_reports_config_errors(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ZM_RTMS_CLIENT", "ZM_RTMS_SECRET", "ZM_RTMS_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert main(["--client-id", "x", "--client-secret", "y"]) == 2
    assert capsys.readouterr().err == (
        "rtms-connector: error: webhook_secret (ZM_RTMS_WEBHOOK_SECRET) is required\n"
    )
