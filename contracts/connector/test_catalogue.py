"""The reference connector through the scenario catalogue, judged from the simulator's journal.

Each scenario of ``scenarios/`` that produces a stream is played to its end on the manual
clock against the connector (:mod:`.harness`); the journal says what the connector did on the
wire, the connector's output directories what it made of it. Generic judgements hold for
every scenario:

* at most one connection per stream and channel at any moment, across replicas (§9.1; a second
  signaling socket is Zoom's DUPLICATE_SIGNAL_REQUEST, §5.2);
* every KEEP_ALIVE_REQ is answered with a KEEP_ALIVE_RESP carrying its ``timestamp``, on the
  socket it came on (§4.11);
* the ``stream.json`` the connector wrote has the stop reason Zoom ended the stream with (§5.3);
  a revoked stream (8) leaves nothing behind (§5.3, pain point 16).

Particular ones: reconnects inside Zoom's windows after losses on Zoom's side (§9.2), no frame
lost in runs without a loss (§4.12), STREAM_CLOSE_REQ for every live stream on shutdown
(§4.14), and field reports F1-F3 (rtms-scenarios §3).

A scenario's ``expect`` section describes the built-in stand-in app, not this connector, and is
not compared: the ``x-*-no-reconnect`` scenarios become reconnect scenarios here (the connector
always follows Zoom's guidance), and the stand-in's own faults (``client_*`` in
``x-keep-alive-timeout``, ``x-app-crash``) leave the connector a clean run.

Left out of the catalogue: scenarios that produce no stream (nothing reaches the connector but
webhooks), and those costing more than :data:`BUDGET` stream-seconds of media:
``w-retries-until-2xx`` (2000 s), ``w-slow-endpoint-gives-up`` (6000 s) — their point, failing
and slow webhook answers, is the stand-in app's script, so against the connector they are long
clean streams like ``x-keep-alive-timeout`` —, ``z-hour-long-meeting`` (3700 s; its drops are
those of the ``x-*`` scenarios) and ``z-many-meetings`` (40 x 120 s; its streams serve the
shutdown contract below, played until they are all joined). Together they would take about
40 s more.
"""

from __future__ import annotations

import logging
import math
import wave
from collections import defaultdict
from pathlib import Path

import pytest

from connector.manual import StartState
from connector.protocol import StopReason
from contracts import wire
from simulator import scenario as sc
from simulator.journal import Record

from .harness import SCENARIOS, Harness, Played

BUDGET = 600.0  # stream-seconds of media one scenario may cost (~1 s of this machine's time)
GRACE = 1.0  # scenario seconds a request may go unanswered when its socket closes meanwhile
LOSSES = {"drop_signaling", "close_signaling", "drop_media", "close_media", "failover"}
OPENERS = {"SIGNALING_HAND_SHAKE_REQ", "DATA_HAND_SHAKE_REQ"}
MEDIA_KEY = {code: key for key, code in wire.MEDIA_KEYS.items()}


def _length(scenario: sc.Scenario) -> float:
    return scenario.duration or (scenario.timeline[-1].at if scenario.timeline else 0.0)


def _losses(scenario: sc.Scenario) -> bool:
    return any(isinstance(step, sc.Fault) and step.kind in LOSSES for step in scenario.timeline)


def _catalogue() -> list[sc.Scenario]:
    loaded = [sc.load(path) for path in sorted(SCENARIOS.glob("*.yaml"))]
    return [s for s in loaded if s.expect.streams and s.expect.streams * _length(s) <= BUDGET]


CATALOGUE = _catalogue()
ALL = [s.name for s in CATALOGUE]
CLEAN = [s.name for s in CATALOGUE if not _losses(s)]
LOSSY = [s.name for s in CATALOGUE if _losses(s)]


# -- reading the journal ---------------------------------------------------------------------


def _wire(record: Record) -> bool:
    return record.stream_id is not None and (
        record.channel == "signaling" or record.channel.startswith("media:")
    )


def most_at_once(records: list[Record]) -> dict[tuple[str, str], int]:
    """The most sockets open at once per (stream, channel): a socket counts from its handshake
    request until the simulator saw it close."""
    level: dict[tuple[str, str], int] = defaultdict(int)
    peak: dict[tuple[str, str], int] = defaultdict(int)
    for r in filter(_wire, records):
        key = (str(r.stream_id), r.channel)
        if r.kind in OPENERS and r.direction == "in":
            level[key] += 1
            peak[key] = max(peak[key], level[key])
        elif r.kind == "socket_closed":
            level[key] -= 1
    return dict(peak)


