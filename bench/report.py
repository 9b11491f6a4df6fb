"""Render the measured tables of docs/performance.md from bench/results/*.json.

The page's prose explains the method and the gaps; its figures come only from the results the
benchmarks wrote, between the ``<!-- figures:start -->`` and ``<!-- figures:end -->`` markers,
so the page cannot drift from the kept results. Run after any benchmark:

    python bench/report.py
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PAGE = ROOT / "docs" / "performance.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "PASS" if value else "FAIL"
    if isinstance(value, float):
        if value != value:
            return "-"
        return f"{value:.{digits}f}"
    return str(value)


def _table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def _source(data: dict[str, Any]) -> list[str]:
    m = data["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in m.get("packages", {}).items())
    return [
        "",
        f"Measured {data['measured_at']} with `{data['command']}` on {m['cpus']} x {m['cpu']}, "
        f"Python {m['python']}, Linux {m['kernel']} ({packages})."
        + (f" {data['note']}" if data.get("note") else ""),
        "",
    ]


def _ramp(point: dict[str, Any]) -> str:
    """Lateness while the point's streams were being created (not measured before it was)."""
    ramp = point.get("ramp_lateness_ms")
    if not ramp:
        return "-"
    return f"{_fmt(ramp.get('p99_ms'))} / {_fmt(ramp.get('max_ms'))}"


def _capacity(data: dict[str, Any]) -> list[str]:
    rows = [
        [
            _fmt(p.get("streams")),
            _fmt(p.get("frames_per_second")),
            _fmt(p.get("sim_cores")),
            _fmt(p.get("cpu_us_per_frame"), 1),
            _fmt(p.get("cpu_ms_per_stream_second"), 3),
            _fmt(p.get("p50_ms")),
            _fmt(p.get("p99_ms")),
            _fmt(p.get("max_ms")),
            _fmt(p.get("frames_lost")),
            _ramp(p),
            _fmt(p.get("pass")),
        ]
        for p in data.get("points", [])
    ]
    header = ["streams", "frames/s", "simulator cores", "CPU µs/frame", "CPU ms per stream-second",
              "lateness p50 ms", "p99 ms", "max ms", "frames lost", "while joining: p99 / max ms",
              "target"]  # fmt: skip
    return _table(header, rows) + _source(data)


def _versus(data: dict[str, Any]) -> list[str]:
    measured = data.get("results", []) + data.get("experiments", [])
    rounds = any(r.get("round", 0) for r in measured)  # --repeat: one row per round
    wakes = any("wakeups_per_frame" in r for r in measured)  # files written before it was measured
    rows = []
    for r in sorted(measured, key=lambda r: (r.get("streams", 0), r.get("system", ""), r.get("round", 0))):
        row = [r.get("system", "?"), _fmt(r.get("streams"))]
        row += [_fmt(r.get("round"))] if rounds else []
        row += [_fmt(r.get("cpu_s_per_1000_frames"), 4), _fmt(r.get("us_per_frame"), 1)]
        row += [_fmt(r.get("wakeups_per_frame")), _fmt(r.get("us_per_wakeup"), 1)] if wakes else []
        row += [
            _fmt(r.get("cores"), 3),
            _fmt(r.get("peak_rss_mib"), 1),
            _fmt(r.get("kib_per_stream"), 1),
            _fmt(r.get("audio_missing")),
            _fmt(r.get("simulator_cores"), 3),
        ]
        rows.append(row)
    header = ["consumer", "streams"] + (["round"] if rounds else []) + ["CPU s / 1000 frames", "µs/frame"]
    header += ["wake-ups/frame", "µs/wake-up"] if wakes else []
    header += ["cores", "peak RSS MiB", "KiB/stream", "audio frames missing", "simulator cores"]
    out = _table(header, rows)
    if "sdk_poll_s" in data:  # what each consumer may add to a frame's latency
        env = data.get("connector_env") or {}
        connector_poll = float(env.get("ZM_RTMS_POLL_INTERVAL", 0.002))
        thin = any(r.get("system") == "thin" for r in data.get("experiments", []))
        sdk_poll = f"{data['sdk_poll_s'] * 1000:g} ms"
        thin_poll = f"at most every {sdk_poll}" if data.get("thin_poll") else "at once"
        out += [
            "",
            f"Polls: the connector at most every {connector_poll * 1000:g} ms while busy "
            f"(`ZM_RTMS_POLL_INTERVAL`), the SDK every {sdk_poll}"
            + (f", the thin consumer {thin_poll}" if thin else "")
            + ".",
        ]
    if data.get("connector_before"):
        out += ["", f"connector-before: {data['connector_before']}."]
    verdicts = data.get("verdicts", [])
    if verdicts:
        out.append("")
        out += _table(
            ["streams", "target", "measured", "verdict"],
            (
                [
                    _fmt(v.get("streams")),
                    str(v.get("target", "")),
                    ", ".join(
                        f"{k} {_fmt(v[k], 3)}" if k != "round_ratios" else f"{k} {' / '.join(map(str, v[k]))}"
                        for k in v
                        if k not in ("streams", "target", "pass")
                    ),
                    _fmt(v.get("pass")),
                ]
                for v in verdicts
            ),
        )
    return out + _source(data)


