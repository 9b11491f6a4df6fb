"""A raw RTMS client for tests: WebSockets plus the protocol core, and nothing else.

A :class:`Probe` is one socket (signaling or media). It decodes every frame with
:func:`connector.protocol.decode`, answers ``KEEP_ALIVE_REQ`` by itself when told to (and
records every request either way), and hands the other messages to the test in arrival
order through :meth:`Probe.recv` / :meth:`Probe.expect`, each bounded by a real-time
timeout. It sends what the official SDK sends (binary frames of pretty-printed JSON, §1.1)
or compact text frames.

:class:`Join` holds what a ``*.rtms_started`` payload and the app's credentials give a client,
and builds signed handshakes from them. The probe knows nothing of the simulator: it talks to
whatever answers at the URLs it is given.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from msgspec import UNSET, UnsetType
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from connector.protocol import (
    ClientReadyAck,
    DataHandshakeReq,
    DataHandshakeResp,
    EventSubscription,
    FrameError,
    KeepAliveReq,
    KeepAliveResp,
    MediaParams,
    MediaType,
    Message,
    SignalingHandshakeReq,
    SignalingHandshakeResp,
    Subscription,
    decode,
    encode,
    handshake_signature,
)

__all__ = ["ID_KEYS", "Join", "Joined", "Probe", "ProbeClosed"]

M = TypeVar("M", bound=Message)

DEFAULT_TIMEOUT = 5.0
ID_KEYS = ("meeting_uuid", "webinar_uuid", "session_id", "engagement_id")


class ProbeClosed(Exception):
    """The socket closed while the test waited for a message."""

    def __init__(self, close_code: int | None) -> None:
        super().__init__(f"socket closed (close frame: {close_code})")
        self.close_code = close_code


class _Closed:
    """End-of-stream marker in the inbox."""


_CLOSED = _Closed()


class Probe:
    """One WebSocket to an RTMS endpoint."""

    def __init__(self, ws: ClientConnection, *, pretty: bool, answer_keep_alives: bool) -> None:
        self.ws = ws
        self.pretty = pretty
        self.answer_keep_alives = answer_keep_alives
        self.keep_alives: list[KeepAliveReq] = []
        self.frames: list[tuple[Message, str | bytes]] = []  # everything received, raw included
        self.close_code: int | None = None  # code of the close frame received; None if dropped
        self._inbox: asyncio.Queue[Message | FrameError | _Closed] = asyncio.Queue()
        self._changed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        pretty: bool = True,
        answer_keep_alives: bool = True,
        ssl_context: ssl.SSLContext | None = None,
    ) -> Probe:
        ws = await connect(
            url,
            ssl=ssl_context,
            proxy=None,
            compression=None,
            ping_interval=None,
            max_size=None,
            open_timeout=DEFAULT_TIMEOUT,
            close_timeout=1,
        )
        return cls(ws, pretty=pretty, answer_keep_alives=answer_keep_alives)

    # -- sending ---------------------------------------------------------------------------

    async def send(self, message: Message, *, pretty: bool | None = None) -> None:
        """Send ``message``: binary pretty JSON like the SDK, or a compact text frame."""
        as_pretty = self.pretty if pretty is None else pretty
        data = encode(message, pretty=as_pretty)
        await self.ws.send(data if as_pretty else data.decode())

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    # -- receiving -------------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                try:
                    message = decode(raw)
                except FrameError as error:
                    self._inbox.put_nowait(error)
                    continue
                self.frames.append((message, raw))
                if isinstance(message, KeepAliveReq):
                    self.keep_alives.append(message)
                    self._changed.set()
                    if self.answer_keep_alives:
                        await self.send(KeepAliveResp.answering(message))
                    continue
                self._inbox.put_nowait(message)
        except ConnectionClosed:
            pass
        finally:
            rcvd = self.ws.protocol.close_rcvd
            self.close_code = None if rcvd is None else rcvd.code
            self._inbox.put_nowait(_CLOSED)
            self._changed.set()

    async def recv(self, *, timeout: float = DEFAULT_TIMEOUT) -> Message:
        """The next message other than a keep-alive request; raise :class:`ProbeClosed` at the end."""
        item = await asyncio.wait_for(self._inbox.get(), timeout)
        if isinstance(item, _Closed):
            self._inbox.put_nowait(item)  # stays closed for the next caller
            raise ProbeClosed(self.close_code)
        if isinstance(item, FrameError):
            raise AssertionError(f"the server sent a frame that is not an RTMS message: {item.reason}")
        return item

    async def expect(self, kind: type[M], *, where: Any = None, timeout: float = DEFAULT_TIMEOUT) -> M:
        """The next message of type ``kind`` (satisfying ``where``), skipping others."""

        async def find() -> M:
            while True:
                message = await self.recv(timeout=timeout)
                if isinstance(message, kind) and (where is None or where(message)):
                    return message

        return await asyncio.wait_for(find(), timeout)

    async def collect(self, kind: type[M], count: int, *, timeout: float = DEFAULT_TIMEOUT) -> list[M]:
        """The next ``count`` messages of type ``kind``, skipping others."""

        async def gather() -> list[M]:
            return [await self.expect(kind, timeout=timeout) for _ in range(count)]

        return await asyncio.wait_for(gather(), timeout)

    async def until_closed(self, *, timeout: float = DEFAULT_TIMEOUT) -> list[Message]:
        """Every message received from now until the socket closes."""
        out: list[Message] = []

        async def gather() -> None:
            while True:
                try:
                    out.append(await self.recv(timeout=timeout))
                except ProbeClosed:
                    return

        await asyncio.wait_for(gather(), timeout)
        return out

    def queued(self) -> list[Message]:
        """Messages already received and not yet taken, without waiting."""
        out: list[Message] = []
        while not self._inbox.empty():
            item = self._inbox.get_nowait()
            if isinstance(item, _Closed):
                self._inbox.put_nowait(item)
                break
            if isinstance(item, Message):
                out.append(item)
        return out

    def raw_json(self, message: Message) -> dict[str, Any]:
        """The JSON object ``message`` was decoded from, as sent (to see which keys were present)."""
        for received, raw in self.frames:
            if received is message:
                loaded: dict[str, Any] = json.loads(raw)
                return loaded
        raise KeyError(message)

    async def wait_keep_alives(self, count: int, *, timeout: float = DEFAULT_TIMEOUT) -> list[KeepAliveReq]:
        """Wait until ``count`` keep-alive requests have arrived in all; return them all."""

        async def until() -> None:
            while len(self.keep_alives) < count:
                if self._reader.done():
                    raise ProbeClosed(self.close_code)
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(until(), timeout)
        return list(self.keep_alives)

    async def wait_closed(self, *, timeout: float = DEFAULT_TIMEOUT) -> int | None:
        """Wait for the socket to close; the close frame's code, or ``None`` if it was dropped."""
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.close_code

    @property
    def closed(self) -> bool:
        return self._reader.done()

    async def close(self, code: int = 1000) -> None:
        await self.ws.close(code)
        await self._reader


