"""The roster: names learned from events, looked up for every media frame without one."""

from __future__ import annotations

from msgspec import UNSET

from connector.participants import Roster
from connector.protocol import Event, EventType, Participant


def joined(user_id: int | str, name: str) -> Event:
    return Event(
        event_type=int(EventType.PARTICIPANT_JOIN),
        participants=(Participant(user_id=user_id, user_name=name),),
    )


def test_a_name_looked_up_before_its_person_joined_is_found_once_they_have() -> None:
    roster = Roster()
    assert roster.name_of(7) is None
    assert roster.name_of(0) is None
    assert roster.name_of(UNSET) is None
    roster.apply(joined(7, "Bo"))
    assert roster.name_of(7) == "Bo"
    assert roster.name_of("7") == "Bo"  # the same person, whatever the id's type
    assert roster.name_of(0) is None


def test_a_new_name_for_someone_known_is_the_one_looked_up() -> None:
    roster = Roster()
    roster.apply(joined(7, "Bo"))
    assert roster.name_of(7) == "Bo"
    roster.apply(Event(event_type=int(EventType.ACTIVE_SPEAKER_CHANGE), user_id=7, user_name="Bo Diddley"))
    assert roster.name_of(7) == "Bo Diddley"
    roster.apply(Event(event_type=int(EventType.PARTICIPANT_LEAVE), participants=(Participant(user_id=7),)))
    assert roster.name_of(7) == "Bo Diddley"  # a leave without a name keeps the one known


def test_many_unknown_ids_do_not_grow_the_lookups_without_bound() -> None:
    roster = Roster()
    roster.apply(joined(1, "Ann"))
    for user_id in range(5000):
        roster.name_of(user_id + 10)
    assert len(roster._found) <= 1024
    assert roster.name_of(1) == "Ann"
