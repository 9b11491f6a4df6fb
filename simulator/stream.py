"""A simulated RTMS stream: its lifecycle (as data) and its media timeline.

The lifecycle is a transition table over :class:`~connector.protocol.StreamState`; the
timeline turns a :class:`~.speech.MeetingScript` into timers on the scenario clock (§4.12):
audio frames every ``send_rate`` ms on each audio socket, video and share frames every
``1000 / fps`` ms on each socket that negotiated them, transcript segments when an utterance
ends, chat lines (:mod:`.chat`), active-speaker, participant and sharing events, and the
meeting's end. Every socket's frames sit on one grid per stream, counted from CLIENT_READY_ACK.

Participants come from the script and, for a scenario engine, from outside
(:meth:`SimStream.admit` / :meth:`SimStream.dismiss`); either way one code path tells the client.
"""

from __future__ import annotations

import logging
import math
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from msgspec import UNSET, UnsetType

from connector.protocol import (
    AudioParams,
    ChatContent,
    DataOption,
    Event,
    EventType,
    EventUpdate,
    MediaContent,
    MediaDataAudio,
    MediaDataChat,
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
    VideoParams,
    encode,
)

from .audio import AudioSource
from .chat import ChatLine, chat_lines
from .clock import Clock, Ticker, Timer
from .config import App
from .journal import Journal
from .peer import Cancellable, Peer
from .speech import MeetingScript, Utterance
from .speech import Participant as Person
from .video import ScreenShare, SpeakerHistory, frame_message, frame_set

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


