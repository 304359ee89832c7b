"""A layer's PyTorch counterpart as plain data: constructor calls, no torch import.

Each kind's declaration maps a built layer to a :class:`Call` (``nn.Conv2d(...)``, or one of the
few classes of :mod:`sepcalc.crosscheck.layers`). The cross-check instantiates the calls and the
exporter prints them, so the module that is counted and the module that is exported are the
same by construction, and the tests can check every kind's counterpart without torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sepcalc.errors import SepcalcError
from sepcalc.formulas.base import Layer


@dataclass(frozen=True)
class Call:
    """A constructor call: ``nn.<cls>(*args, **kwargs)`` or a class of ``crosscheck.layers``."""

    cls: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    def classes(self) -> set[str]:
        """Every class this call and the calls among its arguments construct."""
        found = {self.cls}
        for a in self.args:
            if isinstance(a, Call):
                found |= a.classes()
        return found


def call(cls: str, *args: Any, **kwargs: Any) -> Call:
    return Call(cls, args, tuple(kwargs.items()))


def sequential(*calls: Call | None) -> Call:
    """One call, or an ``nn.Sequential`` of several (``None`` entries are left out)."""
    present = [c for c in calls if c is not None]
    return present[0] if len(present) == 1 else Call("Sequential", tuple(present))


class Unsupported(SepcalcError):
    """A layer that PyTorch cannot express as the spec states it."""


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
"""Each activation's ``torch.nn`` class."""


def dims(layer: Layer) -> int:
    """The number of spatial dimensions of the layer's (first) input."""
    return len(layer.input_shapes[0]) - 1


def nd(layer: Layer, base: str, n: int | None = None) -> str:
    """``Conv2d`` for a 2-D layer; torch has 1-D to 3-D classes only."""
    n = dims(layer) if n is None else n
    if not 1 <= n <= 3:
        raise Unsupported(
            f"layer '{layer.name}' ({layer.kind}): torch has no {base}{n}d "
            f"for a {n}-D input {list(layer.input_shapes[0])}"
        )
    return f"{base}{n}d"


def layernorm_class(layer: Layer) -> str:
    """``LayerNorm`` on a vector; ``ChannelLayerNorm`` (a LayerNorm over the channel axis at
    each position, as torchvision's and timm's ``LayerNorm2d``) on a feature map."""
    return "LayerNorm" if dims(layer) == 0 else "ChannelLayerNorm"


def norm_act(layer: Layer, channels: int, prefix: str = "") -> list[Call]:
    """The modules of the norm and activation fused after a conv or linear layer (``mid_norm``,
    ``mid_act`` with a prefix), on ``channels`` channels."""
    a, calls = layer.attrs, []
    norm, act = a[f"{prefix}norm"], a[f"{prefix}act"]
    if norm == "batchnorm":
        calls.append(call(nd(layer, "BatchNorm", max(dims(layer), 1)), channels))
    elif norm == "layernorm":
        calls.append(call(layernorm_class(layer), channels))
    elif norm == "groupnorm":
        calls.append(call("GroupNorm", a[f"{prefix}norm_groups"], channels))
    if act:
        calls.append(call(ACT_CLASSES[act]))
    return calls


def window_padding(
    layer: Layer, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> tuple[tuple[int, ...] | None, tuple[int, ...]]:
    """Torch padding for sepcalc's: (explicit pad before the layer or None, layer padding).

    Explicit numbers are torch's symmetric padding. 'same' pads d*(k-1)+1 - n + (out-1)*s in
    total, split as TensorFlow splits it (the extra one at the end); when every total is even
    that is symmetric padding, otherwise an explicit pad layer goes first.
    """
    padding = layer.attrs["padding"]
    size, out = layer.input_shapes[0][1:], layer.output_shape[1:]
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


def pad_call(layer: Layer, pad: tuple[int, ...] | None, value: float = 0.0) -> Call | None:
    """An explicit padding module, or None when there is nothing to pad."""
    if pad is None:
        return None
    n = len(pad) // 2
    if value == 0.0:
        return call(nd(layer, "ZeroPad", n), pad)
    return call(nd(layer, "ConstantPad", n), pad, value)
