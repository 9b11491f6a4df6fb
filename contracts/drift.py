"""Drift: where one recording of the contracts differs from another (docs/contracts.md, "Recording").

Two directories of sanitized transcripts (:mod:`contracts.sanitize`) are compared test by test.
For every socket (the probe's role: ``signaling``, ``audio``, …) the messages the server sent
are reduced to *shapes*: the message's name (``msg_type``, §5.1), every key path with its JSON
types, and the values of enum-like fields (:data:`ENUM_KEYS`: status codes, states, reasons,
event types, negotiated media parameters, the kind of media bytes). Webhooks are compared the
same way by event name, body and the headers a sanitized transcript keeps (§7).

Control messages are compared in order: position by position when both sides got as many,
otherwise aligned so that one extra message is reported once, not as a shift of all after it.
Media frames and keep-alives (:data:`STREAMED`) come as fast as time passes, so their number
differs legitimately between runs and between Zoom and the simulator's manual clock: only the
first :data:`FRAMES` of each type are merged into one shape, their number is never compared,
and a keep-alive on one side only is not drift. Traffic of a test's teardown is left out: each
target ends its streams its own way (the live adapter with STREAM_CLOSE_REQ, the simulator
through its control API). A test whose transcript is empty on one side (a contract not
applicable to that target records no traffic) is listed as not compared.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import wire
from .sanitize import FORMAT

__all__ = ["BadRecording", "FRAMES", "Recording", "Report", "Shape", "compare", "load"]

ENUM_KEYS = frozenset(
    {
        "msg_type", "status_code", "state", "reason", "stop_reason", "event_type", "event",
        "media_type", "codec", "sample_rate", "channel", "content_type", "data_opt", "resolution",
        "fps", "send_rate", "payload_encrypted", "content-type", "code",
    }
)  # fmt: skip
STREAMED = frozenset({12, 14, 15, 16, 17, 18, 23})  # keep-alives and media data (§4.11, §4.12, §4.15)
TIMED = frozenset({wire.name_of(12)})  # keep-alives: sent every 10 s of idle time (§4.11)
FRAMES = 5
LABELS = {"live": "Zoom", "live-dryrun": "dry run", "inprocess": "simulator", "server": "simulator"}


class BadRecording(Exception):
    """A recording directory or file that cannot be compared; the message says which and why."""


@dataclass(frozen=True)
class Recording:
    """One sanitized transcript file."""

    path: Path
    test: str
    target: str
    entries: list[dict[str, Any]]


def load(directory: Path) -> dict[str, Recording]:
    """Every transcript in ``directory`` by test node id; :class:`BadRecording` if any is unusable."""
    if not directory.is_dir():
        raise BadRecording(f"{directory}: not a directory of recordings")
    found: dict[str, Recording] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            document = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise BadRecording(f"{path}: not a JSON recording ({exc})") from None
        if not (
            isinstance(document, dict)
            and document.get("format") == FORMAT
            and isinstance(document.get("test"), str)
            and isinstance(document.get("entries"), list)
            and all(isinstance(entry, dict) for entry in document["entries"])
        ):
            raise BadRecording(f"{path}: not a format {FORMAT} recording (format, test, entries)")
        if document["test"] in found:
            raise BadRecording(f"{path}: a second recording of {document['test']}")
        target = str(document.get("target", "?"))
        found[document["test"]] = Recording(path, document["test"], target, document["entries"])
    return found


# -- shapes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """A message reduced to its name, key paths → JSON types, and enum paths → values."""

    name: str
    paths: Mapping[str, frozenset[str]]
    enums: Mapping[str, frozenset[str]]

    @classmethod
    def of(cls, name: str, document: Any) -> Shape:
        paths: dict[str, set[str]] = {}
        enums: dict[str, set[str]] = {}
        _walk(document, "", "", paths, enums)
        return cls(
            name, {k: frozenset(v) for k, v in paths.items()}, {k: frozenset(v) for k, v in enums.items()}
        )

    @classmethod
    def merged(cls, name: str, shapes: Iterable[Shape]) -> Shape:
        """One shape for several frames: every path any of them has, with all its types and values."""
        paths: dict[str, frozenset[str]] = {}
        enums: dict[str, frozenset[str]] = {}
        for shape in shapes:
            for merged, part in ((paths, shape.paths), (enums, shape.enums)):
                for key, values in part.items():
                    merged[key] = merged.get(key, frozenset()) | values
        return cls(name, paths, enums)


def _walk(value: Any, path: str, key: str, paths: dict[str, set[str]], enums: dict[str, set[str]]) -> None:
    if isinstance(value, dict) and set(value) == {"bytes", "kind"}:  # sanitized media data
        paths.setdefault(path, set()).add("base64")
        enums.setdefault(f"{path} kind", set()).add(json.dumps(value["kind"]))
        return
    if path:
        paths.setdefault(path, set()).add(_type(value))
    if isinstance(value, dict):
        for k, v in value.items():
            _walk(v, f"{path}.{k}" if path else str(k), str(k), paths, enums)
    elif isinstance(value, list):
        for v in value:
            _walk(v, f"{path}[]", key, paths, enums)
    elif key in ENUM_KEYS:
        enums.setdefault(path, set()).add(json.dumps(value))


def _type(value: Any) -> str:
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (dict, "object")):
        if isinstance(value, kind):
            return name
    return "list" if isinstance(value, list) else "null"


@dataclass
class _Side:
    """One transcript's server→client traffic by socket: control messages and streamed types."""

    roles: set[str] = field(default_factory=set)
    ordered: dict[str, list[Shape]] = field(default_factory=dict)
    streamed: dict[str, dict[str, list[Shape]]] = field(default_factory=dict)

    @classmethod
    def of(cls, recording: Recording, frames: int) -> _Side:
        side = cls()
        for entry in recording.entries:
            if entry.get("phase") == "teardown":
                continue  # how a target ends a stream after the test is its own (live: STREAM_CLOSE_REQ)
            role, direction, message = str(entry.get("role")), entry.get("direction"), entry.get("message")
            side.roles.add(role)
            if direction == "close":
                side.ordered.setdefault(role, []).append(Shape.of("close", {"code": entry.get("code")}))
            if direction != "in":
                continue
            if role == "webhook":
                body = {"body": message, "headers": entry.get("headers", {})}
                event = message.get("event") if isinstance(message, dict) else None
                side.ordered.setdefault(role, []).append(Shape.of(str(event or "webhook"), body))
                continue
            msg_type = message.get("msg_type") if isinstance(message, dict) else None
            has_type = isinstance(message, dict) and "msg_type" in message
            name = wire.name_of(msg_type) if has_type else "unparsable"
            if msg_type in STREAMED:
                kept = side.streamed.setdefault(role, {}).setdefault(name, [])
                if len(kept) < frames:
                    kept.append(Shape.of(name, message))
            else:
                side.ordered.setdefault(role, []).append(Shape.of(name, message))
        return side


