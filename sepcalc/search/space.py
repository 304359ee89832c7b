"""Search spaces: a spec whose values may be choices, and the ordinary spec of any assignment.

A choice is a mapping ``{choice: [3, 5, 7]}`` (or ``{choice: "128:224:4"}``, every value from
128 to 224 in steps of 4) where a value would be:

- on a var (``resolution: {choice: [128, 160, 192, 224]}``): made once for the network;
- on a key of a top-level layer or block call (``k: {choice: [3, 5, 7]}``): made independently
  for every repeat of the entry (``per: block``, the default), or once for the whole entry
  (``per: stage``);
- on ``repeat`` (``repeat: {choice: [2, 3, 4]}``): the entry's depth, made once for the entry.

So the Once-for-All space reads as its description: "depth per stage, kernel and expansion per
block". Replacing every choice by one of its values gives an ordinary spec (a per-block choice
becomes an expression in the repeat index ``i`` where the repeats differ); ``analyze`` on it
gives the numbers the space's commands report for that assignment.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from sepcalc.errors import Diagnostic, InputError, SepcalcError, SpecError, did_you_mean
from sepcalc.expr import ExprError, Number, as_int, evaluate, exact, reduce, show
from sepcalc.graph import Graph, build_graph
from sepcalc.spec.loader import (
    CHOICE,
    MAX_SPEC_BYTES,
    LoadedSpec,
    Locator,
    SpecPath,
    parse_yaml,
    validate_entries,
)
from sepcalc.textfile import read_text

PER = "per"
PER_VALUES = ("block", "stage")
NOT_CHOOSABLE = frozenset({"kind", "block", "name", "inputs"})
"""Keys of a layer entry that cannot be a choice (they decide what the entry is and wires)."""
MAX_VALUES = 10_000
"""The most values one choice may have."""

Value = Any
"""A choice's value: a number, a name, a boolean, or a list of them (a per-dimension key)."""


@dataclass(frozen=True)
class Choice:
    """One ``{choice: [...]}`` of a space."""

    name: str
    """How reports name it: the var (``resolution``), or ``<entry>.<key>`` (``stage1.k``),
    the entry being its ``name`` or ``layers.<n>``."""
    key: str
    values: tuple[Value, ...]
    per: str
    """``network`` (a var), ``stage`` (once for the entry) or ``block`` (every repeat)."""
    entry: int | None
    """The index in ``layers`` of the entry it belongs to (None for a var)."""
    path: SpecPath


Assignment = Mapping[str, Value]
"""A value for every choice, by name; a per-block choice gets a tuple, one value per repeat."""


