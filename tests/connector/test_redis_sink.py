"""The Redis stream sink against a real Redis server (fixture ``redis_db``)."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from connector.errors import SinkError
from connector.protocol import ChatContent, Codec, Event, MediaContent, MediaType, TranscriptContent
from connector.sinks import AudioFormat, RedisStreamSink, StreamInfo, StreamSinks, VideoFormat
from simulator.clock import ManualClock


@pytest.fixture
async def client(redis_db: str) -> AsyncIterator[aioredis.Redis]:
    c = aioredis.Redis.from_url(redis_db)
    yield c
    await c.aclose()


def info(tmp_path: Path, *, fence: int | None = 42, stream_id: str = "03db7045") -> StreamInfo:
    return StreamInfo(stream_id, "4444AAAi/AAAAiAiAiiAii==", "meeting", tmp_path, fence)


async def records(client: aioredis.Redis, key: str) -> list[dict[str, Any]]:
    """XRANGE, with every field but ``data`` decoded."""
    out = []
    for _, fields in await client.xrange(key):
        out.append({k.decode(): v if k == b"data" else v.decode() for k, v in fields.items()})
    return out


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_every_item_becomes_one_record_with_the_fence(
    redis_db: str, client: aioredis.Redis, tmp_path: Path
) -> None:
    sink = RedisStreamSink(redis_db, prefix="test")
    sink.open(info(tmp_path))
    sink.audio_format(AudioFormat(16000, 1, int(Codec.L16), True))
    sink.audio(MediaContent(data=b"\x00\x01\xff", user_id=16778240, user_name="John Smith", timestamp=1000))
    sink.video(MediaType.DESKSHARE, MediaContent(data=b"\xff\xd8", user_id=5, timestamp=1001))
    sink.transcript(TranscriptContent(data="Grüße", user_id=5, start_time=1, end_time=2, language=9), "Ann")
    sink.chat(ChatContent(data="hi", user_id=5, user_name="Ann", timestamp=1003))
    sink.event(Event(event_type=2, timestamp=1004, user_id=5, user_name="Ann"))
    assert await client.exists("test:03db7045") == 0  # buffered until the flush
    await sink.flush()
    got = await records(client, "test:03db7045")
    assert [r["kind"] for r in got] == [
        "start",
        "format",
        "audio",
        "deskshare",
        "transcript",
        "chat",
        "event",
    ]
    assert {r["fence"] for r in got} == {"42"}
    assert {r["instance_id"] for r in got} == {"4444AAAi/AAAAiAiAiiAii=="}
    start, fmt, audio, share, transcript, chat, event = got
    assert json.loads(start["data"]) == {
        "stream_id": "03db7045",
        "instance_id": "4444AAAi/AAAAiAiAiiAii==",
        "product": "meeting",
    }
    assert json.loads(fmt["data"]) == {
        "media": "audio",
        "sample_rate": 16000,
        "channels": 1,
        "codec": 1,
        "per_participant": True,
    }
    assert (audio["user_id"], audio["user_name"], audio["timestamp"], audio["data"]) == (
        "16778240",
        "John Smith",
        "1000",
        b"\x00\x01\xff",
    )
    assert (share["user_id"], share["user_name"], share["data"]) == ("5", "", b"\xff\xd8")
    assert transcript["data"].decode("utf-8") == "Grüße"
    assert (
        transcript["user_name"],
        transcript["start_time"],
        transcript["end_time"],
        transcript["language"],
    ) == (
        "Ann",
        "1",
        "2",
        "9",
    )
    assert transcript["timestamp"] == ""
    assert chat["data"] == b"hi"
    assert json.loads(event["data"]) == {"event_type": 2, "timestamp": 1004, "user_id": 5, "user_name": "Ann"}
    await sink.close()
    end = (await records(client, "test:03db7045"))[-1]
    assert end["kind"] == "end"
    assert json.loads(end["data"]) == {"records": 8, "dropped": 0}
    assert sink.stats() == {"records": 8, "pending": 0, "dropped": 0, "failures": 0}


async def test_without_ownership_the_fence_is_empty(
    redis_db: str, client: aioredis.Redis, tmp_path: Path
) -> None:
    sink = RedisStreamSink(redis_db)
    sink.open(info(tmp_path, fence=None))
    sink.video_format(VideoFormat(MediaType.VIDEO, int(Codec.H264), 30, 2))
    await sink.close()
    got = await records(client, "rtms:03db7045")
    assert [(r["kind"], r["fence"]) for r in got] == [("start", ""), ("format", ""), ("end", "")]
    assert json.loads(got[1]["data"]) == {"media": "video", "codec": 7, "fps": 30, "resolution": 2}


async def test_maxlen_bounds_the_stream(redis_db: str, client: aioredis.Redis, tmp_path: Path) -> None:
    sink = RedisStreamSink(client, maxlen=10)
    sink.open(info(tmp_path))
    for batch in range(10):
        for n in range(100):
            sink.audio(MediaContent(data=bytes([n]), timestamp=batch * 100 + n))
        await sink.flush()
    length = await client.xlen("rtms:03db7045")
    # Approximate trimming removes whole nodes of 100 entries: never more than maxlen + a node.
    assert 10 <= length <= 10 + 100
    assert sink.records == 1001
    await sink.close()
    assert await client.xlen("rtms:03db7045") > 0  # a shared client is left open


async def test_revoke_deletes_the_key_and_nothing_lands_after_it(
    redis_db: str, client: aioredis.Redis, tmp_path: Path
) -> None:
    sink = RedisStreamSink(redis_db)
    sink.open(info(tmp_path))
    sink.audio(MediaContent(data=b"x"))
    await sink.flush()
    other = RedisStreamSink(redis_db)
    other.open(info(tmp_path, stream_id="other"))
    await other.flush()
    sink.audio(MediaContent(data=b"pending, never sent"))
    await sink.revoke()
    await sink.revoke()
    sink.audio(MediaContent(data=b"late"))
    await sink.flush()
    await sink.close()
    assert await client.exists("rtms:03db7045") == 0
    assert await client.exists("rtms:other") == 1
    await other.close()


async def test_a_stream_with_redis_as_an_extra_sink(
    redis_db: str, client: aioredis.Redis, tmp_path: Path
) -> None:
    sinks = StreamSinks.create(
        tmp_path,
        stream_id="abc",
        instance_id="i",
        product="webinar",
        fence=3,
        extra=[RedisStreamSink(redis_db)],
    )
    sinks.event(Event(event_type=1, timestamp=5))
    await sinks.flush()
    await sinks.close()
    assert [r["kind"] for r in await records(client, "rtms:abc")] == ["start", "event", "end"]
    assert sinks.stats()["redis.records"] == 3
    await sinks.revoke()
    assert await client.exists("rtms:abc") == 0
    assert not sinks.directory.exists()


async def test_an_unreachable_redis_is_a_clear_sink_error_without_the_password(tmp_path: Path) -> None:
    clock = ManualClock()
    url = f"redis://user:s3cret@127.0.0.1:{closed_port()}/0"
    sink = RedisStreamSink(url, timeout=2.0, retry_after=5.0, max_pending_bytes=250, clock=clock)
    sink.open(info(tmp_path))  # a start record of about 85 bytes
    sink.audio(MediaContent(data=b"1" * 100))
    with pytest.raises(SinkError) as caught:
        await sink.flush()
    message = str(caught.value)
    assert message.startswith(
        f"redis redis://127.0.0.1:{url.rsplit(':', 1)[1]}: cannot append to rtms:03db7045:"
    )
    assert "s3cret" not in message
    assert "s3cret" not in caught.value.path
    assert "Traceback" not in message
    sink.audio(MediaContent(data=b"2" * 100))  # over 250 bytes: the start record goes
    sink.audio(MediaContent(data=b"3" * 100))  # and then the first frame
    await sink.flush()  # within retry_after: no attempt, no error
    assert sink.stats() == {"records": 0, "pending": 2, "dropped": 2, "failures": 1}
    clock.advance(5.0)
    with pytest.raises(SinkError):
        await sink.flush()
    assert sink.stats()["failures"] == 2
    await sink.close()  # never raises


async def test_a_redis_failure_does_not_stop_the_files(tmp_path: Path) -> None:
    redis_sink = RedisStreamSink(f"redis://127.0.0.1:{closed_port()}/0", timeout=2.0)
    sinks = StreamSinks.create(
        tmp_path, stream_id="abc", instance_id="i", product="meeting", extra=[redis_sink]
    )
    sinks.chat(ChatContent(data="kept on disk"))
    await sinks.flush()
    await sinks.close()
    assert (sinks.directory / "chat.jsonl").read_text(encoding="utf-8").count("kept on disk") == 1
    assert sinks.stats()["sink_errors"] >= 1
    assert sinks.stats()["redis.failures"] >= 1
