"""Tests of the contract suite's own tooling: live configuration, recording, sanitizing, drift.

:func:`record_session` feeds a :class:`~contracts.recording.Recorder` what a probe and the inbox
would see in one short meeting stream, with real-looking secrets and identifiers in it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from contracts import wire
from contracts.recording import Recorder

JPEG = b"\xff\xd8\xff\xe0" + bytes(60)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(40)
H264 = b"\x00\x00\x00\x01\x67" + bytes(30)
PCM = bytes(range(256)) * 2 + bytes(128)  # 640 bytes: 20 ms of L16 at 16 kHz


@dataclass
class Session:
    """The real values one recorded session carries; tests look for them in the sanitized file."""

    stream_id: str = "03db704592624398931a588dd78200cb"
    meeting_uuid: str = "4444AAAiAAAAAiAiAiiAii=="
    session_id: str = "7e5a760af2f446ea80ae5a357f905475"
    client_secret: str = "app-secret"
    host: str = "rtms-sjc1.zoom.us:443"
    speaker_id: int = 16778240
    speaker_name: str = "John Smith"
    other_id: int = 16779999
    epoch_ms: int = 1727384100000
    stop_reason: int = 6
    audio_length: bool = True  # Zoom sends ``length`` since Apr/May 2026 (§4.12)
    frames: int = 8
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def signature(self) -> str:
        return wire.handshake_signature("app-client", self.client_secret, self.meeting_uuid, self.stream_id)

    @property
    def webhook_signature(self) -> str:
        return wire.webhook_signature("whsec", str(self.epoch_ms // 1000), b"{}")


def _frame(recorder: Recorder, role: str, direction: str, message: dict[str, Any]) -> None:
    recorder.frame(
        role, direction, json.dumps(message).encode() if direction == "out" else json.dumps(message)
    )


def record_session(recorder: Recorder, s: Session) -> Recorder:
    """A webhook, a join with audio and video, media frames, a keep-alive, the stream's end."""
    t = s.epoch_ms
    signaling_url = f"wss://{s.host}/rtms/signaling?token=abc123"
    started = {
        "event": "meeting.rtms_started",
        "event_ts": t,
        "payload": {
            "meeting_uuid": s.meeting_uuid,
            "operator_id": "30R7kT7bTIKSNUFEuH_Qlg",
            "rtms_stream_id": s.stream_id,
            "server_urls": signaling_url,
        },
    }
    headers = {
        "Host": "abc.tunnel.example",
        "Content-Type": "application/json; charset=utf-8",
        "x-zm-request-timestamp": str(t // 1000),
        "x-zm-signature": s.webhook_signature,
        "Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJl",
    }
    recorder.webhook(json.dumps(started).encode(), headers)
    recorder.opened("signaling", signaling_url)
    join = {"msg_type": 1, "meeting_uuid": s.meeting_uuid, "rtms_stream_id": s.stream_id}
    _frame(recorder, "signaling", "out", {**join, "signature": s.signature, "sequence": 37016})
    urls = {
        m: f"wss://{s.host}/rtms/media/{m}/{s.stream_id}" for m in ("audio", "video", "transcript", "all")
    }
    _frame(
        recorder,
        "signaling",
        "in",
        {"msg_type": 2, "status_code": 0, "reason": "", "media_server": {"server_urls": urls}, **s.extra},
    )
    for medium, params in (("audio", {"codec": 1, "sample_rate": 1}), ("video", {"codec": 5, "fps": 5})):
        recorder.opened(medium, urls[medium])
        request = {**join, "msg_type": 3, "signature": s.signature, "media_type": wire.MEDIA_KEYS[medium]}
        _frame(recorder, medium, "out", {**request, "media_params": None})
        answer = {
            "msg_type": 4,
            "status_code": 0,
            "payload_encrypted": False,
            "media_params": {medium: params},
        }
        _frame(recorder, medium, "in", answer)
    _frame(recorder, "signaling", "out", {"msg_type": 7, "rtms_stream_id": s.stream_id})
    _frame(recorder, "signaling", "in", {"msg_type": 6, "event": {"event_type": 1, "timestamp": t}})
    _frame(
        recorder,
        "signaling",
        "in",
        {"msg_type": 9, "rtms_session_id": s.session_id, "state": 2, "timestamp": t},
    )
    _frame(
        recorder,
        "signaling",
        "in",
        {"msg_type": 8, "rtms_stream_id": s.stream_id, "state": 1, "timestamp": t},
    )
    speaker = {"user_id": s.speaker_id, "user_name": s.speaker_name}
    event = {"event_type": 3, "timestamp": t, "participants": [speaker, {"user_id": s.other_id}]}
    _frame(recorder, "signaling", "in", {"msg_type": 6, "event": event})
    for n in range(s.frames):
        audio: dict[str, Any] = {
            "user_id": 0,
            "data": base64.b64encode(PCM).decode(),
            "timestamp": t + 20 * n,
        }
        if s.audio_length:
            audio["length"] = len(PCM)
        _frame(recorder, "audio", "in", {"msg_type": 14, "content": audio})
        video = {
            **speaker,
            "data": base64.b64encode(JPEG).decode(),
            "length": len(JPEG),
            "timestamp": t + 200 * n,
        }
        _frame(recorder, "video", "in", {"msg_type": 15, "content": video})
    _frame(recorder, "audio", "in", {"msg_type": 12, "timestamp": t + 10_000, "sequence": 1})
    _frame(recorder, "audio", "out", {"msg_type": 13, "timestamp": t + 10_000, "sequence": 1})
    stopped = {"state": 4, "reason": s.stop_reason, "timestamp": t + 20_000}
    _frame(recorder, "signaling", "in", {"msg_type": 8, "rtms_stream_id": s.stream_id, **stopped})
    for role in ("signaling", "audio", "video"):
        recorder.closed(role, 1000)
    return recorder
