"""What the simulator shows on camera and on a shared screen (docs/protocol.md §4.12, §4.16).

Frames are real pictures in the negotiated codec (§4.3, §5.7): JPG frames are baseline JPEGs,
PNG frames are PNGs, H.264 frames are Annex-B access units (SPS, PPS and an IDR slice, so any
frame can be the first one a decoder sees). They are small test patterns (160 x 90, whatever
resolution was negotiated), a cycle of three camera pictures (colour bars, a moving square,
"V1" to "V3") and two shared-screen pictures (a slide, "S1", "S2"), encoded once and embedded
here: producing a frame costs no encoding, and its base64 is the constant itself
(:attr:`Picture.wire`), spliced into the JSON as it is.

Consecutive IDR pictures must have different ``idr_pic_id`` values (H.264 §7.4.3), so each
H.264 picture exists twice: variant ``v`` has ``idr_pic_id`` ``v``; a sender alternates them.

Who is shown: the active speaker (``data_opt`` 3, the most recent speaker who is still
present, else the first person present), the one subscribed user (``data_opt`` 4, §4.16), or
whoever shares (:class:`ScreenShare`). Everyone's camera is on.
"""

from __future__ import annotations

import base64
import bisect
from dataclasses import dataclass
from typing import ClassVar

import msgspec
from msgspec import UNSET, UnsetType

from connector.protocol import Codec, MediaType, Message, MessageType

from .speech import MeetingScript

__all__ = [
    "FrameContent",
    "FrameSet",
    "Picture",
    "ScreenShare",
    "ShareFrame",
    "SpeakerHistory",
    "VideoFrame",
    "default_share",
    "frame_message",
    "frame_set",
]

PICTURE_SIZE = (160, 90)
"""Width and height of every picture, in pixels."""


@dataclass(frozen=True, slots=True)
class Picture:
    """One encoded picture: its bytes, and the JSON string ``"<base64>"`` that carries them."""

    data: bytes
    wire: msgspec.Raw

    @classmethod
    def from_base64(cls, text: str) -> Picture:
        # msgspec writes bytes as standard, padded base64: the constant is already that form.
        return cls(base64.b64decode(text, validate=True), msgspec.Raw(b'"' + text.encode("ascii") + b'"'))


@dataclass(frozen=True)
class FrameSet:
    """The pictures of one media type in one codec: frame ``n`` shows ``pictures[n % len]``.

    Each entry holds the variants of one picture: for H.264 two, variant ``v`` with
    ``idr_pic_id`` ``v`` (see the module docstring); for JPG and PNG one, whatever ``variant``.
    """

    pictures: tuple[tuple[Picture, ...], ...]

    def picture(self, index: int, variant: int = 0) -> Picture:
        choices = self.pictures[index % len(self.pictures)]
        return choices[variant % len(choices)]

    @property
    def variants(self) -> int:
        return len(self.pictures[0])


@dataclass(frozen=True)
class ScreenShare:
    """``user_id`` shares their screen from ``start`` until ``end`` (seconds of script time).

    SHARING_START (event 5) is sent at ``start`` and SHARING_STOP (6) at ``end`` (§4.6);
    deskshare frames flow in between while the sharer is present.
    """

    user_id: int
    start: float
    end: float

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError("a screen share needs 0 <= start < end")


def default_share(script: MeetingScript) -> ScreenShare | None:
    """The meeting's screen share: whoever speaks first (else the first participant) shares from
    2 s (a tenth of a shorter meeting) until as long before its end."""
    if not script.participants:
        return None
    sharer = script.utterances[0].user_id if script.utterances else script.participants[0].user_id
    start = round(min(2.0, script.duration * 0.1), 3)
    return ScreenShare(user_id=sharer, start=start, end=round(script.duration - start, 3))


class SpeakerHistory:
    """Who spoke last at a moment of the script (the active speaker, §4.6 event 2)."""

    def __init__(self, script: MeetingScript) -> None:
        self._starts = tuple(u.start for u in script.utterances)
        self._speakers = tuple(u.user_id for u in script.utterances)

    def last_at(self, t: float) -> int | None:
        i = bisect.bisect_right(self._starts, t) - 1
        return self._speakers[i] if i >= 0 else None


# -- the wire form ------------------------------------------------------------------------------


class FrameContent(msgspec.Struct, frozen=True, kw_only=True):
    """``content`` of a video or share frame, field for field :class:`connector.protocol.MediaContent`
    (same order, same keys) with ``data`` already base64."""

    user_id: int | str
    user_name: str | UnsetType = UNSET
    data: msgspec.Raw
    length: int
    timestamp: int


class VideoFrame(Message, frozen=True, kw_only=True, tag=int(MessageType.MEDIA_DATA_VIDEO)):
    """MEDIA_DATA_VIDEO (15) as the simulator sends it: the bytes of a
    :class:`connector.protocol.MediaDataVideo`, without encoding the picture per frame."""

    MSG_TYPE: ClassVar[MessageType] = MessageType.MEDIA_DATA_VIDEO
    content: FrameContent


class ShareFrame(Message, frozen=True, kw_only=True, tag=int(MessageType.MEDIA_DATA_SHARE)):
    """MEDIA_DATA_SHARE (16), as :class:`VideoFrame` is to MEDIA_DATA_VIDEO."""

    MSG_TYPE: ClassVar[MessageType] = MessageType.MEDIA_DATA_SHARE
    content: FrameContent


def frame_message(
    media: MediaType, *, user_id: int, user_name: str | UnsetType, picture: Picture, timestamp: int
) -> VideoFrame | ShareFrame:
    """The frame of ``media`` (VIDEO or DESKSHARE) showing ``picture`` (§4.12)."""
    content = FrameContent(
        user_id=user_id,
        user_name=user_name,
        data=picture.wire,
        length=len(picture.data),
        timestamp=timestamp,
    )
    return ShareFrame(content=content) if media is MediaType.DESKSHARE else VideoFrame(content=content)


def frame_set(media: MediaType, codec: int) -> FrameSet:
    """The pictures a socket gets for ``media`` (VIDEO or DESKSHARE) in ``codec`` (JPG, PNG, H264)."""
    return _SETS[(media is MediaType.DESKSHARE, Codec(codec))]


def _set(*pictures: str | tuple[str, ...]) -> FrameSet:
    return FrameSet(
        tuple(tuple(Picture.from_base64(v) for v in (p if isinstance(p, tuple) else (p,))) for p in pictures)
    )


