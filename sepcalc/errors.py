"""User-facing errors.

Domain code raises these; only the CLI prints them. Every message says what is wrong and,
where possible, how to fix it.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
"""The exit codes a result owns (ruff's policy): 0 success; 1 a check failed (a budget exceeded,
a search infeasible, a cross-check mismatch); 2 invalid input, options or an internal error."""


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in an input file, with a 1-based line and column (0 when unknown)."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.col}: {self.message}"
        return f"{self.file}: {self.message}"


def brief(value: Any, limit: int = 60) -> str:
    """A value from a spec as YAML writes it (``null``, ``true``, ``[2, 2]``, ``{a: 1}``,
    ``2024-01-01``), cut to about ``limit`` characters: a YAML alias can expand a value to
    gigabytes, and a message must never print it whole."""
    text = _flow(value, 3, limit + 1)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _flow(value: Any, depth: int, room: int) -> str:
    """YAML flow style, at most ``depth`` levels deep and about ``room`` characters long."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        bits = value.bit_length()
        return str(value) if bits <= 256 else f"an integer of {bits:,} bits"
    if isinstance(value, str):
        return repr(value[:room])
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, list | tuple | dict):
        if depth == 0:
            return "[...]" if isinstance(value, list | tuple) else "{...}"
        parts: list[str] = []
        items = value.items() if isinstance(value, dict) else value
        for item in items:
            if sum(len(p) + 2 for p in parts) > room:
                parts.append("...")
                break
            if isinstance(value, dict):
                key, member = item
                name = key if isinstance(key, str) else _flow(key, 0, room)
                parts.append(f"{name[:room]}: {_flow(member, depth - 1, room)}")
            else:
                parts.append(_flow(item, depth - 1, room))
        inner = ", ".join(parts)
        return f"{{{inner}}}" if isinstance(value, dict) else f"[{inner}]"
    if isinstance(value, bytes):
        return f"binary data of {len(value):,} bytes"
    return repr(value)[:room]


class SepcalcError(Exception):
    """A problem with the user's input or options (exit code 2)."""


class SpecError(SepcalcError):
    """One or more problems in a spec file, each with its position."""

    def __init__(self, diagnostics: Sequence[Diagnostic], what: str = "spec") -> None:
        self.diagnostics = sorted(diagnostics)
        self.what = what
        """What the file is, as the count of errors names it: a spec, a device file, ..."""
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class SearchSpaceSpec(SpecError):
    """A search space (a spec with choices) given where one network is expected: one
    diagnostic at its first choice, not one per value the network models cannot read."""

    def __init__(self, first: Diagnostic, choices: int) -> None:
        self.first, self.choices = first, choices
        super().__init__([first])


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ``; did you mean 'x'?`` suffix for the closest valid choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


class InputError(SepcalcError):
    """A problem with one entry of an input the caller passed to the core.

    The core names no command-line option: ``param`` is the parameter the input came in
    (``overrides``, ``names``, ``at``), ``entry`` the var or symbol at fault ('' for the input as a
    whole), and the CLI words the message with the option that gave that input.
    """

    def __init__(self, param: str, entry: str, problem: str) -> None:
        self.param, self.entry, self.problem = param, entry, problem
        super().__init__(f"{entry}: {problem}" if entry else problem)


class NoRatioError(SepcalcError):
    """``kind`` has none of ``metric``, so nothing can be divided by it; ``others`` are the
    metrics it does have (none: it has no cost at all)."""

    def __init__(self, kind: str, metric: str, others: Sequence[str]) -> None:
        self.kind, self.metric, self.others = kind, metric, tuple(others)
        instead = f"; compare {' or '.join(others)} instead" if others else ""
        super().__init__(f"{kind} has no {metric}: there is no ratio of {metric}{instead}")


class SymbolicRepeatError(SepcalcError):
    """A count of layers depends on the relaxed ``vars``: they must be given concrete values."""

    def __init__(self, vars_: Sequence[str]) -> None:
        self.vars = tuple(vars_)
        names = ", ".join(self.vars)
        super().__init__(
            f"a count of layers (repeat) depends on {names}; the number of layers cannot be a "
            f"closed form: give {names} a concrete value"
        )


class ConventionMismatch(SepcalcError):
    """A saved report (``source``) counts FLOPs under ``baseline``, this run under ``convention``;
    ``metrics`` are the FLOPs metrics that cannot be compared."""

    def __init__(self, source: str, baseline: str, convention: str, metrics: Sequence[str]) -> None:
        self.source, self.baseline, self.convention = source, baseline, convention
        self.metrics = tuple(metrics)
        super().__init__(
            f"{source} counts FLOPs with the '{baseline}' convention, this run with "
            f"'{convention}': count under '{baseline}' to compare {', '.join(metrics)}"
        )


class NeedsCIn(SepcalcError):
    """A layer ratio depends on C_in (counting ``counted`` in ``metric``) and none was given."""

    def __init__(self, counted: Sequence[str], metric: str, ratio: str) -> None:
        self.counted, self.metric, self.ratio = tuple(counted), metric, ratio
        super().__init__(
            f"counting {', '.join(counted)} in {metric}, the ratio {ratio} depends on C_in; "
            "give C_in"
        )


class TooManyValues(SepcalcError):
    """A var search over ``count`` values from ``low`` to ``high``: more than one search
    evaluates."""

    def __init__(self, count: int, low: str, high: str) -> None:
        self.count, self.low, self.high = count, low, high
        super().__init__(
            f"{self.many} values from {cut(low)} to {cut(high)}: use a larger step, or bisect "
            "to a precision"
        )

    @property
    def many(self) -> str:
        """How many values, in words short enough for a message (10**300 is not)."""
        count = self.count
        return f"{count:,}" if count < 10**15 else f"more than 10**{len(str(count)) - 1}"


def cut(text: str, limit: int = 40) -> str:
    """A number's text cut short for a message: its first digits and its length."""
    return text if len(text) <= limit else f"{text[:12]}... ({len(text):,} characters)"


class NotAReport(SepcalcError):
    """A file read as a saved analysis report that is not one: invalid JSON (``where`` then has
    the line and column), or JSON without the report's fields."""

    def __init__(self, source: str, where: str, problem: str, *, json: bool) -> None:
        self.source, self.where, self.problem, self.json = source, where, problem, json
        if json:
            super().__init__(f"{where}: invalid JSON: {problem}; expected a saved analysis report")
        else:
            super().__init__(
                f"{where}: not a sepcalc analyze report: {problem}; save one as JSON from an "
                "analysis of the spec"
            )


class NoClosedForm(SepcalcError):
    """``kind`` has no closed form: a declared kind with no parameters and no arithmetic
    (``declared``), or no kind at all (``hint`` then suggests the closest one)."""

    def __init__(self, kind: str, declared: bool, hint: str = "") -> None:
        self.kind, self.declared, self.hint = kind, declared, hint
        if declared:
            super().__init__(
                f"'{kind}' has no closed form: it has no parameters and does no arithmetic"
            )
        else:
            super().__init__(f"unknown layer kind '{kind}'{hint}")
