"""Driving a running simulator: scenarios loaded into it, triggers, reset, and the clock.

The operations behind the control API (``/_sim/scenarios``, ``/_sim/meetings/{m}/events``,
``/_sim/clock/run``, ``/_sim/reset``), kept apart from HTTP so that the CLI and the pytest
plugin use the same code. One :class:`Driver` belongs to one :class:`~.server.Simulator`
(:meth:`Driver.of`); it owns the timers of the scenario timeline it scheduled, so a reset can
cancel them, and the background task that free-runs a :class:`~.clock.ManualClock`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import weakref
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import msgspec

from connector.protocol import StopReason

from . import scenario as sc
from .clock import ManualClock, Timer, settle
from .world import LiveMeeting

if TYPE_CHECKING:
    from .server import Simulator

__all__ = ["Driver", "DriverError"]

log = logging.getLogger("simulator.driver")

_TICK = 0.01  # real seconds between free-run steps
_DRIVERS: weakref.WeakKeyDictionary[Simulator, Driver] = weakref.WeakKeyDictionary()


class DriverError(Exception):
    """An operation the simulator cannot carry out; ``status`` and ``code`` are Zoom's error shape."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class Driver:
    """What the control surface does to one simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.timers: list[Timer] = []
        self.speed = 0.0
        self._free_run: asyncio.Task[None] | None = None
        self._running = asyncio.Lock()

    @classmethod
    def of(cls, sim: Simulator) -> Driver:
        """The driver of ``sim`` (created on first use)."""
        driver = _DRIVERS.get(sim)
        if driver is None:
            driver = _DRIVERS[sim] = cls(sim)
        return driver

    # -- scenarios and steps ---------------------------------------------------------------

    def load(
        self,
        scenario: sc.Scenario,
        *,
        webhook_url: str | None = None,
        play: Callable[[sc.Step], None] | None = None,
    ) -> dict[str, Any]:
        """Load ``scenario`` and schedule its timeline from now; returns the world's description.

        Each step falls due through ``play`` (default: the world carries it out, REST steps
        are noted; the scenario runner passes its own, which makes REST calls).

        The scenario's ``switches`` are not applied: they configure a simulator when it starts
        (``rtms-sim serve --scenario``), not one already running.
        """
        self.cancel_timers()
        world = self.sim.load_scenario(scenario, webhook_url=webhook_url)
        t0 = self.sim.clock.now()
        for step in scenario.timeline:
            due = partial(play or self._play, step)
            self.timers.append(self.sim.clock.call_at(t0 + step.at, due))
        return world.describe()

    def _play(self, step: sc.Step) -> None:
        """A timeline step falls due. REST calls are the app's to make; they are only noted."""
        if isinstance(step, sc.Rest):
            self._note("step_skipped", do="rest", why="the app makes REST calls itself (/v2/...)")
            return
        try:
            self.sim.world.apply(step)
        except KeyError as exc:  # a step the world cannot carry out must not stop the clock
            self._note("step_failed", do=step.__struct_config__.tag, error=str(exc.args[0]))

    def trigger(self, meeting: str, body: dict[str, Any]) -> dict[str, Any]:
        """Carry out one step (a timeline step without ``at``) in ``meeting`` now."""
        world = self.sim.world
        try:
            targets = world.targets(meeting)
        except KeyError:
            raise DriverError(404, 3001, f"Meeting does not exist: {meeting}.") from None
        for key in ("at", "meeting"):
            if key in body:
                raise DriverError(
                    400,
                    300,
                    f"Validation Failed. `{key}` is not accepted: the event happens now, in {meeting}.",
                )
        if body.get("do") == "rest":
            raise DriverError(
                400,
                300,
                "Validation Failed. REST calls are not triggered here: call Zoom's REST API "
                "(PATCH /v2/live_meetings/{meetingId}/rtms_app/status) on the simulator.",
            )
        step = decode_step({**body, "at": 0, "meeting": meeting})
        _check_names(step, targets[0], world.accounts)
        try:
            world.apply(step)
        except KeyError as exc:
            raise DriverError(400, 300, f"Validation Failed. {exc.args[0]}") from None
        described = [m.describe() for m in targets]
        return described[0] if len(described) == 1 else {"meetings": described}

    def reset(self) -> None:
        """Terminate live streams, cancel the timeline, drop the world, clear the journal and
        the pacing counters."""
        self.cancel_timers()
        for stream in list(self.sim.engine.streams.values()):
            if stream.live:
                self.sim.engine.terminate(stream, StopReason.MEETING_ENDED)
        self.sim.world.reset()
        self.sim.journal.clear()
        self.sim.engine.pacing.clear()

    def cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()

    def _note(self, kind: str, **detail: Any) -> None:
        self.sim.engine.note(None, "control", "note", kind, **detail)

    # -- the clock -------------------------------------------------------------------------

    def _manual(self) -> ManualClock:
        clock = self.sim.clock
        if not isinstance(clock, ManualClock):
            raise DriverError(
                409, 409, "The simulator runs on the real clock; start it with a manual clock to move time."
            )
        return clock

    async def run_until(self, until: float) -> int:
        """Advance the manual clock timer by timer to ``until``, letting sockets run in between."""
        clock = self._manual()
        if self._free_run is not None:
            raise DriverError(409, 409, 'The clock is free-running; stop it with {"speed": 0} first.')
        return await self._run_until(clock, until)

    async def _run_until(self, clock: ManualClock, until: float) -> int:
        if not math.isfinite(until):
            raise DriverError(400, 300, "Validation Failed. until must be a finite number.")
        if until < clock.now():
            raise DriverError(400, 300, f"Validation Failed. until must not be before now ({clock.now()}).")
        ran = 0
        async with self._running:
            while (due := clock.next_deadline()) is not None and due <= until:
                ran += clock.advance(max(0.0, due - clock.now()))
                await settle()
            ran += clock.advance(max(0.0, until - clock.now()))
            await settle()
        return ran

    def set_speed(self, speed: float) -> None:
        """Free-run the manual clock at ``speed`` times real time; 0 stops it."""
        clock = self._manual()
        if not (math.isfinite(speed) and speed >= 0):
            raise DriverError(400, 300, "Validation Failed. speed must be a finite number >= 0.")
        self.stop_free_run()
        self.speed = speed
        if speed > 0:
            self._free_run = asyncio.get_running_loop().create_task(self._free_running(clock, speed))

    def stop_free_run(self) -> None:
        self.speed = 0.0
        if self._free_run is not None:
            self._free_run.cancel()
            self._free_run = None

    async def _free_running(self, clock: ManualClock, speed: float) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(_TICK)  # pacing against real time is this task's purpose
            now = loop.time()
            target = clock.now() + (now - last) * speed
            last = now
            try:
                await self._run_until(clock, target)
            except Exception:  # a failing timer must not silently stop the clock for good
                log.exception("a timer failed while the clock free-ran")

    async def close(self) -> None:
        """Stop the free-running clock and cancel the timeline (the simulator is closing)."""
        task, self._free_run = self._free_run, None
        self.speed = 0.0
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.cancel_timers()


