"""`sepcalc export`: the network of a spec in another framework's code."""

from __future__ import annotations

import typer

from sepcalc.cli import app, user_errors
from sepcalc.cli.options import SetOpt, SpecArg, parse_set

export_app = typer.Typer(
    help="Write the network of a spec as code for a framework (stdout).", no_args_is_help=True
)
app.add_typer(export_app, name="export")


@export_app.command("torch")
def export_torch(
    spec: SpecArg,
    set_: SetOpt = [],  # noqa: B006  (typer reads the default; it is never mutated)
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
        source = render_module(plan(graph), str(spec))
    typer.echo(source, nl=False)
