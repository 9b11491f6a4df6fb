"""A sink that appends everything a stream delivers to a Redis stream (``XADD``), for
consumers that process media live (docs/sinks.md, "Redis stream records").

Each stream gets the key ``<prefix>:<rtms_stream_id>``, trimmed to about ``maxlen`` records.
Every record carries the fencing token of the ownership lease (``fence``) and the instance
id, so that a consumer can ignore records written by an instance that has since lost the
stream. The per-item methods only append to an in-memory batch; :meth:`flush` sends the batch
in one pipeline. Delivery is at least once: a batch that fails part-way is sent again whole.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from urllib.parse import urlsplit

import msgspec
import redis.asyncio as aioredis
from msgspec import UnsetType
from redis.exceptions import RedisError

from ..clock import Clock, SystemClock
from ..errors import SinkError
from ..protocol import ChatContent, Event, MediaContent, MediaType, TranscriptContent
from .base import AudioFormat, Sink, StreamInfo, VideoFormat

__all__ = ["RedisStreamSink"]

logger = logging.getLogger("connector.sinks.redis")

Fields = dict[str | bytes, str | bytes | int]
_encoder = msgspec.json.Encoder()


def _text(value: object) -> str:
    return "" if value is None or isinstance(value, UnsetType) else str(value)


class RedisStreamSink(Sink):
    """``XADD`` every item of one stream to ``<prefix>:<stream_id>``.

    ``url_or_client`` is a ``redis://`` URL (the sink then owns and closes its client) or a
    ``redis.asyncio.Redis`` shared with others (left open). ``timeout`` bounds each flush
    (seconds); after a failure, flushes wait ``retry_after`` seconds of ``clock`` before trying
    again, meanwhile records whose ``data`` adds up to at most ``max_pending_bytes`` are kept
    (the oldest are dropped and counted). Redis errors become :class:`SinkError` without a
    traceback, and never carry the URL's password.
    """

    name = "redis"

    def __init__(
        self,
        url_or_client: str | aioredis.Redis,
        *,
        prefix: str = "rtms",
        maxlen: int = 10_000,
        timeout: float = 5.0,
        retry_after: float = 5.0,
        max_pending_bytes: int = 64 * 1024 * 1024,
        clock: Clock | None = None,
    ) -> None:
        if isinstance(url_or_client, str):
            self._url: str | None = url_or_client
            self._client: aioredis.Redis | None = None
            self.where = _redacted(url_or_client)
        else:
            self._url = None
            self._client = url_or_client
            kwargs = url_or_client.connection_pool.connection_kwargs
            self.where = f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"
        self.prefix = prefix
        self.maxlen = maxlen
        self.timeout = timeout
        self.retry_after = retry_after
        self.key = ""
        self.records = 0  # records Redis acknowledged
        self.dropped = 0  # records dropped while Redis was unreachable
        self.failures = 0
        self._info: StreamInfo | None = None
        self._pending: deque[Fields] = deque()
        self._pending_bytes = 0
        self.max_pending_bytes = max_pending_bytes
        self._clock: Clock = clock or SystemClock()
        self._retry_at: float | None = None
        self._lock = asyncio.Lock()  # a revoke waits for a flush in flight, then deletes
        self._closed = False
        self._revoked = False

    # --- per item: buffer only -------------------------------------------------------------

    def open(self, info: StreamInfo) -> None:
        self._info = info
        self.key = f"{self.prefix}:{info.stream_id}"
        self._add(
            "start",
            data=_encoder.encode(
                {"stream_id": info.stream_id, "instance_id": info.instance_id, "product": info.product}
            ),
        )

    def audio_format(self, fmt: AudioFormat) -> None:
        self._add(
            "format",
            data=_encoder.encode(
                {
                    "media": "audio",
                    "sample_rate": fmt.sample_rate,
                    "channels": fmt.channels,
                    "codec": fmt.codec,
                    "per_participant": fmt.per_participant,
                }
            ),
        )

    def video_format(self, fmt: VideoFormat) -> None:
        self._add(
            "format",
            data=_encoder.encode(
                {"media": fmt.kind.key, "codec": fmt.codec, "fps": fmt.fps, "resolution": fmt.resolution}
            ),
        )

    def audio(self, content: MediaContent) -> None:
        self._media("audio", content)

    def video(self, kind: MediaType, content: MediaContent) -> None:
        self._media(kind.key, content)

    def _media(self, kind: str, content: MediaContent) -> None:
        self._add(kind, content.user_id, content.user_name, content.timestamp, content.data)

    def transcript(self, content: TranscriptContent, user_name: str | None) -> None:
        name = user_name if user_name is not None else content.user_name
        self._add(
            "transcript",
            content.user_id,
            name,
            content.timestamp,
            content.data.encode("utf-8"),
            start_time=_text(content.start_time),
            end_time=_text(content.end_time),
            language=_text(content.language),
            attribute=_text(content.attribute),
        )

    def chat(self, content: ChatContent) -> None:
        self._add("chat", content.user_id, content.user_name, content.timestamp, content.data.encode("utf-8"))

    def event(self, event: Event) -> None:
        self._add("event", event.user_id, event.user_name, event.timestamp, _encoder.encode(event))

    def _add(
        self,
        kind: str,
        user_id: object = None,
        user_name: object = None,
        timestamp: object = None,
        data: bytes = b"",
        **extra: str,
    ) -> None:
        if self._closed or self._revoked or self._info is None:
            return
        fence = self._info.fence
        fields: Fields = {
            "kind": kind,
            "user_id": _text(user_id),
            "user_name": _text(user_name),
            "timestamp": _text(timestamp),
            "data": data,
            "fence": "" if fence is None else str(fence),
            "instance_id": self._info.instance_id,
        }
        fields.update(extra)
        self._pending.append(fields)
        self._pending_bytes += len(data)
        self._trim()

    def _trim(self) -> None:
        """Drop the oldest records while the pending data is over its bound (the newest stays)."""
        while self._pending_bytes > self.max_pending_bytes and len(self._pending) > 1:
            self._pending_bytes -= _size(self._pending.popleft())
            self.dropped += 1

    # --- network ---------------------------------------------------------------------------

    async def flush(self) -> None:
        """Send the batch in one pipeline. Raises :class:`SinkError` when Redis fails; the
        batch is kept for the next attempt, which waits ``retry_after`` seconds."""
        if not self._pending or self._revoked:
            return
        if self._retry_at is not None and self._clock.now() < self._retry_at:
            return
        await self._send()

    async def _send(self) -> None:
        async with self._lock:
            if not self._pending or self._revoked:
                return
            batch = list(self._pending)
            self._pending.clear()
            self._pending_bytes = 0
            try:
                async with asyncio.timeout(self.timeout):
                    pipe = self._redis().pipeline(transaction=False)
                    for fields in batch:
                        pipe.xadd(self.key, fields, maxlen=self.maxlen, approximate=True)  # type: ignore[arg-type]
                    await pipe.execute()
            except (RedisError, OSError, TimeoutError) as exc:
                self.failures += 1
                self._retry_at = self._clock.now() + self.retry_after
                self._requeue(batch)
                raise self._error(f"cannot append to {self.key}", exc) from None
            self._retry_at = None
            self.records += len(batch)

    def _requeue(self, batch: list[Fields]) -> None:
        """Put a failed batch back in front of what came meanwhile, then trim to the bound."""
        self._pending.extendleft(reversed(batch))
        self._pending_bytes += sum(_size(fields) for fields in batch)
        self._trim()

    async def close(self) -> None:
        """Send what is pending and an ``end`` record, then close a client this sink made.
        Idempotent; never raises (a failure is logged)."""
        if self._closed:
            return
        if not self._revoked:
            self._add(
                "end",
                data=_encoder.encode(
                    {"records": self.records + len(self._pending) + 1, "dropped": self.dropped}
                ),
            )
        self._closed = True
        try:
            await self._send()
        except SinkError as exc:
            logger.error("stream %s: %s; %d records not delivered", self._stream_id, exc, len(self._pending))
        except Exception:  # close() must not raise, even for a bug
            logger.exception("stream %s: redis sink failed to close", self._stream_id)
        finally:
            await self._release()

    async def revoke(self) -> None:
        """STREAM_REVOKED: drop what is pending and delete the key. Idempotent. Raises
        :class:`SinkError` when Redis cannot be reached (the key may remain)."""
        self._pending.clear()
        self._pending_bytes = 0
        if self._revoked or not self.key:
            self._revoked = True
            return
        self._revoked = True
        async with self._lock:  # after a flush in flight, so that nothing lands after the DEL
            try:
                async with asyncio.timeout(self.timeout):
                    await self._redis().delete(self.key)
            except (RedisError, OSError, TimeoutError) as exc:
                self._revoked = False  # a second revoke() tries again
                raise self._error(f"cannot delete {self.key}", exc) from None
            finally:
                if self._closed:
                    await self._release()
        logger.warning("stream %s: STREAM_REVOKED (stop reason 8): deleted %s", self._stream_id, self.key)

    def stats(self) -> dict[str, int | float]:
        return {
            "records": self.records,
            "pending": len(self._pending),
            "dropped": self.dropped,
            "failures": self.failures,
        }

    # --- internals -------------------------------------------------------------------------

    @property
    def _stream_id(self) -> str:
        return "-" if self._info is None else self._info.stream_id

    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            assert self._url is not None
            self._client = aioredis.Redis.from_url(
                self._url, socket_connect_timeout=self.timeout, socket_timeout=self.timeout
            )
        return self._client

    async def _release(self) -> None:
        """Close the client if this sink made it (a shared client stays open)."""
        if self._url is not None and self._client is not None:
            client, self._client = self._client, None
            try:
                await client.aclose()
            except (RedisError, OSError) as exc:
                logger.debug("closing the redis client: %s", exc)

    def _error(self, what: str, exc: BaseException) -> SinkError:
        reason = "timed out" if isinstance(exc, TimeoutError) else (str(exc) or type(exc).__name__)
        return SinkError(f"redis {self.where}: {what}: {reason}", path=f"{self.where} {self.key}")


def _size(fields: Fields) -> int:
    data = fields["data"]
    return len(data) if isinstance(data, bytes) else 0


def _redacted(url: str) -> str:
    """``url`` without user name and password (never log a secret)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "redis (unparsable URL)"
    return f"{parts.scheme}://{host}{port}{parts.path}"
