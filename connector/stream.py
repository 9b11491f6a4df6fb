"""The life of one RTMS stream as seen by the connector, without I/O (docs/protocol.md §3, §4).

:class:`StreamClient` is told what happened — a socket opened, a message arrived, a socket
went away, the operator asked to close — and answers with a list of :data:`Action` for the I/O
layer (:mod:`connector.session`) to carry out: open a socket, send a message, write to a sink,
or end the stream. Each socket is driven by the protocol core's state machine
(:data:`~connector.protocol.SIGNALING` or :data:`~connector.protocol.MEDIA`), fed with every
message sent and received; a message the machine does not allow is dropped with a warning.

Sockets are named: ``"signaling"``, and one media socket per media type named by its key in
``media_server.server_urls`` (``"audio"``, ``"transcript"``) or a single ``"all"`` socket (§1).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from msgspec import UNSET, UnsetType

from .config import ConnectorConfig
from .participants import Roster
from .protocol import (
    MEDIA,
    SIGNALING,
    AudioChannel,
    AudioParams,
    ClientReadyAck,
    Connection,
    ConnState,
    DataHandshakeReq,
    DataHandshakeResp,
    Event,
    EventSubscription,
    EventType,
    EventUpdate,
    IllegalTransition,
    KeepAliveReq,
    KeepAliveResp,
    MediaContent,
    MediaDataAudio,
    MediaDataTranscript,
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
    describe,
    handshake_signature,
)

__all__ = [
    "SIGNALING_SOCKET",
    "SUBSCRIBED_EVENTS",
    "Action",
    "AudioFormat",
    "EndCause",
    "Ended",
    "Open",
    "Outcome",
    "Ready",
    "Send",
    "StreamClient",
    "WriteAudio",
    "WriteEvent",
    "WriteTranscript",
]

logger = logging.getLogger("connector.stream")

SIGNALING_SOCKET = "signaling"
SUBSCRIBED_EVENTS = (
    EventType.ACTIVE_SPEAKER_CHANGE,
    EventType.PARTICIPANT_JOIN,
    EventType.PARTICIPANT_LEAVE,
)
"""Events asked for after CLIENT_READY_ACK (§4.5); 1 and 7 are sent without asking."""


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


@dataclass(frozen=True, slots=True)
class Open:
    """Open a WebSocket named ``socket`` to ``url``; report back with ``opened``/``closed``."""

    socket: str
    url: str


@dataclass(frozen=True, slots=True)
class Send:
    socket: str
    message: Message


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """The negotiated PCM format (from the DATA_HAND_SHAKE_RESP echo when present, §4.4)."""

    sample_rate: int
    channels: int


@dataclass(frozen=True, slots=True)
class WriteAudio:
    content: MediaContent


@dataclass(frozen=True, slots=True)
class WriteTranscript:
    """A transcript line; ``user_name`` is filled from the roster when Zoom left it out."""

    content: TranscriptContent
    user_name: str | None


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


_IN_FLIGHT_DATA = (MediaDataAudio, MediaDataTranscript, EventUpdate)

Action = Open | Send | AudioFormat | WriteAudio | WriteTranscript | WriteEvent | Ready | Ended


class StreamClient:
    """One connection attempt to one RTMS stream; sans-I/O, single-threaded.

    Contract: call :meth:`start` once, then report every socket event. After an
    :class:`Ended` action nothing more is sent or opened, but media and events that were
    already in flight are still delivered to the sinks: sockets are independent TCP
    streams, so audio sent before STREAM_STATE_UPDATE may be read after it.
    """

    def __init__(self, config: ConnectorConfig, event: RtmsEvent) -> None:
        self.event = event
        self.stream_id = event.rtms_stream_id
        self._config = config
        self._signature = handshake_signature(
            config.client_id, config.client_secret, event.instance_id, event.rtms_stream_id
        )
        self._conns: dict[str, Connection] = {}
        self._media_type: dict[str, MediaType] = {}  # media socket → media_type sent in msg 3
        self._joining: set[str] = set()  # media sockets whose handshake has not succeeded yet
        self.roster = Roster()
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

    def received(self, socket: str, message: Message) -> list[Action]:
        """A message arrived on ``socket``."""
        if self.outcome is not None and not isinstance(message, _IN_FLIGHT_DATA):
            return []
        conn = self._conns[socket]
        try:
            conn.handle(message)  # one table lookup per frame
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
        # Most frequent first: this runs for every media frame.
        if isinstance(message, MediaDataAudio):
            return [WriteAudio(message.content)]
        if isinstance(message, MediaDataTranscript):
            content = message.content
            name = content.user_name if isinstance(content.user_name, str) else None
            return [WriteTranscript(content, name or self.roster.name_of(content.user_id))]
        if isinstance(message, KeepAliveReq):
            return self._send(socket, KeepAliveResp.answering(message))
        if isinstance(message, EventUpdate):
            self.roster.apply(message.event)
            return [WriteEvent(message.event)]
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
        else:
            logger.debug("stream %s: no handler for %s", self.stream_id, message.msg_type.name)
        return []

    def closed(self, socket: str, detail: str, *, clean: bool) -> list[Action]:
        """``socket`` is gone or never opened. ``clean`` = Zoom sent a close frame.

        The signaling socket, a media socket before the join completed, or any abrupt
        drop ends the stream (reconnection is not implemented). A media socket that Zoom
        closes cleanly once streaming does not: Zoom reports media interruptions and stream
        ends on the signaling socket (§4.6 event 7, §4.8), which may deliver that report
        after the media close arrives.
        """
        conn = self._conns.get(socket)
        if conn is not None:
            conn.fire(Trigger.SOCKET_CLOSED)
        if self.outcome is not None:
            return []
        if clean and self.ready and socket != SIGNALING_SOCKET:
            logger.info("stream %s: %s; waiting for the signaling socket", self.stream_id, detail)
            return []
        return self._end(EndCause.FAILED, detail)

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
        """A ``*.rtms_stopped`` webhook arrived for this stream (§7.1)."""
        return self._end(EndCause.STOPPED, "rtms_stopped webhook received", stop_reason=stop_reason)

    def fail(self, detail: str) -> list[Action]:
        """End the stream for a reason the I/O layer found (join timeout, unwritable sink)."""
        return self._end(EndCause.FAILED, detail)

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
            self._joining.add(name)
            actions.append(Open(name, url))
        return actions

    def _media_params(self, media_type: MediaType) -> MediaParams:
        types = self._config.media_types if media_type is MediaType.ALL else (media_type,)
        audio, transcript = self._config.audio, self._config.transcript
        return MediaParams(
            audio=audio if MediaType.AUDIO in types else UNSET,
            transcript=transcript if MediaType.TRANSCRIPT in types else UNSET,
        )

    def _media_answered(self, socket: str, resp: DataHandshakeResp) -> list[Action]:
        if resp.status_code != 0:
            return self._rejected(f"DATA_HAND_SHAKE_RESP ({socket})", resp.status_code, resp.reason)
        actions: list[Action] = []
        media_type = self._media_type[socket]
        if media_type is MediaType.AUDIO or (
            media_type is MediaType.ALL and MediaType.AUDIO in self._config.media_types
        ):
            actions.append(self._audio_format(resp))
        self._joining.discard(socket)
        signaling = self._conns[SIGNALING_SOCKET]
        # If a close was requested meanwhile the signaling socket is CLOSING: never send msg 7.
        if not self._joining and signaling.state is ConnState.JOINING:
            actions += self._send(SIGNALING_SOCKET, ClientReadyAck(rtms_stream_id=self.stream_id))
            subscriptions = tuple(Subscription(event_type=int(e), subscribe=True) for e in SUBSCRIBED_EVENTS)
            actions += self._send(SIGNALING_SOCKET, EventSubscription(events=subscriptions))
            self.ready = True
            actions.append(Ready())
        return actions

    def _audio_format(self, resp: DataHandshakeResp) -> AudioFormat:
        rate, channels = _pcm_format(self._config.audio, SampleRate.SR_16K, AudioChannel.MONO)
        echo = resp.media_params.audio if isinstance(resp.media_params, MediaParams) else UNSET
        if isinstance(echo, AudioParams):
            rate, channels = _pcm_format(echo, rate, channels)
        return AudioFormat(rate.hertz, int(channels))

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
            return []
        reason = update.stop_code
        cause = EndCause.CLOSED if self.close_requested else EndCause.TERMINATED
        detail = f"STREAM_STATE_UPDATE TERMINATED, reason {describe(StopReason, reason)}"
        return self._end(cause, detail, stop_reason=reason)

    def _close_answered(self, resp: StreamCloseResp) -> list[Action]:
        if resp.status_code == 0:
            self.close_acknowledged = True  # the stream end follows as STREAM_STATE_UPDATE
            return []
        return self._rejected("STREAM_CLOSE_RESP", resp.status_code, resp.reason, cause=EndCause.CLOSED)

    def _send(self, socket: str, message: Message) -> list[Action]:
        self._conns[socket].handle(message)  # an illegal send is a bug here: let it raise
        return [Send(socket, message)]

    def _end(
        self, cause: EndCause, detail: str, *, stop_reason: int | None = None, status_code: int | None = None
    ) -> list[Action]:
        if self.outcome is not None:
            return []
        self.outcome = Outcome(cause, detail, stop_reason, status_code)
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
