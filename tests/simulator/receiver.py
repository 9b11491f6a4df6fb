"""A webhook endpoint for tests: the contract suite's :class:`~contracts.inbox.Inbox`.

Each POST is recorded with its raw body and headers (so a test can check the signature over
the exact bytes, §7.3) and answered 200, as an app that accepts the event would.
"""

from __future__ import annotations

from contracts.inbox import Delivery, Inbox
from contracts.targets.simulator import DEFAULT_CREDENTIALS

__all__ = ["Delivery", "WebhookReceiver"]


class WebhookReceiver(Inbox):
    """An :class:`Inbox` on ``127.0.0.1:0``; URL validation is answered with the simulator's secret."""

    def __init__(self) -> None:
        super().__init__(secret=DEFAULT_CREDENTIALS.webhook_secret)