# -- the pictures (base64) ------------------------------------------------------------------------

_VIDEO_JPG = (
    (
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA0JCgsKCA0LCgsODg0PEyAVExISEyccHhcgLikxMC4pLSwzOko+MzZGNywtQFdB"
        "RkxOUlNSMj5aYVpQYEpRUk//2wBDAQ4ODhMREyYVFSZPNS01T09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09P"
        "T09PT09PT09PT09PT0//wAARCABaAKADASIAAhEBAxEB/8QAHAABAAMAAwEBAAAAAAAAAAAAAAMEBQIGCAEH/8QAOxAAAQID"
        "BAUICQMFAAAAAAAAAAECAwQRBRIhMwYTcXLhFjE0QYGjseIUFTJRYWNkZaIHF6QiQlNUYv/EABoBAAMBAQEBAAAAAAAAAAAA"
        "AAADBgUEBwL/xAAtEQABAgQEBAUFAQAAAAAAAAAAAQIDBAVxETE0sQYzodESITJSchMUFVHwIv/aAAwDAQACEQMRAD8A7OAA"
        "A+Py3bFKZcflu2KUzArHrbYbDyBDNdHd2eJMQzXR3dnicElqYfyTcXN6d9l2M8AHoBDkUxlptK5YmMtNpXJqqahbIOZkClO5"
        "ybpdKU7nJujaJq0spQcO61LKVwAWZflWNmuIySNmuIyPmue+67nQ3IGZFzn7ymmZkXOfvKbPD/MfYxK5y2XOIAKkmz9oABEH"
        "SfH5btilMuPy3bFKZgVj1tsNh5Ahmuju7PEmIZro7uzxOCS1MP5JuLm9O+y7GeAD0AhyKYy02lcsTGWm0rk1VNQtkHMyBSnc"
        "5N0ulKdzk3RtE1aWUoOHdallK4ALMvyrGzXEZJGzXEZHzXPfddzobkDMi5z95TTMyLnP3lNnh/mPsYlc5bLnEAFSTZ+0AAiD"
        "pPj8t2xSmXH5btilMwKx622Gw8gQzXR3dniTEM10d3Z4nBJamH8k3FzenfZdjPAB6AQ5FMZabSuWJjLTaVyaqmoWyDmZApTu"
        "cm6XSlO5ybo2iatLKUHDutSylcAFmX5VjZriMkjZriMj5rnvuu50NyBmRc5+8ppmZFzn7ymzw/zH2MSuctlziACpJs/aAdJ/"
        "cD7X/I8o/cD7X/I8pEHSd1flu2KUzqrtP6tVPVfOn+x5SHlx9t7/AMpkVKVixnNWGmOFhjHImZ3Ahmuju7PE6ry4+29/5TjF"
        "011kNWerqV69f5TklZCYZHY9zfJFRc0/dz4mP9wXtbmqLsbgOt8q/oe94DlX9D3vAsPrM/ZK/jZn29U7m/MZabSuYsTSi+2n"
        "oVMf8vAj5R/Sd5wMKfgvixvExMUGsp8wiebeqdzeKU7nJumdyj+k7zgQRrb1r0d6NSiU9vgNpcN0CYR8RMEwU16NCfLTSRIq"
        "YJgv95GgDL9b/I/PgPW/yPz4FL95B925X/fy/u6L2LUbNcRlR9o33q7VUr/1wPnp/wAr8uBNx4bnxXOTJVUclRlsPV0XsXDM"
        "i5z95Sf0/wCV+XAqviXnudSlVqadHiNl3uWKuGKf2Rl1WZhR2NSGuOCn0HG98Be+Bv8A5KW93RexieBxxPQ554PQ5LDweeD0"
        "OeeAAAAAAAAAAAAAAAAAAAbOiEjLWlpNKSc7D1sCJfvMvK2tGOVMUx50QxjZ0QnpazdJpScnYmqgQ79591XUqxyJgmPOqABt"
        "WfYdmxuV2slr3q7Wei/1uTV01lOvH2U568xNoTodDtCCy0rUZBjyMaG5IcNIj2vR6PpVaUwwd19aEzY8KyZbSOYtB2qhW4yI"
        "+z3UV2vaqPVFwrdzGe1Tn+Cj9MrKnoM861IkCknGlnshxL7cXX24UrX+1erqADoALtqWVPWPMtl7RgamK5iPRt9rqtqqVwVf"
        "cpSAAAAAAAAAAAAAAAAAAAAAAAAAAAAJo83NTMOFCmJmNFhwUuwmverkYmGCIvMmCc3uJ5e17UlYLYMtaU5BhNrdZDjua1Ma"
        "4IilIABNNTc1OxEizkzGmIiJdR0V6vVE91V6sVIQAA//2Q=="
    ),
    (
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA0JCgsKCA0LCgsODg0PEyAVExISEyccHhcgLikxMC4pLSwzOko+MzZGNywtQFdB"
        "RkxOUlNSMj5aYVpQYEpRUk//2wBDAQ4ODhMREyYVFSZPNS01T09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09P"
        "T09PT09PT09PT09PT0//wAARCABaAKADASIAAhEBAxEB/8QAHAABAAMAAwEBAAAAAAAAAAAAAAMEBQECBgcI/8QAOhAAAQID"
        "AwYLCAIDAAAAAAAAAAECAwQRBRIzBhMhcXLhFBUWMTI0QYGjseIXIlFhY2RlogekU1Ri/8QAGgEAAwEBAQEAAAAAAAAAAAAA"
        "AAMGBQQHAv/EAC0RAAECBAQEBQUBAAAAAAAAAAABAgMEBXERMTSxBjOh0RIhMlJyExQVUfAi/9oADAMBAAIRAxEAPwD04AAD"
        "h+G7UpTLj8N2pSmYFY9bbDYeQIZrq7u7zJiGa6u7u8zgktTD+Sbi5vTvsuxngA9AIcimMNNZXLExhprK5NVTULZBzMgUp3GT"
        "ZLpSncZNkbRNWllKDh3WpZSuACzL8qxsVxGSRsVxGR81z33Xc6G5AzIuM/aU0zMi4z9pTZ4f5j7GJXOWy51ABUk2faAARB0n"
        "D8N2pSmXH4btSlMwKx622Gw8gQzXV3d3mTEM11d3d5nBJamH8k3FzenfZdjPAB6AQ5FMYaayuWJjDTWVyaqmoWyDmZApTuMm"
        "yXSlO4ybI2iatLKUHDutSylcAFmX5VjYriMkjYriMj5rnvuu50NyBmRcZ+0ppmZFxn7Smzw/zH2MSuctlzqACpJs+0AAiDpO"
        "H4btSlMuPw3alKZgVj1tsNh5Ahmuru7vMmIZrq7u7zOCS1MP5JuLm9O+y7GeAD0AhyKYw01lcsTGGmsrk1VNQtkHMyBSncZN"
        "kulKdxk2RtE1aWUoOHdallK4ALMvyrGxXEZJGxXEZHzXPfddzobkDMi4z9pTTMyLjP2lNnh/mPsYlc5bLnUAFSTZ9oB4n2gf"
        "i/7HpHtA/F/2PSRB0ntX4btSlM8q7L+rVTivnT/Y9JDy4/G+P6TIqUrFjOasNMcLDGORMz2BDNdXd3eZ5Xlx+N8f0nWLlrnI"
        "as4upXtz/pOSVkJhkdj3N8kVFzT93PiY/wBwXtbmqLsbgPN8q/sfF3DlX9j4u4sPrM/ZK/jZn29U7m/MYaayuYsTKi+2nAqa"
        "f8u4j5R/aeJuMKfgvixvExMUGsp8wiebeqdzeKU7jJsmdyj+08TcQRrbzr0dwalEp09w2lw3QJhHxEwTBTXo0J8tNJEipgmC"
        "/wB5GgDL43+h++4cb/Q/fcUv3kH3blf9/L+7ovYtRsVxGVH2jfers1Sv/W444f8AS/bcTceG58VzkyVVHJUZbD1dF7FwzIuM"
        "/aUn4f8AS/bcVXxLz3OpSq1NOjxGy73LFXDFP7Iy6rMwo7GpDXHBTkHW98he+Rv/AJKW93RexieBx1ABLDwAAAAAAP0OAAA/"
        "PAAAAAAAAAABs5ISMtaWU0pJzsPOwIl+8y8ra0Y5U0pp50QxjZyQnpazcppScnYmagQ79591XUqxyJoTTzqgAbVn2HZsbldn"
        "Ja9xdnOC++5M3TOU7dPRTnrzFKyJ3JCDZkGHa1lTkecS9nIkNyo1feWlPfTsp2Gy2PCsmWyjmLQdmoVuMiPs91Fdn2qj1RdF"
        "buIzpU5/kpp5PxrYgfx/Zr7ClYMzMrEejmRVoiMvvqvSTTWnb2gB5PL2ypGx7bgy9nQMzCdLNerb7nVdecldKr8EPMnoMs41"
        "sR7WhPt2Vgy0ykBEayEtUVl51F6S6a17ew8+AAAAAAAAAAAAAAAAAAAAAAAAAAAATR5uamYcKFMTMaLDgpdhNe9XIxNGhEXm"
        "TQnN8CeXte1JWC2DLWlOQYTa3WQ47mtTTXQiKUgAE01NzU7ESLOTMaYiIl1HRXq9UT4VXs0qQgAB/9k="
    ),
    (
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA0JCgsKCA0LCgsODg0PEyAVExISEyccHhcgLikxMC4pLSwzOko+MzZGNywtQFdB"
        "RkxOUlNSMj5aYVpQYEpRUk//2wBDAQ4ODhMREyYVFSZPNS01T09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09P"
        "T09PT09PT09PT09PT0//wAARCABaAKADASIAAhEBAxEB/8QAHAABAAMAAwEBAAAAAAAAAAAAAAMEBQIGCAEH/8QAPRAAAQID"
        "AwYLBwIHAAAAAAAAAAECAwQzBRESBhMhcXLhFBUWIjE0QYGjseIyUWFjZGWiF6QHNlNUYnSy/8QAGgEAAwEBAQEAAAAAAAAA"
        "AAAAAAMGBQQHAv/EAC0RAAECBAQEBQUBAAAAAAAAAAABAgMEBXERMTSxBjOh0RIhMlJyExQVUfAi/9oADAMBAAIRAxEAPwDs"
        "4AAD4+m7UpTLj6btSlMwKx622Gw8gQzXV3d3mTEM11d3d5nBJamH8k3FzenfZdjPAB6AQ5FMU01lcsTFNNZXJqqahbIOZkCl"
        "O1k2S6Up2smyNomrSylBw7rUspXABZl+VY1VxGSRqriMj5rnvuu50NyBmRaz9pTTMyLWftKbPD/MfYxK5y2XOIAKkmz9oABE"
        "HSfH03alKZcfTdqUpmBWPW2w2HkCGa6u7u8yYhmuru7vM4JLUw/km4ub077LsZ4APQCHIpimmsrliYpprK5NVTULZBzMgUp2"
        "smyXSlO1k2RtE1aWUoOHdallK4ALMvyrGquIySNVcRkfNc9913OhuQMyLWftKaZmRaz9pTZ4f5j7GJXOWy5xABUk2ftAAIg6"
        "T4+m7UpTLj6btSlMwKx622Gw8gQzXV3d3mTEM11d3d5nBJamH8k3FzenfZdjPAB6AQ5FMU01lcsTFNNZXJqqahbIOZkClO1k"
        "2S6Up2smyNomrSylBw7rUspXABZl+VY1VxGSRqriMj5rnvuu50NyBmRaz9pTTMyLWftKbPD/ADH2MSuctlziACpJs/aAdJ/U"
        "D7X+49I/UD7X+49JEHSd1fTdqUpnVXZf3tVOK+lP7j0kPLj7b4/pMipSsWM5qw0xwsMY5EzO4EM11d3d5nVeXH23x/ScYuWu"
        "chqzi66/tz/pOSVkJhkdj3N8kVFzT93PiY/3Be1uaouxuA63yr+h8XcOVf0Pi7iw+sz9kr+Nmfb1Tub8xTTWVzFiZUY23cCu"
        "0/1dxHyj+k8TcYU/BfFjeJiYoNZT5hE829U7m8Up2smyZ3KP6TxNxBGtvOvR3Brrku9vcNpcN0CYR8RMEwU16NCfLTSRIqYJ"
        "gv8AeRoAy+N/kfnuHG/yPz3FL95B925X/fy/u6L2LUaq4jKj7RxvV2auv/y3Hzh/yvy3E3HhufFc5MlVRyVGWw9XRexcMyLW"
        "ftKT8P8AlfluKr4mJ7nXXXreadHiNl3uWKuGKf2Rl1WZhR2NSGuOCn0HHF8Bi+Bv/kpb3dF7GJ4HHEAEsPAAAAAAAAAAAAAA"
        "ehzzwehwAHng9DnngABs5ISMtaWU0pJzsPOwImPEzErb7mOVNKaelEMY2ckJ6Ws3KaUnJ2JmoEPHifhV117HImhNPSqABtWf"
        "YdmxuV2clsXF2c4Lz3Jm7s5d26fZTpv6ClZE7khBsyDDtaypyPOJizkSG5UavOW67np2XdhstjwrJlso5i0HZqFbjIj7Pdcr"
        "s+1UeqLovw1Ge1d0/BRkxO5Xwcn5aHZNlSceTTHm4kRyI5eet9/PTtv7AAxsvbKkbHtuDL2dAzMJ0s16txude7E5L9Kr7kOs"
        "nc/4pfzJL/6bf+3nTAAAAAAAAAAAAAAAAAAAAAAAAAAAACaPNzUzDhQpiZjRYcFMMJr3q5GJo0Ii9CaE6PcTy9r2pKwWwZa0"
        "pyDCbfhZDjua1NN+hEUpAAJpqbmp2IkWcmY0xERMKOivV6onuvXs0qQgAB//2Q=="
    ),
)

