"""Run Zoom's official ``rtms`` SDK as a client and report its callbacks as JSON lines.

Started by :mod:`contracts.interop.conftest` in a subprocess of its own: the SDK's native core
can crash its process and writes ``logs/`` into its working directory, so it gets a process and
a temporary cwd (docs/protocol.md §6.5). Argument 1 is a JSON object:

- ``payload``: the ``*.rtms_started`` webhook payload, ``client`` and ``secret``: the app's
  credentials (the SDK signs the handshakes itself, §2);
- ``media``: the media callbacks to register, which is what the SDK asks for (§6.4), from
  ``audio``, ``video``, ``deskshare``, ``transcript``;
- ``audio``: optional ``AudioParams`` fields (else the SDK's defaults, §6.4);
- ``ca``: optional CA file for ``wss://`` (``ZM_RTMS_CA``, §6.6);
- ``timeout``: seconds to wait for ``on_leave`` before giving up.

Each callback prints one line ``@@rtms {"cb": name, ...}``; the process exits after
``on_leave`` (or the timeout) with a final ``exit`` line.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

MARK = "@@rtms "  # the SDK prints to stdout too; our lines carry this prefix
_lock = threading.Lock()  # callbacks may run on several SDK threads; keep lines whole


def emit(cb: str, **fields: Any) -> None:
    line = MARK + json.dumps({"cb": cb, **fields}) + "\n"
    with _lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def _frames(kind: str) -> Callable[[bytes, int, int, Any], None]:
    """A media callback reporting each frame of ``kind`` (its first bytes show the codec)."""

    def on_frame(data: bytes, size: int, timestamp: int, meta: Any) -> None:
        emit(
            kind,
            size=size,
            bytes=len(data),
            head=data[:5].hex(),
            timestamp=timestamp,
            user_id=meta.userId,
            user_name=meta.userName,
        )

    return on_frame


def main() -> None:
    spec = json.loads(sys.argv[1])
    os.makedirs("logs", exist_ok=True)  # the native core logs to ./logs/ and complains without it
    if spec.get("ca"):
        os.environ["ZM_RTMS_CA"] = spec["ca"]
    import rtms  # after ZM_RTMS_CA is set: the native core reads it when it initialises

    left = threading.Event()
    # An explicit loop: the zero-config mode segfaults with a second client (SDK notes).
    loop = rtms.EventLoop()
    client = rtms.Client()
    media = set(spec["media"])

    def on_join(reason: int) -> None:
        emit("join_confirm", reason=reason)

    client.on_join_confirm(on_join)

    def on_session(op: int, session: Any) -> None:
        # Only the state: the SDK's string fields and statTime are unreliable (§6.1).
        emit("session_update", op=op, status=session.status)

    client.on_session_update(on_session)

    def on_user(op: int, participant: Any) -> None:
        emit("user_update", op=op, user_id=participant.id, user_name=participant.name)

    client.on_user_update(on_user)

    for kind in ("audio", "video", "deskshare"):
        if kind in media:  # a registered media callback is a media type requested (§6.4)
            getattr(client, f"on_{kind}_data")(_frames(kind))

    if "transcript" in media:

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

        client.on_transcript_data(on_transcript)

    def on_leave(reason: int) -> None:
        emit("leave", reason=reason)
        left.set()

    client.on_leave(on_leave)

    if spec.get("audio"):
        client.set_audio_params(rtms.AudioParams(**spec["audio"]))
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
    sys.stdout.flush()
    # The native core asserts when torn down off its own thread (§6.3): leave the process
    # without running its destructors.
    os._exit(0)


if __name__ == "__main__":
    main()
