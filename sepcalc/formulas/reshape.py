"""Layers that reshape or resample: flatten, dropout, upsample."""

from __future__ import annotations

from collections.abc import Sequence

from sepcalc.cost import Cost
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
    spatial,
)
from sepcalc.formulas.torchplan import Call, call
from sepcalc.formulas.view import View, feature_map


def _infer_flatten(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """`C*H*W` (one vector)."""
    return (numel(inputs[0]),)


@declare(
    "flatten",
    attrs=(),
    infer=_infer_flatten,
    buckets=("flatten",),
    torch=lambda layer: call("Flatten"),
    flops="0 (a view)",
    examples=(Example({}), Example({}, size=(2, 2, 2))),
)
def _flatten(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Flatten to a vector: a view, no cost."""
    return [("flatten", Cost())]


@declare(
    "dropout",
    attrs=(
        Attr("p", "number", "probability of zeroing an element in training", 0.5, low=0, high=1),
    ),
    infer=same_shape,
    buckets=("dropout",),
    torch=lambda layer: call("Dropout", p=float(layer.attrs["p"])),
    flops="0 (the identity at inference)",
    examples=(Example({}), Example({"p": 0.2})),
)
def _dropout(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Dropout: the identity at inference, no cost."""
    return [("dropout", Cost())]


LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}
"""Each interpolating mode and the dimensions it takes."""


def upsample_cost(out: Shape, mode: str) -> Cost:
    """Upsampling: nearest copies (0 ops); (bi/tri)linear weighs 2**dims neighbours per output."""
    nearest = int(mode == "nearest")
    neighbours = (1 - nearest) * 2 ** (len(out) - 1)
    return Cost(
        upsample_ops=neighbours * numel(out),
        nearest_ops=nearest * numel(out),
        activations=numel(out),
    )


def _infer_upsample(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """`C` x size x scale."""
    c, size = inputs[0][0], spatial(inputs[0])
    mode = attrs["mode"]
    if mode != "nearest" and len(size) != LINEAR_MODES[mode]:
        raise ShapeError(f"mode '{mode}' does not fit a {len(size)}-D input", "mode")
    return (c, *(n * s for n, s in zip(size, attrs["scale"], strict=True)))


def _torch_upsample(layer: Layer) -> Call:
    mode = layer.attrs["mode"]
    scale = tuple(float(s) for s in layer.attrs["scale"])
    if mode == "nearest":
        return call("Upsample", scale_factor=scale, mode=mode)
    return call("Upsample", scale_factor=scale, mode=mode, align_corners=False)


@declare(
    "upsample",
    attrs=(
        Attr("scale", "per_dim", "integer scale factor per spatial dimension", 2),
        Attr(
            "mode",
            "choice",
            "nearest (a copy) or an interpolation fitting the input's dimensions",
            "nearest",
            choices=("nearest", *LINEAR_MODES),
        ),
    ),
    infer=_infer_upsample,
    buckets=("upsample",),
    torch=_torch_upsample,
    flops="2**dims per output element for (bi/tri)linear; 0 for nearest (a copy)",
    examples=(
        Example({"scale": 2, "mode": "bilinear"}),
        Example({"scale": [2, 1]}),
        Example({"scale": 3, "mode": "linear"}, size=(4,)),
    ),
    view=View(
        "bilinear upsampling of C_in channels (nearest costs no arithmetic)",
        "H, W: output height and width (any scale)",
        lambda S, c: (
            {"mode": "bilinear", "scale": (1, 1)},
            [feature_map(S)],
            feature_map(S),
        ),
    ),
)
def _upsample(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Upsample by an integer scale: nearest (0 ops) or (bi/tri)linear (2**dims per output)."""
    return [("upsample", upsample_cost(out, attrs["mode"]))]
