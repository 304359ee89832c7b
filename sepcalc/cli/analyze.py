"""`sepcalc analyze`: the cost report of one spec."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from sepcalc.cli import app, output_to, save_plot, stderr, stdout, user_errors
from sepcalc.cli.options import (
    ActivationsDtypeOpt,
    BatchOpt,
    ConventionOpt,
    DeviceOpt,
    DtypeOpt,
    EfficiencyOpt,
    MemoryOpt,
    OutputOpt,
    PlotOpt,
    SetOpt,
    SpecArg,
    WeightsDtypeOpt,
    check_plot,
    device_request,
    parse_columns,
    parse_set,
)
from sepcalc.conventions import get_convention
from sepcalc.errors import SepcalcError

if TYPE_CHECKING:
    from sepcalc.analysis import Analysis
    from sepcalc.device import DeviceAnalysis


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


@app.command()
def analyze(
    spec: SpecArg,
    set_: SetOpt = [],  # noqa: B006  (typer reads the default; it is never mutated)
    fmt: Annotated[
        Format,
        typer.Option(
            "--format", "-f", metavar="FORMAT", help="Output format: table, json, csv or markdown."
        ),
    ] = Format.table,
    compare_standard: Annotated[
        bool,
        typer.Option(
            "--compare-standard",
            help="Also cost every depthwise/separable conv as the standard conv it replaces.",
        ),
    ] = False,
    convention: ConventionOpt = "default",
    summary: Annotated[
        bool, typer.Option("--summary", help="Table format: totals and kinds only, no layers.")
    ] = False,
    symbolic: Annotated[
        str | None,
        typer.Option(
            "--symbolic",
            metavar="VARS",
            help="Totals as closed forms in these spec vars, e.g. alpha,resolution (continuous "
            "relaxation: rounding is the identity; see docs/symbolic.md). Table or json format.",
        ),
    ] = None,
    per_layer: Annotated[
        bool, typer.Option("--per-layer", help="With --symbolic: every layer's closed forms too.")
    ] = False,
    depth: Annotated[
        int | None,
        typer.Option(
            "--depth",
            min=1,
            metavar="N",
            help="Rows by block instead of by layer: 1 = a row per entry of the spec's top-level "
            "layers (a block call's layers summed; each repeat its own row), 2 = one level into "
            "blocks, ... Rows of any depth sum to the totals. Every format.",
        ),
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            metavar="NAMES",
            help="Table or markdown format: the columns after the name, in order, e.g. "
            "params,macs,flops,activations,shape. Columns: kind, layers, inputs, shape, params, "
            "weight, bias, norm, macs, flops, activations, each count's share (params%, macs%, "
            "flops%, activations%), and std_macs, saving with --compare-standard. Default: "
            "kind,shape,params,macs,macs% (and layers with --depth; and std_macs,saving in "
            "the table with --compare-standard); see docs/output.md.",
        ),
    ] = None,
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    weights_dtype: WeightsDtypeOpt = None,
    activations_dtype: ActivationsDtypeOpt = None,
    batch: BatchOpt = None,
    memory: MemoryOpt = None,
    efficiency: EfficiencyOpt = None,
    output: OutputOpt = None,
    plot: PlotOpt = None,
) -> None:
    """Per-layer parameters, MACs, FLOPs and activations, with totals and a breakdown by kind.

    With --device, --dtype, --batch or --memory: bytes moved per layer, peak activation memory,
    flash and (on a device) roofline latency, with each kind's share of MACs and of time.

    --plot draws a bar per layer of its MACs and parameters; with --device, the device's
    roofline instead, each layer a point at its FLOPs per byte and the FLOP/s of its roofline
    time, coloured by kind (run without --device for the bars).

    Example: sepcalc analyze examples/mobilenet_v2.yaml --device a100 --dtype fp16
    """
    device_options = (device, dtype, weights_dtype, activations_dtype, batch, memory, efficiency)
    if symbolic is not None or per_layer:
        from sepcalc.cli.formula import symbolic_analysis

        with user_errors():
            for option, value in (("--depth", depth), ("--columns", columns)):
                if value is not None:
                    raise SepcalcError(f"--symbolic cannot be combined with {option}")
            if symbolic is None:
                raise SepcalcError(
                    "--per-layer needs --symbolic VARS: it adds every layer's closed forms, "
                    "e.g. --symbolic alpha,resolution --per-layer"
                )
            if fmt not in (Format.table, Format.json):
                raise SepcalcError(
                    f"--symbolic gives table or json output, not --format {fmt.value}"
                )
            if compare_standard:
                raise SepcalcError("--symbolic cannot be combined with --compare-standard")
            if any(value is not None for value in device_options):
                raise SepcalcError(
                    "--symbolic gives closed forms; the device options (--device, --dtype, "
                    "--batch, --memory) need concrete vars"
                )
        with output_to(output):
            symbolic_analysis(
                spec, set_, symbolic, convention, per_layer=per_layer, json_=fmt is Format.json
            )
        return
    # The core is imported here, not at the top: every command module is imported at startup.
    from sepcalc.analysis import analyze as run_analysis
    from sepcalc.cli.options import load
    from sepcalc.graph import build_graph

    with user_errors():
        check_plot(plot)
        chosen = _columns(columns, fmt, summary=summary, compare_standard=compare_standard)
        if summary and depth is not None:
            raise SepcalcError("--summary shows no rows, so it cannot be combined with --depth")
        conv = get_convention(convention)
        request = device_request(*device_options)
        if request is not None and fmt is Format.csv:
            raise SepcalcError(
                "the device report (--device, --dtype, --batch, --memory) is in the table, json "
                "and markdown formats, not csv"
            )
        graph = build_graph(load(spec), parse_set(set_))
        result = run_analysis(graph, conv, compare_standard=compare_standard, depth=depth)
        on_device = request.analyze(graph) if request is not None else None
    for name in graph.unused():
        stderr().print(
            f"warning: the output of layer '{name}' is never used (its cost is still counted)",
            markup=False,
        )
    with output_to(output):
        _render(result, on_device, fmt, chosen, summary=summary)
    if plot is not None:
        from sepcalc.report import plots

        with user_errors():
            if on_device is not None and on_device.roofline is not None:
                figure = plots.roofline_plot(on_device, result.name)
            else:
                figure = plots.layer_bars(result)
        save_plot(figure, plot)


def _render(
    result: Analysis,
    on_device: DeviceAnalysis | None,
    fmt: Format,
    chosen: tuple[str, ...] | None,
    *,
    summary: bool,
) -> None:
    if fmt is Format.json:
        from sepcalc.report.data import analysis_to_dict

        data = analysis_to_dict(result)
        if on_device is not None:
            from sepcalc.report.device import device_to_dict

            data["device"] = device_to_dict(on_device)
        typer.echo(json.dumps(data, indent=2))
    elif fmt is Format.csv:
        from sepcalc.report.csvfmt import render_csv

        typer.echo(render_csv(result), nl=False)
    elif fmt is Format.markdown:
        from sepcalc.report.markdown import render_markdown

        typer.echo(render_markdown(result, columns=chosen), nl=False)
        if on_device is not None:
            from sepcalc.report.device import device_markdown

            typer.echo("\n" + device_markdown(on_device), nl=False)
    else:
        from sepcalc.report.table import render_table

        stdout().print(render_table(result, layers=not summary, columns=chosen))
        if on_device is not None:
            from sepcalc.report.device import render_device

            stdout().print()
            stdout().print(render_device(on_device, layers=not summary))


def _columns(
    text: str | None, fmt: Format, *, summary: bool, compare_standard: bool
) -> tuple[str, ...] | None:
    """The ``--columns`` chosen, where the format has columns to choose."""
    if text is None:
        return None
    if fmt in (Format.json, Format.csv):
        raise SepcalcError(
            f"--columns chooses the columns of the table and markdown formats; --format "
            f"{fmt.value} always has every column"
        )
    if summary:
        raise SepcalcError("--summary shows no rows, so it cannot be combined with --columns")
    return parse_columns(text, compare_standard=compare_standard)
