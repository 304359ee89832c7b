"""Layers that reshape or resample: flatten, dropout, upsample."""

from __future__ import annotations

from collections.abc import Sequence

from sepcalc.cost import Cost
from sepcalc.formulas.base import Attrs, Parts, Shape, ShapeError, numel, register, same_shape


def _infer_flatten(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    return (numel(inputs[0]),)


@register("flatten", infer=_infer_flatten, buckets=("flatten",))
def _flatten(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Flatten to a vector: a view, no cost."""
    return [("flatten", Cost())]


@register("dropout", infer=same_shape, buckets=("dropout",))
def _dropout(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Dropout: the identity at inference, no cost."""
    return [("dropout", Cost())]


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
    c, *size = inputs[0]
    if not size:
        raise ShapeError("upsample needs an input with spatial dimensions")
    if (
        attrs["mode"] != "nearest"
        and len(size) != {"linear": 1, "bilinear": 2, "trilinear": 3}[attrs["mode"]]
    ):
        raise ShapeError(f"mode '{attrs['mode']}' does not fit a {len(size)}-D input")
    return (c, *(n * s for n, s in zip(size, attrs["scale"], strict=True)))


@register("upsample", infer=_infer_upsample, buckets=("upsample",))
def _upsample(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Upsample by an integer scale: nearest (0 ops) or (bi/tri)linear (2**dims per output)."""
    return [("upsample", upsample_cost(out, attrs["mode"]))]