# Per-frame tests compare identities with these: an Enum attribute lookup and an Enum hash
# (a Python method) are slow.
_TERMINATING, _TERMINATED = S.TERMINATING, S.TERMINATED


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
    timers: list[Cancellable] = field(default_factory=list)  # timers and series of timers
    window_timer: Timer | None = None  # connect timeout, or the signaling reconnection window
    media_windows: dict[int, Timer] = field(default_factory=dict)  # media_type → its window
    paused: bool = False  # the host (or the app) paused the stream: no media flows
    ends_with_script: bool = True  # the meeting ends when the script does
    guests: dict[int, str] = field(default_factory=dict)  # joined from outside the script
    departed: set[int] = field(default_factory=set)  # scripted people sent away from outside
    # Who shares their screen when (None: nobody). May be replaced until the client is ready.
    screen_share: ScreenShare | None = None
    # The user a VIDEO_SINGLE_INDIVIDUAL_STREAM client subscribed to (§4.16); per signaling socket.
    video_user: int | str | None = None
    # Fields of every ``*.rtms_started`` of the stream beyond the ids (meeting_id, is_original_host).
    started_fields: dict[str, Any] = field(default_factory=dict)
    _people: dict[int, Person] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._people = {p.user_id: p for p in self.script.participants}

    def move(self, new: StreamState) -> None:
        if new is self.state:
            return
        if new not in LIFECYCLE[self.state]:
            raise IllegalStreamTransition(self.stream_id, self.state, new)
        self.state = new

    @property
    def live(self) -> bool:
        state = self.state
        return state is not _TERMINATING and state is not _TERMINATED

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

    def is_present(self, user_id: int | str, t: float) -> bool:
        """Whether ``user_id`` is in the meeting at script time ``t`` (as :meth:`present` says)."""
        if user_id in self.guests:
            return True
        person = self._people.get(user_id) if isinstance(user_id, int) else None
        return person is not None and user_id not in self.departed and person.present_at(t)

    def knows(self, user_id: int | str) -> bool:
        return user_id in self.guests or user_id in self._people

    def name_of(self, user_id: int) -> str:
        if user_id in self.guests:
            return self.guests[user_id]
        return self._people[user_id].user_name

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
        self._speakers = SpeakerHistory(stream.script)
        self._sharing: ScreenShare | None = None  # between SHARING_START and SHARING_STOP
        self._chat_started = False
        # The pumps running on each socket, by media type. A media socket that (re)connects
        # after media started is started by its handshake; the CLIENT_READY_ACK that follows a
        # reconnect must not start it a second time (that doubled the frame rate).
        self._running: weakref.WeakKeyDictionary[Peer, set[MediaType]] = weakref.WeakKeyDictionary()
        # The idr_pic_id of the next H.264 picture on each socket, by media type.
        self._idr: weakref.WeakKeyDictionary[Peer, dict[MediaType, int]] = weakref.WeakKeyDictionary()

    # -- the scenario time of script time --------------------------------------------------

    def _at(self, script_t: float) -> float:
        assert self.stream.media_started_at is not None
        return self.stream.media_started_at + script_t

    def _epoch_ms_at(self, script_t: float) -> int:
        return self._epoch_ms_of(self._at(script_t))

    def _epoch_ms_of(self, when: float) -> int:
        """The epoch milliseconds of scenario time ``when``."""
        return self.clock.epoch_ms_at(when)

    def _script_now(self) -> float:
        assert self.stream.media_started_at is not None
        return self.clock.now() - self.stream.media_started_at

    def _moment(self) -> float:
        """Script time now, for deciding who is present: a microsecond on, because a timer may
        fire a hair before its time (asyncio's clock resolution, sums of float script times)
        and a join that just woke a pump must count."""
        return self._script_now() + 1e-6

    # -- starting --------------------------------------------------------------------------

    def start(self) -> None:
        """Called on the first CLIENT_READY_ACK: lay out every scripted event."""
        s = self.stream
        s.media_started_at = self.clock.now()
        # One series for the whole script (an hour is thousands of events): each keeps its
        # time and its place among ties, only the next one waits on the clock.
        at = self._at
        join, leave, speaker, transcript = self.join, self.leave, self.speaker_changed, self.transcript
        events: list[tuple[float, Callable[[Any], None], Any]] = []
        for person in s.script.participants:
            if person.join_at > 0:
                events.append((at(person.join_at), join, person.user_id))
            if person.leave_at is not None:
                events.append((at(person.leave_at), leave, person.user_id))
        for u in s.script.utterances:
            events.append((at(u.start), speaker, u.user_id))
            events.append((at(u.end), transcript, u))
        share = s.screen_share
        if share is not None and MediaType.DESKSHARE in s.app.media_types:  # sharing needs the scope (§4.6)
            events.append((at(share.start), self.sharing_started, share))
            events.append((at(share.end), lambda _: self.sharing_stopped(), None))
        s.timers.append(self.clock.call_series(events))

    def end_at(self) -> float:
        return self._at(self.stream.script.duration)

    def start_media(self, peer: Peer) -> None:
        """Start what ``peer`` carries (audio, video, deskshare, chat) on the stream's grids.

        Idempotent per socket and media type; does nothing before the client is ready.
        """
        if self.stream.media_started_at is None or peer.gone:
            return
        if peer.carries(MediaType.AUDIO):
            self._start_audio(peer)
        for kind in (MediaType.VIDEO, MediaType.DESKSHARE):
            if peer.carries(kind):
                self._start_video(peer, kind)
        if peer.carries(MediaType.CHAT):
            self._start_chat()

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
        if s.media_started_at is not None:
            self.wake_video()  # their camera (or the one a client subscribed to) may show now
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
        name = self.stream.name_of(user_id)
        self.send_event(
            Event(
                event_type=EventType.ACTIVE_SPEAKER_CHANGE,
                timestamp=self.clock.epoch_ms(),
                user_id=user_id,
                user_name=name,
            )
        )

    def sharing_started(self, share: ScreenShare) -> None:
        """SHARING_START (event 5) to a subscribed client; deskshare frames begin."""
        self._sharing = share
        self.send_event(
            Event(
                event_type=EventType.SHARING_START,
                timestamp=self.clock.epoch_ms(),
                user_id=share.user_id,
                user_name=self.stream.name_of(share.user_id),
            )
        )
        self.wake_video()

    def sharing_stopped(self) -> None:
        """SHARING_STOP (event 6); the deskshare pumps find nobody sharing and stop."""
        self._sharing = None
        self.send_event(Event(event_type=EventType.SHARING_STOP, timestamp=self.clock.epoch_ms()))

    def _channel_of(self, user_id: int) -> str | UnsetType:
        """Contact Center frames name the speaker's SIP channel too (§4.12); others do not."""
        return format(user_id, "x") if self.stream.product is Product.CONTACT_CENTER else UNSET

    def transcript(self, u: Utterance) -> None:
        s = self.stream
        if s.paused:
            return  # what is said while the stream is paused is not transcribed for the app
        name = s.name_of(u.user_id)
        for peer in s.peers_carrying(MediaType.TRANSCRIPT):
            params = peer.params.transcript
            language = TranscriptLanguage.ENGLISH
            if isinstance(params, TranscriptParams) and isinstance(params.src_language, int):
                language = TranscriptLanguage(params.src_language)
            content = TranscriptContent(
                user_id=u.user_id,
                user_name=name,
                channel_id=self._channel_of(u.user_id),
                data=u.text,
                start_time=self._epoch_ms_at(u.start),
                end_time=self._epoch_ms_at(u.end),
                timestamp=self._epoch_ms_at(u.end),
                language=language,
            )
            peer.send_media(MediaDataTranscript(content=content), "transcript", self._at(u.end))
            self.journal.count_media(s.stream_id, "transcript")

    # -- the frame grid ----------------------------------------------------------------------

    def _pump(
        self, peer: Peer, kind: MediaType, step: float, emit: Callable[[int, float], bool], index: int
    ) -> None:
        """Call ``emit(index, script_t)`` at each slot of ``peer``'s ``kind`` grid from ``index``.

        ``emit`` returns False when there is nothing to show: the pump stops, and whoever makes
        it worth running again (a join, a share, a subscription) starts it anew.
        """
        self._run(_CallbackPump(self, peer, kind, step, emit, index))

    def _run(self, pump: _Pump) -> None:
        """Arm ``pump`` and keep it with its socket's timers."""
        peer = pump.peer
        if pump.arm():
            peer.timers.append(pump)
            if len(peer.timers) > 64:  # keep the list short: stopped pumps and fired timers are done
                peer.timers[:] = [t for t in peer.timers if not t.cancelled]

    def _claim(self, peer: Peer, kind: MediaType) -> bool:
        """Mark ``peer``'s ``kind`` pump as running; False if it runs already."""
        running = self._running.setdefault(peer, set())
        if kind in running:
            return False
        running.add(kind)
        return True

    def _stopped(self, peer: Peer, kind: MediaType) -> None:
        self._running.get(peer, set()).discard(kind)

    def _next_slot(self, step: float, *, grace: float) -> int:
        """The next frame slot, counting a slot that began less than ``grace`` seconds ago as
        still due: on the real clock a socket that is ready "at" t0 is started a few µs after it."""
        return max(0, math.ceil((self._script_now() - grace) / step))

    # -- audio -----------------------------------------------------------------------------

    def _start_audio(self, peer: Peer) -> None:
        params = peer.params.audio
        if not isinstance(params, AudioParams) or not self._claim(peer, MediaType.AUDIO):
            return
        rate = SampleRate(int(params.sample_rate or 1)).hertz
        channels = int(params.channel or 1)
        frame_ms = int(params.send_rate or 20)
        multi = params.data_opt == DataOption.AUDIO_MULTI_STREAMS
        key = (rate, channels, frame_ms)
        source = self._sources.get(key)
        if source is None:
            source = self._sources[key] = AudioSource(
                self.stream.script, sample_rate=rate, channels=channels, frame_ms=frame_ms
            )

        step = frame_ms / 1000.0
        self._run(_AudioPump(self, peer, step, self._next_slot(step, grace=step / 2), source, multi))

    def _send_speaker_audio(self, peer: Peer, source: AudioSource, script_t: float) -> None:
        """One slot's frame of per-speaker audio (AUDIO_MULTI_STREAMS): the speaker's, if any."""
        due = self._at(script_t)
        timestamp = self._epoch_ms_of(due)
        spoken = source.speaker_frame(script_t)
        if spoken is None:
            return  # nobody speaks: per-user streams send nothing (§4.12)
        user_id, pcm = spoken
        content = MediaContent(
            user_id=user_id,
            user_name=self.stream.name_of(user_id),
            channel_id=self._channel_of(user_id),
            data=pcm,
            length=len(pcm),
            timestamp=timestamp,
        )
        peer.send_media(MediaDataAudio(content=content), "audio", due)
        self.journal.count_media(self.stream.stream_id, "audio")

    # -- video and screen share ----------------------------------------------------------------

    def wake_video(self) -> None:
        """Someone may be on screen now (a join, a share, a subscription): start idle pumps."""
        for peer in list(self.stream.media.values()):
            for kind in (MediaType.VIDEO, MediaType.DESKSHARE):
                if not peer.gone and peer.carries(kind):
                    self._start_video(peer, kind)

    def on_screen(self, kind: MediaType, *, individual: bool, t: float) -> int | None:
        """Whose video (``kind`` VIDEO) or screen (DESKSHARE) a socket shows at script time ``t``.

        ``individual``: VIDEO_SINGLE_INDIVIDUAL_STREAM, the subscribed user only (§4.16);
        else the active speaker: whoever spoke last and is still present, or the first person
        present. ``None``: nothing to show.
        """
        s = self.stream
        if kind is MediaType.DESKSHARE:
            # Whether someone shares follows the events, not a comparison of times: frames
            # flow exactly between SHARING_START and SHARING_STOP.
            share = self._sharing
            return share.user_id if share is not None and s.is_present(share.user_id, t) else None
        if individual:
            chosen = s.video_user
            return chosen if isinstance(chosen, int) and s.is_present(chosen, t) else None
        speaker = self._speakers.last_at(t)
        if speaker is not None and s.is_present(speaker, t):
            return speaker
        return next(iter(s.present(t)), None)

    def _start_video(self, peer: Peer, kind: MediaType) -> None:
        s = self.stream
        params = peer.params.video if kind is MediaType.VIDEO else peer.params.deskshare
        if not isinstance(params, VideoParams) or s.product is Product.CONTACT_CENTER:
            return  # a Contact Center engagement is a voice call: no camera, no screen
        individual = kind is MediaType.VIDEO and params.data_opt == DataOption.VIDEO_SINGLE_INDIVIDUAL_STREAM
        if self.on_screen(kind, individual=individual, t=self._moment()) is None:
            return  # nothing to show: woken when there is
        if not self._claim(peer, kind):
            return
        frames = frame_set(kind, int(params.codec or 0))
        idr = self._idr.setdefault(peer, {})

        def emit(index: int, script_t: float) -> bool:
            # Who is on screen now, not at the slot: a slot a little before a share starts
            # (or a subscription) must not stop the pump that the change just woke.
            user_id = self.on_screen(kind, individual=individual, t=self._moment())
            if user_id is None:
                return False
            if not s.paused:
                # H.264: consecutive IDR pictures differ in idr_pic_id, also across an idle gap.
                parity = idr.get(kind, 0)
                idr[kind] = parity ^ 1
                due = self._at(script_t)
                message = frame_message(
                    kind,
                    user_id=user_id,
                    user_name=s.name_of(user_id),
                    picture=frames.picture(index, parity),
                    timestamp=self._epoch_ms_of(due),
                )
                peer.send_media(message, kind.key, due)
                self.journal.count_media(s.stream_id, kind.key)
            return True

        step = 1.0 / int(params.fps or 1)
        # A millisecond of grace, not half a frame: a pump woken by a share or a subscription
        # must not show a frame stamped before it (half a frame is 500 ms at 1 fps).
        self._pump(peer, kind, step, emit, self._next_slot(step, grace=0.001))

    # -- chat ------------------------------------------------------------------------------------

    def _start_chat(self) -> None:
        """Lay out the chat lines from now on, once, when the first chat socket is there.

        Chat is meeting and webinar content (§4.12); other products send none.
        """
        s = self.stream
        if self._chat_started or s.product not in (Product.MEETING, Product.WEBINAR):
            return
        self._chat_started = True
        now = self._script_now()
        chat = self.chat
        lines = [(self._at(line.at), chat, line) for line in chat_lines(s.script) if line.at >= now]
        s.timers.append(self.clock.call_series(lines))

    def chat(self, line: ChatLine) -> None:
        s = self.stream
        if s.paused or not s.is_present(line.user_id, self._moment()):
            return  # nothing is sent while paused; someone sent away from outside types nothing
        content = ChatContent(
            user_id=line.user_id,
            user_name=s.name_of(line.user_id),
            data=line.text,
            timestamp=self._epoch_ms_at(line.at),
        )
        due = self._at(line.at)
        for peer in s.peers_carrying(MediaType.CHAT):
            peer.send_media(MediaDataChat(content=content), "chat", due)
            self.journal.count_media(s.stream_id, "chat")


