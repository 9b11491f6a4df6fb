"""Mend what a killed connector left in its output directory; run once at start (docs/sinks.md,
"Crash guarantees").

A process killed mid-stream can leave: a WAV header whose sizes lag the samples (it is
brought up to date once per second), half a line at the end of a JSONL file or half a cue at
the end of a WebVTT file (only when the kill hit a ``write()``), and ``*.tmp`` files of
pictures or summaries not yet renamed into place. :func:`repair_outputs` fixes all three and
says what it did; it never touches a file that is already consistent.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .fs import TEMPORARY_SUFFIX
from .wav import repair_wav

__all__ = ["RepairReport", "repair_outputs"]

logger = logging.getLogger("connector.sinks.repair")

_BLOCK = 1 << 16
_RECORD_ENDS = {".jsonl": b"\n", ".vtt": b"\n\n"}  # what ends a whole record in each text format


@dataclass
class RepairReport:
    """What :func:`repair_outputs` did, path by path. False when there is nothing to report;
    ``str()`` is :meth:`one_line`."""

    wav_headers: list[Path] = field(default_factory=list)
    """WAV files whose RIFF/data sizes were rewritten (and a partial sample frame cut off)."""
    partial_records: list[Path] = field(default_factory=list)
    """JSONL/WebVTT files cut back to their last whole line or cue."""
    temporary_removed: list[Path] = field(default_factory=list)
    """Leftover ``*.tmp`` files removed."""
    unrepairable: list[tuple[Path, str]] = field(default_factory=list)
    """Files that could not be read or fixed, with the reason; left as they are."""
    skipped_recent: list[Path] = field(default_factory=list)
    """Files modified less than ``min_age`` seconds ago (possibly still being written)."""

    @property
    def changed(self) -> int:
        """How many files were fixed or removed."""
        return len(self.wav_headers) + len(self.partial_records) + len(self.temporary_removed)

    def __bool__(self) -> bool:
        """True when there is something to say: a file was fixed, or could not be."""
        return self.changed > 0 or bool(self.unrepairable)

    def __str__(self) -> str:
        return self.one_line()

    def one_line(self) -> str:
        return (
            f"output repair: {len(self.wav_headers)} WAV headers fixed, "
            f"{len(self.partial_records)} partial lines removed, "
            f"{len(self.temporary_removed)} temporary files removed, "
            f"{len(self.unrepairable)} unrepairable, {len(self.skipped_recent)} skipped as recent"
        )


def repair_outputs(output_dir: Path, *, min_age: float = 0.0, now: float | None = None) -> RepairReport:
    """Repair every stream directory under ``output_dir`` (recursively); a missing directory
    is an empty report. Files modified less than ``min_age`` seconds before ``now`` (Unix
    time; default the current time) are left alone: give a ``min_age`` when several
    connectors share one output directory, so that another one's live files are not touched.
    Never raises for a single file: problems are listed in :attr:`RepairReport.unrepairable`.
    """
    report = RepairReport()
    if not output_dir.is_dir():
        return report
    newest = (time.time() if now is None else now) - min_age
    for root, _, names in os.walk(output_dir):
        for name in sorted(names):
            path = Path(root) / name
            try:
                if min_age > 0 and path.stat().st_mtime > newest:
                    report.skipped_recent.append(path)
                    continue
                _repair_one(path, report)
            except OSError as exc:
                report.unrepairable.append((path, exc.strerror or str(exc)))
    for path in (*report.wav_headers, *report.partial_records, *report.temporary_removed):
        logger.info("repaired %s", path)
    for path, reason in report.unrepairable:
        logger.warning("cannot repair %s: %s", path, reason)
    return report


def _repair_one(path: Path, report: RepairReport) -> None:
    if path.name.endswith(TEMPORARY_SUFFIX):
        path.unlink()
        report.temporary_removed.append(path)
    elif path.suffix == ".wav":
        outcome = repair_wav(path)
        if outcome == "repaired":
            report.wav_headers.append(path)
        elif outcome is not None:
            report.unrepairable.append((path, outcome))
    elif path.suffix in _RECORD_ENDS and _cut_partial_record(path, _RECORD_ENDS[path.suffix]):
        report.partial_records.append(path)


def _cut_partial_record(path: Path, end: bytes) -> bool:
    """Truncate ``path`` just after the last ``end``, or to nothing when there is none;
    False when the file already ends with ``end`` (or is empty)."""
    with open(path, "r+b") as file:
        size = file.seek(0, os.SEEK_END)
        if size == 0:
            return False
        file.seek(max(size - len(end), 0))
        if file.read() == end:
            return False
        stop = size
        keep = 0
        while stop > 0:  # search backwards, blocks overlapping by len(end) - 1 bytes
            start = max(stop - _BLOCK, 0)
            file.seek(start)
            block = file.read(min(stop + len(end) - 1, size) - start)
            found = block.rfind(end)
            if found >= 0:
                keep = start + found + len(end)
                break
            stop = start
        file.truncate(keep)
    return True
