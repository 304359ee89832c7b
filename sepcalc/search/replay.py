"""A grid of var values, counted exactly without building every point.

The grid's vars split in two. A var is a *size* var when it reaches (directly, or through the
default expressions of other vars) no expression of the spec but ``input.size``; the others are
*channel* vars (they may change anything). That split is read from the spec's text: the names in
every expression (vars, input, every layer field, block-call arguments, block defaults, ``when``,
``repeat``) are collected with :func:`names_in`.

For one assignment of the channel vars, no expression changes with the size vars, so every
layer's kind, attrs and inputs are the same at every size: only shapes change. (The exception is
``in_channels`` inside a block, which is a shape: see below.) So the graph is built once per
channel assignment, and *replayed* at each input size: each node's input shapes come from its
predecessors, and its output shape and cost from its registered ``infer`` and ``cost`` (the same
formulas as a build; no second copy), looked up in a memo keyed on (kind, attrs, input shapes).
Runs of nodes that take nothing from before their first input (a block between two single-tensor
cuts of the graph) are memoized the same way, on (their layers, their input shape). Channel counts
repeat across widths (int and make_divisible round) and spatial sizes across resolutions, so the
memos are hit almost every time. Every count is exact by construction, not by sampling.

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
from typing import Any

from sepcalc.errors import SpecError
from sepcalc.expr import Number
from sepcalc.formulas import REGISTRY, Shape, ShapeError
from sepcalc.formulas.base import LayerKind
from sepcalc.graph import INPUT, INPUT_CHANNELS, Graph, build_graph
from sepcalc.search.evaluator import Evaluator
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


_MISSING = object()


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
        self.node_memo: dict[tuple[int, tuple[Shape, ...]], Any] = {}
        self.run_memo: dict[tuple[int, Shape], Any] = {}
        self.input_memo: dict[tuple[Number, ...], Shape | None] = {}
        self.rebuilt = 0
        """Points that built although their replay was refused (a layer's channels changed)."""

    def grid(
        self, points: Sequence[Point], progress: Callable[[int, int], None] | None = None
    ) -> tuple[list[Totals | None], list[str | None]]:
        """Totals (None where the spec does not build) and build errors of every point."""
        totals: list[Totals | None] = [None] * len(points)
        errors: list[str | None] = [None] * len(points)
        groups: dict[tuple[Number, ...], list[int]] = {}
        for i, point in enumerate(points):
            groups.setdefault(tuple(point[n] for n in self.plan.channels), []).append(i)
        done = 0
        for members in groups.values():
            runs: tuple[int, ...] | None = None
            for i in members:
                if runs is None:  # build the graph at the first point of the group that builds
                    try:
                        graph = self.evaluator.graph(points[i])
                    except SpecError as exc:
                        errors[i] = exc.diagnostics[0].message
                        continue
                    runs = self._runs(graph)
                counts = self._replay(runs, points[i])
                if counts is None:
                    totals[i], errors[i] = self._build(points[i])
                else:
                    totals[i] = Totals(*counts)
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
        steps = []
        for j in range(start + 1, end + 1):
            node = graph.nodes[j - 1]
            channels = node.output_shape[0] if self.plan.in_channels else None
            key = self._intern((node.kind, repr(sorted(node.attrs.items()))))
            inputs = tuple(t - start for t in sources[j - 1])
            steps.append(_Step(key, REGISTRY[node.kind], node.attrs, inputs, channels))
        run = self._intern(tuple((s.key, s.inputs, s.channels) for s in steps))
        self.runs.setdefault(run, tuple(steps))
        return run

    def _replay(self, runs: tuple[int, ...], point: Point) -> Counts | None:
        shape = self._input_shape(point)
        if shape is None:
            return None
        macs = params = flops = activations = 0
        memo = self.run_memo
        for run in runs:
            key = (run, shape)
            value = memo.get(key, _MISSING)
            if value is _MISSING:
                value = memo[key] = self._run_at(self.runs[run], shape)
            if value is None:
                return None
            shape, m, p, f, a = value
            macs += m
            params += p
            flops += f
            activations += a
        return macs, params, flops, activations

    def _run_at(self, steps: tuple[_Step, ...], shape: Shape) -> tuple[Any, ...] | None:
        """(output shape, MACs, params, FLOPs, activations) of a run on an input of ``shape``;
        None when a layer cannot take its input or its output channels changed."""
        shapes, total = [shape], [0, 0, 0, 0]
        for step in steps:
            in_shapes = tuple(shapes[i] for i in step.inputs)
            key = (step.key, in_shapes)
            value = self.node_memo.get(key, _MISSING)
            if value is _MISSING:
                value = self.node_memo[key] = self._node(step, in_shapes)
            if value is None or (step.channels is not None and value[0][0] != step.channels):
                return None
            shapes.append(value[0])
            for n in range(4):
                total[n] += value[n + 1]
        return (shapes[-1], *total)

    def _node(self, step: _Step, in_shapes: tuple[Shape, ...]) -> tuple[Any, ...] | None:
        """What a build computes for this node: the registered shape rule and cost formula."""
        try:
            out = step.kind.infer(step.attrs, in_shapes)
            parts = step.kind.cost(step.attrs, in_shapes, out)
        except ShapeError:
            return None
        # Graph.total() sums the parts into one Cost; FLOPs are linear in it, so summing each
        # part's counts gives the same ints without building the intermediate Costs.
        flops_of = self.evaluator.convention.flops
        macs = params = flops = activations = 0
        for _, cost in parts:
            macs += cost.macs
            params += cost.params
            flops += flops_of(cost)
            activations += cost.activations
        return out, macs, params, flops, activations

    def _input_shape(self, point: Point) -> Shape | None:
        """The input shape at ``point``, from a build of the vars and the input alone."""
        key = tuple(point[n] for n in self.plan.inputs)
        if key not in self.input_memo:
            try:
                graph = build_graph(self.inputs_only, {**self.evaluator.fixed, **point})
            except SpecError:
                self.input_memo[key] = None
            else:
                self.input_memo[key] = graph.input_shape
        return self.input_memo[key]
