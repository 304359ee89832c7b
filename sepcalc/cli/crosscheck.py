"""`sepcalc crosscheck`: the spec as a torch module, counted by fvcore and torch, vs sepcalc."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from sepcalc.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, app, stderr, stdout, user_errors
from sepcalc.cli.options import SetOpt, SpecArg, parse_set
from sepcalc.conventions import PRESETS, TOOL_CONVENTIONS, get_convention

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

    from sepcalc.crosscheck.compare import ToolCheck


class Tool(StrEnum):
    fvcore = "fvcore"
    torch = "torch"
    all = "all"


class Format(StrEnum):
    table = "table"
    json = "json"


def missing_extra(exc: ImportError) -> typer.Exit:
    """Exit 2 with the install command when torch or fvcore is missing."""
    from sepcalc.crosscheck import INSTALL_HINT

    what = (exc.name or "torch").split(".")[0]
    stderr().print(
        f"error: this command needs the optional torch extra ({what} is not installed); "
        f"install it with: {INSTALL_HINT}",
        markup=False,
    )
    return typer.Exit(EXIT_USAGE)


def _layer_table(check: ToolCheck, all_layers: bool) -> Table:
    from rich.table import Table
    from rich.text import Text

    from sepcalc.report.numbers import grouped, shape

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


def _render(check: ToolCheck, all_layers: bool) -> RenderableType:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from sepcalc.crosscheck.compare import TOOL_NAMES
    from sepcalc.report.numbers import grouped

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


CROSSCHECK_HELP = (
    "Build the spec as a torch.nn.Module, count it with fvcore and torch, compare with sepcalc."
    "\n\n"
    "FLOPs are compared under the convention that reproduces each tool (fvcore: 1 per MAC plus "
    "BatchNorm and adaptive pooling; torch: 2 per MAC of conv and linear), with parameters and "
    "output shapes, per layer and in total. Exit 0 when everything agrees, 1 when something "
    "differs, 2 on bad input or when the torch extra is not installed."
    "\n\n"
    "Example: sepcalc crosscheck examples/mobilenet_v2.yaml --tool fvcore"
)


@app.command(help=CROSSCHECK_HELP)
def crosscheck(
    spec: SpecArg,
    tool: Annotated[
        Tool, typer.Option("--tool", "-t", help="Which counter to compare with.")
    ] = Tool.all,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    set_: SetOpt = [],  # noqa: B006  (typer reads the default; it is never mutated)
    convention: Annotated[
        str | None,
        typer.Option(
            "--convention",
            metavar="NAME",
            help="Compare under this convention instead of the one matching each tool "
            f"({', '.join(f'{t}: {c.name}' for t, c in TOOL_CONVENTIONS.items())}): "
            + ", ".join(PRESETS)
            + " (see docs/counting.md).",
        ),
    ] = None,
    layers: Annotated[
        bool, typer.Option("--layers", help="Table format: list every layer, not only differences.")
    ] = False,
) -> None:
    """Compare with fvcore and torch (the help text is CROSSCHECK_HELP)."""
    from rich.console import Group

    from sepcalc.analysis import analyze
    from sepcalc.crosscheck.compare import check_to_dict, compare
    from sepcalc.graph import build_graph
    from sepcalc.spec import load_spec

    with user_errors():
        chosen = get_convention(convention) if convention is not None else None
        graph = build_graph(load_spec(spec), parse_set(set_))
        try:
            from sepcalc.crosscheck.count import COUNTERS

            tools = list(TOOL_CONVENTIONS) if tool is Tool.all else [tool.value]
            counts = [COUNTERS[name](graph) for name in tools]
        except ImportError as exc:
            raise missing_extra(exc) from None
    checks = [compare(analyze(graph, chosen or TOOL_CONVENTIONS[c.tool]), c) for c in counts]
    if fmt is Format.json:
        data = {"name": graph.name, "agrees": all(c.agrees for c in checks)}
        typer.echo(json.dumps({**data, "tools": [check_to_dict(c) for c in checks]}, indent=2))
    else:
        stdout().print(Group(*(_render(c, layers) for c in checks)))
    raise typer.Exit(EXIT_OK if all(c.agrees for c in checks) else EXIT_FAILED)
