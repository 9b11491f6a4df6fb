"""The handshake signature (reference §2).

``hex(HMAC-SHA256(client_secret, "{client_id},{id},{rtms_stream_id}"))`` where ``id`` is the
meeting UUID (meetings and webinars), the session id (Video SDK) or the engagement id
(Contact Center). Both handshakes (msg 1 and msg 3) carry it.
"""

from __future__ import annotations

import hashlib
import hmac

from .errors import SignatureError

__all__ = ["handshake_signature", "verify_handshake_signature"]


def handshake_signature(client_id: str, client_secret: str, instance_id: str, stream_id: str) -> str:
    """The 64-character lowercase hex signature a client sends in msg 1 and msg 3."""
    message = f"{client_id},{instance_id},{stream_id}".encode()
    return hmac.new(client_secret.encode(), message, hashlib.sha256).hexdigest()


def verify_handshake_signature(
    signature: str, *, client_id: str, client_secret: str, instance_id: str, stream_id: str
) -> None:
    """Raise :class:`SignatureError` unless ``signature`` matches, in constant time."""
    expected = handshake_signature(client_id, client_secret, instance_id, stream_id)
    if not hmac.compare_digest(expected.encode(), signature.lower().encode("utf-8", "replace")):
        raise SignatureError("signature does not match HMAC-SHA256(client_id,instance_id,rtms_stream_id)")
