"""Media parameter negotiation for DATA_HAND_SHAKE_REQ (docs/protocol.md §4.3, §4.4).

``negotiate`` validates what a client asked for, fills Zoom's defaults, applies Zoom's silent
replacements (video above 5 fps without H.264 becomes JPG at 5 fps; share above 1 fps becomes
JPG at 1 fps) and returns the parameters to echo — or raises :class:`Rejected` with the status
code Zoom answers.

Not reproduced: the simulator produces L16 PCM only. A request for OPUS, G.711 or G.722 that
Zoom would accept is accepted, and the echoed parameters say ``codec: 1`` (L16), so a client
that reads the echo knows what it receives.
"""

from __future__ import annotations

from enum import IntEnum

from msgspec import UNSET, UnsetType

from connector.protocol import (
    AudioChannel,
    AudioParams,
    ChatParams,
    Codec,
    ContentType,
    DataOption,
    DeskshareParams,
    MediaParams,
    MediaType,
    Resolution,
    SampleRate,
    StatusCode,
    TranscriptLanguage,
    TranscriptParams,
    VideoParams,
    given,
)

__all__ = ["Rejected", "negotiate"]

_NOT_SUPPORTED = {
    MediaType.AUDIO: StatusCode.MEDIA_TYPE_AUDIO_NOT_SUPPORT,
    MediaType.VIDEO: StatusCode.MEDIA_TYPE_VIDEO_NOT_SUPPORT,
    MediaType.DESKSHARE: StatusCode.MEDIA_TYPE_DESKSHARE_NOT_SUPPORT,
    MediaType.TRANSCRIPT: StatusCode.MEDIA_TYPE_TRANSCRIPT_NOT_SUPPORT,
    MediaType.CHAT: StatusCode.MEDIA_TYPE_CHAT_NOT_SUPPORT,
}


