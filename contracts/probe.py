"""Raw RTMS clients for the contracts: a WebSocket, JSON and HMAC, and nothing of the connector.

A :class:`Probe` is one socket (signaling or media). Every frame it receives is parsed with
:func:`contracts.wire.decode` into a plain ``dict`` and kept (:attr:`Probe.received`, raw
text included). ``KEEP_ALIVE_REQ`` is answered by the probe itself when told to, echoing
``timestamp`` and ``sequence`` (§4.11); other messages reach the test in arrival order through
:meth:`Probe.expect`, bounded by a real-time timeout that only guards against a hang. A probe
sends what the official SDK sends (binary frames of pretty-printed JSON, §1.1) unless told to
send compact text.

:class:`Join` holds what a ``*.rtms_started`` payload and the app's credentials give a client
and builds signed handshakes from them; :class:`Joined` is a client through the whole join
(§3). A :class:`~contracts.recording.Recorder`, when given, sees every frame both ways.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from . import wire

if TYPE_CHECKING:
    from .recording import Recorder

__all__ = ["Join", "Joined", "Probe", "ProbeClosed", "ProbeError"]

DEFAULT_TIMEOUT = 10.0
Message = dict[str, Any]


class ProbeError(AssertionError):
    """The target did something a contract forbids (an unparsable frame, a refused upgrade)."""


class ProbeClosed(ProbeError):
    """The socket closed while the test waited for a message."""

    def __init__(self, role: str, close_code: int | None) -> None:
        frame = "no close frame" if close_code is None else f"close frame {close_code}"
        super().__init__(f"the {role} socket closed ({frame}) while a message was awaited")
        self.close_code = close_code


_CLOSED = object()


class Probe:
    """One WebSocket to an RTMS endpoint; ``role`` names it in messages and recordings."""

    def __init__(
        self,
        ws: ClientConnection,
        *,
        role: str,
        pretty: bool,
        answer_keep_alives: bool,
        recorder: Recorder | None,
    ) -> None:
        self.ws = ws
        self.role = role
        self.pretty = pretty
        self.answer_keep_alives = answer_keep_alives
        self.recorder = recorder
        self.keep_alives: list[Message] = []
        self.received: list[tuple[Message, str | bytes]] = []
        self.bad_frames: list[str | bytes] = []
        self.close_code: int | None = None  # code of the close frame received; None if dropped
        self._inbox: asyncio.Queue[object] = asyncio.Queue()
        self._changed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        role: str,
        pretty: bool = True,
        answer_keep_alives: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        recorder: Recorder | None = None,
    ) -> Probe:
        try:
            ws = await connect(
                url,
                ssl=ssl_context if url.startswith("wss:") else None,
                proxy=None,
                compression=None,
                ping_interval=None,
                max_size=None,
                open_timeout=DEFAULT_TIMEOUT,
                close_timeout=1,
                user_agent_header="Mozilla/5.0 Zoom.App",  # what the official SDK sends (§1.1)
            )
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            raise ProbeError(f"cannot open the {role} socket at {url}: {exc}") from None
        if recorder is not None:
            recorder.opened(role, url)
        return cls(ws, role=role, pretty=pretty, answer_keep_alives=answer_keep_alives, recorder=recorder)

    # -- the codec (a subclass may speak typed messages instead of dicts) --------------------

    frame_errors: tuple[type[Exception], ...] = (ValueError,)
    """What :meth:`parse` raises for a frame that is not an RTMS message."""

    def parse(self, raw: str | bytes) -> Any:
        return wire.decode(raw)

    def encode(self, message: Any, pretty: bool) -> bytes:
        return wire.encode(message, pretty=pretty)

    def is_keep_alive(self, message: Any) -> bool:
        return bool(message["msg_type"] == wire.MSG["KEEP_ALIVE_REQ"])

    def keep_alive_answer(self, request: Any) -> Any:
        """KEEP_ALIVE_RESP echoing the request's ``timestamp`` and ``sequence`` (§4.11)."""
        answer: Message = {"msg_type": wire.MSG["KEEP_ALIVE_RESP"], "timestamp": request.get("timestamp")}
        if "sequence" in request:
            answer["sequence"] = request["sequence"]
        return answer

    # -- sending ---------------------------------------------------------------------------

    async def send(self, message: Any, *, pretty: bool | None = None) -> None:
        """Send ``message``: a binary frame of pretty JSON like the SDK, or a compact text frame."""
        as_pretty = self.pretty if pretty is None else pretty
        data = self.encode(message, as_pretty)
        await self.send_raw(data if as_pretty else data.decode())

    async def send_raw(self, data: str | bytes) -> None:
        if self.recorder is not None:
            self.recorder.frame(self.role, "out", data)
        await self.ws.send(data)

    # -- receiving -------------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                if self.recorder is not None:
                    self.recorder.frame(self.role, "in", raw)
                try:
                    message = self.parse(raw)
                except self.frame_errors:
                    self.bad_frames.append(raw)
                    self._inbox.put_nowait(ProbeError(f"the {self.role} socket sent a non-RTMS frame"))
                    continue
                self.received.append((message, raw))
                if self.is_keep_alive(message):
                    self.keep_alives.append(message)
                    self._changed.set()
                    if self.answer_keep_alives:
                        await self.send(self.keep_alive_answer(message))
                    continue
                self._inbox.put_nowait(message)
        except ConnectionClosed:
            pass
        finally:
            rcvd = self.ws.protocol.close_rcvd
            self.close_code = None if rcvd is None else rcvd.code
            if self.recorder is not None:
                self.recorder.closed(self.role, self.close_code)
            self._inbox.put_nowait(_CLOSED)
            self._changed.set()

    async def recv(self, *, timeout: float = DEFAULT_TIMEOUT) -> Message:
        """The next message other than a keep-alive request; :class:`ProbeClosed` at the end."""
        try:
            item = await asyncio.wait_for(self._inbox.get(), timeout)
        except TimeoutError:
            raise ProbeError(f"nothing arrived on the {self.role} socket within {timeout:g} s") from None
        if item is _CLOSED:
            self._inbox.put_nowait(item)  # stays closed for the next caller
            raise ProbeClosed(self.role, self.close_code)
        if isinstance(item, ProbeError):
            raise item
        return cast(Message, item)

    async def expect(
        self,
        msg_type: int,
        *,
        where: Callable[[Message], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Message:
        """The next message of ``msg_type`` (satisfying ``where``), skipping others."""

        async def find() -> Message:
            while True:
                message = await self.recv(timeout=timeout)
                if message["msg_type"] == msg_type and (where is None or where(message)):
                    return message

        try:
            return await asyncio.wait_for(find(), timeout)
        except TimeoutError:
            raise ProbeError(
                f"no {wire.name_of(msg_type)} on the {self.role} socket within {timeout:g} s"
            ) from None

    async def collect(self, msg_type: int, count: int, *, timeout: float = DEFAULT_TIMEOUT) -> list[Message]:
        """The next ``count`` messages of ``msg_type``, skipping others."""
        return [await self.expect(msg_type, timeout=timeout) for _ in range(count)]

    async def refusal(self, msg_type: int, *, timeout: float = DEFAULT_TIMEOUT) -> int:
        """The ``status_code`` of a refused handshake: the handshake's own response type comes
        first, with a non-zero integer code, then a close frame (§4.2, §4.4, §9.1 point 9)."""
        answer = await self.recv(timeout=timeout)
        assert answer["msg_type"] == msg_type, f"expected {wire.name_of(msg_type)}, got {answer}"
        status = answer.get("status_code")
        assert isinstance(status, int), f"a refusal carries an integer status_code: {answer}"
        assert status != wire.STATUS["OK"], f"a refusal carries a non-zero status_code: {answer}"
        assert isinstance(answer.get("reason", ""), str)
        code = await self.wait_closed(timeout=timeout)
        assert code is not None, f"the refused {self.role} socket was dropped without a close frame"
        return status

    def queued(self) -> list[Message]:
        """Messages already received and not yet taken, without waiting."""
        out: list[Message] = []
        while not self._inbox.empty():
            item = self._inbox.get_nowait()
            if item is _CLOSED:
                self._inbox.put_nowait(item)
                break
            if not isinstance(item, ProbeError):
                out.append(cast(Message, item))
        return out

    def raw(self, message: Message) -> str | bytes:
        """The frame ``message`` was parsed from, as it came."""
        for received, raw in self.received:
            if received is message:
                return raw
        raise KeyError("message not received on this socket")

    async def wait_keep_alives(self, count: int, *, timeout: float = DEFAULT_TIMEOUT) -> list[Message]:
        """Wait until ``count`` keep-alive requests have arrived in all; return them all."""

        async def until() -> None:
            while len(self.keep_alives) < count:
                if self._reader.done():
                    raise ProbeClosed(self.role, self.close_code)
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            raise ProbeError(
                f"{len(self.keep_alives)} of {count} KEEP_ALIVE_REQ on the {self.role} socket "
                f"within {timeout:g} s"
            ) from None
        return list(self.keep_alives)

    async def wait_closed(self, *, timeout: float = DEFAULT_TIMEOUT) -> int | None:
        """Wait for the socket to close; the close frame's code, or ``None`` if it was dropped."""
        try:
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        except TimeoutError:
            raise ProbeError(f"the {self.role} socket stayed open for {timeout:g} s") from None
        return self.close_code

    @property
    def closed(self) -> bool:
        return self._reader.done()

    async def close(self, code: int = 1000) -> None:
        await self.ws.close(code)
        await self._reader

    async def abort(self) -> None:
        """Drop the TCP connection without a close frame (a network loss, §6.2)."""
        self.ws.transport.abort()
        await self._reader


@dataclass(frozen=True)
class Join:
    """What a client needs to join a stream: the started payload and the app's credentials."""

    instance_id: str
    rtms_stream_id: str
    server_urls: str
    client_id: str
    client_secret: str
    ssl_context: ssl.SSLContext | None = None
    recorder: Recorder | None = None

    @classmethod
    def from_payload(
        cls,
        payload: Mapping[str, Any],
        *,
        client_id: str,
        client_secret: str,
        ssl_context: ssl.SSLContext | None = None,
        recorder: Recorder | None = None,
    ) -> Join:
        instance_id = next(str(payload[k]) for k in wire.ID_KEYS if k in payload)
        return cls(
            instance_id=instance_id,
            rtms_stream_id=str(payload["rtms_stream_id"]),
            server_urls=str(payload["server_urls"]),
            client_id=client_id,
            client_secret=client_secret,
            ssl_context=ssl_context,
            recorder=recorder,
        )

    @property
    def signature(self) -> str:
        return wire.handshake_signature(
            self.client_id, self.client_secret, self.instance_id, self.rtms_stream_id
        )

    def signaling_req(self, **overrides: Any) -> Message:
        # The SDK puts the id under ``meeting_uuid`` for every product (§2).
        fields: Message = {
            "msg_type": wire.MSG["SIGNALING_HAND_SHAKE_REQ"],
            "protocol_version": 1,
            "meeting_uuid": self.instance_id,
            "rtms_stream_id": self.rtms_stream_id,
            "signature": self.signature,
            "sequence": 37016,
            "rtms_client_agent": "rtms-contracts-probe",
        }
        fields.update(overrides)
        return {k: v for k, v in fields.items() if v is not _DROP}

    def data_req(self, media_type: int, media_params: Any = None, **overrides: Any) -> Message:
        fields: Message = {
            "msg_type": wire.MSG["DATA_HAND_SHAKE_REQ"],
            "protocol_version": 1,
            "meeting_uuid": self.instance_id,
            "rtms_stream_id": self.rtms_stream_id,
            "signature": self.signature,
            "sequence": 37036,
            "media_type": media_type,
            "media_params": media_params,
        }
        fields.update(overrides)
        return {k: v for k, v in fields.items() if v is not _DROP}

    async def open(self, url: str, *, role: str, **options: Any) -> Probe:
        return await Probe.open(
            url, role=role, ssl_context=self.ssl_context, recorder=self.recorder, **options
        )

    async def signaling(self, *, pretty: bool = True, **options: Any) -> tuple[Probe, Message]:
        """Open the signaling socket and shake hands; the probe and the target's answer."""
        probe = await self.open(self.server_urls, role="signaling", pretty=pretty, **options)
        await probe.send(self.signaling_req())
        return probe, await probe.expect(wire.MSG["SIGNALING_HAND_SHAKE_RESP"])

    async def media(
        self, url: str, media_type: int, media_params: Any = None, *, role: str, **options: Any
    ) -> tuple[Probe, Message]:
        probe = await self.open(url, role=role, **options)
        await probe.send(self.data_req(media_type, media_params))
        return probe, await probe.expect(wire.MSG["DATA_HAND_SHAKE_RESP"])


DROP = object()
"""An override value that leaves the key out of a handshake request."""
_DROP = DROP


@dataclass
class Joined:
    """A client through the whole join (§3): signaling, media sockets, ready, subscriptions."""

    join: Join
    signaling: Probe
    answer: Message
    urls: dict[str, str]
    media: dict[str, Probe] = field(default_factory=dict)
    accepted: dict[str, Message] = field(default_factory=dict)

    @classmethod
    async def connect(
        cls,
        join: Join,
        media: Mapping[str, Any],
        *,
        events: tuple[int, ...] = (),
        ready: bool = True,
        pretty: bool = True,
        answer_keep_alives: bool = True,
    ) -> Joined:
        """Join with one socket per key of ``media`` (``"audio"`` ... or ``"all"``) and its params."""
        signaling, answer = await join.signaling(pretty=pretty, answer_keep_alives=answer_keep_alives)
        if answer.get("status_code") != 0:
            await signaling.close()
            raise ProbeError(
                f"signaling handshake refused: {answer.get('status_code')} {answer.get('reason')}"
            )
        urls = dict(answer["media_server"]["server_urls"])
        joined = cls(join=join, signaling=signaling, answer=answer, urls=urls)
        for key, params in media.items():
            media_type = wire.ALL if key == "all" else wire.MEDIA_KEYS[key]
            probe, accepted = await join.media(
                urls[key], media_type, params, role=key, pretty=pretty, answer_keep_alives=answer_keep_alives
            )
            joined.media[key] = probe
            joined.accepted[key] = accepted
            if accepted.get("status_code") != 0:
                await joined.close()
                raise ProbeError(
                    f"{key} handshake refused: {accepted.get('status_code')} {accepted.get('reason')}"
                )
        if ready:
            await signaling.send(
                {"msg_type": wire.MSG["CLIENT_READY_ACK"], "rtms_stream_id": join.rtms_stream_id}
            )
        if events:
            await signaling.send(
                {
                    "msg_type": wire.MSG["EVENT_SUBSCRIPTION"],
                    "events": [{"event_type": e, "subscribe": True} for e in events],
                }
            )
        return joined

    @property
    def probes(self) -> list[Probe]:
        return [self.signaling, *self.media.values()]

    async def close(self) -> None:
        for probe in self.probes:
            if not probe.closed:
                await probe.close()
