"""Speed of `sepcalc search grid`: 10,000 configurations of MobileNetV2 and of V1 on one core.

    python benchmarks/bench_search.py [--runs 3] [--exact-sample 200]

Target (reported, not asserted): a 100 x 100 width x resolution grid of each in under 1 s.
Reports, per network, the replayed grid (one graph per width, replayed at every resolution;
every count exact), what building every point would take (from the cost of one full build on a
sample of the points, checked equal to the replay there), and the end-to-end CLI run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sepcalc.cli.options import parse_axis  # noqa: E402
from sepcalc.search import Evaluator, Limit, grid_search  # noqa: E402
from sepcalc.spec import load_spec  # noqa: E402

SPECS = ("mobilenet_v2", "mobilenet_v1")
AXES = ("alpha=0.35:1.34:0.01", "resolution=96:294:2")  # 100 x 100 = 10,000 points
TARGET = 1
"""Seconds for grid_search on each network (issue 11)."""


def bench(name: str, runs: int, sample_size: int) -> list[str]:
    spec = ROOT / "examples" / f"{name}.yaml"
    axes = [parse_axis(a) for a in AXES]
    budgets = [Limit("macs", 300_000_000), Limit("params", 3_000_000)]
    times = []
    for _ in range(runs):
        evaluator = Evaluator(load_spec(spec))
        start = time.perf_counter()
        result = grid_search(evaluator, axes, budgets)
        times.append(time.perf_counter() - start)
    n = len(result.points)
    replayed = statistics.median(times)

    evaluator = Evaluator(load_spec(spec))
    step = max(1, n // sample_size)
    sample = range(0, n, step)
    start = time.perf_counter()
    for i in sample:
        assert evaluator.totals(result.points[i]) == result.totals[i], result.points[i]
    per_build = (time.perf_counter() - start) / len(sample)

    cli = [sys.executable, "-m", "sepcalc", "search", "grid", str(spec)]
    cli += [arg for a in AXES for arg in ("--var", a)] + ["--max-macs", "300M", "-f", "csv"]
    start = time.perf_counter()
    subprocess.run(cli, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    end_to_end = time.perf_counter() - start
    return [
        f"{name}, {n:,} configurations ({' x '.join(AXES)})",
        f"  grid_search:          {replayed:.3f} s (median of {runs}; {result.method}, "
        f"{result.builds} graph builds, {sum(result.within):,} within budget, front of "
        f"{len(result.front)})",
        f"  one full graph build: {per_build * 1000:.2f} ms -> every point built: "
        f"{per_build * n:.1f} s ({len(sample)} points built, equal to the replay)",
        f"  CLI end to end (csv): {end_to_end:.2f} s",
        f"  target < {TARGET} s:         {'met' if replayed < TARGET else 'MISSED'}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--exact-sample", type=int, default=200)
    args = parser.parse_args()
    for name in SPECS:
        print("\n".join(bench(name, args.runs, args.exact_sample)))


if __name__ == "__main__":
    main()