_VIDEO_PNG = (
    (
        "iVBORw0KGgoAAAANSUhEUgAAAKAAAABaCAIAAACwpMoFAAAA9klEQVR42u3aQQqEIBiAUYsO4CW8R0f3Hl6mXRupDCrE3ls2"
        "EYMfv0gzU845PGB94hFdfJO8DrUgc2BoAguMwAiMwAiMwAgsMAIjMAIjMAIjsMAIjMAIjMAIjMAILDACIzACIzACI7DACIzA"
        "CIzACIzAAiMwAiMwAiMwAiOwwAiMwAiMwAiMwAIjMAIjMAIjMNemGKNVMMEIjMB8bzn6oJRy60EpJatpgulmgnnbvkfum199"
        "5eRmE4zAtmg62cZNMALboulNfcA2wQgsMAIjME7RTsih7RV0faXxpbQJ/usE+313DP5055CFwAiMwAiMwAgsMMPYAG8uIt6T"
        "kegtAAAAAElFTkSuQmCC"
    ),
    (
        "iVBORw0KGgoAAAANSUhEUgAAAKAAAABaCAIAAACwpMoFAAAA+0lEQVR42u3azQmEMBCAURULSBPpw9LTR5rx5kXwj6hDeO+4"
        "LCJ+zBDcHUspQwNLi0uEuJOydPVApoGuCSwwAiMwAiMwAiOwwAiMwAiMwAiMwAIjMAIjMAIjMAIjsMAIjMAIjMAIjMACIzAC"
        "IzACIzACC4zACIzACIzACIzAAiMwAiMwAiMwAguMwAiMwAiMwJwbU0qegglGYATme3O0G6q13vp+zllFE2yC+W9XbUvo4JPH"
        "q8sEW9FY0bxkv4fvHkJNsBWNFU2QtwIm2IrGiibCcdoEI7AVzQdbd/8K+spx2rtoQk6w33fb8qc7hywERmAERmAERmCB6cYK"
        "XGogvjn6FVYAAAAASUVORK5CYII="
    ),
    (
        "iVBORw0KGgoAAAANSUhEUgAAAKAAAABaCAIAAACwpMoFAAAA9ElEQVR42u3a0QmDMBRAUSMOkCWyh6Nnjyzjhz+CoESjSDzn"
        "sxQpubxHWhpyzkMDc4tHfOKT5LmrAxkHuiawwAiMwAiMwAiMwAIjMAIjMAIjMAILjMAIjMAIjMAIjMACIzACIzACIzACC4zA"
        "CIzACIzACCwwAiMwAiMwAiMwAguMwAiMwAiMwAgsMAIjMAIjMAJzLsQYnYIJRmAE5n2TI1iVUqren1IywZhgO2OzDA5eubxC"
        "TLBLFlY0D9nv4drLoAm2orGi+ci3cxNsRWNF4xaNFY0V/ZP1u/8J2i0aE3z7OtMHf7pzyUJgBEZgBEZgBBaYbizS5yLg3xWi"
        "0wAAAABJRU5ErkJggg=="
    ),
)

