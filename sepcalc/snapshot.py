"""The numbers of one analysis, from a live spec or a saved ``sepcalc analyze --format json``.

``check`` compares a network against budgets and a baseline report, and ``diff`` compares two
networks; both work on :class:`Snapshot`, so a spec and a saved report are interchangeable.
A snapshot's counts are flat: ``params``, ``params.weight``, ``params.bias``, ``params.norm``,
``macs``, ``flops``, ``activations`` (the names budgets use, see :mod:`sepcalc.budget`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sepcalc.analysis import ROLES, Analysis, Counts
from sepcalc.errors import NotAReport, SepcalcError, brief
from sepcalc.textfile import read_text

FIELDS = ("params", *(f"params.{role}" for role in ROLES), "macs", "flops", "activations")
"""Every count a snapshot holds for the network, each kind and each layer."""

REPORT_SCHEMA_VERSION = 1
"""The ``schema_version`` of ``analyze --format json`` that can be read back."""


@dataclass(frozen=True)
class LayerCounts:
    name: str
    kind: str
    counts: Mapping[str, int]


@dataclass(frozen=True)
class Snapshot:
    name: str
    convention: str
    """The name of the FLOPs convention the ``flops`` counts follow."""
    totals: Mapping[str, int]
    by_kind: Mapping[str, Mapping[str, int]]
    layers: tuple[LayerCounts, ...]
    source: str = ""
    """Where the numbers come from (a spec or report path), for messages."""
    flops_meaning: str = ""
    """What the convention counts as a FLOP, in words."""

    @classmethod
    def of(cls, analysis: Analysis, source: str = "") -> Snapshot:
        return cls(
            name=analysis.name,
            convention=analysis.convention.name,
            totals=_flat(analysis.totals),
            by_kind={kind: _flat(c) for kind, c in analysis.by_kind.items()},
            layers=tuple(LayerCounts(r.name, r.kind, _flat(r.counts)) for r in analysis.layers),
            source=source,
            flops_meaning=analysis.convention.description,
        )

    @classmethod
    def from_report(cls, data: Any, source: str) -> Snapshot:
        """Validate the dict of a saved analyze report; raises SepcalcError saying what is off."""
        reader = _Reader(source)
        if not isinstance(data, dict):
            reader.fail("expected a JSON object")
        version = data.get("schema_version")
        if version != REPORT_SCHEMA_VERSION:
            if "schema_version" not in data:
                found = "it has no schema_version"
            else:
                found = f"its schema_version is {json.dumps(version)[:40]}"
            reader.fail(
                f"{found}; this sepcalc reads version {REPORT_SCHEMA_VERSION} (re-create the "
                "report with this version)"
            )
        name = reader.string(data, "name")
        convention = reader.get(data, "convention", dict)
        layers = reader.get(data, "layers", list)
        by_kind = reader.get(data, "by_kind", dict)
        return cls(
            name=name,
            convention=reader.string(convention, "name", "convention."),
            totals=reader.counts(data.get("totals"), "totals"),
            by_kind={str(k): reader.counts(v, f"by_kind.{k}") for k, v in by_kind.items()},
            layers=tuple(
                LayerCounts(
                    reader.string(row, "name", f"layers[{i}]."),
                    reader.string(row, "kind", f"layers[{i}]."),
                    reader.counts(row, f"layers[{i}]"),
                )
                for i, row in enumerate(layers)
            ),
            source=source,
            flops_meaning=str(convention.get("flops", "")),
        )

    def count(self, field: str, kind: str | None = None) -> int:
        """A total, or a kind's total (0 for a kind the network does not have)."""
        if kind is None:
            return self.totals[field]
        return self.by_kind[kind][field] if kind in self.by_kind else 0


class _TooLong(Exception):
    def __init__(self, digits: int) -> None:
        self.digits = digits


MAX_JSON_DIGITS = 4000
"""Longest integer read from a report: a count of sepcalc's has at most 2,500 digits (each
layer's under 2**8192), and Python refuses to convert more than 4,300."""


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_DIGITS:
        raise _TooLong(len(text.lstrip("-")))
    return int(text)


def read_report(path: str | Path, text: str | None = None) -> Snapshot:
    """Read a saved ``sepcalc analyze --format json`` report; with ``text``, nothing is read
    (``path`` only names it: ``<stdin>``)."""
    source = str(path)
    if text is None:
        try:
            text = read_text(path, "report")
        except SepcalcError as exc:
            raise SepcalcError(f"{source}: {exc}") from None
    try:
        data = json.loads(text, parse_int=_json_int)
    except _TooLong as exc:
        problem = f"an integer of {exc.digits:,} digits, more than any count has"
        raise NotAReport(source, source, problem, json=True) from None
    except json.JSONDecodeError as exc:
        where = f"{source}:{exc.lineno}:{exc.colno}"
        raise NotAReport(source, where, exc.msg, json=True) from None
    except (ValueError, RecursionError) as exc:
        # NB: json raises ValueError for an integer of more than 4,300 digits and RecursionError
        # for arrays nested thousands deep; neither is a report.
        problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise NotAReport(source, source, problem, json=True) from None
    return Snapshot.from_report(data, source)


def _flat(counts: Counts) -> dict[str, int]:
    return {
        "params": counts.params,
        **{f"params.{role}": counts.params_by_role[role] for role in ROLES},
        "macs": counts.macs,
        "flops": counts.flops,
        "activations": counts.activations,
    }


@dataclass(frozen=True)
class _Reader:
    source: str

    def fail(self, problem: str) -> Any:
        raise NotAReport(self.source, self.source, problem, json=False)

    def get(self, data: Any, key: str, kind: type[Any], where: str = "") -> Any:
        value = data.get(key) if isinstance(data, dict) else None
        if not isinstance(value, kind):
            expected = {"list": "a list", "dict": "an object", "str": "a string"}[kind.__name__]
            self.fail(f"'{where}{key}' should be {expected}")
        return value

    def string(self, data: Any, key: str, where: str = "") -> str:
        return str(self.get(data, key, str, where))

    def integer(self, data: Any, key: str, where: str) -> int:
        value = data.get(key) if isinstance(data, dict) else None
        if not isinstance(value, int) or isinstance(value, bool):
            return int(self.fail(f"'{where}{key}' should be an integer (got {brief(value)})"))
        return value

    def counts(self, data: Any, where: str) -> dict[str, int]:
        if not isinstance(data, dict):
            return dict(self.fail(f"'{where}' should be an object"))
        roles = self.get(data, "params_by_role", dict, f"{where}.")
        flat = {
            name: self.integer(data, name, f"{where}.")
            for name in ("params", "macs", "flops", "activations")
        }
        for role in ROLES:
            flat[f"params.{role}"] = self.integer(roles, role, f"{where}.params_by_role.")
        return {name: flat[name] for name in FIELDS}
