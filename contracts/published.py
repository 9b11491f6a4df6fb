"""Zoom's published OpenAPI documents, as the suite keeps them (``contracts/schemas/``).

``rtms-webhooks.openapi.json`` is Zoom's public RTMS webhook document (snapshot of
2026-02-07, byte for byte), ``rtms-rest.openapi.json`` its Video SDK RTMS REST operation; both
ship with the package so that a clean clone can check against them. A webhook's body schema
sits under ``paths[event].post.requestBody.content["application/json"].schema``.

The published ``stop_reason`` enum is ``[1, 2, 3, 4, 7, 8, 9, 10, 11]``: narrower than reality
and than its own description (which defines 5 and 6). Streams end with every reason 0-26
(§5.3), 6 (meeting ended) most of all, so :func:`webhook_schema` removes that one enum unless
asked not to, and callers check ``stop_reason`` against :data:`STOP_REASONS` (docs/contracts.md).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

__all__ = [
    "PUBLISHED_STOP_REASONS",
    "REST_DOCUMENT",
    "STOP_REASONS",
    "WEBHOOK_DOCUMENT",
    "webhook_document",
    "webhook_schema",
]

WEBHOOK_DOCUMENT = Path(__file__).parent / "schemas" / "rtms-webhooks.openapi.json"
REST_DOCUMENT = Path(__file__).parent / "schemas" / "rtms-rest.openapi.json"
PUBLISHED_STOP_REASONS = [1, 2, 3, 4, 7, 8, 9, 10, 11]
STOP_REASONS = range(27)  # 0 UNDEFINED ... 26 STREAMING_NOT_SUPPORTED (§5.3)


@cache
def webhook_document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(WEBHOOK_DOCUMENT.read_text())
    return loaded


def webhook_schema(event: str, *, strict_stop_reason: bool = False) -> dict[str, Any]:
    """Zoom's published body schema of ``event``, its ``stop_reason`` enum removed unless
    ``strict_stop_reason``."""
    schema: dict[str, Any] = copy.deepcopy(
        webhook_document()["paths"][event]["post"]["requestBody"]["content"]["application/json"]["schema"]
    )
    stop_reason = schema["properties"]["payload"]["properties"].get("stop_reason")
    if stop_reason is not None and not strict_stop_reason:
        del stop_reason["enum"]
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema
