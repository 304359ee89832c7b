"""`sepcalc search`: inverse design (docs/search.md).

Layer level (``channels``, ``kernel``): the smallest C_out or k for a target reduction.
Network level (``width``, ``resolution``, ``grid``): the largest net within a budget.
Exit codes: 0 found, 1 infeasible (nothing meets the target or the budget), 2 bad input.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sepcalc.cli import EXIT_FAILED, app, stderr, stdout, user_errors
from sepcalc.cli.analyze import ConventionOpt, SetOpt
from sepcalc.conventions import Convention, get_convention
from sepcalc.errors import SepcalcError

if TYPE_CHECKING:
    from sepcalc.expr import Number
    from sepcalc.search import (
        Evaluated,
        Evaluator,
        GridResult,
        LayerModel,
        LayerResult,
        Limit,
        Totals,
        VarResult,
    )

search_app = typer.Typer(
    name="search",
    help="Inverse design: the smallest C_out or kernel for a target reduction of a separable "
    "layer, and the largest network (width, resolution, any spec var) within a budget. "
    "Exit codes: 0 found, 1 infeasible, 2 bad input. See docs/search.md.",
    no_args_is_help=True,
)
app.add_typer(search_app, name="search")


class Metric(StrEnum):
    macs = "macs"
    params = "params"
    flops = "flops"


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
    Metric,
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


def _model(metric: Metric, convention: str, count: str, c_in: int | None) -> LayerModel:
    from sepcalc.search import LayerModel
    from sepcalc.symbolic import parse_count

    return LayerModel(metric.value, get_convention(convention), parse_count(count), c_in)


@search_app.command(
    epilog="Example: sepcalc search channels --k 3 --max-ratio 0.12",
)
def channels(
    k: Annotated[int, typer.Option("--k", help="Kernel size (square k x k).", min=1)] = 3,
    max_ratio: MaxRatio = None,
    min_factor: MinFactor = None,
    min_savings: MinSavings = None,
    metric: MetricOpt = Metric.macs,
    convention: ConventionOpt = "default",
    count: CountOpt = "",
    c_in: CInOpt = None,
    max_c_out: MaxCOutOpt = None,
    max_k: MaxKOpt = None,
    odd: OddOpt = False,
    fmt: LayerFormatOpt = LayerFormat.table,
) -> None:
    """The smallest C_out at which a k x k depthwise separable conv meets the target.

    For MACs the ratio is 1/C_out + 1/k**2 whatever C_in and the feature map size: below
    1/k**2 is out of reach. --max-k and --odd shape the suggestion when the target is.
    """
    from sepcalc.search import make_target, search_channels

    with user_errors():
        model = _model(metric, convention, count, c_in)
        target = make_target(max_ratio, min_factor, min_savings)
        result = search_channels(model, k, target, max_c_out, max_k, odd)
    _print_layer(result, fmt)


@search_app.command(
    epilog="Example: sepcalc search kernel --c-out 128 --min-savings 88%",
)
def kernel(
    c_out: Annotated[int, typer.Option("--c-out", help="Output channels.", min=1)],
    max_ratio: MaxRatio = None,
    min_factor: MinFactor = None,
    min_savings: MinSavings = None,
    metric: MetricOpt = Metric.macs,
    convention: ConventionOpt = "default",
    count: CountOpt = "",
    c_in: CInOpt = None,
    max_k: MaxKOpt = None,
    odd: OddOpt = False,
    max_c_out: MaxCOutOpt = None,
    fmt: LayerFormatOpt = LayerFormat.table,
) -> None:
    """The smallest kernel at which a depthwise separable conv with C_out outputs meets the target.

    For MACs the ratio is 1/C_out + 1/k**2: below 1/C_out is out of reach. --max-c-out shapes
    the suggestion when the target is.
    """
    from sepcalc.search import make_target, search_kernel

    with user_errors():
        model = _model(metric, convention, count, c_in)
        target = make_target(max_ratio, min_factor, min_savings)
        result = search_kernel(model, c_out, target, max_k, odd, max_c_out)
    _print_layer(result, fmt)


def _dec(x: Fraction, digits: int = 6) -> str:
    return f"{float(x):.{digits}g}"


def _achieved_dict(a: Any) -> dict[str, Any]:
    return {
        "ratio": str(a.ratio),
        "ratio_decimal": float(a.ratio),
        "factor": str(a.factor),
        "factor_decimal": float(a.factor),
        "savings": str(a.savings),
        "savings_percent": float(a.savings * 100),
    }


def layer_to_dict(r: LayerResult) -> dict[str, Any]:
    return {
        "feasible": r.feasible,
        "search": r.unknown,
        "fixed": dict(r.fixed),
        "target": {"text": r.target.text, "max_ratio": str(r.target.max_ratio)},
        "metric": r.model.metric,
        "convention": r.model.convention.name if r.model.metric == "flops" else None,
        "count": r.model.count.names(),
        "c_in": r.model.c_in,
        "ratio": r.closed_form,
        "ratio_general": r.general_form,
        "answer": r.answer.value if r.answer else None,
        "achieved": _achieved_dict(r.answer) if r.answer else None,
        "next_fails": r.next_fails.value if r.next_fails else None,
        "next_fails_achieved": _achieved_dict(r.next_fails) if r.next_fails else None,
        "reason": r.reason,
    }


def _summary(a: Any) -> str:
    return (
        f"ratio {a.ratio} = {_dec(a.ratio)}, factor {_dec(a.factor, 5)}x, "
        f"savings {_dec(a.savings * 100, 6)}%"
    )


def _print_layer(r: LayerResult, fmt: LayerFormat) -> None:
    if fmt is LayerFormat.json:
        typer.echo(json.dumps(layer_to_dict(r), indent=2))
    else:
        from rich.table import Table

        fixed = ", ".join(f"{k}={v}" for k, v in r.fixed.items())
        out = stdout()
        out.print(
            f"Smallest {r.unknown} with {r.target.text} at {fixed}; ratio = {r.model.describe()}",
            markup=False,
        )
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        table.add_row("ratio", f"{r.closed_form}   (in general {r.general_form})")
        if r.answer is not None:
            table.add_row("answer", f"{r.unknown} = {r.answer.value}")
            table.add_row("achieved", _summary(r.answer))
            if r.next_fails is not None:
                table.add_row(
                    "next smaller",
                    f"{r.unknown} = {r.next_fails.value} fails: {_summary(r.next_fails)}",
                )
            else:
                table.add_row("next smaller", "none: this is the smallest there is")
        out.print(table)
        if r.answer is None:
            out.print(f"infeasible: {r.reason}", markup=False)
    if not r.feasible:
        raise typer.Exit(EXIT_FAILED)


# --------------------------------------------------------------------------------------------
# Network level

SpecArg = Annotated[Path, typer.Argument(help="Network spec (YAML).", show_default=False)]


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


def _limits(**given: str | None) -> list[Limit]:
    from sepcalc.budget import BudgetValueError, parse_count
    from sepcalc.search import Limit

    limits = []
    for metric, text in given.items():
        if text is None:
            continue
        try:
            limits.append(Limit(metric, parse_count(text)))
        except BudgetValueError as exc:
            raise SepcalcError(f"--max-{metric} {text}: {exc}") from None
    return limits


def _number(text: str, flag: str) -> Number:
    from sepcalc.expr import ExprError, exact

    try:
        return exact(text)
    except ExprError as exc:
        raise SepcalcError(f"{flag}: {exc}") from None


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when it is a terminal (a long sweep), else nothing."""
    err = stderr()
    if not err.is_terminal:
        yield None
        return
    from rich.progress import Progress

    with Progress(console=err, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield update


def _evaluator(spec: Path, set_: Sequence[str], convention: str) -> Evaluator:
    from sepcalc.graph import parse_overrides
    from sepcalc.search import Evaluator
    from sepcalc.spec import load_spec

    return Evaluator(load_spec(spec), get_convention(convention), parse_overrides(set_))


def _var_command(
    spec: Path,
    var: str,
    range_: str | None,
    step: str | None,
    precision: str | None,
    limits: dict[str, str | None],
    set_: Sequence[str],
    convention: str,
    fmt: LayerFormat,
) -> None:
    from sepcalc.search import search_var

    with user_errors():
        budgets = _limits(**limits)
        evaluator = _evaluator(spec, set_, convention)
        default = evaluator.default(var)
        step_n = None if step is None else _number(step, "--step")
        precision_n = None if precision is None else _number(precision, "--precision")
        if step_n is None and precision_n is None:
            step_n = evaluator.default_step(var)
        unit = step_n if step_n is not None else precision_n
        assert unit is not None
        if range_ is None:
            low, high = unit, default
        else:
            lo_text, sep, hi_text = range_.partition(":")
            if not sep:
                raise SepcalcError(f"--range '{range_}': expected LOW:HIGH, e.g. 0.25:1.0")
            low, high = _number(lo_text, "--range"), _number(hi_text, "--range")
        with _progress(f"{var}") as progress:
            result = search_var(
                evaluator, var, budgets, low, high, step_n, precision_n, progress=progress
            )
    _print_var(result, evaluator.convention, (low, high, step_n, precision_n), fmt)


def _over(totals: Totals | None, budgets: Sequence[Limit], error: str | None = None) -> str:
    if totals is None:
        return f"does not build: {error}"
    broken = [b.metric for b in budgets if not b.holds(totals)]
    return "within budget" if not broken else "over: " + ", ".join(broken)


def var_to_dict(
    r: VarResult, convention: Convention, grid: tuple[Any, Any, Any, Any]
) -> dict[str, Any]:
    from sepcalc.report.numbers import plain

    low, high, step, precision = grid

    def at(e: Evaluated | None) -> dict[str, int] | None:
        return e.totals.as_dict() if e is not None and e.totals is not None else None

    return {
        "feasible": r.feasible,
        "var": r.var,
        "answer": plain(r.answer.value) if r.answer else None,
        "achieved": at(r.answer),
        "next_fails": plain(r.next_fails.value) if r.next_fails else None,
        "next_fails_achieved": at(r.next_fails),
        "next_fails_error": r.next_fails.error if r.next_fails else None,
        "reason": r.reason,
        "budgets": {b.metric: b.limit for b in r.budgets},
        "range": {
            "low": plain(low),
            "high": plain(high),
            "step": None if step is None else plain(step),
            "precision": None if precision is None else plain(precision),
        },
        "method": r.method,
        "evaluated": len(r.evaluated),
        "notes": list(r.notes),
        "flops_convention": convention.name,
    }


def _flops_note(convention: Convention) -> str:
    return f"FLOPs: {convention.name} convention ({convention.description})."


def _print_var(
    r: VarResult, convention: Convention, grid: tuple[Any, Any, Any, Any], fmt: LayerFormat
) -> None:
    if fmt is LayerFormat.json:
        typer.echo(json.dumps(var_to_dict(r, convention, grid), indent=2))
    else:
        from rich.table import Table

        from sepcalc.report.numbers import var as show
        from sepcalc.search import NET_METRICS

        low, high, step, precision = grid
        how = f"step {show(step)}" if step is not None else f"bisection to {show(precision)}"
        limits = " and ".join(f"{b.metric} <= {b.limit:,}" for b in r.budgets)
        out = stdout()
        out.print(
            f"Largest {r.var} in {show(low)}..{show(high)} ({how}) with {limits}",
            markup=False,
        )
        table = Table(box=None, header_style="bold", pad_edge=False)
        for name, justify in (("", "left"), (r.var, "right")):
            table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
        for metric in NET_METRICS:
            table.add_column("MACs" if metric == "macs" else metric, justify="right")
        table.add_column("")
        for label, e in (("answer", r.answer), ("next", r.next_fails)):
            if e is None:
                continue
            counts = [f"{e.totals.get(m):,}" if e.totals else "-" for m in NET_METRICS]
            table.add_row(label, show(e.value), *counts, _over(e.totals, r.budgets, e.error))
        if r.answer is not None:
            out.print(table)
        else:
            out.print(f"infeasible: {r.reason}", markup=False)
        for note in r.notes:
            out.print(f"note: {note}", markup=False)
        out.print(_flops_note(convention), markup=False, style="dim")
    if not r.feasible:
        raise typer.Exit(EXIT_FAILED)


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


@search_app.command(
    epilog="Example: sepcalc search width examples/mobilenet_v1.yaml --max-macs 300M",
)
def width(
    spec: SpecArg,
    max_macs: MaxMacs = None,
    max_params: MaxParams = None,
    max_flops: MaxFlops = None,
    max_activations: MaxActivations = None,
    var: VarOpt = "alpha",
    range_: RangeOpt = None,
    step: StepOpt = None,
    precision: PrecisionOpt = None,
    set_: SetOpt = [],  # noqa: B006  (typer reads the default; it is never mutated)
    convention: ConventionOpt = "default",
    fmt: VarFormatOpt = LayerFormat.table,
) -> None:
    """The largest width multiplier (or any --var) for which every budget holds."""
    limits = {
        "macs": max_macs,
        "params": max_params,
        "flops": max_flops,
        "activations": max_activations,
    }
    _var_command(spec, var, range_, step, precision, limits, set_, convention, fmt)


@search_app.command(
    epilog="Example: sepcalc search resolution examples/mobilenet_v1.yaml --max-macs 300M "
    "--step 32",
)
def resolution(
    spec: SpecArg,
    max_macs: MaxMacs = None,
    max_params: MaxParams = None,
    max_flops: MaxFlops = None,
    max_activations: MaxActivations = None,
    var: VarOpt = "resolution",
    range_: RangeOpt = None,
    step: StepOpt = None,
    precision: PrecisionOpt = None,
    set_: SetOpt = [],  # noqa: B006
    convention: ConventionOpt = "default",
    fmt: VarFormatOpt = LayerFormat.table,
) -> None:
    """The largest input resolution (or any --var) for which every budget holds."""
    limits = {
        "macs": max_macs,
        "params": max_params,
        "flops": max_flops,
        "activations": max_activations,
    }
    _var_command(spec, var, range_, step, precision, limits, set_, convention, fmt)


TABLE_ROWS = 200
"""A grid table lists every point up to this many; beyond, the Pareto front only."""


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
) -> None:
    """Every combination of the vars' values: totals, within-budget marks, the Pareto front.

    Exit 1 when budgets are given and no combination meets them.
    """
    from sepcalc.search import grid_search, parse_axis, parse_pareto

    with user_errors():
        budgets = _limits(
            macs=max_macs, params=max_params, flops=max_flops, activations=max_activations
        )
        axes = [parse_axis(v) for v in var]
        keys = parse_pareto(pareto, [a.name for a in axes])
        evaluator = _evaluator(spec, set_, convention)
        with _progress("grid") as progress:
            result = grid_search(evaluator, axes, budgets, keys, exact_, progress)
    if fmt is GridFormat.json:
        typer.echo(json.dumps(grid_to_dict(result, evaluator.convention), indent=2))
    elif fmt is GridFormat.csv:
        typer.echo(grid_to_csv(result), nl=False)
    else:
        _print_grid(result, evaluator.convention)
    if budgets and not any(result.within):
        raise typer.Exit(EXIT_FAILED)


