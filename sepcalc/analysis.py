"""Totals, the breakdown by kind and by block, and the standard-convolution equivalent of a
graph."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sepcalc.conventions import DEFAULT, Convention
from sepcalc.cost import Cost, Num
from sepcalc.expr import Number
from sepcalc.formulas import REGISTRY, Shape
from sepcalc.graph import Graph, Node

ROLES = ("weight", "bias", "norm")


@dataclass(frozen=True)
class Counts:
    """What a report shows of a cost once a convention has turned op counts into FLOPs."""

    params: Num
    params_by_role: Mapping[str, Num]
    macs: Num
    flops: Num
    activations: Num

    @classmethod
    def of(cls, cost: Cost, convention: Convention) -> Counts:
        return cls(
            params=cost.params,
            params_by_role={role: getattr(cost, role) for role in ROLES},
            macs=cost.macs,
            flops=convention.flops(cost),
            activations=cost.activations,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "params_by_role": dict(self.params_by_role),
            "macs": self.macs,
            "flops": self.flops,
            "activations": self.activations,
        }


@dataclass(frozen=True)
class LayerRow:
    name: str
    kind: str
    inputs: tuple[str, ...]
    output_shape: Shape
    counts: Counts
    note: str = ""
    replaces: tuple[str, ...] = ()
    """In a standard-conv equivalent: the original layers this layer's cost stands for."""
    level: int = 1
    """How deep in blocks the layer is: 1 at the top level of ``layers:``, 2 in a block, ..."""

    block = ""
    """A layer is no block instance (see :class:`BlockRow`)."""
    layers = 1
    """As a row of a report by block, a layer sums one layer."""


@dataclass(frozen=True)
class BlockRow:
    """One block instance at the depth of a report by block: its layers' costs summed."""

    name: str
    """The instance's full name (``stage2.bottleneck1``), the prefix of its layers' names."""
    block: str
    """The block it calls."""
    level: int
    """1 for a block called in the top-level ``layers:``, 2 for one called in such a block, ..."""
    layers: int
    """How many layers it expands to (at every depth)."""
    inputs: tuple[str, ...]
    """The outputs it takes from outside itself."""
    output_shape: Shape
    counts: Counts
    replaced: int = 0
    """In a standard-conv equivalent: how many of its layers are replaced or fused."""

    kind = "block"
    """The kind of every block instance's row."""


Row = LayerRow | BlockRow
"""A row of a report by block: a layer (at any depth up to the chosen one) or a block
instance (at the chosen depth)."""


@dataclass(frozen=True)
class Analysis:
    name: str
    input_shape: Shape
    vars: Mapping[str, Number]
    convention: Convention
    totals: Counts
    by_kind: Mapping[str, Counts]
    layers: tuple[LayerRow, ...]
    standard: Analysis | None = None
    """The same network with every depthwise/separable conv replaced by a standard conv."""
    depth: int | None = None
    """The depth of :attr:`by_block`; None when the analysis is per layer only."""
    by_block: tuple[Row, ...] = ()
    """The network cut at :attr:`depth` (see :func:`by_block`): each layer exactly once."""


def by_kind(graph: Graph) -> dict[str, Cost]:
    """Costs summed per breakdown bucket; a separable layer adds to depthwise and pointwise."""
    buckets: dict[str, Cost] = {}
    for node in graph.nodes:
        for bucket, cost in node.parts:
            buckets[bucket] = buckets.get(bucket, Cost()) + cost
    return buckets


def analyze(
    graph: Graph,
    convention: Convention = DEFAULT,
    *,
    compare_standard: bool = False,
    depth: int | None = None,
    replaced: Mapping[str, tuple[str, ...]] | None = None,
) -> Analysis:
    """The report of ``graph``: per layer, and cut at ``depth`` when given (see
    :func:`by_block`)."""
    replaced = replaced or {}
    rows = tuple(
        LayerRow(
            n.name,
            n.kind,
            n.inputs,
            n.output_shape,
            Counts.of(n.cost, convention),
            _note(n.name, replaced),
            replaced.get(n.name, ()),
            len(n.within) + 1,
        )
        for n in graph.nodes
    )
    standard = None
    if compare_standard:
        std_graph, std_replaced = standard_equivalent(graph)
        standard = analyze(std_graph, convention, depth=depth, replaced=std_replaced)
    blocks = () if depth is None else by_block(graph, depth, rows, convention)
    return Analysis(
        name=graph.name,
        input_shape=graph.input_shape,
        vars=graph.vars,
        convention=convention,
        totals=Counts.of(graph.total(), convention),
        by_kind={k: Counts.of(c, convention) for k, c in by_kind(graph).items()},
        layers=rows,
        standard=standard,
        depth=depth,
        by_block=blocks,
    )


