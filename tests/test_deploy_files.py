"""Dockerfile, compose.yaml and .dockerignore, checked without a Docker engine.

The files are parsed and held to what docs/operations.md promises: Redis plus at least three
connector replicas configured only through documented ZM_RTMS_* variables, a non-root image
that installs the package and runs ``rtms-connector``, and a HEALTHCHECK command that really
tells a healthy connector from an unhealthy one (it is run against a live server).
"""

from __future__ import annotations

import asyncio
import dataclasses
import fnmatch
import json
import os
import re
import shlex
import sys
import tomllib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from connector.config import ENVIRONMENT, ConnectorConfig
from connector.health import OPS_PATHS, add_ops_routes
from connector.metrics import Metrics

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_NAME = re.compile(r"\bZM_RTMS_[A-Z0-9_]+\b")
REQUIRED_SECRETS = ("ZM_RTMS_CLIENT", "ZM_RTMS_SECRET", "ZM_RTMS_WEBHOOK_SECRET")
OUTPUT_VOLUME = "rtms-output"


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def connector_services() -> dict[str, dict[str, Any]]:
    """The services built from this repository (the connector image)."""
    return {name: s for name, s in compose()["services"].items() if s.get("build") in (".", {"context": "."})}


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def args_of(keyword: str) -> list[str]:
    return [arguments for instruction, arguments in dockerfile() if instruction == keyword]


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", duration)
    assert match, f"unsupported duration {duration!r}"
    return float(match[1]) * {"ms": 0.001, "s": 1, "m": 60}[match[2]]


# -- compose.yaml ------------------------------------------------------------------------------


def test_compose_runs_redis_and_declares_the_output_volume() -> None:
    data = compose()
    redis = data["services"]["redis"]
    assert redis["image"] == "redis:7-alpine"
    assert "healthcheck" in redis
    assert OUTPUT_VOLUME in data["volumes"]


def test_compose_runs_at_least_three_connector_replicas_on_redis() -> None:
    services = connector_services()
    replicas = sum(int(s.get("deploy", {}).get("replicas", 1)) for s in services.values())
    assert replicas >= 3
    replica_ids = []
    for name, service in services.items():
        env = environment(service)
        assert env["ZM_RTMS_REDIS_URL"] == "redis://redis:6379/0", name
        assert "redis" in service["depends_on"], name
        # Secrets come from .env through interpolation, never written in the file.
        for variable in REQUIRED_SECRETS:
            assert env[variable].startswith(f"${{{variable}:?"), (name, variable)
        assert env["ZM_RTMS_HOST"] == "0.0.0.0", name
        # One named volume holds every replica's output, mounted where ZM_RTMS_OUTPUT points.
        mounts = [str(mount).split(":")[:2] for mount in service["volumes"]]
        assert [OUTPUT_VOLUME, env["ZM_RTMS_OUTPUT"]] in mounts, name
        replica_ids.append(env.get("ZM_RTMS_REPLICA_ID"))
    if len(services) > 1:  # named replicas must not share an identity
        assert len(set(replica_ids)) == len(replica_ids)
        assert None not in replica_ids


def test_grace_period_outlasts_the_graceful_close() -> None:
    close_timeout = next(f.default for f in dataclasses.fields(ConnectorConfig) if f.name == "close_timeout")
    assert isinstance(close_timeout, float)
    for name, service in connector_services().items():
        assert seconds(service["stop_grace_period"]) > close_timeout, name


def test_the_proxy_balances_over_every_replica_and_hides_the_ops_routes() -> None:
    data = compose()
    proxy = data["services"]["proxy"]
    [config] = proxy["configs"]
    nginx = data["configs"][config["source"]]["content"]
    upstream = set(re.findall(r"^\s*server\s+([\w.-]+):(\d+)", nginx, re.MULTILINE))
    expected = {(name, environment(s)["ZM_RTMS_PORT"]) for name, s in connector_services().items()}
    assert upstream == expected
    for path in OPS_PATHS:
        assert re.search(rf"location\s*=\s*{re.escape(path)}\s*\{{\s*return 404;", nginx), path
    assert "http_503" in nginx  # a draining replica's 503 sends the webhook to another one


def test_compose_interpolation_is_well_formed() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    # Compose interpolates every "$": only ${NAME...} is meant, a literal dollar must be "$$".
    for match in re.finditer(r"\$(\$|\{[A-Z_][A-Z0-9_]*(?::?[-?][^}]*)?\}|.)", text):
        assert match[1] == "$" or match[1].startswith("{"), f"bad interpolation near {match[0]!r}"


# -- Dockerfile --------------------------------------------------------------------------------


