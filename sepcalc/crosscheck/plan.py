"""A spec graph as a plan of torch modules, without torch: one constructor call per layer.

Each node's call comes from its kind's declaration (``LayerKind.torch``); this module only names
the submodules and wires them. :mod:`.build` instantiates the plan, :mod:`.export` prints it.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Collection
from dataclasses import dataclass, field

from sepcalc.formulas import REGISTRY
from sepcalc.formulas.torchplan import Call
from sepcalc.graph import INPUT, Graph

INPUT_VAR = "x"
"""The name of the network input inside ``forward``."""

RESERVED = frozenset({INPUT_VAR, "self", "torch", "nn", "forward", "INPUT_SHAPE", "model"})
"""Names a layer attribute or the class must not take in the exported source (besides the
helper classes it defines)."""


@dataclass(frozen=True)
class LayerPlan:
    """One graph node as a submodule: its attribute name, constructor and input attributes."""

    node: str
    kind: str
    attr: str
    module: Call
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class ModulePlan:
    """The whole network as submodule constructor calls, in execution order."""

    name: str
    """A Python class name for the network."""
    input_shape: tuple[int, ...]
    layers: tuple[LayerPlan, ...] = field(default_factory=tuple)

    @property
    def output(self) -> str:
        return self.layers[-1].attr if self.layers else INPUT_VAR


def attribute_name(name: str, taken: set[str], reserved: Collection[str] = RESERVED) -> str:
    """A Python identifier for a layer name ('dws1.dw' -> 'dws1_dw'), unique among ``taken``."""
    ident = re.sub(r"\W", "_", name, flags=re.ASCII) or "layer"
    if ident[0].isdigit():
        ident = "l" + ident
    if keyword.iskeyword(ident) or ident in reserved:
        ident += "_"
    base, n = ident, 1
    while ident in taken:
        n += 1
        ident = f"{base}_{n}"
    taken.add(ident)
    return ident


def module_plan(graph: Graph, reserved: Collection[str] = RESERVED) -> ModulePlan:
    """Every node of ``graph`` as a torch constructor call with its wiring."""
    taken: set[str] = set()
    attrs = {INPUT: INPUT_VAR}
    layers = []
    for node in graph.nodes:
        attr = attribute_name(node.name, taken, reserved)
        module = REGISTRY[node.kind].torch(node)
        layers.append(
            LayerPlan(node.name, node.kind, attr, module, tuple(attrs[i] for i in node.inputs))
        )
        attrs[node.name] = attr
    class_name = re.sub(r"\W", "", graph.name, flags=re.ASCII)
    class_name = class_name[:1].upper() + class_name[1:]
    if not class_name[:1].isalpha() or class_name in reserved or keyword.iskeyword(class_name):
        class_name = "Network" + class_name
    return ModulePlan(class_name, tuple(int(n) for n in graph.input_shape), tuple(layers))
