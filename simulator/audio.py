"""Real 16-bit PCM for simulated speakers (L16, little-endian, any RTMS sample rate).

Each speaker has a voice: a harmonic tone at their pitch, shaped by a 4 Hz syllable
envelope. One second of it is computed once per (pitch, rate, channels) in the process and
frames are sliced from that loop, so producing a frame costs a slice, not a synthesis.
"""

from __future__ import annotations

import functools
import math
import sys
from array import array

from .speech import MeetingScript

__all__ = ["AudioSource"]

_AMPLITUDE = 9000  # about -11 dBFS: clearly audible, never clipping with three harmonics
_SYLLABLE_HZ = 4


@functools.lru_cache(maxsize=64)
def _voice_loop(pitch_hz: int, rate: int, channels: int) -> bytes:
    """One second of a speaker's voice; integer frequencies make it loop without a click.

    Kept for every source that needs it (voices come from a handful of pitches): computing
    one costs tens of milliseconds, which a real-time clock cannot spare per stream.
    """
    samples = array("h")
    two_pi = 2.0 * math.pi
    for n in range(rate):
        t = n / rate
        envelope = 0.55 + 0.45 * math.sin(two_pi * _SYLLABLE_HZ * t)
        tone = (
            math.sin(two_pi * pitch_hz * t)
            + 0.5 * math.sin(two_pi * 2 * pitch_hz * t)
            + 0.25 * math.sin(two_pi * 3 * pitch_hz * t)
        ) / 1.75
        value = int(_AMPLITUDE * envelope * tone)
        for _ in range(channels):
            samples.append(value)
    if samples.itemsize != 2:  # pragma: no cover - array('h') is 16-bit on every CPython platform
        raise RuntimeError("16-bit samples required")
    if sys.byteorder == "big":  # pragma: no cover - L16 on RTMS is little-endian
        samples.byteswap()
    return samples.tobytes()


_SLICES: dict[tuple[int, int, int, int, int], bytes] = {}  # (pitch, rate, channels, bytes, start)
_MAX_SLICES = 4096  # frames on the grid repeat every second: a few hundred in practice


class AudioSource:
    """Frames of a meeting's audio at one negotiated format.

    ``frame_ms`` is the negotiated ``send_rate``; a frame at time ``t`` covers
    ``[t, t + frame_ms)``. Mixed frames carry whoever is speaking (silence otherwise);
    per-speaker frames exist only while that speaker talks (muted users send nothing).
    """

    def __init__(self, script: MeetingScript, *, sample_rate: int, channels: int, frame_ms: int) -> None:
        self.script = script
        self.sample_rate = sample_rate
        self.channels = channels
        self.frame_ms = frame_ms
        self.samples_per_frame = sample_rate * frame_ms // 1000
        self.frame_bytes = self.samples_per_frame * 2 * channels
        self._silence = bytes(self.frame_bytes)
        self._pitches: dict[int, int] = {}
        # Who speaks is the same from _low to _high (frames ask in time order: one lookup
        # per utterance or silence instead of one per frame).
        self._speaker: int | None = None
        self._low = 0.0
        self._high = -1.0

    def _slice(self, user_id: int, t: float) -> bytes:
        """The frame at ``t`` of ``user_id``'s voice loop. The same frame is the same bytes
        object for every source (frames on the grid repeat every second), so what is derived
        from it (its encoding) can be kept too."""
        pitch = self._pitches.get(user_id)
        if pitch is None:
            pitch = self._pitches[user_id] = self.script.participant(user_id).pitch_hz
        start = (round(t * self.sample_rate) % self.sample_rate) * 2 * self.channels
        key = (pitch, self.sample_rate, self.channels, self.frame_bytes, start)
        frame = _SLICES.get(key)
        if frame is None:
            loop = _voice_loop(pitch, self.sample_rate, self.channels)
            end = start + self.frame_bytes
            frame = loop[start:end] if end <= len(loop) else (loop[start:] + loop)[: self.frame_bytes]
            if len(_SLICES) >= _MAX_SLICES:
                _SLICES.clear()
            _SLICES[key] = frame
        return frame

    def speaker_at(self, t: float) -> int | None:
        if not self._low <= t < self._high:
            utterance, self._low, self._high = self.script.span_at(t)
            self._speaker = None if utterance is None else utterance.user_id
        return self._speaker

    def mixed_frame(self, t: float) -> bytes:
        speaker = self._speaker if self._low <= t < self._high else self.speaker_at(t)
        return self._silence if speaker is None else self._slice(speaker, t)

    def speaker_frame(self, t: float) -> tuple[int, bytes] | None:
        """The frame of whoever speaks at ``t`` as ``(user_id, pcm)``, or ``None`` in silence."""
        speaker = self.speaker_at(t)
        return None if speaker is None else (speaker, self._slice(speaker, t))
