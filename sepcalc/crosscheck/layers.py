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


class Mul(nn.Module):
    """Element-wise product of two or more tensors, broadcast (a gate such as LR-ASPP's)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Interpolate(nn.Module):
    """Resize the first tensor to the spatial size of the second, as torchvision's
    ``F.interpolate(x, size=low.shape[-2:], ...)``."""

    def __init__(self, mode: str, align_corners: bool | None = None) -> None:
        super().__init__()
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return nn.functional.interpolate(
            x, size=like.shape[2:], mode=self.mode, align_corners=self.align_corners
        )


class Concat(nn.Module):
    """Concatenation along the channel axis."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=1)


class Mean(nn.Module):
    """Global average pooling written as a mean (torchvision's ShuffleNetV2: ``x.mean([2, 3])``).

    Keeps the spatial dimensions as ones, as ``AdaptiveAvgPoolNd(1)`` does; it traces to
    ``aten::mean``, which fvcore does not count, where the adaptive pool is counted.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=tuple(range(2, x.dim())), keepdim=True)


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
    """Squeeze-and-excitation as torchvision writes it: pool, 1x1 conv, act, 1x1 conv, gate.

    With ``mean=True`` the pool is ``x.mean(...)``, as timm's SqueezeExcite writes it.
    """

    def __init__(
        self,
        channels: int,
        squeeze: int,
        dims: int,
        act: nn.Module,
        gate: nn.Module,
        mean: bool = False,
    ) -> None:
        super().__init__()
        conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[dims]
        pool = {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d}[dims]
        self.pool = None if mean else pool(1)
        self.fc1 = conv(channels, squeeze, 1)
        self.act = act
        self.fc2 = conv(squeeze, channels, 1)
        self.gate = gate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool is None:
            pooled = x.mean(dim=tuple(range(2, x.dim())), keepdim=True)
        else:
            pooled = self.pool(x)
        scale = self.gate(self.fc2(self.act(self.fc1(pooled))))
        out: torch.Tensor = x * scale
        return out


class SelfAttention(nn.Module):
    """Multi-head self-attention among the positions of an (N, C, *spatial) map, with qkv and
    output projections and explicit matmuls (fvcore and FlopCounterMode both count them).

    With a patch size, the map is cut into patches and attention runs among the patches,
    separately for each position inside a patch (MobileViT's unfold).
    """

    def __init__(
        self,
        channels: int,
        heads: int,
        patch: tuple[int, ...],
        qkv_bias: bool = True,
        proj_bias: bool = True,
        dims: int = 2,
    ) -> None:
        super().__init__()
        self.heads, self.patch, self.dims = heads, patch, dims
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels, bias=proj_bias)
        self.scale = (channels // heads) ** -0.5
        self.area = 1
        for p in patch:
            self.area *= p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, *size = x.shape
        d, heads = self.dims, self.heads
        grid = [s // p for s, p in zip(size, self.patch, strict=True)]
        split = [v for g, p in zip(grid, self.patch, strict=True) for v in (g, p)]
        # (n, c, g1, p1, g2, p2, ...) -> (n, p1, p2, ..., g1, g2, ..., c): one sequence of
        # patches for every position inside a patch.
        order = [0, *(3 + 2 * i for i in range(d)), *(2 + 2 * i for i in range(d)), 1]
        patched = x.reshape(n, c, *split).permute(*order)
        tokens = patched.reshape(n * self.area, -1, c)
        b, length, _ = tokens.shape
        qkv = self.qkv(tokens).reshape(b, length, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = (q * self.scale) @ k.transpose(-2, -1)
        out = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, length, c)
        out = self.proj(out).reshape(patched.shape)
        back = [0, 1 + 2 * d, *(v for i in range(d) for v in (1 + d + i, 1 + i))]
        result: torch.Tensor = out.permute(*back).reshape(n, c, *size)
        return result


CUSTOM: dict[str, type[nn.Module]] = {
    name: cls
    for name, cls in list(globals().items())
    if isinstance(cls, type) and issubclass(cls, nn.Module) and cls.__module__ == __name__
}
"""Every class above by name, for the builder and the exporter."""
