"""Protocol transcripts of contract runs (docs/contracts.md, "Recording").

A :class:`Recorder` sees every frame a probe sends or receives and every webhook the inbox
gets, in order, with the seconds since the recording began and the pytest phase it came in
(``setup``, ``call``, ``teardown``: a target ends its streams in teardown its own way, which
:mod:`contracts.drift` leaves out). :attr:`Recorder.entries` is the raw transcript;
:mod:`contracts.sanitize` turns it into one that can be shared.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

__all__ = ["Recorder"]


class Recorder:
    """The transcript of one contract test against one target."""

    def __init__(self, test: str, target: str) -> None:
        self.test = test
        self.target = target
        self._t0 = time.monotonic()
        self.entries: list[dict[str, Any]] = []

    def _add(self, **entry: Any) -> None:
        phase = _phase()
        stamp = {"t": round(time.monotonic() - self._t0, 4), **({"phase": phase} if phase else {})}
        self.entries.append({**stamp, **entry})

    def opened(self, role: str, url: str) -> None:
        self._add(role=role, direction="open", url=url)

    def frame(self, role: str, direction: str, raw: str | bytes) -> None:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        try:
            message: Any = json.loads(text)
        except ValueError:
            message = {"unparsable": text[:200]}
        self._add(role=role, direction=direction, binary=isinstance(raw, bytes), message=message)

    def closed(self, role: str, code: int | None) -> None:
        self._add(role=role, direction="close", code=code)

    def webhook(self, body: bytes, headers: dict[str, str]) -> None:
        try:
            message: Any = json.loads(body)
        except ValueError:
            message = {"unparsable": body[:200].decode("utf-8", "replace")}
        self._add(role="webhook", direction="in", message=message, headers=headers)


def _phase() -> str | None:
    """The phase of the running test: pytest sets ``PYTEST_CURRENT_TEST`` to ``"<id> (<phase>)"``."""
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    return current.rpartition(" (")[2].removesuffix(")") if current.endswith(")") else None
