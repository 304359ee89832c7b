"""A grid of var values, counted exactly without building every point.

The grid's vars split in two. A var is a *size* var when it reaches (directly, or through the
default expressions of other vars) no expression of the spec but ``input.size``; the others are
*channel* vars (they may change anything). That split is read from the spec's text: the names in
every expression (vars, input, every layer field, block-call arguments, block defaults, ``when``,
``repeat``) are collected with :func:`names_in`.

For one assignment of the channel vars, no expression changes with the size vars, so every
layer's kind, attrs and inputs are the same at every size: only shapes change. (The exception is
``in_channels`` inside a block, which is a shape: see below.) So the graph is built once per
channel assignment, without its costs (``build_graph(costs=False)``), and *replayed* at each
input size: each node's input shapes come from its predecessors, and its output shape and cost
from its registered ``infer`` and ``cost`` (the same formulas as a build; no second copy).

The graph is cut into *runs* of nodes between single-tensor cuts (a layer, or a block with its
residual), interned across graphs: an identical run of another width is the same run. A run's
value (output shape and counts) at each input shape is memoized. The shapes a run meets that are
not in its memo are computed in one call of each layer's rule and formula, with every size that
differs between them as :class:`~sepcalc.search.lanes.Lanes` (exact, lane by lane; where the
lanes disagree on a test they split, and where a formula does what lanes do not, each shape is
computed alone). Points that reach a cut with the same shape have the same future, so they are
followed as one class from there (:meth:`Replay._replay`); and the runs a graph begins with in
common with the previous one (the same widths in the first stages) are not followed again.
Every count is exact by construction, not by sampling. (NB: a replayed layer is not held to the
bound a build puts on one layer's counts, :data:`~sepcalc.cost.MAX_COUNT_BITS`: a point with a
count over 2**8192 gets it, where a build would refuse it.)

Checks that send a point to a full build instead (its diagnostics are then the build's own):
the input shape or a var default cannot be evaluated there, a layer cannot take its input shape
(``ShapeError``), or, in a spec that names ``in_channels`` (inside a block, the channels of the
block's input tensor: a shape, which expressions, ``when`` and ``repeat`` may use), some layer's
output channels differ from the built graph's (a flatten folds the size into the channels).
Every tensor a block can take is the network's input, whose channels the size vars do not reach,
or a layer's output, so equal channels everywhere mean equal ``in_channels`` in every block: even
in one that built no layer at all in the built graph (a ``when`` false there).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import add, itemgetter
from typing import Any, NamedTuple, cast

from sepcalc.errors import SpecError
from sepcalc.expr import Number
from sepcalc.formulas import REGISTRY, Shape, ShapeError
from sepcalc.formulas.base import LayerKind
from sepcalc.graph import INPUT, INPUT_CHANNELS, Graph, build_graph
from sepcalc.search.evaluator import Evaluator
from sepcalc.search.lanes import Refused, Varies, pack, unpack
from sepcalc.search.targets import Totals
from sepcalc.spec.loader import LoadedSpec
from sepcalc.spec.models import NetworkSpec

Point = Mapping[str, Number]
Counts = tuple[int, int, int, int]
"""MACs, params, FLOPs (under the evaluator's convention) and activations."""

# --- which vars change only the input size ---------------------------------------------------


def names_in(text: str) -> set[str]:
    """Every name an expression uses (variables and functions); none if it does not parse.

    Text that does not parse is no expression a build could evaluate (a layer's kind, an
    activation's name), or one that fails at every point.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def _names(value: Any) -> set[str]:
    """The names used by every string in ``value`` (a spec value, list or mapping)."""
    return {name for text in _strings(value) for name in names_in(text)}


@dataclass(frozen=True)
class Plan:
    sizes: tuple[str, ...]
    """Grid vars that reach only ``input.size``."""
    channels: tuple[str, ...]
    """The other grid vars: one graph is built for each combination of their values."""
    inputs: tuple[str, ...]
    """Grid vars that the input shape or a var default depends on."""
    in_channels: bool
    """Whether an expression names ``in_channels`` (a block's input channels: a shape)."""


def plan(spec: NetworkSpec, grid: Sequence[str], fixed: Collection[str]) -> Plan:
    """Split the grid vars by what they reach in ``spec``; ``fixed`` vars are overridden too."""
    data = spec.model_dump()
    overridden = set(grid) | set(fixed)
    defaults = {name: _names(raw) for name, raw in spec.vars.items() if name not in overridden}
    # Every name of every expression but input.size and the var defaults. (Also the names of
    # layers, kinds and activations: a var named like one is taken to reach further than it
    # does, which costs speed, never exactness.)
    elsewhere = _names(data["layers"]) | _names(data["input"]["channels"])
    for block in data["blocks"].values():
        elsewhere |= _names(block["layers"])
        if isinstance(block["params"], Mapping):  # a list holds only the params' names
            elsewhere |= _names(block["params"])

    def reached(names: set[str]) -> set[str]:
        """``names`` and the vars their non-overridden defaults use, transitively."""
        seen: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(defaults.get(name, ()))
        return seen

    beyond_size = reached(elsewhere)
    input_side = reached(_names(data["input"]) | {n for d in defaults.values() for n in d})
    return Plan(
        tuple(n for n in grid if n not in beyond_size),
        tuple(n for n in grid if n in beyond_size),
        tuple(n for n in grid if n in input_side),
        INPUT_CHANNELS in elsewhere,
    )


# --- replaying a graph at other input sizes --------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """One node of a run: what to compute and from which shapes of the run."""

    key: int
    """The interned (kind, attrs) of the node."""
    kind: LayerKind
    attrs: Mapping[str, Any]
    inputs: tuple[int, ...]
    """Indices into the run's shapes: 0 is the run's input, i the run's i-th node."""
    channels: int | None
    """With ``in_channels`` in the spec, the node's output channels in the built graph: the
    replay is only valid where they are the same."""


_MISSING: Any = object()

Value = tuple[Shape, int, int, int, int] | None
"""A run at one input shape: its output shape, MACs, params, FLOPs and activations; None where
the run cannot be replayed (a layer cannot take its input, or its output channels changed)."""


class _Classes(NamedTuple):
    """The classes of a replay after some runs (see :meth:`Replay._replay`); never changed."""

    shapes: list[Shape]
    """The input shape of the next run, for each live class."""
    live: list[int]
    """The ids of the live classes."""
    sums: list[list[int]]
    """The live classes' counts so far, by metric (MACs, params, FLOPs, activations)."""
    parent: tuple[int, ...]
    """Each class's parent (-1: none yet)."""
    ended: tuple[Counts | None, ...]
    """Each class's counts once it ends; None while it is live, or when it ended because its
    run cannot be replayed."""


class Replay:
    """Exact totals of an evaluator's spec at grid points, one build per channel assignment."""

    def __init__(self, evaluator: Evaluator, plan: Plan) -> None:
        self.evaluator = evaluator
        self.plan = plan
        spec = evaluator.loaded.spec
        self.inputs_only = LoadedSpec(
            spec.model_copy(update={"layers": [], "blocks": {}}), evaluator.loaded.locator
        )
        self.interned: dict[Any, int] = {}
        self.runs: dict[int, tuple[_Step, ...]] = {}
        self.memo: dict[int, dict[Shape, Value]] = {}
        """Each run's value at each input shape met so far."""
        self.inputs_of = _values_of(plan.inputs)
        self.input_memo: dict[tuple[Number, ...], Shape | None] = {}
        """The input shape at each value of the vars it depends on."""
        self.previous: tuple[list[Shape], tuple[int, ...], list[_Classes]] | None = None
        """The last replay's first classes, runs, and classes after each run."""
        self.rebuilt = 0
        """Points that built although their replay was refused (a layer's channels changed)."""

    def grid(
        self, points: Sequence[Point], progress: Callable[[int, int], None] | None = None
    ) -> tuple[list[Totals | None], list[str | None]]:
        """Totals (None where the spec does not build) and build errors of every point."""
        totals: list[Totals | None] = [None] * len(points)
        errors: list[str | None] = [None] * len(points)
        groups: dict[tuple[Number, ...], list[int]] = {}
        for i, key in enumerate(map(_values_of(self.plan.channels), points)):
            groups.setdefault(key, []).append(i)
        done = 0
        for members in groups.values():
            for start, i in enumerate(members):  # the graph of the first point that builds
                try:
                    graph = self.evaluator.graph(points[i], costs=False)
                except SpecError as exc:
                    errors[i] = exc.diagnostics[0].message
                    continue
                rest = members[start:]
                replayed = self._replay(self._runs(graph), [points[j] for j in rest])
                for j, counts in zip(rest, replayed, strict=True):
                    if counts is None:
                        totals[j], errors[j] = self._build(points[j])
                    else:
                        totals[j] = Totals(*counts)
                break
            done += len(members)
            if progress is not None:
                progress(done, len(points))
        return totals, errors

    def _build(self, point: Point) -> tuple[Totals | None, str | None]:
        try:
            found = self.evaluator.totals(point)
        except SpecError as exc:
            return None, exc.diagnostics[0].message
        self.rebuilt += 1
        return found, None

    def _intern(self, key: Any) -> int:
        return self.interned.setdefault(key, len(self.interned))

    def _runs(self, graph: Graph) -> tuple[int, ...]:
        """The graph as runs of nodes between single-tensor cuts, each interned."""
        position = {INPUT: 0} | {node.name: j for j, node in enumerate(graph.nodes, 1)}
        sources = [tuple(position[name] for name in node.inputs) for node in graph.nodes]
        last_use = [0] * (len(graph.nodes) + 1)
        for j, ins in enumerate(sources, 1):
            for t in ins:
                last_use[t] = j
        runs, start, used_until = [], 0, 0
        for j in range(1, len(graph.nodes) + 1):
            # The last node that uses a tensor made before node j: when it is j at most, node
            # j's output is all that the nodes after j take, and a run ends here.
            used_until = max(used_until, last_use[j - 1])
            if used_until <= j or j == len(graph.nodes):
                runs.append(self._run(graph, sources, start, j))
                start = j
        return tuple(runs)

    def _run(self, graph: Graph, sources: list[tuple[int, ...]], start: int, end: int) -> int:
        nodes = graph.nodes[start:end]
        keys = tuple(
            (
                self._intern((node.kind, repr(node.attrs))),  # attrs in declared order
                tuple(t - start for t in ins),
                node.output_shape[0] if self.plan.in_channels else None,
            )
            for node, ins in zip(nodes, sources[start:end], strict=True)
        )
        run = self._intern(keys)
        if run not in self.runs:
            self.runs[run] = tuple(
                _Step(key, REGISTRY[node.kind], node.attrs, inputs, channels)
                for node, (key, inputs, channels) in zip(nodes, keys, strict=True)
            )
            self.memo[run] = {}
        return run

    def _replay(self, runs: tuple[int, ...], points: Sequence[Point]) -> list[Counts | None]:
        """The counts of one graph at each point (None where it cannot be replayed).

        Points whose tensor at a cut between two runs has the same shape have the same runs
        after it: they are followed as one *class* from there on. A class sums the counts of the
        runs it goes through; at a cut where several reach one shape, they end and one new class
        goes on, their *parent*. A point's counts are those of its first class and of every
        parent after it. So each run is looked at once per shape its input takes, and not at all
        in the runs this graph begins with in common with the previous one (the same widths in
        the first stages), from the same classes: their classes are the previous graph's.
        """
        classes: dict[Shape, int] = {}
        first: list[int] = []
        inputs = self.input_memo
        for key, point in zip(map(self.inputs_of, points), points, strict=True):
            shape = inputs[key] if key in inputs else self._input_shape(key, point)
            first.append(-1 if shape is None else classes.setdefault(shape, len(classes)))
        n = len(classes)
        state = _Classes(list(classes), list(range(n)), [[0] * n] * 4, (-1,) * n, (None,) * n)
        states: list[_Classes] = []
        """The classes after each run."""
        if self.previous is not None and self.previous[0] == state.shapes:
            _, before, classes_after = self.previous
            common = 0
            while common < min(len(runs), len(before)) and runs[common] == before[common]:
                common += 1
            states = classes_after[:common]
        for run in runs[len(states) :]:
            states.append(self._step(run, states[-1] if states else state))
        self.previous = (state.shapes, runs, states)
        if states:
            state = states[-1]
        ended = list(state.ended)
        sums = state.sums
        for j, cid in enumerate(state.live):
            ended[cid] = (sums[0][j], sums[1][j], sums[2][j], sums[3][j])
        whole: list[Counts | None] = [None] * len(ended)
        for cid in reversed(range(len(ended))):  # a parent comes after its classes
            own, up = ended[cid], state.parent[cid]
            after = (0, 0, 0, 0) if up < 0 else whole[up]
            if own is not None and after is not None:
                whole[cid] = (
                    own[0] + after[0],
                    own[1] + after[1],
                    own[2] + after[2],
                    own[3] + after[3],
                )
        return [None if cid < 0 else whole[cid] for cid in first]

    def _step(self, run: int, state: _Classes) -> _Classes:
        """The classes after ``run``."""
        values = self._values(run, state.shapes)
        live, sums = state.live, state.sums
        if None in values:  # those classes end here, not replayed
            kept = [j for j, v in enumerate(values) if v is not None]
            values = [values[j] for j in kept]
            live = [live[j] for j in kept]
            sums = [[column[j] for j in kept] for column in sums]
        replayed = cast(list[tuple[Any, ...]], values)
        sums = [
            list(map(add, column, map(itemgetter(k), replayed))) for k, column in enumerate(sums, 1)
        ]
        shapes = list(map(itemgetter(0), replayed))
        if len(set(shapes)) == len(shapes):
            return _Classes(shapes, live, sums, state.parent, state.ended)
        parent, ended = list(state.parent), list(state.ended)
        shapes, live, sums = _merge(shapes, live, sums, parent, ended)
        return _Classes(shapes, live, sums, tuple(parent), tuple(ended))

    def _values(self, run: int, shapes: list[Shape]) -> list[Value]:
        """The run's value at each of ``shapes``, from the memo or computed."""
        memo = self.memo[run]
        values = list(map(memo.get, shapes, repeat(_MISSING)))
        if _MISSING in values:
            memo.update(self._run_at(self.runs[run], [s for s in shapes if s not in memo]))
            values = list(map(memo.__getitem__, shapes))
        return values

    def _run_at(self, steps: tuple[_Step, ...], shapes: list[Shape]) -> dict[Shape, Value]:
        """The run's value at each input shape: one call of each layer's shape rule and cost
        formula with every size that differs between the shapes as :class:`Lanes`. Where the
        lanes disagree on a test, they split and each side is counted apart; where a formula
        does what lanes do not, each shape is counted alone."""
        found: dict[Shape, Value] = {}
        todo = list(_by_rank(shapes))
        while todo:
            batch = todo.pop()
            if len(batch) == 1:  # plain ints: no lane to refuse anything
                found.update(zip(batch, self._lanes(steps, batch), strict=True))
                continue
            try:
                found.update(zip(batch, self._lanes(steps, batch), strict=True))
            except Varies as split:
                todo.append([s for s, t in zip(batch, split.truth, strict=True) if t])
                todo.append([s for s, t in zip(batch, split.truth, strict=True) if not t])
            except (Refused, TypeError):
                todo += [[s] for s in batch]
        return found

    def _lanes(self, steps: tuple[_Step, ...], shapes: list[Shape]) -> list[Value]:
        """The run at ``shapes`` (all of one rank), each size packed over the shapes."""
        n = len(shapes)
        tensors = [tuple(pack(sizes) for sizes in zip(*shapes, strict=True))]
        flops_of = self.evaluator.convention.flops
        macs: Any = 0
        params: Any = 0
        flops: Any = 0
        activations: Any = 0
        try:
            for step in steps:
                ins = step.inputs
                in_shapes = (tensors[ins[0]],) if len(ins) == 1 else tuple(tensors[i] for i in ins)
                out = step.kind.infer(step.attrs, in_shapes)
                # Graph.total() sums the parts into one Cost; FLOPs are linear in it, so summing
                # each part's counts gives the same ints without building the intermediate Costs.
                for _, cost in step.kind.cost(step.attrs, in_shapes, out):
                    macs += cost.macs
                    params += cost.params
                    flops += flops_of(cost)
                    activations += cost.activations
                if step.channels is not None and out[0] != step.channels:
                    return [None] * n
                tensors.append(out)
        except ShapeError:
            return [None] * n
        outs = zip(*(unpack(size, n) for size in tensors[-1]), strict=True)
        counts = (unpack(c, n) for c in (macs, params, flops, activations))
        return list(zip(outs, *counts, strict=True))

    def _input_shape(self, key: tuple[Number, ...], point: Point) -> Shape | None:
        """The input shape at ``point`` (whose values of the input's vars are ``key``), from a
        build of the vars and the input alone."""
        try:
            shape = build_graph(self.inputs_only, {**self.evaluator.fixed, **point}).input_shape
        except SpecError:
            shape = None
        self.input_memo[key] = shape
        return shape


def _merge(
    shapes: list[Shape],
    live: list[int],
    sums: list[list[int]],
    parent: list[int],
    ended: list[Counts | None],
) -> tuple[list[Shape], list[int], list[list[int]]]:
    """The live classes after a cut where some reach one shape: those end, one parent goes on."""
    reached: dict[Shape, list[int]] = {}
    for j, shape in enumerate(shapes):
        reached.setdefault(shape, []).append(j)
    new_live: list[int] = []
    new_sums: list[list[int]] = [[], [], [], []]
    for js in reached.values():
        if len(js) == 1:
            new_live.append(live[js[0]])
            for column, new in zip(sums, new_sums, strict=True):
                new.append(column[js[0]])
            continue
        merged = len(parent)
        parent.append(-1)
        ended.append(None)
        for j in js:
            parent[live[j]] = merged
            ended[live[j]] = (sums[0][j], sums[1][j], sums[2][j], sums[3][j])
        new_live.append(merged)
        for new in new_sums:
            new.append(0)
    return list(reached), new_live, new_sums


def _values_of(names: Sequence[str]) -> Callable[[Point], tuple[Number, ...]]:
    """The values of ``names`` at a point, as a tuple (an itemgetter: no loop per point)."""
    if len(names) > 1:
        return itemgetter(*names)
    if names:
        one = itemgetter(names[0])
        return lambda point: (one(point),)
    return lambda point: ()


def _by_rank(shapes: list[Shape]) -> list[list[Shape]]:
    """The shapes in batches of one rank (lanes pack sizes position by position)."""
    if len(set(map(len, shapes))) == 1:
        return [shapes]
    ranks: dict[int, list[Shape]] = {}
    for shape in shapes:
        ranks.setdefault(len(shape), []).append(shape)
    return list(ranks.values())
