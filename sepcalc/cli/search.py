"""`sepcalc search`: inverse design (docs/search.md).

Layer level (``channels``, ``kernel``): the smallest C_out or k for a target reduction.
Network level (``width``, ``resolution``, ``grid``): the largest net within a budget.
Exit codes: 0 found, 1 infeasible (nothing meets the target or the budget), 2 bad input.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sepcalc.cli import Typer, app, output_to, progress, save_plot, stdout, user_errors
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
    RatioMetric,
    SetOpt,
    SpecArg,
    WeightsDtypeOpt,
    check_layer_bounds,
    check_plot,
    device_request,
    parse_axes,
    parse_count_option,
    parse_number,
    parse_pareto,
    parse_range,
    parse_set,
    parse_target,
    search_limits,
)
from sepcalc.conventions import get_convention
from sepcalc.errors import SepcalcError

if TYPE_CHECKING:
    from sepcalc.device import DeviceRequest
    from sepcalc.search import Evaluator, LayerModel, LayerResult, Limit

search_app = Typer(
    name="search",
    help="Inverse design: the smallest C_out or kernel for a target reduction of a separable "
    "layer, and the largest network (width, resolution, any spec var) within a budget. "
    "Exit codes: 0 found, 1 infeasible, 2 bad input. See docs/search.md.",
    no_args_is_help=True,
)
app.add_typer(search_app, name="search")


class LayerFormat(StrEnum):
    table = "table"
    json = "json"


class GridFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


MaxRatio = Annotated[
    str | None,
    typer.Option(
        "--max-ratio",
        metavar="R",
        help="Target: cost_separable / cost_standard <= R (0.12, 3/25 or 12%).",
        show_default=False,
    ),
]
MinFactor = Annotated[
    str | None,
    typer.Option(
        "--min-factor",
        metavar="F",
        help="Target: at least F times cheaper (1/ratio >= F), e.g. 10.",
        show_default=False,
    ),
]
MinSavings = Annotated[
    str | None,
    typer.Option(
        "--min-savings",
        metavar="P",
        help="Target: saves at least P of the standard cost (1 - ratio >= P): 88% or 0.88.",
        show_default=False,
    ),
]
MetricOpt = Annotated[
    RatioMetric,
    typer.Option("--metric", help="What the ratio compares (FLOPs follow --convention)."),
]
CountOpt = Annotated[
    str,
    typer.Option(
        "--count",
        metavar="bias,norm,act",
        help="Also count a bias (standard conv and pointwise), BatchNorm and an activation after "
        "every conv. Never changes MACs; params and FLOPs then depend on C_in (--c-in).",
    ),
]
CInOpt = Annotated[
    int | None,
    typer.Option("--c-in", help="Input channels, when the ratio depends on them.", min=1),
]
MaxCOutOpt = Annotated[
    int | None, typer.Option("--max-c-out", help="Largest C_out allowed.", min=1)
]
MaxKOpt = Annotated[int | None, typer.Option("--max-k", help="Largest kernel allowed.", min=1)]
OddOpt = Annotated[bool, typer.Option("--odd", help="Odd kernel sizes only (3, 5, 7, ...).")]
LayerFormatOpt = Annotated[LayerFormat, typer.Option("--format", "-f", help="Output format.")]


def _model(metric: RatioMetric, convention: str, count: str, c_in: int | None) -> LayerModel:
    from sepcalc.search import LayerModel

    return LayerModel(metric.value, get_convention(convention), parse_count_option(count), c_in)


def _show_layer(result: LayerResult, fmt: LayerFormat, output: Path | None) -> None:
    from sepcalc.report.search_layer import layer_to_dict, render_layer

    with output_to(output):
        if fmt is LayerFormat.json:
            typer.echo(json.dumps(layer_to_dict(result), indent=2))
        else:
            stdout().print(render_layer(result))
    raise typer.Exit(result.exit_code)


@search_app.command(
    epilog="Example: sepcalc search channels --k 3 --max-ratio 0.12",
)
def channels(
    k: Annotated[int, typer.Option("--k", help="Kernel size (square k x k).", min=1)] = 3,
    max_ratio: MaxRatio = None,
    min_factor: MinFactor = None,
    min_savings: MinSavings = None,
    metric: MetricOpt = RatioMetric.macs,
    convention: ConventionOpt = "default",
    count: CountOpt = "",
    c_in: CInOpt = None,
    max_c_out: MaxCOutOpt = None,
    max_k: MaxKOpt = None,
    odd: OddOpt = False,
    fmt: LayerFormatOpt = LayerFormat.table,
    output: OutputOpt = None,
) -> None:
    """The smallest C_out at which a k x k depthwise separable conv meets the target.

    For MACs the ratio is 1/C_out + 1/k**2 whatever C_in and the feature map size: below
    1/k**2 is out of reach. --max-k and --odd shape the suggestion when the target is.
    """
    from sepcalc.search import search_channels

    with user_errors():
        check_layer_bounds(k=k, max_k=max_k, max_c_out=max_c_out, odd=odd)
        model = _model(metric, convention, count, c_in)
        target = parse_target(max_ratio, min_factor, min_savings)
        result = search_channels(model, k, target, max_c_out, max_k, odd)
    _show_layer(result, fmt, output)


@search_app.command(
    epilog="Example: sepcalc search kernel --c-out 128 --min-savings 88%",
)
def kernel(
    c_out: Annotated[int, typer.Option("--c-out", help="Output channels.", min=1)],
    max_ratio: MaxRatio = None,
    min_factor: MinFactor = None,
    min_savings: MinSavings = None,
    metric: MetricOpt = RatioMetric.macs,
    convention: ConventionOpt = "default",
    count: CountOpt = "",
    c_in: CInOpt = None,
    max_k: MaxKOpt = None,
    odd: OddOpt = False,
    max_c_out: MaxCOutOpt = None,
    fmt: LayerFormatOpt = LayerFormat.table,
    output: OutputOpt = None,
) -> None:
    """The smallest kernel at which a depthwise separable conv with C_out outputs meets the target.

    For MACs the ratio is 1/C_out + 1/k**2: below 1/C_out is out of reach. --max-c-out shapes
    the suggestion when the target is.
    """
    from sepcalc.search import search_kernel

    with user_errors():
        check_layer_bounds(c_out=c_out, max_k=max_k, max_c_out=max_c_out)
        model = _model(metric, convention, count, c_in)
        target = parse_target(max_ratio, min_factor, min_savings)
        result = search_kernel(model, c_out, target, max_k, odd, max_c_out)
    _show_layer(result, fmt, output)


# --------------------------------------------------------------------------------------------
# Network level


def _max(metric: str) -> Any:
    return typer.Option(
        f"--max-{metric}",
        metavar="N",
        help=f"Budget: total {metric} <= N (SI suffixes: 300M, 4.2M, 1.5G).",
        show_default=False,
    )


MaxMacs = Annotated[str | None, _max("macs")]
MaxParams = Annotated[str | None, _max("params")]
MaxFlops = Annotated[str | None, _max("flops")]
MaxActivations = Annotated[str | None, _max("activations")]
MaxLatency = Annotated[
    str | None,
    typer.Option(
        "--max-latency", metavar="T", show_default=False,
        help="Budget for the roofline latency on --device (e.g. 5ms).",
    ),
]  # fmt: skip
MaxPeakMemory = Annotated[
    str | None,
    typer.Option(
        "--max-peak-memory", metavar="BYTES", show_default=False,
        help="Budget for the peak activation memory (e.g. 320KiB; see --dtype, --memory).",
    ),
]  # fmt: skip
MaxFlash = Annotated[
    str | None,
    typer.Option(
        "--max-flash", metavar="BYTES", show_default=False,
        help="Budget for the parameters' bytes at the weights' type (e.g. 1MiB).",
    ),
]  # fmt: skip
VarOpt = Annotated[str, typer.Option("--var", help="The spec var to search.")]
RangeOpt = Annotated[
    str | None,
    typer.Option(
        "--range",
        metavar="LOW:HIGH",
        help="Values searched (default: from one step up to the spec's value).",
        show_default=False,
    ),
]
StepOpt = Annotated[
    str | None,
    typer.Option(
        "--step",
        help="Grid step; every grid value is evaluated (default 1 for an integer var, else 0.01).",
        show_default=False,
    ),
]
PrecisionOpt = Annotated[
    str | None,
    typer.Option(
        "--precision",
        help="Instead of --step: bisect to this precision (assumes cost grows with the var).",
        show_default=False,
    ),
]
VarFormatOpt = Annotated[LayerFormat, typer.Option("--format", "-f", help="Output format.")]


def _evaluator(
    spec: Path, set_: Sequence[str], convention: str, device: DeviceRequest | None = None
) -> Evaluator:
    from sepcalc.cli.options import load
    from sepcalc.search import Evaluator

    return Evaluator(load(spec), get_convention(convention), parse_set(set_), device)


def _device(limits: Sequence[Limit], options: Sequence[Any]) -> DeviceRequest | None:
    """The device model the search needs: the options', or the default one for a peak memory
    or flash budget; None without device budgets (the options then change nothing)."""
    from sepcalc.device import DeviceRequest
    from sepcalc.search.targets import DEVICE_LIMITS

    request = device_request(*options)
    metrics = {b.metric for b in limits}
    if "latency" in metrics and (request is None or request.device is None):
        raise SepcalcError("--max-latency: a latency needs a device to run on; give --device")
    if not metrics & set(DEVICE_LIMITS):
        if request is not None:
            raise SepcalcError(
                "--device, --dtype, --batch and --memory apply to the device budgets "
                "(--max-latency, --max-peak-memory, --max-flash); give one"
            )
        return None
    return request or DeviceRequest()


def _var_search(name: str, default_var: str, summary: str, example: str) -> None:
    """Register ``search NAME``: the largest value of a var (``default_var`` unless --var)
    within every budget. ``width`` and ``resolution`` are this one command with two defaults."""

    def command(
        spec: SpecArg,
        max_macs: MaxMacs = None,
        max_params: MaxParams = None,
        max_flops: MaxFlops = None,
        max_activations: MaxActivations = None,
        max_latency: MaxLatency = None,
        max_peak_memory: MaxPeakMemory = None,
        max_flash: MaxFlash = None,
        var: VarOpt = default_var,
        range_: RangeOpt = None,
        step: StepOpt = None,
        precision: PrecisionOpt = None,
        set_: SetOpt = [],  # noqa: B006  (typer reads the default; it is never mutated)
        convention: ConventionOpt = "default",
        fmt: VarFormatOpt = LayerFormat.table,
        output: OutputOpt = None,
        device: DeviceOpt = None,
        dtype: DtypeOpt = None,
        weights_dtype: WeightsDtypeOpt = None,
        activations_dtype: ActivationsDtypeOpt = None,
        batch: BatchOpt = None,
        memory: MemoryOpt = None,
        efficiency: EfficiencyOpt = None,
    ) -> None:
        from sepcalc.report.search_var import render_var, var_to_dict
        from sepcalc.search import default_grid, search_var

        with user_errors():
            budgets = search_limits(
                {
                    "macs": max_macs,
                    "params": max_params,
                    "flops": max_flops,
                    "activations": max_activations,
                    "latency": max_latency,
                    "peak_memory": max_peak_memory,
                    "flash": max_flash,
                }
            )
            options = (device, dtype, weights_dtype, activations_dtype, batch, memory, efficiency)
            request = _device(budgets, options)
            if step is not None and precision is not None:
                raise SepcalcError("give either --step (evaluate every grid value) or --precision")
            low, high = parse_range(range_) if range_ is not None else (None, None)
            evaluator = _evaluator(spec, set_, convention, request)
            grid = default_grid(
                evaluator,
                var,
                low,
                high,
                None if step is None else parse_number(step, "--step"),
                None if precision is None else parse_number(precision, "--precision"),
            )
            with progress(var) as update:
                result = search_var(
                    evaluator,
                    var,
                    budgets,
                    grid.low,
                    grid.high,
                    grid.step,
                    grid.precision,
                    progress=update,
                )
        with output_to(output):
            if fmt is LayerFormat.json:
                typer.echo(json.dumps(var_to_dict(result, evaluator.convention, grid), indent=2))
            else:
                stdout().print(render_var(result, evaluator.convention, grid))
        raise typer.Exit(result.exit_code)

    command.__doc__ = summary
    search_app.command(name, epilog=f"Example: {example}")(command)


_var_search(
    "width",
    "alpha",
    "The largest width multiplier (or any --var) for which every budget holds.",
    "sepcalc search width examples/mobilenet_v1.yaml --max-macs 300M",
)
_var_search(
    "resolution",
    "resolution",
    "The largest input resolution (or any --var) for which every budget holds.",
    "sepcalc search resolution examples/mobilenet_v1.yaml --max-macs 300M --step 32",
)


@search_app.command(
    epilog="Example: sepcalc search grid examples/mobilenet_v1.yaml --var alpha=0.25:1.0:0.05 "
    "--var resolution=96:224:32 --max-macs 300M",
)
def grid(
    spec: SpecArg,
    var: Annotated[
        list[str],
        typer.Option(
            "--var",
            metavar="NAME=LOW:HIGH:STEP",
            help="A var and its values (inclusive range, or a list V1,V2,...); repeatable.",
            show_default=False,
        ),
    ],
    max_macs: MaxMacs = None,
    max_params: MaxParams = None,
    max_flops: MaxFlops = None,
    max_activations: MaxActivations = None,
    max_latency: MaxLatency = None,
    max_peak_memory: MaxPeakMemory = None,
    max_flash: MaxFlash = None,
    pareto: Annotated[
        str | None,
        typer.Option(
            "--pareto",
            metavar="A,B",
            help="The front's two keys: metrics or vars, larger is better unless prefixed "
            "min: (default min:macs,max:params: the most parameters for the MACs).",
            show_default=False,
        ),
    ] = None,
    exact_: Annotated[
        bool,
        typer.Option(
            "--exact",
            help="Build every point instead of replaying one graph per combination of the "
            "vars that change more than the input size (the same numbers, slower).",
        ),
    ] = False,
    set_: SetOpt = [],  # noqa: B006
    convention: ConventionOpt = "default",
    fmt: Annotated[GridFormat, typer.Option("--format", "-f", help="Output format.")] = (
        GridFormat.table
    ),
    output: OutputOpt = None,
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    weights_dtype: WeightsDtypeOpt = None,
    activations_dtype: ActivationsDtypeOpt = None,
    batch: BatchOpt = None,
    memory: MemoryOpt = None,
    efficiency: EfficiencyOpt = None,
    plot: PlotOpt = None,
) -> None:
    """Every combination of the vars' values: totals, within-budget marks, the Pareto front.

    Exit 1 when budgets are given and no combination meets them.
    """
    from sepcalc.report.search_grid import grid_to_csv, grid_to_dict, render_grid
    from sepcalc.search import grid_search

    with user_errors():
        given = {
            "macs": max_macs,
            "params": max_params,
            "flops": max_flops,
            "activations": max_activations,
            "latency": max_latency,
            "peak_memory": max_peak_memory,
            "flash": max_flash,
        }
        check_plot(plot)
        budgets = search_limits(given) if any(v is not None for v in given.values()) else []
        options = (device, dtype, weights_dtype, activations_dtype, batch, memory, efficiency)
        request = _device(budgets, options)
        axes = parse_axes(var)
        keys = parse_pareto(pareto, [a.name for a in axes])
        evaluator = _evaluator(spec, set_, convention, request)
        with progress("grid") as update:
            result = grid_search(evaluator, axes, budgets, keys, exact_, update)
    with output_to(output):
        if fmt is GridFormat.json:
            typer.echo(json.dumps(grid_to_dict(result, evaluator.convention), indent=2))
        elif fmt is GridFormat.csv:
            typer.echo(grid_to_csv(result), nl=False)
        else:
            stdout().print(render_grid(result, evaluator.convention))
    if plot is not None:
        from sepcalc.report.plots import grid_plot

        with user_errors():
            figure = grid_plot(result, evaluator.base.name)
        save_plot(figure, plot)
    raise typer.Exit(result.exit_code)


__all__ = ["search_app"]
