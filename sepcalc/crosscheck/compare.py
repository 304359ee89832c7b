"""Compare sepcalc's per-layer and total counts with a tool's, under the matching convention.

Pure: no torch. A tool's counts arrive as a :class:`ToolCount`; sepcalc's as an
:class:`~sepcalc.analysis.Analysis` computed with the tool's convention.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sepcalc.analysis import Analysis, analyze
from sepcalc.conventions import TOOL_CONVENTIONS as TOOL_CONVENTIONS  # defined with the presets
from sepcalc.conventions import Convention
from sepcalc.errors import EXIT_FAILED, EXIT_OK
from sepcalc.graph import Graph

TOOL_NAMES = {
    "fvcore": "fvcore FlopCountAnalysis",
    "torch": "torch.utils.flop_counter.FlopCounterMode",
}


@dataclass(frozen=True)
class ToolCount:
    """What one tool counted on the module built from a spec, by sepcalc layer name."""

    tool: str
    flops: int
    layer_flops: Mapping[str, int]
    params: int
    layer_params: Mapping[str, int]
    shapes: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    """Output shape of each layer's module (one sample, no batch axis), where recorded."""
    uncounted: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """Per layer, the operators the tool met but has no formula for (name -> occurrences)."""


@dataclass(frozen=True)
class LayerCheck:
    name: str
    kind: str
    flops: int
    tool_flops: int
    params: int
    tool_params: int
    shape: tuple[int, ...]
    tool_shape: tuple[int, ...] | None
    uncounted: Mapping[str, int]

    @property
    def agrees(self) -> bool:
        return (
            self.flops == self.tool_flops
            and self.params == self.tool_params
            and (self.tool_shape is None or self.tool_shape == self.shape)
        )

    def differences(self) -> list[str]:
        diffs = []
        if self.flops != self.tool_flops:
            diffs.append("flops")
        if self.params != self.tool_params:
            diffs.append("params")
        if self.tool_shape is not None and self.tool_shape != self.shape:
            diffs.append("shape")
        return diffs


@dataclass(frozen=True)
class ToolCheck:
    tool: str
    convention: Convention
    flops: int
    tool_flops: int
    params: int
    tool_params: int
    layers: tuple[LayerCheck, ...]

    @property
    def unattributed(self) -> int:
        """Tool FLOPs outside every layer's module (0 unless the wiring itself computes)."""
        return self.tool_flops - sum(layer.tool_flops for layer in self.layers)

    @property
    def agrees(self) -> bool:
        return (
            self.flops == self.tool_flops
            and self.params == self.tool_params
            and all(layer.agrees for layer in self.layers)
        )

    @property
    def differing(self) -> tuple[LayerCheck, ...]:
        return tuple(layer for layer in self.layers if not layer.agrees)


def compare(analysis: Analysis, count: ToolCount) -> ToolCheck:
    """Layer by layer and in total: FLOPs under ``analysis.convention``, parameters, shapes."""
    layers = tuple(
        LayerCheck(
            name=row.name,
            kind=row.kind,
            flops=row.counts.flops,
            tool_flops=count.layer_flops.get(row.name, 0),
            params=row.counts.params,
            tool_params=count.layer_params.get(row.name, 0),
            shape=tuple(row.output_shape),
            tool_shape=count.shapes.get(row.name),
            uncounted=count.uncounted.get(row.name, {}),
        )
        for row in analysis.layers
    )
    return ToolCheck(
        tool=count.tool,
        convention=analysis.convention,
        flops=analysis.totals.flops,
        tool_flops=count.flops,
        params=analysis.totals.params,
        tool_params=count.params,
        layers=layers,
    )


@dataclass(frozen=True)
class CrossCheck:
    """One network against every tool asked for; exit 0 when all agree, 1 otherwise."""

    name: str
    checks: tuple[ToolCheck, ...]

    @property
    def agrees(self) -> bool:
        return all(c.agrees for c in self.checks)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.agrees else EXIT_FAILED


def cross_check(
    graph: Graph, counts: Sequence[ToolCount], convention: Convention | None = None
) -> CrossCheck:
    """Each tool's counts against sepcalc's, under ``convention`` or else the tool's own."""
    checks = (compare(analyze(graph, convention or TOOL_CONVENTIONS[c.tool]), c) for c in counts)
    return CrossCheck(graph.name, tuple(checks))
