"""Budgets and check outcomes: what ``sepcalc check`` compares, and the exit code it returns.

A budget is an upper bound on one metric of a network. Metric names (docs/ci.md):

* ``params``, ``params.weight``, ``params.bias``, ``params.norm``, ``macs``, ``flops``,
  ``activations``: the network's totals;
* ``by_kind.<kind>.<field>``: the same fields summed over one breakdown kind, e.g.
  ``by_kind.pointwise.macs`` (the ``by_kind`` object of ``analyze --format json``).

Values are exact integers, written plainly (``4231976``) or with a decimal SI suffix
(``600K``, ``4.2M``, ``1.5G``, ``2T``; ``4.2M`` is exactly 4,200,000).

Budgets come from three sources, each overriding the one before, metric by metric: the spec's
``budget:`` section, a budgets file (spec paths or globs -> budgets), and command-line options.
A baseline check bounds growth over a saved ``analyze --format json`` report instead
(``macs=2%,params=0``).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from pathlib import Path, PurePath
from typing import Any, Literal

from sepcalc.errors import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    ConventionMismatch,
    Diagnostic,
    SepcalcError,
    SpecError,
    brief,
    did_you_mean,
)
from sepcalc.expr import ExprError, decimal, scientific, show
from sepcalc.formulas import REGISTRY
from sepcalc.formulas.base import FUSED, buckets
from sepcalc.snapshot import FIELDS, Snapshot
from sepcalc.spec.loader import LoadedSpec, Locator, parse_yaml
from sepcalc.textfile import read_text

DEVICE_METRICS = ("latency", "peak_memory", "flash")
"""Totals of the device model (docs/device.md): ``latency`` in seconds (exact, on a device),
``peak_memory`` and ``flash`` in bytes (at a precision). Written ``5ms``, ``320KiB``, ``1MiB``."""

SUFFIXES = {"K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_COUNT = re.compile(
    r"(?P<number>(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9]+)?)"
    r"\s*(?P<suffix>[kKmMgGtT]?)"
)
_PERCENT = re.compile(r"(?P<number>[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)\s*%")


class BudgetValueError(Exception):
    """A budget name or value that cannot be used; the caller adds where it was written."""


def parse_si_count(value: object) -> int:
    """A budget value as an exact int: ``600M`` -> 600_000_000, ``4.2M`` -> 4_200_000."""
    if isinstance(value, bool):
        raise BudgetValueError(f"{brief(value)} is not a count; write a number such as 600M")
    if isinstance(value, int):
        number = Fraction(value)
    elif isinstance(value, float):
        # NB: repr gives the shortest decimal that reads back as this float: what was written.
        number = _decimal(repr(value))
    elif isinstance(value, str):
        match = _COUNT.fullmatch(value.strip())
        if not match:
            raise BudgetValueError(
                f"'{value}' is not a count; write a number with an optional K, M, G or T "
                "suffix, e.g. 600M or 4.2M"
            )
        number = _decimal(match["number"]) * SUFFIXES.get(match["suffix"].upper(), 1)
    else:
        raise BudgetValueError(f"{brief(value)} is not a count; write a number such as 600M")
    if number < 0:
        raise BudgetValueError(f"'{value}' is negative; a budget is a count of 0 or more")
    if number.denominator != 1:
        shown = show(number)
        shown = shown if len(shown) <= 40 else f"about {scientific(number, 6)}"
        raise BudgetValueError(f"'{value}' is {shown}, not a whole number")
    return number.numerator


def _decimal(text: str) -> Fraction:
    try:
        return decimal(text)
    except ExprError as exc:
        raise BudgetValueError(str(exc)) from None


@lru_cache(maxsize=1)
def known_kinds() -> frozenset[str]:
    """Breakdown kinds a ``by_kind`` metric can name: the buckets the formulas declare.

    NB: not every layer kind is a bucket: activations go to ``activation``, pooling to ``pool``,
    and a separable layer to ``depthwise`` and ``pointwise``.
    """
    return buckets()


def _unknown_kind(kind: str) -> str:
    if kind in REGISTRY:
        own = REGISTRY[kind].buckets
        where = " and ".join(f"by_kind.{b}" for b in [b for b in own if b not in FUSED] or own)
        return f"'{kind}' is a layer kind, not a breakdown kind: its costs are under {where}"
    hint = did_you_mean(kind, known_kinds()) or f"; one of {', '.join(sorted(known_kinds()))}"
    return f"unknown kind '{kind}'{hint}"


@dataclass(frozen=True)
class BudgetMetric:
    """A network total (``kind`` None) or a breakdown kind's total."""

    field: str
    kind: str | None = None

    def __str__(self) -> str:
        return self.field if self.kind is None else f"by_kind.{self.kind}.{self.field}"

    @property
    def order(self) -> tuple[bool, str, int]:
        return (
            self.kind is not None,
            self.kind or "",
            (*FIELDS, *DEVICE_METRICS).index(self.field),
        )

    def value(self, snapshot: Snapshot) -> int | Fraction:
        if self.field in DEVICE_METRICS and self.field not in snapshot.totals:
            need = "a device to run on" if self.field == "latency" else "the device model"
            raise SepcalcError(
                f"a {self.field} budget needs {need}, and this check has none (see docs/device.md)"
            )
        value: int | Fraction = snapshot.count(self.field, self.kind)
        return value