_VIDEO_H264 = (
    (
        (
            "AAAAAWdCwAvcKN+SEAAAAwAQAAADA8DxQrgAAAABaM4ERMgAAAABZYiEBXOcmKAAJ1Hw//grBZHacQAAQCAAFiCKB5iuYeYr"
            "m9///4LFB7+IACJEAJ8DgiE3IcEQm5A4TjXIcJxrgiNLdH/D/+GhkKNPfEAAMAAFiIoOIChg4gKF7///wWGHafEAANgaIAAI"
            "AYBsHEA4QcQDhBwQWEHBBYHj1Hd4f/4Kxhf4gEAAQBY0DA5CNcw5CNczwzw///gsIFGl8QAAQAwDRAADwD4HTO5DpncgyVyU"
            "lcPDIpj4+ofp6YLHTBbTBU2mRUwX0wVOmjLpgtrp6enp6enp6en//j8EHFAAEpHw/4YBBUDI9BiVzIvg8PAZnp//AMAYKhQH"
            "AYQo4gBMgDbNmte0wIyt54Wli/QmF8CQWH+IYAwVHCtoQATLBa0ocCZxACZEAJn/4BgDBUYJ1BCyWKLAsxG2IBMgiBhVYWh9"
            "MtxkxngSCh/wDAGCoQAcQAnWBCK3nj14kAmRIBM//AMAYKoQObhEhrirAT7CmvYkAmQ0pQWi6Zf+tv+H/h+KAAIBH/D/8hkH"
            "4ylIL0tLS/8P4oKAmgCBMTBjTTq1f4AskNg5hqG5zXGxYQuCYSCF+vrP8GYqZg0Nq9/+AGtbQNTdeABmVFzxkM/3/2/jexMQ"
            "HA+2HBqvSBKfr3jxGUCJjdIbkrUKlJtKnof8foED4ZipmDT6vf8A/+RoGVddddd+g5h/8JAyAbvp7xYRf+AGHBhvvVxgfv//"
            "+HjgMriOZGyf4MPA"
        ),
        (
            "AAAAAWdCwAvcKN+SEAAAAwAQAAADA8DxQrgAAAABaM4ERMgAAAABZYiCA/OcmKAAI4UZBGXiAEWaaGaHwxDIapn1r9aiAtEC"
            "+BxEe5DiI9yB4yXIeMlw8Kuj/n8qfDQQvd+IAASACxpg6Chg6Che8LyAPZGmetfrWIAAVBIgABsDYOgcIOgcIOIBwg4gHARH"
            "i/eH/+CsQX+IEAA8aGByIlzDkRLm9/9vpbBYKd8QAAuDRAACgLg1dyVXchTckm4IgpjgAHI4ABiouKYLjc9Q6H9N0wW09PT0"
            "9PT109PT09PT09PT1BkA4ABAKQTLC7B5/oV3NL8cAmemF3Al9xvrX64HAYQo4gBMgDbNmWvaYEZW88LRQ6Za36EwvgSC2p9h"
            "+wVGCtoQBIsGXoWLxAJkQCZ+gN9MGCqE6ghZLFFgWYjbEAmQLDCNmuH/AMAYKjgGRACdYIVNrha8SBMiQCZ+cuAJ2Cy/CByU"
            "IkNcVYJkKabEgEyMohka1UDgACASAJ48P/omH/+g8DV+1tbW1/4fxQUBdATSMxVq9fAhmRobnThjjBuzTWuwEnzRS9wX+AQP"
            "D7S8ARbY2HTffrNtonHDlGNoXeXvVWaY3U2VaprXb//6BA+BJ2PNL3kgzFAAEzG+uuuuu/8wD/wkCgBu6/2InUChwYb71cYu"
            "+/n//4eQKcrmFGBx/f+A"
        ),
    ),
    (
        (
            "AAAAAWdCwAvcKN+SEAAAAwAQAAADA8DxQrgAAAABaM4ERMgAAAABZYiECs5yYoAAhxRkFpeIARZpoZofGcRUS8GzuSs7kGKu"
            "Sirh4JxQABABj44/T7U+CsLXxACBY3EhhiQw+Mig0pggAiRAAEbEgwiQYQdDhB0OB4bFDHY+MigwAKYIQABALjmB5CuYeQrn"
            "4yFi8QABEiABPj9yvuRi5UXDwWisf6hGmCxsMMSNJn61+tV/mqYJaenp6enp66enp6enp6enp6gyAcCUhZYXIX9NDFF+LeDi"
            "S3FFglWmm4cUpD/gGAIFVMv9bf/wDAGCqAcQSWIaCrxRYosW6YbzCdWKsHVTFFgWZGxkNAcmRy2YimgHtOWMhAusI7PleJCZ"
            "EhMimYaahMWFRvbCps4pZ3il3PW36gzFAAEBW1tbUUAATfKUUAAQALWl/tD+qCgMIbPWqeHT2XEeLUomIW4GsuYu1dH7dIhL"
            "Q8pbWDBSArF7V14B9/6CZDRtXrrGZ7xqCyuu+uuu/UtR/+EgVCVq6m7+CY9jgP///h6Ef7G/8A=="
        ),
        (
            "AAAAAWdCwAvcKN+SEAAAAwAQAAADA8DxQrgAAAABaM4ERMgAAAABZYiCArOcmKAAIcUZBaXiAEWaaGaHxnEVEvBs7krO5Bir"
            "koq4eCcUAAQAY+OP0+1PgrC18QAgWNxIYYkMPjIoNKYIAIkQABGxIMIkGEHQ4QdDgeGxQx2P9vh/grCF8SAAIAMfBkrmUlc/"
            "FwkXiAAIkQAJ8fuV9yMXKi4eDMVtUbTBY23pgtp6enmYU+p6YVrp6enp6enp6enqDIBwJSFlhchf00MUX4t4OJLcUWCVaabh"
            "xSgtQ6Ms5/1ti5HPAOJMJKCrxRYq/tTjbsFUXMJ1YqxOmKsCzI2FoIo7dNP4poB7TljIQLrDSlK8ULEhMimgQ/oCGLCo3thI"
            "kfcSEyPXzIZKsqC4UAAQFbW1pRQABNypRQABAKtbX/h/RBQFUBS2VV+EePXzEeCUnZiK32EKcpN8EPtrsjfx4ygybhsnIUEk"
            "ArKW8wXaVYfWP0E0ELWo5hL5YP2+t1BnXXfXXXfHwXIMsI1Luf8JvxiUv////8POH6tv/A=="
        ),
    ),
    (
        (
            "AAAAAWdCwAvcKN+SEAAAAwAQAAADA8DxQrgAAAABaM4ERMgAAAABZYiEDM5yYoAAiZRkFJeIARZpoZofDELhqmfWv1qIC0Qn"
            "gdEW5Doi3IHmK5DzFcPHrRwGMhgKNBAIPG4kwxJh/+f2pgsHXxAE0QAE2JGESMIkGESDARBOKxzH+n2p+Csc/EIAAgFxzA8h"
            "XMPIVz/+X0tgsTviAAFwaIAAUD4NXclV3IU3JJuCI0VjmPqCGKYLm+odD+m6YLaYMCrimxD/b3vdMF9MFTpkdMF9dPT08Uw9"
            "r73p6Yfp6enqDIBwAisbLC5i/U0Kii/FuOtQOMTiiwSrTTcJufBaKHQZanX+tsWyF4BxBJZaCrxRYov7T427BUwnoJ1YqwMZ"
            "exRYGsSIWjmJc662/inAe05YyEC6wjs+V4kJkSEyKcBD734EMsKje2CZK02JCZLQUteNP1BiKAAStbW1taQNQcAA2A3jw//J"
            "D//FBRQ2etU8dzpxjySC0zmeSEKcUm4Lgh/d2Rv4gPEcViFrVk5BCzKrgMfbugPAP/6DzASPLj3/UF9dddd9ra6ln/+EgZz9"
            "Nzd/IS5f/+HmEftT+A=="
        ),
        (
            "AAAAAWdCwAvcKN+SEAAAAwAQAAADA8DxQrgAAAABaM4ERMgAAAABZYiCAzOcmKAAImUZBSXiAEWaaGaHwxC4apn1r9aiAtEJ"
            "4HRFuQ6ItyB5iuQ8xXDx60cBjIYCjQQCDxuJMMSYf/n9qYLB18QBNEABNiRhEjCJBhEgwEQTiscx/p9qfgrHPxCAAIBccwPI"
            "VzDyFc//l9LYLE74gABcGiAAFA+DV3JVdyFNySbgiNFY5j6ghimC5vqHQ/pumC2mDAq4psQ/2973TBfTBU6ZHTBfXT09PFMP"
            "a+96emH6enp6gyAcAIrGywuYv1NCoovxbjrUDjE4osEq003CbnwWih0GWp1/rbFsheAcQSWWgq8UWKL+0+NuwVMJ6CdWKsDG"
            "XsUWBrEiFo5iXOutv4pwHtOWMhAusI7PleJCZEhMinAQ+9+BDLCo3tgmStNiQmS0FLXjT9QYigAErW1tbWkDUHAANgN48P/y"
            "Q//xQUUNnrVPHc6cY8kgtM5nkhCnFJuC4If3dkb+IDxHFYha1ZOQQsyq4DH27oDwD/+g8wEjy49/1BfXXXXfa2upZ//hIGc/"
            "Tc3fyEuX//h5hH7U/g=="
        ),
    ),
)

