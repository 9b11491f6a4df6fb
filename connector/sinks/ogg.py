"""Ogg Opus files (RFC 7845) written packet by packet as Opus audio arrives (§5.7 codec 4).

Opus packets have no length of their own, so appending them to a file would lose where one
ends; an Ogg page per write keeps the boundaries and the timing (granule position), plays in
every common player, and tolerates a killed writer: a reader ignores a trailing partial page.
Time without packets (a muted participant) is filled with zero-length 20 ms Opus frames,
which decoders treat as silence/DTX (RFC 6716 §3.2.1), so a track keeps real time.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import IO

from .fs import OutputFile

__all__ = ["OPUS_RATE", "OggOpusWriter", "ogg_crc", "opus_samples"]

OPUS_RATE = 48_000  # granule positions always count 48 kHz samples (RFC 7845 §4)
_DTX_SAMPLES = 960  # 20 ms
_MAX_LACING = 255
_PAGE_HEADER = struct.Struct("<4sBBqIIIB")
_VENDOR = b"rtms-connector"


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return table


_CRC_TABLE = _crc_table()


def ogg_crc(data: bytes) -> int:
    """Ogg's page checksum: CRC-32, polynomial 0x04C11DB7, not reflected, initial value 0."""
    crc = 0
    table = _CRC_TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[(crc >> 24) ^ byte]
    return crc


def opus_samples(packet: bytes) -> int:
    """Samples per channel at 48 kHz in one Opus packet, from its TOC byte (RFC 6716 §3.1);
    0 for an empty or malformed packet."""
    if not packet:
        return 0
    toc = packet[0]
    config = toc >> 3
    if config < 12:  # SILK: 10, 20, 40, 60 ms
        frame = (480, 960, 1920, 2880)[config & 3]
    elif config < 16:  # hybrid: 10, 20 ms
        frame = (480, 960)[config & 1]
    else:  # CELT: 2.5, 5, 10, 20 ms
        frame = (120, 240, 480, 960)[config & 3]
    code = toc & 3
    if code == 0:
        count = 1
    elif code in (1, 2):
        count = 2
    else:
        count = packet[1] & 0x3F if len(packet) > 1 else 0
    return frame * count


def _lacing(length: int) -> bytes:
    return bytes([255] * (length // 255) + [length % 255])


class OggOpusWriter(OutputFile):
    """One Ogg Opus logical stream in one file, created on the first write.

    ``samples`` is the granule position so far (48 kHz samples per channel). Every method
    raises :class:`~connector.errors.SinkError` naming the path. No end-of-stream page is
    written on close: it would need the last packet again, and players end at the last page.
    """

    def __init__(self, path: Path, *, channels: int, input_rate: int, serial: int) -> None:
        super().__init__(path)
        self.channels = channels
        self.input_rate = input_rate
        self.serial = serial & 0xFFFFFFFF
        self.samples = 0
        self.packets = 0
        self._sequence = 0

    def _begin(self, file: IO[bytes]) -> None:
        head = struct.pack("<8sBBHIhB", b"OpusHead", 1, self.channels, 0, self.input_rate, 0, 0)
        tags = struct.pack("<8sI", b"OpusTags", len(_VENDOR)) + _VENDOR + struct.pack("<I", 0)
        file.write(self._encode_page([head], 0, 0x02) + self._encode_page([tags], 0, 0))

    def write(self, packet: bytes) -> bool:
        """Append one packet on a page of its own; False (nothing written) when it is empty
        or too large for one page."""
        samples = opus_samples(packet)
        if samples == 0 or len(packet) >= _MAX_LACING * 255:
            return False
        self._page([packet], self.samples + samples)
        self.samples += samples
        self.packets += 1
        return True

    def write_silence(self, samples: int) -> int:
        """Fill about ``samples`` of time with 20 ms DTX frames; returns the samples written
        (a whole number of 20 ms frames)."""
        count = samples // _DTX_SAMPLES
        toc = bytes([(31 << 3) | (0b100 if self.channels == 2 else 0)])  # CELT FB 20 ms, one frame
        written = 0
        while count > 0:
            batch = min(count, _MAX_LACING)
            written += batch * _DTX_SAMPLES
            self._page([toc] * batch, self.samples + written)
            count -= batch
        self.samples += written
        return written

    def _page(self, packets: list[bytes], granule: int) -> None:
        with self._writing() as file:
            file.write(self._encode_page(packets, granule, 0))

    def _encode_page(self, packets: list[bytes], granule: int, flags: int) -> bytes:
        lacing = b"".join(_lacing(len(p)) for p in packets)
        header = _PAGE_HEADER.pack(b"OggS", 0, flags, granule, self.serial, self._sequence, 0, len(lacing))
        page = bytearray(header + lacing + b"".join(packets))
        struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
        self._sequence += 1
        return bytes(page)
