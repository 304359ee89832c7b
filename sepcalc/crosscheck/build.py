"""A spec graph as a ``torch.nn.Module``: one submodule per layer, wired as the spec wires them.

Each layer kind has one mapping (:data:`MAPPINGS`) from a graph node to a constructor
:class:`Call`; the same calls are instantiated here and printed as source by :mod:`.export`, so
the module that is counted and the module that is exported are the same by construction.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from sepcalc.crosscheck.layers import CUSTOM
from sepcalc.errors import SepcalcError
from sepcalc.graph import INPUT, Graph, Node


@dataclass(frozen=True)
class Call:
    """A constructor call: ``nn.<cls>(*args, **kwargs)`` or a class of :mod:`.layers`."""

    cls: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    def instantiate(self) -> nn.Module:
        cls = CUSTOM.get(self.cls) or getattr(nn, self.cls)
        args = [a.instantiate() if isinstance(a, Call) else a for a in self.args]
        module: nn.Module = cls(*args, **dict(self.kwargs))
        return module


def call(cls: str, *args: Any, **kwargs: Any) -> Call:
    return Call(cls, args, tuple(kwargs.items()))


def sequential(*calls: Call | None) -> Call:
    """One call, or an ``nn.Sequential`` of several (``None`` entries are left out)."""
    present = [c for c in calls if c is not None]
    return present[0] if len(present) == 1 else Call("Sequential", tuple(present))


@dataclass(frozen=True)
class LayerPlan:
    """One graph node as a submodule: its attribute name, constructor and input attributes."""

    node: str
    kind: str
    attr: str
    module: Call
    inputs: tuple[str, ...]


INPUT_VAR = "x"
"""The name of the network input inside ``forward``."""


@dataclass(frozen=True)
class Plan:
    name: str
    """A Python class name for the network."""
    input_shape: tuple[int, ...]
    layers: tuple[LayerPlan, ...] = field(default_factory=tuple)

    @property
    def output(self) -> str:
        return self.layers[-1].attr if self.layers else INPUT_VAR


# --- one mapping per layer kind -------------------------------------------------------------

ACT_CLASSES = {
    "relu": "ReLU",
    "relu6": "ReLU6",
    "hardswish": "Hardswish",
    "hardsigmoid": "Hardsigmoid",
    "sigmoid": "Sigmoid",
    "silu": "SiLU",
    "swish": "SiLU",
    "gelu": "GELU",
    "tanh": "Tanh",
}


class Unsupported(SepcalcError):
    """A layer that PyTorch cannot express as the spec states it."""


def _nd(node: Node, base: str, dims: int) -> str:
    if not 1 <= dims <= 3:
        raise Unsupported(
            f"layer '{node.name}' ({node.kind}): torch has no {base}{dims}d "
            f"for a {dims}-D input {list(node.input_shapes[0])}"
        )
    return f"{base}{dims}d"


def _dims(node: Node) -> int:
    return len(node.input_shapes[0]) - 1


def _norm_act(
    node: Node, norm: str | None, act: str | None, channels: int, dims: int
) -> list[Call]:
    calls = []
    if norm:
        calls.append(call(_nd(node, "BatchNorm", max(dims, 1)), channels))
    if act:
        calls.append(call(ACT_CLASSES[act]))
    return calls


def _window_padding(
    node: Node, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> tuple[tuple[int, ...] | None, tuple[int, ...]]:
    """Torch padding for sepcalc's: (explicit pad before the layer or None, layer padding).

    Explicit numbers are torch's symmetric padding. 'same' pads d*(k-1)+1 - n + (out-1)*s in
    total, split as TensorFlow splits it (the extra one at the end); when every total is even
    that is symmetric padding, otherwise an explicit pad layer goes first.
    """
    padding = node.attrs["padding"]
    size, out = node.input_shapes[0][1:], node.output_shape[1:]
    if padding == "valid":
        return None, (0,) * len(size)
    if padding != "same":
        return None, tuple(padding)
    totals = [
        max((o - 1) * s + d * (k - 1) + 1 - n, 0)
        for n, o, k, s, d in zip(size, out, kernel, stride, dilation, strict=True)
    ]
    if all(t % 2 == 0 for t in totals):
        return None, tuple(t // 2 for t in totals)
    pad: list[int] = []
    for t in reversed(totals):  # torch pads the last dimension first
        pad += [t // 2, t - t // 2]
    return tuple(pad), (0,) * len(size)


def _pad_call(node: Node, pad: tuple[int, ...] | None, value: float = 0.0) -> Call | None:
    if pad is None:
        return None
    dims = len(pad) // 2
    if value == 0.0:
        return call(_nd(node, "ZeroPad", dims), pad)
    return call(_nd(node, "ConstantPad", dims), pad, value)


def _conv_call(
    node: Node, c_in: int, c_out: int, groups: int, bias: bool, padding: tuple[int, ...]
) -> Call:
    a = node.attrs
    return call(
        _nd(node, "Conv", _dims(node)),
        c_in,
        c_out,
        tuple(a["kernel"]),
        stride=tuple(a["stride"]),
        padding=padding,
        dilation=tuple(a["dilation"]),
        groups=groups,
        bias=bias,
    )


def _conv(node: Node) -> Call:
    a, c_in, c_out = node.attrs, node.input_shapes[0][0], node.output_shape[0]
    pad, padding = _window_padding(node, a["kernel"], a["stride"], a["dilation"])
    return sequential(
        _pad_call(node, pad),
        _conv_call(node, c_in, c_out, a["groups"], a["bias"], padding),
        *_norm_act(node, a["norm"], a["act"], c_out, _dims(node)),
    )


def _depthwise(node: Node) -> Call:
    a, c_in, c_out = node.attrs, node.input_shapes[0][0], node.output_shape[0]
    pad, padding = _window_padding(node, a["kernel"], a["stride"], a["dilation"])
    return sequential(
        _pad_call(node, pad),
        _conv_call(node, c_in, c_out, c_in, a["bias"], padding),
        *_norm_act(node, a["norm"], a["act"], c_out, _dims(node)),
    )


def _pointwise(node: Node) -> Call:
    a, c_in, c_out, dims = node.attrs, node.input_shapes[0][0], node.output_shape[0], _dims(node)
    return sequential(
        call(
            _nd(node, "Conv", dims),
            c_in,
            c_out,
            (1,) * dims,
            stride=tuple(a["stride"]),
            groups=a["groups"],
            bias=a["bias"],
        ),
        *_norm_act(node, a["norm"], a["act"], c_out, dims),
    )


def _separable(node: Node) -> Call:
    a, c_in, c_out, dims = node.attrs, node.input_shapes[0][0], node.output_shape[0], _dims(node)
    mid = c_in * a["multiplier"]
    pad, padding = _window_padding(node, a["kernel"], a["stride"], a["dilation"])
    return sequential(
        _pad_call(node, pad),
        _conv_call(node, c_in, mid, c_in, False, padding),
        *_norm_act(node, a["mid_norm"], a["mid_act"], mid, dims),
        call(_nd(node, "Conv", dims), mid, c_out, (1,) * dims, bias=a["bias"]),
        *_norm_act(node, a["norm"], a["act"], c_out, dims),
    )


def _linear(node: Node) -> Call:
    a, c_in, c_out, dims = node.attrs, node.input_shapes[0][0], node.output_shape[0], _dims(node)
    cls = "Linear" if dims == 0 else "ChannelLinear"
    return sequential(
        call(cls, c_in, c_out, bias=a["bias"]), *_norm_act(node, a["norm"], a["act"], c_out, dims)
    )


def _batchnorm(node: Node) -> Call:
    dims = max(_dims(node), 1)
    return call(_nd(node, "BatchNorm", dims), node.output_shape[0], affine=node.attrs["affine"])


def _activation(node: Node) -> Call:
    return call(ACT_CLASSES[node.kind])


def _pool(node: Node) -> Call:
    a, dims = node.attrs, _dims(node)
    kernel, stride, dilation = tuple(a["kernel"]), tuple(a["stride"]), tuple(a["dilation"])
    pad, padding = _window_padding(node, kernel, stride, dilation)
    # 'same' fixes the output size (ceil(n / s)) with floor rounding; ceil_mode is moot there.
    ceil_mode = a["ceil_mode"] and a["padding"] != "same"
    # Torch pools take at most half the kernel as padding; pad explicitly beyond that.
    if pad is None and any(2 * p > k for p, k in zip(padding, kernel, strict=True)):
        if ceil_mode:
            raise Unsupported(
                f"layer '{node.name}' ({node.kind}): torch pools take at most half the kernel "
                f"as padding, and padding {list(padding)} cannot move out with ceil_mode"
            )
        pad = tuple(p for q in reversed(padding) for p in (q, q))
        padding = (0,) * dims
    if node.kind == "maxpool":
        layer = call(
            _nd(node, "MaxPool", dims),
            kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            ceil_mode=ceil_mode,
        )
        return sequential(_pad_call(node, pad, -math.inf), layer)
    if set(dilation) != {1}:
        raise Unsupported(f"layer '{node.name}' (avgpool): torch's average pooling has no dilation")
    layer = call(
        _nd(node, "AvgPool", dims), kernel, stride=stride, padding=padding, ceil_mode=ceil_mode
    )
    return sequential(_pad_call(node, pad), layer)


def _global_avg_pool(node: Node) -> Call:
    return call(_nd(node, "AdaptiveAvgPool", _dims(node)), 1)


def _adaptive_avg_pool(node: Node) -> Call:
    return call(_nd(node, "AdaptiveAvgPool", _dims(node)), tuple(node.attrs["size"]))


def _slice(node: Node) -> Call:
    return call("Slice", node.attrs["start"], node.attrs["stop"])


def _flatten(node: Node) -> Call:
    return call("Flatten")


def _dropout(node: Node) -> Call:
    return call("Dropout", p=float(node.attrs["p"]))


def _merge(cls: str) -> Callable[[Node], Call]:
    return lambda node: call(cls)


def _channel_shuffle(node: Node) -> Call:
    return call("ChannelShuffle", node.attrs["groups"])


def _upsample(node: Node) -> Call:
    mode = node.attrs["mode"]
    scale = tuple(float(s) for s in node.attrs["scale"])
    if mode == "nearest":
        return call("Upsample", scale_factor=scale, mode=mode)
    return call("Upsample", scale_factor=scale, mode=mode, align_corners=False)


def _squeeze_excite(node: Node) -> Call:
    a, dims = node.attrs, _dims(node)
    _nd(node, "Conv", dims)
    return call(
        "SqueezeExcite",
        node.output_shape[0],
        a["squeeze"],
        dims,
        call(ACT_CLASSES[a["act"]]),
        call(ACT_CLASSES[a["gate"]]),
    )


MAPPINGS: dict[str, Callable[[Node], Call]] = {
    "conv": _conv,
    "depthwise": _depthwise,
    "pointwise": _pointwise,
    "separable": _separable,
    "linear": _linear,
    "batchnorm": _batchnorm,
    **dict.fromkeys(ACT_CLASSES, _activation),
    "maxpool": _pool,
    "avgpool": _pool,
    "global_avg_pool": _global_avg_pool,
    "adaptive_avg_pool": _adaptive_avg_pool,
    "slice": _slice,
    "flatten": _flatten,
    "dropout": _dropout,
    "add": _merge("Add"),
    "concat": _merge("Concat"),
    "channel_shuffle": _channel_shuffle,
    "upsample": _upsample,
    "squeeze_excite": _squeeze_excite,
}
"""Layer kind -> its torch module. Every kind in ``sepcalc.formulas.REGISTRY`` needs one."""


# --- the plan and the module ----------------------------------------------------------------


def identifier(name: str, taken: set[str]) -> str:
    """A Python identifier for a layer name ('dws1.dw' -> 'dws1_dw'), unique among ``taken``."""
    ident = re.sub(r"\W", "_", name, flags=re.ASCII) or "layer"
    if ident[0].isdigit():
        ident = "l" + ident
    if keyword.iskeyword(ident) or ident in RESERVED:
        ident += "_"
    base, n = ident, 1
    while ident in taken:
        n += 1
        ident = f"{base}_{n}"
    taken.add(ident)
    return ident


RESERVED = frozenset({INPUT_VAR, "self", "torch", "nn", "forward", "INPUT_SHAPE", "model", *CUSTOM})
"""Names a layer attribute must not take in the exported source."""


def plan(graph: Graph) -> Plan:
    """Every node of ``graph`` as a torch constructor call with its wiring."""
    taken: set[str] = set()
    attrs = {INPUT: INPUT_VAR}
    layers = []
    for node in graph.nodes:
        mapping = MAPPINGS.get(node.kind)
        if mapping is None:
            raise Unsupported(f"layer kind '{node.kind}' has no torch mapping yet")
        attr = identifier(node.name, taken)
        layers.append(
            LayerPlan(
                node.name, node.kind, attr, mapping(node), tuple(attrs[i] for i in node.inputs)
            )
        )
        attrs[node.name] = attr
    class_name = re.sub(r"\W", "", graph.name, flags=re.ASCII)
    class_name = class_name[:1].upper() + class_name[1:]
    if not class_name[:1].isalpha() or class_name in RESERVED or keyword.iskeyword(class_name):
        class_name = "Network" + class_name
    return Plan(class_name, tuple(int(n) for n in graph.input_shape), tuple(layers))


class SpecNetwork(nn.Module):
    """The network of a :class:`Plan`: submodules named by ``LayerPlan.attr``, run in order."""

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        for layer in plan.layers:
            self.add_module(layer.attr, layer.module.instantiate())
        self.wiring = [(layer.attr, layer.inputs) for layer in plan.layers]
        self.output = plan.output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = {INPUT_VAR: x}
        for attr, inputs in self.wiring:
            outs[attr] = getattr(self, attr)(*(outs[i] for i in inputs))
        return outs[self.output]


def build_module(graph: Graph, device: str | torch.device = "cpu") -> tuple[SpecNetwork, Plan]:
    """The graph as a module in eval mode; on the meta device no weights are allocated."""
    p = plan(graph)
    with torch.device(device):
        module = SpecNetwork(p)
    return module.eval(), p
