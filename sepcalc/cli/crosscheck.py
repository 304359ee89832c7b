"""`sepcalc crosscheck`: the spec as a torch module, counted by fvcore and torch, vs sepcalc."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sepcalc.cli import app, output_to, stderr, stdout, user_errors
from sepcalc.cli.options import OutputOpt, SetOpt, SpecArg, parse_kwargs, parse_set
from sepcalc.conventions import PRESETS, TOOL_CONVENTIONS, Convention, get_convention
from sepcalc.errors import EXIT_INVALID

if TYPE_CHECKING:
    from sepcalc.graph import Graph


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
    return typer.Exit(EXIT_INVALID)


CROSSCHECK_HELP = (
    "Build the spec as a torch.nn.Module, count it with fvcore and torch, compare with sepcalc."
    "\n\n"
    "FLOPs are compared under the convention that reproduces each tool (fvcore: 1 per MAC plus "
    "BatchNorm and adaptive pooling; torch: 2 per MAC of conv and linear), with parameters and "
    "output shapes, per layer and in total. Exit 0 when everything agrees, 1 when something "
    "differs, 2 on bad input or when the torch extra is not installed."
    "\n\n"
    "Example: sepcalc crosscheck examples/mobilenet_v2.yaml --tool fvcore"
    "\n\n"
    "With --against, the spec is compared with your own model instead: a factory (a function "
    "or class returning an nn.Module) named as mypkg.models:build_model or "
    "path/to/models.py:build_model, called with --kwargs. It is built on the meta device (no "
    "weights), counted by both tools, and compared with the spec in total and layer by layer "
    "where the order lines up (docs/import.md)."
    "\n\n"
    "Example: sepcalc crosscheck net.yaml --against mypkg.models:build_model "
    "--kwargs '{\"num_classes\": 10}'"
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
    against: Annotated[
        str | None,
        typer.Option(
            "--against",
            metavar="MODULE:NAME",
            help="Compare with your own model: a function or class returning an nn.Module, as "
            "mypkg.models:build_model (importable from the current directory) or "
            "path/to/models.py:build_model.",
        ),
    ] = None,
    kwargs: Annotated[
        str | None,
        typer.Option(
            "--kwargs",
            metavar="JSON",
            help="With --against: keyword arguments for it, a JSON object, "
            "e.g. '{\"width\": 0.5}'.",
        ),
    ] = None,
    output: OutputOpt = None,
) -> None:
    """Compare with fvcore and torch (the help text is CROSSCHECK_HELP)."""
    from sepcalc.cli.options import load
    from sepcalc.crosscheck.compare import cross_check
    from sepcalc.graph import build_graph

    with user_errors():
        chosen = get_convention(convention) if convention is not None else None
        arguments = parse_kwargs(kwargs, against)
        graph = build_graph(load(spec), parse_set(set_))
        if against is not None:
            against_module(graph, against, arguments, tool, fmt, chosen, layers, output)
        try:
            from sepcalc.crosscheck.count import COUNTERS

            tools = list(TOOL_CONVENTIONS) if tool is Tool.all else [tool.value]
            counts = [COUNTERS[name](graph) for name in tools]
        except ImportError as exc:
            raise missing_extra(exc) from None
    result = cross_check(graph, counts, chosen)
    with output_to(output):
        if fmt is Format.json:
            from sepcalc.report.crosscheck import crosscheck_to_dict

            typer.echo(json.dumps(crosscheck_to_dict(result), indent=2))
        else:
            from sepcalc.report.crosscheck import render_crosscheck

            stdout().print(render_crosscheck(result, layers))
    raise typer.Exit(result.exit_code)


def against_module(
    graph: Graph,
    target: str,
    kwargs: dict[str, Any],
    tool: Tool,
    fmt: Format,
    convention: Convention | None,
    layers: bool,
    output: Path | None = None,
) -> None:
    """``--against``: the spec against the user's module; exits with the result's code."""
    import os
    import sys

    from sepcalc.crosscheck.against import cross_check_against

    if os.getcwd() not in sys.path:  # as `python -m`: the current directory's packages import
        sys.path.insert(0, os.getcwd())
    try:
        from sepcalc.crosscheck.user import USER_COUNTERS, load_factory
    except ImportError as exc:
        raise missing_extra(exc) from None
    factory = load_factory(target)
    tools = list(TOOL_CONVENTIONS) if tool is Tool.all else [tool.value]
    try:
        counts = [USER_COUNTERS[name](factory, kwargs, tuple(graph.input_shape)) for name in tools]
    except ImportError as exc:
        raise missing_extra(exc) from None
    result = cross_check_against(graph, target, counts, convention)
    with output_to(output):
        if fmt is Format.json:
            from sepcalc.report.against import against_to_dict

            typer.echo(json.dumps(against_to_dict(result), indent=2))
        else:
            from sepcalc.report.against import render_against

            stdout().print(render_against(result, layers))
    raise typer.Exit(result.exit_code)
