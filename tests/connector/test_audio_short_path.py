"""The reader's short path for mixed L16 audio (connector/session.py ``_Reader``): it must do
exactly what the full path does (the client's check, the session's dispatch, the sinks),
and be left for the full path whenever any condition of it fails."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connector.backpressure import Drains
from connector.config import ConnectorConfig
from connector.metrics import Metrics
from connector.protocol import (
    AudioParams,
    DataHandshakeResp,
    MediaContent,
    MediaDataAudio,
    MediaParams,
    MediaServer,
    MediaType,
    SignalingHandshakeResp,
    encode,
)
from connector.session import _TAP_TRIES, StreamSession, _Reader
from connector.sinks import Sink, StreamSinks
from connector.stream import EndCause, Open, Send
from simulator.clock import ManualClock

from .conftest import started_event

MakeConfig = Callable[..., ConnectorConfig]

MIXED = 1  # data_opt AUDIO_MIXED_STREAM
PER_PARTICIPANT = 2  # data_opt AUDIO_MULTI_STREAMS


class _Socket:
    """What a reader needs of its WebSocket: nothing, unless it fails."""

    def __init__(self) -> None:
        self.closed_with: int | None = None


class _Recording(Sink):
    """An extra sink that keeps the audio it is given."""

    name = "recording"

    def __init__(self) -> None:
        self.audio_frames: list[bytes] = []

    def audio(self, content: MediaContent) -> None:
        self.audio_frames.append(content.data)

    def flush(self) -> None:
        pass

    async def revoke(self) -> None:
        self.audio_frames.clear()


def streaming(
    config: ConnectorConfig, out: Path, *, data_opt: int = MIXED, extra: tuple[Sink, ...] = ()
) -> tuple[StreamSession, _Reader, Metrics]:
    """A session whose audio socket has shaken hands (no sockets: what would be sent is not),
    and the reader of that socket."""
    event = started_event("ws://127.0.0.1:1/signal")
    sinks = StreamSinks.create(
        out, stream_id=event.rtms_stream_id, instance_id=event.instance_id, product="meeting", extra=extra
    )
    metrics = Metrics()
    drains = Drains(ManualClock(), config.flush_interval)  # flushes are due, never run here
    session = StreamSession(config, event, sinks, metrics=metrics, rng=random.Random(7), drains=drains)
    client = session.client

    def apply(actions: list[Any]) -> None:
        session._apply([a for a in actions if not isinstance(a, Send | Open)])

    apply(client.start())
    apply(client.opened("signaling"))
    urls = {"audio": "ws://127.0.0.1:1/audio"}
    apply(
        client.received(
            "signaling", SignalingHandshakeResp(status_code=0, media_server=MediaServer(server_urls=urls))
        )
    )
    apply(client.opened("audio"))
    params = MediaParams(
        audio=AudioParams(content_type=2, sample_rate=1, channel=1, codec=1, data_opt=data_opt)
    )
    apply(client.received("audio", DataHandshakeResp(status_code=0, media_params=params)))
    assert client.ready
    return session, _Reader(session, client, "audio", _Socket()), metrics  # type: ignore[arg-type]


def frame(pcm: bytes, timestamp: int, user_id: int = 0) -> bytes:
    return encode(MediaDataAudio(content=MediaContent(user_id=user_id, data=pcm, timestamp=timestamp)))


def pcm_frames(count: int, *, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(640) for _ in range(count)]


def wav_bytes(session: StreamSession) -> bytes:
    session.sinks.flush_files()
    return (session.sinks.file_sink.directory / "audio.wav").read_bytes()


def frames_counted(metrics: Metrics) -> int:
    return metrics._frames["audio"]


def test_the_short_path_writes_and_counts_what_the_full_path_does(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    config = make_config(media_types=(MediaType.AUDIO,))
    short, short_reader, short_metrics = streaming(config, tmp_path / "short")
    full, full_reader, full_metrics = streaming(config, tmp_path / "full")
    full_reader.tap_tries = _TAP_TRIES  # never looks for the short path
    pcms = pcm_frames(3 * 50 + 7)  # over three seconds: the WAV header is rewritten on the way
    for n, pcm in enumerate(pcms):
        short_reader(frame(pcm, 1_700_000_000_000 + 20 * n))
        full_reader(frame(pcm, 1_700_000_000_000 + 20 * n))
    assert short_reader.tap is not None
    assert full_reader.tap is None
    assert wav_bytes(short) == wav_bytes(full)
    assert b"".join(pcms) in wav_bytes(short)
    assert short.sinks.audio_messages == full.sinks.audio_messages == len(pcms)
    assert short.sinks.audio_frames == full.sinks.audio_frames == len(pcms) * 320
    assert frames_counted(short_metrics) == frames_counted(full_metrics) == len(pcms)
    assert (short._unflushed, short._flush_due) == (True, True)  # a flush is due, as on the full path
    assert (full._unflushed, full._flush_due) == (True, True)


def test_with_an_extra_sink_every_frame_takes_the_full_path(make_config: MakeConfig, tmp_path: Path) -> None:
    recording = _Recording()
    session, reader, metrics = streaming(
        make_config(media_types=(MediaType.AUDIO,)), tmp_path / "s", extra=(recording,)
    )
    pcms = pcm_frames(80)
    for n, pcm in enumerate(pcms):
        reader(frame(pcm, 20 * n))
    assert reader.tap is None
    assert reader.tap_tries == _TAP_TRIES  # it stopped looking
    assert recording.audio_frames == pcms  # the extra sink got every frame
    assert session.sinks.audio_messages == 80 == frames_counted(metrics)


def test_per_participant_audio_takes_the_full_path(make_config: MakeConfig, tmp_path: Path) -> None:
    session, reader, metrics = streaming(
        make_config(media_types=(MediaType.AUDIO,)), tmp_path / "s", data_opt=PER_PARTICIPANT
    )
    for n, pcm in enumerate(pcm_frames(60)):
        reader(frame(pcm, 1_700_000_000_000 + 20 * n, user_id=16778240))
    assert reader.tap is None
    assert session.sinks.audio_messages == 60 == frames_counted(metrics)


def test_a_payload_that_is_not_whole_samples_takes_the_full_path(
    make_config: MakeConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    session, reader, metrics = streaming(make_config(media_types=(MediaType.AUDIO,)), tmp_path / "s")
    pcms = pcm_frames(10)
    for n, pcm in enumerate(pcms):
        reader(frame(pcm, 20 * n))
    assert reader.tap is not None
    with caplog.at_level(logging.WARNING):
        reader(frame(b"\x01\x02\x03", 200))  # one whole sample and a half
    assert "not a whole number of frames; truncated" in caplog.text
    assert wav_bytes(session).endswith(b"".join(pcms) + b"\x01\x02")
    assert session.sinks.audio_messages == 11 == frames_counted(metrics)


def test_audio_after_the_socket_closed_is_not_written(make_config: MakeConfig, tmp_path: Path) -> None:
    session, reader, metrics = streaming(make_config(media_types=(MediaType.AUDIO,)), tmp_path / "s")
    pcms = pcm_frames(10)
    for n, pcm in enumerate(pcms):
        reader(frame(pcm, 20 * n))
    assert reader.tap is not None
    session._apply(session.client.closed("audio", "audio socket closed by Zoom (code 1000)", clean=True))
    reader(frame(b"\x00\x01" * 320, 1000))  # not streaming any more: the full path ignores it
    assert wav_bytes(session).endswith(b"".join(pcms))
    assert session.sinks.audio_messages == 10 == frames_counted(metrics)


class _Broken:
    """A file whose writes fail, as a full disk's do."""

    def write(self, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    def flush(self) -> None:
        pass


def test_a_write_that_fails_ends_the_stream_as_on_the_full_path(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    session, reader, metrics = streaming(make_config(media_types=(MediaType.AUDIO,)), tmp_path / "s")
    for n, pcm in enumerate(pcm_frames(5)):
        reader(frame(pcm, 20 * n))
    assert reader.tap is not None
    reader.tap.wav._file = _Broken()  # type: ignore[assignment]
    reader(frame(b"\x00\x01" * 320, 100))
    outcome = session.client.outcome
    assert outcome is not None
    assert outcome.cause is EndCause.FAILED
    assert "output cannot be written" in outcome.detail
    assert "No space left" in outcome.detail
    assert (session._sink_failed, session._queueing) == (True, True)
    counted = frames_counted(metrics)
    reader(frame(b"\x00\x01" * 320, 120))  # from now on frames go the full way: queued, then dropped
    assert frames_counted(metrics) == counted + 1
    assert session.sinks.audio_messages == 6  # the failed frame was counted by its recorder, as before
