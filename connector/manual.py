"""Manual start of RTMS through Zoom's REST API, with the remedy for field report F2.

F2: on ``meeting.started`` the app asks Zoom to start RTMS for the host
(``PATCH /v2/live_meetings/{meetingId}/rtms_app/status``, docs/protocol.md §8.1). When a
participant other than the host joined first, Zoom either answers 2308 (the user is not in the
meeting) or accepts the call (204) and nothing ever starts. :class:`ManualStarter` treats both as
"not ready": it waits for the host's ``meeting.participant_joined`` (or
``meeting.participant_jbh_waiting``) and asks again, a bounded number of times within a bounded
window, logging every attempt and Zoom's answer. Errors that no retry can fix (13262, 2310, 403,
4711, 3001, a 124 that a fresh token did not cure, …) end the attempts with the guidance of
:mod:`connector.guidance`; 3000, 429, 5xx and network errors are retried with backoff.

Feed it every webhook (the parsed JSON ``{"event", "payload"}``) of a meeting or webinar: the
non-RTMS events (``*.started``, ``*.participant_joined``, ``*.participant_jbh_waiting``,
``*.participant_left``, ``*.ended``; payload shape §7.5) and the RTMS ones (``*.rtms_started``
confirms a start, ``*.rtms_stopped`` ends it; §7.1). :meth:`ManualStarter.handle` returns at
once; attempts run in tasks of their own, timed by the injected clock.

Each meeting's :class:`StartState` moves along :data:`TRANSITIONS`.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from .clock import Clock, wait_for
from .errors import ConnectorError
from .zoom_api import Action, ZoomApi, ZoomApiError

__all__ = ["TRANSITIONS", "IllegalStartTransition", "ManualStarter", "StartState"]

log = logging.getLogger("connector.manual")

USER_NOT_IN_MEETING = 2308
BACKOFF_FIRST = 2.0
BACKOFF_MAX = 60.0
_ENDED_MEMORY = 4096  # ended meetings remembered, so a late or repeated webhook starts nothing


class StartState(enum.StrEnum):
    """Where a meeting's manual start stands."""

    PENDING = "pending"  # known; an attempt is due, in flight or backing off (or none is asked)
    WAITING_FOR_HOST = "waiting_for_host"  # Zoom cannot start it until the host is in the meeting
    REQUESTED = "requested"  # Zoom accepted the start (204); waiting for rtms_started
    STARTED = "started"  # rtms_started arrived
    FAILED = "failed"  # gave up: a permanent error, or the attempts or the window ran out
    ENDED = "ended"  # the meeting ended


S = StartState
TRANSITIONS: dict[StartState, frozenset[StartState]] = {
    S.PENDING: frozenset({S.WAITING_FOR_HOST, S.REQUESTED, S.STARTED, S.FAILED, S.ENDED}),
    S.WAITING_FOR_HOST: frozenset({S.PENDING, S.STARTED, S.FAILED, S.ENDED}),
    S.REQUESTED: frozenset({S.PENDING, S.WAITING_FOR_HOST, S.STARTED, S.FAILED, S.ENDED}),
    S.STARTED: frozenset({S.PENDING, S.ENDED}),  # PENDING: the stream stopped
    S.FAILED: frozenset({S.PENDING, S.STARTED, S.ENDED}),  # PENDING: an explicit start
    S.ENDED: frozenset(),
}
"""The moves a meeting's state may make; anything else is :class:`IllegalStartTransition`."""


class IllegalStartTransition(ConnectorError):
    """A move :data:`TRANSITIONS` does not allow (a bug in the caller or in this module)."""


@dataclass(eq=False)
class _Meeting:
    meeting_id: str
    product: str  # "meeting" or "webinar"
    uuid: str | None = None
    host_id: str | None = None
    state: StartState = StartState.PENDING
    attempts: int = 0
    host_present: bool = False  # the host's join was seen, and no leave since
    stream_live: bool = False  # rtms_started seen, no rtms_stopped since
    last_error: ZoomApiError | None = None
    task: asyncio.Task[None] | None = None
    # Set whenever something a waiting attempt cares about happens (host joins, stream starts).
    changed: asyncio.Event = field(default_factory=asyncio.Event)


