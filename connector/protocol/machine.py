"""Signaling and media connection state machines, written as data (reference §3, §4).

One table per socket kind maps ``(state, trigger) → next state``. A trigger is what a
message means for the connection (``trigger_of``), or that the socket went away. Each message
type travels in one direction only, so the same table serves the client (the connector, an
SDK-like probe) and the server (the simulator): each side feeds it what it sends and what it
receives, and anything the table lacks raises :class:`IllegalTransition`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .enums import MessageType, StreamState
from .errors import IllegalTransition
from .messages import DataHandshakeResp, Message, SignalingHandshakeResp, StreamStateUpdate

__all__ = [
    "MEDIA",
    "SIGNALING",
    "Connection",
    "ConnState",
    "StateMachine",
    "Trigger",
    "trigger_of",
]


class ConnState(enum.Enum):
    """Where one socket is in its life."""

    CONNECTED = "connected"  # WebSocket open, no handshake yet
    HANDSHAKING = "handshaking"  # msg 1 / msg 3 sent, response awaited
    JOINING = "joining"  # signaling accepted; media handshakes under way, msg 7 not yet sent
    STREAMING = "streaming"  # ready: media and events flow
    CLOSING = "closing"  # STREAM_CLOSE_REQ sent, stream end awaited
    CLOSED = "closed"  # rejected, terminated or socket gone

    # Members are singletons compared by identity, so the C identity hash is correct and
    # keeps the per-frame table lookup cheap (Enum's own __hash__ is a Python function).
    __hash__ = object.__hash__


class Trigger(enum.Enum):
    """What happened on a connection. Most are one message type; some depend on content."""

    SIGNALING_HANDSHAKE_REQ = "signaling_handshake_req"
    SIGNALING_HANDSHAKE_OK = "signaling_handshake_ok"
    SIGNALING_HANDSHAKE_REJECTED = "signaling_handshake_rejected"
    DATA_HANDSHAKE_REQ = "data_handshake_req"
    DATA_HANDSHAKE_OK = "data_handshake_ok"
    DATA_HANDSHAKE_REJECTED = "data_handshake_rejected"
    EVENT_SUBSCRIPTION = "event_subscription"
    EVENT_UPDATE = "event_update"
    CLIENT_READY_ACK = "client_ready_ack"
    STREAM_STATE_CHANGED = "stream_state_changed"
    STREAM_TERMINATED = "stream_terminated"
    SESSION_STATE = "session_state"  # msgs 9, 10, 11
    STREAM_STATE_QUERY = "stream_state_query"  # msgs 19, 20
    KEEP_ALIVE = "keep_alive"  # msgs 12, 13
    MEDIA = "media"  # msgs 14-18 and metadata 23-27
    STREAM_CLOSE_REQ = "stream_close_req"
    STREAM_CLOSE_RESP = "stream_close_resp"
    VIDEO_SUBSCRIPTION = "video_subscription"  # msgs 28, 29
    SOCKET_CLOSED = "socket_closed"  # not a message: the WebSocket went away

    __hash__ = object.__hash__  # see ConnState


_SIMPLE_TRIGGERS: dict[MessageType, Trigger] = {
    MessageType.SIGNALING_HAND_SHAKE_REQ: Trigger.SIGNALING_HANDSHAKE_REQ,
    MessageType.DATA_HAND_SHAKE_REQ: Trigger.DATA_HANDSHAKE_REQ,
    MessageType.EVENT_SUBSCRIPTION: Trigger.EVENT_SUBSCRIPTION,
    MessageType.EVENT_UPDATE: Trigger.EVENT_UPDATE,
    MessageType.CLIENT_READY_ACK: Trigger.CLIENT_READY_ACK,
    MessageType.SESSION_STATE_UPDATE: Trigger.SESSION_STATE,
    MessageType.SESSION_STATE_REQ: Trigger.SESSION_STATE,
    MessageType.SESSION_STATE_RESP: Trigger.SESSION_STATE,
    MessageType.KEEP_ALIVE_REQ: Trigger.KEEP_ALIVE,
    MessageType.KEEP_ALIVE_RESP: Trigger.KEEP_ALIVE,
    MessageType.STREAM_STATE_REQ: Trigger.STREAM_STATE_QUERY,
    MessageType.STREAM_STATE_RESP: Trigger.STREAM_STATE_QUERY,
    MessageType.STREAM_CLOSE_REQ: Trigger.STREAM_CLOSE_REQ,
    MessageType.STREAM_CLOSE_RESP: Trigger.STREAM_CLOSE_RESP,
    MessageType.VIDEO_SUBSCRIPTION_REQ: Trigger.VIDEO_SUBSCRIPTION,
    MessageType.VIDEO_SUBSCRIPTION_RESP: Trigger.VIDEO_SUBSCRIPTION,
    **{
        t: Trigger.MEDIA
        for t in (
            MessageType.MEDIA_DATA_AUDIO,
            MessageType.MEDIA_DATA_VIDEO,
            MessageType.MEDIA_DATA_SHARE,
            MessageType.MEDIA_DATA_TRANSCRIPT,
            MessageType.MEDIA_DATA_CHAT,
            MessageType.META_DATA_AUDIO,
            MessageType.META_DATA_VIDEO,
            MessageType.META_DATA_SHARE,
            MessageType.META_DATA_TRANSCRIPT,
            MessageType.META_DATA_CHAT,
        )
    },
}


def trigger_of(message: Message) -> Trigger:
    """What ``message`` means for the state of the socket it travels on."""
    if isinstance(message, SignalingHandshakeResp):
        ok = message.status_code == 0
        return Trigger.SIGNALING_HANDSHAKE_OK if ok else Trigger.SIGNALING_HANDSHAKE_REJECTED
    if isinstance(message, DataHandshakeResp):
        return Trigger.DATA_HANDSHAKE_OK if message.status_code == 0 else Trigger.DATA_HANDSHAKE_REJECTED
    if isinstance(message, StreamStateUpdate):
        terminated = message.state == StreamState.TERMINATED
        return Trigger.STREAM_TERMINATED if terminated else Trigger.STREAM_STATE_CHANGED
    return _SIMPLE_TRIGGERS[message.msg_type]


S = ConnState
T = Trigger


def _stay(
    states: Iterable[ConnState], triggers: Iterable[Trigger]
) -> dict[tuple[ConnState, Trigger], ConnState]:
    return {(s, t): s for s in states for t in triggers}


def _closing_from(states: Iterable[ConnState]) -> dict[tuple[ConnState, Trigger], ConnState]:
    return {(s, T.SOCKET_CLOSED): S.CLOSED for s in states}


@dataclass(frozen=True)
class StateMachine:
    """A transition table with a name and an initial state."""

    name: str
    initial: ConnState
    transitions: Mapping[tuple[ConnState, Trigger], ConnState]

    def next_state(self, state: ConnState, trigger: Trigger) -> ConnState:
        try:
            return self.transitions[(state, trigger)]
        except KeyError:
            raise IllegalTransition(self.name, state.value, trigger.value) from None

    def allows(self, state: ConnState, trigger: Trigger) -> bool:
        return (state, trigger) in self.transitions


_SIGNALING_LIVE = (S.JOINING, S.STREAMING, S.CLOSING)

SIGNALING = StateMachine(
    name="signaling",
    initial=S.CONNECTED,
    transitions={
        (S.CONNECTED, T.SIGNALING_HANDSHAKE_REQ): S.HANDSHAKING,
        (S.HANDSHAKING, T.SIGNALING_HANDSHAKE_OK): S.JOINING,
        (S.HANDSHAKING, T.SIGNALING_HANDSHAKE_REJECTED): S.CLOSED,
        (S.JOINING, T.CLIENT_READY_ACK): S.STREAMING,
        (S.JOINING, T.STREAM_CLOSE_REQ): S.CLOSING,
        (S.STREAMING, T.STREAM_CLOSE_REQ): S.CLOSING,
        **{(s, T.STREAM_TERMINATED): S.CLOSED for s in _SIGNALING_LIVE},
        # Messages that leave the state as it is. The SDK sends its subscriptions after msg 7
        # and again when it leaves (§4.5), so msg 5 is allowed while joining and closing too.
        **_stay(
            _SIGNALING_LIVE,
            (
                T.EVENT_SUBSCRIPTION,
                T.EVENT_UPDATE,
                T.STREAM_STATE_CHANGED,
                T.SESSION_STATE,
                T.STREAM_STATE_QUERY,
                T.KEEP_ALIVE,
                T.VIDEO_SUBSCRIPTION,
            ),
        ),
        (S.HANDSHAKING, T.KEEP_ALIVE): S.HANDSHAKING,
        (S.CLOSING, T.STREAM_CLOSE_RESP): S.CLOSING,
        **_closing_from(S),
    },
)
"""The signaling socket: msg 1 → 2 → (media handshakes) → 7 → … → 8(state 4) or 21 → 22."""

MEDIA = StateMachine(
    name="media",
    initial=S.CONNECTED,
    transitions={
        (S.CONNECTED, T.DATA_HANDSHAKE_REQ): S.HANDSHAKING,
        (S.HANDSHAKING, T.DATA_HANDSHAKE_OK): S.STREAMING,
        (S.HANDSHAKING, T.DATA_HANDSHAKE_REJECTED): S.CLOSED,
        (S.HANDSHAKING, T.KEEP_ALIVE): S.HANDSHAKING,
        # The SDK accepts any media type on any of its media sockets (§4.12).
        **_stay((S.STREAMING,), (T.MEDIA, T.KEEP_ALIVE, T.EVENT_UPDATE, T.STREAM_STATE_CHANGED)),
        (S.STREAMING, T.STREAM_TERMINATED): S.CLOSED,
        **_closing_from(S),
    },
)
"""A media socket: msg 3 → 4 → media frames and keep-alives until the socket closes."""


class Connection:
    """The mutable state of one socket, driven by a :class:`StateMachine`."""

    __slots__ = ("machine", "state")

    def __init__(self, machine: StateMachine) -> None:
        self.machine = machine
        self.state = machine.initial

    def handle(self, message: Message) -> ConnState:
        """Advance on a message sent or received; raise :class:`IllegalTransition` if not allowed."""
        return self.fire(trigger_of(message))

    def fire(self, trigger: Trigger) -> ConnState:
        self.state = self.machine.next_state(self.state, trigger)
        return self.state

    def allows(self, message: Message) -> bool:
        return self.machine.allows(self.state, trigger_of(message))

    @property
    def closed(self) -> bool:
        return self.state is ConnState.CLOSED

    def __repr__(self) -> str:
        return f"<Connection {self.machine.name} {self.state.value}>"
