"""`sepcalc formula` and `analyze --symbolic`: closed forms, with sympy imported only here.

This module is imported by every command (it registers `formula`), so sympy and the symbolic
modules are imported inside the functions, never at the top.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from sepcalc.cli import app, output_to, stdout, user_errors
from sepcalc.cli.options import (
    ConventionOpt,
    OutputOpt,
    RatioMetric,
    parse_at,
    parse_count_option,
    parse_set,
    parse_symbolic,
)
from sepcalc.conventions import get_convention
from sepcalc.errors import SepcalcError
from sepcalc.symbol_names import SYMBOL_MEANINGS


class Format(StrEnum):
    text = "text"
    json = "json"


FORMULA_HELP = (
    "Params, MACs and FLOPs of one layer kind in symbols, from the same formula as the counts."
    "\n\n"
    "Symbols (positive integers): "
    + "; ".join(f"{name} {meaning}" for name, meaning in SYMBOL_MEANINGS.items())
    + ". For conv, depthwise, pointwise and separable, H and W are the OUTPUT size at "
    "stride 1 with 'same' padding (so also the input size: the MobileNet paper's D_F); each "
    "kind states its sizes."
    "\n\n"
    "Example: sepcalc formula separable --vs conv --at C_out=128,k=3"
)


@app.command(help=FORMULA_HELP)
def formula(
    kind: Annotated[
        str | None,
        typer.Argument(
            metavar="KIND",
            help="Layer kind: conv, depthwise, pointwise, separable, linear, ... (see --list).",
            show_default=False,
        ),
    ] = None,
    vs: Annotated[
        str | None,
        typer.Option(
            "--vs",
            metavar="KIND",
            help="Compare with another kind: ratio KIND / VS, reduction 1/ratio, savings "
            "1 - ratio.",
        ),
    ] = None,
    at: Annotated[
        list[str],
        typer.Option(
            "--at",
            metavar="NAME=N,...",
            help="Exact values at a point, e.g. --at C_out=128,k=3 (repeatable).",
        ),
    ] = [],  # noqa: B006  (typer reads the default; it is never mutated)
    count: Annotated[
        str,
        typer.Option(
            "--count",
            metavar="bias,norm,act",
            help="Also count a bias, a BatchNorm, an activation on every conv/linear stage "
            "(separable: norm and act after both stages, bias on the pointwise). Changes params "
            "and FLOPs; MACs never include them.",
        ),
    ] = "",
    metric: Annotated[
        RatioMetric, typer.Option("--metric", help="What the --vs ratio compares.")
    ] = RatioMetric.macs,
    convention: ConventionOpt = "default",
    latex: Annotated[bool, typer.Option("--latex", help="Print LaTeX instead of unicode.")] = False,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    list_: Annotated[
        bool, typer.Option("--list", help="List every layer kind that has a closed form.")
    ] = False,
    output: OutputOpt = None,
) -> None:
    """One layer kind in closed form (the help text is FORMULA_HELP)."""
    from sepcalc.report import symbolic as report
    from sepcalc.symbolic import formula_report

    if list_:
        with output_to(output):
            if fmt is Format.json:
                typer.echo(json.dumps(report.list_to_dict(), indent=2))
            else:
                stdout().print(report.render_list())
        return
    with user_errors():
        if kind is None:
            raise SepcalcError("name a layer kind, e.g. `sepcalc formula conv`, or use --list")
        _not_a_file(kind)
        result = formula_report(
            kind,
            vs,
            count=parse_count_option(count),
            convention=get_convention(convention),
            metric_name=metric.value,
            at=parse_at(at),
        )
    with output_to(output):
        if fmt is Format.json:
            typer.echo(json.dumps(report.formula_to_dict(result, latex=latex), indent=2))
        else:
            stdout().print(report.render_formula(result, latex=latex))


def _not_a_file(kind: str) -> None:
    """``formula`` takes a layer kind: a spec or space file given instead is said so."""
    if not (kind == "-" or kind.endswith((".yaml", ".yml")) or "/" in kind):
        return
    space = False
    try:
        from sepcalc.spec.loader import choice_paths, parse_yaml

        space = any(choice_paths(parse_yaml(Path(kind).read_text(encoding="utf-8"), kind)[0]))
    except (OSError, UnicodeDecodeError, SepcalcError):
        pass
    if space:
        raise SepcalcError(
            f"{kind} is a search space, and formula takes a layer kind (e.g. conv; --list "
            f"lists them): `sepcalc space count {kind}` (or best, sample, pareto, distribution) "
            "answers over the space's networks"
        )
    raise SepcalcError(
        f"{kind}: formula takes a layer kind (e.g. conv; --list lists them), not a file: "
        f"`sepcalc analyze {kind} --symbolic VARS` gives a network's totals in closed form"
    )


def symbolic_analysis(
    spec: Path, set_: list[str], names: str, convention: str, *, per_layer: bool, json_: bool
) -> None:
    """`analyze --symbolic`: network totals (and layers) as closed forms in the named vars."""
    from sepcalc.cli.options import load
    from sepcalc.report import symbolic as report
    from sepcalc.symbolic import symbolic_network

    with user_errors():
        conv = get_convention(convention)
        overrides = parse_set(set_)
        vars_ = parse_symbolic(names)
        net = symbolic_network(load(spec), vars_, conv, overrides)
    if json_:
        typer.echo(json.dumps(report.network_to_dict(net, per_layer=per_layer), indent=2))
    else:
        stdout().print(report.render_network(net, per_layer=per_layer))
