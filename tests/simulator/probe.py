"""A raw RTMS client for tests: the contract suite's probe, speaking the protocol core's types.

A :class:`Probe` is one socket (signaling or media): :class:`contracts.probe.Probe` decoding
every frame with :func:`connector.protocol.decode` instead of into dicts. It answers
``KEEP_ALIVE_REQ`` by itself when told to (and records every request either way), and hands
the other messages to the test in arrival order through :meth:`Probe.recv` /
:meth:`Probe.expect`, each bounded by a real-time timeout. It sends what the official SDK
sends (binary frames of pretty-printed JSON, §1.1) or compact text frames.

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
from contracts.probe import Probe as RawProbe
from contracts.probe import ProbeClosed

__all__ = ["ID_KEYS", "Join", "Joined", "Probe", "ProbeClosed"]

M = TypeVar("M", bound=Message)

DEFAULT_TIMEOUT = 5.0
ID_KEYS = ("meeting_uuid", "webinar_uuid", "session_id", "engagement_id")


class Probe(RawProbe):
    """The contract suite's raw probe, speaking the protocol core's typed messages."""

    frame_errors = (FrameError,)

    @classmethod
    async def open(  # type: ignore[override]
        cls,
        url: str,
        *,
        pretty: bool = True,
        answer_keep_alives: bool = True,
        ssl_context: ssl.SSLContext | None = None,
    ) -> Probe:
        probe = await super().open(
            url, role="probe", pretty=pretty, answer_keep_alives=answer_keep_alives, ssl_context=ssl_context
        )
        assert isinstance(probe, Probe)
        return probe

    def parse(self, raw: str | bytes) -> Message:
        return decode(raw)

    def encode(self, message: Message, pretty: bool) -> bytes:
        return encode(message, pretty=pretty)

    def is_keep_alive(self, message: Message) -> bool:
        return isinstance(message, KeepAliveReq)

    def keep_alive_answer(self, request: KeepAliveReq) -> KeepAliveResp:
        return KeepAliveResp.answering(request)

    @property
    def frames(self) -> list[tuple[Message, str | bytes]]:
        return self.received

    async def expect(  # type: ignore[override]
        self, kind: type[M], *, where: Any = None, timeout: float = DEFAULT_TIMEOUT
    ) -> M:
        """The next message of type ``kind`` (satisfying ``where``), skipping others."""

        async def find() -> M:
            while True:
                message = await self.recv(timeout=timeout)
                if isinstance(message, kind) and (where is None or where(message)):
                    return message

        return await asyncio.wait_for(find(), timeout)

    async def collect(  # type: ignore[override]
        self, kind: type[M], count: int, *, timeout: float = DEFAULT_TIMEOUT
    ) -> list[M]:
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

    def raw_json(self, message: Message) -> dict[str, Any]:
        """The JSON object ``message`` was decoded from, as sent (to see which keys were present)."""
        loaded: dict[str, Any] = json.loads(self.raw(message))
        return loaded


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
