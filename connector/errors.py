"""The exception tree of the connector (everything outside :mod:`connector.protocol`).

Callers catch :class:`ConnectorError` and never see a library's exception: errors from
aiohttp, websockets, ``ssl`` or the file system are translated where they are caught.
Failures of the wire core are :class:`connector.protocol.ProtocolError` and stay in that tree.

::

    ConnectorError
    ├── ConfigError      the configuration cannot work (missing secret, bad port, missing CA file)
    ├── SinkError        an output file cannot be created or written
    └── StreamError      a stream could not run to its end (e.g. it never started)
"""

from __future__ import annotations

__all__ = ["ConfigError", "ConnectorError", "SinkError", "StreamError"]


class ConnectorError(Exception):
    """Root of every error raised by the connector outside the protocol core."""


class ConfigError(ConnectorError):
    """The configuration is unusable. ``str(error)`` is one line meant for a human.

    ``option`` names the setting at fault (the environment variable when it came from one).
    """

    def __init__(self, message: str, *, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option


class SinkError(ConnectorError):
    """An output directory or file cannot be created or written; ``path`` says which."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class StreamError(ConnectorError):
    """A stream did not produce a summary; ``stream_id`` says which one."""

    def __init__(self, message: str, *, stream_id: str) -> None:
        super().__init__(message)
        self.stream_id = stream_id
