"""Cold-process time of `sepcalc analyze` against the import floor, and scaling with spec size.

    python benchmarks/bench_analyze.py [--runs 7]

Targets (reported, not asserted): analyze of MobileNetV1 within 1.3x of the time it takes just
to import the runtime dependencies; a 10,000-layer spec in under 1 s, growing linearly.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sepcalc.spec.loader import MAX_SPEC_BYTES  # noqa: E402

FLOOR = "import typer, rich.console, rich.table, yaml; from pydantic import BaseModel"


def cold(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def generated_spec(n_layers: int) -> str:
    """A chain of n layers: separable blocks with residual adds, cycling through kinds."""
    lines = ["name: generated", "input: {channels: 32, size: 56}", "layers:"]
    kinds = [
        "{kind: separable, out: 32, norm: batchnorm, act: relu6}",
        "{kind: conv, out: 32, kernel: 3, norm: batchnorm, act: relu}",
        "{kind: pointwise, out: 32}",
        "{kind: add, inputs: [input, PREV]}",
    ]
    for i in range(n_layers):
        layer = kinds[i % len(kinds)].replace("PREV", f"l{i - 1}")
        lines.append(f"  - {layer[:-1]}, name: l{i}}}")
    return "\n".join(lines) + "\n"


def repeated_spec(n_layers: int) -> str:
    """n layers from a 4-layer residual block repeated n/4 times: graph-bound, not parse-bound."""
    return (
        "name: repeated\ninput: {channels: 32, size: 56}\n"
        "blocks:\n  unit:\n    layers:\n"
        "      - {kind: separable, out: 32, norm: batchnorm, act: relu6}\n"
        "      - {kind: conv, out: 32, kernel: 3, norm: batchnorm, act: relu}\n"
        "      - {kind: pointwise, name: pw, out: 32}\n"
        "      - {kind: add, inputs: [input, pw]}\n"
        f"layers:\n  - {{block: unit, repeat: {n_layers // 4}}}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    python = sys.executable

    floor = cold([python, "-c", FLOOR], runs)
    analyze = cold([python, "-m", "sepcalc", "analyze", "examples/mobilenet_v1.yaml"], runs)
    as_json = cold(
        [python, "-m", "sepcalc", "analyze", "examples/mobilenet_v1.yaml", "-f", "json"], runs
    )
    print(f"import floor ({FLOOR}): {floor * 1000:.0f} ms (median of {runs})")
    print(f"sepcalc analyze mobilenet_v1 (table): {analyze * 1000:.0f} ms = {analyze / floor:.2f}x")
    print(f"sepcalc analyze mobilenet_v1 (json):  {as_json * 1000:.0f} ms = {as_json / floor:.2f}x")

    with tempfile.TemporaryDirectory() as tmp:
        for label, make in (("repeat", repeated_spec), ("literal", generated_spec)):
            for n in (2_500, 5_000, 10_000, 20_000):
                spec = Path(tmp) / f"{label}{n}.yaml"
                spec.write_text(make(n))
                if spec.stat().st_size > MAX_SPEC_BYTES:
                    print(f"{n:>6} layers ({label:>7}): over the {MAX_SPEC_BYTES:,}-byte limit")
                    continue
                t = cold([python, "-m", "sepcalc", "analyze", str(spec), "-f", "json"], 3)
                per_layer = (t - as_json) / n * 1e6
                print(
                    f"{n:>6} layers ({label:>7}), cold analyze -f json: {t * 1000:5.0f} ms "
                    f"({per_layer:.0f} us/layer above MobileNetV1)"
                )


if __name__ == "__main__":
    main()
