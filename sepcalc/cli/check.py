"""`sepcalc check`: fail a CI job when a network goes over its budget (docs/ci.md)."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sepcalc.cli import app, output_to, print_diagnostics, stderr, stdout, user_errors
from sepcalc.cli.options import (
    ActivationsDtypeOpt,
    BatchOpt,
    ConventionOpt,
    DeviceOpt,
    DtypeOpt,
    EfficiencyOpt,
    MemoryOpt,
    OutputOpt,
    SetOpt,
    WeightsDtypeOpt,
    device_request,
    max_budgets,
    once_each,
    parse_budget_option,
    parse_max_increase,
    parse_set,
    worded,
)
from sepcalc.conventions import Convention, get_convention
from sepcalc.errors import EXIT_INVALID, Diagnostic, SepcalcError, SpecError

if TYPE_CHECKING:
    from sepcalc.budget import Allowance, Budget, BudgetFile, CheckReport, SpecResult
    from sepcalc.device import DeviceRequest
    from sepcalc.expr import Number
    from sepcalc.snapshot import Snapshot

DEFAULT_INCREASE = "params=0,macs=0"
"""What ``--baseline`` allows without ``--max-increase``: no growth of parameters or MACs."""


class CheckFormat(StrEnum):
    text = "text"
    json = "json"
    junit = "junit"
    github = "github"
    markdown = "markdown"


def _max(metric: str, example: str = "e.g. 600M, 4.2M, 1.5G") -> object:
    return typer.Option(
        f"--max-{metric}",
        metavar="N",
        help=f"Budget for total {metric} ({example}).",
        show_default=False,
    )


@app.command(
    help="Check specs against parameter, MAC, FLOP and activation budgets (a CI gate).\n\n"
    "Budgets come from the spec's budget: section, a --budgets file, and the --max-*/--budget "
    "options; each overrides the one before, metric by metric. Metrics: params, params.weight, "
    "params.bias, params.norm, macs, flops, activations, and by_kind.<kind>.<metric> "
    "(see docs/ci.md). MACs are multiply-accumulates; FLOPs follow --convention.\n\n"
    "Example: sepcalc check models/*.yaml --max-macs 600M --max-params 4.3M",
    epilog="Exit codes: 0 every budget holds (or --exit-zero); 1 a budget is exceeded or a "
    "baseline grew more than allowed; 2 invalid spec, budgets file, report or options.",
)
def check(
    specs: Annotated[
        list[Path],
        typer.Argument(
            metavar="SPEC",
            help="Network specs (YAML) to check: files, zoo:NAME, or - to read one from stdin.",
            show_default=False,
        ),
    ],
    budgets: Annotated[
        Path | None,
        typer.Option(
            "--budgets",
            "-b",
            help="YAML file mapping spec paths or globs to budgets (later entries override).",
            show_default=False,
        ),
    ] = None,
    max_params: Annotated[str | None, _max("params")] = None,
    max_macs: Annotated[str | None, _max("macs")] = None,
    max_flops: Annotated[str | None, _max("flops")] = None,
    max_activations: Annotated[str | None, _max("activations")] = None,
    max_latency: Annotated[
        str | None, _max("latency", "roofline time on --device, e.g. 5ms, 0.02s")
    ] = None,
    max_peak_memory: Annotated[
        str | None, _max("peak-memory", "bytes of activations held at once, e.g. 320KiB")
    ] = None,
    max_flash: Annotated[
        str | None, _max("flash", "bytes of parameters at the weights' type, e.g. 1MiB")
    ] = None,
    budget: Annotated[
        list[str],
        typer.Option(
            "--budget",
            metavar="METRIC=N",
            help="Budget for any metric (repeatable), e.g. macs=600M or "
            "by_kind.pointwise.macs=550M.",
        ),
    ] = [],  # noqa: B006  (typer reads the default; it is never mutated)
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            help="A saved `sepcalc analyze --format json` report to compare against.",
            show_default=False,
        ),
    ] = None,
    max_increase: Annotated[
        list[str],
        typer.Option(
            "--max-increase",
            metavar="METRIC=N[%],...",
            help=f"Growth allowed over --baseline, e.g. macs=2%,params=0 "
            f"(default {DEFAULT_INCREASE}).",
        ),
    ] = [],  # noqa: B006
    set_: SetOpt = [],  # noqa: B006
    convention: ConventionOpt = "default",
    fmt: Annotated[
        CheckFormat,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="Output format: text, json, junit, github or markdown.",
        ),
    ] = CheckFormat.text,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when a budget is exceeded.")
    ] = False,
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    weights_dtype: WeightsDtypeOpt = None,
    activations_dtype: ActivationsDtypeOpt = None,
    batch: BatchOpt = None,
    memory: MemoryOpt = None,
    efficiency: EfficiencyOpt = None,
    require_budget: Annotated[
        bool,
        typer.Option(
            "--require-budget",
            help="A spec to which no budget applies is an error (exit 2), not a pass with a "
            "warning.",
        ),
    ] = False,
    output: OutputOpt = None,
) -> None:
    """Check specs against budgets (the help text is in the decorator)."""
    from sepcalc.budget import CheckReport

    with user_errors():
        conv = get_convention(convention)
        overrides = parse_set(set_)
        options = max_budgets(
            {
                "params": max_params,
                "macs": max_macs,
                "flops": max_flops,
                "activations": max_activations,
                "latency": max_latency,
                "peak_memory": max_peak_memory,
                "flash": max_flash,
            }
        )
        request = device_request(
            device, dtype, weights_dtype, activations_dtype, batch, memory, efficiency
        )
        if max_latency is not None and (request is None or request.device is None):
            raise SepcalcError(
                f"--max-latency {max_latency}: a latency needs a device to run on; give "
                "--device NAME (e.g. cortex-m7-f746) or a device file"
            )
        cli = once_each([*options, *(parse_budget_option(text) for text in budget)])
        rules = _budget_file(budgets) if budgets is not None else None
        base, allowances = _baseline(baseline, max_increase, specs, conv)
    names = [_names(path) for path in specs]
    if rules is not None:
        for rule in rules.unmatched(names):
            stderr().print(
                f"warning: {rules.file}:{rule.line}: '{rule.pattern}' matches none of the specs "
                "given",
                markup=False,
            )
    results = tuple(
        _check_one(path, label, absolute, conv, overrides, rules, cli, base, allowances, request)
        for path, (label, absolute) in zip(specs, names, strict=True)
    )
    report = CheckReport(results, conv.name, conv.description)
    _diagnostics(report, require_budget=require_budget)
    if base is not None:
        for r in results:
            if r.network and r.network != base.name:
                stderr().print(
                    f"warning: {r.spec} is '{r.network}', the baseline {base.source} is "
                    f"'{base.name}'",
                    markup=False,
                )
    with output_to(output):
        _render(report, fmt)
    unbudgeted = require_budget and any(not r.diagnostics and not r.outcomes for r in results)
    raise typer.Exit(EXIT_INVALID if unbudgeted else report.exit_code(exit_zero=exit_zero))


def _budget_file(path: Path) -> BudgetFile:
    """The budgets file; its problems are listed on stderr and end the run (exit 2)."""
    from sepcalc.budget import read_budget_file

    try:
        return read_budget_file(path)
    except SpecError as exc:
        print_diagnostics(exc, str(path))
        raise typer.Exit(EXIT_INVALID) from None


def _baseline(
    path: Path | None, max_increase: list[str], specs: list[Path], conv: Convention
) -> tuple[Snapshot | None, list[Allowance]]:
    from sepcalc.budget import check_baseline
    from sepcalc.snapshot import read_report

    if path is None:
        if max_increase:
            raise SepcalcError("--max-increase needs --baseline REPORT.json to compare against")
        return None, []
    if len(specs) != 1:
        raise SepcalcError(
            f"--baseline compares one spec with its saved report; got {len(specs)} specs"
        )
    allowances = parse_max_increase(",".join(max_increase) if max_increase else DEFAULT_INCREASE)
    base = read_report(path)
    check_baseline(allowances, base, conv.name)
    return base, allowances


def _names(path: Path) -> tuple[str, tuple[str, ...]]:
    """The spec as budgets files name it, and its absolute paths.

    The name is relative to the working directory when the spec is inside it, with ``.`` and
    ``..`` resolved (``examples/../examples/a.yaml`` -> ``examples/a.yaml``); the absolute paths
    (as written and with symlinks resolved) are what absolute patterns match.
    """
    from sepcalc.budget import spec_key
    from sepcalc.cli.options import STDIN, source_name

    if str(path) == STDIN:  # no file for a pattern to match
        return source_name(path), ()
    cwd = Path.cwd()
    absolute = Path(os.path.normpath(cwd / path))
    label = spec_key(absolute.relative_to(cwd) if absolute.is_relative_to(cwd) else path)
    forms = dict.fromkeys([absolute.as_posix(), Path(os.path.realpath(absolute)).as_posix()])
    return label, tuple(forms)


def _check_one(
    path: Path,
    label: str,
    absolute: tuple[str, ...],
    conv: Convention,
    overrides: dict[str, Number],
    rules: BudgetFile | None,
    cli: list[Budget],
    base: Snapshot | None,
    allowances: list[Allowance],
    request: DeviceRequest | None = None,
) -> SpecResult:
    """One spec's result; any problem with the spec is that spec's invalid result."""
    from sepcalc.analysis import analyze
    from sepcalc.budget import DEVICE_METRICS, invalid, resolve, spec_budgets
    from sepcalc.budget import check as run_check
    from sepcalc.cli.options import load
    from sepcalc.graph import build_graph
    from sepcalc.snapshot import Snapshot

    try:
        loaded = load(path)
        problems: list[Diagnostic] = []
        own: list[Budget] = []
        try:
            own = spec_budgets(loaded)
        except SpecError as exc:
            problems += exc.diagnostics
        try:
            graph = build_graph(loaded, overrides)
            snapshot = Snapshot.of(analyze(graph, conv), label)
        except SpecError as exc:
            raise SpecError([*problems, *exc.diagnostics]) from None
        if problems:
            raise SpecError(problems)
        from_file = rules.budgets_for(label, absolute) if rules is not None else []
        budgets = resolve(own, from_file, cli)
        if request is not None or any(b.metric.field in DEVICE_METRICS for b in budgets):
            from dataclasses import replace

            from sepcalc.device import DeviceRequest

            metrics = (request or DeviceRequest()).analyze(graph).metrics()
            merged: dict[str, Any] = {**snapshot.totals, **metrics}
            snapshot = replace(snapshot, totals=merged)
        return run_check(label, snapshot, budgets, allowances, base)
    except SepcalcError as exc:
        return invalid(label, worded(exc))
    except Exception as exc:
        # NB: a bug in sepcalc, not in the spec; it still must not hide the other specs'
        # results in a CI gate. It is reported as this spec's error, loudly (exit 2), and
        # SEPCALC_DEBUG=1 raises it with its traceback.
        if os.environ.get("SEPCALC_DEBUG"):
            raise
        return invalid(
            label,
            SepcalcError(
                f"internal error: {type(exc).__name__}: {exc}; please report it "
                "(SEPCALC_DEBUG=1 shows the traceback)"
            ),
        )


def _diagnostics(report: CheckReport, *, require_budget: bool) -> None:
    err = stderr()
    for r in report.results:
        if r.diagnostics:
            for d in r.diagnostics:
                err.print(str(d), markup=False)
            n = len(r.diagnostics)
            err.print(f"{n} error{'s' if n != 1 else ''} in {r.spec}", style="red", markup=False)
        elif not r.outcomes:
            err.print(
                f"{'error' if require_budget else 'warning'}: {r.spec}: no budget applies (add "
                "a budget: section, a --budgets entry or a --max-* option)",
                markup=False,
            )


def _render(report: CheckReport, fmt: CheckFormat) -> None:
    if fmt is CheckFormat.json:
        from sepcalc.report.check_json import check_report_to_dict

        typer.echo(json.dumps(check_report_to_dict(report), indent=2))
    elif fmt is CheckFormat.junit:
        from sepcalc.report.check_junit import render_junit

        typer.echo(render_junit(report), nl=False)
    elif fmt is CheckFormat.github:
        from sepcalc.report.check_github import render_github
        from sepcalc.report.check_markdown import render_check_markdown

        typer.echo(render_github(report), nl=False)
        summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary_file:
            try:
                with open(summary_file, "a", encoding="utf-8") as out:
                    out.write(render_check_markdown(report))
            except OSError as exc:
                stderr().print(
                    f"warning: cannot write GITHUB_STEP_SUMMARY {summary_file}: {exc.strerror}",
                    markup=False,
                )
    elif fmt is CheckFormat.markdown:
        from sepcalc.report.check_markdown import render_check_markdown

        typer.echo(render_check_markdown(report), nl=False)
    else:
        from sepcalc.report.check_text import render_check_text

        stdout().print(render_check_text(report))