_SHARE_JPG = (
    (
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA0JCgsKCA0LCgsODg0PEyAVExISEyccHhcgLikxMC4pLSwzOko+MzZGNywtQFdB"
        "RkxOUlNSMj5aYVpQYEpRUk//2wBDAQ4ODhMREyYVFSZPNS01T09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09P"
        "T09PT09PT09PT09PT0//wAARCABaAKADASIAAhEBAxEB/8QAGQABAQEBAQEAAAAAAAAAAAAAAAUGBAMH/8QANhAAAAMFBAYJ"
        "BQEBAQAAAAAAAAECAwQFERYSE1SjFBVl0dLiBiEmMUFRU5KTIiQyQmFxYoH/xAAZAQEAAwEBAAAAAAAAAAAAAAAAAQIEAwX/"
        "xAAeEQEAAgMBAQADAAAAAAAAAAAAAVECERITIQMxof/aAAwDAQACEQMRAD8AywAA9VjAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AfU6RgOAzl8QUjAcBnL4hbEmOxrU9x9vfX1r97MpS/h+Y8z0ztq5inlSMBwGcviCkYDgM5fEJ1abOzuUK02dncoemdnMUo0j"
        "AcBnL4gpGA4DOXxCdWmzs7lCtNnZ3KHpnZzFKNIwHAZy+IKRgOAzl8QnVps7O5QrTZ2dyh6Z2cxSjSMBwGcviCkYDgM5fEJ1"
        "abOzuUK02dncoemdnMUo0jAcBnL4gpGA4DOXxCdWmzs7lCtNnZ3KHpnZzFKNIwHAZy+IKRgOAzl8Q43TpdpL4wd9As3rRKLV"
        "9OUzlP8AEacPTOzmKRKRgOAzl8QUjAcBnL4hbAPTOzmKRKRgOAzl8QUjAcBnL4hbAPTOzmKRKRgOAzl8QUjAcBnL4hbAPTOz"
        "mKByP8Nc4jd6YxvLudn6jKU5T7j/AIQ6xnulmsftNXaV+9u4tf8AMpy/9FFnXTUHweaveFNQfB5q94yXaLauYHaLauYA1tNQ"
        "fB5q94U1B8Hmr3jJdotq5gdotq5gDW01B8Hmr3hTUHweaveMl2i2rmB2i2rmANbTUHweaveFNQfB5q94yXaLauYHaLauYA1t"
        "NQfB5q94U1B8Hmr3iHANda5YaZp9x9Vq9t2fxOU59XfIbIBMY9H4UxbIasnWytmolJO8UcjLrLxFMAAAAAAAAAAAAByP8Sc4"
        "dd6Y2u7ydn6TOcpT7i/pDrEmOwXXFx9xc3Nr9LU5y/peQBUsHxmUvcFSwfGZS9wk0XtHJ5govaOTzAK1SwfGZS9wVLB8ZlL3"
        "CTRe0cnmCi9o5PMArVLB8ZlL3BUsHxmUvcJNF7RyeYKL2jk8wC85Rdwf2xsnRveLJNoysKLq7vEv6O4Q4J0e1S+LeNKvbTM0"
        "Wbuz4kc+8/IXAAAAAAAAAAcMZiGqoU2frq9urP0WrM5qIu+R+YmI3OoJ+O4BmXHpNEHtu7pp96QxbKSV9NRpJJmX1fhKUjmO"
        "yP8ASF3gzEjSTJ4b3hJUwJsSVJIyM5mUjPy8PEW88t6V6jW1oAAUWBD6SRh5hOjaMhkq9tWrwjPul3SMvMXB4t3V2ebOku7J"
        "rZ/G8QSpf5MBjqwiPouvtVxBWER9F19quIazVcOwDr8Kdwarh2AdfhTuAZOsIj6Lr7VcQVhEfRdfariGs1XDsA6/CncGq4dg"
        "HX4U7gGTrCI+i6+1XEFYRH0XX2q4hrNVw7AOvwp3BquHYB1+FO4Bk6wiPouvtVxBWER9F19quIazVcOwDr8Kdwarh2AdfhTu"
        "AZOsIj6Lr7VcQt9G4w8xbSdJQyTdWbN2Rl3z75mfkKOq4dgHX4U7h6sHV2drWjO7Jla/K7QSZ/7IB7AAAAndIHBrE4K8OTBS"
        "EtGlmRrMyLqUR+BH5CiOWJuDKJuDVybqWlm0lM0GRH1GR+JH5CcZ1MSif0yRNOkMEf4Q4vb+xW7tmqGSUM0EckEaSMjM0kfc"
        "Y9On0OdGbmmIIZSemrdKFtLR9ZWD8Jy/Uh3uvQuGOr2xeWbd7NbFoloklLTIzI59f0j1ifRKHxN/avrds9JaNJTJCkkXURF4"
        "pPyGiPyYxlE7/jnzOtL4Dgg0Jd4M6LdnVbVaFNDaGbQyM5mRF4EXkO8Z51v46wAACAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB"
        "/9k="
    ),
    (
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA0JCgsKCA0LCgsODg0PEyAVExISEyccHhcgLikxMC4pLSwzOko+MzZGNywtQFdB"
        "RkxOUlNSMj5aYVpQYEpRUk//2wBDAQ4ODhMREyYVFSZPNS01T09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09P"
        "T09PT09PT09PT09PT0//wAARCABaAKADASIAAhEBAxEB/8QAGwABAQEBAQEBAQAAAAAAAAAAAAUGBAMBAgf/xAA2EAAAAwYC"
        "BggGAwEAAAAAAAAAAQIDBAURFqMTVBIVZdHS4gYUMUFRU5KTISIkJkJhMnGBYv/EABkBAQADAQEAAAAAAAAAAAAAAAABAgME"
        "Bf/EAB0RAQACAwEBAQEAAAAAAAAAAAABUQIREhMhMeH/2gAMAwEAAhEDEQA/AMsAAPVcYAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAD+p0jAcheXxBSMByF5fELYkx2NanwPp8bG0vz0ZSl+j8R5npnbq5inlSMByF5fEFIwHIXl8QnVps69yhWmzr3KHpnZzFKN"
        "IwHIXl8QUjAcheXxCdWmzr3KFabOvcoemdnMUo0jAcheXxBSMByF5fEJ1abOvcoVps69yh6Z2cxSjSMByF5fEFIwHIXl8QnV"
        "ps69yhWmzr3KHpnZzFKNIwHIXl8QUjAcheXxCdWmzr3KK0CjWuMf6fBwdH89Kc5/ovAPTOzmKeVIwHIXl8QUjAcheXxC2Aem"
        "dnMUiUjAcheXxBSMByF5fELYB6Z2cxSJSMByF5fEFIwHIXl8QtgHpnZzFIlIwHIXl8QUjAcheXxC2AemdnMUDkf4a5xHD64x"
        "xMOej8xlKcp9h/oh1jPdLNY/Sau61+engaX/ADKcv9FFnXTUHyd1e8Kag+Tur3jJfcW1bgfcW1bgDW01B8ndXvCmoPk7q94y"
        "X3FtW4H3FtW4A1tNQfJ3V7wpqD5O6veMl9xbVuB9xbVuANbTUHyd1e8Kag+Tur3jJfcW1bg1XRfrurWmsOsYuMcsfS0pSLx7"
        "u0B+6ag+Tur3jrcIa5w7E6mxw8SWl8xnOU5dp/sx1gAAAAAAAAAAAAAAA5H+JOcOw+uNsPEno/KZzlKfYX7IdYkx2C64wPqM"
        "HB0vw0pzl+y8ACpYPnLS9wVLB85aXuEmi9o2eYKL2jZ5gFapYPnLS9wVLB85aXuEmi9o2eYKL2jZ5gFapYPnLS9wVLB85aXu"
        "Emi9o2eYKL2jZ5gFapYPnLS9wVLB85aXuEmi9o2eYKL2jZ5gFapYPnLS9wVLB85aXuEmi9o2eYKL2jZ5gGmdXli+O6Xh2Xps"
        "lz0VSMpyOXf/AEPYckKctXQ5k6YmJhz+bRlOZmfZ/o6wAAHDGYhqqFNn7CxcLR+TS0ZzURdsj8RMRudQT8dwDMuPSaIPbd3T"
        "T70hi2UksaajSSTMvm/hKUjmPeJx6IOT+1d2EBenpmiUmyNKSpkR9yT8ZdvcLeeW9K9R+r4CV0ejGu3Bb11fA0Gps9HT0pyI"
        "jnOReIqisxMTqUxO/oIfSSMPMJ6t1ZDJWLpaWIRn2S7JGXiLg8W7q7POj1l3ZNdH+OIglS/qYhLHVhEfJdfSriCsIj5Lr6Vc"
        "Q1mq4dkHX2U7g1XDsg6+yncAydYRHyXX0q4grCI+S6+lXENZquHZB19lO4NVw7IOvsp3AMnWER8l19KuIKwiPkuvpVxDWarh"
        "2QdfZTuDVcOyDr7KdwDJ1hEfJdfSriCsIj5Lr6VcQ1mq4dkHX2U7g1XDsg6+yncA9HFsp4cHdusiJTVklZkXZMyIx7j4hCUI"
        "ShCSSlJSJJFIiLwH0AAAABO6QODWJwV4cmCkJaNNGRrMyL4KI+4j8BRHLE3BlE3Bq5N1LSzaSmaDIj+BkfeR+AnGdTEon8ZI"
        "mnSGCP8ACHF7f2K3ds1QyShmgjkgjSRkZmkj7DHS+vkeeulT5DYW/MmKGLNLQiaITIi0Uz+OiZ9qh1OvQuGOr2xeWbd7NbFo"
        "loklLTIzI5/H5R6xPolD4m/tX1u2ektGkpkhSSL4ERd6T8Bv3hv+M+ctPXotCXiDQ1o7PS2S1qbG0I2ZmZSMkl3kXgLQ4INC"
        "XeDOi3Z1W1WhTQ2hm0MjOZkRdxF4DvGOc7ymWkRqAAAVSAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA//9k="
    ),
)

