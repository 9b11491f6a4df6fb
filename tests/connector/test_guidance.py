"""Guidance for Zoom's codes: coverage of every table, lookups, output, and the ``explain`` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.guidance import (
    FULL_RESTART_STOP_REASONS,
    TABLES,
    Guidance,
    all_guidance,
    explain,
    explain_main,
    for_rest_answer,
    headline,
    markdown_tables,
    render,
    render_table,
    with_tables,
)
from connector.protocol import StatusCode, StopReason

DOC = Path(__file__).resolve().parents[2] / "docs" / "guidance.md"


def one(code: int | str, kind: str) -> Guidance:
    [found] = explain(code, kind=kind)  # type: ignore[arg-type]
    return found


# -- coverage ----------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", list(StopReason), ids=lambda r: r.name)
def test_every_stop_reason_has_guidance(reason: StopReason) -> None:
    g = one(int(reason), "stop_reason")
    assert (g.kind, g.code, g.name) == ("stop_reason", int(reason), reason.zoom_name)
    assert g.meaning
    assert g.action
    assert g.headline.endswith(".")


@pytest.mark.parametrize("status", list(StatusCode), ids=lambda s: s.name)
def test_every_status_code_has_guidance(status: StatusCode) -> None:
    g = one(int(status), "status")
    assert (g.kind, g.code, g.name) == ("status", int(status), status.zoom_name)
    assert g.meaning
    assert g.action


@pytest.mark.parametrize(
    ("code", "name", "retry"),
    [
        (13262, "APP_NOT_AUTHORIZED_FOR_MEETING_CONTENT", False),
        (2310, "RTMS_APP_OPERATION_FAILED", False),
        (2308, "USER_NOT_IN_MEETING", True),
        (403, "HTTP_403_FORBIDDEN", False),
        (4711, "INVALID_SCOPES", False),
        (124, "INVALID_ACCESS_TOKEN", False),
        (3000, "MEETING_NOT_IN_PROGRESS", True),
        (3001, "MEETING_NOT_FOUND", False),
        (429, "HTTP_429_RATE_LIMITED", True),
    ],
)
def test_rest_codes_have_guidance(code: int, name: str, retry: bool) -> None:
    g = one(code, "rest")
    assert (g.name, g.retry) == (name, retry)


def test_restart_reasons_follow_zoom_failover_guidance_except_18() -> None:
    assert {*range(10, 20), 24} - {18} == FULL_RESTART_STOP_REASONS
    assert {int(r) for r in StopReason if one(int(r), "stop_reason").retry} == FULL_RESTART_STOP_REASONS


def test_the_field_reports_are_in_the_guidance() -> None:
    f1 = one(18, "stop_reason")
    assert "development and a production version of the app in one account" in f1.action
    assert "several instances" in f1.action
    assert not f1.retry
    f3 = one(13262, "rest")
    assert "Allow apps to access meeting content" in f3.action
    assert "published" in f3.action
    assert "trial" in f3.action
    assert "Delete everything captured" in one(8, "stop_reason").headline
    assert one(19, "stop_reason").headline.startswith("Wait for a new rtms_started")
    assert "KEEP_ALIVE_REQ" in one(24, "stop_reason").headline
    assert "every socket" in one(24, "stop_reason").headline
    assert "participant_joined" in one(2308, "rest").action


# -- lookups -----------------------------------------------------------------------------------


def test_a_number_in_several_tables_gives_one_guidance_per_table() -> None:
    found = explain(8)
    assert [(g.kind, g.name) for g in found] == [
        ("stop_reason", "STOP_BC_STREAM_REVOKED"),
        ("status", "STATUS_DUPLICATE_SIGNAL_REQUEST"),
    ]
    assert [g.kind for g in explain(8, kind="status")] == ["status"]
    assert [g.kind for g in explain(13262)] == ["rest"]


@pytest.mark.parametrize(
    ("text", "kind", "code"),
    [
        ("18", "stop_reason", 18),
        (" 13262 ", "rest", 13262),
        ("AUTHENTICATION_FAILURE", "stop_reason", 18),
        ("stop_bc_authentication_failure", "stop_reason", 18),
        ("STATUS_INVALID_SIGNATURE", "status", 3),
        ("user_not_in_meeting", "rest", 2308),
        ("invalid_client", "rest", "invalid_client"),
    ],
)
def test_codes_are_found_by_number_or_name(text: str, kind: str, code: int | str) -> None:
    [g] = [g for g in explain(text) if g.kind == kind]
    assert g.code == code


@pytest.mark.parametrize("code", [99999, -1, "garbage", "", True])
def test_an_unknown_code_is_explained_as_unknown(code: int | str) -> None:
    [g] = explain(code)
    assert (g.kind, g.name, g.retry) == ("unknown", "UNKNOWN", False)
    assert "not a code this connector knows" in g.meaning


def test_a_bad_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        explain(8, kind="colour")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "code", "oauth", "name"),
    [
        (403, 200, None, "HTTP_403_FORBIDDEN"),
        (429, 429, None, "HTTP_429_RATE_LIMITED"),
        (400, 13262, None, "APP_NOT_AUTHORIZED_FOR_MEETING_CONTENT"),
        (401, 124, None, "INVALID_ACCESS_TOKEN"),
        (401, None, None, "INVALID_ACCESS_TOKEN"),
        (401, None, "invalid_client", "OAUTH_INVALID_CLIENT"),
        (502, None, None, "HTTP_5XX_SERVER_ERROR"),
        (0, None, None, "NETWORK_ERROR"),
        (418, None, None, "UNKNOWN"),
        (400, 77777, None, "UNKNOWN"),
    ],
)
def test_rest_answers_pick_their_guidance(
    status: int, code: int | None, oauth: str | None, name: str
) -> None:
    assert for_rest_answer(status, code, oauth).name == name


def test_headline_names_the_code_and_says_what_to_do() -> None:
    assert headline(24, kind="stop_reason") == (
        "STOP_BC_KEEP_ALIVE_TIMEOUT: Answer KEEP_ALIVE_REQ with KEEP_ALIVE_RESP on every socket, "
        "signaling and each media socket, echoing timestamp and sequence (§4.11)."
    )
    assert headline(999, kind="status").startswith("UNKNOWN: ")


# -- output ------------------------------------------------------------------------------------


def test_render_wraps_for_a_terminal() -> None:
    text = render(explain(8))
    assert text.startswith("stop reason 8 STOP_BC_STREAM_REVOKED\n  meaning: ")
    assert "\n\nstatus code 8 STATUS_DUPLICATE_SIGNAL_REQUEST\n" in text
    assert "  retry:   no" in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_the_table_has_one_line_per_code() -> None:
    lines = render_table().splitlines()
    assert len(lines) == len(all_guidance()) == len(StopReason) + len(StatusCode) + len(all_guidance("rest"))
    assert any(
        line.split()[:4] == ["stop", "reason", "18", "STOP_BC_AUTHENTICATION_FAILURE"] for line in lines
    )


def test_docs_guidance_md_holds_the_generated_tables() -> None:
    document = DOC.read_text(encoding="utf-8")
    assert with_tables(document) == document, "run connector.guidance.with_tables on docs/guidance.md"
    assert markdown_tables() in document
    assert document.count("\n### ") == len(TABLES)


def test_with_tables_needs_the_markers() -> None:
    with pytest.raises(ValueError, match="markers"):
        with_tables("# no markers here\n")


# -- the command ---------------------------------------------------------------------------------


def test_explain_a_stop_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert explain_main(["18"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("stop reason 18 STOP_BC_AUTHENTICATION_FAILURE\n")
    assert "status code 18 STATUS_INVALID_MEDIA_AUDIO_PARAMS" in out


def test_explain_a_rest_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert explain_main(["13262"]) == 0
    assert capsys.readouterr().out.startswith("REST answer 13262 APP_NOT_AUTHORIZED_FOR_MEETING_CONTENT\n")


def test_explain_one_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert explain_main(["--kind", "status", "8"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("status code 8 STATUS_DUPLICATE_SIGNAL_REQUEST\n")
    assert "STOP_BC" not in out


def test_explain_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert explain_main(["--all"]) == 0
    assert capsys.readouterr().out == render_table()
    assert explain_main(["--all", "--kind", "stop_reason"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(StopReason)
    assert explain_main(["--all", "--markdown"]) == 0
    assert capsys.readouterr().out == markdown_tables()


def test_an_unknown_number_is_answered(capsys: pytest.CaptureFixture[str]) -> None:
    assert explain_main(["99999"]) == 0
    assert capsys.readouterr().out.startswith("code 99999 UNKNOWN\n")


@pytest.mark.parametrize(
    "argv",
    [["garbage"], [], ["18", "--all"], ["--kind", "colour", "8"], ["--markdown", "8"], ["8", "9"]],
)
def test_bad_input_is_one_line_and_status_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert explain_main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("rtms-connector explain: error: ")
    assert captured.err.count("\n") == 1


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert explain_main(["--help"]) == 0
    assert "usage: rtms-connector explain" in capsys.readouterr().out


def test_the_stream_restarts_on_the_reasons_the_guidance_names() -> None:
    from connector.stream import RESTART_STOP_REASONS

    assert RESTART_STOP_REASONS == FULL_RESTART_STOP_REASONS