def test_dockerfile_base_image_and_install() -> None:
    assert args_of("FROM") == ["python:3.11-slim"]
    assert any(re.search(r"\bpip install (?:[^&]* )?\.(?:\s|$)", run) for run in args_of("RUN"))
    copied = " ".join(args_of("COPY"))
    assert "pyproject.toml" in copied
    assert "connector" in copied


def test_dockerfile_runs_as_a_non_root_user() -> None:
    instructions = dockerfile()
    users = [i for i, (keyword, _) in enumerate(instructions) if keyword == "USER"]
    assert users, "no USER instruction: the container would run as root"
    user = instructions[users[-1]][1].split(":")[0]
    assert user not in ("root", "0")
    assert not [k for k, _ in instructions[users[-1] :] if k == "RUN"], "RUN after USER would need root"
    assert any("useradd" in run and user in run for run in args_of("RUN"))


def test_dockerfile_command_is_the_console_script() -> None:
    [cmd] = args_of("CMD")
    assert json.loads(cmd) == ["rtms-connector"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["rtms-connector"] == "connector.cli:main"


def test_dockerfile_exposes_the_configured_port() -> None:
    env = " ".join(args_of("ENV"))
    port = re.search(r"ZM_RTMS_PORT=(\d+)", env)
    assert port is not None
    assert args_of("EXPOSE") == [port[1]]
    assert "ZM_RTMS_HOST=0.0.0.0" in env


def healthcheck_command() -> list[str]:
    [healthcheck] = args_of("HEALTHCHECK")
    options, _, command = healthcheck.partition("CMD ")
    assert "--timeout=" in options
    argv = json.loads(command)
    assert isinstance(argv, list)
    return [str(a) for a in argv]


def test_healthcheck_uses_python_urllib_on_healthz() -> None:
    argv = healthcheck_command()
    assert argv[:2] == ["python", "-c"]
    assert "urllib" in argv[2]
    assert "/healthz" in argv[2]


def test_every_variable_used_is_a_documented_one() -> None:
    used = set(ENV_NAME.findall(COMPOSE.read_text(encoding="utf-8"))) | set(
        ENV_NAME.findall(DOCKERFILE.read_text(encoding="utf-8"))
    )
    assert set(REQUIRED_SECRETS) <= used
    undocumented = sorted(used - set(ENVIRONMENT))
    assert not undocumented, f"not in connector.config.ENVIRONMENT: {undocumented}"


# -- .dockerignore -----------------------------------------------------------------------------


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, for the patterns used here: the last matching pattern wins, "!" re-includes,
    and a pattern matching a directory covers everything under it."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.removeprefix("!").strip("/")
        if any(fnmatch.fnmatchcase(prefix, glob) for prefix in prefixes):
            result = not negated
    return result


def test_dockerignore_lets_in_what_the_dockerfile_copies_and_nothing_secret() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = [arg for copy in args_of("COPY") for arg in shlex.split(copy)[:-1] if not arg.startswith("--")]
    assert sources
    for source in sources:
        assert not ignored(source.rstrip("/"), patterns), source
    for path in ("connector/__init__.py", "connector/protocol/codec.py"):
        assert not ignored(path, patterns), path
    for path in (
        ".env",
        ".git/config",
        "tests/conftest.py",
        "rtms-output/x.wav",
        "connector/__pycache__/a.pyc",
    ):
        assert ignored(path, patterns), path


# -- the HEALTHCHECK command against a live connector app --------------------------------------


@pytest.fixture
async def ops_server() -> AsyncIterator[tuple[int, Callable[[bool], None]]]:
    """The operations routes on 127.0.0.1:<free port>; returns (port, set_live)."""
    state = {"live": True}
    app = web.Application()
    add_ops_routes(app, metrics=Metrics(), ready=lambda: (True, {}), live=lambda: (state["live"], {}))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()

    def set_live(value: bool) -> None:
        state["live"] = value

    yield int(runner.addresses[0][1]), set_live
    await runner.cleanup()


async def run_healthcheck(port: int) -> int:
    argv = healthcheck_command()
    env = {**os.environ, "ZM_RTMS_PORT": str(port)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *argv[1:],
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    async with asyncio.timeout(30):  # a bound on a hung child, not a wait for behaviour
        return await process.wait()


async def test_healthcheck_command_passes_on_a_healthy_connector_and_fails_otherwise(
    ops_server: tuple[int, Callable[[bool], None]],
) -> None:
    port, set_live = ops_server
    assert await run_healthcheck(port) == 0
    set_live(False)  # /healthz now answers 503
    assert await run_healthcheck(port) != 0