# -- comparing -----------------------------------------------------------------------------


def _values(values: frozenset[str] | None) -> str:
    return "missing" if values is None else "/".join(sorted(values))


def _ancestors(path: str) -> Iterable[str]:
    """``a``, ``a.b``, ``a.b[]`` for ``a.b[].c``; ``content``, ``content.data`` for ``content.data kind``."""
    return (path[:i] for i, char in enumerate(path) if char in ".[ ")


def _shape_lines(context: str, a: Shape, b: Shape, labels: tuple[str, str]) -> list[str]:
    """Differences between two shapes of the same message; a missing subtree is reported once."""
    missing = a.paths.keys() ^ b.paths.keys()
    lines: list[str] = []
    for left, right in ((a.paths, b.paths), (a.enums, b.enums)):
        for path in sorted(left.keys() | right.keys()):
            if left.get(path) == right.get(path) or any(p in missing for p in _ancestors(path)):
                continue
            if left is a.enums and path in missing:
                continue  # the key itself is missing: said once, by its type
            lines.append(
                f"{context} {path}: {_values(left.get(path))} in {labels[0]}, "
                f"{_values(right.get(path))} in {labels[1]}"
            )
    return lines


def _ordered_lines(role: str, a: list[Shape], b: list[Shape], labels: tuple[str, str]) -> list[str]:
    lines: list[str] = []
    opcodes: Sequence[tuple[str, int, int, int, int]]
    if len(a) == len(b):  # same length: position by position, so a swap reads as one
        opcodes = [
            ("equal" if x.name == y.name else "replace", i, i + 1, i, i + 1)
            for i, (x, y) in enumerate(zip(a, b, strict=True))
        ]
    else:
        names = [s.name for s in a], [s.name for s in b]
        opcodes = difflib.SequenceMatcher(None, *names, autojunk=False).get_opcodes()
    for op, i1, i2, j1, j2 in opcodes:
        paired = min(i2 - i1, j2 - j1) if op in ("equal", "replace") else 0
        for k in range(paired):
            x, y = a[i1 + k], b[j1 + k]
            if op == "equal":
                lines += _shape_lines(f"{role}: message {i1 + k + 1} {x.name}", x, y, labels)
            else:
                lines.append(
                    f"{role}: message {i1 + k + 1} is {x.name} in {labels[0]}, {y.name} in {labels[1]}"
                )
        lines += [f"{role}: message {i + 1} {a[i].name} only in {labels[0]}" for i in range(i1 + paired, i2)]
        lines += [f"{role}: message {j + 1} {b[j].name} only in {labels[1]}" for j in range(j1 + paired, j2)]
    return lines


