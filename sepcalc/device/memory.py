"""Bytes moved by each layer, and peak activation memory over the graph in execution order.

Each kind declares the elements a layer reads, writes and holds (:class:`Traffic`, in
:mod:`sepcalc.formulas`); here they become bytes at a :class:`Precision` and a batch, and the
tensors alive at each step are summed.

Peak memory (docs/device.md): layers run in spec order, one at a time. At a layer's step the
memory holds every tensor still needed (the network input until its last reader; each output
until its last consumer, so a residual's shortcut and a concat's branches stay alive), plus the
layer's output and workspace. A view (slice, flatten, dropout) shares its input's memory. The
network's output stays to the end. Conventions:

- ``plain``: every layer writes a new tensor;
- ``in-place-depthwise``: as TinyEngine runs it (MCUNetV2, arXiv 2110.15352), a depthwise layer
  with one filter per channel whose input no later layer reads overwrites that input channel by
  channel; it needs the input plus one output channel, and its output takes the input's place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sepcalc.device.dtypes import Precision
from sepcalc.formulas import REGISTRY
from sepcalc.formulas.base import Traffic, numel
from sepcalc.graph import INPUT, Graph, Node

CONVENTIONS: dict[str, str] = {
    "plain": "every layer writes a new tensor; a layer holds its inputs, its output and its "
    "workspace, and every tensor a later layer still reads",
    "in-place-depthwise": "as plain, but a depthwise layer (one filter per channel) whose input "
    "no later layer reads overwrites it channel by channel (TinyEngine, MCUNetV2): it holds its "
    "input plus one output channel",
}
"""The peak-memory conventions, in words."""


def traffic(node: Node) -> Traffic:
    """The elements ``node`` moves and holds, by its kind's declaration."""
    return REGISTRY[node.kind].traffic(node.attrs, node.input_shapes, node.output_shape, node.cost)


@dataclass(frozen=True)
class LayerMemory:
    """One layer's bytes (at the precision and batch) and the memory held while it runs."""

    name: str
    kind: str
    traffic: Traffic
    read: int
    """Bytes of tensors read (inputs and intermediates)."""
    weights: int
    """Bytes of parameters read (once per batch)."""
    written: int
    """Bytes of tensors written."""
    live: int
    """Bytes of activations held while it runs (its step of the peak-memory walk)."""
    in_place: bool = False
    """It overwrote its input (the in-place-depthwise convention)."""

    @property
    def moved(self) -> int:
        """Every byte it reads or writes: the roofline's memory traffic."""
        return self.read + self.weights + self.written

    @property
    def accesses(self) -> int:
        """The memory access cost as ShuffleNetV2 defines it (elements, one sample):
        hw(c1 + c2) + c1*c2 for a 1x1 conv (Eq. 1), hw(c1 + c2) + c1*c2/g grouped (Eq. 2)."""
        t = self.traffic
        total: int = t.read + t.weights + t.written
        return total


@dataclass(frozen=True)
class Memory:
    """Bytes moved by every layer and the peak of activation memory, at one precision."""

    precision: Precision
    batch: int
    convention: str
    input_bytes: int
    layers: tuple[LayerMemory, ...]
    peak: int
    """The most bytes of activations held at once (the input alone, for a network without
    layers)."""
    peak_layer: str
    """The first layer at which the peak is held (``input`` for a network without layers)."""
    flash: int
    """Bytes of every parameter at the weights' type."""


def check_convention(name: str) -> str:
    from sepcalc.errors import SepcalcError, did_you_mean

    if name not in CONVENTIONS:
        raise SepcalcError(
            f"unknown memory convention '{name}'{did_you_mean(name, CONVENTIONS)}; choose one "
            f"of: {', '.join(CONVENTIONS)}"
        )
    return name


def memory(
    graph: Graph,
    precision: Precision,
    batch: int = 1,
    *,
    convention: str = "plain",
    source: str = INPUT,
) -> Memory:
    """Every layer's bytes and the peak activation memory of ``graph`` (see the module doc).

    ``source``: the name by which the nodes take the graph's input (a search space's stage
    takes the tensor crossing its cut under another name)."""
    check_convention(convention)
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    moves = [traffic(n) for n in graph.nodes]
    elements = _live_elements(graph.nodes, moves, numel(graph.input_shape), convention, source)
    act, wb = precision.activation_bytes * batch, precision.weight_bytes
    layers = tuple(
        LayerMemory(
            n.name,
            n.kind,
            t,
            read=t.read * act,
            weights=t.weights * wb,
            written=t.written * act,
            live=live * act,
            in_place=in_place,
        )
        for n, t, (live, in_place) in zip(graph.nodes, moves, elements, strict=True)
    )
    input_bytes = numel(graph.input_shape) * act
    peak, peak_layer = input_bytes, INPUT
    for layer in layers:
        if layer.live > peak:
            peak, peak_layer = layer.live, layer.name
    return Memory(
        precision=precision,
        batch=batch,
        convention=convention,
        input_bytes=input_bytes,
        layers=layers,
        peak=peak,
        peak_layer=peak_layer,
        flash=graph.total().params * wb,
    )


def _live_elements(
    nodes: Sequence[Node],
    moves: Sequence[Traffic],
    input_elems: int,
    convention: str,
    entry: str = INPUT,
) -> list[tuple[int, bool]]:
    """Per layer: the elements held at its step, and whether it ran in place (``entry``: the
    name of the graph's input tensor)."""
    root = {entry: entry}
    """The buffer each tensor lives in (a view lives in its input's)."""
    size = {entry: input_elems}
    last_use = {entry: -1}
    for i, (node, t) in enumerate(zip(nodes, moves, strict=True)):
        for source in _reads(node, t):
            last_use[root[source]] = i
        if t.view:
            root[node.name] = root[node.inputs[0]]
        else:
            root[node.name] = node.name
            size[node.name] = numel(node.output_shape)
            last_use.setdefault(node.name, i)
    if nodes:
        last_use[root[nodes[-1].name]] = len(nodes)  # the network's output stays
    live: dict[str, int] = {entry: input_elems}
    steps: list[tuple[int, bool]] = []
    for i, (node, t) in enumerate(zip(nodes, moves, strict=True)):
        held = sum(live.values())
        in_place = False
        if t.view:
            pass
        elif (
            convention == "in-place-depthwise"
            and t.in_place is not None
            and last_use[root[node.inputs[0]]] == i
            and root[node.inputs[0]] in live
        ):
            in_place = True
            held += t.in_place + t.workspace
            del live[root[node.inputs[0]]]
            live[node.name] = size[node.name]
        else:
            held += size[node.name] + t.workspace
            live[node.name] = size[node.name]
        steps.append((held, in_place))
        for buffer in [b for b in live if last_use[b] <= i]:
            del live[buffer]
    return steps


def _reads(node: Node, t: Traffic) -> tuple[str, ...]:
    """The inputs whose data the layer reads (not a ``like`` reference, which is a shape)."""
    return node.inputs if t.data_inputs is None else node.inputs[: t.data_inputs]
