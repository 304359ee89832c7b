"""Normalization layers, and layer scale (a learned per-channel multiplier)."""

from __future__ import annotations

from collections.abc import Sequence

from sepcalc.cost import Cost, Num
from sepcalc.formulas.base import (
    Attr,
    Attrs,
    Example,
    Layer,
    Parts,
    Shape,
    ShapeError,
    declare,
    numel,
    same_shape,
)
from sepcalc.formulas.torchplan import Call, call, dims, layernorm_class, nd
from sepcalc.formulas.view import View, feature_map


def batchnorm_cost(shape: Shape, affine: bool = True) -> Cost:
    """BatchNorm at inference. params = 2*C (gamma, beta) if affine; ops = 2 per element, else 1.

    Running mean and variance are buffers, not parameters.
    """
    n: Num = numel(shape)
    return Cost(norm=2 * shape[0] * int(affine), norm_ops=n * (1 + int(affine)), activations=n)


def stat_norm_cost(shape: Shape, affine: bool = True) -> Cost:
    """LayerNorm or GroupNorm at inference: statistics computed for every sample.

    params = 2*C (gamma, beta) if affine; per element: its share of the mean (1 add) and the
    variance (subtract the mean, square, add) and its normalization (1 multiply by the
    reciprocal standard deviation), then the scale and shift if affine.

    NB: the per-group scalars (the two divisions by the group size, adding eps, the reciprocal
    square root) are computed once per normalized group, not per element, and are not counted.
    """
    n: Num = numel(shape)
    return Cost(
        norm=2 * shape[0] * int(affine),
        stat_norm_ops=n,
        stat_affine_ops=n * int(affine),
        activations=n,
    )


def _torch_batchnorm(layer: Layer) -> Call:
    n = max(dims(layer), 1)
    return call(nd(layer, "BatchNorm", n), layer.output_shape[0], affine=layer.attrs["affine"])


@declare(
    "batchnorm",
    attrs=(Attr("affine", "bool", "learned scale and shift (gamma, beta)", True),),
    infer=same_shape,
    buckets=("batchnorm",),
    torch=_torch_batchnorm,
    flops="2 per element (scale and shift at inference); 1 if not affine",
    examples=(Example({}), Example({"affine": False}, size=(5,)), Example({}, size=())),
    view=View(
        "BatchNorm at inference (affine) on C_in channels",
        "H, W: the size of the tensor normalized",
        lambda S, c: ({"affine": True}, [feature_map(S)], feature_map(S)),
    ),
)
def _batchnorm(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """BatchNorm (inference): 2*C parameters, 2 FLOPs per element."""
    return [("batchnorm", batchnorm_cost(out, attrs["affine"]))]


AFFINE = Attr("affine", "bool", "learned scale and shift per channel (gamma, beta)", True)


def _torch_layernorm(layer: Layer) -> Call:
    affine = layer.attrs["affine"]
    return call(layernorm_class(layer), layer.output_shape[0], elementwise_affine=affine)


@declare(
    "layernorm",
    attrs=(AFFINE,),
    infer=same_shape,
    buckets=("layernorm",),
    torch=_torch_layernorm,
    flops="per element: 5 (mean and variance over the channels, normalize), and 2 (scale and "
    "shift) if affine",
    examples=(
        Example({}),
        Example({"affine": False}, size=(5,)),
        Example({}, channels=6, size=(3, 2, 2)),
        Example({}, size=()),
    ),
    view=View(
        "LayerNorm (affine) over the C_in channels at each position",
        "H, W: the size of the tensor normalized",
        lambda S, c: ({"affine": True}, [feature_map(S)], feature_map(S)),
    ),
)
def _layernorm(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """LayerNorm over the channels at each position (ConvNeXt's LayerNorm2d): 2*C parameters."""
    return [("layernorm", stat_norm_cost(out, attrs["affine"]))]


def check_groups(channels: int, groups: int, attr: str = "groups") -> None:
    """GroupNorm's groups must divide the channels."""
    if channels % groups:
        raise ShapeError(f"{attr}={groups} must divide the {channels} channels", attr)


def _infer_groupnorm(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """The input's shape."""
    check_groups(inputs[0][0], attrs["groups"])
    return inputs[0]


def _torch_groupnorm(layer: Layer) -> Call:
    a = layer.attrs
    return call("GroupNorm", a["groups"], layer.output_shape[0], affine=a["affine"])


@declare(
    "groupnorm",
    attrs=(Attr("groups", "int", "groups of channels normalized together; divides C"), AFFINE),
    infer=_infer_groupnorm,
    buckets=("groupnorm",),
    torch=_torch_groupnorm,
    flops="per element: 5 (mean and variance over its group, normalize), and 2 (scale and "
    "shift) if affine",
    examples=(
        Example({"groups": 2}),
        Example({"groups": 4, "affine": False}, size=(5,)),
        Example({"groups": 3}, channels=6, size=(3, 2, 2)),
        Example({"groups": 1}, size=()),
    ),
    view=View(
        "GroupNorm (affine) on C_in channels, in any number of groups",
        "H, W: the size of the tensor normalized",
        lambda S, c: ({"groups": 1, "affine": True}, [feature_map(S)], feature_map(S)),
    ),
)
def _groupnorm(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """GroupNorm (nn.GroupNorm): statistics over each group of channels and all positions."""
    return [("groupnorm", stat_norm_cost(out, attrs["affine"]))]


def layer_scale_cost(shape: Shape) -> Cost:
    """Layer scale: C learned multipliers (weights); 1 multiply per element."""
    n: Num = numel(shape)
    return Cost(weight=shape[0], elem_ops=n, activations=n)


def _torch_layer_scale(layer: Layer) -> Call:
    return call("LayerScale", layer.output_shape[0], dims(layer))


@declare(
    "layer_scale",
    attrs=(),
    infer=same_shape,
    buckets=("layer_scale",),
    torch=_torch_layer_scale,
    flops="1 per element (a multiply)",
    examples=(Example({}), Example({}, channels=6, size=(3, 2, 2)), Example({}, size=())),
    view=View(
        "layer scale: a learned multiplier per channel, on C_in channels",
        "H, W: the size of the tensor scaled",
        lambda S, c: ({}, [feature_map(S)], feature_map(S)),
    ),
)
def _layer_scale(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Layer scale (ConvNeXt's layer_scale, timm's LayerScale): C parameters, 1 FLOP per element."""
    return [("layer_scale", layer_scale_cost(out))]
