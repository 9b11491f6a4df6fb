"""The sans-I/O stream logic, driven message by message (docs/protocol.md §3, §4, §9.2)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from msgspec.structs import replace

from connector.config import (
    DEFAULT_AUDIO,
    DEFAULT_CHAT,
    DEFAULT_DESKSHARE,
    DEFAULT_TRANSCRIPT,
    DEFAULT_VIDEO,
    ConnectorConfig,
)
from connector.protocol import (
    AudioParams,
    ChatContent,
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
    MediaDataChat,
    MediaDataShare,
    MediaDataTranscript,
    MediaDataVideo,
    MediaParams,
    MediaServer,
    MediaType,
    Message,
    Participant,
    SignalingHandshakeReq,
    SignalingHandshakeResp,
    StopReason,
    StreamCloseReq,
    StreamCloseResp,
    StreamStateUpdate,
    TranscriptContent,
    VideoParams,
    VideoSubscriptionReq,
    handshake_signature,
)
from connector.stream import (
    RESTART_STOP_REASONS,
    SIGNALING_SOCKET,
    Action,
    AudioFormat,
    EndCause,
    Ended,
    Media,
    Open,
    Ready,
    Reopen,
    Reopened,
    Send,
    StreamClient,
    VideoFormat,
    WriteEvent,
)

from .conftest import CLIENT_ID, CLIENT_SECRET, INSTANCE_ID, STREAM_ID, started_event

SIGNAL_URL = "wss://rtms.example/signal"
URLS = {"audio": "wss://m.example/a", "transcript": "wss://m.example/t", "video": "wss://m.example/v"}
EVERY_URL = {m.key: f"wss://m.example/{m.key}" for m in MediaType.singles()}
EVERY_TYPE = MediaType.singles()

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


def joined(config: ConnectorConfig, urls: dict[str, str] = URLS) -> StreamClient:
    """A client that completed the whole join, one socket per wanted type."""
    client = handshaking(config)
    opens = [a for a in client.received(SIGNALING_SOCKET, ok(urls)) if isinstance(a, Open)]
    for action in opens:
        client.opened(action.socket)
        client.received(action.socket, DataHandshakeResp(status_code=0))
    assert client.ready
    return client


# --- the join (§3, §4.1-§4.5) ----------------------------------------------------------------


def test_start_opens_signaling_to_server_urls(make_config: MakeConfig) -> None:
    client = StreamClient(make_config(), started_event(SIGNAL_URL))
    assert client.start() == [Open(SIGNALING_SOCKET, SIGNAL_URL)]
    assert client.start() == []  # once


def test_start_without_server_urls_ends_at_once(make_config: MakeConfig) -> None:
    client = StreamClient(make_config(), started_event(""))
    end = ended(client.start())
    assert (end.outcome.cause, end.outcome.retry) == (EndCause.FAILED, None)
    assert "no server_urls" in end.outcome.detail


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


def test_every_media_type_gets_its_own_socket_and_params(make_config: MakeConfig) -> None:
    client = handshaking(make_config(media_types=EVERY_TYPE))
    actions = client.received(SIGNALING_SOCKET, ok({**EVERY_URL, "all": "wss://m.example/all"}))
    assert actions == [Open(m.key, EVERY_URL[m.key]) for m in EVERY_TYPE]
    expected = {
        "audio": (1, MediaParams(audio=DEFAULT_AUDIO)),
        "video": (2, MediaParams(video=DEFAULT_VIDEO)),
        "deskshare": (4, MediaParams(deskshare=DEFAULT_DESKSHARE)),
        "transcript": (8, MediaParams(transcript=DEFAULT_TRANSCRIPT)),
        "chat": (16, MediaParams(chat=DEFAULT_CHAT)),
    }
    for key, (media_type, params) in expected.items():
        [(socket, req)] = sent(client.opened(key))
        assert socket == key
        assert isinstance(req, DataHandshakeReq)
        assert (req.media_type, req.media_params) == (media_type, params)


def test_missing_per_type_urls_fall_back_to_one_all_socket(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    actions = client.received(SIGNALING_SOCKET, ok({"audio": URLS["audio"], "all": "wss://m.example/all"}))
    assert actions == [Open("all", "wss://m.example/all")]
    [(_, req)] = sent(client.opened("all"))
    assert isinstance(req, DataHandshakeReq)
    assert req.media_type == 32
    assert req.media_params == MediaParams(audio=DEFAULT_AUDIO, transcript=DEFAULT_TRANSCRIPT)


def test_the_all_socket_asks_for_every_wanted_type(make_config: MakeConfig) -> None:
    client = handshaking(make_config(media_types=EVERY_TYPE))
    assert client.received(SIGNALING_SOCKET, ok({"all": "wss://m.example/all"})) == [
        Open("all", "wss://m.example/all")
    ]
    [(_, req)] = sent(client.opened("all"))
    assert isinstance(req, DataHandshakeReq)
    assert req.media_params == MediaParams(
        audio=DEFAULT_AUDIO,
        video=DEFAULT_VIDEO,
        deskshare=DEFAULT_DESKSHARE,
        transcript=DEFAULT_TRANSCRIPT,
        chat=DEFAULT_CHAT,
    )
    actions = client.received("all", DataHandshakeResp(status_code=0))
    # The formats of every type the one socket carries, then the join completes.
    assert [a for a in actions if isinstance(a, AudioFormat | VideoFormat)] == [
        AudioFormat(16000, 1),
        VideoFormat(MediaType.VIDEO, codec=5, fps=5, resolution=2),
        VideoFormat(MediaType.DESKSHARE, codec=5, fps=1, resolution=3),
    ]
    assert Ready() in actions


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


@pytest.mark.parametrize(
    ("media_types", "events"),
    [
        ((MediaType.AUDIO,), [2, 3, 4]),
        ((MediaType.AUDIO, MediaType.DESKSHARE), [2, 3, 4, 5, 6]),
        ((MediaType.VIDEO,), [2, 3, 4, 8, 9]),
        (EVERY_TYPE, [2, 3, 4, 5, 6, 8, 9]),
    ],
    ids=["audio", "deskshare", "video", "every"],
)
def test_sharing_and_video_events_are_subscribed_when_wanted(
    make_config: MakeConfig, media_types: tuple[MediaType, ...], events: list[int]
) -> None:
    client = handshaking(make_config(media_types=media_types))
    opens = [a for a in client.received(SIGNALING_SOCKET, ok(EVERY_URL)) if isinstance(a, Open)]
    actions: list[Action] = []
    for action in opens:
        client.opened(action.socket)
        actions = client.received(action.socket, DataHandshakeResp(status_code=0))
    [subscription] = [m for _, m in sent(actions) if isinstance(m, EventSubscription)]
    assert [s.event_type for s in subscription.events] == events


def test_video_user_is_subscribed_after_client_ready_ack(make_config: MakeConfig) -> None:
    config = make_config(media_types=(MediaType.VIDEO,), video_user=16778240)
    client = handshaking(config)
    client.received(SIGNALING_SOCKET, ok(EVERY_URL))
    [(_, req)] = sent(client.opened("video"))
    assert isinstance(req, DataHandshakeReq)
    assert isinstance(req.media_params, MediaParams)
    assert isinstance(req.media_params.video, VideoParams)
    assert req.media_params.video.data_opt == 4  # VIDEO_SINGLE_INDIVIDUAL_STREAM (§4.16)
    messages = [m for _, m in sent(client.received("video", DataHandshakeResp(status_code=0)))]
    assert [type(m) for m in messages] == [ClientReadyAck, EventSubscription, VideoSubscriptionReq]
    assert messages[2] == VideoSubscriptionReq(user_id=16778240, subscribe=True)


def test_no_video_subscription_without_video(make_config: MakeConfig) -> None:
    client = handshaking(make_config(video_user=5))  # audio and transcript only
    client.received(SIGNALING_SOCKET, ok(URLS))
    messages: list[Message] = []
    for socket in ("audio", "transcript"):
        client.opened(socket)
        messages += [m for _, m in sent(client.received(socket, DataHandshakeResp(status_code=0)))]
    assert [type(m) for m in messages] == [ClientReadyAck, EventSubscription]


# --- negotiated formats (§4.4) ---------------------------------------------------------------


def test_audio_format_comes_from_the_handshake_echo(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    client.received(SIGNALING_SOCKET, ok(URLS))
    client.opened("audio")
    echo = MediaParams(audio=AudioParams(codec=1, sample_rate=3, channel=2))
    actions = client.received("audio", DataHandshakeResp(status_code=0, media_params=echo))
    assert AudioFormat(48000, 2) in actions


def test_audio_multi_streams_is_per_participant(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    client.received(SIGNALING_SOCKET, ok(URLS))
    client.opened("audio")
    echo = MediaParams(audio=AudioParams(codec=4, sample_rate=3, channel=2, data_opt=2))
    actions = client.received("audio", DataHandshakeResp(status_code=0, media_params=echo))
    assert AudioFormat(48000, 2, codec=4, per_participant=True) in actions


@pytest.mark.parametrize("echo", [None, MediaParams()])
def test_audio_format_without_echo_is_what_was_requested(
    make_config: MakeConfig, echo: MediaParams | None
) -> None:
    audio = replace(DEFAULT_AUDIO, sample_rate=2, data_opt=2)
    client = handshaking(make_config(audio=audio))
    client.received(SIGNALING_SOCKET, ok(URLS))
    client.opened("audio")
    assert AudioFormat(32000, 1, per_participant=True) in client.received(
        "audio", DataHandshakeResp(status_code=0, media_params=echo)
    )


def test_video_formats_come_from_the_echo_or_the_request(make_config: MakeConfig) -> None:
    config = make_config(media_types=(MediaType.VIDEO, MediaType.DESKSHARE))
    client = handshaking(config)
    client.received(SIGNALING_SOCKET, ok(EVERY_URL))
    client.opened("video")
    client.opened("deskshare")
    echo = MediaParams(video=VideoParams(codec=7, fps=30, resolution=3))
    video = client.received("video", DataHandshakeResp(status_code=0, media_params=echo))
    assert [a for a in video if isinstance(a, VideoFormat)] == [VideoFormat(MediaType.VIDEO, 7, 30, 3)]
    share = client.received("deskshare", DataHandshakeResp(status_code=0, media_params=None))
    assert [a for a in share if isinstance(a, VideoFormat)] == [VideoFormat(MediaType.DESKSHARE, 5, 1, 3)]


# --- streaming (§4.6, §4.11, §4.12) ----------------------------------------------------------


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
    assert (end.outcome.status_code, end.outcome.retry) == (3, None)
    assert "STATUS_INVALID_SIGNATURE" in end.outcome.detail
    assert "bad sig" in end.outcome.detail


def test_rejected_data_handshake_ends_the_stream(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    client.received(SIGNALING_SOCKET, ok(URLS))
    client.opened("audio")
    end = ended(client.received("audio", DataHandshakeResp(status_code=20)))
    assert (end.outcome.cause, end.outcome.status_code, end.outcome.retry) == (EndCause.REJECTED, 20, None)
    assert "STATUS_INVALID_MEDIA_AUDIO_SAMPLE_RATE" in end.outcome.detail


def test_media_goes_to_the_sinks_with_names_from_the_roster(make_config: MakeConfig) -> None:
    client = joined(make_config())
    join = Event(
        event_type=3, timestamp=1, participants=(Participant(user_id=16778240, user_name="John Smith"),)
    )
    assert client.received(SIGNALING_SOCKET, EventUpdate(event=join)) == [WriteEvent(join)]
    audio = MediaContent(user_id=0, data=b"\x00\x01" * 320, timestamp=2)
    assert client.received("audio", MediaDataAudio(content=audio)) == [Media(MediaType.AUDIO, audio, None)]
    text = TranscriptContent(user_id=16778240, data="Hi, hello world!", start_time=1, end_time=2)
    assert client.received("transcript", MediaDataTranscript(content=text)) == [
        Media(MediaType.TRANSCRIPT, text, "John Smith")
    ]
    named = TranscriptContent(user_id=5, user_name="Ann", data="hello")
    assert client.received("transcript", MediaDataTranscript(content=named)) == [
        Media(MediaType.TRANSCRIPT, named, "Ann")
    ]
    assert [p.as_json() for p in client.roster.everyone] == [{"user_id": 16778240, "user_name": "John Smith"}]


def test_every_media_type_becomes_a_media_action(make_config: MakeConfig) -> None:
    client = joined(make_config(media_types=EVERY_TYPE), EVERY_URL)
    client.received(
        SIGNALING_SOCKET,
        EventUpdate(event=Event(event_type=3, participants=(Participant(user_id=7, user_name="Bo"),))),
    )
    picture = MediaContent(user_id=7, data=b"\xff\xd8jpeg", timestamp=10)
    chat = ChatContent(user_id=7, data="hi all", timestamp=11)
    cases: list[tuple[str, Message, Media]] = [
        ("audio", MediaDataAudio(content=picture), Media(MediaType.AUDIO, picture, "Bo")),
        ("video", MediaDataVideo(content=picture), Media(MediaType.VIDEO, picture, "Bo")),
        ("deskshare", MediaDataShare(content=picture), Media(MediaType.DESKSHARE, picture, "Bo")),
        ("chat", MediaDataChat(content=chat), Media(MediaType.CHAT, chat, "Bo")),
        # Zoom may send any type on any media socket (§4.12).
        ("audio", MediaDataChat(content=chat), Media(MediaType.CHAT, chat, "Bo")),
    ]
    for socket, message, media in cases:
        assert client.received(socket, message) == [media]


def test_media_of_a_type_not_asked_for_is_ignored(make_config: MakeConfig) -> None:
    client = joined(make_config())  # audio and transcript
    picture = MediaContent(user_id=7, data=b"\xff\xd8", timestamp=10)
    assert client.received("audio", MediaDataShare(content=picture)) == []
    assert client.received("audio", MediaDataVideo(content=picture)) == []
    assert client.outcome is None


def test_media_on_the_wrong_socket_or_state_is_ignored(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    assert client.received(SIGNALING_SOCKET, MediaDataAudio(content=MediaContent(data=b"\x00\x00"))) == []
    assert client.outcome is None


# --- the end (§4.8, §4.14, §7.1) -------------------------------------------------------------


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
    assert (end.outcome.cause, end.outcome.stop_reason, end.outcome.retry) == (EndCause.TERMINATED, 6, None)


@pytest.mark.parametrize("reason", [int(r) for r in StopReason])
def test_only_reconnectable_stop_reasons_ask_for_a_full_restart(make_config: MakeConfig, reason: int) -> None:
    """§9.2: 10-19 and 24 → reconnect in full; 18 (authentication, F1) and the rest are final."""
    restart = reason in (*range(10, 18), 19, 24)
    assert (reason in RESTART_STOP_REASONS) is restart
    terminated = joined(make_config())
    end = ended(terminated.received(SIGNALING_SOCKET, StreamStateUpdate(state=4, reason=reason)))
    assert (end.outcome.stop_reason, end.outcome.retry) == (reason, "stopped_restart" if restart else None)
    stopped = joined(make_config())
    end = ended(stopped.stopped(reason))
    assert (end.outcome.cause, end.outcome.retry) == (
        EndCause.STOPPED,
        "stopped_restart" if restart else None,
    )


def test_after_the_end_nothing_is_sent_but_data_in_flight_is_kept(make_config: MakeConfig) -> None:
    client = joined(make_config())
    client.received(SIGNALING_SOCKET, StreamStateUpdate(state=4, reason=6))
    assert client.received("audio", KeepAliveReq(timestamp=1, sequence=1)) == []
    audio = MediaContent(data=b"\x00\x00")
    assert client.received("audio", MediaDataAudio(content=audio)) == [Media(MediaType.AUDIO, audio, None)]
    assert client.closed("audio", "gone", clean=False) == []
    assert client.close() == []
    assert client.reopen("audio") == []


def test_graceful_close_sends_stream_close_req_and_ends_on_terminate(make_config: MakeConfig) -> None:
    client = joined(make_config())
    assert sent(client.close()) == [(SIGNALING_SOCKET, StreamCloseReq(rtms_stream_id=STREAM_ID))]
    assert client.close() == []  # once
    assert client.received(SIGNALING_SOCKET, StreamCloseResp(status_code=0, reason="OK")) == []
    end = ended(client.received(SIGNALING_SOCKET, StreamStateUpdate(state=4, reason=20)))
    assert (end.outcome.cause, end.outcome.stop_reason, end.outcome.retry) == (EndCause.CLOSED, 20, None)


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


def test_signaling_closed_after_an_acknowledged_close_is_the_close(make_config: MakeConfig) -> None:
    client = joined(make_config())
    client.close()
    client.received(SIGNALING_SOCKET, StreamCloseResp(status_code=0))
    end = ended(client.closed(SIGNALING_SOCKET, "signaling socket closed by Zoom (code 1000)", clean=True))
    assert (end.outcome.cause, end.outcome.stop_reason, end.outcome.retry) == (EndCause.CLOSED, 20, None)


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


def test_rtms_stopped_webhook_ends_the_stream(make_config: MakeConfig) -> None:
    client = joined(make_config())
    end = ended(client.stopped(8))
    assert (end.outcome.cause, end.outcome.stop_reason, end.outcome.retry) == (EndCause.STOPPED, 8, None)
    assert client.stopped(6) == []


def test_fail_names_the_reconnect_cause(make_config: MakeConfig) -> None:
    client = joined(make_config())
    end = ended(client.fail("reconnect asked for (interrupted)", retry="interrupted"))
    assert (end.outcome.cause, end.outcome.retry) == (EndCause.FAILED, "interrupted")
    assert client.fail("again") == []


# --- lost sockets (§4.11, §9.2) --------------------------------------------------------------


def test_signaling_never_opened_is_retried(make_config: MakeConfig) -> None:
    client = StreamClient(make_config(), started_event(SIGNAL_URL))
    client.start()
    end = ended(client.closed(SIGNALING_SOCKET, "signaling socket cannot connect", clean=False))
    assert (end.outcome.cause, end.outcome.retry) == (EndCause.FAILED, "connect_failed")


def test_signaling_dropped_is_retried_but_closed_is_final(make_config: MakeConfig) -> None:
    dropped = joined(make_config())
    end = ended(
        dropped.closed(SIGNALING_SOCKET, "signaling socket closed by Zoom (no close frame)", clean=False)
    )
    assert (end.outcome.cause, end.outcome.retry) == (EndCause.FAILED, "signaling_lost")
    closed = joined(make_config())
    end = ended(closed.closed(SIGNALING_SOCKET, "signaling socket closed by Zoom (code 1000)", clean=True))
    assert (end.outcome.cause, end.outcome.retry) == (EndCause.FAILED, None)


def test_a_media_socket_lost_during_the_join_retries_the_attempt(make_config: MakeConfig) -> None:
    client = handshaking(make_config())
    client.received(SIGNALING_SOCKET, ok(URLS))
    client.opened("audio")
    end = ended(client.closed("audio", "audio socket cannot connect", clean=False))
    assert (end.outcome.cause, end.outcome.retry) == (EndCause.FAILED, "connect_failed")


def test_a_media_socket_dropped_while_streaming_is_reopened_alone(make_config: MakeConfig) -> None:
    client = joined(make_config())
    assert client.closed("transcript", "transcript socket closed by Zoom (code 1000)", clean=True) == []
    assert client.closed("audio", "audio socket closed by Zoom (no close frame)", clean=False) == [
        Reopen("audio", "media")
    ]
    assert client.outcome is None
    # Zoom's MEDIA_CONNECTION_INTERRUPTED for the same loss adds nothing (one re-open, never two).
    interrupted = Event(event_type=7, timestamp=1)
    assert client.received(SIGNALING_SOCKET, EventUpdate(event=interrupted)) == [
        WriteEvent(interrupted),
        Reopen("transcript", "media"),  # the cleanly closed one was waiting for this
    ]
    assert client.reopen("audio") == [Open("audio", URLS["audio"])]
    [(socket, req)] = sent(client.opened("audio"))
    assert socket == "audio"
    assert isinstance(req, DataHandshakeReq)
    assert req.media_params == MediaParams(audio=DEFAULT_AUDIO)
    actions = client.received("audio", DataHandshakeResp(status_code=0))
    assert actions == [AudioFormat(16000, 1), Reopened("audio")]  # no second CLIENT_READY_ACK
    audio = MediaContent(data=b"\x01\x00")
    assert client.received("audio", MediaDataAudio(content=audio)) == [Media(MediaType.AUDIO, audio, None)]
    # Lost again later: re-opened again.
    assert client.closed("audio", "dropped", clean=False) == [Reopen("audio", "media")]


def test_interruption_reported_before_the_drop_makes_one_reopen(make_config: MakeConfig) -> None:
    client = joined(make_config())
    named = Event(event_type=7, media_type=1)
    assert client.received(SIGNALING_SOCKET, EventUpdate(event=named)) == [
        WriteEvent(named),
        Reopen("audio", "media"),
    ]
    assert client.closed("audio", "dropped", clean=False) == []  # the re-open is already under way
    assert client.reopen("audio") == [Open("audio", URLS["audio"])]


def test_an_interruption_without_a_lost_socket_reopens_nothing(make_config: MakeConfig) -> None:
    client = joined(make_config())
    unnamed = Event(event_type=7)
    assert client.received(SIGNALING_SOCKET, EventUpdate(event=unnamed)) == [WriteEvent(unnamed)]
    named = Event(event_type=7, media_type=8)
    assert client.received(SIGNALING_SOCKET, EventUpdate(event=named)) == [
        WriteEvent(named),
        Reopen("transcript", "media"),
    ]
    # Due while the socket is still open: nothing to do.
    assert client.reopen("transcript") == []


def test_stream_state_interrupted_reopens_closed_media_sockets(make_config: MakeConfig) -> None:
    client = joined(make_config())
    assert client.closed("audio", "audio socket closed by Zoom (code 1000)", clean=True) == []
    assert client.received(SIGNALING_SOCKET, StreamStateUpdate(state=2)) == [Reopen("audio", "media")]
    assert client.received(SIGNALING_SOCKET, StreamStateUpdate(state=2)) == []  # under way already
    assert client.outcome is None


def test_no_reopen_once_a_close_was_asked_for(make_config: MakeConfig) -> None:
    client = joined(make_config())
    client.close()
    assert client.closed("audio", "dropped", clean=False) == []
    assert client.reopen("audio") == []
