"""Speed of `sepcalc space` on the OFA MobileNetV3 space, and how it grows with the space.

    python benchmarks/bench_space.py [--runs 3] [--skip-growth]

Targets of issue 11 (reported, not asserted; each line shows its own): on the OFA space, the
exact count within one MAC budget under 5 s; the exact two-metric Pareto front under 3 s; a
binned distribution under 0.2 s; 500 uniform samples within a budget under 1 s; memory under
1 GiB. Every figure is a median of ``--runs`` runs from a fresh decomposition (nothing memoized
between runs), and the peak resident memory of the process is reported at the end.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sepcalc.search.decompose import Decomposition  # noqa: E402
from sepcalc.search.exact import Bound  # noqa: E402
from sepcalc.search.space import Space, load_space, space_from_data  # noqa: E402
from sepcalc.search.spaces import (  # noqa: E402
    count_space,
    distribution,
    pareto,
    sample,
)
from sepcalc.spec.loader import parse_yaml  # noqa: E402

OFA = ROOT / "examples" / "spaces" / "ofa_mobilenet_v3.yaml"
BUDGET = [Bound("macs", high=300_000_000)]


def timed(runs: int, job: Callable[[Decomposition], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        dec = Decomposition(load_space(OFA))
        start = time.perf_counter()
        result = job(dec)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def line(label: str, seconds: float, target: float | None, result: str) -> None:
    goal = f"< {target:g} s" if target is not None else ""
    print(f"  {label:36} {seconds:7.3f} s  {goal:8}  {result}")


def ofa(runs: int) -> None:
    print("OFA MobileNetV3 at 224 (21,758,655,492,572,485,851 sub-networks)")
    print(f"  {'':36} {'time':>9}  {'target':8}  answer")
    t, r = timed(runs, count_space)
    line("count (no bound)", t, None, f"{r.assignments:,}")
    t, r = timed(runs, lambda d: count_space(d, BUDGET))
    line("count within 300M MACs", t, 5, f"{r.within:,} ({r.method})")
    t, r = timed(runs, lambda d: count_space(d, [Bound("params", high=5_000_000)]))
    line("count within 5M params", t, None, f"{r.within:,} ({r.method})")
    t, r = timed(runs, lambda d: pareto(d, [("macs", -1), ("params", 1)]))
    line("Pareto front min:macs,max:params", t, 3, f"{len(r.points):,} points")
    t, r = timed(runs, lambda d: pareto(d, [("macs", -1), ("params", 1)], BUDGET))
    line("front within 300M MACs", t, None, f"{len(r.points):,} points")
    t, r = timed(runs, lambda d: sample(d, 500, 1, BUDGET))
    line("500 uniform samples, 300M MACs", t, 1, f"{r.draws:,} draws ({r.method})")
    t, r = timed(runs, lambda d: sample(d, 500, 1, BUDGET, "choices"))
    line("500 OFA-sampler samples, 300M", t, None, f"{r.draws:,} draws")
    t, r = timed(runs, lambda d: distribution(d, "params", bins=20))
    line("params distribution, 20 bins", t, 0.2, f"({r.parts[0].method})")
    t, r = timed(runs, lambda d: distribution(d, "macs", bins=20))
    line("MACs distribution, 20 bins", t, 0.2, f"({r.parts[0].method})")


def synthetic(stages: int, choices: int, depth: int) -> str:
    """A chain of ``stages`` MBConv-like stages, each with depth 1..``depth`` and ``choices``
    kernel sizes per block."""
    kernels = ", ".join(str(2 * k + 1) for k in range(choices))
    lines = [
        "name: growth",
        "input: {channels: 3, size: 64}",
        "blocks:",
        "  b:",
        "    params: {out: null, k: 3, s: 1}",
        "    layers:",
        "      - {kind: pointwise, out: 'in_channels * 4', norm: batchnorm, act: relu}",
        "      - {kind: depthwise, kernel: k, stride: s, norm: batchnorm, act: relu}",
        "      - {kind: pointwise, out: out, norm: batchnorm}",
        "layers:",
        "  - {kind: conv, out: 16, kernel: 3, stride: 2}",
    ]
    for n in range(stages):
        lines.append(
            f"  - {{block: b, name: s{n}, out: {16 + 8 * n}, "
            f"s: '2 if i == 0 and {n} % 2 == 0 else 1', "
            f"repeat: {{choice: {list(range(1, depth + 1))}}}, k: {{choice: [{kernels}]}}}}"
        )
    return "\n".join(lines) + "\n"


def growth() -> None:
    print(
        "growth: exact count within the mean MAC total, the front (min MACs, max params), "
        "20 bins of MACs, 500 uniform samples within the mean"
    )
    print(
        "  stages  choices  depth            space  count (s)  front (s)  bins (s)  "
        "sample (s)  front points"
    )
    for stages, choices, depth in (
        (2, 3, 3), (4, 3, 3), (6, 3, 3), (8, 3, 3), (4, 5, 3), (4, 7, 3), (4, 3, 5), (4, 3, 7),
    ):  # fmt: skip
        data, locator = parse_yaml(synthetic(stages, choices, depth), "growth.yaml")
        space = space_from_data(data, locator)
        dec = Decomposition(space)
        total = count_space(dec).assignments
        mean = [Bound("macs", high=distribution_mean(dec))]
        counted = once(space, count_space, mean)
        fronted = once(space, pareto, [("macs", -1), ("params", 1)])
        binned = once(space, distribution, "macs", 20)
        sampled = once(space, sample, 500, 1, mean)
        print(
            f"  {stages:6}  {choices:7}  {depth:5}  {total:15.3e}  {counted[0]:9.3f}  "
            f"{fronted[0]:9.3f}  {binned[0]:8.3f}  {sampled[0]:10.3f}  {len(fronted[1].points):12,}"
        )


def once(space: Space, job: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """(seconds, result) of one run of ``job(decomposition, *args)`` on a fresh decomposition
    of ``space``."""
    dec = Decomposition(space)
    start = time.perf_counter()
    result = job(dec, *args)
    return time.perf_counter() - start, result


def distribution_mean(dec: Decomposition) -> int:
    from sepcalc.search.exact import MomentAlgebra, Program

    value = Program(dec, MomentAlgebra()).total()
    assert value is not None
    count, sums = value
    return int(sums[0] // count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-growth", action="store_true")
    args = parser.parse_args()
    ofa(args.runs)
    if not args.skip_growth:
        growth()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:,.0f} MiB (target < 1 GiB)")


if __name__ == "__main__":
    main()
