"""The sans-I/O stream logic, driven message by message (docs/protocol.md §3, §4)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from msgspec.structs import replace

from connector.config import DEFAULT_AUDIO, DEFAULT_TRANSCRIPT, ConnectorConfig
from connector.protocol import (
    AudioParams,
    ClientReadyAck,
    DataHandshakeReq,
    DataHandshakeResp,
    Event,
    EventSubscription,
    EventUpdate,
    KeepAliveReq,
    KeepAliveResp,
    MediaContent,
    MediaDataAudio,
    MediaDataTranscript,
    MediaParams,
    MediaServer,
    Message,
    Participant,
    SignalingHandshakeReq,
    SignalingHandshakeResp,
    StreamCloseReq,
    StreamCloseResp,
    StreamStateUpdate,
    TranscriptContent,
    handshake_signature,
)
from connector.stream import (
    SIGNALING_SOCKET,
    Action,
    AudioFormat,
    EndCause,
    Ended,
    Open,
    Ready,
    Send,
    StreamClient,
    WriteAudio,
    WriteEvent,
    WriteTranscript,
)

from .conftest import CLIENT_ID, CLIENT_SECRET, INSTANCE_ID, STREAM_ID, started_event

SIGNAL_URL = "wss://rtms.example/signal"
URLS = {"audio": "wss://m.example/a", "transcript": "wss://m.example/t", "video": "wss://m.example/v"}

MakeConfig = Callable[..., ConnectorConfig]


def sent(actions: list[Action]) -> list[tuple[str, Message]]:
    return [(a.socket, a.message) for a in actions if isinstance(a, Send)]


def ended(actions: list[Action]) -> Ended:
    (end,) = [a for a in actions if isinstance(a, Ended)]
    return end


def ok(urls: dict[str, str]) -> SignalingHandshakeResp:
    return SignalingHandshakeResp(status_code=0, media_server=MediaServer(server_urls=urls))


def handshaking(config: ConnectorConfig) -> StreamClient:
    client = StreamClient(config, started_event(SIGNAL_URL))
    client.start()
    client.opened(SIGNALING_SOCKET)
    return client


def joined(config: ConnectorConfig) -> StreamClient:
    """A client that completed the whole join with per-type audio and transcript sockets."""
    client = handshaking(config)
    client.received(SIGNALING_SOCKET, ok(URLS))
    for name in ("audio", "transcript"):
        client.opened(name)
        client.received(name, DataHandshakeResp(status_code=0))
    assert client.ready
    return client


def test_start_opens_signaling_to_server_urls(make_config: MakeConfig) -> None:
    client = StreamClient(make_config(), started_event(SIGNAL_URL))
    assert client.start() == [Open(SIGNALING_SOCKET, SIGNAL_URL)]


def test_signaling_handshake_carries_instance_id_and_signature(make_config: MakeConfig) -> None:
    client = StreamClient(make_config(), started_event(SIGNAL_URL))
    client.start()
    [(socket, req)] = sent(client.opened(SIGNALING_SOCKET))
    assert socket == SIGNALING_SOCKET
    assert isinstance(req, SignalingHandshakeReq)
    assert (req.protocol_version, req.sequence) == (1, 1)
    assert (req.meeting_uuid, req.rtms_stream_id) == (INSTANCE_ID, STREAM_ID)
    assert req.signature == handshake_signature(CLIENT_ID, CLIENT_SECRET, INSTANCE_ID, STREAM_ID)


def test_signature_matches_the_documented_test_vector(make_config: MakeConfig) -> None:
    event = started_event(SIGNAL_URL, stream_id="stream-abc")
    client = StreamClient(make_config(), replace(event, instance_id="4444AAAiAAAAAiAiAiiAii=="))
    client.start()
    [(_, req)] = sent(client.opened(SIGNALING_SOCKET))
    assert isinstance(req, SignalingHandshakeReq)
    assert req.signature == "ef24b2a8b6e34b8c042edd249f9257e29f13ab3144ca803d7f061f28b2bb1ddf"


def test_accepted_handshake_opens_one_socket_per_wanted_type(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    actions = client.received(SIGNALING_SOCKET, ok({**URLS, "all": "wss://m.example/all"}))
    assert actions == [Open("audio", URLS["audio"]), Open("transcript", URLS["transcript"])]


def test_data_handshakes_send_the_params_of_their_type(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    client.received(SIGNALING_SOCKET, ok(URLS))
    [(_, audio)] = sent(client.opened("audio"))
    [(_, transcript)] = sent(client.opened("transcript"))
    assert isinstance(audio, DataHandshakeReq)
    assert isinstance(transcript, DataHandshakeReq)
    assert (audio.media_type, audio.media_params) == (1, MediaParams(audio=DEFAULT_AUDIO))
    assert (transcript.media_type, transcript.media_params) == (8, MediaParams(transcript=DEFAULT_TRANSCRIPT))
    assert (
        audio.signature
        == transcript.signature
        == handshake_signature(CLIENT_ID, CLIENT_SECRET, INSTANCE_ID, STREAM_ID)
    )


def test_missing_per_type_urls_fall_back_to_one_all_socket(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    actions = client.received(SIGNALING_SOCKET, ok({"audio": URLS["audio"], "all": "wss://m.example/all"}))
    assert actions == [Open("all", "wss://m.example/all")]
    [(_, req)] = sent(client.opened("all"))
    assert isinstance(req, DataHandshakeReq)
    assert req.media_type == 32
    assert req.media_params == MediaParams(audio=DEFAULT_AUDIO, transcript=DEFAULT_TRANSCRIPT)


def test_missing_urls_without_all_open_what_exists(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    assert client.received(SIGNALING_SOCKET, ok({"audio": URLS["audio"]})) == [Open("audio", URLS["audio"])]


def test_no_usable_media_url_ends_the_stream(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    end = ended(client.received(SIGNALING_SOCKET, ok({"video": URLS["video"]})))
    assert end.outcome.cause is EndCause.FAILED
    assert "no media URL" in end.outcome.detail


def test_ready_ack_and_subscription_only_after_every_media_handshake(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    client.received(SIGNALING_SOCKET, ok(URLS))
    client.opened("audio")
    client.opened("transcript")
    first = client.received("audio", DataHandshakeResp(status_code=0))
    assert sent(first) == []
    assert not client.ready
    second = client.received("transcript", DataHandshakeResp(status_code=0))
    messages = sent(second)
    assert messages[0] == (SIGNALING_SOCKET, ClientReadyAck(rtms_stream_id=STREAM_ID))
    socket, subscription = messages[1]
    assert socket == SIGNALING_SOCKET
    assert isinstance(subscription, EventSubscription)
    assert [(s.event_type, s.subscribe) for s in subscription.events] == [(2, True), (3, True), (4, True)]
    assert second[-1] == Ready()


def test_audio_format_comes_from_the_handshake_echo(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    client.received(SIGNALING_SOCKET, ok(URLS))
    client.opened("audio")
    echo = MediaParams(audio=AudioParams(codec=1, sample_rate=3, channel=2))
    actions = client.received("audio", DataHandshakeResp(status_code=0, media_params=echo))
    assert AudioFormat(48000, 2) in actions


@pytest.mark.parametrize("echo", [None, MediaParams()])
def test_audio_format_without_echo_is_what_was_requested(
    make_config: MakeConfig, echo: MediaParams | None
) -> None:
    client = handshaking(make_config(audio=replace(DEFAULT_AUDIO, sample_rate=2)))
    client.received(SIGNALING_SOCKET, ok(URLS))
    client.opened("audio")
    assert AudioFormat(32000, 1) in client.received(
        "audio", DataHandshakeResp(status_code=0, media_params=echo)
    )


def test_keep_alive_is_answered_on_the_socket_it_came_from(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    request = KeepAliveReq(timestamp=1795264973549, sequence=7)
    assert sent(client.received(SIGNALING_SOCKET, request)) == [
        (SIGNALING_SOCKET, KeepAliveResp(timestamp=1795264973549, sequence=7))
    ]
    client.received(SIGNALING_SOCKET, ok(URLS))
    client.opened("audio")
    assert sent(client.received("audio", KeepAliveReq(timestamp=5, sequence=1))) == [
        ("audio", KeepAliveResp(timestamp=5, sequence=1))
    ]
    client.received("audio", DataHandshakeResp(status_code=0))
    # Without a sequence (the docs' example), the answer has none either.
    assert sent(client.received("audio", KeepAliveReq(timestamp=9))) == [
        ("audio", KeepAliveResp(timestamp=9))
    ]


def test_rejected_signaling_handshake_ends_with_the_zoom_status_name(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    end = ended(client.received(SIGNALING_SOCKET, SignalingHandshakeResp(status_code=3, reason="bad sig")))
    assert end.outcome.cause is EndCause.REJECTED
    assert end.outcome.status_code == 3
    assert "STATUS_INVALID_SIGNATURE" in end.outcome.detail
    assert "bad sig" in end.outcome.detail


def test_rejected_data_handshake_ends_the_stream(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    client.received(SIGNALING_SOCKET, ok(URLS))
    client.opened("audio")
    end = ended(client.received("audio", DataHandshakeResp(status_code=20)))
    assert (end.outcome.cause, end.outcome.status_code) == (EndCause.REJECTED, 20)
    assert "STATUS_INVALID_MEDIA_AUDIO_SAMPLE_RATE" in end.outcome.detail


def test_media_goes_to_the_sinks_with_names_from_the_roster(make_config: MakeConfig) -> None:
    client = joined(make_config())
    join = Event(
        event_type=3, timestamp=1, participants=(Participant(user_id=16778240, user_name="John Smith"),)
    )
    assert client.received(SIGNALING_SOCKET, EventUpdate(event=join)) == [WriteEvent(join)]
    audio = MediaContent(user_id=0, data=b"\x00\x01" * 320, timestamp=2)
    assert client.received("audio", MediaDataAudio(content=audio)) == [WriteAudio(audio)]
    text = TranscriptContent(user_id=16778240, data="Hi, hello world!", start_time=1, end_time=2)
    assert client.received("transcript", MediaDataTranscript(content=text)) == [
        WriteTranscript(text, "John Smith")
    ]
    named = TranscriptContent(user_id=5, user_name="Ann", data="hello")
    assert client.received("transcript", MediaDataTranscript(content=named)) == [
        WriteTranscript(named, "Ann")
    ]
    assert [p.as_json() for p in client.roster.everyone] == [{"user_id": 16778240, "user_name": "John Smith"}]


@pytest.mark.parametrize(
    "update",
    [StreamStateUpdate(state=4, reason=6), StreamStateUpdate(state=4, stop_reason=6)],
    ids=["reason", "stop_reason"],
)
def test_stream_terminated_ends_with_the_stop_reason(
    make_config: MakeConfig, update: StreamStateUpdate
) -> None:
    client = joined(make_config())
    assert client.received(SIGNALING_SOCKET, StreamStateUpdate(state=1)) == []
    end = ended(client.received(SIGNALING_SOCKET, update))
    assert (end.outcome.cause, end.outcome.stop_reason) == (EndCause.TERMINATED, 6)


def test_after_the_end_nothing_is_sent_but_data_in_flight_is_kept(make_config: MakeConfig) -> None:
    client = joined(make_config())
    client.received(SIGNALING_SOCKET, StreamStateUpdate(state=4, reason=6))
    assert client.received("audio", KeepAliveReq(timestamp=1, sequence=1)) == []
    audio = MediaContent(data=b"\x00\x00")
    assert client.received("audio", MediaDataAudio(content=audio)) == [WriteAudio(audio)]
    assert client.closed("audio", "gone", clean=False) == []
    assert client.close() == []


def test_graceful_close_sends_stream_close_req_and_ends_on_terminate(make_config: MakeConfig) -> None:
    client = joined(make_config())
    assert sent(client.close()) == [(SIGNALING_SOCKET, StreamCloseReq(rtms_stream_id=STREAM_ID))]
    assert client.received(SIGNALING_SOCKET, StreamCloseResp(status_code=0, reason="OK")) == []
    end = ended(client.received(SIGNALING_SOCKET, StreamStateUpdate(state=4, reason=20)))
    assert (end.outcome.cause, end.outcome.stop_reason) == (EndCause.CLOSED, 20)


def test_close_timeout_records_reason_20_only_when_acknowledged(make_config: MakeConfig) -> None:
    acked = joined(make_config())
    acked.close()
    acked.received(SIGNALING_SOCKET, StreamCloseResp(status_code=0))
    assert ended(acked.close_timed_out(5)).outcome.stop_reason == 20
    silent = joined(make_config())
    silent.close()
    end = ended(silent.close_timed_out(5))
    assert end.outcome.stop_reason is None
    assert "no STREAM_CLOSE_RESP within 5 s" in end.outcome.detail


def test_a_refused_close_request_ends_the_stream_at_once(make_config: MakeConfig) -> None:
    client = joined(make_config())
    client.close()
    end = ended(client.received(SIGNALING_SOCKET, StreamCloseResp(status_code=2, reason="no such stream")))
    assert (end.outcome.cause, end.outcome.status_code, end.outcome.stop_reason) == (EndCause.CLOSED, 2, None)
    assert "STATUS_INVALID_RTMS_STREAM_ID" in end.outcome.detail


def test_close_before_the_handshake_ends_without_sending(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    actions = client.close()
    assert sent(actions) == []
    assert ended(actions).outcome.cause is EndCause.CLOSED


def test_socket_loss_ends_the_stream_except_a_clean_media_close(make_config: MakeConfig) -> None:
    client = joined(make_config())
    assert client.closed("transcript", "transcript socket closed by Zoom (code 1000)", clean=True) == []
    end = ended(client.closed("audio", "audio socket closed by Zoom (no close frame)", clean=False))
    assert (end.outcome.cause, end.outcome.detail) == (
        EndCause.FAILED,
        "audio socket closed by Zoom (no close frame)",
    )
    signaling = joined(make_config())
    assert ended(signaling.closed(SIGNALING_SOCKET, "bye", clean=True)).outcome.cause is EndCause.FAILED


def test_media_on_the_wrong_socket_or_state_is_ignored(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    assert client.received(SIGNALING_SOCKET, MediaDataAudio(content=MediaContent(data=b"\x00\x00"))) == []
    assert client.outcome is None


def test_rtms_stopped_webhook_ends_the_stream(make_config: MakeConfig) -> None:
    client = joined(make_config())
    end = ended(client.stopped(8))
    assert (end.outcome.cause, end.outcome.stop_reason) == (EndCause.STOPPED, 8)
    assert client.stopped(6) == []
