"""Validate the roofline on this CPU: measured vs estimated per-layer time of MobileNetV2.

    python benchmarks/bench_device.py [--spec examples/mobilenet_v2.yaml] [--runs 30]
                                      [--threads 1] [--device-file OUT.yaml]

Needs the torch extra. Steps:
1. calibrate a device file for this CPU from two micro-benchmarks: peak FLOP/s from a large
   fp32 matmul, bandwidth from a large copy (read + write bytes);
2. export the spec with ``sepcalc export torch``, run it in eval mode, and time every layer (a
   forward pre-hook and hook on each layer's module; median over runs);
3. estimate every layer's time with sepcalc's roofline on the calibrated device;
4. report the Spearman rank correlation between estimated and measured per-layer times, and the
   depthwise share of MACs, of estimated time and of measured time.

A benchmark, not a test: the numbers depend on the machine and its load (reported, not asserted).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import torch

from sepcalc.device import Precision, parse_device, roofline
from sepcalc.graph import build_graph
from sepcalc.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent


def median_time(fn: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def calibrate(runs: int) -> tuple[float, float]:
    """(FLOP/s of a 2048^3 fp32 matmul, bytes/s of a 256 MiB copy: read + write)."""
    n = 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm up
    matmul = median_time(lambda: a @ b, max(5, runs // 3))
    flops = 2 * n**3 / matmul
    src = torch.randn(64 * 2**20)  # 256 MiB of fp32
    dst = torch.empty_like(src)
    dst.copy_(src)
    copy = median_time(lambda: dst.copy_(src), max(5, runs // 3))
    bandwidth = 2 * src.numel() * 4 / copy
    return flops, bandwidth


def device_yaml(flops: float, bandwidth: float) -> str:
    cpu = "this CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f'name: this-cpu\ntitle: "{cpu}, {torch.get_num_threads()} thread(s)"\n'
        f'peak:\n  fp32: {{dense: {flops / 1e9:.3f}G, source: "measured: median of a 2048^3 '
        f'fp32 matmul (torch {torch.__version__})"}}\n'
        f'bandwidth: {{value: {bandwidth / 1e9:.3f}G, source: "measured: median of a 256 MiB '
        f'fp32 copy, read + write bytes"}}\n'
    )


def load_module(path: Path) -> torch.nn.Module:
    spec = importlib.util.spec_from_file_location("exported", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    modules = [v for v in vars(module).values() if isinstance(v, type)]
    classes = [v for v in modules if issubclass(v, torch.nn.Module) and v.__doc__ is None]
    net: torch.nn.Module = classes[-1]()
    return net.eval()


def measure(
    net: torch.nn.Module, names: list[str], shape: tuple[int, ...], runs: int
) -> dict[str, float]:
    """Median time of each layer's module inside the whole forward pass."""
    samples: dict[str, list[float]] = {n: [] for n in names}
    starts: dict[str, float] = {}
    for name in names:
        module = getattr(net, name.replace(".", "_"))
        module.register_forward_pre_hook(
            lambda m, a, n=name: starts.__setitem__(n, time.perf_counter())
        )
        module.register_forward_hook(
            lambda m, a, o, n=name: samples[n].append(time.perf_counter() - starts[n])
        )
    x = torch.randn(1, *shape)
    with torch.inference_mode():
        for _ in range(3):
            net(x)
        for values in samples.values():
            values.clear()
        for _ in range(runs):
            net(x)
    return {n: statistics.median(v) for n, v in samples.items()}


def ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    result = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            result[order[k]] = (i + j) / 2
        i = j + 1
    return result


def spearman(a: list[float], b: list[float]) -> float:
    ra, rb = ranks(a), ranks(b)
    ma, mb = statistics.fmean(ra), statistics.fmean(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    var = (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5
    return cov / var


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="examples/mobilenet_v2.yaml")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device-file", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    spec = ROOT / args.spec

    flops, bandwidth = calibrate(args.runs)
    text = device_yaml(flops, bandwidth)
    if args.device_file:
        args.device_file.write_text(text)
    device = parse_device(text, "<calibrated>")
    print(f"calibrated: peak {flops / 1e9:.1f} GFLOP/s (fp32 matmul), bandwidth "
          f"{bandwidth / 1e9:.2f} GB/s (copy), ridge {flops / bandwidth:.2f} FLOP/B, "
          f"{args.threads} thread(s)")  # fmt: skip

    graph = build_graph(load_spec(spec))
    estimate = roofline(graph, device, Precision())
    with tempfile.TemporaryDirectory() as tmp:
        exported = Path(tmp) / "net.py"
        exported.write_text(subprocess.run(
            [sys.executable, "-m", "sepcalc", "export", "torch", str(spec)],
            check=True, capture_output=True, text=True).stdout)  # fmt: skip
        net = load_module(exported)
    names = [n.name for n in graph.nodes]
    measured = measure(net, names, graph.input_shape, args.runs)

    timed = [(n, t) for n, t in zip(graph.nodes, estimate.layers, strict=True) if t.time > 0]
    est = [float(t.time) for _, t in timed]
    real = [measured[n.name] for n, _ in timed]
    rho = spearman(est, real)
    total_macs = sum(n.cost.macs for n in graph.nodes)
    est_total, real_total = sum(est), sum(real)

    def share(kind: str) -> tuple[float, float, float]:
        macs = sum(n.cost.macs for n in graph.nodes if n.kind == kind) / total_macs
        e = sum(float(t.time) for n, t in timed if n.kind == kind) / est_total
        r = sum(measured[n.name] for n, _ in timed if n.kind == kind) / real_total
        return macs, e, r

    print(f"{graph.name}: {len(timed)} layers timed, {args.runs} runs")
    print(f"total: estimated {est_total * 1e3:.3f} ms (ideal roofline), measured "
          f"{real_total * 1e3:.3f} ms (sum of layer medians): efficiency "
          f"{est_total / real_total:.3f}")  # fmt: skip
    print(f"Spearman rank correlation, estimated vs measured per-layer time: {rho:.3f}")
    print(f"{'kind':<16}{'% MACs':>9}{'% est. time':>13}{'% meas. time':>14}{'bound (est.)':>14}")
    for kind in dict.fromkeys(n.kind for n, _ in timed):
        macs, e, r = share(kind)
        bound = Fraction(sum(t.bound == "memory" for n, t in timed if n.kind == kind))
        count = sum(1 for n, _ in timed if n.kind == kind)
        print(f"{kind:<16}{macs:>9.1%}{e:>13.1%}{r:>14.1%}{f'{bound}/{count} mem':>14}")
    print("\nper layer (ms): name, kind, estimated, measured, measured/estimated")
    for (n, t), r in zip(timed, real, strict=True):
        print(f"  {n.name:<34}{n.kind:<12}{float(t.time) * 1e3:9.4f}{r * 1e3:9.4f}"
              f"{r / float(t.time):8.1f}x  {t.bound}")  # fmt: skip


if __name__ == "__main__":
    main()