def _latency(data: dict[str, Any]) -> list[str]:
    rows = []
    for r in data.get("rows", []):
        w, f = r["webhook_to_first_audio_ms"], r["frame_to_sink_ms"]
        late = r.get("simulator_lateness_ms") or {}
        rows.append(
            [
                _fmt(r["streams"]),
                f"{_fmt(w['p50'])} / {_fmt(w['p99'])} ({w['samples']})",
                f"{_fmt(f['p50'])} / {_fmt(f['p99'])} / {_fmt(f['max'])}",
                _fmt(f["samples"]),
                _fmt(late.get("p99_ms")),
            ]
        )
    header = ["streams", "webhook → first audio p50 / p99 ms (samples)", "frame → sink p50 / p99 / max ms",
              "frames", "simulator lateness p99 ms"]  # fmt: skip
    env = data.get("connector_env") or {}
    listed = ", ".join(f"`{k}={v}`" for k, v in env.items())
    settings = ["", f"Connector settings: {listed}."] if env else []
    return _table(header, rows) + settings + _source(data)


def _clock(data: dict[str, Any]) -> list[str]:
    rows = [
        [
            r["scenario"],
            f"{r['scenario_seconds']:.0f} s",
            _fmt(r["wall_seconds_median"]),
            _fmt(r["wall_seconds_max"]),
            f"{r['speed_up']:.0f}x",
            _fmt(r["keep_alive_requests"]),
            _fmt(r["media_frames"]),
            ("PASS" if r["expectations_met"] and r["wall_seconds_max"] <= r["target_seconds"] else "FAIL")
            if r.get("target_seconds")
            else "(no target)",
        ]
        for r in data.get("rows", [])
    ]
    header = ["scenario", "meeting", "wall s (median)", "wall s (worst)", "speed-up", "keep-alives",
              "media frames", "target ≤ 2 s"]  # fmt: skip
    return _table(header, rows) + _source(data)


def _floor(data: dict[str, Any]) -> list[str]:
    rows = [
        [
            _fmt(p["streams"]),
            _fmt(p["frames"]),
            _fmt(p["user_us_per_frame"]),
            _fmt(p["system_us_per_frame"]),
            _fmt(p["cpu_us_per_frame"]),
            _fmt(p["in_send_us_per_frame"]),
            _fmt(p["cores"], 3),
        ]
        for p in data.get("points", [])
    ]
    header = ["streams", "frames", "user µs/frame", "system µs/frame", "CPU µs/frame", "in send() µs",
              "cores"]  # fmt: skip
    return _table(header, rows) + _source(data)


