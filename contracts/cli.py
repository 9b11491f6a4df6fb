"""``rtms-contracts``: tools for recordings of the contract suite (docs/contracts.md, "Recording").

``rtms-contracts drift RECORDING (--against OTHER | --simulator)`` prints where two recordings
differ (:mod:`contracts.drift`); ``rtms-contracts sanitize-check DIR`` verifies that no
secret-looking value is left in a recording before it is shared (:mod:`contracts.sanitize`).

Exit status: 0 no drift / clean, 1 drift / something secret-looking found, 2 bad input (one line
on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import drift
from .sanitize import secrets_in

__all__ = ["main", "simulate"]

OK, FOUND, BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rtms-contracts", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    compare = commands.add_parser("drift", help="compare a recording with another or with the simulator")
    compare.add_argument("recording", type=Path, help="directory of sanitized transcripts (pytest --record)")
    other = compare.add_mutually_exclusive_group(required=True)
    other.add_argument("--against", type=Path, metavar="DIR", help="a second recording directory")
    other.add_argument(
        "--simulator", action="store_true", help="run the same tests on the in-process simulator and compare"
    )
    compare.add_argument(
        "--frames",
        type=int,
        default=drift.FRAMES,
        metavar="N",
        help=f"media frames of each type whose shape is compared (default {drift.FRAMES}), never counted",
    )
    check = commands.add_parser("sanitize-check", help="verify a recording holds no secret-looking values")
    check.add_argument("recording", type=Path, help="directory of sanitized transcripts")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "drift":
            return _drift(args)
        return _sanitize_check(args.recording)
    except drift.BadRecording as exc:
        print(f"rtms-contracts: {exc}", file=sys.stderr)
        return BAD_INPUT


def _drift(args: argparse.Namespace) -> int:
    if args.frames < 1:
        raise drift.BadRecording("--frames must be at least 1")
    recording = _load(args.recording)
    if args.simulator:
        with tempfile.TemporaryDirectory(prefix="rtms-drift-") as scratch:
            simulate(recording, Path(scratch))
            report = drift.Report.of(recording, drift.load(Path(scratch)), args.frames)
    else:
        report = drift.Report.of(recording, _load(args.against), args.frames)
    sys.stdout.write(report.render())
    return FOUND if report.drifted else OK


def simulate(recordings: Mapping[str, drift.Recording], directory: Path, *, timeout: float = 1800) -> None:
    """Record the same tests against the in-process simulator into ``directory``.

    Runs ``python -m pytest <node ids> --target inprocess --record DIR`` from the project root;
    a test whose file no longer exists is left out (and so reported as only in the recording).
    Failing contracts still leave a transcript; :class:`~contracts.drift.BadRecording` if pytest
    itself fails (usage error, internal error, interrupted).
    """
    root = Path(__file__).resolve().parent.parent
    tests = [t for t in recordings if (root / t.split("::")[0]).is_file()]
    if not tests:
        return
    command = [sys.executable, "-m", "pytest", *tests, "--target", "inprocess", "--record", str(directory)]
    command += ["-p", "no:cacheprovider", "-q"]
    print(f"rtms-contracts: running {len(tests)} contracts against the simulator", file=sys.stderr)
    try:
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise drift.BadRecording(f"the simulator run did not finish within {timeout:g} s") from None
    if done.returncode not in (0, 1, 5):  # passed, some contracts failed, nothing collected
        tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
        raise drift.BadRecording(f"the simulator run failed (pytest exit {done.returncode}): {tail[0]}")


def _load(directory: Path) -> dict[str, drift.Recording]:
    recordings = drift.load(directory)
    if not recordings:
        raise drift.BadRecording(f"{directory}: no recordings (*.json) in it")
    return recordings


def _sanitize_check(directory: Path) -> int:
    recordings = _load(directory)
    found = 0
    for recording in recordings.values():
        for path, kind in secrets_in(recording.entries, "entries"):
            print(f"{recording.path}: {path} looks like a {kind}")
            found += 1
    print(f"{len(recordings)} recordings checked, {found} secret-looking values")
    return FOUND if found else OK


if __name__ == "__main__":
    sys.exit(main())
