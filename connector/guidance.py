"""Plain-language guidance for the codes Zoom answers with: what a code means and what to do.

Three tables, each keyed by Zoom's number:

* ``stop_reason``: RTMS_STOP_REASON, the ``stop_reason`` of ``*.rtms_stopped`` and the
  ``reason`` of STREAM_STATE_UPDATE (docs/protocol.md §5.3);
* ``rest``: the answers of ``PATCH …/rtms_app/status`` and of ``POST /oauth/token``
  (§8.1, §8.2; docs/rest.md lists what the simulator sends): Zoom's body ``code`` (13262, 2308,
  …), the HTTP statuses that carry no useful code (403, 429, 5xx), the OAuth ``error`` names,
  and ``network`` for a request that got no answer;
* ``status``: RTMS_STATUS_CODE, the ``status_code`` of handshake and response messages (§5.2,
  current table; where the older beta table gives the number another meaning, the entry says so).

:func:`explain` looks a code up (a number, a decimal string, or a name such as
``AUTHENTICATION_FAILURE`` / ``STATUS_INVALID_SIGNATURE`` / ``invalid_client``); a number in
several tables gives one :class:`Guidance` per table, an unknown code a :class:`Guidance` that
says so. :func:`render` formats for a terminal, :func:`markdown_tables` for docs/guidance.md,
and :func:`explain_main` is the body of ``rtms-connector explain``.

``Guidance.retry`` answers "may trying again help?": for a stop reason, whether Zoom's failover
guidance has the connector restart the stream in full while it is still valid (10-19 and 24,
§5.3), except 18, which a rejoin with the same credentials cannot fix (field report F1); for a
REST answer, whether the same call can succeed later; for a status code, whether a new
handshake can succeed without changing anything.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, NoReturn, get_args

from .protocol import LegacyStatusCode, StatusCode, StopReason

__all__ = [
    "FULL_RESTART_STOP_REASONS",
    "Guidance",
    "GuidanceKind",
    "Kind",
    "explain",
    "explain_main",
    "for_rest_answer",
    "headline",
    "markdown_tables",
    "with_tables",
    "render",
    "render_table",
]

Kind = Literal["auto", "stop_reason", "rest", "status"]
"""Which table :func:`explain` looks in; ``auto`` looks in all three."""
TableKind = Literal["stop_reason", "rest", "status"]
GuidanceKind = Literal["stop_reason", "rest", "status", "unknown"]
"""Which table a :class:`Guidance` comes from (``unknown``: none had the code)."""

TABLES: tuple[TableKind, ...] = ("stop_reason", "rest", "status")
KIND_TITLES: dict[GuidanceKind, str] = {
    "stop_reason": "stop reason",
    "rest": "REST answer",
    "status": "status code",
    "unknown": "code",
}

FULL_RESTART_STOP_REASONS = frozenset(
    r for r in (*range(10, 20), StopReason.KEEP_ALIVE_TIMEOUT) if r != StopReason.AUTHENTICATION_FAILURE
)
"""Stop reasons after which the connector restarts a stream in full while it is still valid:
Zoom's failover guidance (10-19 and 24, §5.3, §9.2) less 18, which fails again the same way
(field report F1)."""


@dataclass(frozen=True)
class Guidance:
    """What one code of one table means and what to do about it.

    ``action`` starts with one sentence that can stand alone (:attr:`headline`); the rest gives
    causes and details. ``code`` is an ``int``, or a ``str`` for OAuth error names, ``network``
    and codes that were not understood.
    """

    kind: GuidanceKind
    code: int | str
    name: str
    meaning: str
    action: str
    retry: bool

    @property
    def headline(self) -> str:
        """The first sentence of :attr:`action`: a one-line diagnosis for logs and error lines."""
        first, _, _ = self.action.partition(". ")
        return first.rstrip(".") + "."

    @property
    def title(self) -> str:
        """``stop reason 18 STOP_BC_AUTHENTICATION_FAILURE``, ``REST answer 13262 …``."""
        return f"{KIND_TITLES[self.kind]} {self.code} {self.name}"


# -- stop reasons (§5.3) ---------------------------------------------------------------------

_RESTART = (
    " Zoom's failover guidance lists this reason for a full restart (§5.3) while the stream is "
    "still valid; otherwise wait for a new rtms_started."
)
_FINAL = " The stream is over; a new rtms_started arrives if it is started again."

# meaning, action
_STOP: dict[StopReason, tuple[str, str]] = {
    StopReason.UNDEFINED: (
        "Zoom gave no reason for the stop.",
        "Treat it as a final stop and wait for a new rtms_started. If it repeats, keep the "
        "rtms_stream_id and the time and ask Zoom's developer support.",
    ),
    StopReason.HOST_TRIGGERED: (
        "The host stopped the app's stream.",
        "Nothing to fix: the host chose to stop it." + _FINAL,
    ),
    StopReason.USER_TRIGGERED: (
        "The app user (the participant the stream runs for) stopped it.",
        "Nothing to fix: the app user chose to stop it." + _FINAL,
    ),
    StopReason.USER_LEFT: (
        "The app owner, the participant the stream runs for, left the meeting.",
        "Start it again for someone who is still in the meeting (REST start with their "
        "participant_user_id) or use auto-start. The stream ends with its owner.",
    ),
    StopReason.USER_EJECTED: (
        "The host removed the app owner from the meeting.",
        "Do not restart it for the removed participant. The host decided; another participant "
        "may start the app.",
    ),
    StopReason.HOST_DISABLED_APP: (
        "The host disabled the app (or the app's user) in this meeting. Older docs call it "
        "APP_DISABLED_BY_HOST.",
        "Do not retry in this meeting: only the host can enable the app again.",
    ),
    StopReason.MEETING_ENDED: (
        "The meeting ended.",
        "Nothing to fix: this is the normal end. Close the files and finish the stream.",
    ),
    StopReason.STREAM_CANCELED: (
        "A participant asked to cancel the stream.",
        "Respect the request: do not restart the stream in this meeting. A new rtms_started "
        "arrives if someone starts it again.",
    ),
    StopReason.STREAM_REVOKED: (
        "Access to the meeting content was revoked.",
        "Delete everything captured from this stream now (audio, video, transcript, chat, "
        "events) and do not retry. Zoom requires the assets to be deleted immediately.",
    ),
    StopReason.ALL_APPS_DISABLED: (
        "The host disabled all apps in the meeting.",
        "Do not retry in this meeting: only the host can enable apps again.",
    ),
    StopReason.INTERNAL_EXCEPTION: (
        "Zoom's RTMS server failed internally.",
        "Restart the stream in full; the fault is on Zoom's side." + _RESTART,
    ),
    StopReason.CONNECTION_TIMEOUT: (
        "A connection to Zoom's RTMS server timed out.",
        "Restart the stream in full, and check that the connector reaches the server_urls "
        "within about 60 s of rtms_started (network path, proxy, DNS)." + _RESTART,
    ),
    StopReason.INSTANCE_CONNECTION_INTERRUPTED: (
        "The meeting instance's own connection to the RTMS server was interrupted (Zoom's side; "
        "older docs call it MEETING_CONNECTION_INTERRUPTED).",
        "Restart the stream in full." + _RESTART,
    ),
    StopReason.SIGNAL_CONNECTION_INTERRUPTED: (
        "The signaling WebSocket was interrupted.",
        "Restart the stream in full: signaling handshake, then the media sockets." + _RESTART,
    ),
    StopReason.DATA_CONNECTION_INTERRUPTED: (
        "A media WebSocket was interrupted.",
        "Restart the stream in full." + _RESTART,
    ),
    StopReason.SIGNAL_CONNECTION_CLOSED_ABNORMALLY: (
        "The app's signaling socket closed without a proper close: a crash, a killed process, "
        "or a proxy or load balancer cutting an idle connection.",
        "Restart the stream in full, and end streams on purpose with STREAM_CLOSE_REQ. Check "
        "idle timeouts of proxies between the connector and Zoom." + _RESTART,
    ),
    StopReason.DATA_CONNECTION_CLOSED_ABNORMALLY: (
        "A media socket closed without a proper close (crash, killed process, proxy timeout).",
        "Restart the stream in full, and check idle timeouts of proxies between the connector "
        "and Zoom." + _RESTART,
    ),
    StopReason.EXIT_SIGNAL: (
        "Zoom's RTMS server was told to exit (maintenance or failover).",
        "Restart the stream in full; a new rtms_started with new server_urls may follow, and "
        "the connector must then reconnect there." + _RESTART,
    ),
    StopReason.AUTHENTICATION_FAILURE: (
        "Zoom could not authenticate the connection to this stream: the handshake signature was "
        "not made with this stream's app, or another connection took the stream. It typically "
        "comes about a second after rtms_started (field report F1).",
        "Sign the handshake with the Client ID and Client Secret of the app that received this "
        "rtms_started, and let exactly one instance join each stream. Causes seen in the field: "
        "a development and a production version of the app in one account (each has its own "
        "credentials, and each webhook endpoint must use its own app's), and several instances "
        "or replicas racing for the same stream. The signature is HMAC-SHA256(client_secret, "
        "'client_id,meeting_uuid,rtms_stream_id') in lowercase hex (§2). Rejoining with the same "
        "credentials fails the same way, so the connector does not restart on this reason.",
    ),
    StopReason.AWAIT_RECONNECTION_TIMEOUT: (
        "After an interruption Zoom waited for the app to reconnect, and the window expired "
        "(about 60 s for signaling, 65 s for media).",
        "Wait for a new rtms_started: the stream cannot be resumed and what was missed is lost. "
        "Reconnect sooner after an interruption (backoff 3, 6, 12, 24 s, capped at 30 s)." + _RESTART,
    ),
    StopReason.RECEIVER_REQUEST_CLOSE: (
        "The app closed the stream itself with STREAM_CLOSE_REQ.",
        "Nothing to fix: the connector asked for this stop.",
    ),
    StopReason.CUSTOMER_DISCONNECTED: (
        "Contact Center: the customer disconnected.",
        "Nothing to fix: the engagement's stream is over.",
    ),
    StopReason.AGENT_DISCONNECTED: (
        "Contact Center: the agent disconnected.",
        "Nothing to fix: the engagement's stream is over.",
    ),
    StopReason.ADMIN_DISABLED_APP: (
        "An account admin disabled the app.",
        "Ask the account admin to enable the app again; do not retry until then.",
    ),
    StopReason.KEEP_ALIVE_TIMEOUT: (
        "Zoom's keep-alive requests went unanswered (three misses) and the stream was stopped.",
        "Answer KEEP_ALIVE_REQ with KEEP_ALIVE_RESP on every socket, signaling and each media "
        "socket, echoing timestamp and sequence (§4.11). Zoom sends keep-alives only while no "
        "data flows, so a quiet socket must still be read." + _RESTART,
    ),
    StopReason.MANUAL_API_TRIGGERED: (
        "Contact Center: the stream was stopped through the voice API.",
        "Nothing to fix: an API call stopped it." + _FINAL,
    ),
    StopReason.STREAMING_NOT_SUPPORTED: (
        "Contact Center: the queue does not support streaming.",
        "Enable streaming for the queue in Zoom Contact Center; retrying does not help until then.",
    ),
}


def _stop_guidance(reason: StopReason) -> Guidance:
    meaning, action = _STOP[reason]
    return Guidance(
        "stop_reason", int(reason), reason.zoom_name, meaning, action, reason in FULL_RESTART_STOP_REASONS
    )


# -- REST and OAuth answers (§8.1, §8.2) -------------------------------------------------------

# name, meaning, action, retry
_REST: dict[int | str, tuple[str, str, str, bool]] = {
    124: (
        "INVALID_ACCESS_TOKEN",
        "The access token is invalid or expired (HTTP 401).",
        "Get a new Server-to-Server OAuth token and call again once; the connector does this by "
        "itself. If a fresh token is refused too, the token comes from another account or app "
        "than the API expects: check the account_id, Client ID and Client Secret.",
        False,
    ),
    200: (
        "NO_PERMISSION",
        "Zoom refused the operation for this caller or account (code 200 also answers a Video "
        "SDK call from an account that is not a Video SDK account).",
        "Call with a token that may act for the participant: a Server-to-Server token of the "
        "meeting's account, or the host's own token. For sessions, use the Video SDK account.",
        False,
    ),
    300: (
        "INVALID_REQUEST",
        "The request was malformed: a missing or invalid field, or an invalid meeting or session ID.",
        "Fix the request; the response's errors list names each field. Retrying the same "
        "request fails the same way.",
        False,
    ),
    2308: (
        "USER_NOT_IN_MEETING",
        "The participant the stream is for (participant_user_id, or the token's own user when "
        "it is left out) is not in the meeting.",
        "Wait until the host is in the meeting, then call again; the manual starter waits for "
        "the host's meeting.participant_joined. Pass participant_user_id: a Server-to-Server "
        "token has no user of its own.",
        True,
    ),
    2310: (
        "RTMS_APP_OPERATION_FAILED",
        "Zoom could not perform the RTMS app operation: RTMS is disabled for the host's "
        "organisation or not available to the host's client, or the action does not fit the "
        "stream's state (stop, pause or resume with nothing running).",
        "Check that RTMS is enabled in the host's account settings and that the host's Zoom "
        "client is 6.5.5 or newer. For stop, pause and resume, check that a stream is running "
        "(or paused). Retrying does not help until one of these changes.",
        False,
    ),
    3000: (
        "MEETING_NOT_IN_PROGRESS",
        "The meeting exists but has not started (or is between states).",
        "Retry with backoff once the meeting has started (meeting.started).",
        True,
    ),
    3001: (
        "MEETING_NOT_FOUND",
        "No live meeting (or session) has this ID: it ended, never existed, or the ID is the "
        "UUID instead of the numeric meeting ID.",
        "Check the ID: the REST path takes the numeric meeting ID (payload.object.id of "
        "meeting.started), not the UUID. A meeting that ended cannot be started.",
        False,
    ),
    4700: (
        "TOKEN_WITHOUT_SCOPES",
        "The token does not carry the scopes this API needs (Zoom's errors page names 4700).",
        "Add the scope meeting:update:participant_rtms_app_status:admin to the Server-to-Server "
        "app, activate it again, and get a new token.",
        False,
    ),
    4711: (
        "INVALID_SCOPES",
        "The token does not contain the scopes this API needs.",
        "Add the scope meeting:update:participant_rtms_app_status:admin (or "
        "meeting:update:participant_rtms_app_status for user-level apps) to the app, activate "
        "it again, and get a new token.",
        False,
    ),
    13262: (
        "APP_NOT_AUTHORIZED_FOR_MEETING_CONTENT",
        "Zoom does not let this app access meeting content, even when the app is added, "
        "assigned, set to auto-start and listed under 'Allow apps to access meeting content' "
        "(field report F3).",
        "Ask Zoom to enable RTMS for the account and app: RTMS is an entitlement Zoom must "
        "switch on (a trial is requested from Zoom), and no UI setting does it. Also check that "
        "the production app is published (an unpublished production app gets this answer "
        "while its development version works), that the client_id in the request is the RTMS "
        "app's Client ID, and that the app is listed under 'Allow apps to access meeting "
        "content' in the account's settings. Retrying does not help until Zoom has enabled it.",
        False,
    ),
    13273: (
        "SESSION_RTMS_NOT_SUPPORTED",
        "The Video SDK session does not support the RTMS app feature.",
        "Enable RTMS for the Video SDK account and start a new session; retrying this session does not help.",
        False,
    ),
    13277: (
        "RTMS_APP_NOT_STARTED",
        "The action needs a running RTMS app, and it has not been started.",
        "Start the app first; stop, pause and resume act on a running stream.",
        False,
    ),
    403: (
        "HTTP_403_FORBIDDEN",
        "The caller may not act for that participant: the token's user is neither the host nor "
        "the participant named.",
        "Use a Server-to-Server token of the meeting's account, or the host's own token, and "
        "name the host as participant_user_id. Retrying with the same token fails the same way.",
        False,
    ),
    429: (
        "HTTP_429_RATE_LIMITED",
        "Zoom's rate limit for this account and API was reached.",
        "Wait for Retry-After seconds and call again; the connector retries up to three times. "
        "Many calls at once (for example many meetings starting together) share one per-account "
        "budget.",
        True,
    ),
    500: (
        "HTTP_5XX_SERVER_ERROR",
        "Zoom's API failed on its side (HTTP 5xx).",
        "Retry with backoff; if it persists, check Zoom's status page.",
        True,
    ),
    "network": (
        "NETWORK_ERROR",
        "The request got no HTTP answer: DNS failure, refused connection, TLS failure or a timeout.",
        "Check the network path from the connector to zoom.us and api.zoom.us (DNS, proxy, "
        "firewall, TLS inspection); the call is safe to retry.",
        True,
    ),
    "invalid_client": (
        "OAUTH_INVALID_CLIENT",
        "The OAuth token endpoint did not accept the Client ID and Client Secret.",
        "Use the Client ID and Client Secret of the Server-to-Server OAuth app (not the RTMS "
        "general app's, and not a development app's for production). Check for spaces copied "
        "with them and that the app is activated.",
        False,
    ),
    "invalid_request": (
        "OAUTH_INVALID_REQUEST",
        "The OAuth token endpoint refused the request: most often an account_id that is not the "
        "Server-to-Server app's account.",
        "Use the Account ID shown on the Server-to-Server OAuth app's credentials page.",
        False,
    ),
    "unsupported_grant_type": (
        "OAUTH_UNSUPPORTED_GRANT_TYPE",
        "The OAuth token endpoint does not support the grant asked for.",
        "Use grant_type=account_credentials with a Server-to-Server OAuth app.",
        False,
    ),
}


def _rest_guidance(key: int | str) -> Guidance:
    name, meaning, action, retry = _REST[key]
    return Guidance("rest", key, name, meaning, action, retry)


def for_rest_answer(http_status: int, code: int | None = None, oauth_error: str | None = None) -> Guidance:
    """The guidance for one REST or OAuth answer (``http_status`` 0: no answer at all).

    403 and 429 are explained by their HTTP status (their body codes say less); otherwise
    Zoom's body ``code`` decides, then the OAuth ``error`` name, then the HTTP status (any 5xx
    as 500). An answer none of these explain gets the "unknown" guidance.
    """
    if http_status == 0:
        return _rest_guidance("network")
    if http_status in (403, 429):
        return _rest_guidance(http_status)
    if code is not None and code in _REST:
        return _rest_guidance(code)
    if oauth_error is not None and oauth_error in _REST:
        return _rest_guidance(oauth_error)
    if http_status >= 500:
        return _rest_guidance(500)
    if http_status == 401:
        return _rest_guidance(124)
    return _unknown(code if code is not None else http_status, "rest")


# -- status codes (§5.2) -----------------------------------------------------------------------

# meaning, action; codes not listed here are media-parameter checks, described from their names.
_STATUS: dict[StatusCode, tuple[str, str]] = {
    StatusCode.OK: ("Success.", "Nothing to do."),
    StatusCode.INVALID_MESSAGE_TYPE: (
        "Zoom did not accept the msg_type of a message the connector sent.",
        "Send each message on its socket: handshake 1 on signaling, 3 on media (§4, §5.1).",
    ),
    StatusCode.INVALID_RTMS_STREAM_ID: (
        "Zoom does not know the rtms_stream_id of the handshake: a wrong or stale stream, or one "
        "that has ended.",
        "Join with the meeting_uuid and rtms_stream_id of a current rtms_started. A stream that "
        "ended cannot be joined; wait for a new rtms_started.",
    ),
    StatusCode.INVALID_SIGNATURE: (
        "The handshake signature did not verify.",
        "Sign with the Client ID and Client Secret of the app that received the rtms_started: "
        "HMAC-SHA256(client_secret, 'client_id,meeting_uuid,rtms_stream_id') in lowercase hex "
        "(§2). A development and a production app in one account have different credentials "
        "(field report F1).",
    ),
    StatusCode.INVALID_PAYLOAD: (
        "The message was not valid JSON or lacked required fields.",
        "Check the message against its definition in §4.",
    ),
    StatusCode.INVALID_EVENTS: (
        "The events list of EVENT_SUBSCRIPTION was invalid.",
        "Send a list of RTMS_EVENT_TYPE numbers (§4.5, §5.8).",
    ),
    StatusCode.INVALID_EVENT_TYPE: (
        "An event type in the subscription is unknown.",
        "Subscribe only to RTMS_EVENT_TYPE values (§5.8).",
    ),
    StatusCode.INVALID_MEDIA_TYPE: (
        "The media_type of the media handshake is not a valid MEDIA_DATA_TYPE bitmask.",
        "Use the bits of §5.6 (1 audio, 2 video, 4 deskshare, 8 transcript, 16 chat, 32 all).",
    ),
    StatusCode.DUPLICATE_SIGNAL_REQUEST: (
        "Another signaling connection already holds this stream.",
        "Let exactly one connector instance join each stream (claim it in a shared store "
        "before joining), and close the old signaling socket before reconnecting. Several "
        "replicas racing for one stream end like this (field report F1).",
    ),
    StatusCode.MEDIA_TYPE_INVALID_VALUE: (
        "The media_type value is not one Zoom accepts.",
        "Use the bits of §5.6.",
    ),
    StatusCode.MEDIA_DATA_ALL_CONNECTION_EXIST: (
        "Every media connection this stream allows is already open.",
        "Do not open more media sockets: one set per stream, from one instance. Close the old "
        "ones before reconnecting.",
    ),
    StatusCode.DUPLICATE_MEDIA_DATA_CONNECTION: (
        "A media socket for this media type is already connected to the stream.",
        "Let one instance hold each stream, and close the old media socket before opening a "
        "new one for the same media (a reconnect overlapping the old socket ends like this).",
    ),
    StatusCode.INVALID_MEDIA_PARAMS: (
        "The media_params of the media handshake were invalid.",
        "Send media_params that follow §4.3 and §5.7.",
    ),
    StatusCode.INVALID_RTMS_SESSION_ID: (
        "The session ID of the request is not one of this stream's sessions.",
        "Use the session_id Zoom sent (SESSION_STATE_UPDATE, §4.9).",
    ),
    StatusCode.INVALID_CLIENT_READY_ACK: (
        "CLIENT_READY_ACK was invalid or came at the wrong time.",
        "Send CLIENT_READY_ACK once, after a successful signaling handshake (§4.7).",
    ),
    StatusCode.INVALID_EVENT_SUBSCRIBE: (
        "The EVENT_SUBSCRIPTION message was invalid.",
        "Send it after CLIENT_READY_ACK with a list of event types (§4.5).",
    ),
    StatusCode.INVALID_MEDIA_TRANSCRIPT_SOURCE_LANGUAGE: (
        "The transcript src_language is not one Zoom supports.",
        "Use a RTMS_TRANSCRIPT_LANGUAGE value (§5.12), or leave it out and let Zoom detect it.",
    ),
    StatusCode.DUPLICATE_VIDEO_SUBSCRIPTION: (
        "A video subscription for this participant is already active.",
        "Send VIDEO_SUBSCRIPTION_REQ once per participant (§4.16).",
    ),
    StatusCode.INTERNAL_EXCEPTION: (
        "Zoom's RTMS server failed while handling the request.",
        "Retry the handshake with backoff; the fault is on Zoom's side.",
    ),
}

_MEDIA_WORDS = {"DESKSHARE": "deskshare", "AUDIO": "audio", "VIDEO": "video"}
_MEDIA_WORDS |= {"TRANSCRIPT": "transcript", "CHAT": "chat"}


def _status_text(code: StatusCode) -> tuple[str, str]:
    """Meaning and action; the media-parameter checks (9-13, 18-39) are described from their names."""
    if code in _STATUS:
        return _STATUS[code]
    words = code.name.split("_")
    if words[:2] == ["MEDIA", "TYPE"] and words[-1] == "SUPPORT":  # MEDIA_TYPE_AUDIO_NOT_SUPPORT
        media = _MEDIA_WORDS[words[2]]
        return (
            f"The app asked for {media} media, which this stream or app does not provide.",
            f"Ask only for media the app has RTMS scopes for; add the {media} scope to the app "
            "to receive it.",
        )
    media = _MEDIA_WORDS[words[2]]  # INVALID_MEDIA_<MEDIA>_<FIELD…>
    field = " ".join(words[3:]).lower() or "parameters"
    return (
        f"Zoom rejected the {field} of the {media} media_params.",
        f"Send a {field} value Zoom supports for {media} (§5.7). Zoom may also replace "
        "requested parameters: use the media_params its handshake response returns.",
    )


def _status_guidance(code: StatusCode) -> Guidance:
    meaning, action = _status_text(code)
    legacy = _legacy_name(int(code))
    if legacy is not None and legacy != code.zoom_name:
        meaning += f" In the older beta status table, {int(code)} is {legacy} (§5.2)."
    return Guidance(
        "status", int(code), code.zoom_name, meaning, action, code is StatusCode.INTERNAL_EXCEPTION
    )


def _legacy_name(value: int) -> str | None:
    try:
        return LegacyStatusCode(value).zoom_name
    except ValueError:
        return None


# -- lookup ------------------------------------------------------------------------------------


def _unknown(code: int | str, kind: Kind | GuidanceKind) -> Guidance:
    where = "Zoom's stop-reason, REST or status tables" if kind == "auto" else f"the {KIND_TITLES[kind]}s"
    return Guidance(
        "unknown",
        code,
        "UNKNOWN",
        f"{code!r} is not a code this connector knows in {where}.",
        "Look the code up in Zoom's RTMS documentation. If Zoom sent it, keep the full message "
        "or response (the connector logs it) and report it.",
        False,
    )


def _by_name(kind: GuidanceKind, name: str) -> Guidance | None:
    key = name.strip().upper()
    if kind == "stop_reason":
        member = StopReason.__members__.get(key.removeprefix("STOP_BC_"))
        return None if member is None else _stop_guidance(member)
    if kind == "status":
        status = StatusCode.__members__.get(key.removeprefix("STATUS_"))
        return None if status is None else _status_guidance(status)
    for rest_key, (rest_name, *_) in _REST.items():
        if key in (rest_name, str(rest_key).upper()):
            return _rest_guidance(rest_key)
    return None


def _by_number(kind: GuidanceKind, number: int) -> Guidance | None:
    if kind == "stop_reason":
        return _stop_guidance(StopReason(number)) if number in StopReason._value2member_map_ else None
    if kind == "status":
        return _status_guidance(StatusCode(number)) if number in StatusCode._value2member_map_ else None
    return _rest_guidance(number) if number in _REST else None


def _number(code: int | str) -> int | None:
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    text = code.strip()
    return int(text) if text.isascii() and text.lstrip("-").isdigit() and text.count("-") <= 1 else None


def explain(code: int | str, *, kind: Kind = "auto") -> list[Guidance]:
    """Guidance for ``code``: one per table that has it (``kind="auto"``), or from one table.

    ``code`` is a number, a decimal string, or a name (``AUTHENTICATION_FAILURE``,
    ``STOP_BC_AUTHENTICATION_FAILURE``, ``STATUS_INVALID_SIGNATURE``, ``USER_NOT_IN_MEETING``,
    ``invalid_client``; any case). A code no table has gives a single ``unknown`` guidance;
    nothing raises.
    """
    if kind not in get_args(Kind):
        raise ValueError(f"kind must be one of {', '.join(get_args(Kind))}, not {kind!r}")
    kinds = TABLES if kind == "auto" else (kind,)
    number = _number(code)
    found = [
        g
        for k in kinds
        if (g := (_by_number(k, number) if number is not None else _by_name(k, str(code)))) is not None
    ]
    return found or [_unknown(code, kind)]


def headline(code: int | str, *, kind: Kind) -> str:
    """One line for a log or a summary: ``STOP_BC_…: <what to do>`` from the first match."""
    first = explain(code, kind=kind)[0]
    return f"{first.name}: {first.headline}"


def all_guidance(kind: Kind = "auto") -> list[Guidance]:
    """Every entry of the table(s), in table order and code order."""
    kinds = TABLES if kind == "auto" else (kind,)
    out: list[Guidance] = []
    for k in kinds:
        if k == "stop_reason":
            out += [_stop_guidance(r) for r in StopReason]
        elif k == "status":
            out += [_status_guidance(s) for s in StatusCode]
        else:
            out += [_rest_guidance(key) for key in sorted(_REST, key=_rest_order)]
    return out


def _rest_order(key: int | str) -> tuple[int, int, str]:
    return (1, 0, key) if isinstance(key, str) else (0, key, "")


# -- output ------------------------------------------------------------------------------------

WIDTH = 100


def render(guidances: Iterable[Guidance]) -> str:
    """A terminal block per guidance: title, meaning, what to do, retry, wrapped at 100 columns."""
    blocks = []
    for g in guidances:
        lines = [g.title]
        for label, text in (
            ("meaning", g.meaning),
            ("do", g.action),
            ("retry", _yes(g.retry)),
        ):
            lines += textwrap.wrap(
                text,
                WIDTH,
                initial_indent=f"  {label + ':':<9}",
                subsequent_indent=" " * 11,
                break_on_hyphens=False,
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def render_table(kind: Kind = "auto") -> str:
    """One line per code: table, code, name, retry, headline (``explain --all``)."""
    rows = [
        (KIND_TITLES[g.kind], str(g.code), g.name, "retry" if g.retry else "-", g.headline)
        for g in all_guidance(kind)
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4] + "\n"
        for row in rows
    )


_SECTIONS: dict[GuidanceKind, str] = {
    "stop_reason": "Stop reasons (`stop_reason` of `*.rtms_stopped`, docs/protocol.md §5.3)",
    "rest": "REST and OAuth answers (`PATCH …/rtms_app/status`, `POST /oauth/token`, §8)",
    "status": "Handshake status codes (`status_code`, current table, §5.2)",
}


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_tables() -> str:
    """The tables of docs/guidance.md: one Markdown table per kind of code."""
    parts = []
    for kind in TABLES:
        rows = [
            f"| {g.code} | `{g.name}` | {_cell(g.meaning)} | {_cell(g.action)} | {_yes(g.retry)} |"
            for g in all_guidance(kind)
        ]
        parts.append(
            "\n".join(
                [
                    f"### {_SECTIONS[kind]}",
                    "",
                    "| code | name | meaning | what to do | retry |",
                    "|---|---|---|---|---|",
                    *rows,
                ]
            )
        )
    return "\n\n".join(parts) + "\n"


GENERATED_BEGIN = "<!-- BEGIN generated by connector.guidance.markdown_tables -->"
GENERATED_END = "<!-- END generated -->"


def with_tables(document: str) -> str:
    """``document`` (docs/guidance.md) with the text between the markers replaced by the tables."""
    head, begin, rest = document.partition(GENERATED_BEGIN)
    _, end, tail = rest.partition(GENERATED_END)
    if not begin or not end:
        raise ValueError("the document lacks the generated-section markers")
    return f"{head}{GENERATED_BEGIN}\n\n{markdown_tables()}\n{GENERATED_END}{tail}"


# -- the command line --------------------------------------------------------------------------

PROG = "rtms-connector explain"


class _UsageError(Exception):
    pass


class _Exit(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse that reports instead of exiting, so errors stay one line."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(message, file=sys.stderr, end="")
        raise _Exit(status)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Explain a Zoom RTMS code: a stop reason, a REST or OAuth answer, or a "
        "handshake status code. A number found in several tables is explained once per table.",
    )
    parser.add_argument("code", nargs="?", help="a number (18, 13262) or a name (AUTHENTICATION_FAILURE)")
    parser.add_argument("--kind", choices=get_args(Kind), default="auto", help="which table (default: all)")
    parser.add_argument("--all", action="store_true", help="list every code of the table(s)")
    parser.add_argument(
        "--markdown", action="store_true", help="with --all: the Markdown of docs/guidance.md"
    )
    return parser


def explain_main(argv: Sequence[str]) -> int:
    """``rtms-connector explain``: print guidance; 0 on success, 2 and one line on bad input.

    ``explain 18``, ``explain 13262``, ``explain --kind status 8``, ``explain --all``
    (``--markdown`` for the document's tables). A number no table has is explained as unknown
    (exit 0); text that is neither a number nor a known name is an error (exit 2).
    """
    try:
        args = _parser().parse_args(list(argv))
        if args.all == (args.code is not None):
            raise _UsageError("give a code, or --all")
        if args.markdown and not args.all:
            raise _UsageError("--markdown goes with --all")
        if args.all:
            print(markdown_tables() if args.markdown else render_table(args.kind), end="")
            return 0
        found = explain(args.code, kind=args.kind)
        if found[0].kind == "unknown" and _number(args.code) is None:
            raise _UsageError(f"{args.code!r} is neither a code number nor a known code name")
        print(render(found), end="")
        return 0
    except _UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except _Exit as exc:
        return exc.status