def sockets(records: list[Record]) -> list[list[Record]]:
    """Each socket's records, from its handshake request to its ``socket_closed`` (one socket
    per stream and channel at a time, which :func:`most_at_once` checks)."""
    current: dict[tuple[str, str], list[Record]] = {}
    done: list[list[Record]] = []
    for r in filter(_wire, records):
        key = (str(r.stream_id), r.channel)
        if r.kind in OPENERS and r.direction == "in":
            current[key] = []
        if key in current:
            current[key].append(r)
            if r.kind == "socket_closed":
                done.append(current.pop(key))
    return done + list(current.values())


def stop_reasons(records: list[Record]) -> dict[str, int]:
    return {str(r.stream_id): int(r.detail["stop_reason"]) for r in records if r.kind == "terminated"}


def created(records: list[Record]) -> list[str]:
    return [str(r.stream_id) for r in records if r.kind == "stream_created"]


def accepted(records: list[Record], stream_id: str, channel: str, after: float) -> Record | None:
    """The first handshake the simulator accepted on ``channel`` of the stream after ``after``."""
    return next(
        (
            r
            for r in records
            if r.stream_id == stream_id
            and r.channel == channel
            and r.kind.endswith("HAND_SHAKE_RESP")
            and r.detail.get("status_code") == 0
            and r.t >= after
        ),
        None,
    )


# -- the catalogue: generic judgements ----------------------------------------------------------


@pytest.mark.parametrize("played", ALL, indirect=True)
def test_one_connection_per_stream_and_channel_at_a_time(played: Played) -> None:
    assert created(played.records), "the scenario produced no stream"
    peaks = most_at_once(played.records)
    assert any(channel == "signaling" for _, channel in peaks), "the connector never connected"
    crowded = {key: n for key, n in peaks.items() if n > 1}
    assert not crowded, f"sockets open at once, by (stream, channel): {crowded}"


@pytest.mark.parametrize("played", ALL, indirect=True)
def test_every_keep_alive_is_answered_on_its_socket(played: Played) -> None:
    requests, unanswered = 0, []
    for socket in sockets(played.records):
        closed = socket[-1].t if socket[-1].kind == "socket_closed" else math.inf
        for i, r in enumerate(socket):
            if r.kind != "KEEP_ALIVE_REQ":
                continue
            requests += 1
            answered = any(
                a.kind == "KEEP_ALIVE_RESP" and a.detail.get("timestamp") == r.detail["timestamp"]
                for a in socket[i + 1 :]
            )
            if not answered and closed - r.t > GRACE:
                unanswered.append((r.channel, r.t, r.detail["sequence"]))
    assert not unanswered, f"KEEP_ALIVE_REQ never answered (channel, t, sequence): {unanswered}"
    lived = max((s[-1].t - s[0].t for s in sockets(played.records)), default=0.0)
    if lived > played.config.keep_alive_interval + GRACE:
        assert requests, "sockets lived past a keep-alive interval, yet no KEEP_ALIVE_REQ was judged"
    mismatched = [r for r in played.records if r.kind == "keep_alive_mismatch"]
    assert not mismatched, f"KEEP_ALIVE_RESP with a timestamp Zoom never sent: {mismatched}"


@pytest.mark.parametrize("played", ALL, indirect=True)
def test_stream_json_has_the_stop_reason_zoom_sent(played: Played) -> None:
    reasons = stop_reasons(played.records)
    assert set(created(played.records)) <= set(reasons), "a stream was still running at the end"
    for stream_id, reason in reasons.items():
        runs = played.streams.get(stream_id, [])
        if reason == StopReason.STREAM_REVOKED:
            kept = [p for out in played.outputs for p in out.glob(f"{stream_id}*")]
            assert not runs, f"a revoked stream left its summary: {runs}"
            assert not kept, f"a revoked stream left {kept}"
            continue
        assert runs, f"no stream.json for stream {stream_id} (Zoom stopped it with {reason})"
        assert runs[-1]["stop_reason"] == reason, f"stream {stream_id}: {runs[-1]['detail']}"
        assert runs[-1]["stop_reason_name"] == StopReason(reason).zoom_name


# -- losses on Zoom's side: reconnects inside the windows (§9.2) ------------------------------------


