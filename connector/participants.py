"""Who is in the meeting, as told by EVENT_UPDATE (docs/protocol.md §4.6, §5.8).

A :class:`Roster` learns names from PARTICIPANT_JOIN (3) and ACTIVE_SPEAKER_CHANGE (2), marks
people absent on PARTICIPANT_LEAVE (4) and remembers everyone it has seen, so that a
transcript line without ``user_name`` can still be attributed and the stream summary can list
every participant. User ids stay as Zoom sent them (integers today, strings in some docs, §10.5).
"""

from __future__ import annotations

from dataclasses import dataclass

from msgspec import UnsetType

from .protocol import Event, EventType

__all__ = ["Person", "Roster"]

UserId = int | str
_MAX_FOUND = 1024  # user ids remembered by name_of() at most


@dataclass
class Person:
    """One participant: the id as sent, the last name heard, and whether they are present."""

    user_id: UserId
    user_name: str | None = None
    present: bool = True

    def as_json(self) -> dict[str, object]:
        return {"user_id": self.user_id, "user_name": self.user_name}


class Roster:
    """Participants of one stream, in order of first appearance."""

    def __init__(self) -> None:
        # Keyed by str(user_id) so that 16778240 and "16778240" are one person.
        self._people: dict[str, Person] = {}
        # name_of() runs for every media frame without a name: the person (or None) of each
        # user id as sent, found once; forgotten when someone new is seen.
        self._found: dict[UserId | UnsetType, Person | None] = {}
        self.active_speaker: UserId | None = None

    def apply(self, event: Event) -> None:
        """Update from one EVENT_UPDATE ``event``; other event types leave the roster as is."""
        if event.event_type == EventType.PARTICIPANT_JOIN:
            for p in () if isinstance(event.participants, UnsetType) else event.participants:
                self._see(p.user_id, p.user_name, present=True)
        elif event.event_type == EventType.PARTICIPANT_LEAVE:
            for p in () if isinstance(event.participants, UnsetType) else event.participants:
                self._see(p.user_id, p.user_name, present=False)
        elif event.event_type == EventType.ACTIVE_SPEAKER_CHANGE and not isinstance(event.user_id, UnsetType):
            self._see(event.user_id, event.user_name, present=True)
            self.active_speaker = event.user_id

    def _see(self, user_id: UserId, user_name: str | UnsetType, *, present: bool) -> None:
        name = None if isinstance(user_name, UnsetType) else user_name
        person = self._people.get(str(user_id))
        if person is None:
            self._people[str(user_id)] = Person(user_id, name, present)
            self._found.clear()
            return
        person.present = present
        if name:  # a leave event usually carries no name: keep the one we know
            person.user_name = name

    def name_of(self, user_id: UserId | UnsetType) -> str | None:
        """The last known name of ``user_id``, or ``None``."""
        found = self._found
        try:
            person = found[user_id]
        except KeyError:
            person = None if isinstance(user_id, UnsetType) else self._people.get(str(user_id))
            if len(found) >= _MAX_FOUND:
                found.clear()
            found[user_id] = person
        return person.user_name if person else None

    @property
    def everyone(self) -> list[Person]:
        """Everyone seen during the stream, present or not."""
        return list(self._people.values())

    @property
    def present(self) -> list[Person]:
        return [p for p in self._people.values() if p.present]