def _text(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | str) and str(value):
        return str(value)
    return None


def _participant_ids(participant: object) -> set[str]:
    """The ids a webhook's participant object carries (Zoom user id, participant ids)."""
    if not isinstance(participant, dict):
        return set()
    keys = ("id", "user_id", "participant_user_id")
    return {t for k in keys if (t := _text(participant.get(k))) is not None}


class ManualStarter:
    """Starts RTMS over REST when a meeting starts, and retries until the host is in (F2).

    ``client_id``: the RTMS app's Client ID (``settings.client_id`` of the call; may differ from
    the Server-to-Server app's). ``start_on``: ``"meeting_started"`` asks on every
    ``meeting.started``; ``"never"`` only tracks meetings for explicit :meth:`start` calls.
    ``confirm_timeout``: seconds to wait for ``rtms_started`` after a 204. ``max_attempts`` and
    ``retry_window`` (seconds from the first attempt) bound each start.
    """

    def __init__(
        self,
        api: ZoomApi,
        *,
        client_id: str,
        clock: Clock,
        start_on: Literal["meeting_started", "never"] = "meeting_started",
        confirm_timeout: float = 30.0,
        max_attempts: int = 5,
        retry_window: float = 600.0,
    ) -> None:
        if start_on not in ("meeting_started", "never"):
            raise ValueError(f"start_on must be 'meeting_started' or 'never', not {start_on!r}")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not confirm_timeout > 0 or not retry_window > 0:
            raise ValueError("confirm_timeout and retry_window must be positive numbers of seconds")
        self.api = api
        self.client_id = client_id
        self.clock = clock
        self.start_on = start_on
        self.confirm_timeout = confirm_timeout
        self.max_attempts = max_attempts
        self.retry_window = retry_window
        self._meetings: dict[str, _Meeting] = {}
        self._ended: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._changed = asyncio.Event()

    # -- what tests and metrics read -----------------------------------------------------------

    def state(self, meeting_id: int | str) -> StartState | None:
        """The meeting's state; ``ENDED`` for a meeting that ended; ``None`` if unknown."""
        key = str(meeting_id)
        meeting = self._meetings.get(key)
        if meeting is not None:
            return meeting.state
        return StartState.ENDED if key in self._ended else None

    def attempts(self, meeting_id: int | str) -> int:
        """How many start calls were made for the meeting's current start (0 if unknown)."""
        meeting = self._meetings.get(str(meeting_id))
        return 0 if meeting is None else meeting.attempts

    def last_error(self, meeting_id: int | str) -> ZoomApiError | None:
        meeting = self._meetings.get(str(meeting_id))
        return None if meeting is None else meeting.last_error

    def counts(self) -> dict[StartState, int]:
        """How many tracked meetings are in each state (for a gauge)."""
        out = dict.fromkeys(StartState, 0)
        for meeting in self._meetings.values():
            out[meeting.state] += 1
        return out

    async def wait_state(self, meeting_id: int | str, *states: StartState) -> StartState:
        """Wait until the meeting is in one of ``states`` (no time limit: bound it yourself)."""
        while True:
            current = self.state(meeting_id)
            if current in states:
                assert current is not None
                return current
            changed = self._changed
            await changed.wait()

    # -- webhooks ------------------------------------------------------------------------------

    async def handle(self, event: dict[str, Any]) -> None:
        """Take one webhook (``{"event", "payload"}``); anything it does not use is ignored."""
        name = event.get("event")
        payload = event.get("payload")
        if not isinstance(name, str) or not isinstance(payload, dict):
            log.debug("ignoring a webhook without event name or payload")
            return
        product, _, what = name.partition(".")
        if product not in ("meeting", "webinar"):
            return
        obj = payload.get("object")
        obj = obj if isinstance(obj, dict) else {}
        handler = self._HANDLERS.get(what)
        if handler is not None:
            handler(self, product, payload, obj)

    def _on_started(self, product: str, payload: dict[str, Any], obj: dict[str, Any]) -> None:
        meeting_id = _text(obj.get("id"))
        if meeting_id is None or not meeting_id.isdigit():
            log.warning("%s.started without a numeric object.id: cannot start RTMS for it", product)
            return
        if meeting_id in self._ended:
            log.info("meeting %s: started event after it ended (a late delivery); ignored", meeting_id)
            return
        meeting = self._meetings.get(meeting_id)
        if meeting is not None and (meeting.task is not None or meeting.state is not StartState.PENDING):
            log.info("meeting %s: started event again (a repeated delivery); ignored", meeting_id)
            self._learn(meeting, obj)
            return
        meeting = meeting or self._track(meeting_id, product)
        self._learn(meeting, obj)
        if self.start_on == "meeting_started":
            self._launch(meeting)

    def _on_participant(self, product: str, payload: dict[str, Any], obj: dict[str, Any]) -> None:
        self._participant(obj, joined=True)

    def _on_participant_left(self, product: str, payload: dict[str, Any], obj: dict[str, Any]) -> None:
        self._participant(obj, joined=False)

    def _participant(self, obj: dict[str, Any], *, joined: bool) -> None:
        meeting = self._meetings.get(_text(obj.get("id")) or "")
        if meeting is None:
            return
        self._learn(meeting, obj)
        if meeting.host_id is None or meeting.host_id not in _participant_ids(obj.get("participant")):
            return
        meeting.host_present = joined
        log.info(
            "meeting %s: host %s %s", meeting.meeting_id, meeting.host_id, "joined" if joined else "left"
        )
        if joined:
            meeting.changed.set()

    def _on_rtms_started(self, product: str, payload: dict[str, Any], obj: dict[str, Any]) -> None:
        meeting = self._for_rtms(product, payload)
        if meeting is None:
            meeting_id = _text(payload.get("meeting_id"))
            if meeting_id is None or meeting_id in self._ended:
                return
            # Started by someone else (auto-start, the app owner) before this starter knew the
            # meeting: remember it, so that a meeting.started delivered later asks for nothing.
            meeting = self._track(meeting_id, product)
            meeting.uuid = _text(payload.get(f"{product}_uuid"))
        meeting.stream_live = True
        meeting.changed.set()
        if meeting.task is None:
            self._move(meeting, StartState.STARTED)
        log.info("meeting %s: rtms_started (stream %s)", meeting.meeting_id, payload.get("rtms_stream_id"))

    def _on_rtms_stopped(self, product: str, payload: dict[str, Any], obj: dict[str, Any]) -> None:
        meeting = self._for_rtms(product, payload)
        if meeting is None:
            return
        meeting.stream_live = False
        if meeting.state is StartState.STARTED:
            self._move(meeting, StartState.PENDING)

    def _on_ended(self, product: str, payload: dict[str, Any], obj: dict[str, Any]) -> None:
        meeting_id = _text(obj.get("id"))
        if meeting_id is None:
            return
        meeting = self._meetings.pop(meeting_id, None)
        self._ended[meeting_id] = None
        while len(self._ended) > _ENDED_MEMORY:
            self._ended.popitem(last=False)
        if meeting is None:
            self._notify()
            return
        if meeting.task is not None:
            meeting.task.cancel()
            log.info("meeting %s ended: pending start attempts cancelled", meeting_id)
        self._move(meeting, StartState.ENDED)

    _HANDLERS: ClassVar[
        Mapping[str, Callable[[ManualStarter, str, dict[str, Any], dict[str, Any]], None]]
    ] = {
        "started": _on_started,
        "participant_joined": _on_participant,
        "participant_jbh_waiting": _on_participant,
        "participant_left": _on_participant_left,
        "rtms_started": _on_rtms_started,
        "rtms_stopped": _on_rtms_stopped,
        "ended": _on_ended,
    }

    # -- explicit calls ------------------------------------------------------------------------

    async def start(self, meeting_id: int | str, host_id: str) -> StartState:
        """Start RTMS for ``host_id`` in the meeting, with the same retries as on meeting.started.

        Returns the state the attempts ended in (``STARTED``, ``FAILED`` or ``ENDED``). A start
        already under way is joined, not repeated; cancelling the caller does not cancel it.
        """
        key = str(meeting_id)
        if key in self._ended:
            return StartState.ENDED
        meeting = self._meetings.get(key) or self._track(key, "meeting")
        meeting.host_id = host_id
        if meeting.task is None and meeting.state is not StartState.STARTED:
            if meeting.state is not StartState.PENDING:
                self._move(meeting, StartState.PENDING)
            self._launch(meeting)
        if meeting.task is not None:
            # asyncio.wait, not shield: neither the caller's cancellation nor the meeting's end
            # (which cancels the attempts) crosses over.
            await asyncio.wait({meeting.task})
        return self.state(key) or StartState.ENDED

    async def stop(self, meeting_id: int | str, host_id: str | None = None) -> None:
        """Stop the app's stream (pending start attempts are cancelled first)."""
        meeting = self._meetings.get(str(meeting_id))
        if meeting is not None and meeting.task is not None:
            meeting.task.cancel()
        await self._action(meeting_id, "stop", host_id)

    async def pause(self, meeting_id: int | str, host_id: str | None = None) -> None:
        await self._action(meeting_id, "pause", host_id)

    async def resume(self, meeting_id: int | str, host_id: str | None = None) -> None:
        await self._action(meeting_id, "resume", host_id)

    async def _action(self, meeting_id: int | str, action: Action, host_id: str | None) -> None:
        """One call, no retry; a failure is logged with its guidance and raised."""
        meeting = self._meetings.get(str(meeting_id))
        user = host_id or (meeting.host_id if meeting is not None else None)
        try:
            await self.api.rtms_app_status(
                meeting_id, action, client_id=self.client_id, participant_user_id=user
            )
        except ZoomApiError as exc:
            self._log_guidance(str(meeting_id), action, exc)
            raise
        log.info("meeting %s: %s accepted", meeting_id, action)

    async def close(self) -> None:
        """Cancel every pending start and wait for the tasks to finish."""
        tasks = [m.task for m in self._meetings.values() if m.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- bookkeeping ---------------------------------------------------------------------------

    def _track(self, meeting_id: str, product: str) -> _Meeting:
        meeting = _Meeting(meeting_id=meeting_id, product=product)
        self._meetings[meeting_id] = meeting
        self._notify()
        return meeting

    @staticmethod
    def _learn(meeting: _Meeting, obj: dict[str, Any]) -> None:
        meeting.uuid = meeting.uuid or _text(obj.get("uuid"))
        meeting.host_id = meeting.host_id or _text(obj.get("host_id"))

    def _for_rtms(self, product: str, payload: dict[str, Any]) -> _Meeting | None:
        """The tracked meeting an RTMS event is about: by meeting_id (2026+), else by UUID."""
        meeting_id = _text(payload.get("meeting_id"))
        if meeting_id is not None and meeting_id in self._meetings:
            return self._meetings[meeting_id]
        uuid = _text(payload.get(f"{product}_uuid")) or _text(payload.get("meeting_uuid"))
        if uuid is None:
            return None
        return next((m for m in self._meetings.values() if m.uuid == uuid), None)

    def _move(self, meeting: _Meeting, to: StartState) -> None:
        if meeting.state is to:
            return
        if to not in TRANSITIONS[meeting.state]:
            raise IllegalStartTransition(
                f"meeting {meeting.meeting_id}: {meeting.state.value} -> {to.value} is not allowed"
            )
        log.debug("meeting %s: %s -> %s", meeting.meeting_id, meeting.state.value, to.value)
        meeting.state = to
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _launch(self, meeting: _Meeting) -> None:
        meeting.attempts = 0
        meeting.last_error = None
        task = asyncio.get_running_loop().create_task(self._run(meeting))
        meeting.task = task

        def done(_: asyncio.Task[None]) -> None:
            if meeting.task is task:
                meeting.task = None
                self._notify()

        task.add_done_callback(done)

    # -- the attempts --------------------------------------------------------------------------

    async def _run(self, meeting: _Meeting) -> None:
        try:
            await self._attempts(meeting)
        except asyncio.CancelledError:
            # Cancelled by stop() or close() (the meeting's end has already moved it to ENDED).
            if meeting.state not in (StartState.ENDED, StartState.STARTED):
                self._move(meeting, StartState.PENDING)
            raise
        except Exception:  # a bug: keep the starter serving the other meetings
            log.exception("meeting %s: start attempts failed unexpectedly", meeting.meeting_id)
            if meeting.state is not StartState.ENDED:
                self._move(meeting, StartState.FAILED)

    async def _attempts(self, meeting: _Meeting) -> None:
        """Ask, confirm, and on "not ready" wait for the host; bounded by attempts and window."""
        deadline = self.clock.now() + self.retry_window
        backoff = BACKOFF_FIRST
        mid = meeting.meeting_id
        while True:
            if meeting.stream_live:
                self._move(meeting, StartState.STARTED)
                return
            if meeting.attempts >= self.max_attempts:
                self._give_up(meeting, f"no stream after {meeting.attempts} attempts")
                return
            if self.clock.now() >= deadline:
                self._give_up(meeting, f"no stream within {self.retry_window:g} s")
                return
            host_was_present = meeting.host_present
            meeting.attempts += 1
            self._move(meeting, StartState.PENDING)
            log.info(
                "meeting %s: start attempt %d of %d for host %s (host seen in the meeting: %s)",
                mid,
                meeting.attempts,
                self.max_attempts,
                meeting.host_id,
                "yes" if host_was_present else "no",
            )
            try:
                await self.api.rtms_app_status(
                    mid, "start", client_id=self.client_id, participant_user_id=meeting.host_id
                )
            except ZoomApiError as exc:
                meeting.last_error = exc
                log.warning("meeting %s: start attempt %d: %s", mid, meeting.attempts, exc)
                if exc.code != USER_NOT_IN_MEETING:
                    if not exc.retryable:
                        self._log_guidance(mid, "start", exc)
                        self._move(meeting, StartState.FAILED)
                        return
                    await self._wait(
                        meeting, lambda: meeting.stream_live, min(backoff, deadline - self.clock.now())
                    )
                    backoff = min(backoff * 2, BACKOFF_MAX)
                    continue
            else:
                log.info(
                    "meeting %s: start attempt %d accepted (204); waiting up to %g s for rtms_started",
                    mid,
                    meeting.attempts,
                    self.confirm_timeout,
                )
                if not meeting.stream_live:
                    self._move(meeting, StartState.REQUESTED)
                # The window bounds the whole start, the confirmation wait included.
                confirm = min(self.confirm_timeout, deadline - self.clock.now())
                if await self._wait(meeting, lambda: meeting.stream_live, confirm):
                    continue  # the top of the loop records STARTED
                log.warning(
                    "meeting %s: start accepted but no rtms_started within %g s (field report F2: "
                    "Zoom accepts the call while the host is not in the meeting)",
                    mid,
                    confirm,
                )
            # Not ready. If the host was in the meeting when we asked, its absence is not the cause:
            # back off and ask again. Otherwise wait for the host to join.
            if host_was_present and meeting.host_present:
                await self._wait(
                    meeting, lambda: meeting.stream_live, min(backoff, deadline - self.clock.now())
                )
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            if not meeting.host_present:
                self._move(meeting, StartState.WAITING_FOR_HOST)
                log.info("meeting %s: waiting for host %s to join before asking again", mid, meeting.host_id)
                ready = await self._wait(
                    meeting, lambda: meeting.host_present or meeting.stream_live, deadline - self.clock.now()
                )
                if not ready:
                    self._give_up(
                        meeting, f"host {meeting.host_id} did not join within {self.retry_window:g} s"
                    )
                    return

    async def _wait(self, meeting: _Meeting, ready: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``ready()`` or ``timeout`` seconds of the clock passed; ``ready()`` at the end."""
        end = self.clock.now() + max(timeout, 0.0)
        while not ready():
            remaining = end - self.clock.now()
            if remaining <= 0:
                break
            meeting.changed.clear()
            await wait_for(self.clock, meeting.changed, remaining)
        return ready()

    def _give_up(self, meeting: _Meeting, why: str) -> None:
        error = meeting.last_error
        last = f"; last answer: {error}" if error is not None else ""
        log.error("meeting %s: RTMS start given up: %s%s", meeting.meeting_id, why, last)
        self._move(meeting, StartState.FAILED)

    @staticmethod
    def _log_guidance(meeting_id: str, action: str, error: ZoomApiError) -> None:
        g = error.guidance
        log.error(
            "meeting %s: RTMS %s failed and will not be retried: %s. %s What to do: %s",
            meeting_id,
            action,
            g.name,
            g.meaning,
            g.action,
        )