def decode_step(data: dict[str, Any]) -> sc.Step:
    """A timeline step from JSON-like data, or a 400 naming the field msgspec rejected."""
    try:
        step: sc.Step = msgspec.convert(data, sc.Step, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        if message.endswith("`$.do`"):
            kinds = ", ".join(k for k in sc.STEP_TYPES if k != "rest")
            message = f"{message}; expected one of: {kinds}"
        raise DriverError(400, 300, f"Validation Failed. {message}") from None
    return step


def _check_names(step: sc.Step, meeting: LiveMeeting, accounts: dict[str, sc.Account]) -> None:
    """Users, apps and accounts a step names exist (the world indexes them without asking)."""
    for attr in ("user", "to"):
        value = getattr(step, attr, None)
        if value is not None and value not in meeting.people:
            raise DriverError(
                400, 300, f"Validation Failed. unknown {attr} {value!r} in meeting {meeting.key}."
            )
    app = getattr(step, "app", None)
    if app is not None and app not in meeting.apps:
        raise DriverError(400, 300, f"Validation Failed. app {app!r} is not added to meeting {meeting.key}.")
    if isinstance(step, sc.SetSetting) and step.account is not None and step.account not in accounts:
        raise DriverError(400, 300, f"Validation Failed. unknown account {step.account!r}.")
