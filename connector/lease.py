"""Leases on streams: at most one connector replica holds a stream at any moment.

Zoom allows one signaling connection per ``rtms_stream_id`` (docs/protocol.md §10 item 1); when
several replicas receive the same ``meeting.rtms_started`` (§7.1) and all join, Zoom ends the
stream (field report F1). A :class:`LeaseStore` arbitrates: a replica joins a stream only while
it holds that stream's lease, a time-limited claim it must renew. Every grant carries a
**fencing token**, strictly increasing per stream across all grants, so that anything written
on behalf of a stream can be ordered by owner (the greater token wins).

The store also keeps the **stream registry**: the raw ``rtms_started`` body of every stream in
progress, so that another replica can join a stream whose owner died (docs/ownership.md).

Two stores share one contract: :class:`MemoryLeaseStore` (one process, time from a
:class:`~connector.clock.Clock`) and :class:`RedisLeaseStore` (replicas sharing one Redis
server; every read-modify-write is one Lua script, hence atomic). Redis failures surface as
:class:`LeaseError`, never as a redis-py exception.
"""

from __future__ import annotations

import abc
import contextlib
import math
import urllib.parse
from dataclasses import dataclass
from typing import Any

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .clock import Clock
from .errors import ConnectorError

__all__ = ["Holder", "Lease", "LeaseError", "LeaseStore", "MemoryLeaseStore", "RedisLeaseStore"]


class LeaseError(ConnectorError):
    """The lease store cannot be reached or refused a command.

    ``str(error)`` is one line naming the store (``url``, password removed) and what failed.
    Whether the caller still holds a lease is unknown after this error: an owner keeps its
    sockets only until its last confirmed lease could have run out (see
    :class:`connector.ownership.Ownership`).
    """

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


@dataclass(frozen=True, slots=True)
class Lease:
    """A granted lease: ``owner`` (a replica id) holds ``stream_id`` for ``ttl`` seconds from the
    last acquire or renew. ``token`` is the fencing token of this grant."""

    stream_id: str
    owner: str
    token: int
    ttl: float


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a stream's lease now, and for how many more seconds unless renewed."""

    owner: str
    token: int
    remaining: float


class LeaseStore(abc.ABC):
    """Leases, fencing counters and the stream registry. Every method is atomic.

    Contract shared by every implementation:

    * :meth:`acquire` grants the lease when nobody holds it (a new, greater token), returns the
      current lease renewed (same token) when ``owner`` already holds it, else ``None``.
    * :meth:`renew` and :meth:`release` act only if the lease is still exactly ``lease`` (same
      owner and token) and say whether it was.
    * :meth:`renew` and :meth:`acquire` also refresh the stream's registry entry, so that a
      stream stays registered as long as some replica owns it.
    * A lease ends ``ttl`` seconds after its last acquire or renew; a registry entry ends
      ``ttl`` seconds (its own) after its last register or refresh.
    """

    @abc.abstractmethod
    async def acquire(self, stream_id: str, owner: str, ttl: float) -> Lease | None:
        """Take (or re-take) ``stream_id`` for ``owner`` for ``ttl`` seconds."""

    @abc.abstractmethod
    async def renew(self, lease: Lease) -> bool:
        """Extend ``lease`` by its ttl; ``False`` if it is no longer held (expired or taken)."""

    @abc.abstractmethod
    async def release(self, lease: Lease) -> bool:
        """Give ``lease`` up; ``False`` if it was no longer ours (nothing is changed then)."""

    @abc.abstractmethod
    async def holder(self, stream_id: str) -> Holder | None:
        """The current holder of ``stream_id``'s lease, or ``None`` if it is free."""

    @abc.abstractmethod
    async def register(self, stream_id: str, payload: bytes, ttl: float) -> None:
        """Record (or replace) the ``rtms_started`` body of ``stream_id`` for ``ttl`` seconds."""

    @abc.abstractmethod
    async def unregister(self, stream_id: str) -> None:
        """The stream ended: drop its registry entry, its fencing counter and its lease."""

    @abc.abstractmethod
    async def registered(self) -> dict[str, bytes]:
        """Every live registry entry: ``rtms_stream_id`` → raw ``rtms_started`` body."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the store's resources (connections); leases are left to expire."""