def _wake_floor(data: dict[str, Any]) -> list[str]:
    rows = [
        [
            p["receiver"],
            _fmt(p["streams"]),
            _fmt(p["messages"]),
            _fmt(p["user_us_per_message"], 1),
            _fmt(p["system_us_per_message"], 1),
            _fmt(p["cpu_us_per_message"], 1),
            ", ".join(_fmt(x, 1) for x in p.get("runs_us_per_message", [])),
            _fmt(p["wakeups_per_message"]),
            _fmt(p["us_per_wakeup"], 1),
        ]
        for p in data.get("points", [])
    ]
    header = ["receiver", "sockets", "messages", "user µs/message", "system µs/message", "CPU µs/message",
              "runs", "wake-ups/message", "µs/wake-up"]  # fmt: skip
    skipped = [f"{k}: not measured ({v})." for k, v in (data.get("skipped") or {}).items()]
    return _table(header, rows) + (["", *skipped] if skipped else []) + _source(data)


def _breakdown(data: dict[str, Any]) -> list[str]:
    rows = [
        [
            _fmt(point["streams"]),
            name,
            _fmt(r["frames"]),
            _fmt(r["user_us"]),
            _fmt(r["system_us"]),
            _fmt(r["cpu_us"]),
            _fmt(r["in_write_us"]),
            _fmt(r["cores_for_1000_streams"]),
            f"`{r['profile']}`" if r.get("profile") else "",
        ]
        for point in data.get("points", [])
        for name, r in point["runs"].items()
    ]
    header = ["streams", "run", "frames", "user µs/frame", "system µs/frame", "CPU µs/frame",
              "in write µs (floor: send())", "cores for 1000 streams", "profile"]  # fmt: skip
    return _table(header, rows) + _source(data)


def _script_gen(data: dict[str, Any]) -> list[str]:
    rows = [
        [
            _fmt(p["duration_s"], 0),
            _fmt(p["utterances"]),
            _fmt(p["fakers_sentence_ms"]),
            _fmt(p["shipped_ms"]),
            _fmt(p["ratio"], 3),
            "yes" if p["same_scripts"] else "NO",
        ]
        for p in data.get("points", [])
    ]
    header = ["meeting s", "utterances", "with Faker's sentence() ms", "shipped ms", "ratio",
              "same scripts"]  # fmt: skip
    return _table(header, rows) + _source(data)


def _steadiness(data: dict[str, Any]) -> list[str]:
    rows = [
        [
            _fmt(c["cpu"]),
            _fmt(c["slices"]),
            _fmt(c["median_per_slice"], 0),
            f"{c['share_under_60pct']:.1%}",
            f"{c['share_under_30pct']:.1%}",
            f"{c['slowest_vs_median']:.1%}",
        ]
        for c in data.get("cpus", [])
    ]
    header = ["CPU", "10 ms slices", "loops per slice (median)", "slices < 60 % of it", "slices < 30 %",
              "slowest slice"]  # fmt: skip
    return _table(header, rows) + _source(data)


def _frame_path(data: dict[str, Any]) -> list[str]:
    per = data.get("us_per_frame", {})
    rows = [
        [name, _fmt(per.get(name), 2), _fmt(per.get(f"{name} (cold caches)"), 2)]
        for name in ("connector", "thin")
    ]
    out = _table(["path", "hot: µs/frame", "cold caches: µs/frame"], rows)
    out += [
        "",
        f"{_fmt(data.get('streams'))} streams, {_fmt(data.get('frames_per_run'))} frames per run, "
        f"medians of {len(data.get('runs', {}).get('connector', []))} runs; connector / thin "
        f"{_fmt(data.get('connector_over_thin'), 2)} hot, {_fmt(data.get('connector_over_thin_cold'), 2)} "
        "with cold caches.",
    ]
    ablations = data.get("ablations") or {}
    if ablations:
        out += [""]
        out += _table(
            ["the connector's path, taken apart (`--ablate`)", "hot: µs/frame", "cold caches: µs/frame"],
            ([name, _fmt(v.get("hot"), 2), _fmt(v.get("cold"), 2)] for name, v in ablations.items()),
        )
    return out + _source(data)


