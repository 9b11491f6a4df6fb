"""The media frame's short path through :meth:`StreamClient.received`: a media frame on a
streaming media socket skips the state machine, because the table's answer is known; anywhere
else the machine decides, as for every other message (docs/protocol.md §4.12)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from connector.config import ConnectorConfig
from connector.protocol import (
    MEDIA,
    SIGNALING,
    ConnState,
    DataHandshakeResp,
    MediaContent,
    MediaDataAudio,
    MediaServer,
    MediaType,
    SignalingHandshakeResp,
    Trigger,
)
from connector.stream import Media, StreamClient

from .conftest import started_event

MakeConfig = Callable[..., ConnectorConfig]
FRAME = MediaDataAudio(content=MediaContent(user_id=0, data=b"\x01\x00" * 320))


def test_the_table_keeps_a_streaming_media_socket_streaming_and_refuses_media_on_signaling() -> None:
    assert MEDIA.next_state(ConnState.STREAMING, Trigger.MEDIA) is ConnState.STREAMING
    assert not SIGNALING.allows(ConnState.STREAMING, Trigger.MEDIA)
    assert not MEDIA.allows(ConnState.HANDSHAKING, Trigger.MEDIA)


def joining(config: ConnectorConfig) -> StreamClient:
    """A client whose signaling is accepted and whose audio socket is open, not yet answered."""
    client = StreamClient(config, started_event("ws://127.0.0.1:1/signal"))
    client.start()
    client.opened("signaling")
    client.received(
        "signaling",
        SignalingHandshakeResp(status_code=0, media_server=MediaServer(server_urls={"audio": "ws://a"})),
    )
    client.opened("audio")
    return client


def test_media_before_the_media_handshake_or_on_signaling_is_ignored(
    make_config: MakeConfig, caplog: pytest.LogCaptureFixture
) -> None:
    client = joining(make_config(media_types=(MediaType.AUDIO,)))
    with caplog.at_level(logging.WARNING, logger="connector.stream"):
        assert client.received("audio", FRAME) == []  # the audio socket is still handshaking
        client.received("audio", DataHandshakeResp(status_code=0))
        assert client.ready
        assert client.received("signaling", FRAME) == []  # media never travels on signaling
    ignored = [r.getMessage() for r in caplog.records]
    assert len(ignored) == 2
    assert "on audio socket in state handshaking" in ignored[0]
    assert "on signaling socket in state streaming" in ignored[1]
    assert client.received("audio", FRAME) == [Media(MediaType.AUDIO, FRAME.content, None)]


def test_media_in_flight_after_the_end_is_still_delivered(make_config: MakeConfig) -> None:
    client = joining(make_config(media_types=(MediaType.AUDIO,)))
    client.received("audio", DataHandshakeResp(status_code=0))
    client.fail("the stream ends here")
    assert client.outcome is not None
    assert client.received("audio", FRAME) == [Media(MediaType.AUDIO, FRAME.content, None)]
