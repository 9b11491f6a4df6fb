"""A simulated RTMS stream: its lifecycle (as data) and its media timeline.

The lifecycle is a transition table over :class:`~connector.protocol.StreamState`; the
timeline turns a :class:`~.speech.MeetingScript` into timers on the scenario clock: audio
frames every ``send_rate`` ms on each audio socket, transcript segments when an utterance
ends, active-speaker and participant events, and the meeting's end.

Participants come from the script and, for a scenario engine, from outside
(:meth:`SimStream.admit` / :meth:`SimStream.dismiss`); either way one code path tells the client.
"""

from __future__ import annotations

import logging
import math
import re
import weakref
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import urlsplit, urlunsplit

from msgspec import UNSET

from connector.protocol import (
    AudioParams,
    Event,
    EventType,
    EventUpdate,
    MediaContent,
    MediaDataAudio,
    MediaDataTranscript,
    MediaType,
    Participant,
    Product,
    SampleRate,
    StopReason,
    StreamState,
    TranscriptContent,
    TranscriptLanguage,
    TranscriptParams,
)

from .audio import AudioSource
from .clock import Clock, Timer
from .config import App
from .journal import Journal
from .peer import Peer
from .speech import MeetingScript, Utterance

__all__ = ["LIFECYCLE", "IllegalStreamTransition", "SimStream", "region_of", "with_region"]

log = logging.getLogger("simulator.stream")

S = StreamState

LIFECYCLE: dict[StreamState, frozenset[StreamState]] = {
    # Webhook sent, client not ready yet. INTERRUPTED: a client that shook hands on signaling
    # and lost the socket before CLIENT_READY_ACK gets the same 60 s window as anyone else
    # (without it the stream raised here and, its connect timer already cancelled, never ended).
    S.INACTIVE: frozenset({S.ACTIVE, S.INTERRUPTED, S.TERMINATED}),
    S.ACTIVE: frozenset({S.INTERRUPTED, S.PAUSED, S.TERMINATING, S.TERMINATED}),
    S.INTERRUPTED: frozenset({S.INACTIVE, S.ACTIVE, S.TERMINATED}),  # reconnect, or window expired
    S.PAUSED: frozenset({S.RESUMED, S.INTERRUPTED, S.TERMINATING, S.TERMINATED}),
    S.RESUMED: frozenset({S.INTERRUPTED, S.PAUSED, S.TERMINATING, S.TERMINATED}),
    S.TERMINATING: frozenset({S.TERMINATED}),
    S.TERMINATED: frozenset(),
}
"""Which stream states may follow which (reference §5.5)."""


class IllegalStreamTransition(Exception):
    def __init__(self, stream_id: str, old: StreamState, new: StreamState) -> None:
        super().__init__(f"stream {stream_id}: {old.name} -> {new.name} is not a stream transition")


_REGION_PATH = re.compile(r"^/r([1-9][0-9]*)(/.*)$")


def region_of(url: str) -> int:
    """Which of the simulator's RTMS "servers" ``url`` names: ``/r<N>/...`` is N, else 1."""
    found = _REGION_PATH.match(urlsplit(url).path)
    return int(found.group(1)) if found else 1


def with_region(url: str, region: int) -> str:
    """``url`` moved to server ``region`` (the ``/r<N>`` aliases of app.py)."""
    parts = urlsplit(url)
    found = _REGION_PATH.match(parts.path)
    rest = found.group(2) if found else parts.path
    path = rest if region == 1 else f"/r{region}{rest}"
    return urlunsplit(parts._replace(path=path))