_SHARE_PNG = (
    (
        "iVBORw0KGgoAAAANSUhEUgAAAKAAAABaCAIAAACwpMoFAAABJ0lEQVR42u3bsc2CQBiAYTEM4giO4AgOYkHhAA5gQeEgjOIg"
        "FoxARyAKOTV6x/E81Z9IxZvvy+U/LXaHy4Z8bb0CgREYgREYgREYgQVGYARGYARGYAQWGIFZnqJtH96CCUZgBEZgBEZgBBYY"
        "gUlfGfJQVZ29qaG6vppgBEZgBEbgFXMfbIIRGIERGIERmBGXDUu6OTDBCCwwAiMwaXDZYIIRGIERGIERmJHcLhvyvjkwwQgs"
        "MAIjMGlw2RDN/nib+ujenKYefv7IBFvR5Kv0CqKb2boza9wEI7AVTZTjdL+0+z8+3tV+2fBCTjcWVrQVzb8Oz9+fmU2wUzRW"
        "ND86PIc88+4/pYMC+x6MFU2iXBeaYARGYARGYARGYIERGIERGIERGIFXqwOxojRxJerlKwAAAABJRU5ErkJggg=="
    ),
    (
        "iVBORw0KGgoAAAANSUhEUgAAAKAAAABaCAIAAACwpMoFAAABI0lEQVR42u3bvw2CQBTAYTEM4giO4AgOYkHhAA5gQeEgjuIg"
        "FoxgTQzkovw53n1fixW/vJeLF6rD6bYjrr1XIDACIzACIzACI7DACIzACIzACIzAAiMw21N13dtbMMEIjMAIjMAIjMACIzD5"
        "q1N+1DTXol5K295NMAIjMAIjMMPcB5tgBEZgBEZgBKYn/mVDpJsDE4zAAiMwApMHlw0mGIERGIERGIHp8WVDku3eWJhgKxqB"
        "ERiBmYHLhtUcz4+hR6/nJf03JtiKJq7aK1jdyLL9fjSytE2wFY0VzQLH6ZRT9JSBg102FPWtgxVtRbPU4fn/vzVMsFM0VjQz"
        "HZ5/O2lPELjwT2ytaPLlutAEIzACIzACIzACC4zACIzACIzACFysD4UtNUlfKAIsAAAAAElFTkSuQmCC"
    ),
)

