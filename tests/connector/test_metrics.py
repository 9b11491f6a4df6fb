"""The connector's Prometheus metrics, read back through the exposition format a scraper sees."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families

from connector.metrics import FRAME_KINDS, RECONNECT_CAUSES, SOCKET_KINDS, Metrics


def scrape(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of ``metrics.render()``, keyed by (sample name, labels)."""
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return scrape(metrics).get((name, frozenset(labels.items())))


def test_every_metric_is_prefixed_and_documented_families_exist() -> None:
    body, _ = Metrics().render()
    families = {family.name: family.type for family in text_string_to_metric_families(body.decode())}
    assert all(name.startswith("rtms_connector_") for name in families)
    assert {
        "rtms_connector_info": "gauge",
        "rtms_connector_streams_owned": "gauge",
        "rtms_connector_frames": "counter",
        "rtms_connector_frames_dropped": "counter",
        "rtms_connector_reconnects": "counter",
        "rtms_connector_stream_stops": "counter",
        "rtms_connector_keepalive_response_seconds": "histogram",
        "rtms_connector_lease_renewals": "counter",
        "rtms_connector_leases_lost": "counter",
        "rtms_connector_webhooks": "counter",
        "rtms_connector_rest_calls": "counter",
        "rtms_connector_queue_depth_max": "gauge",
        "rtms_connector_sink_errors": "counter",
    }.items() <= families.items()


def test_each_instance_has_its_own_registry() -> None:
    first, second = Metrics(replica="a"), Metrics(replica="b")
    first.frame_in("audio")
    first.frame_in("audio")
    second.frame_in("audio")
    assert value(first, "rtms_connector_frames_total", kind="audio") == 2
    assert value(second, "rtms_connector_frames_total", kind="audio") == 1
    assert value(first, "rtms_connector_info", replica="a") == 1
    assert value(first, "rtms_connector_info", replica="b") is None


def test_a_given_registry_is_used() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry, replica="r1")
    metrics.lease_lost()
    assert metrics.registry is registry
    assert registry.get_sample_value("rtms_connector_leases_lost_total") == 1


def test_frames_by_kind_start_at_zero_and_count() -> None:
    metrics = Metrics()
    assert {
        kind: value(metrics, "rtms_connector_frames_total", kind=kind) for kind in FRAME_KINDS
    } == dict.fromkeys(FRAME_KINDS, 0.0)
    for _ in range(3):
        metrics.frame_in("transcript")
    metrics.frame_in("event")
    metrics.frames_dropped("audio")
    metrics.frames_dropped("audio", 4)
    assert value(metrics, "rtms_connector_frames_total", kind="transcript") == 3
    assert value(metrics, "rtms_connector_frames_total", kind="event") == 1
    assert value(metrics, "rtms_connector_frames_total", kind="audio") == 0
    assert value(metrics, "rtms_connector_frames_dropped_total", kind="audio") == 5


