"""Per-participant audio on one timeline, and the sum of it (AUDIO_MULTI_STREAMS, §4.12, §5.7).

With ``data_opt`` 2 Zoom sends one stream per speaker, each frame stamped with its
``timestamp`` (ms) and ``user_id``; muted participants send nothing. :class:`Timeline` puts
every frame at a sample position relative to the first frame of the stream; :class:`Mixer`
sums the 16-bit samples of all sources at each position (saturating at the int16 limits)
and hands out the mix once a position is older than a short window, so memory stays bounded
whatever the length of the stream.
"""

from __future__ import annotations

import logging
import operator
import sys
from array import array
from collections.abc import Hashable, Iterator

__all__ = ["Mixer", "Timeline", "pcm_samples"]

logger = logging.getLogger("connector.sinks.files")

_INT16_MIN, _INT16_MAX = -32768, 32767
_BIG_ENDIAN = sys.byteorder == "big"  # L16 on the wire and in WAV is little-endian
_ZERO = array("i", [0])


def pcm_samples(data: bytes | memoryview) -> array[int]:
    """Little-endian 16-bit PCM bytes as an ``array('h')`` of native integers."""
    samples = array("h")
    samples.frombytes(data)
    if _BIG_ENDIAN:
        samples.byteswap()
    return samples


def _pcm_bytes(samples: array[int]) -> bytes:
    if _BIG_ENDIAN:
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


class Timeline:
    """Sample positions (frames, i.e. samples per channel) of frames from several sources.

    A frame's position is ``(timestamp - first timestamp) * rate / 1000``. A position within
    ``snap`` frames of where the same source's previous frame ended is taken to be exactly
    there, so millisecond rounding neither clicks nor drifts. A frame more than ``max_gap``
    frames after the furthest end so far (a timestamp jump, or everyone silent for a long
    time) is moved back to that end, with a warning: the silence is shortened rather than
    written out at full length. A frame without a timestamp follows its source's previous one.
    """

    def __init__(self, rate: int, *, snap: int, max_gap: int) -> None:
        self.rate = rate
        self.snap = snap
        self.max_gap = max_gap
        self.end = 0  # the furthest frame end placed so far
        self.shortened = 0  # frames of silence left out by moving frames back
        self._first_ms: int | None = None
        self._ends: dict[Hashable, int] = {}

    def end_of(self, source: Hashable) -> int | None:
        """Where the last frame placed for ``source`` ended; None before its first."""
        return self._ends.get(source)

    def place(self, source: Hashable, timestamp: int | None, *, floor: int = 0) -> int:
        """The position of the next frame of ``source``; a source's first frame without a
        timestamp starts at ``floor``."""
        previous = self._ends.get(source)
        if timestamp is None:
            return floor if previous is None else previous
        if self._first_ms is None:
            self._first_ms = timestamp
        position = (timestamp - self._first_ms) * self.rate // 1000 - self.shortened
        if previous is not None and abs(position - previous) <= self.snap:
            return previous
        if position > self.end + self.max_gap:
            logger.warning(
                "audio timestamps jump %.1f s ahead; the silence is shortened to nothing",
                (position - self.end) / self.rate,
            )
            self.shortened += position - self.end
            position = self.end
        return position

    def advance(self, source: Hashable, position: int, frames: int) -> None:
        """Record that ``frames`` of ``source`` were placed at ``position``."""
        end = position + frames
        if end > self._ends.get(source, -1):
            self._ends[source] = end
        if end > self.end:
            self.end = end


class Mixer:
    """Saturating sum of int16 PCM from any number of sources, ``channels`` interleaved.

    Positions before :attr:`base` were handed out already; a frame reaching back there loses
    that part (counted in :attr:`late`). Memory holds the positions from :attr:`base` to the
    furthest frame added.
    """

    def __init__(self, channels: int) -> None:
        self.channels = channels
        self.base = 0  # frames handed out so far
        self.late = 0  # frames of input that arrived after their position was handed out
        self._sums = array("i")  # one int32 per sample from ``base`` on: room for the sum of many int16

    @property
    def held(self) -> int:
        """Frames held in memory (from :attr:`base` to the furthest frame added)."""
        return len(self._sums) // self.channels

    def add(self, position: int, samples: array[int]) -> None:
        """Add ``samples`` (interleaved, whole frames) at ``position``."""
        channels = self.channels
        if position < self.base:
            skip = (self.base - position) * channels
            self.late += min(skip, len(samples)) // channels
            samples = samples[skip:]
            position = self.base
        if not samples:
            return
        start = (position - self.base) * channels
        stop = start + len(samples)
        sums = self._sums
        if len(sums) < stop:
            sums.extend(_ZERO * (stop - len(sums)))
        # map() over two arrays runs the loop in C: a few ns per sample, not a Python loop.
        sums[start:stop] = array("i", map(operator.add, sums[start:stop], samples))

    def take(self, upto: int, *, chunk: int = 48_000) -> Iterator[bytes]:
        """The mix of positions ``[base, upto)`` as little-endian int16 PCM, at most ``chunk``
        frames per piece (silence where nothing was added); ``base`` becomes ``upto``."""
        channels = self.channels
        while self.base < upto:
            frames = min(upto - self.base, chunk)
            count = frames * channels
            sums = self._sums[:count]
            del self._sums[:count]
            if len(sums) < count:
                sums.extend(_ZERO * (count - len(sums)))
            if sums and (max(sums) > _INT16_MAX or min(sums) < _INT16_MIN):
                sums = array("i", [_INT16_MAX if s > _INT16_MAX else max(s, _INT16_MIN) for s in sums])
            self.base += frames
            yield _pcm_bytes(array("h", sums))