@pytest.mark.parametrize("played", LOSSY, indirect=True)
def test_reconnects_inside_zooms_window_and_the_stream_goes_on(played: Played) -> None:
    records, config = played.records, played.config
    faults = [r for r in records if r.kind == "fault" and r.detail["fault"] in LOSSES]
    assert faults, "the scenario's loss did not happen"
    lost_reasons = set(config.lost_connection_stop_reasons.values())
    for fault in faults:
        sid = str(fault.stream_id)
        if fault.detail["fault"] == "drop_media":
            lost = [f"media:{MEDIA_KEY[fault.detail['media_type']]}"]
            window = config.media_reconnect_window
        else:  # signaling, and the media sockets that go with it
            lost = ["signaling", *{r.channel for r in records if r.stream_id == sid and r.t < fault.t}]
            lost = sorted({c for c in lost if c == "signaling" or c.startswith("media:")})
            window = config.signaling_reconnect_window
        for channel in lost:
            back = accepted(records, sid, channel, fault.t)
            assert back is not None, f"{channel} never came back after {fault.detail['fault']}"
            assert back.t - fault.t <= window, f"{channel} back after {back.t - fault.t:.1f} s (> {window} s)"
        ended = next(r for r in records if r.kind == "terminated" and r.stream_id == sid)
        assert ended.detail["stop_reason"] not in lost_reasons, "the stream ended for the lost connection"
        assert ended.t >= fault.t + window, "the stream did not outlive the reconnection window"
        if "signaling" in lost:
            rejoined = accepted(records, sid, "signaling", fault.t)
            assert rejoined is not None
            assert any(
                r.kind == "CLIENT_READY_ACK" and r.stream_id == sid and r.t >= rejoined.t for r in records
            ), "the new signaling connection never got to CLIENT_READY_ACK"


# -- no frame lost without a loss (§4.12) ----------------------------------------------------------


def _audio_frames(directory: Path, records: list[Record], stream_id: str) -> int:
    """MEDIA_DATA_AUDIO frames in ``audio.wav``: its samples over the negotiated frame length."""
    path = directory / "audio.wav"
    if not path.exists():
        return 0
    answer = next(
        r
        for r in records
        if r.stream_id == stream_id and r.channel == "media:audio" and r.kind == "DATA_HAND_SHAKE_RESP"
    )
    send_rate = int(answer.detail["media_params"]["audio"]["send_rate"])  # ms of audio per frame
    with wave.open(str(path), "rb") as w:
        per_frame = w.getframerate() * send_rate // 1000
        frames, partial = divmod(w.getnframes(), per_frame)
    assert partial == 0, f"{path} holds a partial frame"
    return frames


@pytest.mark.parametrize("played", CLEAN, indirect=True)
def test_no_frame_lost_without_a_loss(played: Played) -> None:
    for stream_id, reason in stop_reasons(played.records).items():
        if reason == StopReason.STREAM_REVOKED:
            continue  # nothing may be kept: judged with the stop reasons
        directories = [Path(run["directory"]) for run in played.streams.get(stream_id, [])]
        audio = sum(_audio_frames(d, played.records, stream_id) for d in directories)
        lines = sum(_lines(d / "transcript.jsonl") for d in directories)
        assert audio == played.media_counts[(stream_id, "audio")], f"stream {stream_id}: audio frames"
        assert lines == played.media_counts[(stream_id, "transcript")], f"stream {stream_id}: transcripts"


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


# -- shutdown: STREAM_CLOSE_REQ for every live stream (§4.14) ----------------------------------------


async def test_shutdown_closes_every_live_stream_with_stream_close_req(tmp_path: Path) -> None:
    async with Harness("z-many-meetings", tmp_path) as harness:
        records = harness.journal.records

        def joined() -> set[str]:
            return {str(r.stream_id) for r in records if r.kind == "CLIENT_READY_ACK"}

        while len(joined()) < 40 and harness.clock.now() < 20.0:  # well inside Zoom's 60 s
            await harness.play(until=harness.clock.now() + 0.5)
        await harness.play(until=harness.clock.now() + 1.0)  # media flowing on every stream
        live = [s for s in created(records) if s not in stop_reasons(records)]
        assert len(live) == 40
        assert set(live) <= joined(), "the forty streams are not all joined"
        await harness.drain()
        records = harness.journal.records
        for sid in live:
            kinds = [r.kind for r in records if r.stream_id == sid and r.channel == "signaling"]
            assert "STREAM_CLOSE_REQ" in kinds, f"stream {sid} got no STREAM_CLOSE_REQ"
            assert kinds[kinds.index("STREAM_CLOSE_REQ") + 1] == "STREAM_CLOSE_RESP"
        assert stop_reasons(records) == dict.fromkeys(live, StopReason.RECEIVER_REQUEST_CLOSE)
        written = harness.stream_files()
        assert {sid: runs[-1]["stop_reason"] for sid, runs in written.items()} == stop_reasons(records)


