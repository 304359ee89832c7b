"""Windowed and global pooling."""

from __future__ import annotations

import math
from collections.abc import Sequence

from sepcalc.cost import Cost
from sepcalc.formulas.base import (
    REQUIRED,
    Attr,
    Attrs,
    Example,
    Layer,
    Parts,
    Shape,
    ShapeError,
    declare,
    numel,
    prod,
    spatial,
)
from sepcalc.formulas.conv import spatial_out, window_attrs
from sepcalc.formulas.torchplan import Call, call, nd, pad_call, sequential
from sepcalc.formulas.torchplan import window_padding as torch_window_padding
from sepcalc.formulas.view import View


def pool_cost(kernel: Sequence[int], out: Shape) -> Cost:
    """Max or average pooling: one op per window element per output element, no parameters."""
    return Cost(pool_ops=prod(kernel) * numel(out), activations=numel(out))


def global_pool_cost(inp: Shape) -> Cost:
    """Global average pooling: one add per input element (the divide is not counted)."""
    return Cost(gpool_ops=numel(inp), activations=inp[0])


def mean_cost(inp: Shape) -> Cost:
    """A mean over the spatial dimensions: one add per input element, as a count of its own.

    The same arithmetic as :func:`global_pool_cost`, kept apart because the tools differ:
    fvcore counts ``aten::adaptive_avg_pool2d`` and not ``aten::mean``.
    """
    return Cost(mean_ops=numel(inp), activations=inp[0])