def by_block(
    graph: Graph, depth: int, rows: tuple[LayerRow, ...], convention: Convention = DEFAULT
) -> tuple[Row, ...]:
    """The network cut at ``depth``, in spec order: every block instance called ``depth``
    levels down (1: called in the top-level ``layers:``) as one row summing its layers, and
    every layer that is in no such instance as its own row (``rows`` are the graph's layer
    rows, in node order).

    Like fvcore's ``max_depth`` and torchinfo's ``depth``, but the rows are a cut, not a tree:
    an instance's row replaces its layers' rows and no row contains another, so every layer is
    in exactly one row and the rows of any depth sum exactly to the network's totals. A repeated
    entry gives one row per repeat, as each repeat is an instance (or a layer) of its own name;
    a block that repeats another gives one row for all the repeats.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    cut: list[Row] = []
    group: list[tuple[Node, LayerRow]] = []

    def close() -> None:
        if group:
            cut.append(_block_row(group, depth, convention))
            group.clear()

    for node, row in zip(graph.nodes, rows, strict=True):
        if len(node.within) < depth:
            close()
            cut.append(row)
            continue
        if group and group[0][0].within[depth - 1] != node.within[depth - 1]:
            close()
        group.append((node, row))
    close()
    return tuple(cut)


def _block_row(group: list[tuple[Node, LayerRow]], depth: int, convention: Convention) -> BlockRow:
    """The row of the instance ``depth`` levels down that holds the layers of ``group``."""
    instance = group[0][0].within[depth - 1]
    names = {node.name for node, _ in group}
    inputs = dict.fromkeys(i for node, _ in group for i in node.inputs if i not in names)
    return BlockRow(
        name=instance.name,
        block=instance.block,
        level=depth,
        layers=len(group),
        inputs=tuple(inputs),
        output_shape=group[-1][0].output_shape,
        counts=Counts.of(sum((node.cost for node, _ in group), Cost()), convention),
        replaced=sum(1 for _, row in group if row.note),
    )


def _note(name: str, replaced: Mapping[str, tuple[str, ...]]) -> str:
    if name not in replaced:
        return ""
    originals = replaced[name]
    if not originals:
        return "fused"
    return " + ".join(originals) + " as one conv"


def _as_standard_conv(node: Node, finish: Node) -> Node:
    """A k x k conv with ``node``'s kernel and stride, and the channels, bias, norm and
    activation of ``finish`` (the layer whose output it replaces)."""
    attrs = {
        "out": finish.output_shape[0],
        "kernel": node.attrs["kernel"],
        "stride": node.attrs["stride"],
        "padding": node.attrs["padding"],
        "dilation": node.attrs["dilation"],
        "groups": 1,
        "bias": finish.attrs["bias"],
        "norm": finish.attrs["norm"],
        "norm_groups": finish.attrs["norm_groups"],
        "act": finish.attrs["act"],
    }
    conv = REGISTRY["conv"]
    shape = conv.infer(attrs, node.input_shapes)
    return dataclasses.replace(
        node,
        kind="conv",
        attrs=attrs,
        output_shape=shape,
        parts=tuple(conv.cost(attrs, node.input_shapes, shape)),
    )


def standard_equivalent(graph: Graph) -> tuple[Graph, dict[str, tuple[str, ...]]]:
    """The graph with each depthwise/separable conv costed as the standard conv it replaces.

    A separable layer becomes a k x k conv from C_in to C_out. A depthwise layer whose only
    consumer is a stride-1, ungrouped pointwise layer is fused with it into one k x k conv to that
    pointwise layer's channels (MobileNet's "Conv MobileNet", Table 4), and the pointwise layer
    then costs nothing. Any other depthwise layer becomes a conv with the same channels.
    Returns the graph and, per replaced layer, the original layers its cost stands for (empty for
    a layer fused into another).
    """
    consumers = Counter(src for node in graph.nodes for src in node.inputs)
    following = {n.inputs[0]: n for n in graph.nodes if len(n.inputs) == 1}
    nodes: list[Node] = []
    replaced: dict[str, tuple[str, ...]] = {}
    fused: set[str] = set()
    for node in graph.nodes:
        if node.name in fused:
            nodes.append(dataclasses.replace(node, parts=()))
            continue
        if node.kind == "separable":
            nodes.append(_as_standard_conv(node, node))
            replaced[node.name] = (node.name,)
        elif node.kind == "depthwise":
            nxt = following.get(node.name)
            if (
                nxt is not None
                and consumers[node.name] == 1
                and nxt.kind == "pointwise"
                and nxt.attrs["groups"] == 1
                and set(nxt.attrs["stride"]) == {1}
            ):
                nodes.append(_as_standard_conv(node, nxt))
                replaced[node.name] = (node.name, nxt.name)
                replaced[nxt.name] = ()
                fused.add(nxt.name)
            else:
                nodes.append(_as_standard_conv(node, node))
                replaced[node.name] = (node.name,)
        else:
            nodes.append(node)
    return dataclasses.replace(graph, nodes=tuple(nodes)), replaced
