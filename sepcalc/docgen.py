"""The docs' per-kind tables, generated from the declarations (and checked by a test).

``python docs/generate.py`` rewrites the generated parts of ``docs/*.md``: each sits
between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->``. The closed forms come from
the symbolic views, so this module imports sympy; nothing on a counting path imports it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from sepcalc.conventions import PRESETS
from sepcalc.cost import OPERATIONS, Cost
from sepcalc.formulas import REGISTRY, LayerKind
from sepcalc.formulas.base import REQUIRED, Attr
from sepcalc.graph import example_graph


def _declarations() -> list[list[LayerKind]]:
    """The kinds grouped by declaration (kinds that share a formula share a row)."""
    groups: dict[object, list[LayerKind]] = {}
    for kind in REGISTRY.values():
        groups.setdefault(kind.cost, []).append(kind)
    return list(groups.values())


def _names(kinds: Iterable[LayerKind]) -> str:
    return ", ".join(f"`{k.name}`" for k in kinds)


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0].rstrip(".") if text else ""


def _key(attr: Attr) -> str:
    if attr.default_from is not None:
        return f"`{attr.name}` (= {attr.default_from})"
    if attr.default is REQUIRED or attr.default is None:
        return f"`{attr.name}`"
    default = str(attr.default).lower() if isinstance(attr.default, bool) else attr.default
    return f"`{attr.name}` ({default})"


def spec_kinds() -> str:
    """docs/spec.md: each kind's keys with their defaults, and its output shape."""
    rows = ["| kind | keys (default) | output shape |", "|---|---|---|"]
    for kinds in _declarations():
        kind = kinds[0]
        keys = [_key(a) for a in kind.attrs]
        if kind.arity is None:
            keys.insert(0, "two or more `inputs`")
        rows.append(f"| {_names(kinds)} | {', '.join(keys)} | {_first_line(kind.infer.__doc__)} |")
    return "\n".join(rows)


def _example_costs(kind: LayerKind) -> list[Cost]:
    return [example_graph(e).nodes[-1].cost for e in kind.examples]


def _closed_form(kind: LayerKind, metric: str) -> str:
    if kind.view is None:
        return "0"
    from sepcalc.symbolic import layer_cost

    value = getattr(layer_cost(kind.name), metric)
    return f"`{value}`" if value != 0 else "0"


def _torch_classes(kinds: Iterable[LayerKind]) -> str:
    """The classes of the kinds' examples' counterparts (``Conv2d`` as ``ConvNd``), in order."""
    names: dict[str, None] = {}
    for kind in kinds:
        for example in kind.examples:
            node = example_graph(example).nodes[-1]
            call = kind.torch(node)
            for part in call.args if call.cls == "Sequential" else (call,):
                names[re.sub(r"[123]d$", "Nd", part.cls)] = None
    return ", ".join(f"`{n}`" for n in names)


def counting_kinds() -> str:
    """docs/counting.md: each kind's parameters and MACs in closed form, what else it counts,
    its breakdown buckets and its PyTorch counterpart."""
    rows = [
        "| kind | params | MACs | what its FLOPs count | breakdown buckets | PyTorch |",
        "|---|---|---|---|---|---|",
    ]
    for kinds in _declarations():
        kind = kinds[0]
        params, macs = (_closed_form(kind, m) for m in ("params", "macs"))
        buckets = ", ".join(kind.buckets)
        rows.append(
            f"| {_names(kinds)} | {params} | {macs} | {kind.flops} | {buckets} | "
            f"{_torch_classes(kinds)} |"
        )
    return "\n".join(rows)


def operations() -> str:
    """docs/counting.md: each operation count, its default weight and the kinds that count it."""
    default = PRESETS["default"]
    rows = ["| operation | FLOPs (default) | counted by |", "|---|---|---|"]
    counted: dict[str, list[str]] = {op: [] for op in OPERATIONS}
    free = []
    for kinds in _declarations():
        costs = _example_costs(kinds[0])
        ops = [op for op in OPERATIONS if any(getattr(c, op) for c in costs)]
        for op in ops:
            counted[op].append(_names(kinds))
        if not ops:
            free.append(_names(kinds))
    for op, what in OPERATIONS.items():
        rows.append(f"| {what} | {default.weight(op)} | {', '.join(counted[op])} |")
    rows.append(f"| a copy or a view (no arithmetic) | 0 | {', '.join(free)} |")
    return "\n".join(rows)


def presets() -> str:
    """docs/counting.md: the FLOPs of one operation under each preset."""
    names = [n for n, c in PRESETS.items() if c.name == n]
    rows = [
        "| operation | " + " | ".join(f"`{n}`" for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for op, what in OPERATIONS.items():
        weights = " | ".join(str(PRESETS[n].weight(op)) for n in names)
        rows.append(f"| {what.split(':')[0]} | {weights} |")
    return "\n".join(rows)


TABLES: dict[str, Callable[[], str]] = {
    "spec-kinds": spec_kinds,
    "counting-kinds": counting_kinds,
    "counting-operations": operations,
    "counting-presets": presets,
}
"""Every generated table, by the name its markers carry."""

_BLOCK = re.compile(r"(<!-- generated: ([\w-]+) -->\n)(.*?)(<!-- end: \2 -->)", re.DOTALL)


def regenerate(text: str) -> str:
    """``text`` with every generated table replaced by its current version."""

    def table(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in TABLES:
            raise KeyError(f"no generated table named '{name}'")
        return f"{match.group(1)}{TABLES[name]()}\n{match.group(4)}"

    return _BLOCK.sub(table, text)


def update(paths: Iterable[Path]) -> list[Path]:
    """Rewrite the generated tables of ``paths``; the files that changed."""
    changed = []
    for path in paths:
        old = path.read_text()
        new = regenerate(old)
        if new != old:
            path.write_text(new)
            changed.append(path)
    return changed


DOCS = ("docs/spec.md", "docs/counting.md")
"""The files with generated tables, relative to the project root."""