@dataclass(frozen=True)
class Space:
    """A loaded search space: its choices and the spec of its first values (the template)."""

    file: str
    name: str
    data: Mapping[str, Any]
    """The YAML as written, choices included."""
    locator: Locator
    choices: tuple[Choice, ...]
    template: LoadedSpec
    """The spec with every choice at its first value: the entries and blocks the commands
    build from (its layer entries stand for their type, not their values)."""

    @property
    def var_choices(self) -> tuple[Choice, ...]:
        return tuple(c for c in self.choices if c.entry is None)

    def entry_choices(self, entry: int) -> tuple[Choice, ...]:
        return tuple(c for c in self.choices if c.entry == entry)

    @property
    def stages(self) -> tuple[int, ...]:
        """The top-level entries that have choices, in order."""
        return tuple(sorted({c.entry for c in self.choices if c.entry is not None}))

    def label(self, entry: int) -> str:
        """An entry's name in reports: its ``name``, else ``layers.<n>``."""
        raw = self.data["layers"][entry]
        name = raw.get("name") if isinstance(raw, dict) else None
        return name if isinstance(name, str) else f"layers.{entry}"

    def concrete(self, assignment: Assignment) -> dict[str, Any]:
        """The ordinary spec (plain data, as YAML would load it) of an assignment."""
        missing = [c.name for c in self.choices if c.name not in assignment]
        if missing:
            raise SepcalcError(f"no value for the choice {', '.join(missing)}")
        data = copy.deepcopy(dict(self.data))
        for c in self.choices:
            value = assignment[c.name]
            if c.per == "block":
                value = per_block_value(c, value)
            elif not any(_same(value, v) for v in c.values):
                raise SepcalcError(
                    f"{c.name}: {show_value(value)} is not one of its values "
                    f"({', '.join(show_value(v) for v in c.values)})"
                )
            _put(data, c.path, _yaml_ready(value))
        data["name"] = str(data.get("name", "network"))
        data.pop("description", None)
        return data

    def concrete_yaml(self, assignment: Assignment, comment: str = "") -> str:
        """The ordinary spec of an assignment as YAML text (a comment line first, if given)."""
        head = "".join(f"# {line}\n" for line in comment.splitlines())
        text = yaml.safe_dump(_yaml_ready(self.concrete(assignment)), sort_keys=False, width=100)
        return head + text

    def loaded(self, assignment: Assignment) -> LoadedSpec:
        """The ordinary spec of an assignment, validated (positions are the space file's)."""
        loaded = validate_entries(self.concrete(assignment), self.locator)
        if loaded.problems:
            raise SpecError(loaded.problems)
        return loaded

    def graph(self, assignment: Assignment) -> Graph:
        """The graph of an assignment, built from its ordinary spec as ``analyze`` builds it."""
        return build_graph(self.loaded(assignment))

    def count_values(self) -> dict[str, int]:
        return {c.name: len(c.values) for c in self.choices}


def _same(a: Value, b: Value) -> bool:
    return (type(a) is type(b) and a == b) or (_number(a) and _number(b) and a == b)


def _number(v: Value) -> bool:
    return isinstance(v, int | float | Fraction) and not isinstance(v, bool)


def show_value(v: Value) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(show_value(x) for x in v) + "]"
    if isinstance(v, Fraction):
        return show(reduce(v))
    return str(v)


def per_block_value(choice: Choice, values: Value) -> Value:
    """A per-block choice's values (one per repeat) as one spec value: the value itself when
    the repeats agree, else an expression in the repeat index ``i``."""
    if not isinstance(values, tuple) or not values:
        raise SepcalcError(f"{choice.name}: give one value per repeat (a tuple)")
    for v in values:
        if not any(_same(v, w) for w in choice.values):
            raise SepcalcError(
                f"{choice.name}: {show_value(v)} is not one of its values "
                f"({', '.join(show_value(w) for w in choice.values)})"
            )
    if all(_same(v, values[0]) for v in values):
        return values[0]
    if any(isinstance(v, list) for v in values):
        raise SepcalcError(
            f"{choice.name}: a per-dimension value cannot differ between repeats; give it "
            "per: stage"
        )
    text = _literal(values[-1])
    for i in range(len(values) - 2, -1, -1):
        text = f"{_literal(values[i])} if i == {i} else {text}"
    return text


def _literal(v: Value) -> str:
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, Fraction):
        return f"({v.numerator} / {v.denominator})" if v.denominator != 1 else str(v.numerator)
    return str(v)


def _yaml_ready(value: Any) -> Any:
    """Plain data YAML can write: an exact fraction becomes an expression string."""
    if isinstance(value, dict):
        return {k: _yaml_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_yaml_ready(v) for v in value]
    if isinstance(value, Fraction):
        return (
            value.numerator if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
        )
    return value