_SHARE_H264 = (
    (
        (
            "AAAAAWdCwAvcKN+SEAAAAwAQAAADA8DxQrgAAAABaM4ERMgAAAABZYiEBXOcRigACgrHAAEa6OAAIc999999999/H//gwBkB"
            "yAYZl/igAH4kABoaAFBTLJMvz6fe0x9k1tbW1x//6BAuA6IrJjW1tf4/8YUUHgyPAeQgWWg6Q1lj5SVXdra4/+A+CDAGUpbD"
            "N2oxnaddr4//h5wE3TjVPfNBPIh9IXS//8IQRgy8DoEOyq933+KfCHsLHXADKraRvV5f2nh8B6QKWBLK2h///8FwLuBwQQ9B"
            "XgR7891//HTDpsACmfeiHSr/mT0NB2MR2yT7QFXciXCBxdyy1faZOmDX/h8OFAYQHIyFltwHEZSy3fvvvx8P/kTBj/Cfy4cB"
            "R4AB6anTdmhLMbkYoMJXa//injz2jzaaHGIQHfcPHRS9sL13c6HS2uvB7svfIyOtUU02lT36/wAhtlkt3fGUWkwn7Wf3+Pht"
            "Oe90r+1bb/7/2C1gDCuZYt/u/66jvzQmK/WgR2tra2tdra2u"
        ),
        (
            "AAAAAWdCwAvcKN+SEAAAAwAQAAADA8DxQrgAAAABaM4ERMgAAAABZYiCA/OcRigACP3HAAEMaOAAIMd99999999/H//gwBeD"
            "BJl/igMYAKHMmk3+1tbW1tcf/+gr4dpnNra2v8f+MMHiBI8DKDlo23LNabtbW1x/zgHQIHCBelMlY74f/QeUg+7dIGYoDa2v"
            "//CEPgz8Gk2Tld9/ivwh8Jl4S+1dFkgvFA3///wXA14NC6Be///vnh14TU8w4Zzq/jlm8ASG5AYKVbY33pgz/4fHhQGcFblv"
            "Bdpbj54Dq/1f3334+H/yKDH+Ef8gcBd4CI7p+TGqYijr/ZYf0UQZRC2IbmrmquPpy2/1wiSV3q7FPgJyu+b85I9L+VLb0xH1"
            "bw/v/YLTgBn6ytjv+uMd+oLxQABANvvvvvrtbW1w"
        ),
    ),
    (
        (
            "AAAAAWdCwAvcKN+SEAAAAwAQAAADA8DxQrgAAAABaM4ERMgAAAABZYiED85xGKAAI/ccAAQxo4AAgx3333333338f/+DAF4M"
            "EmX+KAxgAocyaTf7W1tbXH//BEau1tbX+P/GGDxAkeBlBy0bblmtN2trj/9RegQlAJTL/jzOdX8f//9ESBeKBtbW1//4Qh8G"
            "fg0mycrvvvv9PhD8PHwE9JnWr///wXeB0EKgXhl9//wfAIdFYkvpEev5rnSPTSlXW34WZgAIPrvu//ws3P11//h8eFDwVuW8"
            "F2luPngOr/V/fffHYBC9/oJP9ZVO5+bv9f8kGP/H+EOA18BF+n5jcjq+tsP8ADwbAPO3rFnnU+6bUeBA/ggkTQS/wAxdzMwQ"
            "j0GAnCufN9rMxFcg/i9HqbXyLtv224Q+f9hsnqttMBP7g7z9/yXvfqDMUAAQDb777767W1tc"
        ),
        (
            "AAAAAWdCwAvcKN+SEAAAAwAQAAADA8DxQrgAAAABaM4ERMgAAAABZYiCA/OcRigACP3HAAEMaOAAIMd99999999/H//gwBeD"
            "BJl/igMYAKHMmk3+1tbW1x//wRGrtbW1/j/xhg8QJHgZQctG25ZrTdra4//UXoEJQCUy/48znV/H///REgXigbW1tf/+EIfB"
            "n4NJsnK7777/T4Q/Dx8BPSZ1q///8F3gdBCoF4Zff/8HwCHRWJL6RHr+a50j00pV1t+FmYACD677v/8LNz9df/4fHhQ8Fblv"
            "Bdpbj54Dq/1f333x2AQvf6CT/WVTufm7/X/JBj/x/hDgNfARfp+Y3I6vrbD/AA8GwDzt6xZ51Pum1HgQP4IJE0Ev8AMXczME"
            "I9BgJwrnzfazMRXIP4vR6m18i7b9tuEPn/YbJ6rbTAT+4O8/f8l736gzFAAEA2+++++u1tbX"
        ),
    ),
)

_SETS: dict[tuple[bool, Codec], FrameSet] = {
    (False, Codec.JPG): _set(*_VIDEO_JPG),
    (False, Codec.PNG): _set(*_VIDEO_PNG),
    (False, Codec.H264): _set(*_VIDEO_H264),
    (True, Codec.JPG): _set(*_SHARE_JPG),
    (True, Codec.PNG): _set(*_SHARE_PNG),
    (True, Codec.H264): _set(*_SHARE_H264),
}
