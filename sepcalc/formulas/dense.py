"""Fully connected layers."""

from __future__ import annotations

from collections.abc import Sequence

from sepcalc.cost import Cost, Num
from sepcalc.formulas.base import FUSED, Attr, Attrs, Example, Layer, Parts, Shape, declare, prod
from sepcalc.formulas.fused import norm_act, norm_act_attrs
from sepcalc.formulas.torchplan import Call, call, dims, sequential
from sepcalc.formulas.torchplan import norm_act as torch_norm_act
from sepcalc.formulas.view import View, conv_attrs


def linear_cost(c_in: Num, c_out: Num, positions: Num = 1, bias: bool = True) -> Cost:
    """Linear. weight = C_in * C_out; MACs = weight * positions; bias = C_out."""
    return Cost(
        weight=c_in * c_out,
        bias=c_out * int(bias),
        macs=c_in * c_out * positions,
        bias_ops=c_out * positions * int(bias),
        activations=c_out * positions,
    )


def _infer_linear(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """`out` (over the channel axis; spatial positions pass through: flatten or pool first)."""
    return (attrs["out"], *inputs[0][1:])


def _torch_linear(layer: Layer) -> Call:
    a, c_in, c_out = layer.attrs, layer.input_shapes[0][0], layer.output_shape[0]
    cls = "Linear" if dims(layer) == 0 else "ChannelLinear"
    return sequential(call(cls, c_in, c_out, bias=a["bias"]), *torch_norm_act(layer, c_out))


@declare(
    "linear",
    attrs=(
        Attr("out", "int", "output features"),
        Attr("bias", "bool", "a learned bias per output feature", True),
        *norm_act_attrs(),
    ),
    infer=_infer_linear,
    buckets=("linear", *FUSED),
    torch=_torch_linear,
    flops="2 per MAC; a bias add per output element; fused norm and activation",
    examples=(
        Example({"out": 10, "act": "relu"}, size=()),
        Example({"out": 6, "bias": False, "norm": "batchnorm"}, size=(3, 3)),
        Example({"out": 6, "norm": "layernorm", "act": "gelu"}, size=(3, 3)),
        Example({"out": 4, "norm": "layernorm"}, size=()),
    ),
    view=View(
        "fully connected layer, C_in -> C_out features",
        "no spatial size",
        lambda S, c: (conv_attrs(S, c, out=S.C_out), [(S.C_in,)], (S.C_out,)),
        countable=True,
    ),
)
def _linear(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Linear over the channel (feature) axis; any spatial positions pass through."""
    cost = linear_cost(inputs[0][0], out[0], prod(out[1:]), attrs["bias"])
    return [("linear", cost), *norm_act(attrs, out)]
