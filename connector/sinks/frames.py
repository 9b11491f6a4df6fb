"""Camera video and screen share of one stream (MEDIA_DATA_VIDEO 15, MEDIA_DATA_SHARE 16,
docs/protocol.md §4.12, §5.7).

JPG and PNG arrive as one picture per frame and are kept as such:
``video/<timestamp>-<user_id>.jpg`` (``deskshare/…`` for screen share), each written to a
temporary name and renamed, so a file that exists is whole. H264 is appended to
``video.h264`` / ``deskshare.h264`` as received (an Annex-B byte stream, which a player reads
up to a cut anywhere).
"""

from __future__ import annotations

import logging
from pathlib import Path

from msgspec import UnsetType

from ..protocol import Codec, MediaContent
from .base import VideoFormat
from .fs import AppendFile, file_error, write_atomically
from .naming import safe_name

__all__ = ["VideoRecorder"]

logger = logging.getLogger("connector.sinks.files")

_PICTURE_SUFFIXES = {Codec.JPG: ".jpg", Codec.PNG: ".png"}


class VideoRecorder:
    """The frames of one kind (video or deskshare) in one format. Raises
    :class:`~connector.errors.SinkError`."""

    def __init__(self, directory: Path, fmt: VideoFormat) -> None:
        self.format = fmt
        self.frames = 0
        name = fmt.kind.key  # "video" or "deskshare"
        self.pictures = directory / name
        self.stream: AppendFile | None = None
        self._suffix = ".bin"
        if fmt.codec == Codec.H264:
            self.stream = AppendFile(directory / f"{name}.h264")
        elif fmt.codec in _PICTURE_SUFFIXES:
            self._suffix = _PICTURE_SUFFIXES[Codec(fmt.codec)]
        self._made_directory = False

    @property
    def files(self) -> list[str]:
        """``video.h264``, or ``video/`` once a picture was written (one entry, not one per frame)."""
        if self.stream is not None:
            return [self.stream.path.name] if self.stream.created else []
        return [f"{self.pictures.name}/"] if self._made_directory else []

    def write(self, content: MediaContent) -> None:
        if self.stream is not None:
            self.stream.append(content.data)
        else:
            write_atomically(self._picture_path(content), content.data)
        self.frames += 1

    def _picture_path(self, content: MediaContent) -> Path:
        if not self._made_directory:
            try:
                self.pictures.mkdir(exist_ok=True)
            except OSError as exc:
                raise file_error(self.pictures, exc, doing="create") from None
            self._made_directory = True
        stamp = f"n{self.frames}" if isinstance(content.timestamp, UnsetType) else str(content.timestamp)
        user = "0" if isinstance(content.user_id, UnsetType) else safe_name(str(content.user_id), limit=40)
        stem = f"{stamp}-{user}"
        path = self.pictures / f"{stem}{self._suffix}"
        n = 0
        while path.exists():  # two frames in one millisecond, or a replay: keep both
            n += 1
            path = self.pictures / f"{stem}-{n}{self._suffix}"
        return path

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
