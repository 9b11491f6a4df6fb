"""Script generation: what creating a stream costs the loop that paces every other stream.

``POST /_sim/streams`` generates the stream's meeting script (simulator/speech.py): fake
names and one sentence per utterance, a thousand sentences for an hour-long meeting. While
it ran on the event loop, every stream the simulator was pacing waited for it. This
benchmark times ``generate_script`` as shipped against the same generation with Faker's own
``sentence()`` per utterance (the code before the change), side by side in one process, on
the same seeds, and checks that both give the same script.

    python bench/script_gen.py [--durations 20,300,3600] [--seeds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import pin, write_result
from faker import Faker

from simulator import speech


def _fakers_own(fake: Faker) -> Callable[[int], str]:
    return lambda n: str(fake.sentence(nb_words=n))


def _timed(
    duration: float, seeds: int, sentences: Callable[[Faker], Callable[[int], str]]
) -> tuple[list[float], list[Any]]:
    shipped = speech._sentences
    speech._sentences = sentences  # type: ignore[assignment]
    try:
        times, scripts = [], []
        for seed in range(seeds):
            started = time.perf_counter()
            scripts.append(speech.generate_script(seed=seed, duration=duration))
            times.append(time.perf_counter() - started)
        return times, scripts
    finally:
        speech._sentences = shipped  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--durations", default="20,300,3600", help="meeting lengths in seconds, comma-separated"
    )
    parser.add_argument("--seeds", type=int, default=20, help="scripts generated per length and variant")
    args = parser.parse_args(argv)
    pin(0, 0)  # CPU 0, as the simulator in the capacity benchmark
    speech.generate_script(seed=0, duration=20.0)  # Faker's locale data loaded once, as in a server
    rows = []
    print("script length  utterances  Faker's sentence ms  shipped ms  ratio  same scripts")
    for duration in (float(d) for d in args.durations.split(",")):
        # alternated, so drift on the machine touches both alike
        before_times: list[float] = []
        after_times: list[float] = []
        same = True
        for _ in range(2):
            b_times, b_scripts = _timed(duration, args.seeds, _fakers_own)
            a_times, a_scripts = _timed(duration, args.seeds, speech._sentences)
            before_times += b_times
            after_times += a_times
            same = same and b_scripts == a_scripts
        before_ms = statistics.median(before_times) * 1000
        after_ms = statistics.median(after_times) * 1000
        utterances = len(speech.generate_script(seed=0, duration=duration).utterances)
        rows.append(
            {
                "duration_s": duration,
                "utterances": utterances,
                "fakers_sentence_ms": round(before_ms, 2),
                "shipped_ms": round(after_ms, 2),
                "ratio": round(after_ms / before_ms, 3),
                "same_scripts": same,
            }
        )
        print(
            f"{duration:>11.0f} s {utterances:>11} {before_ms:>20.2f} {after_ms:>11.2f}"
            f" {after_ms / before_ms:>6.2f}  {'yes' if same else 'NO'}"
        )
    path = write_result("script_gen", {"seeds": args.seeds, "points": rows})
    print(f"wrote {path}")
    return 0 if all(r["same_scripts"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