_STAMP = 1_234_567_890_123_456_789  # a timestamp no frame carries: marks where one goes
_TEMPLATES: dict[bytes, tuple[bytes, bytes]] = {}
_MAX_TEMPLATES = 4096


def _mixed_audio(pcm: bytes) -> tuple[bytes, bytes]:
    """A mixed-audio frame (``user_id`` 0) of ``pcm`` as encoded, cut where its timestamp goes:
    ``head + b"%d" % timestamp + tail`` is ``encode(MediaDataAudio(...))`` byte for byte (an
    integer is written in decimal), without building and encoding the message per frame."""
    template = _TEMPLATES.get(pcm)
    if template is None:
        content = MediaContent(user_id=0, data=pcm, length=len(pcm), timestamp=_STAMP, user_name=UNSET)
        head, _, tail = encode(MediaDataAudio(content=content)).rpartition(b"%d" % _STAMP)
        template = (head, tail)
        if len(_TEMPLATES) >= _MAX_TEMPLATES:
            _TEMPLATES.clear()
        _TEMPLATES[pcm] = template
    return template


class _Pump:
    """One socket's frames of one kind on the stream's grid: a ticker of the clock
    (:meth:`.Clock.call_periodic`) whose slot ``index`` is at ``media_started_at + index * step``.
    An object per pump rather than a closure per frame; it stands in the peer's timer list, so
    detaching the peer cancels it. :meth:`_emit` sends the frame of a slot and says whether the
    pump goes on."""

    __slots__ = ("_ticker", "index", "kind", "peer", "step", "timeline")

    def __init__(self, timeline: Timeline, peer: Peer, kind: MediaType, step: float, index: int) -> None:
        self.timeline = timeline
        self.peer = peer
        self.kind = kind
        self.step = step
        self.index = index
        self._ticker: Ticker | None = None

    def _emit(self, index: int, script_t: float) -> bool:
        raise NotImplementedError

    def _over(self, index: int) -> bool:
        """Slot ``index`` is past the script's end, or the socket is gone: the pump stops."""
        if index * self.step >= self.timeline.stream.script.duration or self.peer.gone:
            self.timeline._stopped(self.peer, self.kind)
            return True
        return False

    def arm(self) -> bool:
        """Start on the slot at ``index``; False (and the pump stopped) past the script's end."""
        if self._over(self.index):
            return False
        started = self.timeline.stream.media_started_at
        assert started is not None
        self._ticker = self.timeline.clock.call_periodic(started, self.step, self.index, self._fire)
        return True

    def _fire(self, index: int) -> bool:
        if self.peer.gone or not self.timeline.stream.live or not self._emit(index, index * self.step):
            self.timeline._stopped(self.peer, self.kind)
            return False
        self.index = index + 1
        return not self._over(index + 1)

    def cancel(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()

    @property
    def cancelled(self) -> bool:
        """Nothing left to cancel: the pump stopped or was cancelled."""
        return self._ticker is None or self._ticker.cancelled


class _CallbackPump(_Pump):
    """A pump whose frames come from ``emit(index, script_t)`` (video, screen share)."""

    __slots__ = ("emit",)

    def __init__(
        self,
        timeline: Timeline,
        peer: Peer,
        kind: MediaType,
        step: float,
        emit: Callable[[int, float], bool],
        index: int,
    ) -> None:
        super().__init__(timeline, peer, kind, step, index)
        self.emit = emit

    def _emit(self, index: int, script_t: float) -> bool:
        return self.emit(index, script_t)


class _AudioPump(_Pump):
    """Audio frames every ``send_rate`` ms, silence included (mixed) or only while someone
    speaks (per speaker, §4.12); nothing while the stream is paused. Never stops by itself.
    A thousand streams make this the simulator's hottest code: it stays flat."""

    __slots__ = ("_counted", "multi", "source")

    def __init__(
        self, timeline: Timeline, peer: Peer, step: float, index: int, source: AudioSource, multi: bool
    ) -> None:
        super().__init__(timeline, peer, MediaType.AUDIO, step, index)
        self.source = source
        self.multi = multi
        self._counted = (timeline.stream.stream_id, "audio")  # the journal's media count key

    def _emit(self, index: int, script_t: float) -> bool:
        timeline = self.timeline
        stream = timeline.stream
        if stream.paused:
            return True
        if self.multi:
            timeline._send_speaker_audio(self.peer, self.source, script_t)
            return True
        assert stream.media_started_at is not None
        due = stream.media_started_at + script_t
        # The frame is its encoding with this timestamp: the rest is kept per PCM frame.
        head, tail = _mixed_audio(self.source.mixed_frame(script_t))
        self.peer.send_encoded_media(head + b"%d" % timeline.clock.epoch_ms_at(due) + tail, "audio", due)
        timeline.journal.media_counts[self._counted] += 1
        return True
