"""The fake Zoom's protocol behaviour: handshakes, keep-alives, interruptions, stream end.

This is where the simulator decides what Zoom would answer (docs/protocol.md §9.1). The
aiohttp layer (:mod:`.app`) feeds it decoded messages and socket closures; it answers through
:class:`~.peer.Peer` outboxes and schedules everything timed on the :class:`~.clock.Clock`.

A scenario engine drives it from outside with the operations Zoom performs on its own:
:meth:`Engine.pause` / :meth:`Engine.resume`, :meth:`Engine.participant_joined` /
:meth:`Engine.participant_left`, and the faults :meth:`Engine.drop_signaling`,
:meth:`Engine.drop_media`, :meth:`Engine.failover` and :meth:`Engine.terminate`.
"""

from __future__ import annotations

import base64
import logging
import random
import uuid
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
from .config import App, AuthFailure, DuplicatePolicy, Loss, SimulatorConfig
from .journal import Journal, Record
from .negotiation import Rejected, negotiate
from .pacing import Pacing
from .peer import Peer, PeerKind
from .speech import MeetingScript
from .stream import SimStream, Timeline, with_region
from .video import default_share

__all__ = ["Engine"]

log = logging.getLogger("simulator.engine")

_MEDIA_MESSAGES = frozenset(range(MessageType.MEDIA_DATA_AUDIO, MessageType.MEDIA_DATA_CHAT + 1))
_TOLD = (ConnState.JOINING, ConnState.STREAMING)  # signaling states that hear state updates

WebhookFn = Callable[[SimStream, RtmsEventKind, dict[str, Any]], None]


