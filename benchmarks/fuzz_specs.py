"""Fuzz sepcalc with malformed specs: the written corpus, then generated mutations.

    python benchmarks/fuzz_specs.py [--runs 4500] [--seed 0] [--limit 10]

Each run writes one spec and runs one command on it in-process (tests/fuzzing.py says which
and what must hold: exit 0/1/2, no internal error or traceback, every diagnostic located and
in the spec's words, within --limit seconds). Prints the failures grouped by class, the exit
codes, and the time per run (median, 99th percentile, slowest).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fuzzing import COMMANDS, CORPUS, base_specs, mutated, run


def _class(problem: str) -> str:
    """A failure's class: its kind and its message with the numbers and names taken out."""
    text = re.sub(r"'[^']*'", "'…'", problem)
    text = re.sub(r"\d+", "N", text)
    return text[:120]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4500, help="generated runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=float, default=10.0, help="seconds a run may take")
    args = parser.parse_args()
    failures: dict[str, list[str]] = defaultdict(list)
    codes: Counter[int] = Counter()
    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        written = Path(tmp) / "corpus.yaml"
        for name, text in CORPUS.items():
            written.write_bytes(text.encode())
            for command in COMMANDS[:1]:  # analyze
                outcome = run(written, command, args.limit)
                codes[outcome.exit_code] += 1
                times.append(outcome.seconds)
                for p in outcome.problems:
                    failures[_class(p)].append(f"corpus {name} ({' '.join(command)}): {p}")
        rng = random.Random(args.seed)
        bases = base_specs()
        spec = Path(tmp) / "fuzz.yaml"
        for i in range(args.runs):
            spec.write_bytes(mutated(rng, bases).encode())
            command = rng.choice(COMMANDS)
            outcome = run(spec, command, args.limit)
            codes[outcome.exit_code] += 1
            times.append(outcome.seconds)
            for p in outcome.problems:
                kept = Path(tmp).parent / f"sepcalc-fuzz-{args.seed}-{i}.yaml"
                kept.write_bytes(spec.read_bytes())
                failures[_class(p)].append(f"run {i} ({' '.join(command)}, {kept}): {p}")
    total = len(CORPUS) + args.runs
    print(f"{len(CORPUS)} written specs + {args.runs} generated runs (seed {args.seed})")
    print("exit codes: " + ", ".join(f"{c}: {n}" for c, n in sorted(codes.items())))
    times.sort()
    print(
        f"time per run: median {statistics.median(times) * 1000:.0f} ms, 99th percentile "
        f"{times[int(0.99 * (len(times) - 1))] * 1000:.0f} ms, slowest {times[-1]:.2f} s"
    )
    print(f"failures: {sum(len(v) for v in failures.values())} in {total} runs")
    for cls, cases in sorted(failures.items(), key=lambda kv: -len(kv[1])):
        print(f"\n{len(cases)} x {cls}")
        for case in cases[:3]:
            print(f"    {case[:300]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
