"""What counts as a FLOP: one convention object per counting tool.

A convention weighs the primitive operation counts of a :class:`~sepcalc.cost.Cost` into FLOPs.
MACs and parameters never depend on the convention.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sepcalc.cost import Cost, Num
from sepcalc.errors import SepcalcError, did_you_mean


@dataclass(frozen=True)
class Convention:
    name: str
    description: str
    per_mac: int = 2
    per_bias: int = 1
    per_norm: int = 1
    per_act: int = 1
    per_pool: int = 1
    per_gpool: int = 1
    per_mean: int = 1
    per_elem: int = 1
    per_upsample: int = 1
    per_nearest: int = 0
    per_softmax: int = 1
    per_stat_norm: int = 5
    per_stat_affine: int = 2

    def weight(self, operation: str) -> int:
        """The FLOPs of one operation of a :data:`~sepcalc.cost.OPERATIONS` count."""
        weight: int = getattr(self, WEIGHTS[operation])
        return weight

    def flops(self, cost: Cost) -> Num:
        return (
            self.per_mac * cost.macs
            + self.per_bias * cost.bias_ops
            + self.per_norm * cost.norm_ops
            + self.per_act * cost.act_ops
            + self.per_pool * cost.pool_ops
            + self.per_gpool * cost.gpool_ops
            + self.per_mean * cost.mean_ops
            + self.per_elem * cost.elem_ops
            + self.per_upsample * cost.upsample_ops
            + self.per_nearest * cost.nearest_ops
            + self.per_softmax * cost.softmax_ops
            + self.per_stat_norm * cost.stat_norm_ops
            + self.per_stat_affine * cost.stat_affine_ops
        )


WEIGHTS = {
    "macs": "per_mac",
    "bias_ops": "per_bias",
    "norm_ops": "per_norm",
    "act_ops": "per_act",
    "pool_ops": "per_pool",
    "gpool_ops": "per_gpool",
    "mean_ops": "per_mean",
    "elem_ops": "per_elem",
    "upsample_ops": "per_upsample",
    "nearest_ops": "per_nearest",
    "softmax_ops": "per_softmax",
    "stat_norm_ops": "per_stat_norm",
    "stat_affine_ops": "per_stat_affine",
}
"""Each operation count of a cost and the convention field that weighs it."""

DEFAULT = Convention(
    "default",
    "all inference FLOPs: 2 per MAC, plus bias adds, normalization, activations, pooling, "
    "element-wise ops, interpolation and softmax",
)
PAPER = Convention(
    "paper",
    "conv and linear only, 2 FLOPs per multiply-accumulate (no bias, norm or activations)",
    per_bias=0,
    per_norm=0,
    per_act=0,
    per_pool=0,
    per_gpool=0,
    per_mean=0,
    per_elem=0,
    per_upsample=0,
    per_softmax=0,
    per_stat_norm=0,
    per_stat_affine=0,
)
TORCH = replace(
    PAPER,
    name="torch",
    description="torch.utils.flop_counter.FlopCounterMode: 2 per MAC of conv and linear, "
    "nothing else",
)
FVCORE = Convention(
    "fvcore",
    "fvcore FlopCountAnalysis: 1 per MAC, no bias; eval BatchNorm 2 per element when affine "
    "(else 1); LayerNorm and GroupNorm 5 per element when affine (else 4); adaptive average "
    "pooling 1 per input element (a mean, x.mean, 0); upsampling 1 (nearest) or 2**dims "
    "(linear modes) per output element; everything else 0",
    per_mac=1,
    per_bias=0,
    per_norm=1,
    per_act=0,
    per_pool=0,
    per_gpool=1,
    per_mean=0,
    per_elem=0,
    per_upsample=1,
    per_nearest=1,
    per_softmax=0,
    per_stat_norm=4,
    per_stat_affine=1,
)

PRESETS: dict[str, Convention] = {c.name: c for c in (DEFAULT, PAPER, TORCH, FVCORE)}
PRESETS["core"] = PAPER

TOOL_CONVENTIONS: dict[str, Convention] = {"fvcore": FVCORE, "torch": TORCH}
"""Each cross-check tool (`sepcalc crosscheck`) and the preset that reproduces its FLOP count."""


def get_convention(name: str) -> Convention:
    try:
        return PRESETS[name]
    except KeyError:
        raise SepcalcError(
            f"unknown convention '{name}'{did_you_mean(name, PRESETS)}; "
            f"choose one of: {', '.join(PRESETS)}"
        ) from None
