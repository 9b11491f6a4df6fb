"""Sanitized transcripts (placeholder until the recording module lands)."""

from __future__ import annotations

import json
from pathlib import Path

from .recording import Recorder


def save(recorder: Recorder, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (recorder.test.replace("/", "_").replace("::", "__") + ".json")
    path.write_text(json.dumps(recorder.entries, indent=1))
    return path
