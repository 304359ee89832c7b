"""Independent layer-by-layer arithmetic of the zoo networks, written from the reference code.

Nothing here imports sepcalc: each function walks the reference implementation's layers (the
torchvision / timm source named in its docstring) and adds up, per layer,
  conv:   weight = C_out * C_in/g * k*k,  MACs = weight * H_out * W_out (+ C_out bias params)
  linear: weight = C_in * C_out,          MACs = weight (+ C_out bias params)
  BN:     2 * C params (gamma, beta)
  SE:     two biased 1x1 convs on a 1x1 map: 2*C*s + s + C params, 2*C*s MACs
so the YAML specs and sepcalc's formulas are checked against a second, separate derivation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction


def make_divisible(v: Fraction | int, divisor: int = 8) -> int:
    """torchvision ``_make_divisible``: nearest multiple, never more than 10% below ``v``."""
    new_v = max(divisor, int(v + Fraction(divisor, 2)) // divisor * divisor)
    return new_v + divisor if new_v < Fraction(9, 10) * v else new_v


def down(size: int, stride: int) -> int:
    """Output size of a k x k conv/pool with padding (k-1)//2: ceil(size / stride)."""
    return (size - 1) // stride + 1


@dataclass
class Tally:
    params: int = 0
    macs: int = 0

    def conv(self, c_in: int, c_out: int, k: int, size: int, groups: int = 1,
             bias: bool = False) -> None:  # fmt: skip
        weight = c_out * (c_in // groups) * k * k
        self.params += weight + c_out * bias
        self.macs += weight * size * size

    def bn(self, c: int) -> None:
        self.params += 2 * c

    def linear(self, c_in: int, c_out: int) -> None:
        self.params += c_in * c_out + c_out
        self.macs += c_in * c_out

    def se(self, c: int, squeeze: int) -> None:
        self.params += 2 * c * squeeze + squeeze + c
        self.macs += 2 * c * squeeze


def mobilenet_v2(alpha: Fraction = Fraction(1), resolution: int = 224) -> Tally:
    """torchvision models/mobilenetv2.py: the t, c, n, s table of the paper's Table 2."""
    t = Tally()
    size, c = down(resolution, 2), make_divisible(32 * alpha)
    t.conv(3, c, 3, size)
    t.bn(c)
    table = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
             (6, 160, 3, 2), (6, 320, 1, 1)]  # fmt: skip
    for expand, out, n, s in table:
        out = make_divisible(out * alpha)
        for i in range(n):
            hidden = c * expand
            if expand != 1:
                t.conv(c, hidden, 1, size)
                t.bn(hidden)
            size = down(size, s if i == 0 else 1)
            t.conv(hidden, hidden, 3, size, groups=hidden)
            t.bn(hidden)
            t.conv(hidden, out, 1, size)
            t.bn(out)
            c = out
    last = make_divisible(1280 * max(Fraction(1), alpha))
    t.conv(c, last, 1, size)
    t.bn(last)
    t.linear(last, 1000)
    return t


def resnet50(v1_5: bool = True) -> Tally:
    """torchvision models/resnet.py: Bottleneck, layers [3, 4, 6, 3].

    torchvision ("v1.5") puts a block's stride on its 3x3 conv; the paper on its first 1x1.
    """
    t = Tally()
    t.conv(3, 64, 7, 112)
    t.bn(64)
    size, c = 56, 64  # after the 3x3 stride-2 max pool
    for width, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for i in range(blocks):
            s = stride if i == 0 else 1
            out = down(size, s)
            t.conv(c, width, 1, size if v1_5 else out)
            t.bn(width)
            t.conv(width, width, 3, out)
            t.bn(width)
            t.conv(width, 4 * width, 1, out)
            t.bn(4 * width)
            if s != 1 or c != 4 * width:  # downsample: 1x1 conv + BN
                t.conv(c, 4 * width, 1, out)
                t.bn(4 * width)
            c, size = 4 * width, out
    t.linear(2048, 1000)
    return t


def vgg16() -> Tally:
    """torchvision models/vgg.py: cfg "D", biased 3x3 convs, no BN, three linear layers."""
    t = Tally()
    c, size = 3, 224
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M"]:  # fmt: skip
        if v == "M":
            size //= 2
        else:
            assert isinstance(v, int)
            t.conv(c, v, 3, size, bias=True)
            c = v
    t.linear(512 * 7 * 7, 4096)
    t.linear(4096, 4096)
    t.linear(4096, 1000)
    return t


# torchvision mobilenetv3.py bneck_conf rows: (input, kernel, expanded, out, use_se, stride).
V3_LARGE = [(16, 3, 16, 16, False, 1), (16, 3, 64, 24, False, 2), (24, 3, 72, 24, False, 1),
            (24, 5, 72, 40, True, 2), (40, 5, 120, 40, True, 1), (40, 5, 120, 40, True, 1),
            (40, 3, 240, 80, False, 2), (80, 3, 200, 80, False, 1), (80, 3, 184, 80, False, 1),
            (80, 3, 184, 80, False, 1), (80, 3, 480, 112, True, 1), (112, 3, 672, 112, True, 1),
            (112, 5, 672, 160, True, 2), (160, 5, 960, 160, True, 1),
            (160, 5, 960, 160, True, 1)]  # fmt: skip
