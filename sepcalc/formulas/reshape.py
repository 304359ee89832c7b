"""Layers that reshape or resample: flatten, dropout, upsample."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from sepcalc.cost import Cost, Num
from sepcalc.expr import show
from sepcalc.formulas.base import (
    Attr,
    Attrs,
    Example,
    Layer,
    Parts,
    Shape,
    ShapeError,
    Traffic,
    declare,
    default_traffic,
    numel,
    same_shape,
    spatial,
    view_traffic,
)
from sepcalc.formulas.torchplan import Call, call, dims
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
    traffic=view_traffic,
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
    traffic=view_traffic,
)
def _dropout(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Dropout: the identity at inference, no cost."""
    return [("dropout", Cost())]


LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}
"""Each interpolating mode and the dimensions it takes."""

DEFAULT_SCALE = 2
"""The scale of an upsample that gives no scale, size or like."""


def upsample_cost(out: Shape, mode: str) -> Cost:
    """Upsampling: nearest copies (0 ops); (bi/tri)linear weighs 2**dims neighbours per output."""
    nearest = int(mode == "nearest")
    neighbours = (1 - nearest) * 2 ** (len(out) - 1)
    return Cost(
        upsample_ops=neighbours * numel(out),
        nearest_ops=nearest * numel(out),
        activations=numel(out),
    )


def scaled_size(n: int, scale: Num) -> int:
    """floor(n * scale) as torch computes an output size from a scale factor.

    NB: torch multiplies the size by the scale in double precision and truncates (aten's
    ``compute_output_size``), so 100 * 0.29 gives 28 (28.999999999999996), not 29. An integer
    scale is exact; a fractional one follows torch, so the exported module has the same size.
    """
    if isinstance(scale, int):
        return n * scale
    try:
        product = float(n) * float(scale)
    except OverflowError:  # a size or scale past a double: no torch tensor has that size
        product = math.inf
    if math.isfinite(product):
        return math.floor(product)
    return math.floor(n * Fraction(scale))  # then exact


def _infer_upsample(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """`C` x `size`, or the spatial size of layer `like`, or floor(size x scale)."""
    c, size = inputs[0][0], spatial(inputs[0])
    mode = attrs["mode"]
    if mode != "nearest" and len(size) != LINEAR_MODES[mode]:
        raise ShapeError(f"mode '{mode}' does not fit a {len(size)}-D input", "mode")
    given = [key for key in ("scale", "size", "like") if attrs.get(key) is not None]
    if len(given) > 1:
        raise ShapeError(
            f"give only one of scale, size and like (got {' and '.join(given)})", given[-1]
        )
    if attrs.get("size") is not None:
        return (c, *attrs["size"])
    if attrs.get("like") is not None:
        like = inputs[-1]
        if len(like) != len(inputs[0]):
            raise ShapeError(
                f"like: layer '{attrs['like']}' of shape {list(like)} has not the "
                f"{len(size)} spatial dimensions of the input {list(inputs[0])}",
                "like",
            )
        return (c, *like[1:])
    scale = attrs["scale"] or (DEFAULT_SCALE,) * len(size)
    out = tuple(scaled_size(n, s) for n, s in zip(size, scale, strict=True))
    if min(out) < 1:
        raise ShapeError(
            f"scale [{', '.join(show(s) for s in scale)}] takes the size {list(size)} to "
            f"{list(out)} (torch's floor(size * scale)): every output size must be at least 1",
            "scale",
        )
    return (c, *out)


def _torch_upsample(layer: Layer) -> Call:
    a, mode = layer.attrs, layer.attrs["mode"]
    interpolation: dict[str, Any] = {"mode": mode}
    if mode != "nearest":
        interpolation["align_corners"] = False
    if a.get("like") is not None:
        return call("Interpolate", **interpolation)
    if a.get("size") is not None:
        return call("Upsample", size=tuple(a["size"]), **interpolation)
    scale = a["scale"] or (DEFAULT_SCALE,) * dims(layer)
    # NB: recompute_scale_factor stays None: aten computes the size in double precision, as
    # scaled_size does (True would compute it in float32 while tracing).
    return call("Upsample", scale_factor=tuple(float(s) for s in scale), **interpolation)


def _upsample_traffic(attrs: Attrs, inputs: Sequence[Shape], out: Shape, cost: Cost) -> Traffic:
    """The generic rule on the data input only: the layer named by ``like`` gives its size."""
    return default_traffic(attrs, inputs[:1], out, cost)._replace(data_inputs=1)


@declare(
    "upsample",
    attrs=(
        Attr(
            "scale",
            "per_dim_number",
            "scale factor per spatial dimension, an exact number (torch's scale_factor; the "
            f"output size is floor(size * scale)); {DEFAULT_SCALE} when no size or like is given",
            None,
        ),
        Attr("size", "per_dim", "output spatial size (torch's size)", None),
        Attr(
            "like",
            "layer",
            "an earlier layer whose spatial size the output takes (torchvision's "
            "F.interpolate(x, size=low.shape[-2:]))",
            None,
        ),
        Attr(
            "mode",
            "choice",
            "nearest (a copy) or an interpolation fitting the input's dimensions "
            "(align_corners=False)",
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
        Example({"scale": [1.5, 0.5], "mode": "bilinear"}, size=(7, 9)),
        Example({"size": [5, 12], "mode": "bilinear"}, size=(4, 6)),
        Example({"size": [3, 4, 5]}, size=(2, 2, 2)),
        Example({"like": "input", "mode": "bilinear"}),
    ),
    view=View(
        "bilinear upsampling of C_in channels (nearest costs no arithmetic)",
        "H, W: output height and width (any scale, size or like)",
        lambda S, c: (
            {"mode": "bilinear", "scale": (1, 1), "size": None, "like": None},
            [feature_map(S)],
            feature_map(S),
        ),
    ),
    traffic=_upsample_traffic,
)
def _upsample(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Resize (scale, size or like a layer): nearest 0 ops, (bi/tri)linear 2**dims per output."""
    return [("upsample", upsample_cost(out, attrs["mode"]))]
