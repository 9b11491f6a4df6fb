"""Webhook signing, verification and parsing (reference §7).

* ``x-zm-signature = "v0=" + hex(HMAC-SHA256(secret, "v0:{timestamp}:{raw_body}"))`` with
  ``x-zm-request-timestamp`` in Unix seconds (§7.3). Always verify the raw bytes.
* ``endpoint.url_validation`` is answered with ``plainToken`` and
  ``encryptedToken = hex(HMAC-SHA256(secret, plainToken))`` (§7.2).
* RTMS events carry a flat ``payload`` (§7.1); the id key depends on the product.

Time is a parameter (``now``, Unix seconds): this module reads no clock.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import math
from collections.abc import Mapping
from typing import Any

import msgspec

from .errors import WebhookError, WebhookSignatureError, WebhookTimestampError

__all__ = [
    "REPLAY_WINDOW_SECONDS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "URL_VALIDATION_EVENT",
    "Product",
    "RtmsEvent",
    "RtmsEventKind",
    "WebhookEvent",
    "encode_event",
    "parse_event",
    "rtms_event",
    "sign_webhook",
    "signed_headers",
    "url_validation_response",
    "verify_webhook",
]

SIGNATURE_HEADER = "x-zm-signature"
TIMESTAMP_HEADER = "x-zm-request-timestamp"
URL_VALIDATION_EVENT = "endpoint.url_validation"
REPLAY_WINDOW_SECONDS = 300


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_webhook(secret: str, timestamp: int, body: bytes) -> str:
    """The ``x-zm-signature`` value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    return "v0=" + _hmac_hex(secret, b"v0:%d:" % timestamp + body)


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers Zoom sends with a webhook delivery."""
    return {
        "content-type": "application/json; charset=utf-8",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign_webhook(secret, timestamp, body),
    }


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    window: float = REPLAY_WINDOW_SECONDS,
) -> None:
    """Raise a :class:`WebhookError` unless ``body`` was signed by ``secret`` within ``window``.

    ``headers`` must look names up case-insensitively (aiohttp's and multidict's do) or
    use the lowercase names.
    """
    raw_ts = headers.get(TIMESTAMP_HEADER)
    if raw_ts is None:
        raise WebhookTimestampError(f"missing {TIMESTAMP_HEADER} header")
    try:
        timestamp = int(raw_ts)
    except ValueError:
        raise WebhookTimestampError(f"{TIMESTAMP_HEADER} is not an integer: {raw_ts[:40]!r}") from None
    try:
        skew = now - float(timestamp)
    except OverflowError:  # beyond the range of a float, so beyond any replay window
        skew = math.inf
    if abs(skew) > window:
        raise WebhookTimestampError(
            f"{TIMESTAMP_HEADER} {raw_ts[:40]} is {skew:.0f} s from now, "
            f"outside the {int(window)} s replay window"
        )
    given = headers.get(SIGNATURE_HEADER)
    if given is None:
        raise WebhookSignatureError(f"missing {SIGNATURE_HEADER} header")
    expected = sign_webhook(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise WebhookSignatureError(f"{SIGNATURE_HEADER} does not match the raw body")


def url_validation_response(secret: str, plain_token: str) -> dict[str, str]:
    """The JSON body that answers ``endpoint.url_validation`` (§7.2)."""
    return {"plainToken": plain_token, "encryptedToken": _hmac_hex(secret, plain_token.encode())}


class WebhookEvent(msgspec.Struct, frozen=True):
    """The envelope of every Zoom webhook: ``{"event", "event_ts", "payload"}``."""

    event: str
    event_ts: int
    payload: dict[str, Any]


_event_decoder = msgspec.json.Decoder(WebhookEvent)
_compact = msgspec.json.Encoder()


def parse_event(body: bytes | str) -> WebhookEvent:
    """Parse a webhook body; raise :class:`WebhookError` when it is not a Zoom event."""
    try:
        return _event_decoder.decode(body)
    except (msgspec.MsgspecError, RecursionError, UnicodeError) as exc:
        raise WebhookError(f"body is not a Zoom webhook event: {exc}") from None


def encode_event(event: WebhookEvent) -> bytes:
    """Zoom's compact serialisation of an event (what gets signed and sent)."""
    return _compact.encode(event)


class Product(enum.Enum):
    """The four RTMS products, each with its event prefix and id key (§2, §7.1)."""

    MEETING = "meeting"
    WEBINAR = "webinar"
    SESSION = "session"
    CONTACT_CENTER = "contact_center"

    @property
    def id_key(self) -> str:
        """The payload key naming the instance (and the id in the handshake signature)."""
        return _ID_KEYS[self]

    def event_name(self, kind: RtmsEventKind) -> str:
        if self is Product.CONTACT_CENTER:
            return f"contact_center.voice_rtms_{kind.value}"
        return f"{self.value}.rtms_{kind.value}"


_ID_KEYS = {
    Product.MEETING: "meeting_uuid",
    Product.WEBINAR: "webinar_uuid",
    Product.SESSION: "session_id",
    Product.CONTACT_CENTER: "engagement_id",
}


class RtmsEventKind(enum.Enum):
    STARTED = "started"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"


_RTMS_EVENTS: dict[str, tuple[Product, RtmsEventKind]] = {
    product.event_name(kind): (product, kind) for product in Product for kind in RtmsEventKind
}


class RtmsEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An RTMS stream event, whatever the product, read from a :class:`WebhookEvent`."""

    product: Product
    kind: RtmsEventKind
    instance_id: str
    rtms_stream_id: str
    server_urls: str | None = None
    stop_reason: int | None = None
    operator_id: str | None = None
    event_ts: int = 0


def rtms_event(event: WebhookEvent) -> RtmsEvent | None:
    """The RTMS stream event ``event`` carries, ``None`` for other events.

    Raises :class:`WebhookError` when an RTMS event lacks a field Zoom always sends.
    """
    known = _RTMS_EVENTS.get(event.event)
    if known is None:
        return None
    product, kind = known
    payload = event.payload
    # Webinar events are keyed on webinar_uuid by the published schema, meeting_uuid by some
    # secondary docs (§7.1): accept either.
    instance_id = payload.get(product.id_key)
    if instance_id is None and product is Product.WEBINAR:
        instance_id = payload.get("meeting_uuid")
    stream_id = payload.get("rtms_stream_id")
    if not isinstance(instance_id, str) or not isinstance(stream_id, str):
        raise WebhookError(f"{event.event} payload needs string {product.id_key} and rtms_stream_id")
    server_urls = payload.get("server_urls")
    if kind is RtmsEventKind.STARTED and not isinstance(server_urls, str):
        raise WebhookError(f"{event.event} payload needs a string server_urls")
    stop_reason = payload.get("stop_reason")
    if stop_reason is not None and (not isinstance(stop_reason, int) or isinstance(stop_reason, bool)):
        raise WebhookError(f"{event.event} stop_reason must be an integer")
    operator_id = payload.get("operator_id")
    return RtmsEvent(
        product=product,
        kind=kind,
        instance_id=instance_id,
        rtms_stream_id=stream_id,
        server_urls=server_urls if isinstance(server_urls, str) else None,
        stop_reason=stop_reason,
        operator_id=operator_id if isinstance(operator_id, str) else None,
        event_ts=event.event_ts,
    )
