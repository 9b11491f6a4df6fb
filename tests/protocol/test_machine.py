"""Signaling and media state machines, reference §3."""

from __future__ import annotations

import pytest

from connector.protocol import (
    MEDIA,
    SIGNALING,
    ClientReadyAck,
    Connection,
    ConnState,
    DataHandshakeReq,
    DataHandshakeResp,
    Event,
    EventSubscription,
    EventUpdate,
    IllegalTransition,
    KeepAliveReq,
    KeepAliveResp,
    MediaContent,
    MediaDataAudio,
    MediaDataTranscript,
    MediaDataVideo,
    MediaServer,
    Message,
    MessageType,
    ProtocolError,
    SessionStateUpdate,
    SignalingHandshakeReq,
    SignalingHandshakeResp,
    StateMachine,
    StreamCloseReq,
    StreamCloseResp,
    StreamStateUpdate,
    Subscription,
    TranscriptContent,
    Trigger,
    trigger_of,
)
from connector.protocol.messages import MESSAGE_TYPES

from .samples import HS, SAMPLES

SIGNALING_REQ = SignalingHandshakeReq(**HS)
SIGNALING_OK = SignalingHandshakeResp(
    status_code=0, media_server=MediaServer(server_urls={"audio": "wss://a"})
)
DATA_REQ = DataHandshakeReq(media_type=1, **HS)
DATA_OK = DataHandshakeResp(status_code=0)
READY = ClientReadyAck(rtms_stream_id="s-1")
SUBSCRIBE = EventSubscription(events=(Subscription(event_type=2, subscribe=True),))
EVENT = EventUpdate(event=Event(event_type=1, timestamp=1))
SESSION_STARTED = SessionStateUpdate(state=2)
PING = KeepAliveReq(timestamp=1, sequence=1)
PONG = KeepAliveResp(timestamp=1, sequence=1)
STREAM_ACTIVE = StreamStateUpdate(state=1)
STREAM_TERMINATED = StreamStateUpdate(state=4, reason=20)
CLOSE_REQ = StreamCloseReq(rtms_stream_id="s-1")
CLOSE_RESP = StreamCloseResp(status_code=0, reason="OK")
AUDIO = MediaDataAudio(content=MediaContent(data=b"\x00\x00"))


def _drive(machine: StateMachine, steps: list[tuple[Message, ConnState]]) -> Connection:
    connection = Connection(machine)
    assert connection.state is ConnState.CONNECTED
    for message, expected in steps:
        assert connection.allows(message), (message, connection)
        assert connection.handle(message) is expected, message
        assert connection.state is expected
    return connection


def test_signaling_happy_path() -> None:
    # §3: 1, 2 (ok), [media handshakes], 7, 5, 6, 9, 12, 13, 8 (active), 21, 22, 8 (terminated)
    connection = _drive(
        SIGNALING,
        [
            (SIGNALING_REQ, ConnState.HANDSHAKING),
            (SIGNALING_OK, ConnState.JOINING),
            (SUBSCRIBE, ConnState.JOINING),
            (READY, ConnState.STREAMING),
            (SUBSCRIBE, ConnState.STREAMING),
            (EVENT, ConnState.STREAMING),
            (SESSION_STARTED, ConnState.STREAMING),
            (PING, ConnState.STREAMING),
            (PONG, ConnState.STREAMING),
            (STREAM_ACTIVE, ConnState.STREAMING),
            (CLOSE_REQ, ConnState.CLOSING),
            (CLOSE_RESP, ConnState.CLOSING),
            (PING, ConnState.CLOSING),
            (STREAM_TERMINATED, ConnState.CLOSED),
        ],
    )
    assert connection.closed
    assert repr(connection) == "<Connection signaling closed>"


def test_signaling_ends_when_zoom_terminates_the_stream() -> None:
    connection = _drive(
        SIGNALING,
        [
            (SIGNALING_REQ, ConnState.HANDSHAKING),
            (SIGNALING_OK, ConnState.JOINING),
            (READY, ConnState.STREAMING),
            (STREAM_TERMINATED, ConnState.CLOSED),
        ],
    )
    assert connection.closed


def test_media_happy_path() -> None:
    connection = _drive(
        MEDIA,
        [
            (DATA_REQ, ConnState.HANDSHAKING),
            (PING, ConnState.HANDSHAKING),
            (DATA_OK, ConnState.STREAMING),
            (AUDIO, ConnState.STREAMING),
            (MediaDataVideo(content=MediaContent(data=b"")), ConnState.STREAMING),
            (MediaDataTranscript(content=TranscriptContent(data="hi")), ConnState.STREAMING),
            (SAMPLES[MessageType.META_DATA_AUDIO], ConnState.STREAMING),
            (PING, ConnState.STREAMING),
            (PONG, ConnState.STREAMING),
            (EVENT, ConnState.STREAMING),
            (STREAM_ACTIVE, ConnState.STREAMING),
            (STREAM_TERMINATED, ConnState.CLOSED),
        ],
    )
    assert repr(connection) == "<Connection media closed>"


