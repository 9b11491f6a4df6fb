"""The life of one RTMS stream as seen by the connector, without I/O (docs/protocol.md §3, §4).

:class:`StreamClient` is told what happened — a socket opened, a message arrived, a socket
went away, the operator asked to close — and answers with a list of :data:`Action` for the I/O
layer (:mod:`connector.session`) to carry out: open a socket, send a message, write to a sink,
or end the stream. Each socket is driven by the protocol core's state machine
(:data:`~connector.protocol.SIGNALING` or :data:`~connector.protocol.MEDIA`), fed with every
message sent and received; a message the machine does not allow is dropped with a warning.

Sockets are named: ``"signaling"``, and one media socket per media type named by its key in
``media_server.server_urls`` (``"audio"``, ``"video"`` …) or a single ``"all"`` socket (§1).

One client is one *attempt*: one signaling connection and its media sockets. What the
session does after an attempt ends is said by :attr:`Outcome.retry` (Zoom's failover guidance,
§9.2): ``None`` is final; otherwise the session starts a new attempt after a backoff. A media
socket lost while streaming is not the end of an attempt: the client asks for that socket
alone to be re-opened (:class:`Reopen`), once, however many signs of the loss arrive,
and reports :class:`Reopened` once its handshake succeeded again.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from msgspec import UNSET, Struct, UnsetType

from .config import ConnectorConfig
from .guidance import FULL_RESTART_STOP_REASONS
from .participants import Roster
from .protocol import (
    MEDIA,
    SIGNALING,
    AudioChannel,
    AudioParams,
    ChatContent,
    ClientReadyAck,
    Codec,
    Connection,
    ConnState,
    DataHandshakeReq,
    DataHandshakeResp,
    DataOption,
    Event,
    EventSubscription,
    EventType,
    EventUpdate,
    IllegalTransition,
    KeepAliveReq,
    KeepAliveResp,
    MediaContent,
    MediaDataAudio,
    MediaDataChat,
    MediaDataShare,
    MediaDataTranscript,
    MediaDataVideo,
    MediaParams,
    MediaType,
    Message,
    RtmsEvent,
    SampleRate,
    SessionState,
    SessionStateUpdate,
    SignalingHandshakeReq,
    SignalingHandshakeResp,
    StatusTable,
    StopReason,
    StreamCloseReq,
    StreamCloseResp,
    StreamState,
    StreamStateUpdate,
    Subscription,
    TranscriptContent,
    Trigger,
    VideoParams,
    VideoSubscriptionReq,
    VideoSubscriptionResp,
    describe,
    given,
    handshake_signature,
)
from .sinks.base import AudioFormat, VideoFormat

__all__ = [
    "RESTART_STOP_REASONS",
    "SIGNALING_SOCKET",
    "SUBSCRIBED_EVENTS",
    "Action",
    "AudioFormat",
    "EndCause",
    "Ended",
    "Media",
    "Open",
    "Outcome",
    "Ready",
    "Reopen",
    "Reopened",
    "Send",
    "StreamClient",
    "VideoFormat",
    "WriteEvent",
]

logger = logging.getLogger("connector.stream")

SIGNALING_SOCKET = "signaling"
SUBSCRIBED_EVENTS = (
    EventType.ACTIVE_SPEAKER_CHANGE,
    EventType.PARTICIPANT_JOIN,
    EventType.PARTICIPANT_LEAVE,
)
"""Events asked for after CLIENT_READY_ACK (§4.5); 1 and 7 are sent without asking. Sharing
(5, 6) is added when screen share is wanted, video on/off (8, 9) when video is."""

RESTART_STOP_REASONS = FULL_RESTART_STOP_REASONS
"""Stop reasons after which Zoom's failover guidance says to reconnect in full (§5.3, §9.2):
10-19 and 24, except 18 AUTHENTICATION_FAILURE — a rejoin with the same credentials cannot
succeed (field report F1), so it ends the stream with guidance instead."""

_MEDIA_MESSAGES: dict[type[Message], MediaType] = {
    MediaDataAudio: MediaType.AUDIO,
    MediaDataVideo: MediaType.VIDEO,
    MediaDataShare: MediaType.DESKSHARE,
    MediaDataTranscript: MediaType.TRANSCRIPT,
    MediaDataChat: MediaType.CHAT,
}


class EndCause(enum.Enum):
    """Why a stream ended, from the connector's point of view."""

    TERMINATED = "terminated"  # Zoom sent STREAM_STATE_UPDATE state 4 (§4.8)
    STOPPED = "stopped"  # a *.rtms_stopped webhook arrived first (§7.1)
    CLOSED = "closed"  # the connector closed it: STREAM_CLOSE_REQ (§4.14) or shutdown
    REJECTED = "rejected"  # a handshake answered status_code != 0 (§4.2, §4.4)
    FAILED = "failed"  # a socket failed or dropped, or the join could not complete


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a stream ended. ``stop_reason`` is Zoom's RTMS_STOP_REASON when known (§5.3);
    ``status_code`` the handshake status of a rejection (§5.2)."""

    cause: EndCause
    detail: str
    stop_reason: int | None = None
    status_code: int | None = None
    retry: str | None = None  # a reconnect cause when a new attempt should follow (§9.2)


@dataclass(frozen=True, slots=True)
class Open:
    """Open a WebSocket named ``socket`` to ``url``; report back with ``opened``/``closed``."""

    socket: str
    url: str


@dataclass(frozen=True, slots=True)
class Send:
    socket: str
    message: Message


class Media(Struct, frozen=True, gc=False):
    """A media message for the sinks: audio, video, deskshare, transcript or chat (§4.12).
    ``user_name`` is filled from the roster when Zoom left it out.

    A frozen struct rather than a dataclass like the other actions: one is made per media
    frame, in a fifth of the time. It holds no reference cycle, so the collector skips it."""

    kind: MediaType
    content: MediaContent | TranscriptContent | ChatContent
    user_name: str | None


@dataclass(frozen=True, slots=True)
class Reopen:
    """Re-open the media socket ``socket`` alone, after a backoff: call
    :meth:`StreamClient.reopen` then (§9.2: media interrupted → redo that socket only)."""

    socket: str
    cause: str


@dataclass(frozen=True, slots=True)
class Reopened:
    """The media socket ``socket`` was re-opened and its handshake accepted (§9.2): the
    re-open schedule of that socket starts over."""

    socket: str


@dataclass(frozen=True, slots=True)
class WriteEvent:
    event: Event


@dataclass(frozen=True, slots=True)
class Ready:
    """The join is complete: CLIENT_READY_ACK and EVENT_SUBSCRIPTION were just sent (§3)."""


@dataclass(frozen=True, slots=True)
class Ended:
    """The stream is over: close every socket with 1000 and finalize the sinks."""

    outcome: Outcome


_STREAMING = ConnState.STREAMING

_IN_FLIGHT_DATA = (
    MediaDataAudio,
    MediaDataVideo,
    MediaDataShare,
    MediaDataTranscript,
    MediaDataChat,
    EventUpdate,
)

Action = Open | Send | Media | AudioFormat | VideoFormat | WriteEvent | Ready | Reopen | Reopened | Ended


class StreamClient:
    """One connection attempt to one RTMS stream; sans-I/O, single-threaded.

    Contract: call :meth:`start` once, then report every socket event. After an
    :class:`Ended` action nothing more is sent or opened, but media and events that were
    already in flight are still delivered to the sinks: sockets are independent TCP
    streams, so audio sent before STREAM_STATE_UPDATE may be read after it.
    """

    def __init__(self, config: ConnectorConfig, event: RtmsEvent, *, roster: Roster | None = None) -> None:
        self.event = event
        self.stream_id = event.rtms_stream_id
        self._config = config
        self._signature = handshake_signature(
            config.client_id, config.client_secret, event.instance_id, event.rtms_stream_id
        )
        self._conns: dict[str, Connection] = {}
        self._media_type: dict[str, MediaType] = {}  # media socket → media_type sent in msg 3
        self._joining: set[str] = set()  # media sockets whose handshake has not succeeded yet
        self._media_urls: dict[str, str] = {}
        self._reopening: set[str] = set()  # media sockets with a Reopen under way (never two)
        self._opened: set[str] = set()  # sockets that were open at some point
        self._wanted = frozenset(config.media_types)
        self._unwanted_seen: set[MediaType] = set()
        self.roster = roster if roster is not None else Roster()
        self.outcome: Outcome | None = None
        self.ready = False
        self.close_requested = False
        self.close_acknowledged = False

    # --- what the I/O layer reports ------------------------------------------------------

    def start(self) -> list[Action]:
        """Open the signaling socket to the webhook's ``server_urls`` (§1)."""
        if self.outcome is not None or self._conns:  # closed before it started, or started twice
            return []
        # Despite the plural, server_urls is one URL; the SDK docs call it comma-separated.
        url = (self.event.server_urls or "").split(",")[0].strip()
        if not url:
            return self._end(EndCause.FAILED, "the rtms_started webhook carried no server_urls")
        self._conns[SIGNALING_SOCKET] = Connection(SIGNALING)
        return [Open(SIGNALING_SOCKET, url)]

    def opened(self, socket: str) -> list[Action]:
        """A socket is open: send its handshake (msg 1 on signaling, msg 3 on media)."""
        if self.outcome is not None:
            return []
        self._opened.add(socket)
        instance_id, stream_id = self.event.instance_id, self.stream_id
        if socket == SIGNALING_SOCKET:
            # The wire key is meeting_uuid for every product (§2).
            return self._send(
                socket,
                SignalingHandshakeReq(
                    sequence=1, meeting_uuid=instance_id, rtms_stream_id=stream_id, signature=self._signature
                ),
            )
        media_type = self._media_type[socket]
        return self._send(
            socket,
            DataHandshakeReq(
                sequence=1,
                meeting_uuid=instance_id,
                rtms_stream_id=stream_id,
                signature=self._signature,
                media_type=int(media_type),
                media_params=self._media_params(media_type),
            ),
        )

    def media_connection(self, socket: str, kind: MediaType) -> Connection | None:
        """The state of media socket ``socket`` when media of ``kind`` received on it is
        wanted: while that connection is STREAMING, :meth:`received` answers each such frame
        with one :class:`Media` and nothing else (the session's short path relies on it).
        A socket's connection is replaced only once it is closed, and a reopened socket is a
        new WebSocket with its own reader."""
        conn = self._conns.get(socket)
        if conn is None or conn.machine is not MEDIA or kind not in self._wanted:
            return None
        return conn

    def received(self, socket: str, message: Message) -> list[Action]:
        """A message arrived on ``socket``."""
        # Most frequent first: this runs for every media frame.
        kind = _MEDIA_MESSAGES.get(type(message))
        conn = self._conns[socket]
        # A media frame on a streaming media socket leaves it streaming (the MEDIA table's
        # (STREAMING, MEDIA) entry), whatever the outcome (media in flight is delivered):
        # that answer is known without asking the machine. Anything else goes through it.
        if kind is None or conn.state is not _STREAMING or conn.machine is not MEDIA:
            if self.outcome is not None and not isinstance(message, _IN_FLIGHT_DATA):
                return []
            try:
                conn.handle(message)
            except IllegalTransition:
                if self.outcome is None:
                    logger.warning(
                        "stream %s: ignored %s on %s socket in state %s",
                        self.stream_id,
                        message.msg_type.name,
                        socket,
                        conn.state.value,
                    )
                return []
        if kind is not None:
            if kind not in self._wanted:
                return self._unwanted(kind)
            content = message.content  # type: ignore[attr-defined]
            name = content.user_name
            if not name or type(name) is not str:  # absent (UNSET) or empty: the roster's
                name = self.roster.name_of(content.user_id)
            return [Media(kind, content, name)]
        if isinstance(message, KeepAliveReq):
            return self._send(socket, KeepAliveResp.answering(message))
        if isinstance(message, EventUpdate):
            self.roster.apply(message.event)
            actions: list[Action] = [WriteEvent(message.event)]
            if message.event.event_type == EventType.MEDIA_CONNECTION_INTERRUPTED:
                actions += self._media_interrupted(message.event)
            return actions
        if isinstance(message, SignalingHandshakeResp):
            return self._signaling_answered(message)
        if isinstance(message, DataHandshakeResp):
            return self._media_answered(socket, message)
        if isinstance(message, StreamStateUpdate):
            return self._stream_state(message)
        if isinstance(message, StreamCloseResp):
            return self._close_answered(message)
        if isinstance(message, SessionStateUpdate):
            logger.info("stream %s: session %s", self.stream_id, describe(SessionState, message.state))
        elif isinstance(message, VideoSubscriptionResp):
            log = logger.info if message.status_code == 0 else logger.warning
            log(
                "stream %s: VIDEO_SUBSCRIPTION_RESP user %s status %s %s",
                self.stream_id,
                message.user_id,
                message.status_code,
                StatusTable.CURRENT.name_of(message.status_code),
            )
        else:
            logger.debug("stream %s: no handler for %s", self.stream_id, message.msg_type.name)
        return []

    def closed(self, socket: str, detail: str, *, clean: bool) -> list[Action]:
        """``socket`` is gone or never opened. ``clean`` = Zoom sent a close frame.

        * The signaling socket: the attempt ends. Never opened (refused, unreachable, TLS),
          or dropped without a close frame, it is worth a new attempt (Zoom keeps the stream
          60 s for a reconnect, §4.11, §9.2); closed with a close frame, Zoom ended it on
          purpose and the end is final (after STREAM_CLOSE_REQ, that is the close we asked for).
        * A media socket before the join completed: the attempt ends, to be retried.
        * A media socket once streaming, dropped: re-open that socket alone (§9.2). Closed
          cleanly: wait — Zoom reports media interruptions and stream ends on the signaling
          socket (§4.6 event 7, §4.8), which may deliver that report after the close.
        """
        conn = self._conns.get(socket)
        if conn is not None:
            conn.fire(Trigger.SOCKET_CLOSED)
        if self.outcome is not None:
            return []
        if socket == SIGNALING_SOCKET:
            if socket not in self._opened:
                return self._end(EndCause.FAILED, detail, retry="connect_failed")
            if self.close_requested:
                reason = int(StopReason.RECEIVER_REQUEST_CLOSE) if self.close_acknowledged else None
                return self._end(EndCause.CLOSED, detail, stop_reason=reason)
            return self._end(EndCause.FAILED, detail, retry=None if clean else "signaling_lost")
        if not self.ready:
            return self._end(EndCause.FAILED, detail, retry="connect_failed")
        if clean:
            logger.info("stream %s: %s; waiting for the signaling socket", self.stream_id, detail)
            return []
        return self._reopen_later(socket, "media")

    def reopen(self, socket: str) -> list[Action]:
        """The backoff after :class:`Reopen` is over: open ``socket`` again (§9.2)."""
        self._reopening.discard(socket)
        if self.outcome is not None or self.close_requested or socket not in self._media_urls:
            return []
        conn = self._conns.get(socket)
        if conn is not None and conn.state is not ConnState.CLOSED:
            return []  # it came back meanwhile, or was never lost
        self._conns[socket] = Connection(MEDIA)
        self._joining.add(socket)
        return [Open(socket, self._media_urls[socket])]

    def _reopen_later(self, socket: str, cause: str) -> list[Action]:
        if socket in self._reopening or self.close_requested:
            return []
        self._reopening.add(socket)
        return [Reopen(socket, cause)]

    def _media_interrupted(self, event: Event) -> list[Action]:
        """EVENT_UPDATE MEDIA_CONNECTION_INTERRUPTED (7): re-open the lost media socket(s).

        The event's payload is not documented (§4.6); when it names a ``media_type`` (a
        §5.6 bitmask) the sockets carrying it are re-opened, otherwise (or when it names
        nothing this client opened) every media socket that is already closed. A socket
        still open when its re-open is due is left alone (:meth:`reopen`)."""
        if not self.ready or self.outcome is not None:
            return []
        named = 0 if isinstance(event.media_type, UnsetType) else int(event.media_type)
        sockets = [
            socket
            for socket, media_type in self._media_type.items()
            if media_type is MediaType.ALL or int(media_type) & named
        ]
        if not named or not sockets:
            sockets = [s for s in self._media_type if self._conns[s].state is ConnState.CLOSED]
        actions: list[Action] = []
        for socket in sockets:
            actions += self._reopen_later(socket, "media")
        return actions

    def close(self) -> list[Action]:
        """Begin a graceful close: STREAM_CLOSE_REQ once signaling is accepted (§4.14)."""
        if self.outcome is not None or self.close_requested:
            return []
        self.close_requested = True
        request = StreamCloseReq(rtms_stream_id=self.stream_id)
        signaling = self._conns.get(SIGNALING_SOCKET)
        if signaling is not None and signaling.allows(request):
            return self._send(SIGNALING_SOCKET, request)
        return self._end(EndCause.CLOSED, "closed before the signaling handshake completed")

    def close_timed_out(self, seconds: float) -> list[Action]:
        """The close bound expired. Zoom ends a stream closed by request with reason 20
        (§4.14), so that is recorded when it acknowledged the request."""
        if self.close_acknowledged:
            detail = f"no STREAM_STATE_UPDATE within {seconds:g} s of STREAM_CLOSE_RESP"
            return self._end(EndCause.CLOSED, detail, stop_reason=int(StopReason.RECEIVER_REQUEST_CLOSE))
        return self._end(EndCause.CLOSED, f"no STREAM_CLOSE_RESP within {seconds:g} s")

    def stopped(self, stop_reason: int | None) -> list[Action]:
        """A ``*.rtms_stopped`` webhook arrived for this stream (§7.1). Reasons 10-19 and 24
        call for a full reconnect while the stream is still valid (§9.2)."""
        retry = "stopped_restart" if stop_reason in RESTART_STOP_REASONS else None
        detail = "rtms_stopped webhook received"
        return self._end(EndCause.STOPPED, detail, stop_reason=stop_reason, retry=retry)

    def fail(self, detail: str, *, retry: str | None = None) -> list[Action]:
        """End the attempt for a reason the I/O layer found (join timeout, unwritable sink,
        a restart asked for by a webhook: ``retry`` names the reconnect cause)."""
        return self._end(EndCause.FAILED, detail, retry=retry)

    # --- handshakes ----------------------------------------------------------------------

    def _signaling_answered(self, resp: SignalingHandshakeResp) -> list[Action]:
        if resp.status_code != 0:
            return self._rejected("SIGNALING_HAND_SHAKE_RESP", resp.status_code, resp.reason)
        urls = {} if isinstance(resp.media_server, UnsetType) else resp.media_server.server_urls
        return self._open_media(urls)

    def _open_media(self, urls: Mapping[str, str]) -> list[Action]:
        """One socket per wanted type at its own URL (as the SDK does), else one ``all``
        socket with media_type 32 (as Zoom's raw-WebSocket samples do) (§1)."""
        wanted = self._config.media_types
        per_type = {m: urls[m.key] for m in wanted if urls.get(m.key)}
        missing = [m.key for m in wanted if m not in per_type]
        plan: dict[str, tuple[MediaType, str]]
        if missing and urls.get("all"):
            plan = {"all": (MediaType.ALL, urls["all"])}
        else:
            plan = {m.key: (m, url) for m, url in per_type.items()}
            if missing:
                logger.warning(
                    "stream %s: media_server.server_urls has no URL for %s; not receiving it",
                    self.stream_id,
                    ", ".join(missing),
                )
        if not plan:
            keys = ", ".join(m.key for m in wanted)
            return self._end(EndCause.FAILED, f"SIGNALING_HAND_SHAKE_RESP has no media URL for {keys}")
        actions: list[Action] = []
        for name, (media_type, url) in plan.items():
            self._conns[name] = Connection(MEDIA)
            self._media_type[name] = media_type
            self._media_urls[name] = url
            self._joining.add(name)
            actions.append(Open(name, url))
        return actions

    def _media_params(self, media_type: MediaType) -> MediaParams:
        types = self._config.media_types if media_type is MediaType.ALL else (media_type,)
        c = self._config
        return MediaParams(
            audio=c.audio if MediaType.AUDIO in types else UNSET,
            video=c.video if MediaType.VIDEO in types else UNSET,
            deskshare=c.deskshare if MediaType.DESKSHARE in types else UNSET,
            transcript=c.transcript if MediaType.TRANSCRIPT in types else UNSET,
            chat=c.chat if MediaType.CHAT in types else UNSET,
        )

    def _media_answered(self, socket: str, resp: DataHandshakeResp) -> list[Action]:
        if resp.status_code != 0:
            return self._rejected(f"DATA_HAND_SHAKE_RESP ({socket})", resp.status_code, resp.reason)
        actions: list[Action] = list(self._formats(socket, resp))
        self._joining.discard(socket)
        signaling = self._conns[SIGNALING_SOCKET]
        if self.ready:
            logger.info("stream %s: %s socket re-opened", self.stream_id, socket)
            actions.append(Reopened(socket))
            return actions
        # If a close was requested meanwhile the signaling socket is CLOSING: never send msg 7.
        if not self._joining and signaling.state is ConnState.JOINING:
            actions += self._send(SIGNALING_SOCKET, ClientReadyAck(rtms_stream_id=self.stream_id))
            subscriptions = tuple(Subscription(event_type=int(e), subscribe=True) for e in self._events())
            actions += self._send(SIGNALING_SOCKET, EventSubscription(events=subscriptions))
            self.ready = True
            actions.append(Ready())
            actions += self._subscribe_video()
        return actions

    def _events(self) -> tuple[EventType, ...]:
        wanted = self._config.media_types
        events = list(SUBSCRIBED_EVENTS)
        if MediaType.DESKSHARE in wanted:
            events += [EventType.SHARING_START, EventType.SHARING_STOP]
        if MediaType.VIDEO in wanted:
            events += [EventType.PARTICIPANT_VIDEO_ON, EventType.PARTICIPANT_VIDEO_OFF]
        return tuple(events)

    def _subscribe_video(self) -> list[Action]:
        """One participant's video: VIDEO_SUBSCRIPTION_REQ once ready (§4.16, data_opt 4)."""
        user = self._config.video_user
        if user is None or MediaType.VIDEO not in self._config.media_types:
            return []
        return self._send(SIGNALING_SOCKET, VideoSubscriptionReq(user_id=user, subscribe=True))

    def _formats(self, socket: str, resp: DataHandshakeResp) -> list[Action]:
        """The negotiated formats of the types this socket carries (the echo wins, §4.4)."""
        media_type = self._media_type[socket]
        types = self._config.media_types if media_type is MediaType.ALL else (media_type,)
        echo = resp.media_params if isinstance(resp.media_params, MediaParams) else MediaParams()
        out: list[Action] = []
        if MediaType.AUDIO in types:
            out.append(self._audio_format(echo))
        visual: tuple[tuple[MediaType, VideoParams, VideoParams | UnsetType], ...] = (
            (MediaType.VIDEO, self._config.video, echo.video),
            (MediaType.DESKSHARE, self._config.deskshare, echo.deskshare),
        )
        for kind, asked, got in visual:
            if kind not in types:
                continue
            params = got if isinstance(got, VideoParams) else asked
            out.append(
                VideoFormat(
                    kind=kind,
                    codec=given(params.codec, given(asked.codec, int(Codec.JPG))),
                    fps=given(params.fps, given(asked.fps, 1)),
                    resolution=given(params.resolution, given(asked.resolution, 2)),
                )
            )
        return out

    def _audio_format(self, echo: MediaParams) -> AudioFormat:
        asked = self._config.audio
        rate, channels = _pcm_format(asked, SampleRate.SR_16K, AudioChannel.MONO)
        codec = given(asked.codec, int(Codec.L16))
        data_opt = given(asked.data_opt, int(DataOption.AUDIO_MIXED_STREAM))
        if isinstance(echo.audio, AudioParams):
            rate, channels = _pcm_format(echo.audio, rate, channels)
            codec = given(echo.audio.codec, codec)
            data_opt = given(echo.audio.data_opt, data_opt)
        return AudioFormat(
            sample_rate=rate.hertz,
            channels=int(channels),
            codec=codec,
            per_participant=data_opt == DataOption.AUDIO_MULTI_STREAMS,
        )

    def _rejected(
        self, what: str, status_code: int, reason: str, *, cause: EndCause = EndCause.REJECTED
    ) -> list[Action]:
        name = StatusTable.CURRENT.name_of(status_code)
        detail = f"{what} status_code {status_code} {name}" + (f": {reason}" if reason else "")
        return self._end(cause, detail, status_code=status_code)

    # --- stream end ----------------------------------------------------------------------

    def _stream_state(self, update: StreamStateUpdate) -> list[Action]:
        if update.state != StreamState.TERMINATED:
            logger.info("stream %s: stream state %s", self.stream_id, describe(StreamState, update.state))
            if update.state == StreamState.INTERRUPTED and self.ready:
                return self._media_interrupted(Event(event_type=int(EventType.MEDIA_CONNECTION_INTERRUPTED)))
            return []
        reason = update.stop_code
        cause = EndCause.CLOSED if self.close_requested else EndCause.TERMINATED
        detail = f"STREAM_STATE_UPDATE TERMINATED, reason {describe(StopReason, reason)}"
        retry = "stopped_restart" if reason in RESTART_STOP_REASONS and not self.close_requested else None
        return self._end(cause, detail, stop_reason=reason, retry=retry)

    def _close_answered(self, resp: StreamCloseResp) -> list[Action]:
        if resp.status_code == 0:
            self.close_acknowledged = True  # the stream end follows as STREAM_STATE_UPDATE
            return []
        return self._rejected("STREAM_CLOSE_RESP", resp.status_code, resp.reason, cause=EndCause.CLOSED)

    def _unwanted(self, kind: MediaType) -> list[Action]:
        # Zoom may send any type on any media socket (§4.12); a type this connector did not
        # ask for has no negotiated format and no sink set up for it.
        if kind not in self._unwanted_seen:
            self._unwanted_seen.add(kind)
            logger.warning("stream %s: ignoring %s media, which was not asked for", self.stream_id, kind.key)
        return []

    def _send(self, socket: str, message: Message) -> list[Action]:
        self._conns[socket].handle(message)  # an illegal send is a bug here: let it raise
        return [Send(socket, message)]

    def _end(
        self,
        cause: EndCause,
        detail: str,
        *,
        stop_reason: int | None = None,
        status_code: int | None = None,
        retry: str | None = None,
    ) -> list[Action]:
        if self.outcome is not None:
            return []
        self.outcome = Outcome(cause, detail, stop_reason, status_code, retry)
        return [Ended(self.outcome)]


def _pcm_format(
    params: AudioParams, rate: SampleRate, channels: AudioChannel
) -> tuple[SampleRate, AudioChannel]:
    """Sample rate and channels of ``params``; the given ones for absent or unknown values."""
    try:
        if not isinstance(params.sample_rate, UnsetType):
            rate = SampleRate(params.sample_rate)
        if not isinstance(params.channel, UnsetType):
            channels = AudioChannel(params.channel)
    except ValueError:
        logger.warning("unknown audio format %r; keeping %d Hz x%d", params, rate.hertz, channels)
    return rate, channels
