"""`sepcalc zoo`: the specs bundled with sepcalc (the model zoo), usable as ``zoo:NAME``."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from sepcalc.cli import app, output_to, stdout, user_errors
from sepcalc.cli.options import OutputOpt


def _complete(incomplete: str) -> list[str]:
    """Shell completion of a bundled spec's name."""
    from sepcalc import zoo as bundled

    return [n for n in bundled.names() if n.startswith(incomplete)]


class ZooFormat(StrEnum):
    table = "table"
    json = "json"


@app.command()
def zoo(
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="NAME",
            help="Print this bundled spec's YAML (to copy and edit it), e.g. mobilenet_v2.",
            show_default=False,
            autocompletion=_complete,
        ),
    ] = None,
    fmt: Annotated[
        ZooFormat,
        typer.Option("--format", "-f", metavar="FORMAT", help="Listing format: table or json."),
    ] = ZooFormat.table,
    output: OutputOpt = None,
) -> None:
    """The bundled networks (the model zoo), with their parameters and MACs.

    Any command takes a bundled spec as zoo:NAME, installed or not.

    Examples: sepcalc zoo; sepcalc analyze zoo:mobilenet_v2; sepcalc zoo mobilenet_v2 > mine.yaml
    """
    from sepcalc import zoo as bundled

    if name is not None:
        from sepcalc.textfile import read_text

        with user_errors():
            text = read_text(bundled.path(name), "bundled spec")
        with output_to(output):
            typer.echo(bundled.standalone(text), nl=False)
        return
    from sepcalc.analysis import analyze
    from sepcalc.conventions import get_convention
    from sepcalc.graph import build_graph
    from sepcalc.spec import load_spec

    with user_errors():
        conv = get_convention("default")
        entries = [
            (n, analyze(build_graph(load_spec(bundled.PREFIX + n), {}), conv))
            for n in bundled.names()
        ]
    with output_to(output):
        if fmt is ZooFormat.json:
            from sepcalc.report.zoo import zoo_to_dict

            typer.echo(json.dumps(zoo_to_dict(entries), indent=2))
        else:
            from sepcalc.report.zoo import render_zoo

            stdout().print(render_zoo(entries))
