"""``rtms-contracts drift``: where two recordings differ, test by test and socket by socket.

Synthetic transcripts with known differences must give exactly the drift lines docs/contracts.md
("Recording") describes, identical ones exit 0, drift exits 1, and bad input exits 2 with one
line and no traceback.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from contracts import drift, sanitize
from contracts.cli import main
from contracts.recording import Recorder
from tests.contracts import Session, record_session

REPO = Path(__file__).resolve().parents[2]
TEST = "contracts/test_signaling.py::test_join"
URLS = {"audio": "wss://<host-1>/a", "all": "wss://<host-1>/all"}


def audio(n: int, **content: Any) -> dict[str, Any]:
    data = {"user_id": 0, "data": {"bytes": 640, "kind": "pcm"}, "length": 640, "timestamp": 20 * n}
    return {"role": "audio", "direction": "in", "message": {"msg_type": 14, "content": {**data, **content}}}


def entries(frames: int = 6) -> list[dict[str, Any]]:
    """A sanitized join: handshakes, three state messages, audio frames, a webhook, closes."""
    signaling = [
        {"msg_type": 2, "status_code": 0, "reason": "", "media_server": {"server_urls": dict(URLS)}},
        {"msg_type": 6, "event": {"event_type": 1, "timestamp": 0}},
        {"msg_type": 9, "rtms_session_id": "<rtms-session-1>", "state": 2, "timestamp": 0},
        {"msg_type": 8, "rtms_stream_id": "<stream-1>", "state": 1, "timestamp": 0},
    ]
    webhook = {"event": "meeting.rtms_stopped", "event_ts": 0, "payload": {"stop_reason": 6}}
    return [
        {"role": "signaling", "direction": "out", "message": {"msg_type": 1, "signature": "<signature>"}},
        *({"role": "signaling", "direction": "in", "message": m} for m in signaling),
        {
            "role": "audio",
            "direction": "in",
            "message": {"msg_type": 4, "status_code": 0, "media_params": None},
        },
        *(audio(n) for n in range(frames)),
        {
            "role": "webhook",
            "direction": "in",
            "message": webhook,
            "headers": {"content-type": "application/json"},
        },
        {"role": "signaling", "direction": "close", "code": 1000},
        {"role": "audio", "direction": "close", "code": 1000},
    ]


def write(directory: Path, target: str, tests: dict[str, list[dict[str, Any]]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for test, items in tests.items():
        document = {"format": 1, "test": test, "target": target, "entries": items}
        (directory / sanitize.filename(test)).write_text(json.dumps(document))
    return directory


def run(tmp_path: Path, zoom: list[dict[str, Any]], simulator: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """Exit status and drift lines of ``drift ZOOM --against SIMULATOR`` for one test."""
    left = write(tmp_path / "zoom", "live", {TEST: zoom})
    right = write(tmp_path / "sim", "inprocess", {TEST: simulator})
    report = drift.Report.of(drift.load(left), drift.load(right))
    status = main(["drift", str(left), "--against", str(right)])
    return status, report.drift[TEST]


def signaling(items: list[dict[str, Any]], index: int) -> dict[str, Any]:
    """The ``index``-th message the signaling socket received."""
    got = [e["message"] for e in items if e["role"] == "signaling" and e["direction"] == "in"]
    message: dict[str, Any] = got[index]
    return message


def test_identical_recordings_have_no_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, entries(), entries()) == (0, [])
    out = capsys.readouterr().out
    assert f"{TEST}: same" in out
    assert "summary: 1 compared, 1 same, 0 drift, 0 only in Zoom, 0 only in simulator, 0 not compared" in out


def test_a_key_only_one_side_has_is_reported_once(tmp_path: Path) -> None:
    simulator = entries()
    del signaling(simulator, 0)["media_server"]["server_urls"]["all"]
    status, lines = run(tmp_path, entries(), simulator)
    assert status == 1
    assert lines == [
        "signaling: message 1 SIGNALING_HAND_SHAKE_RESP media_server.server_urls.all: "
        "str in Zoom, missing in simulator"
    ]
    del signaling(simulator, 0)["media_server"]  # a missing subtree: one line, not one per key
    status, lines = run(tmp_path / "again", entries(), simulator)
    assert status == 1
    assert lines == [
        "signaling: message 1 SIGNALING_HAND_SHAKE_RESP media_server: object in Zoom, missing in simulator"
    ]


def test_media_frames_compare_by_shape_and_a_missing_key_is_named(tmp_path: Path) -> None:
    simulator = entries()
    for entry in simulator:
        if entry.get("message", {}).get("msg_type") == 14:
            del entry["message"]["content"]["length"]
    assert run(tmp_path, entries(), simulator) == (
        1,
        ["audio: MEDIA_DATA_AUDIO (first 5) content.length: int in Zoom, missing in simulator"],
    )


def test_media_frame_counts_do_not_matter(tmp_path: Path) -> None:
    assert run(tmp_path, entries(frames=50), entries(frames=2)) == (0, [])


def test_only_the_first_frames_are_compared(tmp_path: Path) -> None:
    late, early = entries(), entries()
    late[6 + 5] = audio(5, length="640")  # the sixth frame: beyond the first 5
    early[6 + 1] = audio(1, length="640")
    assert run(tmp_path, entries(), late) == (0, [])
    status, lines = run(tmp_path / "early", entries(), early)
    assert status == 1
    assert lines == ["audio: MEDIA_DATA_AUDIO (first 5) content.length: int in Zoom, int/str in simulator"]


def test_media_kind_and_enum_values_are_compared(tmp_path: Path) -> None:
    simulator = entries()
    simulator[6] = audio(0, data={"bytes": 640, "kind": "opus"})
    signaling(simulator, 3)["state"] = 6
    signaling(simulator, 0)["reason"] = "OK"
    status, lines = run(tmp_path, entries(), simulator)
    assert status == 1
    assert lines == [
        'audio: MEDIA_DATA_AUDIO (first 5) content.data kind: "pcm" in Zoom, "opus"/"pcm" in simulator',
        'signaling: message 1 SIGNALING_HAND_SHAKE_RESP reason: "" in Zoom, "OK" in simulator',
        "signaling: message 4 STREAM_STATE_UPDATE state: 1 in Zoom, 6 in simulator",
    ]


def test_a_type_change_is_reported(tmp_path: Path) -> None:
    simulator = entries()
    signaling(simulator, 2)["timestamp"] = "0"
    status, lines = run(tmp_path, entries(), simulator)
    assert status == 1
    assert lines == ["signaling: message 3 SESSION_STATE_UPDATE timestamp: int in Zoom, str in simulator"]


def test_message_order_and_extra_messages(tmp_path: Path) -> None:
    swapped = entries()
    swapped[3], swapped[4] = swapped[4], swapped[3]  # STREAM_STATE_UPDATE before SESSION_STATE_UPDATE
    status, lines = run(tmp_path, entries(), swapped)
    assert status == 1
    assert lines == [
        "signaling: message 3 is SESSION_STATE_UPDATE in Zoom, STREAM_STATE_UPDATE in simulator",
        "signaling: message 4 is STREAM_STATE_UPDATE in Zoom, SESSION_STATE_UPDATE in simulator",
    ]
    extra = entries()
    extra.insert(
        2, {"role": "signaling", "direction": "in", "message": {"msg_type": 6, "event": {"event_type": 7}}}
    )
    status, lines = run(tmp_path / "extra", entries(), extra)
    assert status == 1
    assert lines == ["signaling: message 2 EVENT_UPDATE only in simulator"]  # the rest still lines up


def test_webhooks_and_close_codes_are_compared(tmp_path: Path) -> None:
    simulator = copy.deepcopy(entries())
    webhook = next(e for e in simulator if e["role"] == "webhook")
    webhook["message"]["payload"]["operator_id"] = "<user-1>"
    webhook["headers"]["content-type"] = "application/json; charset=utf-8"
    simulator[-1]["code"] = 1011
    status, lines = run(tmp_path, entries(), simulator)
    assert status == 1
    assert lines == [
        "audio: message 2 close code: 1000 in Zoom, 1011 in simulator",
        "webhook: message 1 meeting.rtms_stopped body.payload.operator_id: missing in Zoom, str in simulator",
        'webhook: message 1 meeting.rtms_stopped headers.content-type: "application/json" in Zoom, '
        '"application/json; charset=utf-8" in simulator',
    ]


def test_keep_alives_on_one_side_only_are_not_drift(tmp_path: Path) -> None:
    zoom = entries()
    zoom.insert(
        3,
        {"role": "signaling", "direction": "in", "message": {"msg_type": 12, "timestamp": 0, "sequence": 1}},
    )
    assert run(tmp_path, zoom, entries()) == (0, [])


def test_teardown_traffic_is_left_out(tmp_path: Path) -> None:
    """The live adapter ends a stream with STREAM_CLOSE_REQ, the simulator by its control API."""
    zoom, simulator = entries(), entries()
    for entry in zoom[-3:] + simulator[-3:]:
        entry["phase"] = "teardown"
    close = {"msg_type": 22, "status_code": 0, "reason": "OK"}
    zoom.insert(-2, {"role": "signaling", "direction": "in", "message": close, "phase": "teardown"})
    simulator[-1]["code"] = None
    assert run(tmp_path, zoom, simulator) == (0, [])
    for entry in zoom:
        entry.pop("phase", None)  # a recording from before phases were recorded: all compared
    status, lines = run(tmp_path / "old", zoom, simulator)
    assert status == 1
    assert "signaling: message 5 STREAM_CLOSE_RESP only in Zoom" in lines


def test_a_socket_or_a_medium_on_one_side_only(tmp_path: Path) -> None:
    simulator = [e for e in entries() if e["role"] != "audio"]
    video = {"msg_type": 15, "content": {"data": {"bytes": 64, "kind": "jpeg"}}}
    zoom = [*entries(), {"role": "all", "direction": "in", "message": video}]
    status, lines = run(tmp_path, zoom, simulator)
    assert status == 1
    assert lines == ["all: socket only in Zoom", "audio: socket only in Zoom"]
    no_frames = [e for e in entries() if e.get("message", {}).get("msg_type") != 14]
    status, lines = run(tmp_path / "frames", entries(), no_frames)
    assert status == 1
    assert lines == ["audio: MEDIA_DATA_AUDIO only in Zoom"]


def test_tests_on_one_side_and_tests_without_traffic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zoom = write(
        tmp_path / "zoom", "live", {TEST: entries(), "c/t.py::zoom_only": entries(), "c/t.py::na": []}
    )
    sim = write(
        tmp_path / "sim",
        "inprocess",
        {TEST: entries(), "c/t.py::sim_only": entries(), "c/t.py::na": entries()},
    )
    assert main(["drift", str(zoom), "--against", str(sim)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "c/t.py::zoom_only: only in Zoom" in out
    assert "c/t.py::sim_only: only in simulator" in out
    assert "c/t.py::na: not compared (no traffic recorded in Zoom)" in out
    assert (
        out[-1] == "summary: 1 compared, 1 same, 0 drift, 1 only in Zoom, 1 only in simulator, 1 not compared"
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "not a directory of recordings"),
        ("{not json", "not a JSON recording"),
        ('{"format": 2, "test": "x", "entries": []}', "not a format 1 recording"),
        ('{"format": 1, "test": "x", "entries": [1]}', "not a format 1 recording"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, content: str | None, expected: str) -> None:
    good = write(tmp_path / "good", "live", {TEST: entries()})
    bad = tmp_path / "bad"
    if content is not None:
        bad.mkdir()
        (bad / "broken.json").write_text(content)
    done = subprocess.run(
        [sys.executable, "-m", "contracts.cli", "drift", str(good), "--against", str(bad)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("rtms-contracts: ")
    assert expected in line


def test_an_empty_recording_directory_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path / "good", "live", {TEST: entries()})
    (tmp_path / "empty").mkdir()
    assert main(["drift", str(tmp_path / "empty"), "--against", str(good)]) == 2
    assert main(["drift", str(good), "--against", str(tmp_path / "empty")]) == 2
    assert main(["sanitize-check", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"rtms-contracts: {tmp_path / 'empty'}: no recordings (*.json) in it"] * 3


def test_recorded_sessions_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two sessions with different real ids, hosts and times sanitize to the same shapes."""
    node = "contracts/test_media.py::test_audio_and_video"
    zoom, sim, drifted = tmp_path / "zoom", tmp_path / "sim", tmp_path / "drifted"
    sanitize.save(record_session(Recorder(node, "live"), Session()), zoom)
    other = Session(
        stream_id="b94681b05bb38f16097e8d5c1b2e8f99",
        meeting_uuid="OY2h7m0U55p11sju9dCEOg==",
        host="127.0.0.1:40123",
        speaker_id=16778241,
        epoch_ms=1763700000000,
        frames=3,
    )
    sanitize.save(record_session(Recorder(node, "inprocess"), other), sim)
    assert main(["drift", str(zoom), "--against", str(sim)]) == 0
    assert f"{node}: same" in capsys.readouterr().out
    unlike = Session(audio_length=False, stop_reason=1, extra={"sequence": 0})
    sanitize.save(record_session(Recorder(node, "inprocess"), unlike), drifted)
    assert main(["drift", str(zoom), "--against", str(drifted)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:5] == [
        f"{node}: drift",
        "  audio: MEDIA_DATA_AUDIO (first 5) content.length: int in Zoom, missing in simulator",
        "  signaling: message 1 SIGNALING_HAND_SHAKE_RESP sequence: missing in Zoom, int in simulator",
        "  signaling: message 6 STREAM_STATE_UPDATE reason: 6 in Zoom, 1 in simulator",
        "summary: 1 compared, 0 same, 1 drift, 0 only in Zoom, 0 only in simulator, 0 not compared",
    ]


def test_a_real_contract_file_recorded_and_compared_with_the_simulator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``pytest contracts/test_signaling.py --record`` then ``drift --simulator``: the same shapes."""
    recording = tmp_path / "recording"
    command = [sys.executable, "-m", "pytest", "contracts/test_signaling.py", "--target", "inprocess"]
    command += ["--record", str(recording), "-p", "no:cacheprovider", "-q"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout[-2000:]
    recordings = drift.load(recording)
    assert len(recordings) >= 5
    assert {r.target for r in recordings.values()} == {"inprocess"}
    assert all(list(sanitize.secrets_in(r.entries)) == [] for r in recordings.values())
    assert main(["drift", str(recording), "--simulator"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith(f"summary: {len(recordings)} compared, {len(recordings)} same, 0 drift")
