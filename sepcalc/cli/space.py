"""`sepcalc space`: exact answers over an architecture search space (docs/search.md).

A space is a spec whose values may be choices (``k: {choice: [3, 5, 7]}``). Its own command
group, not more ``search`` subcommands: ``search`` varies the vars of an ordinary spec over a
grid it is given on the command line; a space file declares its choices itself, per stage and
per block, and every command here answers over all of its assignments at once.
Exit codes: 0 answered, 1 nothing within the bounds, 2 bad input (or a question that cannot be
answered exactly within the limits: the message says why).
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
    SetOpt,
    WeightsDtypeOpt,
    check_plot,
    device_request,
    parse_bounds,
    parse_choices,
    parse_device_bounds,
    parse_keys,
    parse_set,
    source_name,
)
from sepcalc.conventions import get_convention

if TYPE_CHECKING:
    from sepcalc.device import DeviceRequest
    from sepcalc.search.decompose import Decomposition
    from sepcalc.search.exact import Bound

space_app = Typer(
    name="space",
    help="Architecture search spaces (a spec with choices): the exact number of architectures "
    "within a budget, the distribution of a total, the Pareto front, the best architecture, "
    "uniform samples. Exit codes: 0 answered, 1 nothing within the bounds, 2 bad input. "
    "See docs/search.md.",
    no_args_is_help=True,
)
app.add_typer(space_app, name="space")


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class Sampler(StrEnum):
    uniform = "uniform"
    ofa = "ofa"


SpaceArg = Annotated[
    Path,
    typer.Argument(
        help="Search space (a spec with choices, YAML), or - to read it from stdin.",
        metavar="SPACE",
    ),
]
ChoiceOpt = Annotated[
    list[str],
    typer.Option(
        "--choice",
        metavar="NAME=LOW:HIGH:STEP",
        help="Make a var a choice: --choice resolution=128:224:4 or resolution=160,192,224 "
        "(repeatable).",
    ),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]


def _max(metric: str) -> Any:
    return typer.Option(
        f"--max-{metric}",
        metavar="N",
        help=f"Bound: total {metric} <= N (SI suffixes: 300M, 4.2M).",
        show_default=False,
    )


def _band(metric: str) -> Any:
    return typer.Option(
        f"--{metric}",
        metavar="LOW:HIGH",
        help=f"Bound: LOW <= total {metric} <= HIGH (either end may be left out).",
        show_default=False,
    )


MaxMacs = Annotated[str | None, _max("macs")]
MaxParams = Annotated[str | None, _max("params")]
MaxFlops = Annotated[str | None, _max("flops")]
MaxActivations = Annotated[str | None, _max("activations")]
Macs = Annotated[str | None, _band("macs")]
Params = Annotated[str | None, _band("params")]
Flops = Annotated[str | None, _band("flops")]
Activations = Annotated[str | None, _band("activations")]
MaxLatency = Annotated[
    str | None,
    typer.Option(
        "--max-latency", metavar="T", show_default=False,
        help="Bound: roofline latency on --device <= T (e.g. 2ms, 0.02s).",
    ),
]  # fmt: skip
MaxPeakMemory = Annotated[
    str | None,
    typer.Option(
        "--max-peak-memory", metavar="BYTES", show_default=False,
        help="Bound: peak activation memory <= BYTES (e.g. 320KiB; see --dtype, --memory).",
    ),
]  # fmt: skip
MaxFlash = Annotated[
    str | None,
    typer.Option(
        "--max-flash", metavar="BYTES", show_default=False,
        help="Bound: parameters' bytes at the weights' type <= BYTES (e.g. 1MiB).",
    ),
]  # fmt: skip
DEVICE_TOTALS = ("latency", "flash", "peak_memory")


def _decomposition(
    space: Path,
    set_: Sequence[str],
    choice: Sequence[str],
    convention: str,
    device: DeviceRequest | None = None,
) -> Decomposition:
    from sepcalc.cli.options import STDIN, STDIN_NAME, read_stdin
    from sepcalc.search.decompose import Decomposition
    from sepcalc.search.space import load_space

    fixed, varied = parse_set(set_), parse_choices(choice)
    loaded = (
        load_space(STDIN_NAME, fixed, varied, read_stdin())
        if str(space) == STDIN
        else load_space(space, fixed, varied)
    )
    return Decomposition(loaded, get_convention(convention), device)


def _device(
    options: Sequence[Any], bounds: Sequence[Bound], metrics: Sequence[str]
) -> DeviceRequest | None:
    """The device model the command needs: the options', or the default one (fp32, batch 1,
    plain) when a bound or metric uses a device total without them; worded as ``check``."""
    from sepcalc.device import DeviceRequest
    from sepcalc.errors import SepcalcError

    request = device_request(*options)
    used = {b.metric for b in bounds} | set(metrics)
    if "latency" in used and (request is None or request.device is None):
        latency = next((b for b in bounds if b.metric == "latency"), None)
        given = (
            latency.shown.replace("latency <= ", "--max-latency ")
            if latency and latency.shown
            else "latency"
        )
        raise SepcalcError(
            f"{given}: a latency needs a device to run on; give --device NAME (e.g. "
            "cortex-m7-f746) or a device file"
        )
    if request is None and used & set(DEVICE_TOTALS):
        return DeviceRequest()
    return request


def _bounds(
    max_macs: str | None,
    max_params: str | None,
    max_flops: str | None,
    max_activations: str | None,
    macs: str | None,
    params: str | None,
    flops: str | None,
    activations: str | None,
    device: tuple[str | None, str | None, str | None] = (None, None, None),
) -> list[Bound]:
    """The bounds of the options; ``device``: --max-latency, --max-peak-memory, --max-flash."""
    latency, peak_memory, flash = device
    return [
        *parse_bounds(
            {
                "macs": max_macs,
                "params": max_params,
                "flops": max_flops,
                "activations": max_activations,
            },
            {"macs": macs, "params": params, "flops": flops, "activations": activations},
        ),
        *parse_device_bounds({"latency": latency, "peak_memory": peak_memory, "flash": flash}),
    ]


def _emit(
    data: Any,
    fmt: Format,
    to_dict: Any,
    to_csv: Any,
    render: Any,
    code: int,
    output: Path | None,
    plot: tuple[Path, Any] | None = None,
) -> None:
    """Print the result (to ``output`` when given); then, given ``plot`` (a file and a function
    making the figure), draw it to that file."""
    with output_to(output):
        if fmt is Format.json:
            typer.echo(json.dumps(to_dict(), indent=2))
        elif fmt is Format.csv and to_csv is not None:
            typer.echo(to_csv(), nl=False)
        else:
            stdout().print(render())
    if plot is not None:
        with user_errors():
            figure = plot[1]()
        save_plot(figure, plot[0])
    raise typer.Exit(code)


@space_app.command(
    epilog="Example: sepcalc space count examples/spaces/ofa_mobilenet_v3.yaml --max-macs 300M"
)
def count(
    space: SpaceArg,
    max_macs: MaxMacs = None,
    max_params: MaxParams = None,
    max_flops: MaxFlops = None,
    max_activations: MaxActivations = None,
    macs: Macs = None,
    params: Params = None,
    flops: Flops = None,
    activations: Activations = None,
    max_latency: MaxLatency = None,
    max_peak_memory: MaxPeakMemory = None,
    max_flash: MaxFlash = None,
    ofa: Annotated[
        bool,
        typer.Option(
            "--ofa",
            help="Also the exact share of the architectures OFA's sampler draws (every choice "
            "uniform: depth uniform per stage) that are within the bound: what a rejection "
            "sampler keeps. One bound.",
        ),
    ] = False,
    set_: SetOpt = [],  # noqa: B006  (typer reads the default; it is never mutated)
    choice: ChoiceOpt = [],  # noqa: B006
    convention: ConventionOpt = "default",
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    weights_dtype: WeightsDtypeOpt = None,
    activations_dtype: ActivationsDtypeOpt = None,
    batch: BatchOpt = None,
    memory: MemoryOpt = None,
    efficiency: EfficiencyOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """The exact number of architectures, and how many are within the bounds.

    Also lists the choices and the stages the space was cut into; per var value when a var is
    a choice.

    Exit 1 when bounds are given and no architecture is within them.
    """
    from sepcalc.report.space import count_to_dict, render_count
    from sepcalc.search.spaces import count_space

    with user_errors():
        bounds = _bounds(
            max_macs, max_params, max_flops, max_activations, macs, params, flops, activations,
            (max_latency, max_peak_memory, max_flash),
        )  # fmt: skip
        request = _device(
            (device, dtype, weights_dtype, activations_dtype, batch, memory, efficiency),
            bounds,
            (),
        )
        dec = _decomposition(space, set_, choice, convention, request)
        with progress("count") as update:
            result = count_space(dec, bounds, update, ofa)
    _emit(
        result,
        fmt,
        lambda: count_to_dict(result, dec.convention),
        None,
        lambda: render_count(result, dec.convention),
        result.exit_code,
        output,
    )


@space_app.command(
    epilog="Example: sepcalc space distribution examples/spaces/ofa_mobilenet_v3.yaml "
    "--metric macs --bins 20"
)
def distribution(
    space: SpaceArg,
    metric: Annotated[
        str,
        typer.Option(
            "--metric", help="macs, params, flops, activations or flash (bytes; see --dtype)."
        ),
    ] = "macs",
    bins: Annotated[
        int | None,
        typer.Option("--bins", help="Equal bins from the smallest to the largest total.", min=1),
    ] = None,
    by_var: Annotated[
        bool, typer.Option("--by-var", help="One distribution per value of the var choices.")
    ] = False,
    max_macs: MaxMacs = None,
    max_params: MaxParams = None,
    max_flops: MaxFlops = None,
    max_activations: MaxActivations = None,
    macs: Macs = None,
    params: Params = None,
    flops: Flops = None,
    activations: Activations = None,
    max_latency: MaxLatency = None,
    max_peak_memory: MaxPeakMemory = None,
    max_flash: MaxFlash = None,
    set_: SetOpt = [],  # noqa: B006
    choice: ChoiceOpt = [],  # noqa: B006
    convention: ConventionOpt = "default",
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    weights_dtype: WeightsDtypeOpt = None,
    activations_dtype: ActivationsDtypeOpt = None,
    batch: BatchOpt = None,
    memory: MemoryOpt = None,
    efficiency: EfficiencyOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    plot: PlotOpt = None,
) -> None:
    """The exact distribution of a total over the space.

    Min, exact mean, quantiles, max, and every value (csv, json) or bins with their exact
    counts and the CDF. With bounds, also how many of the architectures are within them
    (table, json; exit 1 when none is).

    --plot draws the histogram and the CDF (one per var value with --by-var, each labelled
    with its share within the bounds) and a bound on --metric as a line.
    """
    from sepcalc.report.space import (
        distribution_to_csv,
        distribution_to_dict,
        render_distribution,
    )
    from sepcalc.search.shares import curves, with_bounds
    from sepcalc.search.spaces import distribution as run

    with user_errors():
        check_plot(plot)
        bounds = _bounds(
            max_macs, max_params, max_flops, max_activations, macs, params, flops, activations,
            (max_latency, max_peak_memory, max_flash),
        )  # fmt: skip
        request = _device(
            (device, dtype, weights_dtype, activations_dtype, batch, memory, efficiency),
            bounds,
            (metric,) if metric == "flash" else (),
        )
        dec = _decomposition(space, set_, choice, convention, request)
        with progress("distribution") as update:
            result = run(dec, metric, bins, by_var, update)
        if bounds:
            with progress("count within the bounds") as update:
                result = with_bounds(dec, result, bounds, update)
    _emit(
        result,
        fmt,
        lambda: distribution_to_dict(result),
        lambda: distribution_to_csv(result),
        lambda: render_distribution(result),
        result.exit_code,
        output,
        None if plot is None else (plot, lambda: _plot("distribution_plot", curves(result))),
    )


def _plot(name: str, data: Any) -> Any:
    """The figure that :mod:`sepcalc.report.plots`' function ``name`` draws of ``data``."""
    from sepcalc.report import plots

    return getattr(plots, name)(data)


