"""The command line's text, parsed; the options several commands share; core errors worded.

The core takes parsed values only (exact numbers, budgets, targets, what is counted) and never
names an option. Here every message names the option its text came from, and :func:`worded`
gives the core's structured errors (an unknown var, a missing C_in, ...) the option to change.

Every command module imports this one at startup, so the core is imported inside the functions
(tests/test_startup.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sepcalc.conventions import PRESETS
from sepcalc.errors import (
    ConventionMismatch,
    InputError,
    NeedsCIn,
    NoClosedForm,
    NoRatioError,
    NotAReport,
    SearchSpaceSpec,
    SepcalcError,
    SpecError,
    SymbolicRepeatError,
    TooManyValues,
    cut,
    did_you_mean,
)

if TYPE_CHECKING:
    from sepcalc.budget import Allowance, Budget, BudgetMetric
    from sepcalc.device import DeviceRequest
    from sepcalc.expr import Number
    from sepcalc.search import Axis, Limit, Target
    from sepcalc.search.exact import Bound
    from sepcalc.spec import LoadedSpec
    from sepcalc.symbolic import Count

# --- options shared by commands ---------------------------------------------------------------

SPEC_HELP = (
    "Network spec (YAML): a file, zoo:NAME for a bundled spec (sepcalc zoo lists them), or - to "
    "read it from stdin."
)
SpecArg = Annotated[Path, typer.Argument(help=SPEC_HELP, show_default=False, metavar="SPEC")]
SetOpt = Annotated[
    list[str],
    typer.Option(
        "--set",
        "-s",
        metavar="NAME=VALUE",
        help="Override a spec var, e.g. --set alpha=0.5 --set resolution=160 (repeatable).",
    ),
]
ConventionOpt = Annotated[
    str,
    typer.Option(
        "--convention",
        metavar="NAME",
        help="What FLOPs count: " + ", ".join(PRESETS) + " (see docs/counting.md).",
    ),
]


OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write the report to FILE instead of stdout (not created when there is no report).",
        show_default=False,
    ),
]

PlotOpt = Annotated[
    Path | None,
    typer.Option(
        "--plot",
        metavar="FILE",
        help="Also draw the result to FILE (.svg, .png or .pdf); needs the plot extra "
        "(matplotlib).",
        show_default=False,
    ),
]


def check_plot(path: Path | None) -> None:
    """Refuse a ``--plot`` file type or a missing matplotlib before any work is done."""
    if path is None:
        return
    import importlib.util

    from sepcalc.report.plot_types import SUFFIXES

    suffix = path.suffix.lower().lstrip(".")
    if suffix not in SUFFIXES:
        raise SepcalcError(f"--plot {path}: the file type is its suffix: .{', .'.join(SUFFIXES)}")
    if importlib.util.find_spec("matplotlib") is None:
        raise SepcalcError(
            "--plot needs matplotlib, the plot extra: pip install 'sepcalc[plot]' (in a "
            "checkout: pip install '.[plot]')"
        )


STDIN = "-"
"""The spec argument that reads the spec from standard input."""
STDIN_NAME = "<stdin>"
"""How diagnostics name a spec read from standard input."""
_stdin: list[tuple[object, str]] = []


def read_stdin() -> str:
    """Standard input's text, read once however many arguments name ``-`` (once per stream:
    a test runner gives each run its own)."""
    import sys

    if not _stdin or _stdin[0][0] is not sys.stdin:
        _stdin[:] = [(sys.stdin, sys.stdin.read())]
    return _stdin[0][1]


def load(spec: Path | str) -> LoadedSpec:
    """The spec a spec argument names: a file, ``zoo:NAME``, or ``-`` (stdin)."""
    from sepcalc.spec import load_spec

    if str(spec) == STDIN:
        return load_spec(STDIN_NAME, text=read_stdin())
    return load_spec(spec)


def source_name(spec: Path | str) -> str:
    """How reports name the spec a spec argument reads: as given, or ``<stdin>`` for ``-``
    (as its diagnostics name it)."""
    return STDIN_NAME if str(spec) == STDIN else str(spec)


class RatioMetric(StrEnum):
    """What a separable / standard (or any kind / kind) ratio compares: ``--metric``."""

    macs = "macs"
    params = "params"
    flops = "flops"


NET_BUDGETS = ("macs", "params", "flops", "activations")
"""The totals a ``--max-<metric>`` option bounds."""

# --- device: --device, --dtype, --batch, --memory, --efficiency ---------------------------------

DTYPE_NAMES = "fp32, fp16, bf16 or int8"
DeviceOpt = Annotated[
    str | None,
    typer.Option(
        "--device",
        metavar="NAME|FILE",
        help="Roofline latency on a device: a built-in one (cortex-m7-f746, raspberry-pi-4, "
        "mobile-cortex-x1, coral-edge-tpu, jetson-orin-nano, a100, h100, h200) or a device "
        "file (.yaml); see docs/device.md.",
        show_default=False,
    ),
]
DtypeOpt = Annotated[
    str | None,
    typer.Option(
        "--dtype",
        metavar="TYPE",
        help=f"Data type of weights and activations: {DTYPE_NAMES} (default fp32).",
        show_default=False,
    ),
]
WeightsDtypeOpt = Annotated[
    str | None,
    typer.Option(
        "--weights-dtype", metavar="TYPE", help="Data type of the parameters (over --dtype).",
        show_default=False,
    ),
]  # fmt: skip
ActivationsDtypeOpt = Annotated[
    str | None,
    typer.Option(
        "--activations-dtype",
        metavar="TYPE",
        help="Data type of the tensors, and of the arithmetic (over --dtype).",
        show_default=False,
    ),
]
BatchOpt = Annotated[
    int | None,
    typer.Option("--batch", min=1, metavar="N", help="Batch size (default 1).", show_default=False),
]
MemoryOpt = Annotated[
    str | None,
    typer.Option(
        "--memory",
        metavar="CONVENTION",
        help="Peak memory convention: plain (default) or in-place-depthwise (TinyEngine).",
        show_default=False,
    ),
]
EfficiencyOpt = Annotated[
    str | None,
    typer.Option(
        "--efficiency",
        metavar="E",
        help="With --device: the share of the roofline reached, 0 < E <= 1, e.g. 0.5 or 50% "
        "(default: the device file's, else 1).",
        show_default=False,
    ),
]


def device_request(
    device: str | None = None,
    dtype: str | None = None,
    weights_dtype: str | None = None,
    activations_dtype: str | None = None,
    batch: int | None = None,
    memory: str | None = None,
    efficiency: str | None = None,
) -> DeviceRequest | None:
    """The device options, parsed; None when none is given (then nothing of
    :mod:`sepcalc.device` is imported)."""
    given = (device, dtype, weights_dtype, activations_dtype, batch, memory, efficiency)
    if all(value is None for value in given):
        return None
    from sepcalc.device import DTYPES, DeviceRequest, Precision, get_device
    from sepcalc.device.memory import CONVENTIONS

    for option, value in (
        ("--dtype", dtype),
        ("--weights-dtype", weights_dtype),
        ("--activations-dtype", activations_dtype),
    ):
        if value is not None and value not in DTYPES:
            raise SepcalcError(
                f"{option} {value}: unknown data type{did_you_mean(value, DTYPES)}; choose "
                f"{DTYPE_NAMES}"
            )
    both = dtype or "fp32"
    precision = Precision(weights_dtype or both, activations_dtype or both)
    if memory is not None and memory not in CONVENTIONS:
        raise SepcalcError(
            f"--memory {memory}: unknown convention{did_you_mean(memory, CONVENTIONS)}; choose "
            f"{' or '.join(CONVENTIONS)}"
        )
    share = None
    if efficiency is not None:
        if device is None:
            raise SepcalcError("--efficiency scales a device's roofline: give --device too")
        share = parse_fraction(efficiency, "--efficiency")
        if not 0 < share <= 1:
            raise SepcalcError(f"--efficiency must be above 0 and at most 1, got {efficiency}")
    chosen = get_device(device) if device is not None else None
    if chosen is not None:
        chosen.peak_of(precision.compute)
    return DeviceRequest(precision, batch or 1, memory or "plain", chosen, share)


# --- --set --------------------------------------------------------------------------------------


def parse_set(pairs: Sequence[str]) -> dict[str, Number | bool]:
    """``--set alpha=0.5 --set v1_5=false`` -> exact numbers and booleans, each var once."""
    from sepcalc.expr import ExprError, exact

    result: dict[str, Number | bool] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise SepcalcError(f"--set '{pair}': expected NAME=VALUE, e.g. --set alpha=0.5")
        if name in result:
            raise SepcalcError(f"--set {name}: given twice; give each var once")
        flag = text.strip().lower()
        if flag in ("true", "false"):
            result[name] = flag == "true"
            continue
        try:
            result[name] = exact(text)
        except ExprError as exc:
            raise SepcalcError(f"--set {name}: {exc}") from None
    return result


def parse_kwargs(text: str | None, against: str | None) -> dict[str, Any]:
    """``--kwargs '{"num_classes": 10}'`` -> keyword arguments (only with ``--against``)."""
    import json

    if text is None:
        return {}
    if against is None:
        raise SepcalcError("--kwargs: give --against too (the kwargs are its arguments)")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SepcalcError(
            f"--kwargs: not JSON ({exc.msg} at column {exc.colno}); write an object, e.g. "
            "--kwargs '{\"num_classes\": 10}'"
        ) from None
    if not isinstance(value, dict):
        raise SepcalcError(
            f"--kwargs: a JSON object is needed, not {type(value).__name__}, e.g. "
            "--kwargs '{\"num_classes\": 10}'"
        )
    return value


def parse_inputs(texts: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """``--input input:1x3x224x224`` (or ``1x3x224x224``) -> dims by input name ('' for the
    model's only input)."""
    result: dict[str, tuple[int, ...]] = {}
    for text in texts:
        name, _, dims = text.rpartition(":")
        name = name.strip()
        try:
            shape = tuple(int(d) for d in dims.strip().lower().split("x"))
            if any(d < 1 for d in shape):
                raise ValueError(dims)
        except ValueError:
            raise SepcalcError(
                f"--input '{text}': expected [NAME:]DIMS, positive sizes joined by x, "
                "batch first, e.g. --input input:1x3x224x224"
            ) from None
        if name in result:
            raise SepcalcError(f"--input {name or text}: given twice; give each input once")
        result[name] = shape
    return result


# --- formula: --at, --count; analyze --symbolic -------------------------------------------------


def parse_at(pairs: Iterable[str]) -> dict[str, int]:
    """``--at C_out=128,k=3`` -> {"C_out": 128, "k": 3}; every layer symbol is a positive int."""
    from sepcalc.expr import ExprError, exact
    from sepcalc.symbols import LAYER_SYMBOLS

    values: dict[str, int] = {}
    for item in (p for pair in pairs for p in pair.split(",") if p.strip()):
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise SepcalcError(f"--at '{item}': expected NAME=NUMBER, e.g. --at C_out=128,k=3")
        if name not in LAYER_SYMBOLS:
            raise SepcalcError(
                f"--at {name}: no such symbol{did_you_mean(name, LAYER_SYMBOLS)}; "
                f"symbols: {', '.join(LAYER_SYMBOLS)}"
            )
        try:
            number = exact(text)
        except ExprError as exc:
            raise SepcalcError(f"--at {name}: {exc}") from None
        if not isinstance(number, int) or number < 1:
            raise SepcalcError(f"--at {name}: must be a positive integer, got {text.strip()}")
        if name in values:
            raise SepcalcError(
                f"--at {name}: given twice ({name}={values[name]} and {name}={number}); "
                "give each symbol once"
            )
        values[name] = number
    return values


def parse_count_option(text: str) -> Count:
    """``--count bias,norm`` -> Count(bias=True, norm=True): what is counted besides weights."""
    from dataclasses import fields

    from sepcalc.symbolic import Count

    names = [n.strip() for n in text.split(",") if n.strip()]
    choices = [f.name for f in fields(Count)]
    for name in names:
        if name not in choices:
            raise SepcalcError(
                f"--count {name}: unknown{did_you_mean(name, choices)}; "
                f"choose from: {', '.join(choices)}"
            )
    return Count(**dict.fromkeys(names, True))


def parse_symbolic(text: str) -> list[str]:
    """``--symbolic alpha,resolution`` -> the vars, each named once."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise SepcalcError("--symbolic: name at least one var, e.g. --symbolic alpha,resolution")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SepcalcError(f"--symbolic {', '.join(twice)}: named twice; name each var once")
    return names


# --- analyze --columns ---------------------------------------------------------------------------


def parse_columns(text: str, *, compare_standard: bool) -> tuple[str, ...]:
    """``--columns params,macs,shape`` -> the report's columns after the name, in that order,
    each a column of :data:`sepcalc.report.columns.NAMES`, named once."""
    from sepcalc.report.columns import NAMES, STANDARD

    names = [n.strip() for n in text.split(",") if n.strip()]
    valid = f"columns: {', '.join(NAMES)}"
    if not names:
        raise SepcalcError(
            f"--columns: name at least one column, e.g. --columns params,macs; {valid}"
        )
    for name in names:
        if name in ("name", "layer"):
            raise SepcalcError(
                f"--columns {name}: the name of each row is always the first column; {valid}"
            )
        if name not in NAMES:
            raise SepcalcError(
                f"--columns {name}: unknown column{did_you_mean(name, NAMES)}; {valid}"
            )
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SepcalcError(f"--columns {', '.join(twice)}: named twice; name each column once")
    needs = [n for n in names if n in STANDARD]
    if needs and not compare_standard:
        raise SepcalcError(
            f"--columns {', '.join(needs)}: needs --compare-standard (the standard-conv "
            "equivalent's MACs and the saving over it)"
        )
    return tuple(names)


# --- budgets: check --max-*, --budget, --max-increase; search --max-* -------------------------


def max_budgets(given: Mapping[str, str | None]) -> list[Budget]:
    """``--max-macs 600M`` and the other ``--max-<metric>`` options that were given."""
    from sepcalc.budget import BudgetValueError, Source, make_budget

    budgets = []
    for metric, value in given.items():
        if value is None:
            continue
        flag = f"--max-{metric.replace('_', '-')}"
        try:
            budgets.append(make_budget(metric, value, Source("cli", label=f"{flag} {value}")))
        except BudgetValueError as exc:
            raise SepcalcError(f"{flag} {cut(value)}: {exc}") from None
    return budgets


def parse_budget_option(text: str) -> Budget:
    """``--budget by_kind.pointwise.macs=550M``."""
    from sepcalc.budget import BudgetValueError, Source, make_budget

    metric, sep, value = text.partition("=")
    if not sep:
        raise SepcalcError(f"--budget '{text}': expected METRIC=VALUE, e.g. macs=600M")
    try:
        return make_budget(metric, value.strip(), Source("cli", label=f"--budget {text.strip()}"))
    except BudgetValueError as exc:
        raise SepcalcError(f"--budget {text}: {exc}") from None


def once_each(budgets: Iterable[Budget]) -> list[Budget]:
    """The budgets of the command-line options; a metric bounded twice is an error."""
    seen: dict[BudgetMetric, Budget] = {}
    for b in budgets:
        if b.metric in seen:
            first = seen[b.metric].source.label
            raise SepcalcError(
                f"{b.source.label}: {b.metric} already has a budget ({first}); give each metric "
                "once"
            )
        seen[b.metric] = b
    return list(seen.values())


def parse_max_increase(text: str) -> list[Allowance]:
    """``--max-increase macs=2%,params=0``: relative (``%``) or absolute (``10K``) growth."""
    from sepcalc.budget import BudgetValueError, make_allowance

    allowances: list[Allowance] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        metric, sep, amount = item.partition("=")
        try:
            if not sep:
                raise BudgetValueError("expected METRIC=AMOUNT, e.g. macs=2%,params=0")
            allowances.append(make_allowance(metric, amount, item, f"--max-increase {item}"))
        except BudgetValueError as exc:
            raise SepcalcError(f"--max-increase {item}: {exc}") from None
        first = next(a for a in allowances if a.metric == allowances[-1].metric)
        if first is not allowances[-1]:
            raise SepcalcError(
                f"--max-increase {item}: {first.metric} already has an allowance ({first.text});"
                " give each metric once"
            )
    if not allowances:
        raise SepcalcError(f"--max-increase '{text}': expected METRIC=AMOUNT, e.g. macs=2%")
    return allowances


def search_limits(given: Mapping[str, str | None]) -> list[Limit]:
    """The network searches' ``--max-<metric>`` options; at least one is needed."""
    from sepcalc.budget import BudgetMetric, BudgetValueError, parse_limit
    from sepcalc.search import Limit

    limits = []
    for metric, text in given.items():
        if text is None:
            continue
        try:
            limits.append(Limit(metric, parse_limit(BudgetMetric(metric), text)))
        except BudgetValueError as exc:
            raise SepcalcError(f"--max-{metric.replace('_', '-')} {cut(text)}: {exc}") from None
    if not limits:
        raise SepcalcError(
            "give at least one budget: --max-macs, --max-params, --max-flops, "
            "--max-activations (SI suffixes allowed: 300M, 4.2M, 1.5G), --max-latency, "
            "--max-peak-memory or --max-flash"
        )
    return limits


# --- search: targets, numbers, ranges, grid axes, the Pareto keys ------------------------------


def parse_fraction(text: str, option: str) -> Fraction:
    """An exact rational from ``'0.12'`` (3/25), ``'3/25'``, ``'1e-1'`` or ``'88%'`` (22/25).

    Parsed from the text itself, never through a float.
    """
    from sepcalc.expr import ExprError, decimal

    raw = text.strip()
    percent = raw.endswith("%")
    if percent:
        raw = raw[:-1].strip()
    try:
        value = decimal(raw)
    except ExprError:
        raise SepcalcError(
            f"{option}: '{text}' is not a number; use a decimal (0.12), a fraction (3/25) "
            "or a percentage (12%)"
        ) from None
    if value and not Fraction(1, 10**30) <= abs(value) <= 10**30:
        raise SepcalcError(f"{option}: '{text}' is out of range (1e-30 to 1e30)")
    return value / 100 if percent else value


def parse_target(
    max_ratio: str | None = None, min_factor: str | None = None, min_savings: str | None = None
) -> Target:
    """Exactly one of ``--max-ratio R``, ``--min-factor F``, ``--min-savings P``."""
    from sepcalc.search import factor_target, ratio_target, savings_target

    given = [t for t in (max_ratio, min_factor, min_savings) if t is not None]
    if len(given) != 1:
        raise SepcalcError(
            "give exactly one target: --max-ratio R (e.g. 0.12), --min-factor F (e.g. 10) "
            "or --min-savings P (e.g. 88% or 0.88)"
        )
    if max_ratio is not None:
        r = parse_fraction(max_ratio, "--max-ratio")
        if r <= 0:
            raise SepcalcError(f"--max-ratio must be positive, got {max_ratio}")
        return ratio_target(r)
    if min_factor is not None:
        f = parse_fraction(min_factor, "--min-factor")
        if f <= 0:
            raise SepcalcError(f"--min-factor must be positive, got {min_factor}")
        return factor_target(f)
    assert min_savings is not None
    p = parse_fraction(min_savings, "--min-savings")
    if not 0 <= p < 1:
        raise SepcalcError(
            f"--min-savings must be at least 0 and below 100% (e.g. 88% or 0.88), got {min_savings}"
        )
    return savings_target(p)


def check_layer_bounds(
    *,
    k: int | None = None,
    c_out: int | None = None,
    max_k: int | None,
    max_c_out: int | None,
    odd: bool = False,
) -> None:
    """The given ``--k``/``--c-out`` within ``--max-k``/``--max-c-out``, and ``--k`` odd with
    ``--odd``."""
    if k is not None and max_k is not None and k > max_k:
        raise SepcalcError(f"--k {k} is over --max-k {max_k}")
    if k is not None and odd and k % 2 == 0:
        raise SepcalcError(f"--k {k} is even, but --odd asks for odd kernels")
    if c_out is not None and max_c_out is not None and c_out > max_c_out:
        raise SepcalcError(f"--c-out {c_out} is over --max-c-out {max_c_out}")


def parse_number(text: str, option: str) -> Number:
    """An exact number (``0.25``, ``3/4``, ``224``) given to ``option``."""
    from sepcalc.expr import ExprError, exact

    try:
        return exact(text)
    except ExprError as exc:
        raise SepcalcError(f"{option}: {exc}") from None


def parse_range(text: str) -> tuple[Number, Number]:
    """``--range 0.25:1.0`` -> (1/4, 1)."""
    low, sep, high = text.partition(":")
    if not sep:
        raise SepcalcError(f"--range '{text}': expected LOW:HIGH, e.g. 0.25:1.0")
    return parse_number(low, "--range"), parse_number(high, "--range")


def parse_axis(text: str) -> Axis:
    """``--var alpha=0.25:1.0:0.05`` (inclusive range), ``resolution=128,160,224`` or
    ``alpha=0.5``."""
    from sepcalc.expr import ExprError, exact
    from sepcalc.search import Axis, grid_values

    name, sep, spec = text.partition("=")
    name = name.strip()
    if not sep or not name or not spec.strip():
        raise SepcalcError(
            f"--var '{text}': expected NAME=LOW:HIGH:STEP or NAME=V1,V2,..., "
            "e.g. --var alpha=0.25:1.0:0.05"
        )
    parts = spec.split(":")
    if len(parts) not in (1, 3):
        raise SepcalcError(f"--var {name}: expected LOW:HIGH:STEP, got '{spec}'")
    try:
        if len(parts) == 3:
            low, high, step = (exact(p) for p in parts)
            values = grid_values(low, high, step)
        else:
            values = [exact(v) for v in spec.split(",")]
    except (ExprError, SepcalcError) as exc:
        raise SepcalcError(f"--var {name}: {exc}") from None
    return Axis(name, tuple(dict.fromkeys(values)))


def parse_axes(texts: Sequence[str]) -> list[Axis]:
    """Every ``--var`` of a grid, each var once."""
    axes = [parse_axis(t) for t in texts]
    names = [a.name for a in axes]
    if len(set(names)) != len(names):
        raise SepcalcError("each --var may be given once")
    return axes


def parse_pareto(text: str | None, var_names: Sequence[str]) -> tuple[str, str]:
    """``--pareto macs,params``: each a metric or a grid var, optionally 'min:' or 'max:'
    (default max: the biggest configurations that still fit the budget)."""
    from sepcalc.search import NET_METRICS, PARETO_DEFAULT

    if text is None:
        return PARETO_DEFAULT
    keys = [k.strip() for k in text.split(",")]
    if len(keys) != 2:
        raise SepcalcError(f"--pareto '{text}': expected two keys, e.g. --pareto macs,params")
    allowed = [*NET_METRICS, *var_names]
    for key in keys:
        bare = key.removeprefix("min:").removeprefix("max:")
        if bare not in allowed:
            raise SepcalcError(
                f"--pareto: unknown key '{bare}'{did_you_mean(bare, allowed)}; choose from "
                f"{', '.join(allowed)} (prefix min: to prefer smaller)"
            )
    return keys[0], keys[1]


# --- space: bounds, the front's keys, vars made choices ----------------------------------------


def parse_bounds(maxima: Mapping[str, str | None], bands: Mapping[str, str | None]) -> list[Bound]:
    """``--max-macs 300M`` and ``--macs 360M:400M`` (either end may be left out), each metric
    once; inclusive."""
    from sepcalc.budget import BudgetValueError, parse_si_count
    from sepcalc.search.exact import Bound

    def count(text: str, option: str) -> int:
        try:
            return parse_si_count(text)
        except BudgetValueError as exc:
            raise SepcalcError(f"{option} {text}: {exc}") from None

    bounds: dict[str, Bound] = {}
    for metric, text in maxima.items():
        if text is not None:
            bounds[metric] = Bound(metric, high=count(text, f"--max-{metric}"))
    for metric, text in bands.items():
        if text is None:
            continue
        option = f"--{metric}"
        if metric in bounds:
            raise SepcalcError(f"{option} {text}: --max-{metric} bounds {metric} already")
        low, sep, high = text.partition(":")
        if not sep or not (low.strip() or high.strip()):
            raise SepcalcError(f"{option} '{text}': expected LOW:HIGH, e.g. 360M:400M (or LOW:)")
        lo = count(low, option) if low.strip() else None
        hi = count(high, option) if high.strip() else None
        if lo is not None and hi is not None and lo > hi:
            raise SepcalcError(f"{option} {text}: the band is empty ({lo:,} > {hi:,})")
        bounds[metric] = Bound(metric, lo, hi)
    return list(bounds.values())


def parse_device_bounds(maxima: Mapping[str, str | None]) -> list[Bound]:
    """``--max-latency 2ms``, ``--max-peak-memory 320KiB``, ``--max-flash 1MiB``, read and
    worded as ``check`` reads them (a latency in exact seconds, bytes as a whole number)."""
    from sepcalc.budget import BudgetMetric, BudgetValueError, parse_limit
    from sepcalc.search.exact import Bound

    bounds = []
    for metric, text in maxima.items():
        if text is None:
            continue
        flag = f"--max-{metric.replace('_', '-')}"
        try:
            high = parse_limit(BudgetMetric(metric), text)
        except BudgetValueError as exc:
            raise SepcalcError(f"{flag} {cut(text)}: {exc}") from None
        shown = f"{metric} <= {text.strip()}"
        if isinstance(high, Fraction):  # a latency, in seconds
            bounds.append(Bound(metric, seconds=(None, high), shown=shown))
        else:
            bounds.append(Bound(metric, high=high, shown=shown))
    return bounds


def parse_keys(text: str) -> list[tuple[str, int]]:
    """``--keys min:macs,max:params``: metrics, larger is better unless prefixed min:."""
    from sepcalc.search.decompose import VEC

    metrics = VEC
    keys: list[tuple[str, int]] = []
    for item in filter(None, (k.strip() for k in text.split(","))):
        sign = -1 if item.startswith("min:") else 1
        bare = item.removeprefix("min:").removeprefix("max:")
        if bare not in metrics:
            raise SepcalcError(
                f"--keys: unknown metric '{bare}'{did_you_mean(bare, metrics)}; choose from "
                f"{', '.join(metrics)} (prefix min: to prefer smaller; latency needs --device)"
            )
        if any(m == bare for m, _ in keys):
            raise SepcalcError(f"--keys: {bare} is given twice")
        keys.append((bare, sign))
    if len(keys) < 2:
        raise SepcalcError(f"--keys '{text}': give two or more metrics, e.g. min:macs,max:params")
    return keys


def parse_choices(texts: Sequence[str]) -> dict[str, list[Number]]:
    """``--choice resolution=128:224:4`` or ``--choice resolution=160,192,224``."""
    found: dict[str, list[Number]] = {}
    for text in texts:
        try:
            axis = parse_axis(text)
        except SepcalcError as exc:
            raise SepcalcError(str(exc).replace("--var", "--choice")) from None
        if axis.name in found:
            raise SepcalcError(f"--choice {axis.name}: given twice; give each var once")
        found[axis.name] = list(axis.values)
    return found


# --- the core's errors, worded with the options --------------------------------------------

OPTION_OF = {
    "inputs": "--input",
    "overrides": "--set",
    "names": "--symbolic",
    "at": "--at",
    "metric_name": "--metric",
    "choices": "--choice",
}
"""The option that gives each core parameter an :class:`~sepcalc.errors.InputError` names."""


def _report_file(source: str) -> str:
    """Where a hint saves a report: the file that was read, or a file for stdin's."""
    return "report.json" if source == STDIN_NAME else source


def worded(exc: SepcalcError) -> SepcalcError:
    """``exc`` as the command line says it: the option to change named where the core names
    the input (an error the core words completely is returned as it is)."""
    if isinstance(exc, InputError) and exc.param in OPTION_OF:
        option = OPTION_OF[exc.param]
        return SepcalcError(
            f"{option} {exc.entry}: {exc.problem}" if exc.entry else f"{option}: {exc.problem}"
        )
    if isinstance(exc, SearchSpaceSpec):
        from dataclasses import replace

        first = exc.first
        hint = (
            f"; `sepcalc space count {first.file}` (or best, sample, pareto, distribution) "
            "answers over all of them"
        )
        return SpecError([replace(first, message=first.message + hint)])
    if isinstance(exc, NoRatioError):
        m = exc.metric
        return SepcalcError(
            f"{exc.kind} has no {m}: there is no ratio with --metric {m}; "
            f"try --metric {' or '.join(exc.others)}"
        )
    if isinstance(exc, SymbolicRepeatError):
        names = ", ".join(exc.vars)
        return SepcalcError(
            f"a count of layers (repeat) depends on {names}; the number of layers cannot be a "
            f"closed form: leave {names} out of --symbolic and give it with --set"
        )
    if isinstance(exc, ConventionMismatch):
        return SepcalcError(
            f"{exc.source} counts FLOPs with the '{exc.baseline}' convention, this run with "
            f"'{exc.convention}': pass --convention {exc.baseline} to compare "
            f"{', '.join(exc.metrics)}"
        )
    if isinstance(exc, NeedsCIn):
        return SepcalcError(
            f"counting {', '.join(exc.counted)} in {exc.metric}, the ratio {exc.ratio} depends "
            "on C_in; give it with --c-in N"
        )
    if isinstance(exc, TooManyValues):
        return SepcalcError(
            f"{exc.many} values from {cut(exc.low)} to {cut(exc.high)}: use a larger step, or "
            "--precision to bisect"
        )
    if isinstance(exc, NoClosedForm):
        if exc.declared:
            return SepcalcError(f"{exc}. Run `sepcalc formula --list` for the kinds that have one")
        return SepcalcError(
            f"{exc}; run `sepcalc formula --list` for the kinds that have a closed form"
        )
    if isinstance(exc, NotAReport):
        if exc.json:
            return SepcalcError(
                f"{exc.where}: invalid JSON: {exc.problem}; expected the output of "
                "`sepcalc analyze SPEC --format json`"
            )
        return SepcalcError(
            f"{exc.where}: not a sepcalc analyze report: {exc.problem}; create one with "
            f"`sepcalc analyze SPEC --format json > {_report_file(exc.source)}`"
        )
    return exc
