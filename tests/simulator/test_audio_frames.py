"""What the audio pump keeps between frames must not change a frame: who speaks (one lookup
per utterance or silence), the PCM slices (shared by every stream), and the mixed frame's
encoding with the timestamp left out."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st
from msgspec import UNSET

from connector.protocol import MediaContent, MediaDataAudio, encode
from simulator.audio import AudioSource
from simulator.speech import generate_script
from simulator.stream import _mixed_audio

SCRIPT = generate_script(seed=11, participants=3, duration=120.0)


def test_speakers_follow_the_script_in_any_order_of_times() -> None:
    source = AudioSource(SCRIPT, sample_rate=16000, channels=1, frame_ms=20)
    rng = random.Random(5)
    grid = [i * 0.02 for i in range(6000)]
    edges = [u.start for u in SCRIPT.utterances] + [u.end for u in SCRIPT.utterances]
    anywhere = [rng.uniform(-2.0, 125.0) for _ in range(3000)]
    for t in grid + edges + anywhere + grid[::-1]:
        spoken = SCRIPT.utterance_at(t)
        assert source.speaker_at(t) == (None if spoken is None else spoken.user_id), t


def test_span_brackets_the_answer() -> None:
    for t in (-1.0, 0.0, SCRIPT.utterances[0].start, SCRIPT.utterances[3].end, 119.99, 500.0):
        utterance, low, high = SCRIPT.span_at(t)
        assert low <= t < high
        assert utterance is SCRIPT.utterance_at(t)
        for inside in (low, (low + high) / 2 if high != float("inf") else low + 1.0):
            if low != float("-inf"):
                assert SCRIPT.utterance_at(inside) is utterance


def test_every_source_shares_one_slice_per_frame() -> None:
    a = AudioSource(SCRIPT, sample_rate=16000, channels=1, frame_ms=20)
    b = AudioSource(SCRIPT, sample_rate=16000, channels=1, frame_ms=20)
    speaking = (SCRIPT.utterances[0].start + SCRIPT.utterances[0].end) / 2
    t = round(speaking / 0.02) * 0.02
    assert a.mixed_frame(t) is b.mixed_frame(t)
    assert a.mixed_frame(t) != bytes(640)


@given(st.binary(min_size=0, max_size=2000), st.integers(min_value=0, max_value=2**53))
def test_the_mixed_frame_template_is_the_encoding(pcm: bytes, timestamp: int) -> None:
    head, tail = _mixed_audio(pcm)
    message = MediaDataAudio(
        content=MediaContent(user_id=0, data=pcm, length=len(pcm), timestamp=timestamp, user_name=UNSET)
    )
    assert head + b"%d" % timestamp + tail == encode(message)