def test_a_whole_session_across_sockets() -> None:
    signaling = Connection(SIGNALING)
    audio, video = Connection(MEDIA), Connection(MEDIA)
    signaling.handle(SIGNALING_REQ)
    signaling.handle(SIGNALING_OK)
    for media in (audio, video):
        media.handle(DATA_REQ)
        media.handle(DATA_OK)
    assert signaling.state is ConnState.JOINING
    signaling.handle(READY)
    audio.handle(AUDIO)
    signaling.handle(STREAM_TERMINATED)
    for media in (audio, video):
        media.fire(Trigger.SOCKET_CLOSED)
    assert signaling.closed
    assert audio.closed
    assert video.closed


@pytest.mark.parametrize("status_code", [3, 8, 17, 45])
def test_rejected_signaling_handshake_closes(status_code: int) -> None:
    _drive(
        SIGNALING,
        [
            (SIGNALING_REQ, ConnState.HANDSHAKING),
            (SignalingHandshakeResp(status_code=status_code), ConnState.CLOSED),
        ],
    )


@pytest.mark.parametrize("status_code", [3, 16, 18, 45])
def test_rejected_data_handshake_closes(status_code: int) -> None:
    _drive(
        MEDIA,
        [(DATA_REQ, ConnState.HANDSHAKING), (DataHandshakeResp(status_code=status_code), ConnState.CLOSED)],
    )


def _connection_in(machine: StateMachine, state: ConnState) -> Connection:
    connection = Connection(machine)
    connection.state = state
    return connection


@pytest.mark.parametrize(
    ("machine", "state", "message", "trigger"),
    [
        (MEDIA, ConnState.CONNECTED, AUDIO, "media"),  # media before the data handshake
        (MEDIA, ConnState.HANDSHAKING, AUDIO, "media"),  # media before the data handshake response
        (SIGNALING, ConnState.CONNECTED, READY, "client_ready_ack"),
        (SIGNALING, ConnState.HANDSHAKING, READY, "client_ready_ack"),
        (SIGNALING, ConnState.HANDSHAKING, SIGNALING_REQ, "signaling_handshake_req"),  # a second msg 1
        (SIGNALING, ConnState.STREAMING, SIGNALING_REQ, "signaling_handshake_req"),
        (SIGNALING, ConnState.STREAMING, READY, "client_ready_ack"),  # a second msg 7
        (SIGNALING, ConnState.CONNECTED, SIGNALING_OK, "signaling_handshake_ok"),
        (SIGNALING, ConnState.JOINING, SIGNALING_OK, "signaling_handshake_ok"),
        (SIGNALING, ConnState.CONNECTED, DATA_REQ, "data_handshake_req"),  # msg 3 on the signaling socket
        (SIGNALING, ConnState.STREAMING, AUDIO, "media"),  # media on the signaling socket
        (SIGNALING, ConnState.CONNECTED, PING, "keep_alive"),
        (SIGNALING, ConnState.HANDSHAKING, SUBSCRIBE, "event_subscription"),
        (SIGNALING, ConnState.STREAMING, CLOSE_RESP, "stream_close_resp"),  # answer without a request
        (SIGNALING, ConnState.CLOSED, PING, "keep_alive"),
        (SIGNALING, ConnState.CLOSED, SIGNALING_REQ, "signaling_handshake_req"),
        (MEDIA, ConnState.CONNECTED, SIGNALING_REQ, "signaling_handshake_req"),  # msg 1 on a media socket
        (MEDIA, ConnState.STREAMING, DATA_REQ, "data_handshake_req"),  # a second msg 3
        (MEDIA, ConnState.STREAMING, READY, "client_ready_ack"),
        (MEDIA, ConnState.CONNECTED, DATA_OK, "data_handshake_ok"),
        (MEDIA, ConnState.CLOSED, AUDIO, "media"),
    ],
)
def test_illegal_transitions(machine: StateMachine, state: ConnState, message: Message, trigger: str) -> None:
    connection = _connection_in(machine, state)
    assert not connection.allows(message)
    with pytest.raises(IllegalTransition) as info:
        connection.handle(message)
    error = info.value
    assert isinstance(error, ProtocolError)
    assert (error.machine, error.state, error.trigger) == (machine.name, state.value, trigger)
    assert trigger in str(error)
    assert connection.state is state  # an illegal message changes nothing