def parse_limit(metric: BudgetMetric, value: object) -> int | Fraction:
    """A budget's bound: a count (``600M``), a time in seconds (``5ms``) for latency, bytes
    (``320KiB``) for peak memory and flash; exact."""
    from sepcalc.device.units import QuantityError, byte_count, seconds

    if metric.field not in DEVICE_METRICS:
        return parse_si_count(value)
    try:
        return seconds(value) if metric.field == "latency" else byte_count(value)
    except QuantityError as exc:
        raise BudgetValueError(str(exc)) from None


def parse_metric(text: str) -> BudgetMetric:
    """``macs`` or ``params.weight`` (totals), ``by_kind.pointwise.macs`` (one kind)."""
    name = text.strip()
    if name in FIELDS or name in DEVICE_METRICS:
        return BudgetMetric(name)
    head, _, rest = name.partition(".")
    if head == "by_kind":
        kind, _, field = rest.partition(".")
        if not kind or field not in FIELDS:
            raise BudgetValueError(
                f"'{name}': a per-kind metric is by_kind.<kind>.<field> with a field of "
                f"{', '.join(FIELDS)}{did_you_mean(field, FIELDS) if field else ''}"
            )
        if kind not in known_kinds():
            raise BudgetValueError(f"'{name}': {_unknown_kind(kind)}")
        return BudgetMetric(field, kind)
    if head in known_kinds() and rest in FIELDS:
        raise BudgetValueError(f"unknown metric '{name}'; did you mean 'by_kind.{name}'?")
    hint = did_you_mean(name, (*FIELDS, *DEVICE_METRICS)) or (
        f"; one of {', '.join((*FIELDS, *DEVICE_METRICS))}, or by_kind.<kind>.<field>"
    )
    raise BudgetValueError(f"unknown metric '{name}'{hint}")


Origin = Literal["spec", "file", "cli", "baseline"]


@dataclass(frozen=True)
class Source:
    """Where a budget was written: a spec's or budgets file's line, or a command-line option."""

    origin: Origin
    file: str = ""
    line: int = 0
    col: int = 0
    label: str = ""
    """How a person refers to it: ``budget.macs``, ``--max-macs``, ``models/*.yaml``."""


@dataclass(frozen=True)
class Budget:
    metric: BudgetMetric
    limit: int | Fraction
    text: str
    """The bound as written (``600M``)."""
    source: Source


