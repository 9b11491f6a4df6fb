"""What the official SDK does at the WebSocket level, done by a raw client (§1.1, §9.1 points 1, 11).

The SDK offers the subprotocol ``websocket`` (which Zoom does not echo), sends an
``x-websocket-token`` header and a Zoom user agent, and pings every socket when idle.
"""

from __future__ import annotations

import asyncio

from websockets.asyncio.client import connect

from connector.protocol import (
    SignalingHandshakeReq,
    SignalingHandshakeResp,
    decode,
    encode,
    handshake_signature,
)
from simulator.server import Simulator


async def test_sdk_upgrade_headers_are_accepted_and_pings_answered(sim: Simulator) -> None:
    stream = sim.start_stream(duration=30.0)
    app = sim.config.app
    async with connect(
        stream.server_urls,
        subprotocols=["websocket"],  # type: ignore[list-item]
        additional_headers={"x-websocket-token": "YQ==,Yg==,Yw==", "User-Agent": "Mozilla/5.0 Zoom.App"},
        ping_interval=None,
    ) as ws:
        assert ws.subprotocol is None, "the subprotocol is not echoed, as Zoom does not"
        pong = await ws.ping()
        latency = await asyncio.wait_for(pong, 5)
        assert latency >= 0
        request = SignalingHandshakeReq(
            meeting_uuid=stream.instance_id,
            rtms_stream_id=stream.stream_id,
            signature=handshake_signature(
                app.client_id, app.client_secret, stream.instance_id, stream.stream_id
            ),
        )
        await ws.send(encode(request, pretty=True))  # a binary frame of pretty JSON, like the SDK
        response = decode(await asyncio.wait_for(ws.recv(), 5))
    assert isinstance(response, SignalingHandshakeResp)
    assert response.status_code == 0
