"""Cold-process time of `sepcalc analyze` against the import floor, and scaling with spec size.

    python benchmarks/bench_analyze.py [--runs 7]

Targets (reported, not asserted): analyze of MobileNetV1 within 1.3x of the time it takes just
to import the runtime dependencies; a 10,000-layer spec in under 1 s, growing linearly; the
table of a 5,000-layer spec within 2x of its CSV (measured 5.6 s vs 1.5 s before the table was
printed by FastTable, sepcalc/cli/tables.py; 2.5 s vs 1.6 s after).

sepcalc is measured as a user runs it: a regular (not editable) install with compiled bytecode,
made for the run in a temporary environment that borrows this interpreter's dependencies, and
run outside the checkout (so neither the checkout nor an editable install's finder is on the
import path).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sepcalc.spec.loader import MAX_SPEC_BYTES  # noqa: E402

FLOOR = "import typer, rich.console, rich.table, yaml; from pydantic import BaseModel"


def cold(args: list[str], runs: int, cwd: Path) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def installed(where: Path) -> str:
    """A Python with sepcalc installed regularly (pip, bytecode compiled) in ``where`` and this
    interpreter's packages (typer, rich, ...) behind it; its path."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = str(where / "bin" / "python")
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    ours = sysconfig.get_paths()["purelib"]
    # A path line in a .pth file: its own .pth files (an editable install's finder) are not run.
    (Path(site) / "dependencies.pth").write_text(ours + "\n")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", site]
    if subprocess.run([*pip, "--no-build-isolation", str(ROOT)]).returncode:
        subprocess.run([*pip, str(ROOT)], check=True)  # an older setuptools here: isolated
    return python


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

    with tempfile.TemporaryDirectory() as tmp:
        python = installed(Path(tmp) / "venv")
        run(python, runs, Path(tmp))


def run(python: str, runs: int, tmp: Path) -> None:
    spec = tmp / "mobilenet_v1.yaml"
    spec.write_text((ROOT / "examples" / "mobilenet_v1.yaml").read_text())
    floor = cold([python, "-c", FLOOR], runs, tmp)
    analyze = cold([python, "-m", "sepcalc", "analyze", spec.name], runs, tmp)
    as_json = cold([python, "-m", "sepcalc", "analyze", spec.name, "-f", "json"], runs, tmp)
    print(f"regular install: {python}")
    print(f"import floor ({FLOOR}): {floor * 1000:.0f} ms (median of {runs})")
    print(f"sepcalc analyze mobilenet_v1 (table): {analyze * 1000:.0f} ms = {analyze / floor:.2f}x")
    print(f"sepcalc analyze mobilenet_v1 (json):  {as_json * 1000:.0f} ms = {as_json / floor:.2f}x")

    for label, make in (("repeat", repeated_spec), ("literal", generated_spec)):
        for n in (2_500, 5_000, 10_000, 20_000):
            spec = tmp / f"{label}{n}.yaml"
            spec.write_text(make(n))
            if spec.stat().st_size > MAX_SPEC_BYTES:
                print(f"{n:>6} layers ({label:>7}): over the {MAX_SPEC_BYTES:,}-byte limit")
                continue
            t = cold([python, "-m", "sepcalc", "analyze", str(spec), "-f", "json"], 3, tmp)
            per_layer = (t - as_json) / n * 1e6
            print(
                f"{n:>6} layers ({label:>7}), cold analyze -f json: {t * 1000:5.0f} ms "
                f"({per_layer:.0f} us/layer above MobileNetV1)"
            )

    spec = tmp / "table5000.yaml"
    spec.write_text(generated_spec(5_000))
    formats = {"table": [], "csv": ["-f", "csv"], "json": ["-f", "json"]}
    took = {f: cold([python, "-m", "sepcalc", "analyze", str(spec), *a], 3, tmp)
            for f, a in formats.items()}  # fmt: skip
    print(
        "  5000 layers (literal), cold analyze: "
        + ", ".join(f"{f} {t * 1000:.0f} ms" for f, t in took.items())
        + f"; table / csv = {took['table'] / took['csv']:.2f}x (target: under 2x)"
    )


if __name__ == "__main__":
    main()