def compare(a: Recording, b: Recording, labels: tuple[str, str], frames: int = FRAMES) -> list[str]:
    """The drift lines of one test; empty when the two transcripts have the same shapes."""
    left, right = _Side.of(a, frames), _Side.of(b, frames)
    lines: list[str] = []
    for role in sorted(left.roles | right.roles):
        if role not in right.roles or role not in left.roles:
            lines.append(f"{role}: socket only in {labels[0] if role in left.roles else labels[1]}")
            continue
        lines += _ordered_lines(role, left.ordered.get(role, []), right.ordered.get(role, []), labels)
        streams_a, streams_b = left.streamed.get(role, {}), right.streamed.get(role, {})
        for name in sorted(streams_a.keys() | streams_b.keys()):
            if name not in streams_a or name not in streams_b:
                if name in TIMED:
                    continue  # whether one came depends on how long the test took, not on Zoom
                lines.append(f"{role}: {name} only in {labels[0] if name in streams_a else labels[1]}")
                continue
            merged_a, merged_b = Shape.merged(name, streams_a[name]), Shape.merged(name, streams_b[name])
            lines += _shape_lines(f"{role}: {name} (first {frames})", merged_a, merged_b, labels)
    return lines


@dataclass
class Report:
    """Drift between two recording directories, test by test."""

    labels: tuple[str, str]
    drift: dict[str, list[str]] = field(default_factory=dict)  # test → lines; [] is "same"
    only: dict[str, str] = field(default_factory=dict)  # test → the label of the side it is on
    not_compared: dict[str, str] = field(default_factory=dict)  # test → why

    @classmethod
    def of(
        cls, left: Mapping[str, Recording], right: Mapping[str, Recording], frames: int = FRAMES
    ) -> Report:
        report = cls(labels := _labels(left, right))
        for test in sorted(left.keys() | right.keys()):
            if test not in right or test not in left:
                report.only[test] = labels[0] if test in left else labels[1]
            elif empty := [
                label for label, r in zip(labels, (left[test], right[test]), strict=True) if not r.entries
            ]:
                report.not_compared[test] = f"no traffic recorded in {' and '.join(empty)}"
            else:
                report.drift[test] = compare(left[test], right[test], labels, frames)
        return report

    @property
    def drifted(self) -> bool:
        return bool(self.only) or any(self.drift.values())

    def render(self) -> str:
        out: list[str] = []
        for test, lines in self.drift.items():
            out.append(f"{test}: {'drift' if lines else 'same'}")
            out += [f"  {line}" for line in lines]
        out += [f"{test}: only in {label}" for test, label in self.only.items()]
        out += [f"{test}: not compared ({why})" for test, why in self.not_compared.items()]
        same = sum(1 for lines in self.drift.values() if not lines)
        counts = [f"{len(self.drift)} compared", f"{same} same", f"{len(self.drift) - same} drift"]
        counts += [f"{sum(1 for v in self.only.values() if v == lb)} only in {lb}" for lb in self.labels]
        counts.append(f"{len(self.not_compared)} not compared")
        return "\n".join([*out, "summary: " + ", ".join(counts)]) + "\n"


def _labels(left: Mapping[str, Recording], right: Mapping[str, Recording]) -> tuple[str, str]:
    def label(side: Mapping[str, Recording]) -> str:
        targets = {LABELS.get(r.target, r.target) for r in side.values()}
        return targets.pop() if len(targets) == 1 else "mixed targets"

    a, b = label(left), label(right)
    if a != b:
        return a, b
    return f"{a} (first)", f"{b} (second)"
