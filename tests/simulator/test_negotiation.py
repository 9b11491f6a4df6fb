"""Media parameter negotiation (§4.3, §4.4): defaults, Zoom's rules, and the status codes of refusal."""

from __future__ import annotations

import pytest

from connector.protocol import (
    AudioParams,
    ChatParams,
    DeskshareParams,
    MediaParams,
    MediaType,
    StatusCode,
    TranscriptParams,
    VideoParams,
)
from simulator.config import App
from simulator.negotiation import Rejected, negotiate

SCOPES = App().media_types


def _audio(**asked: int) -> AudioParams:
    params = negotiate(MediaType.AUDIO, MediaParams(audio=AudioParams(**asked)), SCOPES)
    assert isinstance(params.audio, AudioParams)
    return params.audio


def _refusal(media_type: int, params: MediaParams | None, scopes: MediaType = SCOPES) -> StatusCode:
    with pytest.raises(Rejected) as caught:
        negotiate(media_type, params, scopes)
    assert caught.value.reason
    return caught.value.status


def test_defaults_for_every_type() -> None:
    """With no ``media_params`` (or ``null``, as the SDK sends for transcripts) Zoom's defaults apply."""
    everything = negotiate(MediaType.ALL, None, SCOPES)
    assert everything == MediaParams(
        audio=AudioParams(content_type=2, codec=1, sample_rate=1, channel=1, data_opt=1, send_rate=20),
        video=VideoParams(content_type=3, codec=5, resolution=2, data_opt=3, fps=5),
        deskshare=DeskshareParams(content_type=3, codec=5, resolution=3, fps=1),
        transcript=TranscriptParams(content_type=5, enable_lid=True),
        chat=ChatParams(content_type=5),
    )
    for single in MediaType.singles():
        alone = negotiate(single, None, SCOPES)
        assert getattr(alone, single.key) == getattr(everything, single.key)
        others = [t.key for t in MediaType.singles() if t is not single]
        assert all(getattr(alone, key) is getattr(MediaParams(), key) for key in others)


def test_the_sdk_audio_request_is_answered_in_l16() -> None:
    """The SDK's default (OPUS 48 kHz stereo multi-stream) is valid; the simulator serves L16."""
    audio = _audio(content_type=2, codec=4, sample_rate=3, channel=2, data_opt=2, send_rate=20)
    assert audio == AudioParams(content_type=2, codec=1, sample_rate=3, channel=2, data_opt=2, send_rate=20)


@pytest.mark.parametrize("rate", [0, 1, 2])
def test_opus_needs_48k(rate: int) -> None:
    params = MediaParams(audio=AudioParams(codec=4, sample_rate=rate))
    assert _refusal(MediaType.AUDIO, params) == StatusCode.INVALID_MEDIA_AUDIO_PARAMS


def test_g711_is_8k_mono() -> None:
    assert _audio(codec=2, sample_rate=0, channel=1).sample_rate == 0
    wrong_rate = MediaParams(audio=AudioParams(codec=2, sample_rate=1))
    assert _refusal(MediaType.AUDIO, wrong_rate) == StatusCode.INVALID_MEDIA_AUDIO_PARAMS
    stereo = MediaParams(audio=AudioParams(codec=2, sample_rate=0, channel=2))
    assert _refusal(MediaType.AUDIO, stereo) == StatusCode.INVALID_MEDIA_AUDIO_PARAMS


def test_g722_is_16k_mono() -> None:
    assert _audio(codec=3, sample_rate=1).codec == 1
    assert _refusal(MediaType.AUDIO, MediaParams(audio=AudioParams(codec=3, sample_rate=3))) == (
        StatusCode.INVALID_MEDIA_AUDIO_PARAMS
    )


@pytest.mark.parametrize(
    ("asked", "served"), [(20, 20), (100, 100), (1000, 1000), (1020, 1000), (5000, 1000)]
)
def test_send_rate_is_clamped_to_one_second(asked: int, served: int) -> None:
    assert _audio(send_rate=asked).send_rate == served


@pytest.mark.parametrize("send_rate", [0, -20, 10, 30, 1010])
def test_send_rate_must_be_a_positive_multiple_of_20(send_rate: int) -> None:
    params = MediaParams(audio=AudioParams(send_rate=send_rate))
    assert _refusal(MediaType.AUDIO, params) == StatusCode.INVALID_MEDIA_AUDIO_SEND_RATE


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        ("content_type", 3, StatusCode.INVALID_MEDIA_AUDIO_CONTENT_TYPE),
        ("codec", 5, StatusCode.INVALID_MEDIA_AUDIO_CODEC),
        ("sample_rate", 4, StatusCode.INVALID_MEDIA_AUDIO_SAMPLE_RATE),
        ("channel", 3, StatusCode.INVALID_MEDIA_AUDIO_CHANNEL),
        ("data_opt", 3, StatusCode.INVALID_MEDIA_AUDIO_DATA_OPT),
    ],
)
def test_audio_field_errors(field: str, value: int, status: StatusCode) -> None:
    assert _refusal(MediaType.AUDIO, MediaParams(audio=AudioParams(**{field: value}))) == status


