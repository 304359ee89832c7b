"""Roofline latency per layer: time = max(FLOPs / peak compute, bytes / bandwidth) / efficiency.

FLOPs are counted with the default convention (2 per MAC plus every other inference operation,
docs/counting.md), whatever convention a report shows: a device does the operations, whatever a
tool counts. Bytes are every byte a layer reads and writes (:mod:`sepcalc.device.memory`), as if
nothing stayed in a cache between layers. Times are exact: seconds as Fractions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from sepcalc.conventions import DEFAULT
from sepcalc.device.devices import Device
from sepcalc.device.dtypes import Precision
from sepcalc.device.memory import LayerMemory, Memory, memory
from sepcalc.graph import Graph


@dataclass(frozen=True)
class LayerTime:
    """One layer on one device."""

    name: str
    kind: str
    macs: int
    """MACs of the whole batch."""
    flops: int
    """FLOPs of the whole batch (default convention)."""
    bytes: int
    """Bytes read and written (the batch's tensors, the weights once)."""
    compute: Fraction
    """Seconds at peak compute."""
    transfer: Fraction
    """Seconds at peak bandwidth."""
    time: Fraction
    """max(compute, transfer) / efficiency."""

    @property
    def bound(self) -> str:
        """``memory`` when moving the bytes takes longer than the arithmetic, else ``compute``
        (a layer that does neither, a view, is ``none``)."""
        if not self.time:
            return "none"
        return "memory" if self.transfer > self.compute else "compute"

    @property
    def intensity(self) -> Fraction | None:
        """FLOPs per byte (None for a layer that moves nothing)."""
        return Fraction(self.flops, self.bytes) if self.bytes else None

    @property
    def performance(self) -> Fraction | None:
        """FLOPs per second at its roofline time: its point on a roofline chart, on the slope
        (bandwidth x intensity) when memory-bound, on the ceiling when compute-bound, both
        times the efficiency (None for a layer that takes no time)."""
        return self.flops / self.time if self.time else None


@dataclass(frozen=True)
class KindTime:
    """The layers of one kind: their MACs and estimated time, summed."""

    kind: str
    layers: int
    macs: int
    time: Fraction
    memory_bound: int
    """How many of them are memory-bound."""


@dataclass(frozen=True)
class Roofline:
    device: Device
    precision: Precision
    batch: int
    efficiency: Fraction
    layers: tuple[LayerTime, ...]

    @property
    def time(self) -> Fraction:
        return sum((layer.time for layer in self.layers), Fraction(0))

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def by_kind(self) -> dict[str, KindTime]:
        """MACs and time per layer kind (a separable layer is its own kind), most time first."""
        kinds: dict[str, list[LayerTime]] = {}
        for layer in self.layers:
            kinds.setdefault(layer.kind, []).append(layer)
        rows = {
            kind: KindTime(
                kind,
                len(layers),
                sum(t.macs for t in layers),
                sum((t.time for t in layers), Fraction(0)),
                sum(1 for t in layers if t.bound == "memory"),
            )
            for kind, layers in kinds.items()
        }
        return dict(sorted(rows.items(), key=lambda kv: (-kv[1].time, kv[0])))


def roofline(
    graph: Graph,
    device: Device,
    precision: Precision,
    batch: int = 1,
    efficiency: Fraction | None = None,
    moved: Memory | None = None,
) -> Roofline:
    """Every layer's roofline time on ``device`` (``moved``: the bytes, if already computed)."""
    eff = device.efficiency.value if efficiency is None else Fraction(efficiency)
    if not 0 < eff <= 1:
        raise ValueError(f"efficiency must be in (0, 1], got {eff}")
    peak = device.peak_of(precision.compute)
    moved = moved if moved is not None else memory(graph, precision, batch)
    bandwidth = device.bandwidth.value
    layers = []
    for node, m in zip(graph.nodes, moved.layers, strict=True):
        layers.append(_time(node.name, node.kind, node.cost.macs * batch,
                            DEFAULT.flops(node.cost) * batch, m, peak, bandwidth, eff))  # fmt: skip
    return Roofline(device, precision, batch, eff, tuple(layers))


def _time(
    name: str,
    kind: str,
    macs: int,
    flops: int,
    m: LayerMemory,
    peak: Fraction,
    bandwidth: Fraction,
    eff: Fraction,
) -> LayerTime:
    compute = flops / peak
    transfer = m.moved / bandwidth
    return LayerTime(
        name, kind, macs, flops, m.moved, compute, transfer, max(compute, transfer) / eff
    )


def shares(r: Roofline) -> Mapping[str, tuple[Fraction, Fraction]]:
    """Per layer kind: (share of MACs, share of estimated time), exact."""
    total_macs, total_time = r.macs, r.time
    return {
        kind: (
            Fraction(k.macs, total_macs) if total_macs else Fraction(0),
            k.time / total_time if total_time else Fraction(0),
        )
        for kind, k in r.by_kind().items()
    }