@dataclass(eq=False)
class SimStream:
    """One stream of one meeting (or webinar, session, engagement)."""

    stream_id: str
    instance_id: str
    product: Product
    app: App
    script: MeetingScript
    server_urls: str
    session_id: str  # from the engine's random source, like every generated id
    webhook_url: str | None = None
    state: StreamState = S.INACTIVE
    signaling: Peer | None = None
    media: dict[int, Peer] = field(default_factory=dict)  # media_type → peer
    subscribed: set[int] = field(default_factory=set)
    announced: set[int] = field(default_factory=set)  # participants the client was told about
    media_started_at: float | None = None
    stop_reason: int | None = None
    interrupted_cause: StopReason | None = None
    timers: list[Timer] = field(default_factory=list)
    window_timer: Timer | None = None  # connect timeout, or the signaling reconnection window
    media_windows: dict[int, Timer] = field(default_factory=dict)  # media_type → its window
    paused: bool = False  # the host (or the app) paused the stream: no media flows
    ends_with_script: bool = True  # the meeting ends when the script does
    guests: dict[int, str] = field(default_factory=dict)  # joined from outside the script
    departed: set[int] = field(default_factory=set)  # scripted people sent away from outside

    def move(self, new: StreamState) -> None:
        if new is self.state:
            return
        if new not in LIFECYCLE[self.state]:
            raise IllegalStreamTransition(self.stream_id, self.state, new)
        self.state = new

    @property
    def live(self) -> bool:
        return self.state not in (S.TERMINATING, S.TERMINATED)

    def peers(self) -> list[Peer]:
        found = [self.signaling] if self.signaling is not None else []
        return found + list(self.media.values())

    def peers_carrying(self, media: MediaType) -> list[Peer]:
        return [p for p in self.media.values() if not p.gone and p.carries(media)]

    @property
    def region(self) -> int:
        """The RTMS "server" this stream is served by (moved by a failover)."""
        return region_of(self.server_urls)

    def present(self, t: float) -> list[int]:
        scripted = [
            p.user_id for p in self.script.participants if p.present_at(t) and p.user_id not in self.departed
        ]
        return scripted + [uid for uid in self.guests if uid not in scripted]

    def knows(self, user_id: int | str) -> bool:
        return user_id in self.guests or any(p.user_id == user_id for p in self.script.participants)

    def name_of(self, user_id: int) -> str:
        if user_id in self.guests:
            return self.guests[user_id]
        return self.script.participant(user_id).user_name

    def admit(self, user_id: int, user_name: str) -> None:
        """Someone joins from outside the script."""
        self.departed.discard(user_id)
        self.guests[user_id] = user_name

    def dismiss(self, user_id: int) -> None:
        """Someone leaves from outside the script (a guest, or a scripted participant)."""
        if self.guests.pop(user_id, None) is None:
            self.departed.add(user_id)

    def cancel_media_windows(self) -> None:
        for timer in self.media_windows.values():
            timer.cancel()
        self.media_windows.clear()

    def cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()
        self.cancel_media_windows()
        if self.window_timer is not None:
            self.window_timer.cancel()
            self.window_timer = None