def _put(data: Any, path: SpecPath, value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


# --- loading --------------------------------------------------------------------------------


def is_choice(value: Any) -> bool:
    return isinstance(value, dict) and CHOICE in value


def _where(path: SpecPath) -> str:
    return ".".join(str(p) for p in path)


def _values(raw: Any, path: SpecPath, errors: list[tuple[SpecPath, str]]) -> tuple[Value, ...]:
    """A choice's values: a list, or ``"LOW:HIGH:STEP"`` (inclusive, exact)."""
    where = _where((*path, CHOICE))
    if isinstance(raw, str) and raw.count(":") == 2:
        try:
            low, high, step = (exact(part) for part in raw.split(":"))
        except ExprError as exc:
            errors.append(((*path, CHOICE), f"{where}: {exc}"))
            return ()
        if step <= 0 or high < low:
            errors.append(
                (
                    (*path, CHOICE),
                    f"{where}: '{raw}' is empty: expected LOW:HIGH:STEP "
                    "with LOW <= HIGH and STEP > 0",
                )
            )
            return ()
        count = int((Fraction(high) - Fraction(low)) / Fraction(step)) + 1
        if count > MAX_VALUES:
            errors.append(((*path, CHOICE), f"{where}: {count:,} values; at most {MAX_VALUES:,}"))
            return ()
        return tuple(reduce(Fraction(low) + i * Fraction(step)) for i in range(count))
    if not isinstance(raw, list) or not raw:
        errors.append(
            (
                (*path, CHOICE),
                f"{where}: expected a list of values, e.g. "
                "{choice: [3, 5, 7]}, or LOW:HIGH:STEP, e.g. {choice: '128:224:4'}",
            )
        )
        return ()
    if len(raw) > MAX_VALUES:
        errors.append(((*path, CHOICE), f"{where}: {len(raw):,} values; at most {MAX_VALUES:,}"))
        return ()
    values: list[Value] = []
    for j, v in enumerate(raw):
        ok = isinstance(v, int | float | str | bool | Fraction) or (
            isinstance(v, list) and v and all(isinstance(x, int | float | str) for x in v)
        )
        if not ok:
            errors.append(
                (
                    (*path, CHOICE, j),
                    f"{where}.{j}: a value is a number, a name, "
                    f"true/false or a list of numbers (got {v!r:.40})",
                )
            )
            continue
        if isinstance(v, float):
            v = reduce(Fraction(exact(repr(v))))
        if any(_same(v, w) for w in values):
            errors.append(((*path, CHOICE, j), f"{where}.{j}: {show_value(v)} is given twice"))
            continue
        values.append(v)
    return tuple(values)


def _choice(
    raw: dict[str, Any],
    path: SpecPath,
    name: str,
    key: str,
    entry: int | None,
    errors: list[tuple[SpecPath, str]],
) -> Choice | None:
    where = _where(path)
    for k in raw:
        if k not in (CHOICE, PER):
            hint = did_you_mean(str(k), [CHOICE, PER])
            errors.append(
                (
                    (*path, k),
                    f"{where}: unknown key '{k}' in a choice{hint} (a choice "
                    "is {choice: [values], per: block|stage})",
                )
            )
    values = _values(raw[CHOICE], path, errors)
    per = raw.get(PER)
    if entry is None:
        if per is not None:
            errors.append(
                (
                    (*path, PER),
                    f"{where}.per: a var's choice is made once for the "
                    "network; 'per' is for the keys of layers and block calls",
                )
            )
        per = "network"
    elif key == "repeat":
        if per not in (None, "stage"):
            errors.append(
                (
                    (*path, PER),
                    f"{where}.per: a depth (repeat) is chosen once for the entry: per: stage",
                )
            )
        per = "stage"
    elif per is None:
        per = "block"
    elif per not in PER_VALUES:
        hint = did_you_mean(str(per), PER_VALUES)
        errors.append(
            (
                (*path, PER),
                f"{where}.per: '{per}' is not one of 'block' (every repeat "
                f"chooses) or 'stage' (once for the entry){hint}",
            )
        )
        per = "block"
    if key == "repeat":
        for j, v in enumerate(values):
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
                errors.append(
                    (
                        (*path, CHOICE, j),
                        f"{where}.choice.{j}: a depth is a whole "
                        f"number of 0 or more (got {show_value(v)})",
                    )
                )
    if not values:
        return None
    return Choice(name, key, values, str(per), entry, path)


def _stray(value: Any, path: SpecPath) -> Iterator[SpecPath]:
    """Paths of choices where none may be (inside blocks, the input, a nested value)."""
    if is_choice(value):
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _stray(v, (*path, k))
    elif isinstance(value, list):
        for j, v in enumerate(value):
            yield from _stray(v, (*path, j))


def _read(data: Any, locator: Locator) -> tuple[list[Choice], Any]:
    """The choices of a space, and its template (every choice at its first value)."""
    if not isinstance(data, dict):
        raise SpecError(
            [
                locator.diagnostic(
                    (), "a space must be a mapping with 'input' and 'layers', like a spec"
                )
            ]
        )
    errors: list[tuple[SpecPath, str]] = []
    choices: list[Choice] = []
    template = copy.deepcopy(data)
    vars_ = data.get("vars")
    if isinstance(vars_, dict):
        for name, value in vars_.items():
            if is_choice(value):
                c = _choice(value, ("vars", name), str(name), str(name), None, errors)
                if c:
                    choices.append(c)
            else:
                for p in _stray(value, ("vars", name)):
                    errors.append((p, f"{_where(p)}: a choice goes on the var itself"))
    layers = data.get("layers")
    labels: dict[str, int] = {}
    """The entry of each label with choices: a choice is named by its entry's label."""
    if isinstance(layers, list):
        for j, entry in enumerate(layers):
            if not isinstance(entry, dict):
                continue
            label = entry.get("name") if isinstance(entry.get("name"), str) else f"layers.{j}"
            for key, value in entry.items():
                path: SpecPath = ("layers", j, key)
                if is_choice(value):
                    if key in NOT_CHOOSABLE:
                        errors.append(
                            (
                                path,
                                f"{_where(path)}: '{key}' cannot be a choice: "
                                "write one entry per alternative",
                            )
                        )
                        continue
                    if labels.setdefault(str(label), j) != j:
                        line, _ = locator.position(("layers", labels[str(label)]))
                        errors.append(
                            (
                                ("layers", j, "name"),
                                f"layers.{j}.name: the entry at line {line} is named '{label}' "
                                "too and has choices: its choices and this one's would have "
                                "the same names; give the entries distinct names",
                            )
                        )
                    c = _choice(value, path, f"{label}.{key}", str(key), j, errors)
                    if c:
                        choices.append(c)
                else:
                    for p in _stray(value, path):
                        errors.append(
                            (
                                p,
                                f"{_where(p)}: a choice goes on a whole key of a "
                                "layer (kernel: {choice: [3, 5]})",
                            )
                        )
    for part in ("blocks", "input", "budget"):
        for p in _stray(data.get(part), (part,)):
            where = "a block's layers" if part == "blocks" else f"'{part}'"
            fix = (
                "make it a block parameter and put the choice on the block call"
                if part == "blocks"
                else "put it on a var and use the var here"
                if part == "input"
                else "a budget is given to the command"
            )
            errors.append((p, f"{_where(p)}: no choice in {where}: {fix}"))
    if errors:
        raise SpecError([locator.diagnostic(p, m) for p, m in dict.fromkeys(errors)])
    names = [c.name for c in choices]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SpecError(
            [
                locator.diagnostic(
                    ("layers",),
                    f"choices named twice: {', '.join(twice)}: give the entries distinct names",
                )
            ]
        )
    for c in choices:
        first = c.values[0]
        if c.per == "block" and isinstance(first, Fraction):
            first = _literal(first)
        _put(template, c.path, _yaml_ready(first))
    return choices, template


def load_space(
    path: str | Path,
    fixed: Mapping[str, Value] | None = None,
    varied: Mapping[str, Sequence[Value]] | None = None,
    text: str | None = None,
) -> Space:
    """Read a space file: its choices, checked, and its template spec, validated.

    ``fixed`` sets vars to one value (a var's choice included); ``varied`` makes vars choices
    with the given values (OFA's elastic resolution on a space written at 224). With ``text``,
    nothing is read: ``path`` only names the text in diagnostics (``<stdin>``). A space is a
    spec: it may be as large as a spec may be.
    """
    file = str(path)
    if text is None:
        try:
            text = read_text(path, "space", MAX_SPEC_BYTES)
        except SepcalcError as exc:
            raise SpecError([Diagnostic(file, 0, 0, str(exc))]) from None
    elif len(text.encode()) > MAX_SPEC_BYTES:
        message = f"the space is larger than {MAX_SPEC_BYTES:,} bytes, the most a spec may be"
        raise SpecError([Diagnostic(file, 0, 0, message)])
    data, locator = parse_yaml(text, file)
    if (fixed or varied) and isinstance(data, dict):
        data = with_vars(data, fixed or {}, varied or {})
    return space_from_data(data, locator)


def with_vars(
    data: Mapping[str, Any], fixed: Mapping[str, Value], varied: Mapping[str, Sequence[Value]]
) -> dict[str, Any]:
    """The space's data with vars set to one value or made choices."""
    vars_ = dict(data.get("vars") or {})
    for param, names in (("overrides", fixed), ("choices", varied)):
        for name in names:
            if name not in vars_:
                raise InputError(
                    param,
                    name,
                    f"the space has no var '{name}'{did_you_mean(name, vars_)} "
                    f"(its vars: {', '.join(vars_) or 'none'})",
                )
            if name in fixed and name in varied:
                raise InputError(param, name, "a var is either set or varied, not both")
    for name, value in fixed.items():
        vars_[name] = _yaml_ready(value)
    for name, values in varied.items():
        vars_[name] = {CHOICE: list(values)}
    return {**data, "vars": vars_}


def space_from_data(data: Any, locator: Locator) -> Space:
    choices, template_data = _read(data, locator)
    template = validate_entries(template_data, locator)
    if template.problems:
        raise SpecError(template.problems)
    space = Space(
        locator.file,
        str(data.get("name", "network")),
        data,
        locator,
        tuple(choices),
        template,
    )
    _check_values(space)
    return space


def _check_values(space: Space) -> None:
    """Every value of every choice validates where it goes (each one alone, others first)."""
    problems: list[Diagnostic] = []
    first = {c.name: _first(space, c) for c in space.choices}
    for c in space.choices:
        for v in c.values[1:]:
            assignment = {**first, c.name: _first(space, c, v)}
            loaded = validate_entries(space.concrete(assignment), space.locator)
            problems += loaded.problems
    if problems:
        raise SpecError(sorted(set(problems)))


def _first(space: Space, c: Choice, value: Value | None = None) -> Value:
    v = c.values[0] if value is None else value
    return (v,) if c.per == "block" else v


# --- assignments ----------------------------------------------------------------------------


def var_assignments(space: Space) -> Iterator[dict[str, Value]]:
    """Every combination of the vars' choices (one empty one when there is none)."""
    vc = space.var_choices
    for combo in itertools.product(*(c.values for c in vc)):
        yield {c.name: v for c, v in zip(vc, combo, strict=True)}


def repeat_of(space: Space, entry: int, env: Mapping[str, Any], stage: Mapping[str, Value]) -> int:
    """How many repeats an entry has under var values ``env`` and its stage choices."""
    raw = space.template.spec.layers[entry].repeat
    key = f"{space.label(entry)}.repeat"
    if key in stage:
        return int(stage[key])
    try:
        return as_int(evaluate(raw, env)) if not isinstance(raw, int) else raw
    except ExprError as exc:
        raise SpecError(
            [space.locator.diagnostic(("layers", entry, "repeat"), f"layers.{entry}.repeat: {exc}")]
        ) from None


def total_choices(values: Sequence[int]) -> int:
    return math.prod(values)


__all__ = [
    "Assignment",
    "Choice",
    "Number",
    "Space",
    "load_space",
    "per_block_value",
    "repeat_of",
    "show_value",
    "space_from_data",
    "var_assignments",
]
