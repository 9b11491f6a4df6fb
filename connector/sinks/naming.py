"""File and directory names made from what Zoom sends (stream ids, user ids and names).

Nothing Zoom sends is used in a path as it is: instance ids contain ``/`` and ``=``, user
names anything at all.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ..errors import SinkError

__all__ = ["MAX_RUNS", "plain_name", "safe_name", "stream_directory"]

MAX_RUNS = 10_000
"""Runs of one stream id kept side by side in one output directory (``<id>``, ``<id>-1`` …)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def plain_name(untrusted: str, *, limit: int = 40) -> str:
    """``untrusted`` with every character outside ``[A-Za-z0-9._-]`` replaced by ``_``, no
    leading dot, at most ``limit`` characters; may be empty. For names that are already made
    unique by something else (a user id in front of a user name)."""
    return _UNSAFE.sub("_", untrusted)[:limit].lstrip(".")


def safe_name(untrusted: str, *, limit: int = 80) -> str:
    """A file name made from ``untrusted``: ``[A-Za-z0-9._-]`` only, no leading dot, at most
    ``limit`` characters. When anything had to change, a hash of the original is appended so
    that two different ids never share a name (instance ids contain ``/`` and ``=``)."""
    cleaned = plain_name(untrusted, limit=limit)
    if cleaned == untrusted and cleaned:
        return cleaned
    digest = hashlib.sha256(untrusted.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{cleaned or 'stream'}-{digest}"


def stream_directory(output_dir: Path, stream_id: str) -> Path:
    """Create and return a fresh directory for ``stream_id`` under ``output_dir``; a later run
    of the same stream gets ``<name>-1``, ``<name>-2`` … so that no earlier output is
    overwritten. Raises :class:`~connector.errors.SinkError` naming ``output_dir``."""
    base = safe_name(stream_id)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        for n in range(MAX_RUNS):
            directory = output_dir / (base if n == 0 else f"{base}-{n}")
            try:
                directory.mkdir()
            except FileExistsError:
                continue
            return directory
    except OSError as exc:
        raise SinkError(f"cannot create a directory in {output_dir}: {exc}", path=str(output_dir)) from None
    raise SinkError(f"too many runs of stream {base} in {output_dir}", path=str(output_dir))
