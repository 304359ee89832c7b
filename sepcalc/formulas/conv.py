"""Convolutions: standard (grouped, dilated, N-d), depthwise, pointwise and separable.

One formula, :func:`conv_cost`; depthwise, pointwise and separable are that formula with
``groups = C_in``, with a 1x1 kernel, and the sum of the two. The MobileNet ratio
``cost_sep / cost_std = 1/C_out + 1/k**2`` follows from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sepcalc.cost import Cost, Num
from sepcalc.formulas.base import (
    FUSED,
    REQUIRED,
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
    exact_div,
    prod,
    spatial,
)
from sepcalc.formulas.fused import norm_act, norm_act_attrs
from sepcalc.formulas.torchplan import (
    Call,
    call,
    dims,
    nd,
    pad_call,
    sequential,
    window_padding,
)
from sepcalc.formulas.torchplan import norm_act as torch_norm_act
from sepcalc.formulas.view import OUTPUT_SIZE, Count, Symbols, View, conv_attrs, feature_map


def conv_cost(
    c_in: Num,
    c_out: Num,
    kernel: Sequence[Num],
    out_size: Sequence[Num],
    groups: Num = 1,
    bias: bool = False,
) -> Cost:
    """Convolution. weight = C_out * C_in/g * prod(k); MACs = weight * prod(out); bias = C_out."""
    weight = c_out * exact_div(c_in, groups) * prod(kernel)
    out_elems = c_out * prod(out_size)
    return Cost(
        weight=weight,
        bias=c_out * int(bias),
        macs=weight * prod(out_size),
        bias_ops=out_elems * int(bias),
        activations=out_elems,
    )


def depthwise_cost(
    c_in: Num,
    kernel: Sequence[Num],
    out_size: Sequence[Num],
    multiplier: Num = 1,
    bias: bool = False,
) -> Cost:
    """Depthwise convolution: conv_cost with groups = C_in and C_out = m * C_in."""
    return conv_cost(c_in, multiplier * c_in, kernel, out_size, groups=c_in, bias=bias)


def pointwise_cost(
    c_in: Num, c_out: Num, out_size: Sequence[Num], groups: Num = 1, bias: bool = False
) -> Cost:
    """Pointwise (1x1) convolution: conv_cost with a kernel of ones."""
    return conv_cost(c_in, c_out, [1] * len(out_size), out_size, groups=groups, bias=bias)


def _windows(span: Num, stride: Num) -> Num:
    """ceil(span / stride), written as the one of two equal integer forms whose continuous
    relaxation is exact here: span / s when s divides span (odd kernels, padded: n / s), else
    (span - 1) / s + 1 when s divides span - 1 (even kernels: a 2x2 stride-2 pool, n / 2).

    NB: the test runs on exact values only (a relaxed number compares by its exact side), so the
    integer result is the same either way; only the symbolic view depends on it.
    """
    if (span - 1) % stride == 0 and span % stride != 0:
        return (span - 1) // stride + 1
    return -(-span // stride)


def conv_out_size(
    size: Sequence[Num],
    kernel: Sequence[Num],
    stride: Sequence[Num],
    padding: str | Sequence[Num],
    dilation: Sequence[Num],
    ceil_mode: bool = False,
) -> tuple[Num, ...]:
    """Output size per dim: ceil((n + 2p - d*(k-1)) / s); 'same' is ceil(n / s).

    That is torch's floor((n + 2p - d*(k-1) - 1) / s) + 1, written so that its continuous
    relaxation (symbolic views) is (n + 2p - d*(k-1)) / s: n / s for "same-like" padding, as in
    the MobileNet paper. 'same' follows TensorFlow (total padding d*(k-1) at stride 1, split as
    evenly as possible); 'valid' is padding 0. ``ceil_mode`` rounds up, as torch pooling does:
    ceil((n + 2p - d*(k-1) - 1) / s) + 1.
    """
    if padding == "same":
        return tuple(-(-n // s) for n, s in zip(size, stride, strict=True))
    pads = [0] * len(size) if padding == "valid" else padding
    rounding = int(ceil_mode)
    out = [
        _windows(n + 2 * p - d * (k - 1) - rounding, s) + rounding
        for n, k, s, p, d in zip(size, kernel, stride, pads, dilation, strict=True)
    ]
    if ceil_mode:
        # NB: torch drops a last window that would start in the right padding (pooling.h).
        out = [
            o - int((o - 1) * s >= n + p)
            for o, n, s, p in zip(out, size, stride, pads, strict=True)
        ]
    return tuple(out)


def spatial_out(attrs: Attrs, shape: Shape) -> tuple[Num, ...]:
    """The output size of a windowed layer (conv or pooling), checked to be positive."""
    size = spatial(shape)
    out = conv_out_size(
        size,
        attrs["kernel"],
        attrs["stride"],
        attrs["padding"],
        attrs["dilation"],
        attrs.get("ceil_mode", False),
    )
    if any(n < 1 for n in out):
        raise ShapeError(
            f"output size {list(out)} is not positive for input size {list(size)} "
            f"(kernel {list(attrs['kernel'])}, stride {list(attrs['stride'])})",
            "kernel",
        )
    return out


def window_attrs(kernel: object = 3, padding: object = "same") -> tuple[Attr, ...]:
    """kernel, stride, padding and dilation of a windowed layer (conv or pooling)."""
    return (
        Attr("kernel", "per_dim", "window size per spatial dimension", kernel),
        Attr("stride", "per_dim", "step per spatial dimension", 1),
        Attr(
            "padding",
            "per_dim",
            "zero padding on each side per dimension, or 'same' (TensorFlow's: output "
            "ceil(n / stride)) or 'valid' (none)",
            padding,
            low=0,
            choices=("same", "valid"),
        ),
        Attr("dilation", "per_dim", "spacing of the window's taps", 1),
    )


OUT = Attr("out", "int", "output channels")
BIAS = Attr("bias", "bool", "a learned bias per output channel", False)
MULTIPLIER = Attr("multiplier", "int", "depth multiplier: filters per input channel", 1)


GROUPS = Attr("groups", "int", "groups: C_in and out must be multiples of it", 1)


def _check_groups(c_in: int, c_out: int, groups: int) -> None:
    if c_in % groups or c_out % groups:
        raise ShapeError(
            f"groups={groups} must divide both the input channels ({c_in}) "
            f"and the output channels ({c_out})",
            "groups",
        )


def conv_bucket(c_in: int, kernel: Sequence[int], groups: int) -> str:
    """Breakdown bucket: 'depthwise' (groups = C_in > 1), 'pointwise' (1x1) or 'conv'."""
    if groups == c_in and groups > 1:
        return "depthwise"
    return "pointwise" if prod(kernel) == 1 else "conv"


def _conv_module(layer: Layer, c_out: int, groups: int, bias: bool) -> list[Call | None]:
    """The (pad and) ``nn.ConvNd`` of a windowed conv layer, from its attributes."""
    a, c_in = layer.attrs, layer.input_shapes[0][0]
    pad, padding = window_padding(layer, a["kernel"], a["stride"], a["dilation"])
    conv = call(
        nd(layer, "Conv"),
        c_in,
        c_out,
        tuple(a["kernel"]),
        stride=tuple(a["stride"]),
        padding=padding,
        dilation=tuple(a["dilation"]),
        groups=groups,
        bias=bias,
    )
    return [pad_call(layer, pad), conv]


def _infer_conv(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """`out` x the window's output size."""
    c_out = attrs["out"]
    _check_groups(inputs[0][0], c_out, attrs["groups"])
    return (c_out, *spatial_out(attrs, inputs[0]))