def _grid_reason(r: GridResult) -> str | None:
    if any(r.within):
        return None
    built = [t for t in r.totals if t is not None]
    if not built:
        return "no combination builds"
    parts = []
    for b in r.budgets:
        least = min(t.get(b.metric) for t in built)
        parts.append(f"the smallest {b.metric} is {least:,} (budget {b.limit:,})")
    return "no combination is within budget: " + "; ".join(parts)


def grid_to_dict(r: GridResult, convention: Convention) -> dict[str, Any]:
    front = set(r.front)
    return {
        "feasible": any(r.within),
        "vars": [a.name for a in r.axes],
        "budgets": {b.metric: b.limit for b in r.budgets},
        "pareto": list(r.pareto),
        "front": [_point(r, i, front) for i in r.front],
        "points": [_point(r, i, front) for i in range(len(r.points))],
        "reason": _grid_reason(r),
        "method": r.method,
        "builds": r.builds,
        "notes": list(r.notes),
        "flops_convention": convention.name,
    }


def _point(r: GridResult, i: int, front: set[int]) -> dict[str, Any]:
    from sepcalc.report.numbers import plain
    from sepcalc.search import NET_METRICS

    totals = r.totals[i]
    return {
        **{name: plain(v) for name, v in r.points[i].items()},
        **(totals.as_dict() if totals else dict.fromkeys(NET_METRICS)),
        "within": r.within[i],
        "pareto": i in front,
        "error": r.errors[i],
    }


