"""Squeeze-and-excitation (SENet; MobileNetV3 and EfficientNet blocks)."""

from __future__ import annotations

from collections.abc import Sequence

from sepcalc.cost import Cost, Num
from sepcalc.formulas.activation import ACTIVATIONS, activation_cost
from sepcalc.formulas.base import (
    Attr,
    Attrs,
    Example,
    Layer,
    Parts,
    Shape,
    Traffic,
    declare,
    default_traffic,
    numel,
    same_shape,
)
from sepcalc.formulas.dense import linear_cost
from sepcalc.formulas.pooling import GLOBAL_METHODS, global_pool_cost, mean_cost
from sepcalc.formulas.torchplan import ACT_CLASSES, Call, call, dims, nd
from sepcalc.formulas.view import View, feature_map


def squeeze_excite_cost(shape: Shape, squeeze: Num, pool: str = "adaptive") -> Cost:
    """SE: global pool, FC C->s (bias), act, FC s->C (bias), gate, scale.

    params = 2*C*s + s + C; MACs = 2*C*s; the scale is one multiply per element. The pool is
    an adaptive pool (torchvision) or a mean (timm's ``x.mean((2, 3), keepdim=True)``).
    """
    c = shape[0]
    return (
        (mean_cost(shape) if pool == "mean" else global_pool_cost(shape))
        + linear_cost(c, squeeze)
        + activation_cost((squeeze,))
        + linear_cost(squeeze, c)
        + activation_cost((c,)).without_activations()
        + Cost(elem_ops=numel(shape), activations=numel(shape))
    )


def _torch_squeeze_excite(layer: Layer) -> Call:
    a = layer.attrs
    nd(layer, "Conv")
    return call(
        "SqueezeExcite",
        layer.output_shape[0],
        a["squeeze"],
        dims(layer),
        call(ACT_CLASSES[a["act"]]),
        call(ACT_CLASSES[a["gate"]]),
        **({"mean": True} if a["pool"] == "mean" else {}),
    )


def _squeeze_excite_traffic(
    attrs: Attrs, inputs: Sequence[Shape], out: Shape, cost: Cost
) -> Traffic:
    """The generic rule, with the input read twice: by the pool, then by the scale."""
    moved = default_traffic(attrs, inputs, out, cost)
    return moved._replace(read=moved.read + numel(inputs[0]))


@declare(
    "squeeze_excite",
    attrs=(
        Attr(
            "squeeze", "int", "hidden channels of the bottleneck (e.g. make_divisible(C // 4, 8))"
        ),
        Attr("act", "choice", "activation between the two FCs", "relu", choices=ACTIVATIONS),
        Attr("gate", "choice", "activation of the gate", "sigmoid", choices=ACTIVATIONS),
        Attr(
            "pool",
            "choice",
            "how its global pool is computed: an adaptive pool (torchvision's "
            "SqueezeExcitation) or a mean (timm's SqueezeExcite: x.mean), as global_avg_pool's "
            "method",
            "adaptive",
            choices=GLOBAL_METHODS,
        ),
    ),
    infer=same_shape,
    buckets=("squeeze_excite",),
    torch=_torch_squeeze_excite,
    flops="2 per MAC of the FCs, their bias adds, the global pool or mean (1 per input "
    "element), both activations, and the scale (1 per element)",
    examples=(
        Example({"squeeze": 2}),
        Example({"squeeze": 3, "act": "silu", "gate": "hardsigmoid"}, size=(3, 2, 2)),
        Example({"squeeze": 2, "act": "silu", "pool": "mean"}, size=(5, 3)),
    ),
    view=View(
        "squeeze-and-excitation: global pool, FC C_in -> C_se, act, FC C_se -> C_in, gate, scale",
        "H, W: the size of the tensor rescaled",
        lambda S, c: (
            {"squeeze": S.C_se, "pool": "adaptive"},
            [feature_map(S)],
            feature_map(S),
        ),
    ),
    traffic=_squeeze_excite_traffic,
)
def _squeeze_excite(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Squeeze-and-excitation with `squeeze` hidden channels (FCs written as 1x1 convs)."""
    return [("squeeze_excite", squeeze_excite_cost(out, attrs["squeeze"], attrs["pool"]))]