@dataclass(frozen=True)
class Allowance:
    """How much a metric may grow over the baseline: a fraction of it, or an absolute count."""

    metric: BudgetMetric
    amount: Fraction
    relative: bool
    text: str
    """The allowance as written: ``macs=2%``."""
    label: str = ""
    """How a person refers to it, as :attr:`Source.label`."""

    def limit(self, base: int) -> int:
        """The largest value that stays within the allowance (floor: counts are whole)."""
        growth = base * self.amount if self.relative else self.amount
        return base + int(growth // 1)


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else repr(value)


def make_budget(metric: str, value: object, source: Source) -> Budget:
    """A budget from its metric name and value as written; BudgetValueError if either is bad."""
    parsed = parse_metric(metric)
    return Budget(parsed, parse_limit(parsed, value), _as_text(value), source)


def make_allowance(metric: str, amount: str, text: str, label: str) -> Allowance:
    """``macs`` and ``2%`` (relative growth) or ``10K`` (absolute); BudgetValueError if bad."""
    if metric.strip() in DEVICE_METRICS:
        raise BudgetValueError(
            f"a saved report has no {metric.strip()} to grow from; give it a budget instead"
        )
    percent = _PERCENT.fullmatch(amount.strip())
    if percent:
        return Allowance(parse_metric(metric), _decimal(percent["number"]) / 100, True, text, label)
    return Allowance(parse_metric(metric), Fraction(parse_si_count(amount)), False, text, label)


def spec_budgets(loaded: LoadedSpec) -> list[Budget]:
    """The spec's own ``budget:`` section; problems are diagnostics at their spec lines."""
    locator = loaded.locator
    budgets, problems = _read_budgets(
        loaded.spec.budget or {}, ("budget",), locator, "spec", "budget."
    )
    if problems:
        raise SpecError(problems)
    return budgets


def _read_budgets(
    data: Mapping[Any, Any], path: tuple[str, ...], locator: Locator, origin: Origin, label: str
) -> tuple[list[Budget], list[Diagnostic]]:
    budgets: list[Budget] = []
    problems: list[Diagnostic] = []
    seen: dict[BudgetMetric, int] = {}
    for name, value in data.items():
        where = (*path, name)
        line, col = locator.position(where, key=True)
        try:
            metric = parse_metric(str(name))
        except BudgetValueError as exc:
            problems.append(Diagnostic(locator.file, line, col, f"{label}{name}: {exc}"))
            continue
        if metric in seen:
            problems.append(
                Diagnostic(
                    locator.file,
                    line,
                    col,
                    f"{label}{name}: {metric} already has a budget on line {seen[metric]}",
                )
            )
            continue
        seen[metric] = line
        try:
            limit = parse_limit(metric, value)
        except BudgetValueError as exc:
            problems.append(locator.diagnostic(where, f"{label}{name}: {exc}"))
            continue
        source = Source(origin, locator.file, line, col, f"{label}{name}")
        budgets.append(Budget(metric, limit, _as_text(value), source))
    return budgets, problems


@dataclass(frozen=True)
class BudgetRule:
    pattern: str
    budgets: tuple[Budget, ...]
    line: int = 0
    col: int = 0

    def matches(self, spec: str, absolute: Iterable[str] = ()) -> bool:
        return matches(self.pattern, spec, absolute)


@dataclass(frozen=True)
class BudgetFile:
    """A budgets file: spec paths or globs, each with budgets; later rules override earlier."""

    file: str
    rules: tuple[BudgetRule, ...]

    def budgets_for(self, spec: str, absolute: Iterable[str] = ()) -> list[Budget]:
        """The budgets of every rule matching the spec (see :func:`matches`)."""
        absolute = tuple(absolute)
        return list(resolve(*(r.budgets for r in self.rules if r.matches(spec, absolute))))

    def unmatched(self, specs: Iterable[tuple[str, Sequence[str]]]) -> list[BudgetRule]:
        """The rules that match none of the ``(spec, absolute paths)`` given."""
        specs = list(specs)
        return [r for r in self.rules if not any(r.matches(s, a) for s, a in specs)]


def parse_budget_file(text: str, file: str) -> BudgetFile:
    """Parse a budgets file; raises SpecError with every problem and its line."""
    data, locator = parse_yaml(text, file)
    example = "e.g. 'models/*.yaml: {macs: 600M, params: 4.3M}'"
    if not isinstance(data, dict) or not data:
        raise SpecError(
            [
                locator.diagnostic(
                    (), f"a budgets file maps spec paths or globs to budgets, {example}"
                )
            ]
        )
    rules, problems = [], []
    for pattern, budgets in data.items():
        if not isinstance(pattern, str) or not pattern.strip():
            problems.append(
                locator.diagnostic(
                    (pattern,),
                    f"{brief(pattern)} is not a path or glob"
                    + ("" if isinstance(pattern, str) else " (write a path in quotes)"),
                    key=True,
                )
            )
            continue
        try:
            glob_regex(spec_key(pattern.strip()))
        except BudgetValueError as exc:
            problems.append(locator.diagnostic((pattern,), f"'{pattern}': {exc}", key=True))
            continue
        if not isinstance(budgets, dict) or not budgets:
            problems.append(
                locator.diagnostic(
                    (pattern,), f"{pattern}: expected a mapping of metrics to budgets, {example}"
                )
            )
            continue
        found, bad = _read_budgets(budgets, (pattern,), locator, "file", f"{pattern}: ")
        line, col = locator.position((pattern,), key=True)
        rules.append(BudgetRule(pattern, tuple(found), line, col))
        problems += bad
    if problems:
        raise SpecError(problems)
    return BudgetFile(file, tuple(rules))


def read_budget_file(path: str | Path) -> BudgetFile:
    file = str(path)
    try:
        text = read_text(path, "budgets file")
    except SepcalcError as exc:
        raise SpecError([Diagnostic(file, 0, 0, str(exc))]) from None
    return parse_budget_file(text, file)


def spec_key(path: str | PurePath) -> str:
    """The form of a spec path that budget globs match: posix separators, ``.`` and ``..``
    resolved as text (``examples/../examples/a.yaml`` -> ``examples/a.yaml``), no leading
    ``./``."""
    return posixpath.normpath(PurePath(path).as_posix())


def matches(pattern: str, spec: str, absolute: Iterable[str] = ()) -> bool:
    """Glob match: ``*`` and ``?`` stay within a directory, ``**/`` spans any number of them.

    A relative pattern matches ``spec`` (the path relative to the working directory); an
    absolute pattern (``/work/models/*.yaml``) matches any of the spec's ``absolute`` paths.
    A pattern without ``/`` matches the file name in any directory (as in .gitignore).
    Raises BudgetValueError for an invalid pattern (an unclosed ``[``, a reversed range).
    """
    text = pattern.strip()
    regex = glob_regex(spec_key(text))
    targets = [spec_key(a) for a in absolute] if text.startswith("/") else [spec_key(spec)]
    if "/" not in text:
        targets = [t.rsplit("/", 1)[-1] for t in targets]
    return any(regex.fullmatch(t) is not None for t in targets)


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression of a glob (see :func:`matches`); BudgetValueError if invalid."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            negate = pattern.startswith("!", i + 1)
            start = i + 2 if negate else i + 1
            end = pattern.find("]", start + 1)  # a ']' first in the class is a member
            if end < 0:
                raise BudgetValueError(
                    "a '[' opens a character class that no ']' closes; write [[] to match a "
                    "literal '['"
                )
            body = _class_body(pattern[start:end])
            out.append(f"[^/{body}]" if negate else f"[{body}]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out))


def _class_body(body: str) -> str:
    """A glob character class's members as a regex class body: ranges kept, the rest escaped."""
    parts, j = [], 0
    while j < len(body):
        if j + 2 < len(body) and body[j + 1] == "-":
            lo, hi = body[j], body[j + 2]
            if lo > hi:
                raise BudgetValueError(f"the range {lo}-{hi} is reversed; write {hi}-{lo}")
            parts.append(f"{re.escape(lo)}-{re.escape(hi)}")
            j += 3
        else:
            parts.append(re.escape(body[j]))
            j += 1
    return "".join(parts)


def resolve(*sources: Iterable[Budget]) -> tuple[Budget, ...]:
    """Merge budget sources in increasing precedence: a later budget replaces an earlier one
    of the same metric. Sorted totals first, then kinds."""
    merged: dict[BudgetMetric, Budget] = {}
    for budgets in sources:
        for budget in budgets:
            merged[budget.metric] = budget
    return tuple(sorted(merged.values(), key=lambda b: b.metric.order))


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    NO_BUDGET = "no_budget"


@dataclass(frozen=True)
class Outcome:
    """One metric of one network against one bound (a budget, or a baseline plus allowance)."""

    metric: BudgetMetric
    value: int | Fraction
    limit: int | Fraction
    text: str
    """The bound as written: ``600M``, or the allowance ``macs=2%``."""
    source: Source
    baseline: int | None = None
    """The baseline's value, for a growth check."""

    @property
    def passed(self) -> bool:
        return self.value <= self.limit

    @property
    def headroom(self) -> int | Fraction:
        """How far below the limit (negative: by how much it is exceeded)."""
        return self.limit - self.value


@dataclass(frozen=True)
class SpecResult:
    spec: str
    network: str = ""
    outcomes: tuple[Outcome, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    """Why the spec could not be checked (then it has no outcomes)."""

    @property
    def status(self) -> Status:
        if self.diagnostics:
            return Status.ERROR
        if not self.outcomes:
            return Status.NO_BUDGET
        return Status.PASS if all(o.passed for o in self.outcomes) else Status.FAIL


def invalid(spec: str, error: SepcalcError) -> SpecResult:
    """The result of a spec that could not be checked."""
    if isinstance(error, SpecError):
        return SpecResult(spec, diagnostics=tuple(error.diagnostics))
    return SpecResult(spec, diagnostics=(Diagnostic(spec, 0, 0, str(error)),))


def check_baseline(allowances: Sequence[Allowance], baseline: Snapshot, convention: str) -> None:
    """FLOPs compare only under one convention; raises ConventionMismatch otherwise."""
    flops = [str(a.metric) for a in allowances if a.metric.field == "flops"]
    if flops and baseline.convention != convention:
        raise ConventionMismatch(baseline.source, baseline.convention, convention, flops)


def check(
    spec: str,
    snapshot: Snapshot,
    budgets: Iterable[Budget],
    allowances: Sequence[Allowance] = (),
    baseline: Snapshot | None = None,
) -> SpecResult:
    """Every budget and every allowed growth of one network; a device budget without a device
    is an error at the budget (its file, line and column where it was written)."""
    budgets = list(budgets)
    deviceless = [
        Diagnostic(
            b.source.file or spec,
            b.source.line,
            b.source.col,
            f"{b.source.label or b.metric}: a {b.metric.field} budget ({b.text}) needs "
            f"{'a device to run on' if b.metric.field == 'latency' else 'the device model'}, "
            "and this check has none (see docs/device.md)",
        )
        for b in budgets
        if b.metric.field in DEVICE_METRICS and b.metric.field not in snapshot.totals
    ]
    if deviceless:
        raise SpecError(deviceless)
    outcomes = [
        Outcome(b.metric, b.metric.value(snapshot), b.limit, b.text, b.source) for b in budgets
    ]
    if baseline is not None:
        check_baseline(allowances, baseline, snapshot.convention)
        for a in allowances:
            base = int(a.metric.value(baseline))  # device metrics take no allowance
            source = Source("baseline", baseline.source, label=a.label)
            outcomes.append(
                Outcome(a.metric, a.metric.value(snapshot), a.limit(base), a.text, source, base)
            )
    return SpecResult(spec, snapshot.name, tuple(outcomes))


@dataclass(frozen=True)
class CheckReport:
    """Every spec's result, and the exit code they add up to (ruff's policy)."""

    results: tuple[SpecResult, ...]
    convention: str
    convention_description: str = ""

    def count(self, status: Status) -> int:
        return sum(r.status is status for r in self.results)

    @property
    def checks(self) -> int:
        return sum(len(r.outcomes) for r in self.results)

    @property
    def failed_checks(self) -> int:
        return sum(not o.passed for r in self.results for o in r.outcomes)

    @property
    def status(self) -> Status:
        statuses = {r.status for r in self.results}
        for status in (Status.ERROR, Status.FAIL):
            if status in statuses:
                return status
        return Status.PASS

    def exit_code(self, *, exit_zero: bool = False) -> int:
        """2 if any spec is invalid; else 1 if a bound is exceeded (0 with exit_zero); else 0."""
        status = self.status
        if status is Status.ERROR:
            return EXIT_INVALID
        if status is Status.FAIL and not exit_zero:
            return EXIT_FAILED
        return EXIT_OK