def test_second_signaling_handshake_request_from_the_start() -> None:
    connection = Connection(SIGNALING)
    connection.handle(SIGNALING_REQ)
    with pytest.raises(IllegalTransition) as info:
        connection.handle(SIGNALING_REQ)
    assert (info.value.machine, info.value.state, info.value.trigger) == (
        "signaling",
        "handshaking",
        "signaling_handshake_req",
    )


@pytest.mark.parametrize("machine", [SIGNALING, MEDIA], ids=lambda m: m.name)
@pytest.mark.parametrize("state", list(ConnState), ids=lambda s: s.value)
def test_socket_closed_from_every_state(machine: StateMachine, state: ConnState) -> None:
    connection = _connection_in(machine, state)
    assert connection.fire(Trigger.SOCKET_CLOSED) is ConnState.CLOSED
    assert connection.closed


@pytest.mark.parametrize("machine", [SIGNALING, MEDIA], ids=lambda m: m.name)
def test_nothing_leaves_closed(machine: StateMachine) -> None:
    for trigger in Trigger:
        if machine.allows(ConnState.CLOSED, trigger):
            assert machine.next_state(ConnState.CLOSED, trigger) is ConnState.CLOSED


@pytest.mark.parametrize("machine", [SIGNALING, MEDIA], ids=lambda m: m.name)
def test_every_target_state_is_reachable(machine: StateMachine) -> None:
    reached = {machine.initial}
    frontier = [machine.initial]
    while frontier:
        state = frontier.pop()
        for (source, _), target in machine.transitions.items():
            if source is state and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert set(machine.transitions.values()) <= reached
    assert ConnState.CLOSED in reached


def test_media_machine_never_joins_or_closes_gracefully() -> None:
    # (a socket may still close in any state: SOCKET_CLOSED is in the table for all of them)
    targets = set(MEDIA.transitions.values())
    assert targets == {ConnState.HANDSHAKING, ConnState.STREAMING, ConnState.CLOSED}


@pytest.mark.parametrize("msg_type", sorted(MESSAGE_TYPES), ids=lambda t: t.name)
def test_every_message_maps_to_a_trigger(msg_type: MessageType) -> None:
    trigger = trigger_of(SAMPLES[msg_type])
    assert isinstance(trigger, Trigger)
    assert trigger is not Trigger.SOCKET_CLOSED


@pytest.mark.parametrize(
    ("message", "trigger"),
    [
        (SIGNALING_REQ, Trigger.SIGNALING_HANDSHAKE_REQ),
        (SIGNALING_OK, Trigger.SIGNALING_HANDSHAKE_OK),
        (SignalingHandshakeResp(status_code=3), Trigger.SIGNALING_HANDSHAKE_REJECTED),
        (DATA_REQ, Trigger.DATA_HANDSHAKE_REQ),
        (DATA_OK, Trigger.DATA_HANDSHAKE_OK),
        (DataHandshakeResp(status_code=16), Trigger.DATA_HANDSHAKE_REJECTED),
        (READY, Trigger.CLIENT_READY_ACK),
        (STREAM_ACTIVE, Trigger.STREAM_STATE_CHANGED),
        (StreamStateUpdate(state=2), Trigger.STREAM_STATE_CHANGED),
        (StreamStateUpdate(state=3), Trigger.STREAM_STATE_CHANGED),  # TERMINATING is not the end yet
        (STREAM_TERMINATED, Trigger.STREAM_TERMINATED),
        (CLOSE_REQ, Trigger.STREAM_CLOSE_REQ),
        (CLOSE_RESP, Trigger.STREAM_CLOSE_RESP),
        (PING, Trigger.KEEP_ALIVE),
        (PONG, Trigger.KEEP_ALIVE),
        (AUDIO, Trigger.MEDIA),
        (SAMPLES[MessageType.META_DATA_CHAT], Trigger.MEDIA),
        (SAMPLES[MessageType.SESSION_STATE_REQ], Trigger.SESSION_STATE),
        (SAMPLES[MessageType.STREAM_STATE_RESP], Trigger.STREAM_STATE_QUERY),
        (SAMPLES[MessageType.VIDEO_SUBSCRIPTION_RESP], Trigger.VIDEO_SUBSCRIPTION),
    ],
)
def test_trigger_of(message: Message, trigger: Trigger) -> None:
    assert trigger_of(message) is trigger


@pytest.mark.parametrize("machine", [SIGNALING, MEDIA], ids=lambda m: m.name)
def test_next_state_raises_for_pairs_outside_the_table(machine: StateMachine) -> None:
    for state in ConnState:
        for trigger in Trigger:
            if machine.allows(state, trigger):
                assert machine.next_state(state, trigger) is machine.transitions[(state, trigger)]
            else:
                with pytest.raises(IllegalTransition):
                    machine.next_state(state, trigger)
