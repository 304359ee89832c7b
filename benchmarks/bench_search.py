"""Speed of `sepcalc search grid`: 10,000 configurations of MobileNetV2 on one core.

    python benchmarks/bench_search.py [--runs 3]

Target (reported, not asserted): a 100 x 100 width x resolution grid of MobileNetV2 in under
2 s. Reports the factorized evaluation (graphs along each axis, products per point), the cost of
one full graph build (what building every point would cost), and the end-to-end CLI run.
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

from sepcalc.search import Evaluator, Limit, grid_search, parse_axis  # noqa: E402
from sepcalc.spec import load_spec  # noqa: E402

SPEC = ROOT / "examples" / "mobilenet_v2.yaml"
AXES = ("alpha=0.35:1.34:0.01", "resolution=96:294:2")  # 100 x 100 = 10,000 points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    axes = [parse_axis(a) for a in AXES]
    budgets = [Limit("macs", 300_000_000), Limit("params", 3_000_000)]

    times, builds = [], 0
    for _ in range(args.runs):
        evaluator = Evaluator(load_spec(SPEC))
        start = time.perf_counter()
        result = grid_search(evaluator, axes, budgets)
        times.append(time.perf_counter() - start)
        builds = result.builds
    n = len(result.points)
    fast = statistics.median(times)

    evaluator = Evaluator(load_spec(SPEC))
    sample = result.points[:: max(1, n // 200)]
    start = time.perf_counter()
    for point in sample:
        evaluator.totals(point)
    per_build = (time.perf_counter() - start) / len(sample)

    cli = [sys.executable, "-m", "sepcalc", "search", "grid", str(SPEC)]
    cli += [arg for a in AXES for arg in ("--var", a)] + ["--max-macs", "300M", "-f", "csv"]
    start = time.perf_counter()
    subprocess.run(cli, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    end_to_end = time.perf_counter() - start

    report = [
        f"MobileNetV2, {n:,} configurations ({' x '.join(AXES)})",
        f"  factorized grid_search: {fast:.3f} s ({result.method}, {builds} graph builds, "
        f"{sum(result.within):,} within budget, front of {len(result.front)})",
        f"  one full graph build:   {per_build * 1000:.2f} ms -> every point built: "
        f"{per_build * n:.1f} s",
        f"  CLI end to end (csv):   {end_to_end:.2f} s",
        f"  target < 2 s: {'met' if fast < 2 else 'MISSED'}",
    ]
    print("\n".join(report))


if __name__ == "__main__":
    main()
