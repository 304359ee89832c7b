"""The device section of a report: bytes moved per layer, peak memory, flash and, on a device,
roofline times and the share of MACs next to the share of time, per layer kind.

Numbers are exact in the core (bytes as ints, seconds as Fractions); here they are rounded for
display only. The JSON keeps times exact as fractions of a second (``"num/den"`` strings) next to
a float for convenience (a string in scientific notation past a float's range: a float must
never overflow on a count).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sepcalc.device import CONVENTIONS, DeviceAnalysis
from sepcalc.device.roofline import LayerTime, Roofline, shares
from sepcalc.device.units import duration as duration  # re-exported for the renderers
from sepcalc.device.units import size as size
from sepcalc.report.fitting import add_column
from sepcalc.report.numbers import approximate, fixed, share, si


def _intensity(t: LayerTime) -> str:
    value = t.intensity
    return "" if value is None else fixed(value, 2)


def _heading(analysis: DeviceAnalysis) -> str:
    m, r = analysis.memory, analysis.roofline
    where = f" on {r.device.title}" if r is not None else ""
    return f"Device{where}: {m.precision}, batch {m.batch}, peak memory convention '{m.convention}'"


def render_device(analysis: DeviceAnalysis, *, layers: bool = True) -> RenderableType:
    """The device section of the terminal report."""
    m, r = analysis.memory, analysis.roofline
    parts: list[RenderableType] = [Text(_heading(analysis), style="bold"), Text()]
    if layers:
        table = Table(title="Bytes per layer", title_justify="left", header_style="bold",
                      box=None, pad_edge=False)  # fmt: skip
        headers = ["layer", "kind", "read", "weights", "written", "MAC elems", "live"]
        if r is not None:
            headers += ["FLOP/B", "time", "bound"]
        drops = {"MAC elems": 4, "FLOP/B": 3, "weights": 2, "read": 1}
        for h in headers:
            justify = "left" if h in ("layer", "kind", "bound") else "right"
            add_column(table, h, justify=justify, whole=h != "layer", drop=drops.get(h, 0))
        times = r.layers if r is not None else [None] * len(m.layers)
        for layer, t in zip(m.layers, times, strict=True):
            live = si(layer.live) + ("*" if layer.in_place else "")
            row = [layer.name, layer.kind, si(layer.read), si(layer.weights), si(layer.written),
                   si(layer.accesses), live]  # fmt: skip
            if t is not None:
                row += [_intensity(t), duration(t.time), t.bound]
            table.add_row(*row)
        parts += [table, Text()]
    summary = Table(title="Memory", title_justify="left", header_style="bold", box=None,
                    pad_edge=False, show_header=False)  # fmt: skip
    summary.add_column("")
    summary.add_column("", justify="right")
    summary.add_row("peak activation memory", f"{size(m.peak)} at {m.peak_layer}")
    summary.add_row("flash (parameters)", size(m.flash))
    summary.add_row("input", size(m.input_bytes))
    if r is not None:
        _fits(summary, analysis)
        summary.add_row(
            "estimated latency",
            f"{duration(r.time)} (roofline, efficiency {fixed(r.efficiency, 2)})",
        )
    parts.append(summary)
    if r is not None:
        parts += [Text(), _by_kind(r)]
    legend = (
        "Bytes: every tensor read and written at the activations' type (x batch) and the "
        "parameters at the weights' type; MAC elems: ShuffleNetV2's memory access cost "
        "(elements, one sample); live: bytes held while the layer runs (* in place). "
        f"Memory convention: {CONVENTIONS[m.convention]}."
    )
    if r is not None:
        legend += (
            " Time = max(FLOPs / peak, bytes / bandwidth) / efficiency, FLOPs by the default "
            f"convention; peak {si(int(r.device.peak_of(r.precision.compute)))}OP/s "
            f"({r.precision.compute}, dense), bandwidth {si(int(r.device.bandwidth.value))}B/s "
            f"(sources: {r.device.file})."
        )
    parts += [Text(), Text(legend, style="dim")]
    return Group(*parts)


def _fits(summary: Table, analysis: DeviceAnalysis) -> None:
    m, r = analysis.memory, analysis.roofline
    assert r is not None
    for label, have, need in (("SRAM", r.device.sram, m.peak), ("flash", r.device.flash, m.flash)):
        if have is not None:
            verdict = "fits" if need <= have.value else "does NOT fit"
            summary.add_row(f"device {label}", f"{size(int(have.value))}: {verdict}")


def _by_kind(r: Roofline) -> Table:
    table = Table(title="By layer kind: share of MACs and of estimated time",
                  title_justify="left", header_style="bold", box=None, pad_edge=False)  # fmt: skip
    for h in ("kind", "layers", "MACs", "% MACs", "time", "% time", "memory-bound"):
        justify = "left" if h == "kind" else "right"
        add_column(table, h, justify=justify, whole=True, drop=int(h == "memory-bound"))
    share_of = shares(r)
    for kind, k in r.by_kind().items():
        if not (k.macs or k.time):
            continue  # views: nothing to compare
        time_share = share_of[kind][1]
        table.add_row(
            kind,
            str(k.layers),
            si(k.macs),
            share(k.macs, r.macs),
            duration(k.time),
            _percent(time_share),
            f"{k.memory_bound}/{k.layers}",
        )
    return table


def _percent(x: Fraction) -> str:
    return f"{fixed(x * 100, 1)}%"


def _seconds(value: Fraction) -> dict[str, Any]:
    """A time exact as "num/den", with its value as a float (past a float's range: in
    scientific notation, as a string)."""
    return {"exact": f"{value.numerator}/{value.denominator}", "value": approximate(value)}


def device_to_dict(analysis: DeviceAnalysis) -> dict[str, Any]:
    """The ``device`` object of ``analyze --format json`` (docs/device.md)."""
    m, r = analysis.memory, analysis.roofline
    data: dict[str, Any] = {
        "precision": {"weights": m.precision.weights, "activations": m.precision.activations},
        "batch": m.batch,
        "memory_convention": m.convention,
        "peak_memory": m.peak,
        "peak_layer": m.peak_layer,
        "flash": m.flash,
        "input_bytes": m.input_bytes,
    }
    times = {t.name: t for t in r.layers} if r is not None else {}
    rows = []
    for layer in m.layers:
        row: dict[str, Any] = {
            "name": layer.name,
            "kind": layer.kind,
            "read": layer.read,
            "weights": layer.weights,
            "written": layer.written,
            "memory_access_cost": layer.accesses,
            "live": layer.live,
            "in_place": layer.in_place,
        }
        if layer.name in times:
            t = times[layer.name]
            row |= {
                "flops": t.flops,
                "intensity": None if t.intensity is None else approximate(t.intensity),
                "time": _seconds(t.time),
                "bound": t.bound,
            }
        rows.append(row)
    data["layers"] = rows
    if r is not None:
        data["device"] = {
            "name": r.device.name,
            "title": r.device.title,
            "peak": approximate(r.device.peak_of(r.precision.compute)),
            "bandwidth": approximate(r.device.bandwidth.value),
            "efficiency": float(r.efficiency),
        }
        data["latency"] = _seconds(r.time)
        data["by_kind"] = {
            kind: {
                "layers": k.layers,
                "macs": k.macs,
                "time": _seconds(k.time),
                "macs_share": float(shares(r)[kind][0]),
                "time_share": float(shares(r)[kind][1]),
                "memory_bound": k.memory_bound,
            }
            for kind, k in r.by_kind().items()
        }
    return data


def device_markdown(analysis: DeviceAnalysis) -> str:
    """The device section as Markdown (appended to ``analyze --format markdown``)."""
    m, r = analysis.memory, analysis.roofline
    lines = [
        f"## {_heading(analysis)}",
        "",
        f"Peak activation memory: {size(m.peak)} at `{m.peak_layer}`; flash (parameters): "
        f"{size(m.flash)}.",
    ]
    if r is not None:
        lines += [
            f"Estimated latency: {duration(r.time)} (roofline, efficiency "
            f"{fixed(r.efficiency, 2)}).",
            "",
            "| kind | layers | MACs | % MACs | time | % time | memory-bound |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        share_of = shares(r)
        for kind, k in r.by_kind().items():
            if not (k.macs or k.time):
                continue
            lines.append(
                f"| {kind} | {k.layers} | {si(k.macs)} | {share(k.macs, r.macs)} | "
                f"{duration(k.time)} | {_percent(share_of[kind][1])} | "
                f"{k.memory_bound}/{k.layers} |"
            )
    lines.append("")
    return "\n".join(lines) + "\n"
