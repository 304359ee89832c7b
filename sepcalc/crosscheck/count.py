"""Count the module built from a spec with fvcore and with torch's ``FlopCounterMode``.

``FlopCounterMode`` runs on the meta device: no weight is allocated and nothing is computed.
fvcore traces with ``torch.jit`` and needs real tensors; its weights are left uninitialized and
zeroed (the values never matter to a count). Both count one sample (batch size 1).
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from sepcalc.crosscheck.build import build_module
from sepcalc.crosscheck.compare import ToolCount
from sepcalc.crosscheck.plan import ModulePlan
from sepcalc.errors import SepcalcError
from sepcalc.graph import Graph

TOOLS = ("fvcore", "torch")

EXTENDED_FVCORE_OPS = {
    # (input scale, output scale) of fvcore's elementwise_flop_counter, as fvcore registers
    # the 2-D ops: adaptive_avg_pool2d (1, 0), upsample_nearest2d (0, 1), bilinear2d (0, 4).
    "aten::adaptive_avg_pool1d": (1, 0),
    "aten::adaptive_avg_pool3d": (1, 0),
    "aten::upsample_nearest1d": (0, 1),
    "aten::upsample_nearest3d": (0, 1),
    "aten::upsample_linear1d": (0, 2),
    "aten::upsample_trilinear3d": (0, 8),
}
"""NB: fvcore 0.1.5 counts adaptive pooling and upsampling only in 2-D; it would count their
1-D and 3-D forms as 0 and list them as unsupported. We register its own 2-D formulas for them
(2**dims per output for linear interpolation), so the fvcore preset holds in every dimension;
on 2-D networks the counts are stock fvcore's."""


@contextmanager
def quiet_tracing() -> Iterator[None]:
    """Silence what torch.jit and fvcore say while tracing (deprecations, tracer warnings).

    NB: fvcore 0.1.5 scripts two loss functions at import and traces the model with torch.jit,
    which torch deprecates; the counts are unaffected. Operators fvcore cannot count are not
    logged but returned (``ToolCount.uncounted``).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.jit")
        warnings.filterwarnings("ignore", message=r".*torch\.jit")
        logger = logging.getLogger("fvcore")
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            logger.setLevel(level)


@contextmanager
def torch_refusals(tool: str) -> Iterator[None]:
    """A layer torch refuses at run time (a shape it cannot take) as a user error."""
    try:
        yield
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SepcalcError(
            f"{tool}: torch could not run the module built from the spec: {first}"
        ) from None


def _params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _input(plan: ModulePlan, device: str) -> torch.Tensor:
    return torch.zeros(1, *plan.input_shape, device=device)


def count_torch(graph: Graph) -> ToolCount:
    """FLOPs by ``FlopCounterMode`` (meta device), parameters and output shapes per layer."""
    from torch.utils.flop_counter import FlopCounterMode

    module, plan = build_module(graph, device="meta")
    shapes: dict[str, tuple[int, ...]] = {}

    def record(name: str) -> Any:
        def hook(mod: nn.Module, args: Any, out: torch.Tensor) -> None:
            shapes[name] = tuple(out.shape[1:])

        return hook

    handles = [
        getattr(module, layer.attr).register_forward_hook(record(layer.node))
        for layer in plan.layers
    ]
    counter = FlopCounterMode(display=False)
    with torch_refusals("torch"), counter, torch.no_grad():
        module(_input(plan, "meta"))
    for handle in handles:
        handle.remove()
    by_module = counter.get_flop_counts()
    root = type(module).__name__
    return ToolCount(
        tool="torch",
        flops=int(counter.get_total_flops()),
        layer_flops={
            layer.node: int(sum(by_module.get(f"{root}.{layer.attr}", {}).values()))
            for layer in plan.layers
        },
        params=_params(module),
        layer_params={layer.node: _params(getattr(module, layer.attr)) for layer in plan.layers},
        shapes=shapes,
    )


def count_fvcore(graph: Graph) -> ToolCount:
    """FLOPs by fvcore's ``FlopCountAnalysis`` and parameters by its ``parameter_count``."""
    with quiet_tracing():
        from fvcore.nn import FlopCountAnalysis, parameter_count
        from fvcore.nn.jit_handles import elementwise_flop_counter

        module, plan = build_module(graph, device="meta")
        module = module.to_empty(device="cpu")
        with torch.no_grad():
            for tensor in [*module.parameters(), *module.buffers()]:
                tensor.zero_()
        analysis = (
            FlopCountAnalysis(module, _input(plan, "cpu"))
            .unsupported_ops_warnings(False)
            .uncalled_modules_warnings(False)
            .tracer_warnings("none")
        )
        for op, (per_input, per_output) in EXTENDED_FVCORE_OPS.items():
            analysis.set_op_handle(op, elementwise_flop_counter(per_input, per_output))
        with torch_refusals("fvcore"):
            total = int(analysis.total())
        by_module = analysis.by_module()
        uncounted = {
            layer.node: Counter(analysis.unsupported_ops(layer.attr)) for layer in plan.layers
        }
    params = parameter_count(module)
    return ToolCount(
        tool="fvcore",
        flops=total,
        layer_flops={layer.node: int(by_module.get(layer.attr, 0)) for layer in plan.layers},
        params=int(params.get("", 0)),
        layer_params={layer.node: int(params.get(layer.attr, 0)) for layer in plan.layers},
        uncounted={name: dict(ops) for name, ops in uncounted.items() if ops},
    )


COUNTERS = {"fvcore": count_fvcore, "torch": count_torch}
