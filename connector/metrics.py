"""Prometheus metrics of one connector (served at ``GET /metrics``, see :mod:`connector.health`).

Every :class:`Metrics` owns its own :class:`~prometheus_client.CollectorRegistry` unless one is
passed in, so several connectors can run in one process (tests, demos) without sharing counters
or colliding on registration. Names start with ``rtms_connector_``; docs/operations.md has the
table of every metric, its labels and what it means.

Label values are bounded on purpose. The per-frame methods (:meth:`Metrics.frame_in`,
:meth:`Metrics.frames_dropped`, :meth:`Metrics.keepalive_rtt`) run for every media frame and
keep-alive (docs/protocol.md §4.11, §4.12): their label children are bound once, at
construction, for a fixed vocabulary. A value outside a vocabulary is a bug in the caller, but
a metric must never break the data path: it is counted under ``other`` and logged once as a
warning, instead of raising or creating a new time series. Values that come off the wire are
folded the same way: webhook event names outside the known RTMS events (§7.1) count as
``other``, stop reasons outside §5.3 keep their number only when it is small.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from typing import Final, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from .protocol import Product, RtmsEventKind, StopReason
from .protocol.webhook import URL_VALIDATION_EVENT

__all__ = [
    "FRAME_KINDS",
    "OTHER",
    "KEEPALIVE_BUCKETS",
    "RECONNECT_CAUSES",
    "SOCKET_KINDS",
    "WEBHOOK_EVENTS",
    "Metrics",
]

logger = logging.getLogger("connector.metrics")

PREFIX: Final = "rtms_connector_"

OTHER: Final = "other"
"""The label value that stands for anything outside a fixed vocabulary."""

FRAME_KINDS: Final = ("audio", "video", "deskshare", "transcript", "chat", "event")
"""What arrives from Zoom: MEDIA_DATA_* 14-18 (§4.12) and EVENT_UPDATE 6 (§4.6)."""

RECONNECT_CAUSES: Final = (
    "interrupted",  # *.rtms_interrupted webhook: redo signaling + media (§7.1)
    "failover",  # a fresh *.rtms_started for an active stream, new server_urls (§7.1)
    "media",  # one media socket lost or MEDIA_CONNECTION_INTERRUPTED: redo that socket (§9.2)
    "signaling_lost",  # the signaling socket dropped without a close frame
    "stopped_restart",  # *.rtms_stopped with a reason in 10-19 or 24: full restart (§5.3)
    "keepalive_silence",  # no KEEP_ALIVE_REQ for 65 s: re-send the signaling handshake (§4.11)
    "connect_failed",  # an attempt could not connect or join in time: try again
    "handover",  # a stream taken over from a replica that lost or released its lease
)
"""Why a stream reconnected (docs/protocol.md §9.2)."""

SOCKET_KINDS: Final = ("signaling", "media", "audio", "video", "deskshare", "transcript", "chat", "all")
"""The sockets that receive KEEP_ALIVE_REQ (§1, §4.11): signaling, and a media socket either
named by its ``server_urls`` key or just as ``media``."""

KEEPALIVE_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Seconds. Answering takes well under a millisecond on an idle loop; the upper buckets are
there to show a loop so busy that Zoom might count the keep-alive as missed (§4.11)."""

WEBHOOK_EVENTS: Final = frozenset(
    {product.event_name(kind) for product in Product for kind in RtmsEventKind}
    | {
        URL_VALIDATION_EVENT,
        "rtms.concurrency_limited",
        "rtms.concurrency_near_limit",
        "meeting.rtms_concurrency_limited",
        "meeting.started",
        "meeting.ended",
        "meeting.participant_joined",
        "meeting.participant_jbh_waiting",
    }
)
"""Webhook event names counted under their own label (§7.1, §7.5); any other name is ``other``
(an unauthenticated request picks its own event name, and must not pick a new time series)."""

_MAX_STOP_CODE: Final = 999  # an undocumented stop reason keeps its number up to here

_Child = TypeVar("_Child", Counter, Histogram)

_MAX_WARNED: Final = 64  # distinct unknown values warned about, per Metrics


