"""`sepcalc diff`: what changed between two specs or saved analyze reports (docs/ci.md)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sepcalc.cli import app, output_to, stderr, stdout, user_errors
from sepcalc.cli.options import ConventionOpt, OutputOpt, SetOpt, parse_set
from sepcalc.conventions import Convention, get_convention
from sepcalc.errors import SepcalcError

if TYPE_CHECKING:
    from sepcalc.expr import Number
    from sepcalc.snapshot import Snapshot


class DiffFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


SideArg = Annotated[
    Path,
    typer.Argument(
        help="A spec (YAML; zoo:NAME) or a saved `sepcalc analyze --format json` report "
        "(.json); - reads either from stdin.",
        show_default=False,
    ),
]


def _is_report(path: Path) -> bool:
    """A saved report: a .json file, or - whose text is a JSON object with totals (a spec
    written as JSON has none)."""
    from sepcalc.cli.options import STDIN, read_stdin

    if str(path) != STDIN:
        return path.suffix.lower() == ".json"
    text = read_stdin().lstrip("\ufeff \t\r\n")
    if not text.startswith("{"):
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return (
            '"schema_version"' in text or '"totals"' in text
        )  # a broken report: read as one, to say where it breaks
    return isinstance(data, dict) and "totals" in data


def _side(path: Path, conv: Convention, overrides: dict[str, Number]) -> Snapshot:
    from sepcalc.analysis import analyze
    from sepcalc.cli.options import load, source_name
    from sepcalc.graph import build_graph
    from sepcalc.snapshot import Snapshot, read_report

    if _is_report(path):
        from sepcalc.cli.options import STDIN, read_stdin

        if str(path) == STDIN:
            return read_report(source_name(path), text=read_stdin())
        return read_report(path)
    graph = build_graph(load(path), overrides)
    return Snapshot.of(analyze(graph, conv), source_name(path))


@app.command(
    help="Per-layer and total changes of params, MACs, FLOPs and activations between two "
    "networks; layers are matched by name. Either side may be a spec or a saved "
    "`sepcalc analyze --format json` report (.json).\n\n"
    "Example: sepcalc diff main-report.json examples/mobilenet_v1.yaml --set alpha=0.75",
    epilog="Exit codes: 0 the diff was shown; 1 with --fail-on-increase, a total grew; "
    "2 invalid spec, report or options.",
)
def diff(
    old: SideArg,
    new: SideArg,
    set_: SetOpt = [],  # noqa: B006  (typer reads the default; it is never mutated)
    convention: ConventionOpt = "default",
    fmt: Annotated[
        DiffFormat, typer.Option("--format", "-f", help="Output format.")
    ] = DiffFormat.table,
    all_layers: Annotated[
        bool, typer.Option("--all", help="Also list the layers that did not change.")
    ] = False,
    fail_on_increase: Annotated[
        bool,
        typer.Option(
            "--fail-on-increase",
            help="Exit 1 if a total (params, MACs, FLOPs, activations) grew; FLOPs count only "
            "when both sides use one convention.",
        ),
    ] = False,
    output: OutputOpt = None,
) -> None:
    """Compare two networks (the help text is in the decorator)."""
    from sepcalc.diff import diff as run_diff

    with user_errors():
        conv = get_convention(convention)
        overrides = parse_set(set_)
        if overrides and _is_report(old) and _is_report(new):
            raise SepcalcError("--set applies to spec sides; both sides are saved reports")
        result = run_diff(_side(old, conv, overrides), _side(new, conv, overrides))
    if not result.flops_comparable and _is_report(old) != _is_report(new):
        report = result.old if _is_report(old) else result.new
        stderr().print(
            f"note: FLOPs not compared: {report.source} counts them with the "
            f"'{report.convention}' convention; pass --convention {report.convention} to count "
            "the spec the same way",
            markup=False,
        )
    with output_to(output):
        if fmt is DiffFormat.json:
            from sepcalc.report.diff_data import diff_to_dict

            typer.echo(json.dumps(diff_to_dict(result), indent=2))
        elif fmt is DiffFormat.markdown:
            from sepcalc.report.diff_markdown import render_diff_markdown

            typer.echo(render_diff_markdown(result, all_layers=all_layers), nl=False)
        else:
            from sepcalc.report.diff_text import render_diff_text

            stdout().print(render_diff_text(result, all_layers=all_layers))
    code = result.exit_code(fail_on_increase=fail_on_increase)
    if code:
        stderr().print(f"increased: {', '.join(result.increased())}", markup=False)
    raise typer.Exit(code)
