"""Run Zoom's official ``rtms`` SDK as a client and report its callbacks as JSON lines.

Started by the interop tests in a subprocess (the SDK's native core can crash a process and
writes ``logs/`` into its working directory, so it gets its own process and a temporary cwd).
Argument 1 is a JSON object: ``payload`` (the rtms_started payload), ``client``, ``secret``,
optional ``ca`` (a CA file for wss://) and optional ``audio`` (AudioParams fields).
Each callback prints one line ``@@rtms {"cb": name, ...}``; the process exits after ``on_leave``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any

MARK = "@@rtms "  # the SDK prints to stdout too; our lines carry this prefix


def emit(cb: str, **fields: Any) -> None:
    sys.stdout.write(MARK + json.dumps({"cb": cb, **fields}) + "\n")
    sys.stdout.flush()


def main() -> None:
    spec = json.loads(sys.argv[1])
    os.makedirs("logs", exist_ok=True)  # the native core logs to ./logs/
    if spec.get("ca"):
        os.environ["ZM_RTMS_CA"] = spec["ca"]
    import rtms  # imported after ZM_RTMS_CA is set: the native core reads it at initialisation

    left = threading.Event()
    loop = rtms.EventLoop()  # an explicit loop: the zero-config mode is unreliable (SDK notes)
    client = rtms.Client()

    @client.on_join_confirm
    def on_join(reason: int) -> None:
        emit("join_confirm", reason=reason)

    @client.on_audio_data
    def on_audio(data: bytes, size: int, timestamp: int, meta: Any) -> None:
        emit(
            "audio",
            size=size,
            bytes=len(data),
            timestamp=timestamp,
            user_id=meta.userId,
            user_name=meta.userName,
        )

    @client.on_transcript_data
    def on_transcript(data: bytes, size: int, timestamp: int, meta: Any) -> None:
        emit(
            "transcript",
            text=data.decode("utf-8", "replace"),
            timestamp=timestamp,
            user_id=meta.userId,
            user_name=meta.userName,
            start=meta.startTs,
            end=meta.endTs,
        )

    @client.on_user_update
    def on_user(op: int, participant: Any) -> None:
        emit("user_update", op=op, user_id=participant.id, user_name=participant.name)

    @client.on_active_speaker_event
    def on_speaker(timestamp: int, user_id: int, user_name: str) -> None:
        emit("active_speaker", timestamp=timestamp, user_id=user_id, user_name=user_name)

    @client.on_leave
    def on_leave(reason: int) -> None:
        emit("leave", reason=reason)
        left.set()

    audio = spec.get("audio")
    if audio:
        client.set_audio_params(rtms.AudioParams(**audio))
    loop.add(client)
    join: dict[str, Any] = dict(spec["payload"])
    join.update(client=spec["client"], secret=spec["secret"])
    if spec.get("ca"):
        join["ca"] = spec["ca"]
    client.join(join)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    left.wait(timeout=float(spec.get("timeout", 120)))
    loop.stop()
    emit("exit")
    # The native core asserts when torn down off its thread (SDK notes); leave the process
    # without running its destructors.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