class Metrics:
    """The metrics of one connector replica.

    ``registry``: where the metrics are registered (a new private registry when ``None``).
    ``replica``: the replica id, exported as ``rtms_connector_info{replica="..."} 1`` so that
    dashboards can name the replica behind a scrape target.

    Every method is cheap and never raises: a value outside a fixed vocabulary is counted
    under ``other`` and logged once (see the module doc).
    """

    def __init__(self, registry: CollectorRegistry | None = None, *, replica: str = "") -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.replica = replica
        self._warned: set[tuple[str, str]] = set()
        r = self.registry
        info = Gauge(
            f"{PREFIX}info", "Identity of this connector replica (always 1).", ["replica"], registry=r
        )
        info.labels(replica).set(1)
        self._streams_owned = Gauge(
            f"{PREFIX}streams_owned", "Streams this replica currently owns and runs.", registry=r
        )
        # Counted in plain integers: one count per frame received, the hottest metric by far.
        self._frames = dict.fromkeys((*FRAME_KINDS, OTHER), 0)
        r.register(_Counts(f"{PREFIX}frames", "Frames received from Zoom, by kind.", "kind", self._frames))
        dropped = Counter(
            f"{PREFIX}frames_dropped",
            "Frames dropped before reaching a sink (full queue), by kind.",
            ["kind"],
            registry=r,
        )
        self._dropped = _bind(dropped, FRAME_KINDS)
        reconnects = Counter(f"{PREFIX}reconnects", "Stream reconnects, by cause.", ["cause"], registry=r)
        self._reconnects = _bind(reconnects, RECONNECT_CAUSES)
        self._stops = Counter(
            f"{PREFIX}stream_stops",
            "Streams stopped, by Zoom stop reason (code and STOP_BC_ name).",
            ["code", "reason"],
            registry=r,
        )
        keepalive = Histogram(
            f"{PREFIX}keepalive_response_seconds",
            "Time from receiving KEEP_ALIVE_REQ to KEEP_ALIVE_RESP being written, by socket.",
            ["socket"],
            buckets=KEEPALIVE_BUCKETS,
            registry=r,
        )
        self._keepalive = _bind(keepalive, SOCKET_KINDS)
        renewals = Counter(
            f"{PREFIX}lease_renewals", "Stream lease renewals, by result.", ["result"], registry=r
        )
        self._renewals = {True: renewals.labels("ok"), False: renewals.labels("failed")}
        self._leases_lost = Counter(
            f"{PREFIX}leases_lost", "Stream leases lost to another replica or to expiry.", registry=r
        )
        self._webhooks = Counter(
            f"{PREFIX}webhooks", "Webhook deliveries, by event and outcome.", ["event", "outcome"], registry=r
        )
        self._rest_calls = Counter(
            f"{PREFIX}rest_calls",
            "Calls to Zoom's REST and OAuth APIs, by action and outcome.",
            ["action", "outcome"],
            registry=r,
        )
        self._queue_depth_max = Gauge(
            f"{PREFIX}queue_depth_max", "Deepest frame queue seen since start (frames).", registry=r
        )
        self._queue_depth_seen = 0
        self._sink_errors = Counter(
            f"{PREFIX}sink_errors", "Sink write failures, by sink.", ["sink"], registry=r
        )

    def _pick(self, children: Mapping[str, _Child], value: str, what: str) -> _Child:
        """The bound child for ``value``, or the ``other`` child (with one warning per value)."""
        child = children.get(value)
        if child is not None:
            return child
        self._unknown(children, value, what)
        return children[OTHER]

    def _unknown(self, vocabulary: Mapping[str, object], value: str, what: str) -> None:
        """``value`` is outside ``vocabulary``: warn once per value (and at most
        :data:`_MAX_WARNED` values)."""
        key = (what, value)
        if key not in self._warned and len(self._warned) < _MAX_WARNED:
            self._warned.add(key)
            expected = ", ".join(v for v in vocabulary if v != OTHER)
            logger.warning(
                "metrics: unknown %s %r counted as %r (expected one of %s)", what, value, OTHER, expected
            )

    # -- streams ------------------------------------------------------------------------------

    def stream_owned(self, delta: int) -> None:
        """Add ``delta`` (+1 when a stream is taken, -1 when it is released) to streams_owned."""
        self._streams_owned.inc(delta)

    def set_streams_owned(self, count: int) -> None:
        """Set streams_owned to ``count`` (e.g. after reconciling with the lease store)."""
        self._streams_owned.set(count)

    # -- per frame (hot path) -----------------------------------------------------------------

    def frame_in(self, kind: str) -> None:
        """Count one frame received; ``kind`` is one of :data:`FRAME_KINDS`."""
        counts = self._frames
        if kind not in counts:
            self._unknown(counts, kind, "frame kind")
            kind = OTHER
        counts[kind] += 1

    def frames_dropped(self, kind: str, n: int = 1) -> None:
        """Count ``n`` frames of ``kind`` (one of :data:`FRAME_KINDS`) dropped before a sink."""
        self._pick(self._dropped, kind, "frame kind").inc(n)

    def keepalive_rtt(self, socket_kind: str, seconds: float) -> None:
        """Record how long answering one KEEP_ALIVE_REQ took on ``socket_kind`` (one of
        :data:`SOCKET_KINDS`): from the request being received to the response being written."""
        self._pick(self._keepalive, socket_kind, "socket kind").observe(seconds)

    def queue_depth(self, depth: int) -> None:
        """Report a frame queue's current depth; the gauge keeps the deepest seen since start."""
        # Compared on a plain int first: the gauge (and its lock) is touched only on a new maximum.
        if depth > self._queue_depth_seen:
            self._queue_depth_seen = depth
            self._queue_depth_max.set(depth)

    # -- stream life --------------------------------------------------------------------------

    def reconnect(self, cause: str) -> None:
        """Count one reconnect; ``cause`` is one of :data:`RECONNECT_CAUSES`."""
        self._pick(self._reconnects, cause, "reconnect cause").inc()

    def stop_reason(self, code: int) -> None:
        """Count one stream stop with Zoom's stop reason ``code`` (§5.3).

        The ``reason`` label is Zoom's name (``STOP_BC_MEETING_ENDED``); a code §5.3 does not
        define is labelled ``UNKNOWN`` (and ``code="other"`` when it is not 0-999).
        """
        try:
            reason = StopReason(code).zoom_name
        except ValueError:
            reason = "UNKNOWN"
        label = str(code) if 0 <= code <= _MAX_STOP_CODE else OTHER
        self._stops.labels(label, reason).inc()

    def lease_renewal(self, ok: bool) -> None:
        """Count one lease renewal attempt: ``result="ok"`` or ``result="failed"``."""
        self._renewals[bool(ok)].inc()

    def lease_lost(self) -> None:
        """Count one lease this replica held and no longer holds."""
        self._leases_lost.inc()

    # -- edges --------------------------------------------------------------------------------

    def webhook(self, event: str, outcome: str) -> None:
        """Count one webhook delivery. ``event`` outside :data:`WEBHOOK_EVENTS` counts as
        ``other`` (silently: the sender chose it); ``outcome`` is the caller's word for what
        happened (``started``, ``duplicate``, ``rejected``, ``refused``...)."""
        self._webhooks.labels(event if event in WEBHOOK_EVENTS else OTHER, outcome).inc()

    def rest_call(self, action: str, outcome: str) -> None:
        """Count one REST or OAuth call: ``action`` (``start``, ``stop``, ``token``...) and
        ``outcome`` (the HTTP status as text, or ``error`` when no response came)."""
        self._rest_calls.labels(action, outcome).inc()

    def sink_errors(self, sink: str) -> None:
        """Count one failed write of ``sink`` (``wav``, ``transcript``, ``events``...)."""
        self._sink_errors.labels(sink).inc()

    # -- exposition ---------------------------------------------------------------------------

    def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """The registry in Prometheus' exposition format: ``(body, content_type)``.

        ``accept`` is the scraper's ``Accept`` header; OpenMetrics is served when it asks for
        it, the Prometheus text format otherwise.
        """
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


class _Counts(Collector):
    """A counter family with one label, read from a dict of plain integers that its owner
    increments (no lock: one event-loop thread counts and serves the scrapes)."""

    def __init__(self, name: str, documentation: str, label: str, counts: dict[str, int]) -> None:
        self.name = name
        self.documentation = documentation
        self.label = label
        self.counts = counts
        self.created = time.time()

    def describe(self) -> Iterator[Metric]:
        yield CounterMetricFamily(self.name, self.documentation, labels=[self.label])

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=[self.label])
        for value, count in self.counts.items():
            family.add_metric([value], count, created=self.created)
        yield family


def _bind(metric: _Child, vocabulary: tuple[str, ...]) -> dict[str, _Child]:
    """One label child per value of ``vocabulary``, plus :data:`OTHER`, bound once."""
    return {value: metric.labels(value) for value in (*vocabulary, OTHER)}
