"""A spec against the user's own ``nn.Module``: totals, and layer by layer where the order lines up.

Pure: no torch. :mod:`.user` counts the module and hands over its calls as :class:`Unit` values
(the modules in the order their calls end, each with the parameters it holds itself and the
FLOPs counted in it and not in a child). A spec's layers and a module's submodules do not
correspond one to one (a spec's conv with ``norm:`` and ``act:`` is three modules; a
squeeze-excite is five), so both sides are cut into segments that start where parameters are
held, and consecutive segments are merged on either side until parameters and FLOPs agree:

- a spec segment is a layer with parameters and the parameter-free layers after it;
- a module segment is a module holding parameters and the parameter-free modules that belong
  with it: each goes with the neighbour (the module before or after it that holds parameters)
  whose path it shares more of (``block.2.avgpool`` goes with ``block.2.fc1`` after it, not with
  ``block.1.1`` before it), so a pool that starts a squeeze-excite is counted with it.

The first row that cannot be made to agree within :data:`WINDOW` segments is reported with what
each side holds there, and the comparison stops: past it the order no longer lines up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sepcalc.analysis import Analysis, analyze
from sepcalc.conventions import TOOL_CONVENTIONS, Convention
from sepcalc.errors import EXIT_FAILED, EXIT_OK
from sepcalc.graph import Graph

WINDOW = 64
"""The most segments one row may merge on either side (a spec layer that is many modules, or
the reverse); past it the rows are taken not to line up."""


@dataclass(frozen=True)
class Unit:
    """One module of the user's network, where its (first) call ends."""

    name: str
    """Its path in the model ('' for the model itself)."""
    params: int
    """Parameters it holds itself (its children's are theirs)."""
    flops: int
    """FLOPs the tool counted in it and in none of its children."""


@dataclass(frozen=True)
class ModuleCount:
    """What one tool counted on the user's module."""

    tool: str
    flops: int
    params: int
    units: tuple[Unit, ...]
    output_shape: tuple[int, ...]
    """One sample's output shape (no batch axis)."""
    uncounted: Mapping[str, int] = field(default_factory=dict)
    """Operators the tool met but has no formula for (name -> occurrences)."""


@dataclass(frozen=True)
class Segment:
    names: tuple[str, ...]
    params: int
    flops: int


@dataclass(frozen=True)
class Row:
    """Spec layers and modules that hold the same parameters, with both sides' FLOPs."""

    layers: tuple[str, ...]
    modules: tuple[str, ...]
    params: int
    tool_params: int
    flops: int
    tool_flops: int

    @property
    def agrees(self) -> bool:
        return self.params == self.tool_params and self.flops == self.tool_flops


@dataclass(frozen=True)
class AgainstCheck:
    """One tool: the spec's totals under its convention beside the module's, and the rows."""

    tool: str
    convention: Convention
    flops: int
    tool_flops: int
    params: int
    tool_params: int
    shape: tuple[int, ...]
    tool_shape: tuple[int, ...]
    rows: tuple[Row, ...]
    stopped: str | None
    """The spec layer where the order stopped lining up (None: every layer compared)."""
    uncounted: Mapping[str, int] = field(default_factory=dict)

    @property
    def agrees(self) -> bool:
        return (
            self.flops == self.tool_flops
            and self.params == self.tool_params
            and self.shape == self.tool_shape
            and self.stopped is None
            and all(r.agrees for r in self.rows)
        )

    @property
    def differing(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if not r.agrees)


@dataclass(frozen=True)
class AgainstResult:
    """A spec against the user's module, for every tool asked; exit 0 when all agree, else 1."""

    name: str
    target: str
    """The factory, as given (``pkg.models:build``)."""
    checks: tuple[AgainstCheck, ...]

    @property
    def agrees(self) -> bool:
        return all(c.agrees for c in self.checks)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.agrees else EXIT_FAILED


def spec_segments(analysis: Analysis) -> list[Segment]:
    """Each layer with parameters and the parameter-free layers after it (those before the
    first such layer form a segment of their own)."""
    segments: list[list[tuple[str, int, int]]] = []
    for row in analysis.layers:
        item = (row.name, int(row.counts.params), int(row.counts.flops))
        if item[1] or not segments:
            segments.append([item])
        else:
            segments[-1].append(item)
    return [_segment(s) for s in segments]


