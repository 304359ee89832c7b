"""The spec format as pydantic models: what keys exist, their types and defaults.

Integer fields accept a number or an expression string (see :mod:`sepcalc.expr`); expressions
are evaluated later, when the graph is built with the spec's vars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    Tag,
)

from sepcalc.formulas.activation import ACTIVATIONS

IntExpr = StrictInt | StrictStr
NumExpr = StrictInt | StrictFloat | StrictStr
PerDim = IntExpr | list[IntExpr]
BoolExpr = StrictBool | StrictStr
if TYPE_CHECKING:
    Activation = str
else:
    Activation = Literal[ACTIVATIONS]
Norm = Literal["batchnorm"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*$"
Name = Annotated[str, StringConstraints(strict=True, pattern=NAME_PATTERN)]
"""A layer name: letters, digits, '_' and '-', so it is safe in every output format."""


class LayerBase(Strict):
    name: Name | None = None
    inputs: StrictStr | list[StrictStr] | None = None
    """Names of the layers this one takes; default: the previous layer."""
    repeat: IntExpr = 1
    """Stack this layer (or block) n times; `i` is the 0-based repeat index in expressions."""
    when: BoolExpr | None = None
    """Keep this layer only where the expression is true (e.g. a residual add)."""


class FusedNormAct(Strict):
    norm: Norm | None = None
    act: Activation | None = None


class Conv(LayerBase, FusedNormAct):
    kind: Literal["conv"]
    out: IntExpr
    kernel: PerDim
    stride: PerDim = 1
    padding: PerDim = "same"
    dilation: PerDim = 1
    groups: IntExpr = 1
    bias: BoolExpr = False


class Depthwise(LayerBase, FusedNormAct):
    kind: Literal["depthwise"]
    kernel: PerDim = 3
    stride: PerDim = 1
    padding: PerDim = "same"
    dilation: PerDim = 1
    multiplier: IntExpr = 1
    bias: BoolExpr = False


class Pointwise(LayerBase, FusedNormAct):
    kind: Literal["pointwise"]
    out: IntExpr
    stride: PerDim = 1
    groups: IntExpr = 1
    bias: BoolExpr = False


class Separable(LayerBase, FusedNormAct):
    kind: Literal["separable"]
    out: IntExpr
    kernel: PerDim = 3
    stride: PerDim = 1
    padding: PerDim = "same"
    dilation: PerDim = 1
    multiplier: IntExpr = 1
    bias: BoolExpr = False
    mid_norm: Norm | None = None
    mid_act: Activation | None = None


class Linear(LayerBase, FusedNormAct):
    kind: Literal["linear"]
    out: IntExpr
    bias: BoolExpr = True


class BatchNorm(LayerBase):
    kind: Literal["batchnorm"]
    affine: BoolExpr = True


class ActivationLayer(LayerBase):
    kind: Activation


class Pool(LayerBase):
    kind: Literal["maxpool", "avgpool"]
    kernel: PerDim
    stride: PerDim | None = None
    """Default: the kernel size."""
    padding: PerDim = 0
    dilation: PerDim = 1
    ceil_mode: BoolExpr = False


class GlobalAvgPool(LayerBase):
    kind: Literal["global_avg_pool"]


class AdaptiveAvgPool(LayerBase):
    kind: Literal["adaptive_avg_pool"]
    size: PerDim
    """Output spatial size (torch AdaptiveAvgPool's output_size)."""


class Flatten(LayerBase):
    kind: Literal["flatten"]


class Dropout(LayerBase):
    kind: Literal["dropout"]
    p: NumExpr = 0.5


class Add(LayerBase):
    kind: Literal["add"]


class Concat(LayerBase):
    kind: Literal["concat"]


class ChannelShuffle(LayerBase):
    kind: Literal["channel_shuffle"]
    groups: IntExpr


class Slice(LayerBase):
    kind: Literal["slice"]
    start: IntExpr = 0
    stop: IntExpr
    """Channels start..stop-1 of the input (a view, as torch's x[:, start:stop])."""


class Upsample(LayerBase):
    kind: Literal["upsample"]
    scale: PerDim = 2
    mode: Literal["nearest", "linear", "bilinear", "trilinear"] = "nearest"


class SqueezeExcite(LayerBase):
    kind: Literal["squeeze_excite"]
    squeeze: IntExpr
    """Hidden channels of the bottleneck (e.g. make_divisible(C // 4, 8))."""
    act: Activation = "relu"
    gate: Activation = "sigmoid"


class BlockCall(LayerBase):
    """``{block: name, arg: value, ...}``: the block's layers with its params bound."""

    model_config = ConfigDict(extra="allow", frozen=True)
    block: StrictStr


LAYER_MODELS: tuple[type[LayerBase], ...] = (
    Conv,
    Depthwise,
    Pointwise,
    Separable,
    Linear,
    BatchNorm,
    ActivationLayer,
    Pool,
    GlobalAvgPool,
    AdaptiveAvgPool,
    Flatten,
    Dropout,
    Add,
    Concat,
    ChannelShuffle,
    Slice,
    Upsample,
    SqueezeExcite,
)
MODEL_OF_KIND: dict[str, type[LayerBase]] = {
    kind: model
    for model in LAYER_MODELS
    for kind in get_args(model.model_fields["kind"].annotation)
}


def _layer_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return "block" if "block" in value else value.get("kind")
    return "block" if isinstance(value, BlockCall) else getattr(value, "kind", None)


if TYPE_CHECKING:
    LayerEntry = LayerBase
else:
    LayerEntry = Annotated[
        Union[
            (
                *(Annotated[model, Tag(kind)] for kind, model in MODEL_OF_KIND.items()),
                Annotated[BlockCall, Tag("block")],
            )
        ],
        Discriminator(_layer_tag),
    ]


class Block(Strict):
    params: list[StrictStr] | dict[StrictStr, StrictBool | NumExpr | None] = Field(
        default_factory=list
    )
    """Parameter names, or names with defaults (null: required)."""
    layers: list[LayerEntry] = Field(min_length=1)


class Input(Strict):
    channels: IntExpr
    size: PerDim
    """Spatial size: one number per dimension (1-D, 2-D, 3-D), or one number for a square 2-D."""


class NetworkSpec(Strict):
    name: StrictStr = "network"
    description: StrictStr | None = None
    input: Input
    vars: dict[StrictStr, StrictBool | NumExpr] = Field(default_factory=dict)
    blocks: dict[StrictStr, Block] = Field(default_factory=dict)
    layers: list[LayerEntry] = Field(min_length=1)
    budget: dict[StrictStr, StrictInt | StrictFloat | StrictStr] | None = None
    """Upper bounds checked by ``sepcalc check`` (e.g. macs: 600M)."""
