"""Recording and sanitizing: a transcript that is safe to share and still says what Zoom sent.

:mod:`contracts.sanitize` must remove every secret and identifier (docs/contracts.md,
"Recording"), replace each real identifier by the same placeholder throughout a file, and keep
what drift compares: message types, codes, states, media parameters, keys and JSON types.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from contracts import sanitize
from contracts.cli import main
from contracts.recording import Recorder
from tests.contracts import H264, JPEG, PCM, PNG, Session, record_session

NODE = "contracts/test_signaling.py::test_join[audio/video]"


def saved(tmp_path: Path, session: Session | None = None) -> tuple[dict[str, Any], str]:
    path = sanitize.save(record_session(Recorder(NODE, "live"), session or Session()), tmp_path)
    return json.loads(path.read_text()), path.read_text()


def received(document: dict[str, Any], role: str, msg_type: int) -> list[dict[str, Any]]:
    return [
        e["message"]
        for e in document["entries"]
        if e["role"] == role and e["direction"] == "in" and e["message"].get("msg_type") == msg_type
    ]


def types(value: Any) -> Any:
    """The JSON skeleton of a value: every key kept, every leaf replaced by its type's name."""
    if isinstance(value, dict):
        return {k: types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [types(v) for v in value]
    return type(value).__name__


def test_file_is_one_document_per_test_with_a_portable_name(tmp_path: Path) -> None:
    document, _ = saved(tmp_path)
    (path,) = tmp_path.iterdir()
    assert path.name == "contracts_test_signaling.py__test_join_audio_video.json"
    assert document["format"] == 1
    assert document["test"] == NODE
    assert document["target"] == "live"
    assert len(document["entries"]) > 20
    long = sanitize.filename("c/t.py::test[" + "x" * 300 + "]")
    assert len(long) < 200
    assert long != sanitize.filename("c/t.py::test[" + "x" * 299 + "y]")


def test_secrets_and_identifiers_are_gone(tmp_path: Path) -> None:
    session = Session()
    document, text = saved(tmp_path, session)
    for real in (
        session.signature,
        session.webhook_signature.removeprefix("v0="),
        session.stream_id,
        session.meeting_uuid,
        session.session_id,
        session.speaker_name,
        str(session.speaker_id),
        "rtms-sjc1.zoom.us",
        "abc123",
        "30R7kT7bTIKSNUFEuH_Qlg",
        "eyJhbGciOiJIUzI1NiJ9",
        "tunnel.example",
        base64.b64encode(PCM).decode()[:40],
    ):
        assert real not in text, real
    assert list(sanitize.secrets_in(document)) == []


def test_the_same_value_gets_the_same_placeholder(tmp_path: Path) -> None:
    document, _ = saved(tmp_path)
    webhook = document["entries"][0]["message"]["payload"]
    assert webhook["rtms_stream_id"] == "<stream-1>"
    assert webhook["meeting_uuid"] == "<meeting-1>"
    stream_ids = {
        e["message"]["rtms_stream_id"]
        for e in document["entries"]
        if isinstance(e.get("message"), dict) and "rtms_stream_id" in e["message"]
    }
    assert stream_ids == {"<stream-1>"}  # handshake, CLIENT_READY_ACK, both STREAM_STATE_UPDATEs
    (joined,) = [m for m in received(document, "signaling", 6) if m["event"]["event_type"] == 3]
    speaker, other = joined["event"]["participants"]
    video = received(document, "video", 15)[0]["content"]
    assert (speaker["user_id"], speaker["user_name"]) == (video["user_id"], video["user_name"])
    assert isinstance(speaker["user_id"], int)  # an integer id stays an integer (§4.12)
    assert speaker["user_id"] != other["user_id"]
    assert received(document, "audio", 14)[0]["content"]["user_id"] == 0  # mixed audio stays 0


def test_urls_keep_scheme_and_path_shape(tmp_path: Path) -> None:
    document, _ = saved(tmp_path)
    assert (
        document["entries"][0]["message"]["payload"]["server_urls"]
        == "wss://<host-1>/rtms/signaling?token=<v>"
    )
    urls = received(document, "signaling", 2)[0]["media_server"]["server_urls"]
    assert urls["audio"] == "wss://<host-1>/rtms/media/audio/<stream-1>"
    opened = [e["url"] for e in document["entries"] if e["direction"] == "open"]
    assert opened == [
        "wss://<host-1>/rtms/signaling?token=<v>",
        "wss://<host-1>/rtms/media/audio/<stream-1>",
        "wss://<host-1>/rtms/media/video/<stream-1>",
    ]


def test_codes_states_media_params_and_json_types_are_kept(tmp_path: Path) -> None:
    raw = record_session(Recorder(NODE, "live"), Session()).entries
    document = json.loads(
        sanitize.save(record_session(Recorder(NODE, "live"), Session()), tmp_path).read_text()
    )
    assert len(raw) == len(document["entries"])
    for before, after in zip(raw, document["entries"], strict=True):
        assert (before["role"], before["direction"]) == (after["role"], after["direction"])
        message, clean = before.get("message"), after.get("message")
        if not isinstance(message, dict):
            continue
        for key in ("msg_type", "status_code", "state", "reason", "media_params", "payload_encrypted"):
            assert message.get(key) == clean.get(key)
        if "content" in message:  # media data is described, everything else keeps its type
            audio = message["msg_type"] == 14
            expected = {"bytes": len(PCM), "kind": "pcm"} if audio else {"bytes": len(JPEG), "kind": "jpeg"}
            assert clean["content"].pop("data") == expected
            message = {**message, "content": {k: v for k, v in message["content"].items() if k != "data"}}
        assert types(clean) == types(message)


def test_timestamps_become_offsets_from_the_first(tmp_path: Path) -> None:
    document, _ = saved(tmp_path)
    assert document["entries"][0]["t"] == 0
    assert document["entries"][0]["message"]["event_ts"] == 0
    audio = [m["content"]["timestamp"] for m in received(document, "audio", 14)]
    assert audio[:3] == [0, 20, 40]
    (ended,) = [m for m in received(document, "signaling", 8) if m["state"] == 4]
    assert ended["timestamp"] == 20_000


def test_webhook_headers_keep_only_content_type_and_presence(tmp_path: Path) -> None:
    document, _ = saved(tmp_path)
    assert document["entries"][0]["headers"] == {
        "content-type": "application/json; charset=utf-8",
        "x-zm-request-timestamp": "<present>",
        "x-zm-signature": "v0=<signature>",
    }


@pytest.mark.parametrize(
    ("msg_type", "payload", "codec", "kind"),
    [
        (15, JPEG, None, "jpeg"),
        (15, PNG, None, "png"),
        (16, H264, None, "h264"),
        (14, PCM, 1, "pcm"),
        (14, b"\x4f\x67\x67\x53" + bytes(20), 4, "ogg"),
        (14, bytes(80), 4, "opus"),
        (16, b"\x01\x02\x03", None, "binary"),
    ],
)
def test_media_data_becomes_its_size_and_kind(
    msg_type: int, payload: bytes, codec: int | None, kind: str
) -> None:
    recorder = Recorder(NODE, "live")
    if codec is not None:
        recorder.frame("all", "in", json.dumps({"msg_type": 4, "media_params": {"audio": {"codec": codec}}}))
    data = base64.b64encode(payload).decode()
    recorder.frame("all", "in", json.dumps({"msg_type": msg_type, "content": {"data": data, "user_id": 0}}))
    (*_, entry) = sanitize.sanitize(recorder.entries)
    assert entry["message"]["content"]["data"] == {"bytes": len(payload), "kind": kind}


def test_media_data_that_is_not_base64_is_counted_not_kept() -> None:
    recorder = Recorder(NODE, "live")
    recorder.frame("video", "in", json.dumps({"msg_type": 15, "content": {"data": "not base64 at all!"}}))
    (entry,) = sanitize.sanitize(recorder.entries)
    assert entry["message"]["content"]["data"] == {"bytes": 18, "kind": "not base64"}


@pytest.mark.parametrize("msg_type", [17, 18])
def test_transcript_and_chat_text_becomes_its_length(msg_type: int) -> None:
    recorder = Recorder(NODE, "live")
    content = {"user_id": 16778240, "data": "Hi, hello world!", "language": 9}
    recorder.frame("transcript", "in", json.dumps({"msg_type": msg_type, "content": content}))
    (entry,) = sanitize.sanitize(recorder.entries)
    assert entry["message"]["content"] == {"user_id": 1, "data": "<text 16 chars>", "language": 9}


def test_unparsable_frames_and_stray_secrets_are_redacted() -> None:
    recorder = Recorder(NODE, "live")
    garbage = "not json, secret ef24b2a8b6e34b8c042edd249f9257e2"
    recorder.frame("signaling", "in", garbage)
    stray = {
        "msg_type": 99,
        "note": "ef24b2a8b6e34b8c042edd249f9257e29f13ab3144ca803d7f061f28b2bb1ddf",
        "n": 3,
    }
    recorder.frame("signaling", "in", json.dumps(stray))
    unparsable, unknown = sanitize.sanitize(recorder.entries)
    assert unparsable["message"] == {"unparsable": f"<text {len(garbage)} chars>"}
    assert unknown["message"] == {"msg_type": 99, "note": "<redacted>", "n": 3}


def test_sanitize_leaves_the_recorder_untouched() -> None:
    recorder = record_session(Recorder(NODE, "live"), Session())
    before = json.dumps(recorder.entries)
    sanitize.sanitize(recorder.entries)
    assert json.dumps(recorder.entries) == before


def test_sanitize_check_passes_a_sanitized_recording_and_flags_a_raw_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean, raw = tmp_path / "clean", tmp_path / "raw"
    recorder = record_session(Recorder(NODE, "live"), Session())
    sanitize.save(recorder, clean)
    raw.mkdir()
    document = {"format": 1, "test": NODE, "target": "live", "entries": recorder.entries}
    (raw / "raw.json").write_text(json.dumps(document))
    assert main(["sanitize-check", str(clean)]) == 0
    assert "1 recordings checked, 0 secret-looking values" in capsys.readouterr().out
    assert main(["sanitize-check", str(raw)]) == 1
    out = capsys.readouterr().out
    assert "entries[2].message.signature looks like a 64-hex signature" in out
    assert "looks like a JWT" in out


def test_entries_carry_the_pytest_phase(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder(NODE, "live")
    recorder.opened("signaling", "wss://x/rtms")  # pytest runs this test body in its "call" phase
    monkeypatch.setenv("PYTEST_CURRENT_TEST", f"{NODE} (teardown)")
    recorder.closed("signaling", 1000)
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    recorder.closed("audio", None)
    during, after, outside = sanitize.sanitize(recorder.entries)
    assert (during["phase"], after["phase"]) == ("call", "teardown")
    assert "phase" not in outside
