"""Who is in a simulated meeting and what they say, generated from a seed.

A :class:`MeetingScript` is data: participants with join/leave times and utterances with
start/end times and text. The same seed always gives the same script. Times are seconds
from the moment media starts flowing (CLIENT_READY_ACK).
"""

from __future__ import annotations

import bisect
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from faker import Faker

__all__ = ["MeetingScript", "Participant", "Utterance", "generate_script"]

# Zoom participant ids are 32-bit integers that step by 1024 in practice (16778240 = 0x1000400).
_FIRST_USER_ID = 16778240
_USER_ID_STEP = 1024
_SECONDS_PER_WORD = 0.3


@dataclass(frozen=True)
class Participant:
    user_id: int
    user_name: str
    pitch_hz: int
    join_at: float = 0.0
    leave_at: float | None = None

    def present_at(self, t: float) -> bool:
        return self.join_at <= t and (self.leave_at is None or t < self.leave_at)


@dataclass(frozen=True)
class Utterance:
    user_id: int
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class MeetingScript:
    participants: tuple[Participant, ...]
    utterances: tuple[Utterance, ...]
    duration: float
    _starts: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", tuple(u.start for u in self.utterances))

    def participant(self, user_id: int) -> Participant:
        for p in self.participants:
            if p.user_id == user_id:
                return p
        raise KeyError(user_id)

    def utterance_at(self, t: float) -> Utterance | None:
        """The utterance being spoken at ``t`` (utterances never overlap), or ``None``."""
        i = bisect.bisect_right(self._starts, t) - 1
        if i >= 0 and t < self.utterances[i].end:
            return self.utterances[i]
        return None

    def span_at(self, t: float) -> tuple[Utterance | None, float, float]:
        """``(utterance_at(t), low, high)``: the answer is the same for every time in
        ``[low, high)`` (the utterance itself, or the silence around ``t``)."""
        i = bisect.bisect_right(self._starts, t) - 1
        if i >= 0 and t < self.utterances[i].end:
            return self.utterances[i], self._starts[i], self.utterances[i].end
        low = self.utterances[i].end if i >= 0 else -math.inf
        high = self._starts[i + 1] if i + 1 < len(self._starts) else math.inf
        return None, low, high


def generate_script(
    *, seed: int = 0, participants: int = 3, duration: float = 20.0, locale: str = "en_US"
) -> MeetingScript:
    """A plausible meeting: seeded fake names and sentences, one speaker at a time.

    With three or more participants the last one joins a quarter of the way in and leaves
    at four fifths, so join and leave events happen mid-stream.
    """
    if participants < 1:
        raise ValueError("a meeting needs at least one participant")
    if not math.isfinite(duration) or duration <= 0:
        # NaN or infinity never satisfies the loop's end test below: it would spin forever.
        raise ValueError("duration must be a positive, finite number of seconds")
    fake = _faker(locale)
    fake.seed_instance(seed)  # a new generator seeded here: nothing of an earlier script remains
    sentence = _sentences(fake)
    rng = random.Random(seed)
    people: list[Participant] = []
    for i in range(participants):
        late = participants >= 3 and i == participants - 1
        people.append(
            Participant(
                user_id=_FIRST_USER_ID + i * _USER_ID_STEP,
                user_name=fake.name(),
                pitch_hz=rng.choice((110, 125, 140, 170, 196, 220, 240)),
                join_at=round(duration * 0.25, 3) if late else 0.0,
                leave_at=round(duration * 0.8, 3) if late else None,
            )
        )
    utterances: list[Utterance] = []
    t = 0.5
    last_speaker: int | None = None
    while True:
        text = sentence(rng.randint(5, 12))
        end = round(t + len(text.split()) * _SECONDS_PER_WORD + 0.2, 3)
        if end > duration - 0.2:
            break
        # Whoever speaks must be in the meeting for the whole utterance.
        able = [p for p in people if p.present_at(t) and (p.leave_at is None or end <= p.leave_at)]
        if not able:
            t += 0.5
            continue
        choices = [p for p in able if p.user_id != last_speaker] or able
        speaker = rng.choice(choices)
        utterances.append(Utterance(speaker.user_id, round(t, 3), end, text))
        last_speaker = speaker.user_id
        t = end + rng.choice((0.2, 0.3, 0.4, 0.6))
    return MeetingScript(tuple(people), tuple(utterances), float(duration))


class _Fakers(threading.local):
    """One Faker per locale and thread: building one costs milliseconds and thousands of
    objects for the garbage collector to walk, per stream; scripts are generated in worker
    threads, and a Faker reseeded in one thread must not be drawn from by another."""

    def __init__(self) -> None:
        self.by_locale: dict[str, Faker] = {}


_fakers = _Fakers()


def _faker(locale: str) -> Faker:
    fake = _fakers.by_locale.get(locale)
    if fake is None:
        fake = _fakers.by_locale[locale] = Faker(locale)
    return fake


def _sentences(fake: Faker) -> Callable[[int], str]:
    """``fake.sentence(nb_words=n)`` as a function of ``n``: the same draws from the same
    generator, so the same text for the same seed, without Faker's per-call lookups (an
    hour-long script is a thousand sentences, and generating it holds up every stream the
    simulator is pacing). A locale whose word list is weighted keeps Faker's own method."""
    provider: Any = cast(Any, fake.sentence).__self__
    words = provider.get_words_list()
    if not isinstance(words, (list, tuple)) or not words:
        return lambda n: str(fake.sentence(nb_words=n))
    draw = provider.generator.random
    randint, choice, choices = draw.randint, draw.choice, draw.choices
    join = provider.word_connector.join
    punctuation = provider.sentence_punctuation

    def sentence(n: int) -> str:
        # BaseProvider.randomize_nb_elements(n, min=1), then lorem's words() and sentence()
        count = max(int(n * randint(60, 140) / 100), 1)
        picked = [choice(words)] if count == 1 else choices(words, k=count)
        picked[0] = picked[0].title()
        return str(join(picked) + punctuation)

    return sentence
