"""TinyNet: stem conv, a residual depthwise conv, a pointwise conv, torchvision's
squeeze-excite, pool, classifier; the spec tests/test_crosscheck_against.py writes for it."""

from __future__ import annotations

import torch
from torch import nn


class SqueezeExcitation(nn.Module):
    """As torchvision.ops.SqueezeExcitation: pool, fc1, ReLU, fc2, gate; x * gate."""

    def __init__(self, channels: int, squeeze: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.activation = nn.ReLU()
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.fc2(self.activation(self.fc1(self.avgpool(x))))
        out: torch.Tensor = x * self.scale_activation(scale)
        return out


def conv_bn_relu(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class TinyNet(nn.Module):
    def __init__(self, classes: int = 10, width: int = 8, dw_stride: int = 1) -> None:
        super().__init__()
        self.stem = conv_bn_relu(3, width, 3, stride=2)
        self.dw = conv_bn_relu(width, width, 3, stride=dw_stride, groups=width)
        self.pw = conv_bn_relu(width, 2 * width, 1)
        self.se = SqueezeExcitation(2 * width, 8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2 * width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        y = self.dw(x)
        x = x + y if y.shape == x.shape else y
        x = self.se(self.pw(x))
        out: torch.Tensor = self.fc(torch.flatten(self.pool(x), 1))
        return out


def build_model(classes: int = 10, width: int = 8) -> nn.Module:
    """A factory, as model zoos write them."""
    return TinyNet(classes=classes, width=width)


def not_a_model() -> int:
    return 3


def broken() -> nn.Module:
    raise RuntimeError("weights file not found")
