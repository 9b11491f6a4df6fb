"""The webhook receiver: an aiohttp application Zoom posts events to (docs/protocol.md §7).

Contract of ``POST <config.path>``:

* The **raw** body is verified against ``x-zm-signature`` / ``x-zm-request-timestamp``
  (§7.3) with the replay window ``config.replay_window``, ``now`` taken from the injected
  clock. This includes ``endpoint.url_validation``, which Zoom signs too.
  Failure → ``401 {"error": ...}``.
* A body that is not a Zoom event, or an RTMS event missing a required field → ``400``.
* ``endpoint.url_validation`` → ``200 {"plainToken", "encryptedToken"}`` (§7.2).
* An RTMS event → ``200 {"status": "ok"}`` at once; the parsed
  :class:`~connector.protocol.RtmsEvent` goes to the handler in a task of its own, so Zoom
  never waits on a join (it wants an answer within 3 s, §7.4). Duplicate deliveries are
  recognised by the handler (the stream manager), which knows which streams are active.
* Any other event → ``200`` and a log line.

No request ever gets a traceback: errors are JSON in Zoom's words.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import web

from .config import ConnectorConfig
from .protocol import (
    RtmsEvent,
    WebhookError,
    WebhookEvent,
    parse_event,
    rtms_event,
    url_validation_response,
    verify_webhook,
)
from .protocol.webhook import URL_VALIDATION_EVENT

__all__ = ["EventHandler", "WebhookListener", "WebhookReceiver"]

logger = logging.getLogger("connector.receiver")

EventHandler = Callable[[RtmsEvent], Awaitable[object]]
"""Receives every verified RTMS event; its result is logged at debug level."""

WebhookListener = Callable[[WebhookEvent], Awaitable[object]]
"""Receives every verified webhook but URL validation (``meeting.started``,
``meeting.participant_joined`` … for the manual start, and the RTMS events too)."""


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class WebhookReceiver:
    """Verifies, answers and dispatches Zoom webhooks. Build the app with :meth:`app`."""

    def __init__(
        self,
        config: ConnectorConfig,
        handler: EventHandler,
        *,
        clock: Callable[[], float] = time.time,
        listener: WebhookListener | None = None,
    ) -> None:
        self._config = config
        self._handler = handler
        self._listener = listener
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    def app(self) -> web.Application:
        """A fresh application routing ``POST config.path`` to :meth:`handle`."""
        app = web.Application()
        app.router.add_post(self._config.path, self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        """The request handler; see the module docstring for the contract."""
        if self._closing:
            return _error(503, "the connector is shutting down")
        body = await request.read()
        try:
            verify_webhook(
                self._config.webhook_secret,
                request.headers,
                body,
                now=self._clock(),
                window=self._config.replay_window,
            )
        except WebhookError as exc:
            logger.warning("rejected webhook from %s: %s", request.remote, exc.reason)
            return _error(401, f"invalid signature: {exc.reason}")
        try:
            event = parse_event(body)
            if event.event == URL_VALIDATION_EVENT:
                return self._url_validation(event)
            rtms = rtms_event(event)
        except WebhookError as exc:
            logger.warning("bad webhook body from %s: %s", request.remote, exc.reason)
            return _error(400, f"invalid request body: {exc.reason}")
        if rtms is None:
            logger.info("webhook %s acknowledged (not an RTMS event)", event.event)
        else:
            logger.info("webhook %s for stream %s", event.event, rtms.rtms_stream_id)
            self._spawn(self._run_handler(rtms), f"webhook {rtms.rtms_stream_id}")
        if self._listener is not None:
            self._spawn(self._run_listener(event), f"webhook {event.event}")
        return web.json_response({"status": "ok"})

    def _url_validation(self, event: WebhookEvent) -> web.Response:
        token = event.payload.get("plainToken")
        if not isinstance(token, str) or not token:
            raise WebhookError("endpoint.url_validation payload needs a string plainToken")
        logger.info("answered endpoint.url_validation")
        return web.json_response(url_validation_response(self._config.webhook_secret, token))

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_listener(self, event: WebhookEvent) -> None:
        assert self._listener is not None
        try:
            await self._listener(event)
        except Exception:  # the listener's bug must not take the receiver down
            logger.exception("webhook listener failed for %s", event.event)

    async def _run_handler(self, event: RtmsEvent) -> None:
        try:
            result = await self._handler(event)
        except Exception:  # the handler's bug must not take the receiver down
            logger.exception("handler failed for %s %s", event.kind.value, event.rtms_stream_id)
        else:
            logger.debug("handled %s %s: %s", event.kind.value, event.rtms_stream_id, result)

    async def drain(self) -> None:
        """Wait until every handler task started so far has finished."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def closing(self) -> bool:
        return self._closing

    async def close(self) -> None:
        """Answer 503 to new deliveries from now on and wait for pending handler tasks."""
        self._closing = True
        await self.drain()