def _torch_conv(layer: Layer) -> Call:
    a, c_out = layer.attrs, layer.output_shape[0]
    return sequential(
        *_conv_module(layer, c_out, a["groups"], a["bias"]),
        *torch_norm_act(layer, c_out),
    )


@declare(
    "conv",
    attrs=(OUT, *window_attrs(kernel=REQUIRED), GROUPS, BIAS, *norm_act_attrs()),
    infer=_infer_conv,
    buckets=("conv", "pointwise", "depthwise", *FUSED),
    torch=_torch_conv,
    flops="2 per MAC; a bias add per output element; fused norm and activation",
    examples=(
        Example({"out": 8, "kernel": 3, "bias": True, "norm": "batchnorm", "act": "relu"}),
        Example({"out": 8, "kernel": 1}),
        Example({"out": 8, "kernel": 3, "groups": 8}),
        Example({"out": 4, "kernel": [3, 1], "stride": 2, "padding": 1, "dilation": [1, 2]}),
        Example({"out": 6, "kernel": 2, "stride": 2, "norm": "groupnorm", "norm_groups": 3}),
    ),
    view=View(
        "standard k x k convolution, C_in -> C_out",
        OUTPUT_SIZE,
        lambda S, c: (conv_attrs(S, c, out=S.C_out), [feature_map(S)], (S.C_out, S.H, S.W)),
        countable=True,
    ),
)
def _conv(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Standard convolution (any kernel, stride, padding, dilation, groups, bias)."""
    c_in = inputs[0][0]
    cost = conv_cost(c_in, out[0], attrs["kernel"], out[1:], attrs["groups"], attrs["bias"])
    bucket = conv_bucket(c_in, attrs["kernel"], attrs["groups"])
    return [(bucket, cost), *norm_act(attrs, out)]


def _infer_depthwise(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """`C * multiplier` x the window's output size."""
    return (inputs[0][0] * attrs["multiplier"], *spatial_out(attrs, inputs[0]))


def _torch_depthwise(layer: Layer) -> Call:
    a, c_in, c_out = layer.attrs, layer.input_shapes[0][0], layer.output_shape[0]
    return sequential(
        *_conv_module(layer, c_out, c_in, a["bias"]),
        *torch_norm_act(layer, c_out),
    )


def _depthwise_traffic(attrs: Attrs, inputs: Sequence[Shape], out: Shape, cost: Cost) -> Traffic:
    """The generic rule; with one filter per channel it can also run in place (TinyEngine,
    MCUNetV2 arXiv 2110.15352): each output channel is computed into a one-channel buffer, then
    copied over its input channel, which no later channel needs."""
    in_place = prod(out[1:]) if attrs["multiplier"] == 1 else None
    return default_traffic(attrs, inputs, out, cost)._replace(in_place=in_place)


@declare(
    "depthwise",
    attrs=(*window_attrs(), MULTIPLIER, BIAS, *norm_act_attrs()),
    infer=_infer_depthwise,
    buckets=("depthwise", *FUSED),
    torch=_torch_depthwise,
    flops="2 per MAC; a bias add per output element; fused norm and activation",
    examples=(
        Example({"norm": "batchnorm", "act": "relu6"}),
        Example({"kernel": 5, "stride": 2, "multiplier": 2, "bias": True}),
    ),
    view=View(
        "depthwise k x k convolution: m filters per input channel, C_in -> m*C_in",
        OUTPUT_SIZE,
        lambda S, c: (
            conv_attrs(S, c, multiplier=S.m),
            [feature_map(S)],
            (S.m * S.C_in, S.H, S.W),
        ),
        countable=True,
    ),
    traffic=_depthwise_traffic,
)
def _depthwise(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Depthwise convolution: one k x k filter per input channel (times the depth multiplier)."""
    cost = depthwise_cost(
        inputs[0][0], attrs["kernel"], out[1:], attrs["multiplier"], attrs["bias"]
    )
    return [("depthwise", cost), *norm_act(attrs, out)]


def _infer_pointwise(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """`out` x `ceil(n / stride)`."""
    (c_in, *_), c_out = inputs[0], attrs["out"]
    _check_groups(c_in, c_out, attrs["groups"])
    stride = attrs["stride"]
    return (c_out, *(-(-n // s) for n, s in zip(spatial(inputs[0]), stride, strict=True)))


def _torch_pointwise(layer: Layer) -> Call:
    a, c_in, c_out, n = layer.attrs, layer.input_shapes[0][0], layer.output_shape[0], dims(layer)
    conv = call(
        nd(layer, "Conv"),
        c_in,
        c_out,
        (1,) * n,
        stride=tuple(a["stride"]),
        groups=a["groups"],
        bias=a["bias"],
    )
    return sequential(conv, *torch_norm_act(layer, c_out))


@declare(
    "pointwise",
    attrs=(
        OUT,
        Attr("stride", "per_dim", "step per spatial dimension", 1),
        GROUPS,
        BIAS,
        *norm_act_attrs(),
    ),
    infer=_infer_pointwise,
    buckets=("pointwise", *FUSED),
    torch=_torch_pointwise,
    flops="2 per MAC; a bias add per output element; fused norm and activation",
    examples=(
        Example({"out": 8, "norm": "batchnorm", "act": "hardswish"}),
        Example({"out": 4, "stride": 2, "groups": 2, "bias": True}, size=(7, 7)),
    ),
    view=View(
        "pointwise 1 x 1 convolution, C_in -> C_out",
        OUTPUT_SIZE,
        lambda S, c: (
            conv_attrs(S, c, out=S.C_out, kernel=(1, 1)),
            [feature_map(S)],
            (S.C_out, S.H, S.W),
        ),
        countable=True,
    ),
)
def _pointwise(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Pointwise (1x1) convolution, optionally grouped or strided."""
    cost = pointwise_cost(inputs[0][0], out[0], out[1:], attrs["groups"], attrs["bias"])
    return [("pointwise", cost), *norm_act(attrs, out)]


def _infer_separable(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """`out` x the window's output size."""
    return (attrs["out"], *spatial_out(attrs, inputs[0]))


def _torch_separable(layer: Layer) -> Call:
    a, c_in, c_out, n = layer.attrs, layer.input_shapes[0][0], layer.output_shape[0], dims(layer)
    mid = c_in * a["multiplier"]
    return sequential(
        *_conv_module(layer, mid, c_in, False),
        *torch_norm_act(layer, mid, "mid_"),
        call(nd(layer, "Conv"), mid, c_out, (1,) * n, bias=a["bias"]),
        *torch_norm_act(layer, c_out),
    )


def _separable_view(S: Symbols, c: Count) -> tuple[dict[str, Any], list[Shape], Shape]:
    attrs = conv_attrs(S, c, out=S.C_out)
    attrs |= {"mid_norm": attrs["norm"], "mid_act": attrs["act"]}
    return attrs, [feature_map(S)], (S.C_out, S.H, S.W)


@declare(
    "separable",
    attrs=(
        OUT,
        *window_attrs(),
        MULTIPLIER,
        Attr("bias", "bool", "a learned bias per output channel of the pointwise stage", False),
        *norm_act_attrs(where="pointwise stage"),
        *norm_act_attrs("mid_", "depthwise stage"),
    ),
    infer=_infer_separable,
    buckets=("depthwise", "pointwise", *FUSED),
    torch=_torch_separable,
    flops="2 per MAC of both stages; a bias add per output element; fused norms and "
    "activations after either stage",
    examples=(
        Example(
            {
                "out": 8,
                "mid_norm": "batchnorm",
                "mid_act": "relu",
                "norm": "batchnorm",
                "act": "silu",
            }
        ),
        Example({"out": 6, "kernel": 5, "stride": 2, "multiplier": 2, "bias": True}),
        Example({"out": 4, "mid_norm": "layernorm", "norm": "groupnorm", "norm_groups": 2}),
    ),
    view=View(
        "depthwise separable convolution: k x k depthwise then 1 x 1 pointwise, C_in -> C_out "
        "(MobileNet; a counted norm and act follow both stages, a counted bias the pointwise)",
        OUTPUT_SIZE,
        _separable_view,
        countable=True,
    ),
)
def _separable(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Depthwise separable convolution: depthwise (+ optional norm/act) then pointwise."""
    c_in, size = inputs[0][0], out[1:]
    mid: Shape = (c_in * attrs["multiplier"], *size)
    return [
        ("depthwise", depthwise_cost(c_in, attrs["kernel"], size, attrs["multiplier"])),
        *norm_act(attrs, mid, "mid_"),
        ("pointwise", pointwise_cost(mid[0], out[0], size, bias=attrs["bias"])),
        *norm_act(attrs, out),
    ]


def conv_transpose_cost(
    c_in: Num,
    c_out: Num,
    kernel: Sequence[Num],
    in_size: Sequence[Num],
    out_size: Sequence[Num],
    groups: Num = 1,
    bias: bool = False,
) -> Cost:
    """Transposed convolution. weight = C_in * C_out/g * prod(k); MACs = weight * prod(in).

    Each input element is multiplied by a whole filter, so the MACs scale with the input size,
    as torch's FlopCounterMode and fvcore count them; bias = C_out.
    """
    weight = c_in * exact_div(c_out, groups) * prod(kernel)
    out_elems = c_out * prod(out_size)
    return Cost(
        weight=weight,
        bias=c_out * int(bias),
        macs=weight * prod(in_size),
        bias_ops=out_elems * int(bias),
        activations=out_elems,
    )


def _infer_conv_transpose(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """`out` x `(n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1`."""
    c_out, size = attrs["out"], spatial(inputs[0])
    _check_groups(inputs[0][0], c_out, attrs["groups"])
    a = attrs
    if any(
        op >= max(s, d)
        for op, s, d in zip(a["output_padding"], a["stride"], a["dilation"], strict=True)
    ):
        raise ShapeError(
            f"output_padding {list(a['output_padding'])} must be smaller than the stride or the "
            f"dilation ({list(a['stride'])}, {list(a['dilation'])}) in every dimension",
            "output_padding",
        )
    windows = zip(
        size,
        a["kernel"],
        a["stride"],
        a["padding"],
        a["dilation"],
        a["output_padding"],
        strict=True,
    )
    out = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, k, s, p, d, op in windows)
    if any(n < 1 for n in out):
        raise ShapeError(
            f"output size {list(out)} is not positive for input size {list(size)} "
            f"(padding {list(a['padding'])})",
            "padding",
        )
    return (c_out, *out)


def _torch_conv_transpose(layer: Layer) -> Call:
    a, c_in, c_out = layer.attrs, layer.input_shapes[0][0], layer.output_shape[0]
    extra = {"output_padding": tuple(a["output_padding"])} if any(a["output_padding"]) else {}
    module = call(
        nd(layer, "ConvTranspose"),
        c_in,
        c_out,
        tuple(a["kernel"]),
        stride=tuple(a["stride"]),
        padding=tuple(a["padding"]),
        **extra,
        groups=a["groups"],
        bias=a["bias"],
        dilation=tuple(a["dilation"]),
    )
    return sequential(module, *torch_norm_act(layer, c_out))


@declare(
    "conv_transpose",
    attrs=(
        OUT,
        Attr("kernel", "per_dim", "window size per spatial dimension"),
        Attr("stride", "per_dim", "upsampling step per spatial dimension", 1),
        Attr("padding", "per_dim", "rows and columns removed from each side (torch's)", 0, low=0),
        Attr(
            "output_padding",
            "per_dim",
            "rows and columns added on one side, below the stride or dilation (torch's)",
            0,
            low=0,
        ),
        Attr("dilation", "per_dim", "spacing of the window's taps", 1),
        GROUPS,
        BIAS,
        *norm_act_attrs(),
    ),
    infer=_infer_conv_transpose,
    buckets=("conv_transpose", *FUSED),
    torch=_torch_conv_transpose,
    flops="2 per MAC (per input position); a bias add per output element; fused norm and "
    "activation",
    examples=(
        Example({"out": 4, "kernel": 2, "stride": 2}),
        Example(
            {
                "out": 6,
                "kernel": 3,
                "stride": 2,
                "padding": 1,
                "output_padding": 1,
                "groups": 2,
                "bias": True,
                "norm": "batchnorm",
                "act": "relu",
            },
            size=(5, 4),
        ),
        Example(
            {"out": 4, "kernel": [3, 2, 1], "stride": [1, 2, 3], "dilation": [2, 1, 1]},
            channels=2,
            size=(3, 2, 2),
        ),
    ),
    view=View(
        "transposed k x k convolution (stride 1, no padding), C_in -> C_out",
        "H, W: INPUT height and width (the MACs are per input position; the output is "
        "(H + k - 1) x (W + k - 1))",
        lambda S, c: (
            {
                **conv_attrs(S, c, out=S.C_out),
                "padding": (0, 0),
                "output_padding": (0, 0),
            },
            [feature_map(S)],
            (S.C_out, S.H + S.k - 1, S.W + S.k - 1),
        ),
        countable=True,
    ),
)
def _conv_transpose(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Transposed convolution (decoders, segmentation heads, GAN generators)."""
    cost = conv_transpose_cost(
        inputs[0][0],
        out[0],
        attrs["kernel"],
        spatial(inputs[0]),
        out[1:],
        attrs["groups"],
        attrs["bias"],
    )
    return [("conv_transpose", cost), *norm_act(attrs, out)]