class Timeline:
    """Schedules a stream's media and events on the clock once the client is ready."""

    def __init__(self, stream: SimStream, clock: Clock, journal: Journal) -> None:
        self.stream = stream
        self.clock = clock
        self.journal = journal
        self._sources: dict[tuple[int, int, int], AudioSource] = {}
        # Sockets whose audio pump runs. A media socket that (re)connects after media started
        # is started by its handshake; the CLIENT_READY_ACK that follows a reconnect must not
        # start it a second time (that doubled the frame rate).
        self._pumping: weakref.WeakSet[Peer] = weakref.WeakSet()

    # -- the scenario time of script time --------------------------------------------------

    def _at(self, script_t: float) -> float:
        assert self.stream.media_started_at is not None
        return self.stream.media_started_at + script_t

    def _epoch_ms_at(self, script_t: float) -> int:
        return self.clock.epoch_ms() + round((self._at(script_t) - self.clock.now()) * 1000)

    def _script_now(self) -> float:
        assert self.stream.media_started_at is not None
        return self.clock.now() - self.stream.media_started_at

    # -- starting --------------------------------------------------------------------------

    def start(self) -> None:
        """Called on the first CLIENT_READY_ACK: lay out every scripted event."""
        s = self.stream
        s.media_started_at = self.clock.now()
        at = self.clock.call_at
        for person in s.script.participants:
            if person.join_at > 0:
                s.timers.append(at(self._at(person.join_at), partial(self.join, person.user_id)))
            if person.leave_at is not None:
                s.timers.append(at(self._at(person.leave_at), partial(self.leave, person.user_id)))
        for u in s.script.utterances:
            s.timers.append(at(self._at(u.start), partial(self.speaker_changed, u.user_id)))
            s.timers.append(at(self._at(u.end), partial(self.transcript, u)))

    def end_at(self) -> float:
        return self._at(self.stream.script.duration)

    # -- events ----------------------------------------------------------------------------

    def send_event(self, event: Event) -> None:
        s = self.stream
        if s.signaling is None or s.signaling.gone or not s.live:
            return
        auto = event.event_type in (EventType.FIRST_PACKET_TIMESTAMP, EventType.MEDIA_CONNECTION_INTERRUPTED)
        if auto or event.event_type in s.subscribed:
            s.signaling.send(EventUpdate(event=event))

    def announce_present(self) -> None:
        """Tell a client that subscribed to joins who is already in the meeting."""
        s = self.stream
        if s.media_started_at is None or EventType.PARTICIPANT_JOIN not in s.subscribed:
            return
        new = [uid for uid in s.present(self._script_now()) if uid not in s.announced]
        if new:
            self._send_join(new)

    def _send_join(self, user_ids: list[int]) -> None:
        s = self.stream
        people = tuple(Participant(user_id=uid, user_name=s.name_of(uid)) for uid in user_ids)
        s.announced.update(user_ids)
        self.send_event(
            Event(event_type=EventType.PARTICIPANT_JOIN, timestamp=self.clock.epoch_ms(), participants=people)
        )

    def join(self, user_id: int) -> None:
        """``user_id`` joins (scripted or from outside): tell a subscribed client."""
        s = self.stream
        if user_id in s.departed or user_id in s.announced:
            return  # sent away from outside (the script does not bring them back), or known already
        if EventType.PARTICIPANT_JOIN in s.subscribed and s.media_started_at is not None:
            self._send_join([user_id])

    def leave(self, user_id: int) -> None:
        """``user_id`` leaves: tell the client, if it was told of the join."""
        s = self.stream
        if user_id in s.announced:
            s.announced.discard(user_id)
            self.send_event(
                Event(
                    event_type=EventType.PARTICIPANT_LEAVE,
                    timestamp=self.clock.epoch_ms(),
                    participants=(Participant(user_id=user_id),),
                )
            )

    def speaker_changed(self, user_id: int) -> None:
        name = self.stream.script.participant(user_id).user_name
        self.send_event(
            Event(
                event_type=EventType.ACTIVE_SPEAKER_CHANGE,
                timestamp=self.clock.epoch_ms(),
                user_id=user_id,
                user_name=name,
            )
        )

    def transcript(self, u: Utterance) -> None:
        s = self.stream
        if s.paused:
            return  # what is said while the stream is paused is not transcribed for the app
        name = s.script.participant(u.user_id).user_name
        for peer in s.peers_carrying(MediaType.TRANSCRIPT):
            params = peer.params.transcript
            language = TranscriptLanguage.ENGLISH
            if isinstance(params, TranscriptParams) and isinstance(params.src_language, int):
                language = TranscriptLanguage(params.src_language)
            content = TranscriptContent(
                user_id=u.user_id,
                user_name=name,
                data=u.text,
                start_time=self._epoch_ms_at(u.start),
                end_time=self._epoch_ms_at(u.end),
                timestamp=self._epoch_ms_at(u.end),
                language=language,
            )
            peer.send(MediaDataTranscript(content=content))
            self.journal.count_media(s.stream_id, "transcript")

    # -- audio -----------------------------------------------------------------------------

    def start_audio(self, peer: Peer) -> None:
        """Start the audio pump of one socket, on the frame grid of the stream's timeline."""
        params = peer.params.audio
        if not isinstance(params, AudioParams) or self.stream.media_started_at is None:
            return
        if peer in self._pumping:
            return
        self._pumping.add(peer)
        rate = SampleRate(int(params.sample_rate or 1)).hertz
        channels = int(params.channel or 1)
        frame_ms = int(params.send_rate or 20)
        multi = params.data_opt == 2
        key = (rate, channels, frame_ms)
        source = self._sources.get(key)
        if source is None:
            source = self._sources[key] = AudioSource(
                self.stream.script, sample_rate=rate, channels=channels, frame_ms=frame_ms
            )
        step = frame_ms / 1000.0
        # The next frame slot, counting a slot that began less than half a frame ago as still
        # due: on the real clock a socket that is ready "at" t0 is started a few µs after it.
        index = max(0, math.ceil(self._script_now() / step - 0.5))
        self._schedule_frame(peer, source, index, step, multi)

    def _schedule_frame(self, peer: Peer, source: AudioSource, index: int, step: float, multi: bool) -> None:
        script_t = index * step
        if script_t >= self.stream.script.duration or peer.gone:
            return

        def fire() -> None:
            if peer.gone or not self.stream.live:
                return
            if not self.stream.paused:
                self._send_audio(peer, source, script_t, multi)
            self._schedule_frame(peer, source, index + 1, step, multi)

        peer.timers.append(self.clock.call_at(self._at(script_t), fire))
        if len(peer.timers) > 64:  # keep the list short: fired timers are done
            peer.timers[:] = [t for t in peer.timers if not t.cancelled]

    def _send_audio(self, peer: Peer, source: AudioSource, script_t: float, multi: bool) -> None:
        timestamp = self._epoch_ms_at(script_t)
        if multi:
            spoken = source.speaker_frame(script_t)
            if spoken is None:
                return  # nobody speaks: per-user streams send nothing (§4.12)
            user_id, pcm = spoken
            name = self.stream.script.participant(user_id).user_name
            content = MediaContent(
                user_id=user_id, user_name=name, data=pcm, length=len(pcm), timestamp=timestamp
            )
        else:
            pcm = source.mixed_frame(script_t)
            content = MediaContent(user_id=0, data=pcm, length=len(pcm), timestamp=timestamp, user_name=UNSET)
        peer.send(MediaDataAudio(content=content))
        self.journal.count_media(self.stream.stream_id, "audio")
