"""The few ``nn.Module`` classes torch does not have, for layers built from a spec.

Each class is self-contained (it needs only ``torch`` and ``torch.nn``) so that
``sepcalc export torch`` can copy its source verbatim into a standalone file.
"""

from __future__ import annotations

import torch
from torch import nn


class Add(nn.Module):
    """Element-wise sum of two or more tensors (a residual connection)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Concat(nn.Module):
    """Concatenation along the channel axis."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=1)


class ChannelShuffle(nn.Module):
    """ShuffleNet's channel shuffle, written as torchvision writes it (view, transpose, view)."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, *size = x.shape
        x = x.view(n, self.groups, c // self.groups, *size).transpose(1, 2).contiguous()
        return x.view(n, c, *size)


class Slice(nn.Module):
    """Channels start:stop of the input (ShuffleNetV2's channel split): a view."""

    def __init__(self, start: int, stop: int) -> None:
        super().__init__()
        self.start, self.stop = start, stop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.start : self.stop]


class ChannelLinear(nn.Module):
    """``nn.Linear`` over the channel axis of an (N, C, *spatial) tensor."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = x.dim() - 1
        x = self.linear(x.permute(0, *range(2, x.dim()), 1))
        return x.permute(0, last, *range(1, last))


class ChannelLayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` over the channel axis of an (N, C, *spatial) tensor, at each position.

    As torchvision's and timm's ``LayerNorm2d`` (ConvNeXt): channels last, ``layer_norm``,
    channels back, in any number of spatial dimensions.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = x.dim() - 1
        x = x.permute(0, *range(2, x.dim()), 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, last, *range(1, last))


class LayerScale(nn.Module):
    """A learned multiplier per channel (ConvNeXt's ``layer_scale``, timm's ``LayerScale``),
    shaped (C, 1, ...) to broadcast over the spatial dimensions, as torchvision's (C, 1, 1)."""

    def __init__(self, channels: int, dims: int, init: float = 1e-6) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels, *(1,) * dims), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.gamma * x
        return out


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation as torchvision writes it: pool, 1x1 conv, act, 1x1 conv, gate."""

    def __init__(
        self, channels: int, squeeze: int, dims: int, act: nn.Module, gate: nn.Module
    ) -> None:
        super().__init__()
        conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[dims]
        pool = {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d}[dims]
        self.pool = pool(1)
        self.fc1 = conv(channels, squeeze, 1)
        self.act = act
        self.fc2 = conv(squeeze, channels, 1)
        self.gate = gate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.gate(self.fc2(self.act(self.fc1(self.pool(x)))))
        out: torch.Tensor = x * scale
        return out


CUSTOM: dict[str, type[nn.Module]] = {
    cls.__name__: cls
    for cls in (
        Add,
        Concat,
        ChannelShuffle,
        Slice,
        ChannelLinear,
        ChannelLayerNorm,
        LayerScale,
        SqueezeExcite,
    )
}
"""The classes above by name, for the builder and the exporter."""