@pytest.mark.parametrize(
    ("method", "arguments", "sample", "label"),
    [
        ("frame_in", ("sound",), "rtms_connector_frames_total", "kind"),
        ("frames_dropped", ("AUDIO", 2), "rtms_connector_frames_dropped_total", "kind"),
        ("reconnect", ("bored",), "rtms_connector_reconnects_total", "cause"),
        ("keepalive_rtt", ("sig", 0.1), "rtms_connector_keepalive_response_seconds_count", "socket"),
    ],
)
def test_unknown_vocabulary_is_counted_as_other_and_warned_once(
    method: str, arguments: tuple[object, ...], sample: str, label: str, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = Metrics()
    with caplog.at_level(logging.WARNING, logger="connector.metrics"):
        getattr(metrics, method)(*arguments)
        getattr(metrics, method)(*arguments)
    expected = 2 * arguments[1] if method == "frames_dropped" else 2  # type: ignore[operator]
    assert value(metrics, sample, **{label: "other"}) == expected
    assert arguments[0] not in {v for _, labels in scrape(metrics) for _, v in labels}
    warnings = [r for r in caplog.records if r.name == "connector.metrics"]
    assert len(warnings) == 1
    assert repr(arguments[0]) in warnings[0].getMessage()


def test_warnings_about_unknown_values_are_bounded(caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    with caplog.at_level(logging.WARNING, logger="connector.metrics"):
        for i in range(500):
            metrics.reconnect(f"cause-{i}")
    assert value(metrics, "rtms_connector_reconnects_total", cause="other") == 500
    assert 0 < len(caplog.records) < 100


def test_the_connectors_own_vocabulary_is_known(caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    with caplog.at_level(logging.WARNING, logger="connector.metrics"):
        for cause in ("handover", "connect_failed", "signaling_lost", "media"):
            metrics.reconnect(cause)
        metrics.keepalive_rtt("media", 0.001)
        metrics.keepalive_rtt("signaling", 0.001)
    assert caplog.records == []
    assert value(metrics, "rtms_connector_reconnects_total", cause="handover") == 1
    assert value(metrics, "rtms_connector_keepalive_response_seconds_count", socket="media") == 1


def test_reconnects_by_cause() -> None:
    metrics = Metrics()
    assert all(value(metrics, "rtms_connector_reconnects_total", cause=c) == 0 for c in RECONNECT_CAUSES)
    metrics.reconnect("failover")
    metrics.reconnect("keepalive_silence")
    metrics.reconnect("failover")
    assert value(metrics, "rtms_connector_reconnects_total", cause="failover") == 2
    assert value(metrics, "rtms_connector_reconnects_total", cause="keepalive_silence") == 1
    assert value(metrics, "rtms_connector_reconnects_total", cause="media") == 0


def test_stop_reasons_carry_code_and_zoom_name() -> None:
    metrics = Metrics()
    metrics.stop_reason(6)
    metrics.stop_reason(6)
    metrics.stop_reason(18)
    metrics.stop_reason(0)
    metrics.stop_reason(77)
    metrics.stop_reason(123456)
    metrics.stop_reason(-5)
    stops = "rtms_connector_stream_stops_total"
    assert value(metrics, stops, code="6", reason="STOP_BC_MEETING_ENDED") == 2
    assert value(metrics, stops, code="18", reason="STOP_BC_AUTHENTICATION_FAILURE") == 1
    assert value(metrics, stops, code="0", reason="UNDEFINED") == 1
    assert value(metrics, stops, code="77", reason="UNKNOWN") == 1
    assert value(metrics, stops, code="other", reason="UNKNOWN") == 2


def test_keepalive_response_histogram_by_socket() -> None:
    metrics = Metrics()
    metrics.keepalive_rtt("signaling", 0.0007)
    metrics.keepalive_rtt("signaling", 0.3)
    metrics.keepalive_rtt("audio", 0.002)
    name = "rtms_connector_keepalive_response_seconds"
    assert value(metrics, f"{name}_count", socket="signaling") == 2
    assert value(metrics, f"{name}_sum", socket="signaling") == pytest.approx(0.3007)
    assert value(metrics, f"{name}_bucket", socket="signaling", le="0.001") == 1
    assert value(metrics, f"{name}_bucket", socket="signaling", le="0.5") == 2
    assert value(metrics, f"{name}_count", socket="audio") == 1
    assert all(value(metrics, f"{name}_count", socket=s) is not None for s in SOCKET_KINDS)


def test_streams_owned_and_leases() -> None:
    metrics = Metrics()
    metrics.stream_owned(1)
    metrics.stream_owned(1)
    metrics.stream_owned(-1)
    assert value(metrics, "rtms_connector_streams_owned") == 1
    metrics.set_streams_owned(7)
    assert value(metrics, "rtms_connector_streams_owned") == 7
    metrics.lease_renewal(True)
    metrics.lease_renewal(True)
    metrics.lease_renewal(False)
    metrics.lease_lost()
    assert value(metrics, "rtms_connector_lease_renewals_total", result="ok") == 2
    assert value(metrics, "rtms_connector_lease_renewals_total", result="failed") == 1
    assert value(metrics, "rtms_connector_leases_lost_total") == 1


def test_webhook_event_names_are_bounded() -> None:
    metrics = Metrics()
    metrics.webhook("meeting.rtms_started", "accepted")
    metrics.webhook("meeting.rtms_started", "duplicate")
    metrics.webhook("contact_center.voice_rtms_stopped", "accepted")
    metrics.webhook("endpoint.url_validation", "accepted")
    metrics.webhook("attacker.chosen_name_1", "rejected")
    metrics.webhook("attacker.chosen_name_2", "rejected")
    hooks = "rtms_connector_webhooks_total"
    assert value(metrics, hooks, event="meeting.rtms_started", outcome="accepted") == 1
    assert value(metrics, hooks, event="meeting.rtms_started", outcome="duplicate") == 1
    assert value(metrics, hooks, event="contact_center.voice_rtms_stopped", outcome="accepted") == 1
    assert value(metrics, hooks, event="endpoint.url_validation", outcome="accepted") == 1
    assert value(metrics, hooks, event="other", outcome="rejected") == 2
    assert not any("attacker" in str(key) for key in scrape(metrics))


def test_rest_calls_sink_errors_and_queue_high_water_mark() -> None:
    metrics = Metrics()
    metrics.rest_call("start", "204")
    metrics.rest_call("token", "error")
    metrics.sink_errors("wav")
    metrics.sink_errors("wav")
    for depth in (3, 10, 4, 0):
        metrics.queue_depth(depth)
    assert value(metrics, "rtms_connector_rest_calls_total", action="start", outcome="204") == 1
    assert value(metrics, "rtms_connector_rest_calls_total", action="token", outcome="error") == 1
    assert value(metrics, "rtms_connector_sink_errors_total", sink="wav") == 2
    assert value(metrics, "rtms_connector_queue_depth_max") == 10


def test_openmetrics_when_the_scraper_asks() -> None:
    metrics = Metrics(replica="r2")
    metrics.frame_in("chat")
    body, content_type = metrics.render("application/openmetrics-text; version=1.0.0,text/plain;q=0.5")
    assert content_type.startswith("application/openmetrics-text")
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in parse_openmetrics(body.decode())
        for s in family.samples
    }
    assert samples[("rtms_connector_frames_total", frozenset({("kind", "chat")}))] == 1
    assert samples[("rtms_connector_info", frozenset({("replica", "r2")}))] == 1
