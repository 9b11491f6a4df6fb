"""What people type in a simulated meeting's chat (docs/protocol.md §4.12, MEDIA_DATA_CHAT 18).

Chat lines are data, like the speech of :mod:`.speech`: one line every :data:`CHAT_EVERY`
seconds from :data:`CHAT_FIRST` on, each from someone present at that moment, with seeded
fake sentences. The seed is taken from the script itself, so the same script (the same stream
seed) always gives the same chat.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

from faker import Faker

from .speech import MeetingScript

__all__ = ["CHAT_EVERY", "CHAT_FIRST", "ChatLine", "chat_lines"]

CHAT_FIRST = 3.0
"""Script time of the first chat line, in seconds."""

CHAT_EVERY = 5.0
"""Seconds between chat lines."""


@dataclass(frozen=True)
class ChatLine:
    at: float  # script time, seconds
    user_id: int
    text: str


def _seed_of(script: MeetingScript) -> int:
    """A seed that depends only on the script (its people and what they say)."""
    parts = [f"{p.user_id}:{p.user_name}" for p in script.participants]
    parts += [u.text for u in script.utterances[:3]]
    return zlib.crc32("\n".join(parts).encode("utf-8"))


def chat_lines(script: MeetingScript, *, locale: str = "en_US") -> tuple[ChatLine, ...]:
    """The chat of ``script``: a line every :data:`CHAT_EVERY` s while the meeting lasts."""
    seed = _seed_of(script)
    fake = Faker(locale)
    fake.seed_instance(seed)
    rng = random.Random(seed)
    lines: list[ChatLine] = []
    step = 0
    while (at := round(CHAT_FIRST + step * CHAT_EVERY, 3)) < script.duration:
        step += 1
        present = [p.user_id for p in script.participants if p.present_at(at)]
        if not present:
            continue
        lines.append(ChatLine(at, rng.choice(present), fake.sentence(nb_words=rng.randint(3, 9))))
    return tuple(lines)
