"""``sepcalc crosscheck``: sepcalc's counts beside fvcore's and torch's, as tables or plain data."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sepcalc.crosscheck.compare import TOOL_NAMES, CrossCheck, ToolCheck
from sepcalc.report.data import SCHEMA_VERSION
from sepcalc.report.numbers import grouped, shape


def tool_check_to_dict(check: ToolCheck) -> dict[str, Any]:
    """One tool's check as plain data."""
    return {
        "tool": check.tool,
        "counter": TOOL_NAMES.get(check.tool, check.tool),
        "convention": {"name": check.convention.name, "flops": check.convention.description},
        "agrees": check.agrees,
        "totals": {
            "flops": check.flops,
            "tool_flops": check.tool_flops,
            "params": check.params,
            "tool_params": check.tool_params,
            "unattributed_tool_flops": check.unattributed,
        },
        "layers": [
            {
                "name": layer.name,
                "kind": layer.kind,
                "agrees": layer.agrees,
                "flops": layer.flops,
                "tool_flops": layer.tool_flops,
                "params": layer.params,
                "tool_params": layer.tool_params,
                "output_shape": list(layer.shape),
                "tool_output_shape": None if layer.tool_shape is None else list(layer.tool_shape),
                "uncounted_ops": dict(layer.uncounted),
            }
            for layer in check.layers
        ],
    }


def crosscheck_to_dict(result: CrossCheck) -> dict[str, Any]:
    """The ``--format json`` output: the network, whether every tool agrees, each tool's check."""
    return {
        "schema_version": SCHEMA_VERSION,
        "name": result.name,
        "agrees": result.agrees,
        "tools": [tool_check_to_dict(c) for c in result.checks],
    }


def _layer_table(check: ToolCheck, all_layers: bool) -> Table:
    rows = check.layers if all_layers else check.differing
    table = Table(header_style="bold", box=None, pad_edge=False)
    for name in ("layer", "kind", "FLOPs sepcalc", f"FLOPs {check.tool}", "params sepcalc",
                 f"params {check.tool}", "output"):  # fmt: skip
        numeric = name.startswith(("FLOPs", "params"))
        table.add_column(name, justify="right" if numeric else "left", no_wrap=True)
    table.add_column("uncounted by tool")
    for layer in rows:
        bad = set(layer.differences())
        out = shape(layer.shape)
        if "shape" in bad and layer.tool_shape is not None:
            out += f" (torch {shape(layer.tool_shape)})"
        table.add_row(
            Text(layer.name, style="red" if bad else ""),
            layer.kind,
            grouped(layer.flops),
            Text(grouped(layer.tool_flops), style="red" if "flops" in bad else ""),
            grouped(layer.params),
            Text(grouped(layer.tool_params), style="red" if "params" in bad else ""),
            Text(out, style="red" if "shape" in bad else "dim"),
            ", ".join(f"{op} x{n}" for op, n in sorted(layer.uncounted.items())),
        )
    return table


def render_tool_check(check: ToolCheck, all_layers: bool) -> RenderableType:
    verdict = Text("agree", style="green") if check.agrees else Text("DIFFER", style="bold red")
    head = Text.assemble((TOOL_NAMES[check.tool], "bold"), " vs sepcalc: ", verdict)
    convention = Text(
        f"FLOPs under convention {check.convention.name}: {check.convention.description}",
        style="dim",
    )
    totals = Table(header_style="bold", box=None, pad_edge=False)
    for name in ("", "sepcalc", check.tool):
        totals.add_column(name, justify="right" if name else "left")
    totals.add_row("FLOPs", grouped(check.flops), grouped(check.tool_flops))
    totals.add_row("params", grouped(check.params), grouped(check.tool_params))
    parts: list[RenderableType] = [head, convention, totals]
    if check.unattributed:
        parts.append(Text(f"{grouped(check.unattributed)} tool FLOPs outside every layer"))
    if all_layers or check.differing:
        label = "Layers" if all_layers else f"Layers that differ ({len(check.differing)})"
        parts += [Text(label, style="bold"), _layer_table(check, all_layers)]
    return Group(*parts, Text(""))


def render_crosscheck(result: CrossCheck, all_layers: bool) -> RenderableType:
    """Every tool's check: totals, and the layers that differ (every layer with ``all_layers``)."""
    return Group(*(render_tool_check(c, all_layers) for c in result.checks))