@space_app.command(
    epilog="Example: sepcalc space pareto examples/spaces/ofa_mobilenet_v3.yaml "
    "--keys min:macs,max:params --max-macs 400M"
)
def pareto(
    space: SpaceArg,
    keys: Annotated[
        str,
        typer.Option(
            "--keys",
            metavar="A,B,...",
            help="The front's metrics, larger is better unless prefixed min: (default: the "
            "most parameters for the fewest MACs).",
        ),
    ] = "min:macs,max:params",
    max_macs: MaxMacs = None,
    max_params: MaxParams = None,
    max_flops: MaxFlops = None,
    max_activations: MaxActivations = None,
    macs: Macs = None,
    params: Params = None,
    flops: Flops = None,
    activations: Activations = None,
    max_latency: MaxLatency = None,
    max_peak_memory: MaxPeakMemory = None,
    max_flash: MaxFlash = None,
    set_: SetOpt = [],  # noqa: B006
    choice: ChoiceOpt = [],  # noqa: B006
    convention: ConventionOpt = "default",
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    weights_dtype: WeightsDtypeOpt = None,
    activations_dtype: ActivationsDtypeOpt = None,
    batch: BatchOpt = None,
    memory: MemoryOpt = None,
    efficiency: EfficiencyOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    plot: PlotOpt = None,
) -> None:
    """The exact Pareto front of the architectures within the bounds.

    Each point with one architecture's choices. Exit 1 when none is within the bounds.

    --plot draws the front as a staircase in the plane of the first two keys, with the bounds
    on them as lines (a third key colours the points).
    """
    from sepcalc.report.space import front_to_csv, front_to_dict, render_front
    from sepcalc.search.spaces import pareto as run

    with user_errors():
        check_plot(plot)
        bounds = _bounds(
            max_macs, max_params, max_flops, max_activations, macs, params, flops, activations,
            (max_latency, max_peak_memory, max_flash),
        )  # fmt: skip
        parsed = parse_keys(keys)
        request = _device(
            (device, dtype, weights_dtype, activations_dtype, batch, memory, efficiency),
            bounds,
            [m for m, _ in parsed],
        )
        dec = _decomposition(space, set_, choice, convention, request)
        with progress("pareto") as update:
            result = run(dec, parsed, bounds, update)
    _emit(
        result,
        fmt,
        lambda: front_to_dict(result, dec.convention),
        lambda: front_to_csv(result),
        lambda: render_front(result, dec.convention),
        result.exit_code,
        output,
        None if plot is None else (plot, lambda: _plot("front_plot", result)),
    )


