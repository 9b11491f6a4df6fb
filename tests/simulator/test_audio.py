"""The PCM the simulator sends: L16 (16-bit little-endian) at every RTMS rate, mono or stereo."""

from __future__ import annotations

import array
import itertools
import sys

import pytest

from simulator.audio import AudioSource
from simulator.speech import MeetingScript, Participant, Utterance, generate_script

SCRIPT = generate_script(seed=7, participants=3, duration=30.0)
# Two speakers, each talking for long stretches, to look at frames anywhere in the loop.
TWO_VOICES = MeetingScript(
    (Participant(1, "Low Voice", 110), Participant(2, "High Voice", 220)),
    (Utterance(1, 0.0, 5.0, "One long sentence."), Utterance(2, 5.0, 10.0, "Another long one.")),
    10.0,
)


def _samples(pcm: bytes, *, little_endian: bool = True) -> list[int]:
    samples = array.array("h", pcm)
    if (sys.byteorder == "little") != little_endian:
        samples.byteswap()
    return list(samples)


@pytest.mark.parametrize(("rate", "channels", "frame_bytes"), [
    (8000, 1, 320), (16000, 1, 640), (32000, 1, 1280), (48000, 1, 1920),
    (8000, 2, 640), (16000, 2, 1280), (32000, 2, 2560), (48000, 2, 3840),
])  # fmt: skip
def test_frame_sizes(rate: int, channels: int, frame_bytes: int) -> None:
    source = AudioSource(SCRIPT, sample_rate=rate, channels=channels, frame_ms=20)
    assert (source.samples_per_frame, source.frame_bytes) == (rate // 50, frame_bytes)
    speaking = SCRIPT.utterances[0].start + 0.1
    assert len(source.mixed_frame(speaking)) == len(source.mixed_frame(0.0)) == frame_bytes
    spoken = source.speaker_frame(speaking)
    assert spoken is not None
    assert len(spoken[1]) == frame_bytes


@pytest.mark.parametrize(("frame_ms", "frame_bytes"), [(20, 640), (100, 3200), (1000, 32000)])
def test_send_rate_sets_the_frame_length(frame_ms: int, frame_bytes: int) -> None:
    source = AudioSource(SCRIPT, sample_rate=16000, channels=1, frame_ms=frame_ms)
    assert len(source.mixed_frame(SCRIPT.utterances[0].start)) == frame_bytes


def test_samples_are_16_bit_little_endian() -> None:
    source = AudioSource(SCRIPT, sample_rate=16000, channels=1, frame_ms=100)
    pcm = source.mixed_frame(SCRIPT.utterances[0].start + 0.2)
    right = _samples(pcm)
    wrong = _samples(pcm, little_endian=False)
    # A voice below 250 Hz sampled at 16 kHz moves little from one sample to the next; read
    # with the wrong byte order, the same bytes jump across the whole 16-bit range.
    assert max(abs(b - a) for a, b in itertools.pairwise(right)) < 2000
    assert max(abs(b - a) for a, b in itertools.pairwise(wrong)) > 10000
    assert 2000 < max(abs(s) for s in right) <= 9000  # audible, never clipping


def test_stereo_repeats_each_sample_on_both_channels() -> None:
    mono = AudioSource(SCRIPT, sample_rate=48000, channels=1, frame_ms=20)
    stereo = AudioSource(SCRIPT, sample_rate=48000, channels=2, frame_ms=20)
    t = SCRIPT.utterances[1].start + 0.3
    left_right = _samples(stereo.mixed_frame(t))
    assert left_right[0::2] == left_right[1::2] == _samples(mono.mixed_frame(t))


def test_silence_between_utterances_voice_while_speaking() -> None:
    source = AudioSource(SCRIPT, sample_rate=16000, channels=1, frame_ms=20)
    assert source.mixed_frame(0.0) == bytes(640)  # before anyone speaks
    for before, after in zip(SCRIPT.utterances, SCRIPT.utterances[1:], strict=False):
        gap = (before.end + after.start) / 2
        assert source.mixed_frame(gap) == bytes(640)
        assert source.speaker_frame(gap) is None  # per-speaker streams send nothing in silence
        middle = (after.start + after.end) / 2
        assert any(_samples(source.mixed_frame(middle)))
        spoken = source.speaker_frame(middle)
        assert spoken is not None
        assert spoken[0] == after.user_id
        assert spoken[1] == source.mixed_frame(middle)  # one speaker at a time: the mix is them


def test_speakers_have_their_own_voices() -> None:
    source = AudioSource(TWO_VOICES, sample_rate=16000, channels=1, frame_ms=100)
    # The same offset into each speaker's one-second loop: only the voice differs.
    assert source.speaker_frame(1.0) == (1, source.mixed_frame(1.0))
    assert source.speaker_frame(6.0) == (2, source.mixed_frame(6.0))
    assert source.mixed_frame(1.0) != source.mixed_frame(6.0)


def test_frames_slice_across_the_one_second_loop() -> None:
    """Frames are cut from a one-second loop; a frame that straddles its end wraps seamlessly."""
    source = AudioSource(TWO_VOICES, sample_rate=16000, channels=1, frame_ms=20)
    before = source.mixed_frame(1.98)  # [1.98, 2.00)
    straddling = source.mixed_frame(1.99)  # [1.99, 2.01): wraps around the loop
    after = source.mixed_frame(2.0)  # [2.00, 2.02)
    assert len(straddling) == 640
    assert straddling == before[320:] + after[:320]
    # The loop repeats every second: the same offset a second apart is the same audio.
    assert source.mixed_frame(0.99) == source.mixed_frame(1.99) == source.mixed_frame(3.99)
    assert source.mixed_frame(0.0) == source.mixed_frame(1.0) == source.mixed_frame(2.0)
    assert source.mixed_frame(0.5) != source.mixed_frame(0.52)


def test_the_loop_boundary_has_no_click() -> None:
    source = AudioSource(TWO_VOICES, sample_rate=16000, channels=1, frame_ms=20)
    samples = _samples(source.mixed_frame(1.99))
    steps = [abs(b - a) for a, b in itertools.pairwise(samples)]
    assert max(steps) < 2000  # including across the wrap at sample 160: no click