SECTIONS: list[tuple[str, str, Callable[[dict[str, Any]], list[str]]]] = [
    ("sim_capacity", "Simulator capacity (after)", _capacity),
    ("sim_capacity_before", "Simulator capacity (before the changes)", _capacity),
    (
        "sim_capacity_xeon",
        "Simulator capacity on a second machine (scripts generated off the loop)",
        _capacity,
    ),
    (
        "sim_capacity_xeon_before",
        "Simulator capacity on the second machine (before: scripts on the loop)",
        _capacity,
    ),
    ("script_gen", "Second machine: generating an hour-long script (bench/script_gen.py)", _script_gen),
    (
        "cpu_steadiness",
        "Second machine's CPUs: a fixed loop per 10 ms (bench/cpu_steadiness.py)",
        _steadiness,
    ),
    ("sim_breakdown", "Simulator: where the CPU per frame goes (bench/sim_breakdown.py)", _breakdown),
    ("sim_breakdown_xeon", "Second machine: the CPU per frame, and the frame path flattened", _breakdown),
    ("send_floor", "Send floor: a bare Python sender on plain sockets (bench/send_floor.py)", _floor),
    (
        "wake_floor",
        "Second machine: the wake floor, reading frames and nothing else (bench/wake_floor.py)",
        _wake_floor,
    ),
    (
        "connector_inline_xeon",
        "Second machine: the connector, the connector reading media in its selector (experiment), the SDK",
        _versus,
    ),
    ("connector_vs_sdk", "Connector against Zoom's official SDK (after)", _versus),
    (
        "connector_vs_sdk_rounds",
        "Second machine: connector, thin consumer and SDK as shipped, three alternated rounds",
        _versus,
    ),
    (
        "connector_vs_sdk_rounds_poll10",
        "Second machine: the same, all three polling every 10 ms (the SDK's latency bound)",
        _versus,
    ),
    ("connector_vs_sdk_1000", "Second machine: connector and SDK at 1000 streams", _versus),
    (
        "connector_vs_sdk_poll10_short_path",
        "Connector against the SDK, both polling every 10 ms (the SDK's latency bound)",
        _versus,
    ),
    (
        "connector_vs_sdk_no_short_path",
        "Connector against the SDK before the audio short path, to 1000 streams",
        _versus,
    ),
    (
        "connector_vs_sdk_poll10",
        "Before the audio short path: connector against the SDK, both polling every 10 ms",
        _versus,
    ),
    (
        "connector_vs_sdk_poll2",
        "Before the audio short path: connector against the SDK, both polling every 2 ms",
        _versus,
    ),
    ("frame_path", "A frame's Python work, hot and with cold caches (bench/frame_path.py)", _frame_path),
    ("frame_path_before", "A frame's Python work before the audio short path", _frame_path),
    ("frame_path_xeon", "Second machine: a frame's Python work, hot and with cold caches", _frame_path),
    ("connector_vs_sdk_before", "Connector against Zoom's official SDK (before the changes)", _versus),
    ("latency", "Latency (after)", _latency),
    ("latency_before", "Latency (before the changes)", _latency),
    ("latency_xeon", "Second machine: latency as shipped", _latency),
    ("latency_xeon_poll10", "Second machine: latency with the SDK's 10 ms poll interval", _latency),
    ("scenario_clock", "Scenario clock (after)", _clock),
    ("scenario_clock_before", "Scenario clock (before the changes)", _clock),
]


def render() -> str:
    out: list[str] = []
    for name, title, fn in SECTIONS:
        data = _load(name)
        out += [f"#### {title}", ""]
        out += fn(data) if data else [f"_No results yet: run the benchmark (`bench/{name}.json`)._", ""]
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    page = PAGE.read_text()
    if START not in page or END not in page:
        print(f"{PAGE} has no {START} … {END} markers", file=sys.stderr)
        return 2
    head, rest = page.split(START, 1)
    _, tail = rest.split(END, 1)
    PAGE.write_text(f"{head}{START}\n\n{render()}\n{END}{tail}")
    print(f"updated {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