def _infer_pool(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """`C` x the window's output size."""
    out = (inputs[0][0], *spatial_out(attrs, inputs[0]))
    kernel, padding = attrs["kernel"], attrs["padding"]
    if padding not in ("same", "valid"):
        # NB: torch's pools refuse padding over half the kernel, dilated or not (max_pool1d,
        # pool2d_shape_check): a window could then hold nothing but padding. 'same' pads first.
        half = [k // 2 for k in kernel]
        if any(p > h for p, h in zip(padding, half, strict=True)):
            raise ShapeError(
                f"padding {list(padding)} is over half the kernel {list(kernel)}: at most "
                f"{half}, as torch's pools take (or padding: same)",
                "padding",
            )
    return out


def _infer_avgpool(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """`C` x the window's output size."""
    if set(attrs["dilation"]) != {1}:
        raise ShapeError(
            f"average pooling has no dilation (torch's AvgPool has none), got "
            f"{list(attrs['dilation'])}",
            "dilation",
        )
    return _infer_pool(attrs, inputs)


def _torch_pool(layer: Layer) -> Call:
    a = layer.attrs
    kernel, stride, dilation = tuple(a["kernel"]), tuple(a["stride"]), tuple(a["dilation"])
    pad, padding = torch_window_padding(layer, kernel, stride, dilation)
    # 'same' fixes the output size (ceil(n / s)) with floor rounding; ceil_mode is moot there.
    ceil_mode = a["ceil_mode"] and a["padding"] != "same"
    # Torch pools take at most half the kernel as padding (explicit numbers beyond that are
    # refused by the spec); 'same' padding of a dilated window can need more: pad explicitly.
    if pad is None and any(2 * p > k for p, k in zip(padding, kernel, strict=True)):
        pad = tuple(p for q in reversed(padding) for p in (q, q))
        padding = (0,) * len(padding)
    if layer.kind == "maxpool":
        module = call(
            nd(layer, "MaxPool"),
            kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            ceil_mode=ceil_mode,
        )
        return sequential(pad_call(layer, pad, -math.inf), module)
    module = call(nd(layer, "AvgPool"), kernel, stride=stride, padding=padding, ceil_mode=ceil_mode)
    return sequential(pad_call(layer, pad), module)


POOL_STRIDE = Attr(
    "stride", "per_dim", "step per spatial dimension (default: the kernel)", None,
    default_from="kernel",
)  # fmt: skip


def _pool_view(kind: str) -> View:
    return View(
        f"{kind[:3]} pooling, k x k window, C_in channels",
        "H, W: output height and width (any stride or padding)",
        lambda S, c: (
            {
                "kernel": (S.k, S.k),
                "stride": (S.k, S.k),
                "padding": (0, 0),
                "dilation": (1, 1),
                "ceil_mode": False,
            },
            [(S.C_in, S.k * S.H, S.k * S.W)],
            (S.C_in, S.H, S.W),
        ),
    )


POOL_ATTRS = (
    *(a if a.name != "stride" else POOL_STRIDE for a in window_attrs(REQUIRED, padding=0)),
    Attr("ceil_mode", "bool", "round the output size up, as torch's ceil_mode", False),
)
POOL_EXAMPLES = (
    Example({"kernel": 2}),
    Example({"kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True}, size=(9, 8)),
)


@declare(
    "avgpool",
    attrs=POOL_ATTRS,
    infer=_infer_avgpool,
    buckets=("pool",),
    torch=_torch_pool,
    flops="1 per window element per output element (prod(kernel) * outputs)",
    examples=POOL_EXAMPLES,
    view=_pool_view,
)
@declare(
    "maxpool",
    attrs=POOL_ATTRS,
    infer=_infer_pool,
    buckets=("pool",),
    torch=_torch_pool,
    flops="1 per window element per output element (prod(kernel) * outputs)",
    examples=POOL_EXAMPLES,
    view=_pool_view,
)
def _pool(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Max/average pooling: k*k ops per output element."""
    return [("pool", pool_cost(attrs["kernel"], out))]


def _infer_global(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """`C x 1 x 1`."""
    return (inputs[0][0], *(1 for _ in spatial(inputs[0])))


GLOBAL_METHODS = ("adaptive", "mean")
"""How a global average pool is computed: ``AdaptiveAvgPoolNd(1)`` or ``x.mean(...)``."""


def _torch_global(layer: Layer) -> Call:
    if layer.attrs["method"] == "mean":
        return call("Mean")
    return call(nd(layer, "AdaptiveAvgPool"), 1)


@declare(
    "global_avg_pool",
    attrs=(
        Attr(
            "method",
            "choice",
            "how the reference computes it: an adaptive pool (torch's AdaptiveAvgPoolNd(1), "
            "counted by fvcore) or a mean over the spatial dimensions (x.mean, which fvcore "
            "does not count); the same arithmetic",
            "adaptive",
            choices=GLOBAL_METHODS,
        ),
    ),
    infer=_infer_global,
    buckets=("pool",),
    torch=_torch_global,
    flops="1 per input element (the divide is not counted), as a global pool or as a mean",
    examples=(Example({}), Example({}, size=(4, 3, 2)), Example({"method": "mean"}, size=(3, 5))),
    view=View(
        "global average pooling to 1 x 1, C_in channels",
        "H, W: INPUT height and width (the output is 1 x 1)",
        lambda S, c: ({"method": "adaptive"}, [(S.C_in, S.H, S.W)], (S.C_in, 1, 1)),
    ),
)
def _global_pool(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Global average pooling to 1 x 1: one op per input element."""
    if attrs["method"] == "mean":
        return [("pool", mean_cost(inputs[0]))]
    return [("pool", global_pool_cost(inputs[0]))]


def adaptive_pool_cost(inp: Shape, out: Shape) -> Cost:
    """Adaptive average pooling: one add per input element, as fvcore counts it.

    NB: exact when the output size divides the input size (windows tile the input); torch's
    overlapping windows otherwise read some elements twice, which this does not count.
    """
    return Cost(gpool_ops=numel(inp), activations=numel(out))


def _infer_adaptive(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """`C x size`."""
    spatial(inputs[0])
    return (inputs[0][0], *attrs["size"])


def _torch_adaptive(layer: Layer) -> Call:
    return call(nd(layer, "AdaptiveAvgPool"), tuple(layer.attrs["size"]))


@declare(
    "adaptive_avg_pool",
    attrs=(Attr("size", "per_dim", "output spatial size (torch's output_size)"),),
    infer=_infer_adaptive,
    buckets=("pool",),
    torch=_torch_adaptive,
    flops="1 per input element",
    examples=(Example({"size": 2}), Example({"size": [3, 1]}, size=(6, 5))),
    view=View(
        "adaptive average pooling to any output size, C_in channels",
        "H, W: INPUT height and width (one add per input element whatever the output size; "
        "exact when the output size divides the input size)",
        # The output size changes only the activations, which no formula shows.
        lambda S, c: ({"size": (1, 1)}, [(S.C_in, S.H, S.W)], (S.C_in, 1, 1)),
    ),
)
def _adaptive_pool(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Adaptive average pooling to a given output size: one op per input element."""
    return [("pool", adaptive_pool_cost(inputs[0], out))]