V3_SMALL = [(16, 3, 16, 16, True, 2), (16, 3, 72, 24, False, 2), (24, 3, 88, 24, False, 1),
            (24, 5, 96, 40, True, 2), (40, 5, 240, 40, True, 1), (40, 5, 240, 40, True, 1),
            (40, 5, 120, 48, True, 1), (48, 5, 144, 48, True, 1), (48, 5, 288, 96, True, 2),
            (96, 5, 576, 96, True, 1), (96, 5, 576, 96, True, 1)]  # fmt: skip


def mobilenet_v3(large: bool) -> Tally:
    """torchvision models/mobilenetv3.py; SE squeeze = make_divisible(expanded // 4, 8)."""
    rows, last = (V3_LARGE, 1280) if large else (V3_SMALL, 1024)
    t = Tally()
    size = 112
    t.conv(3, 16, 3, size)
    t.bn(16)
    for c_in, k, expanded, out, use_se, s in rows:
        if expanded != c_in:
            t.conv(c_in, expanded, 1, size)
            t.bn(expanded)
        size = down(size, s)
        t.conv(expanded, expanded, k, size, groups=expanded)
        t.bn(expanded)
        if use_se:
            t.se(expanded, make_divisible(expanded // 4))
        t.conv(expanded, out, 1, size)
        t.bn(out)
    c = rows[-1][3]
    t.conv(c, 6 * c, 1, size)
    t.bn(6 * c)
    t.linear(6 * c, last)
    t.linear(last, 1000)
    return t


# torchvision efficientnet.py MBConvConfig rows: (expand, kernel, stride, in, out, layers).
EFFICIENTNET = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2),
                (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4),
                (6, 3, 1, 192, 320, 1)]  # fmt: skip


def efficientnet(width: Fraction, depth: Fraction, resolution: int) -> Tally:
    """torchvision models/efficientnet.py; SE squeeze = max(1, block input channels // 4)."""
    t = Tally()
    size, c = down(resolution, 2), make_divisible(32 * width)
    t.conv(3, c, 3, size)
    t.bn(c)
    for expand, k, stride, _, out, layers in EFFICIENTNET:
        out = make_divisible(out * width)
        for i in range(math.ceil(layers * depth)):
            expanded = make_divisible(c * expand)
            if expanded != c:
                t.conv(c, expanded, 1, size)
                t.bn(expanded)
            size = down(size, stride if i == 0 else 1)
            t.conv(expanded, expanded, k, size, groups=expanded)
            t.bn(expanded)
            t.se(expanded, max(1, c // 4))
            t.conv(expanded, out, 1, size)
            t.bn(out)
            c = out
    t.conv(c, 4 * c, 1, size)
    t.bn(4 * c)
    t.linear(4 * c, 1000)
    return t


def shufflenet_v2_x1_0() -> Tally:
    """torchvision models/shufflenetv2.py: stages [4, 8, 4], channels [24, 116, 232, 464, 1024]."""
    t = Tally()
    t.conv(3, 24, 3, 112)
    t.bn(24)
    size, c = 56, 24  # after the 3x3 stride-2 max pool
    for repeats, out in [(4, 116), (8, 232), (4, 464)]:
        half = out // 2
        for i in range(repeats):
            if i == 0:  # both branches see the whole input; stride 2
                small = down(size, 2)
                t.conv(c, c, 3, small, groups=c)  # branch1: dw 3x3 s2 + BN
                t.bn(c)
                t.conv(c, half, 1, small)  # 1x1 + BN + ReLU
                t.bn(half)
                t.conv(c, half, 1, size)  # branch2: 1x1 + BN + ReLU at the input size
                t.bn(half)
                size = small
            else:  # branch2 on the right half of the channels
                t.conv(half, half, 1, size)
                t.bn(half)
            t.conv(half, half, 3, size, groups=half)  # dw 3x3 + BN
            t.bn(half)
            t.conv(half, half, 1, size)  # 1x1 + BN + ReLU
            t.bn(half)
            c = out
    t.conv(464, 1024, 1, size)
    t.bn(1024)
    t.linear(1024, 1000)
    return t


def xception() -> Tally:
    """timm models/xception.py (legacy_xception): 299x299, valid 3x3 stem convs."""
    t = Tally()
    t.conv(3, 32, 3, 149)  # (299 - 3) // 2 + 1
    t.bn(32)
    t.conv(32, 64, 3, 147)
    t.bn(64)
    size = 147

    def separable(c_in: int, c_out: int) -> None:
        t.conv(c_in, c_in, 3, size, groups=c_in)
        t.conv(c_in, c_out, 1, size)
        t.bn(c_out)

    def block(c_in: int, c_out: int, reps: int, stride: int, grow_first: bool = True) -> None:
        nonlocal size
        for i in range(reps):
            if grow_first:
                separable(c_in if i == 0 else c_out, c_out)
            else:
                separable(c_in, c_in if i < reps - 1 else c_out)
        size = down(size, stride)  # MaxPool2d(3, stride, 1)
        if c_out != c_in or stride != 1:  # skip: 1x1 conv with the block's stride + BN
            t.conv(c_in, c_out, 1, size)
            t.bn(c_out)

    block(64, 128, 2, 2)
    block(128, 256, 2, 2)
    block(256, 728, 2, 2)
    for _ in range(8):
        block(728, 728, 3, 1)
    block(728, 1024, 2, 2, grow_first=False)
    separable(1024, 1536)
    separable(1536, 2048)
    t.linear(2048, 1000)
    return t
