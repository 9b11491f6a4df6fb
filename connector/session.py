"""The asyncio layer of one stream: attempts, reconnects, the frame queue and the sinks.

A :class:`StreamSession` runs one stream for as long as this replica owns it. Each *attempt*
is a :class:`~connector.stream.StreamClient` over real WebSockets (the ``websockets``
library, :class:`~connector.websocket.RtmsWebSocket`): signaling, then one media socket per
type. Each message is handled as its socket parses it, without a task switch, and a media
frame goes to the sinks at once; the sinks are flushed once per ``flush_interval`` (see
:class:`~connector.backpressure.Drains`). A reader never waits for a disk or for Redis: while
extra sinks flush, frames wait in a bounded :class:`~connector.backpressure.FrameQueue`, and
when the sinks fall behind the oldest frames are dropped and counted.

Reconnects follow Zoom's failover guidance (docs/protocol.md §9.2):

* the signaling socket dropped, ``*.rtms_interrupted``, or a failover ``rtms_started`` with new
  ``server_urls`` → a new attempt (signaling and media);
* a media socket dropped, MEDIA_CONNECTION_INTERRUPTED (event 7) or stream state INTERRUPTED →
  that media socket alone is re-opened;
* the stream stopped with reason 10-19 or 24 (but 18) → a new attempt, which Zoom refuses
  if the stream is no longer valid;
* no message on the signaling socket for ``keepalive_silence`` seconds → a new attempt (§4.11).

Delays come from :class:`~connector.backoff.Backoff` (3, 6, 12, 24, 30 s with jitter, bounded,
reset once a join succeeds; each media socket has its own, reset once it is re-opened). One
session runs one attempt at a time, so one stream never has two reconnects under way: a
restart asked for while one is pending is folded into it. Every wait for behaviour goes
through the session's :class:`~connector.clock.Clock`.

The end is final when Zoom ends or refuses the stream, when the manager closes or stops it,
when the ownership lease is lost (the sockets close at once, without STREAM_CLOSE_REQ: the new
owner carries on), when the sinks cannot write, or when the backoff gives up.

Network and file errors never escape as exceptions: they end the stream with a clear
``detail`` and one log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import ssl
import time
from collections.abc import Callable, Coroutine
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from .backoff import Backoff
from .backpressure import Drains, FrameQueue
from .clock import Cancellable, Clock, SystemClock, sleep, wait_for
from .config import ConnectorConfig
from .errors import ConnectorError, SinkError
from .metrics import Metrics
from .ownership import Ownership
from .participants import Roster
from .protocol import (
    Connection,
    ConnState,
    FrameError,
    KeepAliveReq,
    MediaContent,
    MediaDataAudio,
    MediaType,
    RtmsEvent,
    StopReason,
    decode,
    encode,
)
from .protocol.codec import DECODE_ERRORS, decode_or_raise
from .sinks import StreamSinks
from .sinks.files import MixedPcmTap
from .stream import (
    RESTART_STOP_REASONS,
    SIGNALING_SOCKET,
    Action,
    AudioFormat,
    EndCause,
    Ended,
    Media,
    Open,
    Outcome,
    Ready,
    Reopen,
    Reopened,
    Send,
    StreamClient,
    VideoFormat,
    WriteEvent,
)
from .summary import StreamSummary
from .websocket import RtmsWebSocket

__all__ = ["USER_AGENT", "StreamSession"]

logger = logging.getLogger("connector.session")

USER_AGENT = "rtms-connector/0.2"
EVENT_KIND = "event"
_AUDIO = MediaType.AUDIO.key
_STREAMING = ConnState.STREAMING
_KEYS = {kind: kind.key for kind in MediaType.singles()}  # Media.kind → its sink and metric name
LEASE_LOST = "ownership lease lost to another replica"


class StreamSession:
    """Runs one stream until it ends. ``run()`` once; ``close()`` / ``stop()`` / ``restart()``
    from elsewhere (the manager, on webhooks and at shutdown).

    ``ownership`` is the stream's lease when several replicas share streams: losing it ends
    the stream here at once, without STREAM_CLOSE_REQ (the new owner carries on).
    """

    def __init__(
        self,
        config: ConnectorConfig,
        event: RtmsEvent,
        sinks: StreamSinks,
        *,
        ssl_context: ssl.SSLContext | None = None,
        clock: Clock | None = None,
        wall: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
        ownership: Ownership | None = None,
        rng: random.Random | None = None,
        drains: Drains | None = None,
    ) -> None:
        self.event = event
        self.sinks = sinks
        self.roster = Roster()
        self.client = StreamClient(config, event, roster=self.roster)
        self.summary: StreamSummary | None = None
        self.reconnects = 0
        self.lease_lost = False
        self._config = config
        self._ssl = ssl_context
        self._clock: Clock = clock or SystemClock()
        self._wall = wall
        self._metrics = metrics or Metrics()
        self._ownership = ownership
        self._rng = rng or random.Random()
        self._backoff = self._new_backoff()
        self._media_backoffs: dict[str, Backoff] = {}  # per media socket, of the current attempt
        self.queue = FrameQueue(
            config.queue_size, on_drop=self._metrics.frames_dropped, on_ready=self._drain_soon
        )
        # The manager's, shared by its streams. Flushes go by real time, also under a manual
        # clock: they are about handing bytes to the OS, not about the stream's timeline.
        self._drains = drains or Drains(SystemClock(), config.flush_interval)
        self._drain_due = False  # a drain is scheduled
        self._flush_due = False  # a flush is scheduled (with a flush interval)
        self._unflushed = False  # the sinks got items since their last flush
        self._flushed_last = False  # the sinks had their last flush: they are being closed
        self._flushing: asyncio.Task[None] | None = None  # the extra sinks' flush
        # Items wait in the queue: the extra sinks flush, items wait already, the queue is
        # closed, or a sink failed. Kept as one flag: it is read for every frame.
        self._queueing = False
        self._sockets: dict[str, RtmsWebSocket] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}  # socket readers of the current attempt
        self._side_tasks: set[asyncio.Task[None]] = set()  # media re-opens
        self._closes: set[asyncio.Task[None]] = set()  # sockets closed after an internal error
        self._joined = asyncio.Event()
        self._ended = asyncio.Event()
        self._wake = asyncio.Event()  # interrupts a backoff wait (close, stop, lease lost)
        self._done = asyncio.Event()
        self._closing = False
        self._over = False  # no further attempt will start: the outcome is being settled
        self._final: Outcome | None = None  # the stream's end, when it is not the attempt's
        self._pending_restart: str | None = None  # a restart asked for after the attempt ended
        self._silence: Cancellable | None = None
        self._sink_failed = False

    def _new_backoff(self) -> Backoff:
        return Backoff(
            max_attempts=self._config.reconnect_attempts,
            deadline=self._config.reconnect_deadline,
            rng=self._rng,
        )

    @property
    def stream_id(self) -> str:
        return self.event.rtms_stream_id

    @property
    def ready(self) -> bool:
        return self.client.ready

    # --- the stream's life ---------------------------------------------------------------

    async def run(self) -> StreamSummary:
        """Attempts until the stream ends for good; tear down, write ``stream.json``; never
        raises for network or file errors."""
        started_ms = int(self._wall() * 1000)
        lost_watch = self._watch_lease()
        outcome: Outcome | None = None
        try:
            outcome = await self._attempts()
        finally:
            # Also on cancellation: nothing written may be lost.
            self._over = True
            if lost_watch is not None:
                lost_watch.cancel()
            self.client.fail("session cancelled")  # no-op when the attempt already ended
            await self._teardown()
            self.queue.close()
            self._queueing = True  # nothing more reaches the sinks but what the queue holds
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain_rest()
            final = self._final or self.client.outcome or outcome
            assert final is not None
            self.summary = await self._finalize(final, started_ms)
            self._done.set()
        return self.summary

    async def _attempts(self) -> Outcome:
        """Run attempts until one ends for good; the stream's outcome."""
        while True:
            outcome = await self._attempt()
            retry = self._retry_cause(outcome)
            if retry is None:
                return outcome
            if (stop := self._stopper(outcome)) is not None:
                return stop
            delay = self._backoff.next_delay(self._clock.now())
            if delay is None:
                tries = self._backoff.attempts
                if tries:  # else reconnects are switched off (reconnect_attempts 0)
                    logger.error(
                        "stream %s: giving up after %d reconnect attempt(s): %s",
                        self.stream_id,
                        tries,
                        outcome.detail,
                    )
                    detail = f"gave up after {tries} reconnect attempt(s): {outcome.detail}"
                    outcome = dataclasses.replace(outcome, detail=detail)
                self._final = dataclasses.replace(outcome, retry=None)
                return self._final
            logger.warning(
                "stream %s: reconnecting in %.1f s (%s): %s", self.stream_id, delay, retry, outcome.detail
            )
            self._wake.clear()
            await wait_for(self._clock, self._wake, delay)  # woken early only to end the stream
            if (stop := self._stopper(outcome)) is not None:
                return stop
            self.reconnects += 1
            self._metrics.reconnect(retry)
            self._begin_attempt()

    def _retry_cause(self, outcome: Outcome) -> str | None:
        """Why a new attempt should follow ``outcome``, or ``None``."""
        if self._pending_restart is not None:
            cause, self._pending_restart = self._pending_restart, None
            return cause
        return outcome.retry

    def _stopper(self, outcome: Outcome) -> Outcome | None:
        """The stream's end when something forbids a new attempt after ``outcome``, else
        ``None``. Sets :attr:`_final`, so the summary tells why it did not reconnect."""
        if self._final is None:
            if self.lease_lost:
                self._final = Outcome(EndCause.FAILED, LEASE_LOST)
            elif self._closing:
                self._final = Outcome(EndCause.CLOSED, f"closed while reconnecting ({outcome.detail})")
        return self._final

    @property
    def _may_continue(self) -> bool:
        """A new attempt may still start (nothing is ending the stream)."""
        return not (self._over or self._closing or self.lease_lost or self._final is not None)

    def _begin_attempt(self) -> None:
        self.client = StreamClient(self._config, self.event, roster=self.roster)
        self._joined = asyncio.Event()
        self._ended = asyncio.Event()
        self._media_backoffs.clear()

    async def _attempt(self) -> Outcome:
        """One signaling connection and its media sockets, until the attempt ends."""
        client = self.client
        self._apply(client.start())
        if not await wait_for(self._clock, self._joined, self._config.join_timeout):
            detail = f"join did not complete in {self._config.join_timeout:g} s"
            self._end_attempt(client, detail, retry="connect_failed")
        await self._ended.wait()
        await self._teardown()
        outcome = client.outcome
        assert outcome is not None
        return outcome

    def _end_attempt(self, client: StreamClient, detail: str, *, retry: str | None = None) -> None:
        """End ``client``'s attempt for a reason found here (no-op if it is not the current
        attempt or it already ended)."""
        if client is self.client and client.fail(detail, retry=retry):
            self._attempt_ended()

    def _attempt_ended(self) -> None:
        self._joined.set()
        self._ended.set()
        self._cancel_silence()

    def _watch_lease(self) -> asyncio.Task[None] | None:
        if self._ownership is None:
            return None
        ownership = self._ownership

        async def watch() -> None:
            await ownership.lost.wait()
            if self._over:
                return
            self.lease_lost = True
            logger.error(
                "stream %s: lease lost; closing its sockets (another replica owns it)", self.stream_id
            )
            self._metrics.lease_lost()
            # No STREAM_CLOSE_REQ: the stream goes on with its new owner.
            self._end_attempt(self.client, LEASE_LOST)
            self._wake.set()

        return asyncio.create_task(watch(), name=f"rtms {self.stream_id} lease")

    # --- what the manager asks -----------------------------------------------------------

    async def close(self) -> StreamSummary:
        """Graceful close (§4.14): STREAM_CLOSE_REQ, then wait — all within ``close_timeout``
        — for STREAM_CLOSE_RESP and the STREAM_STATE_UPDATE(4) that follows; then tear down.
        Between attempts nothing is sent: the pending reconnect is called off."""
        if not self._over and not self._closing:
            self._closing = True
            self._wake.set()
            client = self.client
            if client.outcome is None:
                self._apply(client.close())
                timeout = self._config.close_timeout
                if not await wait_for(self._clock, self._ended, timeout):
                    self._apply(client.close_timed_out(timeout))
        return await self.wait()

    async def stop(self, stop_reason: int | None) -> StreamSummary | None:
        """Zoom said the stream stopped (``*.rtms_stopped``). Reasons 10-19 and 24 (not 18)
        restart it while it is valid (§9.2) and this returns ``None`` at once (a reconnect
        already under way counts as that restart); any other reason, or a stream that is
        ending anyway, ends it, and this returns its summary."""
        if stop_reason in RESTART_STOP_REASONS and self._may_continue:
            outcome = self.client.outcome
            if outcome is None:
                if self.client.stopped(stop_reason):
                    self._attempt_ended()
            elif outcome.retry is None and self._pending_restart is None:
                self._pending_restart = "stopped_restart"
            return None
        if not self._over:
            if self.client.stopped(stop_reason):
                self._final = self.client.outcome
                self._attempt_ended()
            elif self._final is None:
                # The attempt had ended already. Unless Zoom told its own reason (stream state
                # update), the stop is the better account of the end than a dropped socket.
                last = self.client.outcome
                if last is None or last.retry is not None or last.stop_reason is None:
                    self._final = _stopped(stop_reason)
            self._wake.set()
        return await self.wait()

    async def restart(self, cause: str, event: RtmsEvent | None = None) -> bool:
        """A webhook asks for a full reconnect: ``*.rtms_interrupted`` (``cause`` "interrupted")
        or a failover ``rtms_started`` with new ``server_urls`` (``event``, cause "failover").
        Coalesced: while a reconnect is already pending no other is added, and the next
        attempt uses the newest ``event``. False if the stream is ending (closed, stopped,
        lease lost, or Zoom ended or refused it)."""
        if not self._may_continue:
            return False
        outcome = self.client.outcome
        pending = outcome is not None and (outcome.retry is not None or self._pending_restart is not None)
        if outcome is not None and not pending and outcome.cause is not EndCause.FAILED:
            return False  # Zoom ended or refused the stream: nothing to reconnect to
        if event is not None:
            self.event = event
            logger.info("stream %s: failover: the next attempt goes to the new server_urls", self.stream_id)
        if outcome is None:
            self._end_attempt(self.client, f"reconnect asked for ({cause})", retry=cause)
        elif not pending:
            self._pending_restart = cause
        return True

    async def wait(self) -> StreamSummary:
        """The summary, once the stream ended and its output is finalized."""
        await self._done.wait()
        assert self.summary is not None
        return self.summary

    # --- actions -------------------------------------------------------------------------

    def _apply(self, actions: list[Action]) -> None:
        """Carry out the actions of the current attempt's client, at once (nothing here
        waits: messages are written without waiting, sockets open in tasks). Once that
        attempt has ended (a sink failed, the lease was lost meanwhile) nothing more is sent
        or opened."""
        for action in actions:
            if type(action) is Media:  # per media frame: first, and cheap
                key = _KEYS[action.kind]
                self._metrics.frame_in(key)
                self._sink(key, action)
            elif isinstance(action, Send):
                if self.client.outcome is None:
                    self._send(action)
            elif isinstance(action, WriteEvent):
                self._metrics.frame_in(EVENT_KIND)
                self._sink(EVENT_KIND, action.event)
            elif isinstance(action, AudioFormat | VideoFormat):
                self._configure(action)
            elif isinstance(action, Open):
                if self.client.outcome is None:
                    self._spawn(action.socket, action.url)
            elif isinstance(action, Reopen):
                self._reopen_later(action)
            elif isinstance(action, Reopened):
                self._media_backoffs.pop(action.socket, None)
            elif isinstance(action, Ready):
                if self.client.outcome is None:
                    logger.info("stream %s: joined (%s)", self.stream_id, ", ".join(self._sockets))
                    self._backoff.reset()
                    self._joined.set()
            elif isinstance(action, Ended):
                self._attempt_ended()

    def _configure(self, fmt: AudioFormat | VideoFormat) -> None:
        """Tell the sinks a negotiated format (again after each re-open or reconnect)."""
        try:
            if isinstance(fmt, AudioFormat):
                self.sinks.audio_format(fmt)
            else:
                self.sinks.video_format(fmt)
        except SinkError as exc:
            self._sink_error(exc)

    def _sink_error(self, exc: SinkError) -> None:
        """The stream's record cannot be written: end the stream (no reconnect can help).
        Once the stream is ending anyway, the error is only logged."""
        if self._over or self._sink_failed:
            logger.error("stream %s: %s", self.stream_id, exc)
            return
        logger.error("stream %s: output cannot be written, ending the stream: %s", self.stream_id, exc)
        self._sink_failed = True
        self._queueing = True
        detail = f"output cannot be written: {exc}"
        client = self.client
        if client.fail(detail):
            self._attempt_ended()
            self._final = client.outcome
        else:  # between attempts: the pending one must not start
            self._final = Outcome(EndCause.FAILED, detail)
        self._wake.set()

    def _send(self, action: Send) -> None:
        ws = self._sockets.get(action.socket)
        if ws is None:
            return
        # Text frames of compact JSON, as Zoom's raw-WebSocket samples send (§1.1). A send
        # racing with a close is lost; the socket's reader reports the close.
        ws.send_now(encode(action.message).decode())

    def _spawn(self, name: str, url: str) -> None:
        self._tasks[name] = asyncio.create_task(self._socket(name, url), name=f"rtms {self.stream_id} {name}")

    def _reopen_later(self, action: Reopen) -> None:
        socket = action.socket
        backoff = self._media_backoffs.get(socket)
        if backoff is None:
            backoff = self._media_backoffs[socket] = self._new_backoff()
        delay = backoff.next_delay(self._clock.now())
        client = self.client
        if delay is None:
            logger.error("stream %s: %s socket lost; no more re-open attempts", self.stream_id, socket)
            self._end_attempt(client, f"{socket} socket could not be re-opened")
            return
        logger.warning("stream %s: re-opening the %s socket in %.1f s", self.stream_id, socket, delay)

        async def later() -> None:
            await sleep(self._clock, delay)
            if client is not self.client:
                return
            actions = client.reopen(socket)
            if actions:  # not if it came back meanwhile, or the attempt ended
                self.reconnects += 1
                self._metrics.reconnect(action.cause)
            self._apply(actions)

        self._side(later())

    def _side(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` as a task of the current attempt (cancelled at its teardown)."""
        task = asyncio.create_task(coro)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    # --- the signaling watchdog (§4.11: no KEEP_ALIVE_REQ for 65 s → handshake again) -----

    def _heard_signaling(self) -> None:
        self._cancel_silence()
        client = self.client
        silence = self._config.keepalive_silence

        def expired() -> None:
            if client is self.client and client.outcome is None:
                logger.warning("stream %s: nothing on signaling for %g s", self.stream_id, silence)
                detail = f"no message on signaling for {silence:g} s"
                self._end_attempt(client, detail, retry="keepalive_silence")

        self._silence = self._clock.call_later(silence, expired)

    def _cancel_silence(self) -> None:
        if self._silence is not None:
            self._silence.cancel()
            self._silence = None

    # --- sockets -------------------------------------------------------------------------

    async def _socket(self, name: str, url: str) -> None:
        """Connect, handshake and read one socket until it closes; report the close.

        Messages are handled as the socket parses them (:class:`_Reader`), not by this task:
        it only waits for the close."""
        client = self.client
        try:
            ws = await connect(
                url,
                ssl=self._ssl_for(url),
                max_size=self._config.max_message_size,
                open_timeout=self._config.connect_timeout,
                close_timeout=self._config.close_timeout,
                compression=None,  # Zoom's SDK does not negotiate it; saves CPU per frame
                ping_interval=30,  # WebSocket pings as the official SDK sends them (§1.1)
                ping_timeout=60,
                proxy=None,  # explicit configuration only (a proxy option is future work)
                user_agent_header=USER_AGENT,
                create_connection=RtmsWebSocket,
            )
        except (OSError, TimeoutError, WebSocketException, ConnectorError) as exc:
            detail = f"{name} socket cannot connect to {url}: {_explain(exc, self._config.connect_timeout)}"
            logger.error("stream %s: %s", self.stream_id, detail)
            self._apply(client.closed(name, detail, clean=False))
            return
        assert isinstance(ws, RtmsWebSocket)
        if client.outcome is not None or client is not self.client:  # ended while connecting
            await ws.close()
            return
        self._sockets[name] = ws
        reader = _Reader(self, client, name, ws)
        try:
            try:
                self._apply(client.opened(name))
                if reader.signaling:
                    self._heard_signaling()
                ws.deliver_to(reader)
            except Exception as exc:  # a bug: as in the reader (it is closing the socket)
                reader.failed = True
                self._internal_error(client, name, ws, exc)
            await ws.wait_closed()
        finally:
            if self._sockets.get(name) is ws:
                del self._sockets[name]
        if reader.failed:  # an internal error ended the attempt and closed the socket
            return
        closed = ws.close_exc
        clean = closed.rcvd is not None
        how = f"code {closed.rcvd.code}" if closed.rcvd is not None else "no close frame"
        detail = f"{name} socket closed by Zoom ({how})"
        if client.outcome is None:
            log = logger.info if clean else logger.error
            log("stream %s: %s", self.stream_id, detail)
        self._apply(client.closed(name, detail, clean=clean))

    def _internal_error(self, client: StreamClient, name: str, ws: RtmsWebSocket, exc: Exception) -> None:
        """A bug while handling a message: log it with its traceback, but end the stream
        cleanly (the socket closes with 1011)."""
        logger.exception("stream %s: internal error on %s socket", self.stream_id, name)
        self._end_attempt(client, f"internal error on {name} socket: {exc!r}")
        task = asyncio.create_task(ws.close(1011))
        self._closes.add(task)  # not cancelled at teardown: the close frame goes out
        task.add_done_callback(self._closes.discard)

    def _ssl_for(self, url: str) -> ssl.SSLContext | None:
        if not url.lower().startswith("wss://"):
            return None
        if self._ssl is None:
            self._ssl = self._config.ssl_context()
        return self._ssl

    async def _teardown(self) -> None:
        """Close every socket of the current attempt with 1000 (§3), let the readers drain
        frames already received, then stop whatever is left (connections still being opened,
        a reader stuck past ``close_timeout``)."""
        self._cancel_silence()
        for task in list(self._side_tasks):
            task.cancel()
        sockets = list(self._sockets.values())
        await asyncio.gather(*(ws.close(1000) for ws in sockets), return_exceptions=True)
        tasks = dict(self._tasks)
        self._tasks.clear()
        if tasks:
            _, stuck = await asyncio.wait(tasks.values(), timeout=self._config.close_timeout)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
        self._sockets.clear()

    # --- sinks ---------------------------------------------------------------------------

    def _sink(self, kind: str, item: object) -> None:
        """One item for the sinks: handed to them at once, unless items wait in the queue
        because the extra sinks are flushing; then it waits too, behind them (the queue
        drops the oldest when full). After a sink failure items are dropped."""
        if self._queueing:
            if not self._sink_failed:
                self.queue.put(kind, item)  # ignored once the queue is closed: the stream is over
            return
        try:
            if kind == _AUDIO:  # most items: skip the dispatch
                self.sinks.audio(item.content)  # type: ignore[attr-defined]
            else:
                self._deliver_one(kind, item)
        except Exception as exc:  # SinkError, or a bug in a sink (see _sink_raised)
            self._sink_raised(exc)
            return
        self._unflushed = True
        if not self._flush_due:  # else a flush is scheduled already (see _sunk)
            self._sunk()

    def _audio_tapped(self, tap: MixedPcmTap, content: MediaContent) -> None:
        """One audio frame by a reader's short path (see :class:`_Reader`): what
        :meth:`_apply` and :meth:`_sink` do with it on the full path (the frame reaches the
        sinks here, as it does in :meth:`StreamSinks.audio` on the full path)."""
        self._metrics.frame_in(_AUDIO)
        try:
            tap.write(content.data)
        except Exception as exc:  # SinkError, or a bug in a sink (see _sink_raised)
            self._sink_raised(exc)
            return
        self._unflushed = True
        if not self._flush_due:
            self._sunk()

    def _sunk(self) -> None:
        """Items reached the sinks: flush them now, or once the flush interval has passed
        since the last flush (see :class:`~connector.backpressure.Drains`)."""
        self._unflushed = True
        if not self._drains.flush_interval:
            self._flush()
        elif not self._flush_due:
            self._flush_due = True
            self._drains.flush_later(self._flush)

    def _drain_soon(self) -> None:
        """The queue has items again: drain it on the loop's next turn (frames that arrive
        meanwhile go in the same batch). Not while the extra sinks flush: the queue holds
        what arrives meanwhile (bounded), and is drained once they are done."""
        if not self._drain_due and self._flushing is None:
            self._drain_due = True
            self._drains.schedule(self._drain)

    def _drain(self) -> None:
        """Hand what the queue holds to the sinks, as one batch, and have them flushed (see
        :meth:`_sunk`). After a sink failure the rest is dropped (the stream is ending)."""
        self._drain_due = False
        if self._flushing is not None:
            return
        batch = self.queue.take()
        self._queueing = self.queue.closed or self._sink_failed  # the queue is empty again
        if not batch or self._sink_failed:
            return
        try:
            self._deliver(batch)
        except Exception as exc:  # SinkError, or a bug in a sink (see _sink_raised)
            self._sink_raised(exc)
            return
        self._sunk()

    def _flush(self) -> None:
        """Flush the sinks: the file sink at once; extra sinks (their flush may wait for a
        network) in a task, during which the queue fills again, bounded."""
        self._flush_due = False
        if not self._unflushed or self._flushing is not None or self._sink_failed or self._flushed_last:
            return
        self._unflushed = False
        sinks = self.sinks
        try:
            sinks.flush_files()
        except Exception as exc:  # SinkError, or a bug in a sink (see _sink_raised)
            self._sink_raised(exc)
            return
        if sinks.extra:
            self._flushing = asyncio.create_task(self._flush_extras())
            self._queueing = True

    async def _flush_extras(self) -> None:
        try:
            await self.sinks.flush_extras()
        except Exception as exc:  # SinkError, or a bug in a sink (see _sink_raised)
            self._sink_raised(exc)
        finally:
            self._flushing = None
            if self.queue.depth:
                self._drain_soon()
            else:
                self._queueing = self.queue.closed or self._sink_failed

    def _sink_raised(self, exc: Exception) -> None:
        """A sink raised ``exc`` (called in the ``except`` clause): a :class:`SinkError` means
        the stream's record cannot be written (:meth:`_sink_error`); anything else is a bug in
        a sink, logged with its traceback, and ends the stream the same clean way."""
        if isinstance(exc, SinkError):
            self._sink_error(exc)
            return
        logger.exception("stream %s: a sink failed", self.stream_id)
        self._sink_error(SinkError(f"a sink failed: {exc!r}", path=str(self.sinks.directory)))

    async def _drain_rest(self) -> None:
        """Once the queue is closed: deliver and flush everything still in it, at once. A
        drain or flush still scheduled finds nothing left to do."""
        while True:
            if self._flushing is not None:
                await asyncio.shield(self._flushing)
            self._drain()
            self._flush()
            if self._flushing is None and not self.queue.depth:
                break
        self._flushed_last = True

    def _deliver(self, batch: list[tuple[str, object]]) -> None:
        for kind, item in batch:
            self._deliver_one(kind, item)

    def _deliver_one(self, kind: str, item: object) -> None:
        sinks = self.sinks
        if kind == EVENT_KIND:
            sinks.event(item)  # type: ignore[arg-type]
            return
        assert type(item) is Media
        media = item.kind
        if media is MediaType.AUDIO:
            sinks.audio(item.content)  # type: ignore[arg-type]
        elif media is MediaType.TRANSCRIPT:
            sinks.transcript(item.content, item.user_name)  # type: ignore[arg-type]
        elif media is MediaType.CHAT:
            sinks.chat(item.content)  # type: ignore[arg-type]
        else:
            sinks.video(media, item.content)  # type: ignore[arg-type]

    async def _finalize(self, outcome: Outcome, started_ms: int) -> StreamSummary:
        revoked = outcome.stop_reason == StopReason.STREAM_REVOKED
        if revoked:
            # STREAM_REVOKED: the assets must be deleted at once (§5.3); the file sink logs it.
            try:
                await self.sinks.revoke()
            except SinkError as exc:
                logger.error("stream %s: STREAM_REVOKED but not deleted: %s", self.stream_id, exc)
        else:
            await self.sinks.close()
        if outcome.stop_reason is not None:
            self._metrics.stop_reason(outcome.stop_reason)
        self._metrics.queue_depth(self.queue.high_water)
        summary = StreamSummary.build(
            event=self.event,
            outcome=outcome,
            sinks=self.sinks,
            roster=self.roster,
            started_ms=started_ms,
            ended_ms=int(self._wall() * 1000),
            dropped=dict(self.queue.dropped),
            reconnects=self.reconnects,
            fence=None if self._ownership is None else self._ownership.token,
        )
        if not revoked:
            try:
                self.sinks.write_summary(summary.as_json())
            except SinkError as exc:
                logger.error("stream %s: %s", self.stream_id, exc)
        return summary


class _Reader:
    """Handles each message of one socket as it is parsed (see :class:`RtmsWebSocket`).

    After an internal error the socket is closing and its remaining messages are ignored.

    Audio frames of the mixed L16 stream, on a streaming media socket of a stream whose only
    sink is its files, take a short path once the first of them went the full way: the
    socket's connection state, the session's "items wait in the queue" flag and the file
    sink's :class:`~connector.sinks.files.MixedPcmTap` are checked, and the frame is counted
    and its PCM appended, as the full path (the client's :meth:`~StreamClient.received`, the
    session's dispatch and its sinks) would do, touching a few objects instead of about
    fifteen (docs/performance.md, "Where the connector's extra goes"). Anything else, or any
    check failing, takes the full path.
    """

    __slots__ = ("audio_conn", "client", "failed", "name", "session", "signaling", "tap", "tap_tries", "ws")

    def __init__(self, session: StreamSession, client: StreamClient, name: str, ws: RtmsWebSocket) -> None:
        self.session = session
        self.client = client
        self.name = name
        self.ws = ws
        self.signaling = name == SIGNALING_SOCKET
        self.failed = False
        self.audio_conn: Connection | None = None
        self.tap: MixedPcmTap | None = None
        self.tap_tries = 0  # audio frames the short path was looked for on

    def __call__(self, frame: str | bytes) -> None:
        if self.failed:
            return
        session = self.session
        try:
            try:
                message = decode_or_raise(frame)
            except DECODE_ERRORS:
                try:
                    message = decode(frame)  # raises the error that explains it
                except FrameError as exc:
                    logger.warning(
                        "stream %s: %s socket: undecodable frame: %s", session.stream_id, self.name, exc
                    )
                    return
            if type(message) is MediaDataAudio and (tap := self.tap) is not None:
                conn = self.audio_conn
                if conn.state is _STREAMING and not session._queueing:  # type: ignore[union-attr]
                    content = message.content
                    if tap.accepts(content.data):
                        session._audio_tapped(tap, content)
                        return
            if self.signaling:
                session._heard_signaling()
            if type(message) is not KeepAliveReq:  # every media frame takes this branch
                session._apply(self.client.received(self.name, message))
                if type(message) is MediaDataAudio and self.tap_tries < _TAP_TRIES:
                    self._find_tap()
                return
            # Real time, not the session clock: this measures the work done here.
            received_at = time.perf_counter()
            actions = self.client.received(self.name, message)
            session._apply(actions)
            if actions:
                # From the request being read to the response being written (§4.11).
                session._metrics.keepalive_rtt(self.name, time.perf_counter() - received_at)
        except Exception as exc:
            self.failed = True
            session._internal_error(self.client, self.name, self.ws, exc)

    def _find_tap(self) -> None:
        """After an audio frame went the full way: the short path, if this socket and stream
        allow it (looked for on the first :data:`_TAP_TRIES` audio frames only: a stream with
        extra sinks or other audio never has one, and looking costs)."""
        self.tap_tries += 1
        conn = self.client.media_connection(self.name, MediaType.AUDIO)
        tap = self.session.sinks.mixed_pcm_tap()
        if conn is not None and tap is not None:
            self.audio_conn, self.tap = conn, tap
            self.tap_tries = _TAP_TRIES  # found: not looked for again


_TAP_TRIES = 50
"""Audio frames of a socket on which its short path is looked for (see :class:`_Reader`)."""


def _stopped(stop_reason: int | None) -> Outcome:
    return Outcome(EndCause.STOPPED, "rtms_stopped webhook received", stop_reason=stop_reason)


def _explain(exc: BaseException, timeout: float) -> str:
    """A short, human reason for a failed connection (no traceback)."""
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    return str(exc) or type(exc).__name__
