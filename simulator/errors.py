"""Errors the fake Zoom answers with, in Zoom's own terms.

Zoom's REST errors are ``{"code": <int>, "message": "<text>"}`` with an HTTP status; its
OAuth errors are ``{"reason": "<text>", "error": "<oauth error>"}``. The simulator raises
these where it decides and turns them into responses at the HTTP boundary.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OAuthError", "SimulatorError", "ZoomApiError"]


class SimulatorError(Exception):
    """Root of the simulator's exceptions."""


class ZoomApiError(SimulatorError):
    """A REST API error: HTTP ``status``, Zoom ``code`` (``None`` when Zoom sends no body code)."""

    def __init__(
        self,
        status: int,
        code: int | None,
        message: str,
        *,
        retry_after: int | None = None,
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(f"HTTP {status} code {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.errors = errors

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            out["errors"] = self.errors
        return out


class OAuthError(SimulatorError):
    """An OAuth token endpoint error, answered as ``{"reason", "error"}``."""

    def __init__(self, status: int, error: str, reason: str) -> None:
        super().__init__(f"HTTP {status} {error}: {reason}")
        self.status = status
        self.error = error
        self.reason = reason

    def body(self) -> dict[str, str]:
        return {"reason": self.reason, "error": self.error}