def _check(stream_id: str, ttl: float, owner: str | None = None) -> None:
    """Reject arguments that would make a lease meaningless (programming errors)."""
    if not stream_id:
        raise ValueError("a lease needs a non-empty stream id")
    if owner is not None and not owner:
        raise ValueError("a lease needs a non-empty owner")
    if not (math.isfinite(ttl) and ttl > 0):
        raise ValueError(f"a lease ttl must be a positive number of seconds, got {ttl!r}")


@dataclass(slots=True)
class _Held:
    owner: str
    token: int
    expires: float


@dataclass(slots=True)
class _Entry:
    payload: bytes
    ttl: float
    deadline: float


class MemoryLeaseStore(LeaseStore):
    """Leases in this process, timed by ``clock``: the default for a single replica, and the
    store tests drive with a manual clock. An instant equal to an expiry is past it.

    The fencing counter of a stream lives until :meth:`unregister` (or the end of the process).
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._leases: dict[str, _Held] = {}
        self._fences: dict[str, int] = {}
        self._registry: dict[str, _Entry] = {}

    def _after(self, seconds: float) -> float:
        # Deadlines are kept to the nanosecond, as a manual clock keeps its timers, so that a
        # wait of exactly ``Holder.remaining`` lands on the expiry and not a hair before it.
        return round(self._clock.now() + seconds, 9)

    def _live(self, stream_id: str) -> _Held | None:
        held = self._leases.get(stream_id)
        if held is not None and self._clock.now() >= held.expires:
            del self._leases[stream_id]
            return None
        return held

    def _live_entry(self, stream_id: str) -> _Entry | None:
        entry = self._registry.get(stream_id)
        if entry is not None and self._clock.now() >= entry.deadline:
            del self._registry[stream_id]
            return None
        return entry

    def _touch(self, stream_id: str) -> None:
        entry = self._live_entry(stream_id)
        if entry is not None:
            entry.deadline = self._after(entry.ttl)

    async def acquire(self, stream_id: str, owner: str, ttl: float) -> Lease | None:
        _check(stream_id, ttl, owner)
        held = self._live(stream_id)
        if held is None:
            token = self._fences.get(stream_id, 0) + 1
            self._fences[stream_id] = token
            held = self._leases[stream_id] = _Held(owner, token, self._after(ttl))
        elif held.owner == owner:
            held.expires = self._after(ttl)
        else:
            return None
        self._touch(stream_id)
        return Lease(stream_id, owner, held.token, ttl)

    async def renew(self, lease: Lease) -> bool:
        held = self._live(lease.stream_id)
        if held is None or (held.owner, held.token) != (lease.owner, lease.token):
            return False
        held.expires = self._after(lease.ttl)
        self._touch(lease.stream_id)
        return True

    async def release(self, lease: Lease) -> bool:
        held = self._live(lease.stream_id)
        if held is None or (held.owner, held.token) != (lease.owner, lease.token):
            return False
        del self._leases[lease.stream_id]
        return True

    async def holder(self, stream_id: str) -> Holder | None:
        held = self._live(stream_id)
        if held is None:
            return None
        return Holder(held.owner, held.token, held.expires - self._clock.now())

    async def register(self, stream_id: str, payload: bytes, ttl: float) -> None:
        _check(stream_id, ttl)
        self._registry[stream_id] = _Entry(bytes(payload), ttl, self._after(ttl))

    async def unregister(self, stream_id: str) -> None:
        self._registry.pop(stream_id, None)
        self._fences.pop(stream_id, None)
        self._leases.pop(stream_id, None)

    async def registered(self) -> dict[str, bytes]:
        return {sid: e.payload for sid in list(self._registry) if (e := self._live_entry(sid)) is not None}

    async def close(self) -> None:
        """Nothing to release."""


# Shared by the scripts that grant or extend a lease: refresh the stream's registry entry
# (its key holds its own ttl in ms) and keep the fencing counter alive at least as long as
# both the lease and the registry entry, so tokens never restart while either exists.
# KEYS[1] lease, KEYS[2] fence, KEYS[3] registry entry; ``ms`` is the lease ttl.
_TOUCH = """
local function touch(ms)
  local keep = ms
  local entry = redis.call('GET', KEYS[3])
  if entry then
    redis.call('PEXPIRE', KEYS[3], entry)
    if tonumber(entry) > keep then keep = tonumber(entry) end
  end
  if redis.call('PTTL', KEYS[2]) < keep then redis.call('PEXPIRE', KEYS[2], keep) end