def _segment(items: Sequence[tuple[str, int, int]]) -> Segment:
    return Segment(
        tuple(n for n, _, _ in items), sum(p for _, p, _ in items), sum(f for _, _, f in items)
    )


def _shared(a: str, b: str) -> int:
    """How many leading path components two module paths share."""
    n = 0
    for x, y in zip(a.split(".") if a else [], b.split(".") if b else [], strict=False):
        if x != y:
            break
        n += 1
    return n


def module_segments(units: Sequence[Unit]) -> list[Segment]:
    """Each module holding parameters with the parameter-free modules that belong with it."""
    holders = [k for k, u in enumerate(units) if u.params]
    if not holders:
        return [_segment([(u.name, u.params, u.flops) for u in units])] if units else []
    groups: dict[int, list[int]] = {k: [] for k in holders}
    for k, unit in enumerate(units):
        if unit.params:
            groups[k].append(k)
            continue
        before = max((h for h in holders if h < k), default=None)
        after = min((h for h in holders if h > k), default=None)
        if before is None or (
            after is not None
            and _shared(unit.name, units[after].name) > _shared(unit.name, units[before].name)
        ):
            groups[after if after is not None else holders[0]].append(k)
        else:
            groups[before].append(k)
    return [
        _segment([(units[k].name, units[k].params, units[k].flops) for k in sorted(groups[h])])
        for h in holders
    ]


def align(spec: Sequence[Segment], module: Sequence[Segment]) -> tuple[list[Row], str | None]:
    """Rows of merged segments: the side holding fewer parameters takes its next segment until
    both hold the same, and then their FLOPs must agree too. The first row that does not agree
    is the last one, and its first spec layer is where the order stopped lining up."""
    rows: list[Row] = []
    i = j = 0
    while i < len(spec) or j < len(module):
        a, b = min(i + 1, len(spec)), min(j + 1, len(module))
        sp, sf = sum(s.params for s in spec[i:a]), sum(s.flops for s in spec[i:a])
        mp, mf = sum(s.params for s in module[j:b]), sum(s.flops for s in module[j:b])
        while sp != mp and a - i <= WINDOW and b - j <= WINDOW:
            if sp < mp and a < len(spec):
                sp, sf, a = sp + spec[a].params, sf + spec[a].flops, a + 1
            elif mp < sp and b < len(module):
                mp, mf, b = mp + module[b].params, mf + module[b].flops, b + 1
            else:
                break
        row = Row(
            layers=tuple(n for s in spec[i:a] for n in s.names),
            modules=tuple(n for s in module[j:b] for n in s.names),
            params=sp,
            tool_params=mp,
            flops=sf,
            tool_flops=mf,
        )
        rows.append(row)
        if not row.agrees:
            return rows, (row.layers[0] if row.layers else "(after the last layer)")
        i, j = a, b
    return rows, None


def check_against(
    graph: Graph, count: ModuleCount, convention: Convention | None = None
) -> AgainstCheck:
    """The spec under ``convention`` (else the tool's) against one tool's count of the module."""
    analysis = analyze(graph, convention or TOOL_CONVENTIONS[count.tool])
    rows, stopped = align(spec_segments(analysis), module_segments(count.units))
    return AgainstCheck(
        tool=count.tool,
        convention=analysis.convention,
        flops=int(analysis.totals.flops),
        tool_flops=count.flops,
        params=int(analysis.totals.params),
        tool_params=count.params,
        shape=tuple(int(n) for n in graph.output_shape),
        tool_shape=count.output_shape,
        rows=tuple(rows),
        stopped=stopped,
        uncounted=count.uncounted,
    )


def cross_check_against(
    graph: Graph,
    target: str,
    counts: Sequence[ModuleCount],
    convention: Convention | None = None,
) -> AgainstResult:
    return AgainstResult(
        graph.name, target, tuple(check_against(graph, c, convention) for c in counts)
    )
