"""`sepcalc export`: the network of a spec in another framework's code, or as a graph."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from sepcalc.cli import Typer, app, output_to, user_errors
from sepcalc.cli.options import OutputOpt, SetOpt, SpecArg, parse_set, source_name

if TYPE_CHECKING:
    from sepcalc.analysis import Analysis

export_app = Typer(
    help="Write the network of a spec as code for a framework, or as a graph to draw (stdout, or "
    "--output FILE).",
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")


@export_app.command("torch")
def export_torch(
    spec: SpecArg,
    set_: SetOpt = [],  # noqa: B006  (typer reads the default; it is never mutated)
    output: OutputOpt = None,
) -> None:
    """A standalone Python file defining the network as a plain torch.nn.Module.

    The file needs only torch; it is the module `sepcalc crosscheck` counts.

    Example: sepcalc export torch examples/mobilenet_v2.yaml > mobilenet_v2.py
    """
    from sepcalc.cli.crosscheck import missing_extra
    from sepcalc.cli.options import load
    from sepcalc.graph import build_graph

    with user_errors():
        graph = build_graph(load(spec), parse_set(set_))
        try:
            from sepcalc.crosscheck.build import plan
            from sepcalc.crosscheck.export import render_module
        except ImportError as exc:
            raise missing_extra(exc) from None
        source = render_module(plan(graph), source_name(spec))
    with output_to(output):
        typer.echo(source, nl=False)


def _analysis(spec: Path, set_: list[str]) -> Analysis:
    from sepcalc.analysis import analyze
    from sepcalc.cli.options import load
    from sepcalc.conventions import get_convention
    from sepcalc.graph import build_graph

    with user_errors():
        return analyze(build_graph(load(spec), parse_set(set_)), get_convention("default"))


@export_app.command("dot")
def export_dot(
    spec: SpecArg,
    set_: SetOpt = [],  # noqa: B006  (typer reads the default; it is never mutated)
    output: OutputOpt = None,
) -> None:
    """The network's graph in Graphviz DOT, each block instance a cluster.

    A node per layer (its kind, output shape and MACs), coloured by kind.

    Example: sepcalc export dot examples/mobilenet_v2.yaml | dot -Tsvg > mobilenet_v2.svg
    """
    from sepcalc.report.graph import render_dot

    text = render_dot(_analysis(spec, set_))
    with output_to(output):
        typer.echo(text, nl=False)


@export_app.command("mermaid")
def export_mermaid(
    spec: SpecArg,
    set_: SetOpt = [],  # noqa: B006  (typer reads the default; it is never mutated)
    output: OutputOpt = None,
) -> None:
    """The network's graph as a Mermaid flowchart (GitHub renders it in a ```mermaid block).

    Example: sepcalc export mermaid examples/mobilenet_v1.yaml > mobilenet_v1.mmd
    """
    from sepcalc.report.graph import render_mermaid

    text = render_mermaid(_analysis(spec, set_))
    with output_to(output):
        typer.echo(text, nl=False)