end
"""

# ARGV[1] owner, ARGV[2] ttl ms. Returns the token, or nil when another owner holds the lease.
_ACQUIRE = (
    _TOUCH
    + """
local ms = tonumber(ARGV[2])
local token
local held = redis.call('GET', KEYS[1])
if held then
  local owner, current = string.match(held, '^(.*)|(%d+)$')
  if owner ~= ARGV[1] then return false end
  token = tonumber(current)
  redis.call('PEXPIRE', KEYS[1], ms)
else
  token = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ms)
end
touch(ms)
return token
"""
)

# ARGV[1] "owner|token", ARGV[2] ttl ms. Returns 1 if renewed, 0 if the lease is not that one.
_RENEW = (
    _TOUCH
    + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
touch(tonumber(ARGV[2]))
return 1
"""
)

# KEYS[1] lease; ARGV[1] "owner|token". Compare-and-delete.
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""

# KEYS[1] lease. Returns {"owner|token", pttl ms} or nil, read at one instant.
_HOLDER = """
local held = redis.call('GET', KEYS[1])
if not held then return false end
return {held, redis.call('PTTL', KEYS[1])}
"""

# KEYS[1] streams hash, KEYS[2] registry entry, KEYS[3] fence, KEYS[4] lease;
# ARGV[1] stream id, ARGV[2] payload, ARGV[3] ttl ms.
_REGISTER = """
local ms = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ms)
local keep = ms
local lease = redis.call('PTTL', KEYS[4])
if lease > keep then keep = lease end
if redis.call('PTTL', KEYS[3]) < keep then redis.call('PEXPIRE', KEYS[3], keep) end
"""

# Same keys as _REGISTER; ARGV[1] stream id.
_UNREGISTER = """
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
"""

# KEYS[1] streams hash; ARGV[1] prefix of registry entry keys. Drops entries whose key expired
# (their owner stopped refreshing them) and returns the others as a flat field/value list.
_REGISTERED = """
local all = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #all, 2 do
  if redis.call('EXISTS', ARGV[1] .. all[i]) == 1 then
    live[#live + 1] = all[i]
    live[#live + 1] = all[i + 1]
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
return live
"""


