"""16-bit PCM WAV files written while the audio arrives, and the repair of a WAV file whose
writer was killed (docs/sinks.md, "Crash guarantees").

The writer puts a canonical 44-byte header in front of the samples and brings its two size
fields up to date once per second of audio and on close, so that a killed process leaves a
file that plays up to the last second; :func:`repair_wav` fixes the rest after a restart.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import IO

from .fs import OutputFile, file_error

__all__ = ["HEADER_SIZE", "SAMPLE_WIDTH", "WavWriter", "repair_wav", "wav_header"]

SAMPLE_WIDTH = 2  # bytes per sample: L16 is the only PCM codec RTMS sends (§5.7)
HEADER_SIZE = 44
_RIFF_SIZE_AT = 4
_DATA_SIZE_AT = 40
# The size fields are 32 bits: about 6 h of 48 kHz stereo. Longer files keep their samples, and
# their header says as much as it can (a multiple of any block alignment RTMS uses).
_MAX_DATA = (0xFFFFFFFF - (HEADER_SIZE - 8)) & ~3
_SIZE = struct.Struct("<I")


def wav_header(sample_rate: int, channels: int, data_size: int) -> bytes:
    """The canonical 44-byte header of a 16-bit PCM WAV file holding ``data_size`` bytes."""
    block_align = SAMPLE_WIDTH * channels
    data_size = min(data_size, _MAX_DATA)
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        HEADER_SIZE - 8 + data_size,
        b"WAVE",
        b"fmt ",
        16,
        1,  # WAVE_FORMAT_PCM
        channels,
        sample_rate,
        sample_rate * block_align,
        block_align,
        8 * SAMPLE_WIDTH,
        b"data",
        data_size,
    )


class WavWriter(OutputFile):
    """One WAV file, created on the first :meth:`write`. Not thread-safe.

    ``frames`` counts sample frames (samples per channel) written. Every method raises
    :class:`~connector.errors.SinkError` naming the path.
    """

    def __init__(self, path: Path, sample_rate: int, channels: int) -> None:
        super().__init__(path)
        self.sample_rate = sample_rate
        self.channels = channels
        self.frame_size = SAMPLE_WIDTH * channels
        self.frames = 0
        self._frames_in_header = 0

    def _begin(self, file: IO[bytes]) -> None:
        file.write(wav_header(self.sample_rate, self.channels, 0))

    def write(self, pcm: bytes | bytearray | memoryview) -> None:
        """Append whole sample frames (``len(pcm)`` a multiple of the frame size)."""
        file = self._file
        if file is None:  # the first write opens the file (and writes the header)
            with self._writing() as file:
                self._append(file, pcm)
            return
        try:  # every later write: the file is open (no context manager per 20 ms frame)
            file.write(pcm)
            self.frames += len(pcm) // self.frame_size
            if self.frames - self._frames_in_header >= self.sample_rate:
                self._end(file)
        except OSError as exc:
            raise file_error(self.path, exc) from None

    def _append(self, file: IO[bytes], pcm: bytes | bytearray | memoryview) -> None:
        file.write(pcm)
        self.frames += len(pcm) // self.frame_size
        # Patching costs two seeks and a flush: once per second of audio, not per 20 ms frame.
        if self.frames - self._frames_in_header >= self.sample_rate:
            self._end(file)

    def _end(self, file: IO[bytes]) -> None:
        """Bring the header's sizes up to date (the flush leaves the samples with the OS)."""
        data_size = min(self.frames * self.frame_size, _MAX_DATA)
        file.seek(_RIFF_SIZE_AT)
        file.write(_SIZE.pack(HEADER_SIZE - 8 + data_size))
        file.seek(_DATA_SIZE_AT)
        file.write(_SIZE.pack(data_size))
        file.seek(0, os.SEEK_END)
        file.flush()
        self._frames_in_header = self.frames


def repair_wav(path: Path) -> str | None:
    """Make the header of ``path`` agree with its length, as a killed writer leaves it: the
    RIFF and ``data`` sizes are rewritten and a trailing partial sample frame is cut off.

    Returns ``None`` when the file was consistent, ``"repaired"`` when it was fixed, or a
    reason it cannot be repaired (not a WAV file, no ``data`` chunk). Raises ``OSError``.
    """
    with open(path, "r+b") as file:
        size = file.seek(0, os.SEEK_END)
        file.seek(0)
        head = file.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:] != b"WAVE":
            return "not a RIFF/WAVE file"
        riff_size = _SIZE.unpack_from(head, 4)[0]
        block_align = 0
        at = 12
        while at + 8 <= size:  # walk the chunks to the data chunk
            file.seek(at)
            chunk = file.read(8)
            name, length = chunk[:4], _SIZE.unpack_from(chunk, 4)[0]
            if name == b"fmt ":
                fmt = file.read(16)
                block_align = struct.unpack_from("<H", fmt, 12)[0] if len(fmt) == 16 else 0
            elif name == b"data":
                break
            at += 8 + length + (length & 1)
        else:
            return "no data chunk"
        if block_align <= 0:
            return "no usable fmt chunk before the data chunk"
        data_start = at + 8
        data_size = _SIZE.unpack_from(chunk, 4)[0]
        available = size - data_start
        if riff_size == min(size - 8, 0xFFFFFFFF) and data_size <= available and data_size % block_align == 0:
            return None  # consistent (other chunks may follow the data)
        keep = available - available % block_align
        file.truncate(data_start + keep)
        file.seek(_RIFF_SIZE_AT)
        file.write(_SIZE.pack(min(data_start + keep - 8, 0xFFFFFFFF)))
        file.seek(at + 4)
        file.write(_SIZE.pack(min(keep, _MAX_DATA)))
    return "repaired"