@space_app.command(
    epilog="Example: sepcalc space best examples/spaces/ofa_mobilenet_v3.yaml --maximize params "
    "--max-macs 300M --out best.yaml"
)
def best(
    space: SpaceArg,
    maximize: Annotated[
        str | None, typer.Option("--maximize", metavar="METRIC", show_default=False)
    ] = None,
    minimize: Annotated[
        str | None, typer.Option("--minimize", metavar="METRIC", show_default=False)
    ] = None,
    max_macs: MaxMacs = None,
    max_params: MaxParams = None,
    max_flops: MaxFlops = None,
    max_activations: MaxActivations = None,
    macs: Macs = None,
    params: Params = None,
    flops: Flops = None,
    activations: Activations = None,
    max_latency: MaxLatency = None,
    max_peak_memory: MaxPeakMemory = None,
    max_flash: MaxFlash = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the best architecture as an ordinary spec (YAML)."),
    ] = None,
    set_: SetOpt = [],  # noqa: B006
    choice: ChoiceOpt = [],  # noqa: B006
    convention: ConventionOpt = "default",
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    weights_dtype: WeightsDtypeOpt = None,
    activations_dtype: ActivationsDtypeOpt = None,
    batch: BatchOpt = None,
    memory: MemoryOpt = None,
    efficiency: EfficiencyOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """The architecture with the largest or smallest total within the bounds.

    --maximize or --minimize one metric. Exit 1 when none is within the bounds.
    """
    from sepcalc.errors import SepcalcError
    from sepcalc.report.space import best_to_dict, render_best
    from sepcalc.search.spaces import best as run

    with user_errors():
        if (maximize is None) == (minimize is None):
            raise SepcalcError("give one of --maximize METRIC or --minimize METRIC")
        objective = (maximize, 1) if maximize is not None else (minimize or "", -1)
        bounds = _bounds(
            max_macs, max_params, max_flops, max_activations, macs, params, flops, activations,
            (max_latency, max_peak_memory, max_flash),
        )  # fmt: skip
        request = _device(
            (device, dtype, weights_dtype, activations_dtype, batch, memory, efficiency),
            bounds,
            (objective[0],),
        )
        dec = _decomposition(space, set_, choice, convention, request)
        with progress("best") as update:
            result = run(dec, objective, bounds, update)
        if out is not None and result.best is not None:
            text = dec.space.concrete_yaml(
                result.best.assignment,
                f"{dec.space.name}: the best architecture of {source_name(space)}",
            )
            out.write_text(text, encoding="utf-8")
    _emit(
        result,
        fmt,
        lambda: best_to_dict(result, dec.convention),
        None,
        lambda: render_best(result, dec.convention),
        result.exit_code,
        output,
    )