class Rejected(Exception):
    """The handshake fails with ``status`` (a current-table meaning) and ``reason``."""

    def __init__(self, status: StatusCode, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _known(kind: type[IntEnum], value: int) -> bool:
    return value in kind._value2member_map_


def _check(ok: bool, status: StatusCode, reason: str) -> None:
    if not ok:
        raise Rejected(status, reason)


def _audio(p: AudioParams) -> AudioParams:
    content_type = given(p.content_type, ContentType.RAW_AUDIO)
    codec = given(p.codec, Codec.L16)
    rate = given(p.sample_rate, SampleRate.SR_16K)
    channel = given(p.channel, AudioChannel.MONO)
    data_opt = given(p.data_opt, DataOption.AUDIO_MIXED_STREAM)
    send_rate = given(p.send_rate, 20)
    bad = StatusCode
    _check(
        content_type in (ContentType.RTP, ContentType.RAW_AUDIO),
        bad.INVALID_MEDIA_AUDIO_CONTENT_TYPE,
        f"audio content_type {content_type} is not RTP (1) or RAW_AUDIO (2)",
    )
    _check(
        codec in (Codec.L16, Codec.G711, Codec.G722, Codec.OPUS),
        bad.INVALID_MEDIA_AUDIO_CODEC,
        f"audio codec {codec} is not L16, G711, G722 or OPUS",
    )
    _check(
        _known(SampleRate, rate), bad.INVALID_MEDIA_AUDIO_SAMPLE_RATE, f"audio sample_rate {rate} is not 0-3"
    )
    _check(
        _known(AudioChannel, channel),
        bad.INVALID_MEDIA_AUDIO_CHANNEL,
        f"audio channel {channel} is not 1 or 2",
    )
    _check(
        data_opt in (DataOption.AUDIO_MIXED_STREAM, DataOption.AUDIO_MULTI_STREAMS),
        bad.INVALID_MEDIA_AUDIO_DATA_OPT,
        f"audio data_opt {data_opt} is not 1 or 2",
    )
    _check(
        send_rate > 0 and send_rate % 20 == 0,
        bad.INVALID_MEDIA_AUDIO_SEND_RATE,
        f"audio send_rate {send_rate} is not a positive multiple of 20 ms",
    )
    # The media server validates the whole tuple (§4.3, supported combinations).
    combos: dict[int, tuple[int, ...]] = {
        Codec.OPUS: (SampleRate.SR_48K,),
        Codec.G711: (SampleRate.SR_8K,),
        Codec.G722: (SampleRate.SR_16K,),
    }
    _check(
        codec not in combos or rate in combos[codec],
        bad.INVALID_MEDIA_AUDIO_PARAMS,
        f"codec {Codec(codec).name} does not support sample_rate {SampleRate(rate).name}",
    )
    _check(
        codec not in (Codec.G711, Codec.G722) or channel == AudioChannel.MONO,
        bad.INVALID_MEDIA_AUDIO_PARAMS,
        f"codec {Codec(codec).name} is mono only",
    )
    return AudioParams(
        content_type=ContentType.RAW_AUDIO,
        codec=Codec.L16,
        sample_rate=rate,
        channel=channel,
        data_opt=data_opt,
        send_rate=min(send_rate, 1000),  # values above 1000 ms are clamped (§4.3)
    )


def _visual(p: VideoParams, *, share: bool) -> tuple[int, int, int, int, int | UnsetType]:
    """Shared rules of video and share; returns content_type, codec, resolution, fps, data_opt."""
    s = StatusCode
    codes = (
        (
            s.INVALID_MEDIA_DESKSHARE_CONTENT_TYPE,
            s.INVALID_MEDIA_DESKSHARE_CODEC,
            s.INVALID_MEDIA_DESKSHARE_RESOLUTION,
            s.INVALID_MEDIA_DESKSHARE_FPS,
        )
        if share
        else (
            s.INVALID_MEDIA_VIDEO_CONTENT_TYPE,
            s.INVALID_MEDIA_VIDEO_CODEC,
            s.INVALID_MEDIA_VIDEO_RESOLUTION,
            s.INVALID_MEDIA_VIDEO_FPS,
        )
    )
    what = "deskshare" if share else "video"
    content_type = given(p.content_type, ContentType.RAW_VIDEO)
    codec = given(p.codec, Codec.JPG)
    resolution = given(p.resolution, Resolution.FHD if share else Resolution.HD)
    slow_fps = 1 if share else 5
    fps = given(p.fps, slow_fps)
    _check(
        content_type == ContentType.RAW_VIDEO,
        codes[0],
        f"{what} content_type {content_type} is not RAW_VIDEO (3)",
    )
    _check(
        codec in (Codec.JPG, Codec.PNG, Codec.H264), codes[1], f"{what} codec {codec} is not JPG, PNG or H264"
    )
    _check(_known(Resolution, resolution), codes[2], f"{what} resolution {resolution} is not 1-4")
    _check(1 <= fps <= 30, codes[3], f"{what} fps {fps} is not 1-30")
    if fps > slow_fps and codec != Codec.H264:
        # Zoom silently falls back to JPG at the slow rate (§4.3; pain point 13).
        codec, fps = Codec.JPG, slow_fps
    data_opt: int | UnsetType = UNSET
    if not share:
        data_opt = given(p.data_opt, DataOption.VIDEO_SINGLE_ACTIVE_STREAM)
        _check(
            data_opt in (3, 4, 5),
            s.INVALID_MEDIA_VIDEO_DATA_OPT,
            f"video data_opt {data_opt} is not 3, 4 or 5",
        )
    return content_type, codec, resolution, fps, data_opt


def _video(p: VideoParams) -> VideoParams:
    content_type, codec, resolution, fps, data_opt = _visual(p, share=False)
    return VideoParams(
        content_type=content_type, codec=codec, resolution=resolution, data_opt=data_opt, fps=fps
    )


def _deskshare(p: VideoParams) -> DeskshareParams:
    content_type, codec, resolution, fps, _ = _visual(p, share=True)
    return DeskshareParams(content_type=content_type, codec=codec, resolution=resolution, fps=fps)


def _transcript(p: TranscriptParams) -> TranscriptParams:
    content_type = given(p.content_type, ContentType.TEXT)
    language = given(p.src_language, TranscriptLanguage.NONE)
    _check(
        content_type == ContentType.TEXT,
        StatusCode.INVALID_MEDIA_TRANSCRIPT_CONTENT_TYPE,
        f"transcript content_type {content_type} is not TEXT (5)",
    )
    _check(
        _known(TranscriptLanguage, language),
        StatusCode.INVALID_MEDIA_TRANSCRIPT_SOURCE_LANGUAGE,
        f"transcript src_language {language} is not -1-36",
    )
    enable_lid = True if isinstance(p.enable_lid, UnsetType) else p.enable_lid
    src: int | UnsetType = UNSET if language == TranscriptLanguage.NONE else language
    return TranscriptParams(content_type=ContentType.TEXT, src_language=src, enable_lid=enable_lid)


def _chat(p: ChatParams) -> ChatParams:
    content_type = given(p.content_type, ContentType.TEXT)
    _check(
        content_type == ContentType.TEXT,
        StatusCode.INVALID_MEDIA_CHAT_CONTENT_TYPE,
        f"chat content_type {content_type} is not TEXT (5)",
    )
    return ChatParams(content_type=ContentType.TEXT)


def negotiate(media_type: int, requested: MediaParams | UnsetType | None, scopes: MediaType) -> MediaParams:
    """The parameters a socket of ``media_type`` gets, given the app's ``scopes``."""
    if media_type == MediaType.ALL:
        kinds = [t for t in MediaType.singles() if t in scopes]
    else:
        try:
            kind = MediaType(media_type)
        except ValueError:
            raise Rejected(
                StatusCode.INVALID_MEDIA_TYPE, f"media_type {media_type} is not a media type"
            ) from None
        if kind not in MediaType.singles():
            raise Rejected(
                StatusCode.MEDIA_TYPE_INVALID_VALUE, f"media_type {media_type} is not one type or ALL (32)"
            )
        if kind not in scopes:
            raise Rejected(_NOT_SUPPORTED[kind], f"the app has no scope for {kind.key}")
        kinds = [kind]
    asked = requested if isinstance(requested, MediaParams) else MediaParams()
    out: dict[str, object] = {}
    for kind in kinds:
        if kind is MediaType.AUDIO:
            out["audio"] = _audio(asked.audio if isinstance(asked.audio, AudioParams) else AudioParams())
        elif kind is MediaType.VIDEO:
            out["video"] = _video(asked.video if isinstance(asked.video, VideoParams) else VideoParams())
        elif kind is MediaType.DESKSHARE:
            share = asked.deskshare if isinstance(asked.deskshare, VideoParams) else DeskshareParams()
            out["deskshare"] = _deskshare(share)
        elif kind is MediaType.TRANSCRIPT:
            t = asked.transcript if isinstance(asked.transcript, TranscriptParams) else TranscriptParams()
            out["transcript"] = _transcript(t)
        else:
            out["chat"] = _chat(asked.chat if isinstance(asked.chat, ChatParams) else ChatParams())
    return MediaParams(**out)  # type: ignore[arg-type]
