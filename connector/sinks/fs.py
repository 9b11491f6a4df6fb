"""The file-system side of the file sink: output files opened on first write, atomic
replacement, and the translation of ``OSError`` into :class:`~connector.errors.SinkError`
naming the path."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ..errors import SinkError

__all__ = ["TEMPORARY_SUFFIX", "AppendFile", "OutputFile", "file_error", "write_atomically"]

TEMPORARY_SUFFIX = ".tmp"
"""Suffix of a file being written before it is renamed into place; a leftover one is removed
by :func:`~connector.sinks.repair.repair_outputs`."""


def file_error(path: Path, exc: OSError, *, doing: str = "write") -> SinkError:
    """A one-line :class:`SinkError` for ``exc`` at ``path`` (no traceback, no errno noise)."""
    return SinkError(f"cannot {doing} {path}: {exc.strerror or exc}", path=str(path))


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through ``<path>.tmp`` and a rename, so that a reader (or a
    crash) never sees half a file. Raises :class:`SinkError`."""
    temporary = path.with_name(path.name + TEMPORARY_SUFFIX)
    try:
        with open(temporary, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except OSError as exc:
        raise file_error(path, exc) from None


class OutputFile:
    """One output file, created (with its parent directory) on the first write and kept open
    until :meth:`close`. Subclasses write a header in :meth:`_begin` and finish the file in
    :meth:`_end`. Every method raises :class:`SinkError` naming the path."""

    mode = "wb"  # the stream's directory is new: a file of the same name is not ours to keep
    buffering = -1  # Python's default buffer

    def __init__(self, path: Path) -> None:
        self.path = path
        self.created = False  # the file exists (it is created on the first write)
        self._file: IO[bytes] | None = None
        self._closed = False

    @contextmanager
    def _writing(self) -> Iterator[IO[bytes]]:
        """The open file (opening it on first use); an ``OSError`` inside becomes a SinkError."""
        try:
            file = self._file
            if file is None:
                if self._closed:
                    raise SinkError(f"{self.path} is already closed", path=str(self.path))
                self.path.parent.mkdir(parents=True, exist_ok=True)
                file = self._file = open(self.path, self.mode, buffering=self.buffering)  # noqa: SIM115
                self.created = True
                self._begin(file)
            yield file
        except OSError as exc:
            raise file_error(self.path, exc) from None

    def _begin(self, file: IO[bytes]) -> None:
        """Write what precedes the content (a header); nothing by default."""

    def _end(self, file: IO[bytes]) -> None:
        """Finish the file before it is closed; nothing by default."""

    def flush(self) -> None:
        """Hand buffered bytes to the OS."""
        file = self._file
        if file is not None:
            try:
                file.flush()
            except OSError as exc:
                raise file_error(self.path, exc) from None

    def close(self) -> None:
        """Finish and close the file; idempotent."""
        file, self._file = self._file, None
        self._closed = True
        if file is None:
            return
        try:
            try:
                self._end(file)
            finally:
                file.close()
        except OSError as exc:
            raise file_error(self.path, exc, doing="finish") from None


class AppendFile(OutputFile):
    """A file of records, each :meth:`append` in one ``write()`` followed by a flush to the OS:
    a killed process leaves whole records, never half of one (docs/sinks.md, "Crash
    guarantees"). ``header`` is written before the first record.

    Unbuffered: every record goes to the OS at once anyway, and a buffer would cost 8 KiB per
    file and stream for nothing."""

    mode = "ab"
    buffering = 0

    def __init__(self, path: Path, *, header: bytes = b"") -> None:
        super().__init__(path)
        self.bytes_written = 0  # content bytes, the header excluded
        self._header = header

    def _begin(self, file: IO[bytes]) -> None:
        if self._header:
            _write_all(file, self._header)

    def append(self, record: bytes) -> None:
        with self._writing() as file:
            _write_all(file, record)
        self.bytes_written += len(record)


def _write_all(file: IO[bytes], data: bytes) -> None:
    """Write all of ``data`` to an unbuffered file (``write()`` may take only part of it)."""
    view = memoryview(data)
    while view:
        written = file.write(view)
        if not written:
            raise OSError(errno.EIO, "the file took no data")
        view = view[written:]