# -- field reports (rtms-scenarios §3) ---------------------------------------------------------


@pytest.mark.parametrize("played", ["f1-wrong-app-credentials"], indirect=True)
def test_f1_wrong_credentials_stop_with_18_and_no_reconnect_loop(played: Played) -> None:
    (sid,) = created(played.records)
    requests = [r for r in played.records if r.kind == "SIGNALING_HAND_SHAKE_REQ"]
    assert [r.stream_id for r in requests] == [sid], "a rejoin with the same credentials cannot succeed"
    assert stop_reasons(played.records) == {sid: StopReason.AUTHENTICATION_FAILURE}
    (summary,) = played.streams[sid]
    assert summary["stop_reason"] == StopReason.AUTHENTICATION_FAILURE
    assert summary["reconnects"] == 0
    assert "Client ID and Client Secret" in (summary["guidance"] or "")


@pytest.mark.parametrize(
    "played", ["f1-racing-instances-rejected", "f1-racing-instances-replaced"], indirect=True
)
def test_f1_racing_instances_one_handshake_accepted(played: Played) -> None:
    (sid,) = created(played.records)
    answers = [r.detail["status_code"] for r in played.records if r.kind == "SIGNALING_HAND_SHAKE_RESP"]
    assert answers == [0], "more than one replica tried to join (8 DUPLICATE_SIGNAL_REQUEST, or a kick)"
    assert not [r for r in played.records if r.kind == "replaced"]
    assert len(played.outputs) == played.scenario.client.instances == 4
    writers = [out for out in played.outputs if (out / sid / "stream.json").exists()]
    assert len(writers) == 1, f"stream.json written by {writers}"
    assert played.media_counts[(sid, "audio")] > 0


async def test_f2_the_manual_starter_asks_again_after_the_host_joined(tmp_path: Path) -> None:
    async with Harness("f2-participant-joined-before-host", tmp_path, manual=True) as harness:
        host_joins = next(
            s.at for s in harness.scenario.timeline if isinstance(s, sc.Join) and s.user == "host"
        )
        await harness.play()
        await harness.settled()
        records = harness.journal.records
    requests = [r for r in records if r.detail.get("trigger") == "request"]
    assert [r.detail.get("rule") for r in requests] == ["owner_absent", "start"]
    assert requests[0].t < host_joins <= requests[1].t, "the second request did not follow the host"
    (sid,) = created(records)
    assert stop_reasons(records) == {sid: StopReason.MEETING_ENDED}
    assert harness.journal.media_counts[(sid, "audio")] > 0
    assert [r["stop_reason"] for r in harness.stream_files()[sid]] == [StopReason.MEETING_ENDED]


@pytest.mark.parametrize("name", ["f3-not-entitled-13262", "f3-unpublished-app-13262"])
async def test_f3_13262_is_a_diagnosis_not_a_traceback_nor_a_retry(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    caplog.set_level(logging.INFO, logger="connector")
    async with Harness(name, tmp_path, manual=True) as harness:
        starter = harness.connectors[0].starter
        assert starter is not None
        meeting = harness.sim.world.meeting("standup").number
        ends = next(s.at for s in harness.scenario.timeline if isinstance(s, sc.EndMeeting))
        await harness.play(until=ends - 0.5)  # long past any backoff the starter could use
        assert starter.state(meeting) is StartState.FAILED
        assert starter.attempts(meeting) == 1, "a permanent error was retried"
        error = starter.last_error(meeting)
        await harness.play()
    assert error is not None
    assert error.code == 13262
    assert "RTMS" in error.guidance.action
    assert created(harness.journal.records) == []
    assert "13262" in caplog.text
    assert "not authorized to access meeting content" in caplog.text  # Zoom's own words, logged
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info], "an exception was logged with its traceback"