@pytest.mark.parametrize(
    ("asked", "codec", "fps"),
    [
        (VideoParams(fps=30), 5, 5),  # no codec: JPG, and JPG cannot go above 5 fps
        (VideoParams(codec=5, fps=30), 5, 5),
        (VideoParams(codec=6, fps=6), 5, 5),  # PNG above 5 fps falls back to JPG
        (VideoParams(codec=7, fps=30), 7, 30),
        (VideoParams(codec=7, fps=2), 7, 2),
        (VideoParams(codec=6, fps=5), 6, 5),
    ],
)
def test_video_fps_and_codec(asked: VideoParams, codec: int, fps: int) -> None:
    video = negotiate(MediaType.VIDEO, MediaParams(video=asked), SCOPES).video
    assert isinstance(video, VideoParams)
    assert (video.codec, video.fps) == (codec, fps)


def test_deskshare_falls_back_to_jpg_at_1_fps() -> None:
    share = negotiate(
        MediaType.DESKSHARE, MediaParams(deskshare=DeskshareParams(codec=5, fps=2)), SCOPES
    ).deskshare
    assert isinstance(share, DeskshareParams)
    assert (share.codec, share.fps, share.data_opt) == (5, 1, DeskshareParams().data_opt)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        (MediaParams(video=VideoParams(fps=0)), StatusCode.INVALID_MEDIA_VIDEO_FPS),
        (MediaParams(video=VideoParams(resolution=5)), StatusCode.INVALID_MEDIA_VIDEO_RESOLUTION),
        (MediaParams(video=VideoParams(codec=1)), StatusCode.INVALID_MEDIA_VIDEO_CODEC),
        (MediaParams(video=VideoParams(content_type=2)), StatusCode.INVALID_MEDIA_VIDEO_CONTENT_TYPE),
        (MediaParams(video=VideoParams(data_opt=1)), StatusCode.INVALID_MEDIA_VIDEO_DATA_OPT),
    ],
)
def test_video_field_errors(params: MediaParams, status: StatusCode) -> None:
    assert _refusal(MediaType.VIDEO, params) == status


def test_deskshare_field_errors_use_the_deskshare_codes() -> None:
    params = MediaParams(deskshare=DeskshareParams(fps=31))
    assert _refusal(MediaType.DESKSHARE, params) == StatusCode.INVALID_MEDIA_DESKSHARE_FPS


def test_transcript_language() -> None:
    locked = negotiate(
        MediaType.TRANSCRIPT,
        MediaParams(transcript=TranscriptParams(src_language=9, enable_lid=False)),
        SCOPES,
    ).transcript
    assert locked == TranscriptParams(content_type=5, src_language=9, enable_lid=False)
    params = MediaParams(transcript=TranscriptParams(src_language=99))
    assert _refusal(MediaType.TRANSCRIPT, params) == StatusCode.INVALID_MEDIA_TRANSCRIPT_SOURCE_LANGUAGE


@pytest.mark.parametrize(
    ("media_type", "status"),
    [
        (MediaType.AUDIO, StatusCode.MEDIA_TYPE_AUDIO_NOT_SUPPORT),
        (MediaType.VIDEO, StatusCode.MEDIA_TYPE_VIDEO_NOT_SUPPORT),
        (MediaType.DESKSHARE, StatusCode.MEDIA_TYPE_DESKSHARE_NOT_SUPPORT),
        (MediaType.TRANSCRIPT, StatusCode.MEDIA_TYPE_TRANSCRIPT_NOT_SUPPORT),
        (MediaType.CHAT, StatusCode.MEDIA_TYPE_CHAT_NOT_SUPPORT),
    ],
)
def test_scopes(media_type: MediaType, status: StatusCode) -> None:
    """A type outside the app's scopes is refused with its own *_NOT_SUPPORT code."""
    scopes = MediaType(sum(t for t in MediaType.singles() if t is not media_type))
    assert _refusal(media_type, None, scopes) == status


def test_all_gets_only_the_scoped_types() -> None:
    params = negotiate(MediaType.ALL, None, MediaType.AUDIO | MediaType.TRANSCRIPT)
    assert isinstance(params.audio, AudioParams)
    assert isinstance(params.transcript, TranscriptParams)
    assert params.video is MediaParams().video
    assert params.chat is MediaParams().chat


@pytest.mark.parametrize("media_type", [0, 3, 31, 33, 64])
def test_media_type_must_be_one_type_or_all(media_type: int) -> None:
    assert _refusal(media_type, None) == StatusCode.MEDIA_TYPE_INVALID_VALUE
