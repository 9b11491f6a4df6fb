"""The fake Zoom's protocol behaviour: handshakes, keep-alives, interruptions, stream end.

This is where the simulator decides what Zoom would answer (docs/protocol.md §9.1). The
aiohttp layer (:mod:`.app`) feeds it decoded messages and socket closures; it answers through
:class:`~.peer.Peer` outboxes and schedules everything timed on the :class:`~.clock.Clock`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

import msgspec
from msgspec import UNSET

from connector.protocol import (
    ClientReadyAck,
    ConnState,
    DataHandshakeReq,
    DataHandshakeResp,
    Event,
    EventSubscription,
    EventType,
    FrameError,
    KeepAliveReq,
    KeepAliveResp,
    MediaServer,
    MediaType,
    Message,
    MessageType,
    Product,
    RtmsEventKind,
    SessionState,
    SessionStateReq,
    SessionStateResp,
    SessionStateUpdate,
    SignalingHandshakeReq,
    SignalingHandshakeResp,
    SignatureError,
    StatusCode,
    StopReason,
    StreamCloseReq,
    StreamCloseResp,
    StreamState,
    StreamStateResp,
    StreamStateUpdate,
    UnknownMessageType,
    VideoSubscriptionReq,
    VideoSubscriptionResp,
    verify_handshake_signature,
)

from .clock import Clock
from .config import SimulatorConfig
from .journal import Journal, Record
from .negotiation import Rejected, negotiate
from .peer import Peer, PeerKind
from .speech import MeetingScript
from .stream import SimStream, Timeline

__all__ = ["Engine"]

log = logging.getLogger("simulator.engine")

_MEDIA_MESSAGES = frozenset(range(MessageType.MEDIA_DATA_AUDIO, MessageType.MEDIA_DATA_CHAT + 1))

WebhookFn = Callable[[SimStream, RtmsEventKind, dict[str, Any]], None]


class Engine:
    """All streams of one simulator and the rules they follow."""

    def __init__(self, config: SimulatorConfig, clock: Clock, journal: Journal, webhook: WebhookFn) -> None:
        self.config = config
        self.clock = clock
        self.journal = journal
        self.streams: dict[str, SimStream] = {}
        self.timelines: dict[str, Timeline] = {}
        self._webhook = webhook

    # -- journal ---------------------------------------------------------------------------

    def note(self, stream_id: str | None, channel: str, direction: str, kind: str, **detail: Any) -> None:
        self.journal.add(
            Record(self.clock.now(), self.clock.epoch_ms(), stream_id, channel, direction, kind, detail)
        )

    def _record(self, peer: Peer, message: Message, direction: str) -> None:
        if message.msg_type in _MEDIA_MESSAGES:
            return  # counted by the timeline, not recorded frame by frame
        detail = msgspec.to_builtins(message)
        detail.pop("msg_type", None)
        self.note(peer.stream_id, peer.channel, direction, message.msg_type.name, **detail)

    def on_sent(self, peer: Peer, message: Message) -> None:
        self._record(peer, message, "out")

    def _status(self, meaning: StatusCode) -> int:
        return self.config.status_table.code(meaning)

    # -- streams ---------------------------------------------------------------------------

    def create_stream(
        self,
        *,
        product: Product,
        script: MeetingScript,
        server_urls: str,
        webhook_url: str | None = None,
        instance_id: str | None = None,
    ) -> SimStream:
        stream_id = secrets.token_hex(16)
        if instance_id is None:
            instance_id = secrets.token_urlsafe(16)[:22] + "=="
        stream = SimStream(
            stream_id=stream_id,
            instance_id=instance_id,
            product=product,
            app=self.config.app,
            script=script,
            server_urls=server_urls,
            webhook_url=webhook_url,
        )
        self.streams[stream_id] = stream
        self.timelines[stream_id] = Timeline(stream, self.clock, self.journal)
        self.note(
            stream_id, "control", "note", "stream_created", product=product.value, instance_id=instance_id
        )
        if self.config.connect_timeout:
            stream.window_timer = self.clock.call_later(
                self.config.connect_timeout, lambda: self._connect_timeout(stream)
            )
        return stream

    def _connect_timeout(self, stream: SimStream) -> None:
        if stream.signaling is None and stream.live:
            self.terminate(stream, StopReason.CONNECTION_TIMEOUT)

    # -- inbound ---------------------------------------------------------------------------

    def on_frame(self, peer: Peer, message: Message) -> None:
        """A decoded frame arrived on ``peer``."""
        if (
            isinstance(message, (SignalingHandshakeReq, DataHandshakeReq))
            and message.rtms_stream_id in self.streams
        ):
            peer.stream_id = message.rtms_stream_id  # so the journal files the handshake under its stream
        self._record(peer, message, "in")
        if not peer.machine.allows(message):
            self._illegal(peer, message)
            return
        handler = _HANDLERS.get(message.msg_type)
        if handler is None:
            # A type that only Zoom sends (e.g. a client sending MEDIA_DATA_AUDIO): tolerated.
            self.note(peer.stream_id, peer.channel, "note", "ignored", msg_type=int(message.msg_type))
            return
        peer.machine.handle(message)
        handler(self, peer, message)

    def on_bad_frame(self, peer: Peer, error: FrameError) -> None:
        """A frame that is not an RTMS message: answer as Zoom does, never with a traceback."""
        self.note(peer.stream_id, peer.channel, "in", "bad_frame", reason=error.reason)
        log.warning("%s: bad frame: %s", peer.channel, error.reason)
        if peer.machine.state is ConnState.CONNECTED:
            meaning = (
                StatusCode.INVALID_MESSAGE_TYPE
                if isinstance(error, UnknownMessageType)
                else StatusCode.INVALID_PAYLOAD
            )
            self._reject(peer, meaning, error.reason)

    def _illegal(self, peer: Peer, message: Message) -> None:
        state = peer.machine.state
        reason = f"{message.msg_type.name} is not expected on {peer.channel} in state {state.value}"
        self.note(peer.stream_id, peer.channel, "note", "unexpected", reason=reason)
        log.warning("%s", reason)
        if state is ConnState.CONNECTED:
            self._reject(peer, StatusCode.INVALID_MESSAGE_TYPE, reason)

    def _reject(self, peer: Peer, meaning: StatusCode, reason: str) -> None:
        """Fail a handshake with ``meaning`` and close the socket (§9.1 point 9)."""
        code = self._status(meaning)
        # Answer in the handshake's own message type, as Zoom does, even when the client's
        # first frame was not a handshake at all.
        response: Message
        if peer.kind is PeerKind.SIGNALING:
            response = SignalingHandshakeResp(status_code=code, reason=reason)
        else:
            response = DataHandshakeResp(status_code=code, reason=reason)
        if peer.machine.allows(response):
            peer.send(response)
        else:
            peer.send_unchecked(response)
        peer.close(1000)

    def on_closed(self, peer: Peer, *, clean: bool) -> None:
        """``peer``'s socket is gone (closed by the client, dropped, or closed by us)."""
        peer.cancel_timers()
        already_gone = peer.gone
        peer.gone = True
        stream = self.streams.get(peer.stream_id) if peer.stream_id else None
        self.note(peer.stream_id, peer.channel, "in", "socket_closed", clean=clean, by_simulator=already_gone)
        if stream is None:
            return
        if stream.signaling is peer:
            stream.signaling = None
        elif stream.media.get(int(peer.media_type)) is peer:
            del stream.media[int(peer.media_type)]
        else:
            return
        if already_gone or not stream.live:
            return
        cause = StopReason.AWAIT_RECONNECTION_TIMEOUT
        if peer.kind is PeerKind.SIGNALING:
            self.interrupt(stream, cause)
        else:
            self.media_interrupted(stream, peer, cause)

    # -- handlers --------------------------------------------------------------------------

    def _signaling_handshake(self, peer: Peer, msg: Message) -> None:
        assert isinstance(msg, SignalingHandshakeReq)
        stream = self._authenticate(peer, msg)
        if stream is None:
            return
        if stream.signaling is not None and not stream.signaling.gone:
            self._reject(peer, StatusCode.DUPLICATE_SIGNAL_REQUEST, "duplicate signaling connection")
            return
        stream.signaling = peer
        # Subscriptions and "who was announced" belong to a signaling connection: a client
        # that reconnects subscribes again (the SDK re-runs its whole join, §6.2) and must be
        # told again who is present, and gets no events it has not asked for on this socket.
        stream.subscribed.clear()
        stream.announced.clear()
        if stream.window_timer is not None:
            stream.window_timer.cancel()
            stream.window_timer = None
        if stream.state is StreamState.INTERRUPTED:
            stream.move(StreamState.INACTIVE if stream.media_started_at is None else StreamState.ACTIVE)
        base = stream.server_urls.rsplit("/signaling", 1)[0]
        urls = {
            kind.key: f"{base}/media/{kind.key}"
            for kind in MediaType.singles()
            if kind in stream.app.media_types
        }
        urls["all"] = f"{base}/media/all"
        peer.send(
            SignalingHandshakeResp(status_code=0, reason="", media_server=MediaServer(server_urls=urls))
        )
        self._start_keep_alive(peer)

    def _authenticate(self, peer: Peer, msg: SignalingHandshakeReq | DataHandshakeReq) -> SimStream | None:
        """The live stream a handshake names, if its signature is right; else reject (§2, §9.1)."""
        stream = self.streams.get(msg.rtms_stream_id)
        peer.stream_id = msg.rtms_stream_id if stream else None
        if stream is None or not stream.live:
            reason = f"unknown rtms_stream_id {msg.rtms_stream_id}"
            self._reject(peer, StatusCode.INVALID_RTMS_STREAM_ID, reason)
            return None
        if not self._signature_ok(stream, msg.signature, msg.meeting_uuid):
            self._reject(peer, StatusCode.INVALID_SIGNATURE, "invalid signature")
            return None
        return stream

    def _signature_ok(self, stream: SimStream, signature: str, instance_id: str) -> bool:
        try:
            verify_handshake_signature(
                signature,
                client_id=stream.app.client_id,
                client_secret=stream.app.client_secret,
                instance_id=stream.instance_id,
                stream_id=stream.stream_id,
            )
        except SignatureError:
            return False
        return instance_id == stream.instance_id

    def _data_handshake(self, peer: Peer, msg: Message) -> None:
        assert isinstance(msg, DataHandshakeReq)
        stream = self._authenticate(peer, msg)
        if stream is None:
            return
        if stream.signaling is None or stream.signaling.gone:
            self._reject(peer, StatusCode.INVALID_RTMS_STREAM_ID, "no signaling connection for this stream")
            return
        live = {t: p for t, p in stream.media.items() if not p.gone}
        if MediaType.ALL in live or (msg.media_type == MediaType.ALL and live):
            self._reject(
                peer, StatusCode.MEDIA_DATA_ALL_CONNECTION_EXIST, "a media connection for all types exists"
            )
            return
        if msg.media_type in live:
            self._reject(peer, StatusCode.DUPLICATE_MEDIA_DATA_CONNECTION, "duplicate media connection")
            return
        try:
            params = negotiate(msg.media_type, msg.media_params, stream.app.media_types)
        except Rejected as exc:
            self._reject(peer, exc.status, exc.reason)
            return
        peer.media_type = MediaType(msg.media_type)
        peer.params = params
        stream.media[msg.media_type] = peer
        peer.send(DataHandshakeResp(status_code=0, reason="", payload_encrypted=False, media_params=params))
        self._start_keep_alive(peer)
        if stream.media_started_at is not None and stream.live:
            self.timelines[stream.stream_id].start_audio(peer)

    def _client_ready(self, peer: Peer, msg: Message) -> None:
        assert isinstance(msg, ClientReadyAck)
        stream = self._stream_of(peer)
        if stream is None:
            return
        timeline = self.timelines[stream.stream_id]
        first = stream.media_started_at is None
        stream.move(StreamState.ACTIVE)
        now = self.clock.epoch_ms()
        if first:
            timeline.start()
            stream.timers.append(
                self.clock.call_at(
                    timeline.end_at(), lambda: self.terminate(stream, StopReason.MEETING_ENDED)
                )
            )
        timeline.send_event(Event(event_type=EventType.FIRST_PACKET_TIMESTAMP, timestamp=now))
        peer.send(
            SessionStateUpdate(rtms_session_id=stream.session_id, state=SessionState.STARTED, timestamp=now)
        )
        peer.send(StreamStateUpdate(rtms_stream_id=stream.stream_id, state=StreamState.ACTIVE, timestamp=now))
        for media_peer in stream.media.values():
            timeline.start_audio(media_peer)
        timeline.announce_present()

    def _subscription(self, peer: Peer, msg: Message) -> None:
        assert isinstance(msg, EventSubscription)
        stream = self._stream_of(peer)
        if stream is None:
            return
        for item in msg.events:
            if item.subscribe:
                stream.subscribed.add(item.event_type)
            else:
                stream.subscribed.discard(item.event_type)
        self.timelines[stream.stream_id].announce_present()

    def _keep_alive_resp(self, peer: Peer, msg: Message) -> None:
        assert isinstance(msg, KeepAliveResp)
        if msg.timestamp in peer.keep_alive_outstanding:
            peer.keep_alive_outstanding.clear()
            peer.keep_alive_unanswered = 0
        else:
            self.note(peer.stream_id, peer.channel, "note", "keep_alive_mismatch", timestamp=msg.timestamp)

    def _stream_state_req(self, peer: Peer, msg: Message) -> None:
        stream = self._stream_of(peer)
        if stream is not None:
            peer.send(
                StreamStateResp(
                    rtms_stream_id=stream.stream_id, state=stream.state, timestamp=self.clock.epoch_ms()
                )
            )

    def _session_state_req(self, peer: Peer, msg: Message) -> None:
        assert isinstance(msg, SessionStateReq)
        stream = self._stream_of(peer)
        if stream is None:
            return
        known = msg.rtms_session_id in (UNSET, stream.session_id)
        state = (
            SessionState.STARTED if known and stream.media_started_at is not None else SessionState.INACTIVE
        )
        peer.send(
            SessionStateResp(
                rtms_session_id=msg.rtms_session_id, state=state, timestamp=self.clock.epoch_ms()
            )
        )

    def _stream_close(self, peer: Peer, msg: Message) -> None:
        assert isinstance(msg, StreamCloseReq)
        stream = self._stream_of(peer)
        if stream is None:
            return
        peer.send(
            StreamCloseResp(
                rtms_stream_id=stream.stream_id, status_code=0, reason="OK", timestamp=self.clock.epoch_ms()
            )
        )
        self.terminate(stream, StopReason.RECEIVER_REQUEST_CLOSE)

    def _video_subscription(self, peer: Peer, msg: Message) -> None:
        assert isinstance(msg, VideoSubscriptionReq)
        stream = self._stream_of(peer)
        if stream is None:
            return
        known = any(p.user_id == msg.user_id for p in stream.script.participants)
        status, reason = (0, "OK") if known else (self._status(StatusCode.INVALID_PAYLOAD), "unknown user_id")
        peer.send(
            VideoSubscriptionResp(
                user_id=msg.user_id, status_code=status, reason=reason, timestamp=self.clock.epoch_ms()
            )
        )

    def _stream_of(self, peer: Peer) -> SimStream | None:
        return self.streams.get(peer.stream_id) if peer.stream_id else None

    # -- keep-alive (§4.11) ------------------------------------------------------------------

    def _start_keep_alive(self, peer: Peer) -> None:
        def tick() -> None:
            if peer.gone:
                return
            if peer.keep_alive_unanswered >= self.config.keep_alive_misses:
                self._keep_alive_timeout(peer)
                return
            peer.keep_alive_sequence += 1
            timestamp = self.clock.epoch_ms()
            peer.keep_alive_outstanding[timestamp] = peer.keep_alive_sequence
            peer.keep_alive_unanswered += 1
            peer.send(KeepAliveReq(timestamp=timestamp, sequence=peer.keep_alive_sequence))
            peer.keep_alive_timer = self.clock.call_later(self.config.keep_alive_interval, tick)

        peer.keep_alive_timer = self.clock.call_later(self.config.keep_alive_interval, tick)

    def _keep_alive_timeout(self, peer: Peer) -> None:
        stream = self._stream_of(peer)
        self.note(
            peer.stream_id, peer.channel, "note", "keep_alive_timeout", misses=peer.keep_alive_unanswered
        )
        peer.drop()
        if stream is None or not stream.live:
            return
        if peer is stream.signaling:
            stream.signaling = None
            self.interrupt(stream, StopReason.KEEP_ALIVE_TIMEOUT)
        else:
            stream.media.pop(int(peer.media_type), None)
            self.media_interrupted(stream, peer, StopReason.KEEP_ALIVE_TIMEOUT)

    # -- interruption and end ----------------------------------------------------------------

    def interrupt(self, stream: SimStream, cause: StopReason) -> None:
        """The signaling connection is lost: drop media, tell the app, wait for a reconnect."""
        for media_peer in list(stream.media.values()):
            media_peer.drop()
        stream.media.clear()
        stream.move(StreamState.INTERRUPTED)
        stream.interrupted_cause = cause
        self.note(stream.stream_id, "control", "note", "interrupted", cause=int(cause))
        self._webhook(stream, RtmsEventKind.INTERRUPTED, {})
        if stream.window_timer is not None:
            stream.window_timer.cancel()
        stream.window_timer = self.clock.call_later(
            self.config.signaling_reconnect_window, lambda: self._window_expired(stream, cause)
        )

    def media_interrupted(self, stream: SimStream, peer: Peer, cause: StopReason) -> None:
        """One media connection is lost: tell the app on signaling, wait for that socket."""
        timeline = self.timelines[stream.stream_id]
        timeline.send_event(
            Event(event_type=EventType.MEDIA_CONNECTION_INTERRUPTED, timestamp=self.clock.epoch_ms())
        )
        media_type = int(peer.media_type)

        def expired() -> None:
            if media_type not in stream.media and stream.live:
                self.terminate(stream, cause)

        stream.timers.append(self.clock.call_later(self.config.media_reconnect_window, expired))

    def _window_expired(self, stream: SimStream, cause: StopReason) -> None:
        if stream.state is StreamState.INTERRUPTED:
            self.terminate(stream, cause)

    def terminate(self, stream: SimStream, reason: StopReason | int) -> None:
        """End the stream: state updates on signaling, close frames, then ``*_rtms_stopped``."""
        if not stream.live:
            return
        stream.cancel_timers()
        stream.stop_reason = int(reason)
        now = self.clock.epoch_ms()
        signaling = stream.signaling
        if (
            signaling is not None
            and not signaling.gone
            and signaling.machine.state in (ConnState.JOINING, ConnState.STREAMING, ConnState.CLOSING)
        ):
            if stream.media_started_at is not None:
                signaling.send(
                    SessionStateUpdate(
                        rtms_session_id=stream.session_id,
                        state=SessionState.STOPPED,
                        reason=int(reason),
                        timestamp=now,
                    )
                )
            signaling.send(
                StreamStateUpdate(
                    rtms_stream_id=stream.stream_id,
                    state=StreamState.TERMINATED,
                    reason=int(reason),
                    timestamp=now,
                )
            )
        stream.move(StreamState.TERMINATED)
        for peer in stream.peers():
            peer.close(1000)
        self.note(stream.stream_id, "control", "note", "terminated", stop_reason=int(reason))
        self._webhook(stream, RtmsEventKind.STOPPED, {"stop_reason": int(reason)})

    def drop_connections(self, stream: SimStream) -> None:
        """Drop every socket of a stream without close frames (§9.1 point 8)."""
        for peer in stream.peers():
            peer.drop()


_HANDLERS: dict[MessageType, Callable[[Engine, Peer, Message], None]] = {
    MessageType.SIGNALING_HAND_SHAKE_REQ: Engine._signaling_handshake,
    MessageType.DATA_HAND_SHAKE_REQ: Engine._data_handshake,
    MessageType.CLIENT_READY_ACK: Engine._client_ready,
    MessageType.EVENT_SUBSCRIPTION: Engine._subscription,
    MessageType.KEEP_ALIVE_RESP: Engine._keep_alive_resp,
    MessageType.STREAM_STATE_REQ: Engine._stream_state_req,
    MessageType.SESSION_STATE_REQ: Engine._session_state_req,
    MessageType.STREAM_CLOSE_REQ: Engine._stream_close,
    MessageType.VIDEO_SUBSCRIPTION_REQ: Engine._video_subscription,
}