def grid_to_csv(r: GridResult) -> str:
    import csv
    import io

    from sepcalc.report.numbers import var as show
    from sepcalc.search import NET_METRICS

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    names = [a.name for a in r.axes]
    writer.writerow([*names, *NET_METRICS, "within", "pareto", "error"])
    front = set(r.front)
    for i, point in enumerate(r.points):
        totals = r.totals[i]
        counts = [totals.get(m) if totals else "" for m in NET_METRICS]
        writer.writerow(
            [
                *(show(point[n]) for n in names),
                *counts,
                int(r.within[i]),
                int(i in front),
                r.errors[i] or "",
            ]
        )
    return buf.getvalue()


def _print_grid(r: GridResult, convention: Convention) -> None:
    from rich.table import Table

    from sepcalc.report.numbers import var as show
    from sepcalc.search import NET_METRICS

    out = stdout()
    names = [a.name for a in r.axes]
    front = set(r.front)
    rows = range(len(r.points)) if len(r.points) <= TABLE_ROWS else r.front
    title = (
        f"{len(r.points):,} combination{'s' if len(r.points) != 1 else ''}"
        if len(r.points) <= TABLE_ROWS
        else f"Pareto front of {len(r.points):,} combinations (--format csv lists every one)"
    )
    table = Table(title=title, title_justify="left", box=None, header_style="bold")
    for name in names:
        table.add_column(name, justify="right")
    for metric in NET_METRICS:
        table.add_column("MACs" if metric == "macs" else metric, justify="right")
    table.add_column("budget")
    table.add_column("front", justify="center")
    for i in rows:
        totals = r.totals[i]
        counts = [f"{totals.get(m):,}" if totals else "-" for m in NET_METRICS]
        status = _over(totals, r.budgets, r.errors[i]) if r.budgets else ""
        style = None if r.within[i] else "dim"
        table.add_row(
            *(show(r.points[i][n]) for n in names),
            *counts,
            "ok" if r.within[i] and r.budgets else status,
            "*" if i in front else "",
            style=style,
        )
    out.print(table)
    ok = sum(r.within)
    limits = " and ".join(f"{b.metric} <= {b.limit:,}" for b in r.budgets)
    if r.budgets:
        out.print(f"{ok:,} of {len(r.points):,} within {limits}", markup=False)
    reason = _grid_reason(r)
    if reason and r.budgets:
        out.print(f"infeasible: {reason}", markup=False)
    first, second = (k if ":" in k else f"max:{k}" for k in r.pareto)
    out.print(
        f"front (*): {'in-budget ' if r.budgets else ''}combinations that no other beats on "
        f"both {first} and {second}",
        markup=False,
        style="dim",
    )
    for note in r.notes:
        out.print(f"note: {note}", markup=False)
    out.print(_flops_note(convention), markup=False, style="dim")


__all__ = ["search_app"]