@dataclass(frozen=True)
class Join:
    """What a client needs to join a stream: the started payload's ids and the app's credentials."""

    instance_id: str
    rtms_stream_id: str
    server_urls: str
    client_id: str
    client_secret: str

    @classmethod
    def from_payload(cls, payload: dict[str, Any], *, client_id: str, client_secret: str) -> Join:
        instance_id = next(payload[k] for k in ID_KEYS if k in payload)
        return cls(
            instance_id=instance_id,
            rtms_stream_id=payload["rtms_stream_id"],
            server_urls=payload["server_urls"],
            client_id=client_id,
            client_secret=client_secret,
        )

    @property
    def signature(self) -> str:
        return handshake_signature(self.client_id, self.client_secret, self.instance_id, self.rtms_stream_id)

    def signaling_req(self, **overrides: Any) -> SignalingHandshakeReq:
        # The SDK puts the id under ``meeting_uuid`` for every product (§2).
        fields: dict[str, Any] = {
            "meeting_uuid": self.instance_id,
            "rtms_stream_id": self.rtms_stream_id,
            "signature": self.signature,
            "sequence": 37016,
            "rtms_client_agent": "rtms-sim-tests-probe",
        }
        fields.update(overrides)
        return SignalingHandshakeReq(**fields)

    def data_req(
        self, media_type: int, media_params: MediaParams | UnsetType | None = UNSET, **overrides: Any
    ) -> DataHandshakeReq:
        fields: dict[str, Any] = {
            "meeting_uuid": self.instance_id,
            "rtms_stream_id": self.rtms_stream_id,
            "signature": self.signature,
            "sequence": 37036,
            "media_type": media_type,
            "media_params": media_params,
        }
        fields.update(overrides)
        return DataHandshakeReq(**fields)

    async def signaling(
        self, *, pretty: bool = True, **probe_options: Any
    ) -> tuple[Probe, SignalingHandshakeResp]:
        """Open the signaling socket and shake hands; the probe and the server's answer."""
        probe = await Probe.open(self.server_urls, pretty=pretty, **probe_options)
        await probe.send(self.signaling_req())
        return probe, await probe.expect(SignalingHandshakeResp)

    async def media(
        self,
        url: str,
        media_type: int,
        media_params: MediaParams | UnsetType | None = UNSET,
        *,
        pretty: bool = True,
        **probe_options: Any,
    ) -> tuple[Probe, DataHandshakeResp]:
        probe = await Probe.open(url, pretty=pretty, **probe_options)
        await probe.send(self.data_req(media_type, media_params))
        return probe, await probe.expect(DataHandshakeResp)


@dataclass
class Joined:
    """A client that completed the whole join (§3): signaling, media sockets, ready, events."""

    join: Join
    signaling: Probe
    urls: dict[str, str]
    media: dict[str, Probe] = field(default_factory=dict)
    accepted: dict[str, DataHandshakeResp] = field(default_factory=dict)

    @classmethod
    async def connect(
        cls,
        join: Join,
        media: Mapping[str, MediaParams | UnsetType | None],
        *,
        events: tuple[int, ...] = (),
        ready: bool = True,
        pretty: bool = True,
    ) -> Joined:
        """Join with one socket per key of ``media`` ("audio", "transcript", ..., or "all")."""
        signaling, resp = await join.signaling(pretty=pretty)
        assert resp.status_code == 0, f"signaling handshake failed: {resp.status_code} {resp.reason}"
        assert not isinstance(resp.media_server, UnsetType)
        joined = cls(join=join, signaling=signaling, urls=dict(resp.media_server.server_urls))
        for key, params in media.items():
            media_type = (
                MediaType.ALL if key == "all" else next(t for t in MediaType.singles() if t.key == key)
            )
            probe, answer = await join.media(joined.urls[key], int(media_type), params, pretty=pretty)
            assert answer.status_code == 0, f"{key} handshake failed: {answer.status_code} {answer.reason}"
            joined.media[key] = probe
            joined.accepted[key] = answer
        if ready:
            await signaling.send(ClientReadyAck(rtms_stream_id=join.rtms_stream_id))
        if events:
            await signaling.send(
                EventSubscription(events=tuple(Subscription(event_type=e, subscribe=True) for e in events))
            )
        return joined

    @property
    def probes(self) -> list[Probe]:
        return [self.signaling, *self.media.values()]

    async def close(self) -> None:
        for probe in self.probes:
            if not probe.closed:
                await probe.close()