def _redact(url: str) -> str:
    """``url`` without its password (``redis://user:***@host:port/db``)."""
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return "<unparsable Redis URL>"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _ms(seconds: float) -> int:
    """Seconds as whole milliseconds for PX/PEXPIRE (at least 1: Redis rejects 0)."""
    return max(1, round(seconds * 1000))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisLeaseStore(LeaseStore):
    """Leases shared by replicas through one Redis server (standalone or a primary; the scripts
    address keys they compute, which Redis Cluster does not allow).

    Keys, with ``prefix`` (default ``rtms``):

    * ``{prefix}:lease:{stream_id}`` = ``"{owner}|{token}"``, expiring after the lease ttl;
    * ``{prefix}:fence:{stream_id}`` = the fencing counter (``INCR``), kept alive at least as
      long as the lease and the registry entry;
    * ``{prefix}:streams`` = hash ``stream_id`` → raw ``rtms_started`` body;
    * ``{prefix}:stream:{stream_id}`` = the registry entry's ttl in ms, expiring after that ttl:
      a hash field whose entry key is gone is a dead registration, dropped by :meth:`registered`.

    ``client`` replaces the connection made from ``url`` (it must not decode responses, and is
    left open by :meth:`close`); ``url`` then only names the store in errors. Without it, the
    client fails fast: ``timeout`` bounds connecting and every command, one retry at once.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "rtms",
        client: redis.asyncio.Redis | None = None,
        timeout: float = 2.0,
    ) -> None:
        self.url = _redact(url)
        self._prefix = prefix
        self._own_client = client is None
        if client is None:
            try:
                client = redis.asyncio.Redis.from_url(
                    url,
                    socket_timeout=timeout,
                    socket_connect_timeout=timeout,
                    retry=Retry(NoBackoff(), 1),
                )
            except ValueError as exc:
                raise LeaseError(f"{self.url} is not a usable Redis URL: {exc}", url=self.url) from None
        self._client = client
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._holder = client.register_script(_HOLDER)
        self._register = client.register_script(_REGISTER)
        self._unregister = client.register_script(_UNREGISTER)
        self._registered = client.register_script(_REGISTERED)

    def __repr__(self) -> str:
        return f"RedisLeaseStore({self.url!r}, prefix={self._prefix!r})"

    def key(self, kind: str, stream_id: str) -> str:
        """The Redis key of ``kind`` (``lease``, ``fence``, ``stream``) for ``stream_id``."""
        return f"{self._prefix}:{kind}:{stream_id}"

    @property
    def streams_key(self) -> str:
        """The hash of registered streams."""
        return f"{self._prefix}:streams"

    def _lease_keys(self, stream_id: str) -> list[str]:
        return [self.key("lease", stream_id), self.key("fence", stream_id), self.key("stream", stream_id)]

    def _registry_keys(self, stream_id: str) -> list[str]:
        return [self.streams_key, *(self.key(k, stream_id) for k in ("stream", "fence", "lease"))]

    async def _run(self, script: Any, what: str, keys: list[str], args: list[Any]) -> Any:
        try:
            return await script(keys=keys, args=args)
        except RedisError as exc:
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise LeaseError(f"Redis at {self.url}: cannot {what}: {detail}", url=self.url) from None

    async def acquire(self, stream_id: str, owner: str, ttl: float) -> Lease | None:
        _check(stream_id, ttl, owner)
        token = await self._run(
            self._acquire,
            f"acquire the lease of stream {stream_id}",
            self._lease_keys(stream_id),
            [owner, _ms(ttl)],
        )
        return None if token is None else Lease(stream_id, owner, int(token), ttl)

    async def renew(self, lease: Lease) -> bool:
        renewed = await self._run(
            self._renew,
            f"renew the lease of stream {lease.stream_id}",
            self._lease_keys(lease.stream_id),
            [f"{lease.owner}|{lease.token}", _ms(lease.ttl)],
        )
        return bool(renewed)

    async def release(self, lease: Lease) -> bool:
        released = await self._run(
            self._release,
            f"release the lease of stream {lease.stream_id}",
            [self.key("lease", lease.stream_id)],
            [f"{lease.owner}|{lease.token}"],
        )
        return bool(released)

    async def holder(self, stream_id: str) -> Holder | None:
        found = await self._run(
            self._holder, f"read the lease of stream {stream_id}", [self.key("lease", stream_id)], []
        )
        if found is None:
            return None
        owner, _, token = _text(found[0]).rpartition("|")
        return Holder(owner, int(token), max(int(found[1]), 0) / 1000)

    async def register(self, stream_id: str, payload: bytes, ttl: float) -> None:
        _check(stream_id, ttl)
        await self._run(
            self._register,
            f"register stream {stream_id}",
            self._registry_keys(stream_id),
            [stream_id, payload, _ms(ttl)],
        )

    async def unregister(self, stream_id: str) -> None:
        await self._run(
            self._unregister, f"unregister stream {stream_id}", self._registry_keys(stream_id), [stream_id]
        )

    async def registered(self) -> dict[str, bytes]:
        flat = await self._run(
            self._registered, "list registered streams", [self.streams_key], [f"{self._prefix}:stream:"]
        )
        return {
            _text(flat[i]): flat[i + 1] if isinstance(flat[i + 1], bytes) else str(flat[i + 1]).encode()
            for i in range(0, len(flat), 2)
        }

    async def close(self) -> None:
        if self._own_client:
            with contextlib.suppress(RedisError):  # a dead server leaves nothing to release
                await self._client.aclose()