@space_app.command(
    epilog="Example: sepcalc space sample examples/spaces/ofa_mobilenet_v3.yaml -n 500 "
    "--max-macs 300M --seed 1"
)
def sample(
    space: SpaceArg,
    n: Annotated[int, typer.Option("-n", "--samples", help="How many.", min=1)] = 10,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same samples).")] = 0,
    sampler: Annotated[
        Sampler,
        typer.Option(
            "--sampler",
            help="uniform: every architecture within the bounds equally likely; ofa: every "
            "choice uniform and independent (depth uniform per stage), as OFA samples, kept when "
            "within the bounds.",
        ),
    ] = Sampler.uniform,
    max_macs: MaxMacs = None,
    max_params: MaxParams = None,
    max_flops: MaxFlops = None,
    max_activations: MaxActivations = None,
    macs: Macs = None,
    params: Params = None,
    flops: Flops = None,
    activations: Activations = None,
    max_latency: MaxLatency = None,
    max_peak_memory: MaxPeakMemory = None,
    max_flash: MaxFlash = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write each sample as an ordinary spec into this directory."),
    ] = None,
    set_: SetOpt = [],  # noqa: B006
    choice: ChoiceOpt = [],  # noqa: B006
    convention: ConventionOpt = "default",
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    weights_dtype: WeightsDtypeOpt = None,
    activations_dtype: ActivationsDtypeOpt = None,
    batch: BatchOpt = None,
    memory: MemoryOpt = None,
    efficiency: EfficiencyOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    plot: PlotOpt = None,
) -> None:
    """N architectures within the bounds, drawn with a seed.

    Each is an ordinary spec (--out) that `analyze` counts exactly as shown. Exit 1 when none
    is within the bounds.

    --plot draws the samples as points over MACs and parameters, with the bounds on these.
    """
    from sepcalc.report.space import (
        render_samples,
        samples_to_csv,
        samples_to_dict,
        total_text,
    )
    from sepcalc.search.exact import CHOICE_UNIFORM, UNIFORM
    from sepcalc.search.spaces import sample as run

    with user_errors():
        check_plot(plot)
        bounds = _bounds(
            max_macs, max_params, max_flops, max_activations, macs, params, flops, activations,
            (max_latency, max_peak_memory, max_flash),
        )  # fmt: skip
        request = _device(
            (device, dtype, weights_dtype, activations_dtype, batch, memory, efficiency),
            bounds,
            (),
        )
        dec = _decomposition(space, set_, choice, convention, request)
        how = CHOICE_UNIFORM if sampler is Sampler.ofa else UNIFORM
        with progress("sample") as update:
            result = run(dec, n, seed, bounds, how, update)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            width = len(str(len(result.samples)))
            for k, s in enumerate(result.samples, 1):
                origin = f"{source_name(space)} (seed {seed}, {sampler.value})"
                comment = f"{dec.space.name}: sample {k} of {origin}; " + ", ".join(
                    f"{m} {total_text(m, v)}" for m, v in s.totals.items()
                )
                path = out / f"sample-{k:0{width}d}.yaml"
                path.write_text(dec.space.concrete_yaml(s.assignment, comment), encoding="utf-8")
    _emit(
        result,
        fmt,
        lambda: samples_to_dict(result, dec.convention),
        lambda: samples_to_csv(result),
        lambda: render_samples(result, dec.convention),
        result.exit_code,
        output,
        None if plot is None else (plot, lambda: _plot("samples_plot", result)),
    )


__all__ = ["space_app"]