class Engine:
    """All streams of one simulator and the rules they follow."""

    def __init__(self, config: SimulatorConfig, clock: Clock, journal: Journal, webhook: WebhookFn) -> None:
        self.config = config
        self.clock = clock
        self.journal = journal
        self.streams: dict[str, SimStream] = {}
        self.timelines: dict[str, Timeline] = {}
        self.pacing = Pacing(clock.now)  # how late media frames leave (GET /_sim/pacing)
        self._webhook = webhook
        # Every generated id comes from here, so a seeded simulator replays the same ids.
        self.rng: random.Random = (
            random.Random(config.seed) if config.seed is not None else random.SystemRandom()
        )

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

    def _lost(self, kind: PeerKind, loss: Loss) -> StopReason:
        """The stop reason if a connection lost this way is not back in time (config table)."""
        return self.config.lost_connection_stop_reasons[(kind, loss)]

    # -- ids ---------------------------------------------------------------------------------

    def new_stream_id(self) -> str:
        """An ``rtms_stream_id``: 32 lowercase hex digits, as Zoom's."""
        return f"{self.rng.getrandbits(128):032x}"

    def new_session_id(self) -> str:
        """An ``rtms_session_id`` (a UUID's 32 hex digits)."""
        return uuid.UUID(int=self.rng.getrandbits(128), version=4).hex

    def new_instance_id(self) -> str:
        """A meeting (webinar, session) UUID in Zoom's style: 16 bytes base64, 22 chars + ``==``."""
        return base64.b64encode(self.rng.getrandbits(128).to_bytes(16, "big")).decode("ascii")

    # -- streams ---------------------------------------------------------------------------

    def create_stream(
        self,
        *,
        product: Product,
        script: MeetingScript,
        server_urls: str,
        webhook_url: str | None = None,
        instance_id: str | None = None,
        stream_id: str | None = None,
        ends_with_script: bool = True,
        app: App | None = None,
    ) -> SimStream:
        """A new stream (no webhook is sent here) of ``app`` (default: the configured app).

        Ids not given come from :attr:`rng`. ``ends_with_script=False``: the meeting does not
        end when the script does; whoever drives the simulator ends it (:meth:`terminate`).
        The stream's screen share is :func:`~.video.default_share` of the script (none for
        Contact Center); assign ``stream.screen_share`` before the client is ready to change it.
        """
        if stream_id is None:
            stream_id = self.new_stream_id()
        elif stream_id in self.streams:
            raise ValueError(f"a stream {stream_id} exists already")
        if instance_id is None:
            instance_id = self.new_instance_id()
        # A Contact Center engagement is a voice call: nobody shares a screen there.
        share = None if product is Product.CONTACT_CENTER else default_share(script)
        stream = SimStream(
            stream_id=stream_id,
            instance_id=instance_id,
            product=product,
            app=app or self.config.app,
            script=script,
            server_urls=server_urls,
            webhook_url=webhook_url,
            session_id=self.new_session_id(),
            ends_with_script=ends_with_script,
            screen_share=share,
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
        # A close frame is a client that left on purpose; TCP gone without one is an abnormal
        # close (§5.3 reasons 15, 16). Which reason Zoom really sends is unconfirmed (config).
        cause = self._lost(peer.kind, Loss.CLIENT_CLOSED if clean else Loss.CLIENT_DROPPED)
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
            if self.config.duplicate_connection is DuplicatePolicy.REJECT:
                self._reject(peer, StatusCode.DUPLICATE_SIGNAL_REQUEST, "duplicate signaling connection")
                return
            # The newest connection wins: the old one and its media sockets are closed
            # gracefully; the stream itself goes on, so nothing is interrupted or announced.
            for media_peer in stream.media.values():
                self._kick(media_peer)
            stream.media.clear()
            stream.cancel_media_windows()
            self._kick(stream.signaling)
        stream.signaling = peer
        # Subscriptions and "who was announced" belong to a signaling connection: a client
        # that reconnects subscribes again (the SDK re-runs its whole join, §6.2) and must be
        # told again who is present, and gets no events it has not asked for on this socket.
        stream.subscribed.clear()
        stream.announced.clear()
        stream.video_user = None
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

    def _kick(self, old: Peer) -> None:
        """Close ``old`` with a close frame because a newer connection replaces it."""
        self.note(old.stream_id, old.channel, "note", "replaced", policy=DuplicatePolicy.REPLACE.value)
        old.close(1000)

    def _authenticate(self, peer: Peer, msg: SignalingHandshakeReq | DataHandshakeReq) -> SimStream | None:
        """The live stream a handshake names, if its signature is right; else reject (§2, §9.1)."""
        stream = self.streams.get(msg.rtms_stream_id)
        peer.stream_id = msg.rtms_stream_id if stream else None
        if stream is None or not stream.live:
            reason = f"unknown rtms_stream_id {msg.rtms_stream_id}"
            self._reject(peer, StatusCode.INVALID_RTMS_STREAM_ID, reason)
            return None
        if peer.region != stream.region:
            # After a failover the old server no longer knows the stream (§7.1).
            reason = f"rtms_stream_id {msg.rtms_stream_id} is not served here"
            self._reject(peer, StatusCode.INVALID_RTMS_STREAM_ID, reason)
            return None
        if not self._signature_ok(stream, msg.signature, msg.meeting_uuid):
            if self.config.auth_failure is AuthFailure.STOP:
                # Field report F1 (§10 item 2): no handshake response, the socket closes, and
                # the stream ends with AUTHENTICATION_FAILURE.
                self.note(
                    stream.stream_id, peer.channel, "note", "auth_failure", policy=AuthFailure.STOP.value
                )
                peer.close(1000)
                self.terminate(stream, StopReason.AUTHENTICATION_FAILURE)
            else:
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
        if self.config.duplicate_connection is DuplicatePolicy.REPLACE and msg.media_type in live:
            self._kick(live.pop(msg.media_type))
            del stream.media[msg.media_type]
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
        window = stream.media_windows.pop(msg.media_type, None)
        if window is not None:  # the lost socket of this type is back in time
            window.cancel()
        peer.send(DataHandshakeResp(status_code=0, reason="", payload_encrypted=False, media_params=params))
        self._start_keep_alive(peer)
        if stream.media_started_at is not None and stream.live:
            self.timelines[stream.stream_id].start_media(peer)

    def _client_ready(self, peer: Peer, msg: Message) -> None:
        assert isinstance(msg, ClientReadyAck)
        stream = self._stream_of(peer)
        if stream is None:
            return
        timeline = self.timelines[stream.stream_id]
        first = stream.media_started_at is None
        if stream.state is StreamState.INACTIVE:
            stream.move(StreamState.ACTIVE)
        now = self.clock.epoch_ms()
        if first:
            timeline.start()
            if stream.ends_with_script:
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
        if stream.paused:
            # Paused before this client was ready (or while it reconnected): tell it at once.
            if stream.state in (StreamState.ACTIVE, StreamState.RESUMED):
                stream.move(StreamState.PAUSED)
            self._tell_pause(stream)
        for media_peer in stream.media.values():
            timeline.start_media(media_peer)
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
        state = SessionState.INACTIVE
        if known and stream.media_started_at is not None:
            state = SessionState.PAUSED if stream.paused else SessionState.STARTED
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
        """VIDEO_SUBSCRIPTION_REQ (§4.16): one individual video at a time for a ``data_opt`` 4
        socket; a new subscribe replaces the previous one, ``subscribe: false`` ends it."""
        assert isinstance(msg, VideoSubscriptionReq)
        stream = self._stream_of(peer)
        if stream is None:
            return
        known = stream.knows(msg.user_id)
        status, reason = (0, "OK") if known else (self._status(StatusCode.INVALID_PAYLOAD), "unknown user_id")
        peer.send(
            VideoSubscriptionResp(
                user_id=msg.user_id, status_code=status, reason=reason, timestamp=self.clock.epoch_ms()
            )
        )
        if not known:
            return
        if msg.subscribe:
            stream.video_user = msg.user_id
        elif stream.video_user == msg.user_id:
            stream.video_user = None
        if stream.media_started_at is not None:
            self.timelines[stream.stream_id].wake_video()

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
            self.interrupt(stream, self._lost(PeerKind.SIGNALING, Loss.KEEP_ALIVE))
        else:
            stream.media.pop(int(peer.media_type), None)
            self.media_interrupted(stream, peer, self._lost(PeerKind.MEDIA, Loss.KEEP_ALIVE))

    # -- interruption and end ----------------------------------------------------------------

    def interrupt(
        self, stream: SimStream, cause: StopReason, *, notify: bool = True, close_frame: bool = False
    ) -> None:
        """The signaling connection is lost: media goes too, the app is told (``*_interrupted``
        unless ``notify`` is false), and the stream waits 60 s for a reconnect, else ``cause``."""
        for media_peer in list(stream.media.values()):
            if close_frame:
                media_peer.close(1000)
            else:
                media_peer.drop()
        stream.media.clear()
        stream.cancel_media_windows()  # the signaling window decides now
        stream.move(StreamState.INTERRUPTED)
        stream.interrupted_cause = cause
        self.note(stream.stream_id, "control", "note", "interrupted", cause=int(cause))
        if notify:
            self._webhook(stream, RtmsEventKind.INTERRUPTED, {})
        if stream.window_timer is not None:
            stream.window_timer.cancel()
        stream.window_timer = self.clock.call_later(
            self.config.signaling_reconnect_window, lambda: self._window_expired(stream, cause)
        )

    def media_interrupted(self, stream: SimStream, peer: Peer, cause: StopReason) -> None:
        """One media connection is lost: tell the app on signaling, wait 65 s for that socket."""
        timeline = self.timelines[stream.stream_id]
        timeline.send_event(
            Event(event_type=EventType.MEDIA_CONNECTION_INTERRUPTED, timestamp=self.clock.epoch_ms())
        )
        media_type = int(peer.media_type)

        def expired() -> None:
            stream.media_windows.pop(media_type, None)
            if media_type not in stream.media and stream.live:
                self.terminate(stream, cause)

        old = stream.media_windows.pop(media_type, None)
        if old is not None:
            old.cancel()
        stream.media_windows[media_type] = self.clock.call_later(self.config.media_reconnect_window, expired)

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

    # -- driven from outside: pause, participants ----------------------------------------------

    def pause(self, stream: SimStream) -> None:
        """The stream is paused (host, app owner or REST, §8.1): no media until :meth:`resume`.

        A client that is ready hears SESSION_STATE_UPDATE PAUSED (3) and STREAM_STATE_UPDATE
        PAUSED (5); keep-alives and events go on. A stream paused before its client is ready
        (or while it reconnects) is remembered and told when the client is ready. Pausing a
        stream that ended, or is paused, changes nothing and is journaled.
        """
        if not stream.live or stream.paused:
            self._ignored(stream, "pause")
            return
        stream.paused = True
        self.note(stream.stream_id, "control", "note", "paused", state=stream.state.name)
        if stream.state in (StreamState.ACTIVE, StreamState.RESUMED):
            stream.move(StreamState.PAUSED)
            self._tell_pause(stream)

    def resume(self, stream: SimStream) -> None:
        """A paused stream resumes: SESSION_STATE_UPDATE RESUMED (4), STREAM_STATE_UPDATE
        RESUMED (6), and media flows again on the stream's timeline."""
        if not stream.live or not stream.paused:
            self._ignored(stream, "resume")
            return
        stream.paused = False
        self.note(stream.stream_id, "control", "note", "resumed", state=stream.state.name)
        if stream.state is StreamState.PAUSED:
            stream.move(StreamState.RESUMED)
            self._tell_pause(stream)

    def _tell_pause(self, stream: SimStream) -> None:
        signaling = stream.signaling
        if signaling is None or signaling.gone or signaling.machine.state not in _TOLD:
            return
        session, state = (
            (SessionState.PAUSED, StreamState.PAUSED)
            if stream.paused
            else (SessionState.RESUMED, StreamState.RESUMED)
        )
        now = self.clock.epoch_ms()
        signaling.send(SessionStateUpdate(rtms_session_id=stream.session_id, state=session, timestamp=now))
        signaling.send(StreamStateUpdate(rtms_stream_id=stream.stream_id, state=state, timestamp=now))

    def _ignored(self, stream: SimStream, action: str) -> None:
        self.note(
            stream.stream_id,
            "control",
            "note",
            "ignored",
            action=action,
            state=stream.state.name,
            paused=stream.paused,
        )

    def participant_joined(self, stream: SimStream, user_id: int, user_name: str) -> None:
        """Someone joins the meeting (driven from outside the script): EVENT_UPDATE
        PARTICIPANT_JOIN (3) to a client subscribed to it, as for scripted joins."""
        if not stream.live:
            self._ignored(stream, "participant_joined")
            return
        stream.admit(user_id, user_name)
        self.note(
            stream.stream_id, "control", "note", "participant_joined", user_id=user_id, user_name=user_name
        )
        self.timelines[stream.stream_id].join(user_id)

    def participant_left(self, stream: SimStream, user_id: int) -> None:
        """Someone leaves: EVENT_UPDATE PARTICIPANT_LEAVE (4) if the client was told of the join."""
        if not stream.live:
            self._ignored(stream, "participant_left")
            return
        stream.dismiss(user_id)
        self.note(stream.stream_id, "control", "note", "participant_left", user_id=user_id)
        self.timelines[stream.stream_id].leave(user_id)

    # -- faults on Zoom's side -----------------------------------------------------------------

    def _fault(self, stream: SimStream, fault: str, **detail: Any) -> None:
        self.note(stream.stream_id, "control", "note", "fault", fault=fault, **detail)

    def drop_signaling(self, stream: SimStream, *, close_frame: bool) -> None:
        """Zoom loses the signaling connection (with or without a close frame); the media
        sockets go the same way. ``*_interrupted`` is sent and the stream waits 60 s for a
        reconnect, else it ends with SIGNAL_CONNECTION_INTERRUPTED (13)."""
        peer = stream.signaling
        if not stream.live or peer is None or peer.gone:
            self._ignored(stream, "drop_signaling")
            return
        self._fault(stream, "drop_signaling", close_frame=close_frame)
        if close_frame:
            peer.close(1000)
        else:
            peer.drop()
        stream.signaling = None
        self.interrupt(stream, self._lost(PeerKind.SIGNALING, Loss.ZOOM_FAULT), close_frame=close_frame)

    def drop_media(self, stream: SimStream, media_type: MediaType | None, *, close_frame: bool) -> None:
        """Zoom loses one media connection: the socket of ``media_type`` (or the one carrying
        it; ``None``: the first media socket). EVENT_UPDATE MEDIA_CONNECTION_INTERRUPTED (7) on
        signaling; a 65 s window, else DATA_CONNECTION_INTERRUPTED (14)."""
        peer = self._media_peer(stream, media_type)
        if not stream.live or peer is None:
            self._ignored(stream, "drop_media")
            return
        self._fault(stream, "drop_media", media_type=int(peer.media_type), close_frame=close_frame)
        if close_frame:
            peer.close(1000)
        else:
            peer.drop()
        del stream.media[int(peer.media_type)]
        self.media_interrupted(stream, peer, self._lost(PeerKind.MEDIA, Loss.ZOOM_FAULT))

    def _media_peer(self, stream: SimStream, media_type: MediaType | None) -> Peer | None:
        live = [p for p in stream.media.values() if not p.gone]
        if media_type is None:
            return live[0] if live else None
        exact = stream.media.get(int(media_type))
        if exact is not None and not exact.gone:
            return exact
        return next((p for p in live if p.carries(media_type)), None)

    def failover(self, stream: SimStream) -> str:
        """Zoom's RTMS server for the stream fails (§7.1, failover).

        Every socket drops without a close frame and the stream is INTERRUPTED, but no
        ``*_interrupted`` is sent: Zoom sends ``*_rtms_started`` again for the same
        ``rtms_stream_id`` with new ``server_urls`` (the next ``/r<N>`` server of this
        simulator; the old one no longer knows the stream). Nobody back on the new server in
        60 s ends the stream (19). Returns the new ``server_urls``.
        """
        if not stream.live:
            self._ignored(stream, "failover")
            return stream.server_urls
        old_urls = stream.server_urls
        stream.server_urls = with_region(old_urls, stream.region + 1)
        self._fault(stream, "failover", old_server_urls=old_urls, server_urls=stream.server_urls)
        for peer in stream.peers():
            peer.drop()
        stream.signaling = None
        self.interrupt(stream, self._lost(PeerKind.SIGNALING, Loss.FAILOVER), notify=False)
        self._webhook(stream, RtmsEventKind.STARTED, {})
        return stream.server_urls


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
