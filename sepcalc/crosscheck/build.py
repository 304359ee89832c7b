"""A spec graph as a ``torch.nn.Module``: one submodule per layer, wired as the spec wires them.

The module is the instantiated :class:`~.plan.ModulePlan`, whose constructor calls come from
the kinds' declarations; :mod:`.export` prints the same plan as source, so the module that is
counted and the module that is exported are the same by construction.
"""

from __future__ import annotations

import torch
from torch import nn

from sepcalc.crosscheck.layers import CUSTOM
from sepcalc.crosscheck.plan import INPUT_VAR, RESERVED, ModulePlan, module_plan
from sepcalc.formulas.torchplan import Call
from sepcalc.graph import Graph


def instantiate(c: Call) -> nn.Module:
    """The module a constructor call describes (``torch.nn`` or one of :mod:`.layers`)."""
    cls = CUSTOM.get(c.cls) or getattr(nn, c.cls)
    args = [instantiate(a) if isinstance(a, Call) else a for a in c.args]
    module: nn.Module = cls(*args, **dict(c.kwargs))
    return module


def plan(graph: Graph) -> ModulePlan:
    """The graph's plan, its names clear of the helper classes the exported file defines."""
    return module_plan(graph, RESERVED | set(CUSTOM))


class SpecNetwork(nn.Module):
    """The network of a plan: submodules named by ``LayerPlan.attr``, run in order."""

    def __init__(self, plan: ModulePlan) -> None:
        super().__init__()
        for layer in plan.layers:
            self.add_module(layer.attr, instantiate(layer.module))
        self.wiring = [(layer.attr, layer.inputs) for layer in plan.layers]
        self.output = plan.output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = {INPUT_VAR: x}
        for attr, inputs in self.wiring:
            outs[attr] = getattr(self, attr)(*(outs[i] for i in inputs))
        return outs[self.output]


def build_module(
    graph: Graph, device: str | torch.device = "cpu"
) -> tuple[SpecNetwork, ModulePlan]:
    """The graph as a module in eval mode; on the meta device no weights are allocated."""
    p = plan(graph)
    with torch.device(device):
        module = SpecNetwork(p)
    return module.eval(), p
