"""The names of the layer symbols of the symbolic views and what each means (no sympy: the
``formula`` command's help lists them)."""

from __future__ import annotations

SYMBOL_MEANINGS: dict[str, str] = {
    "C_in": "input channels",
    "C_out": "output channels",
    "C_se": "hidden (squeeze) channels of squeeze-and-excitation",
    "k": "kernel size (square k x k kernel)",
    "k_h": "kernel height",
    "k_w": "kernel width",
    "H": "feature map height (see each kind's note on sizes)",
    "W": "feature map width",
    "s": "stride",
    "g": "groups",
    "m": "depth multiplier of a depthwise convolution",
    "n_h": "attention heads (they divide C_in)",
}
"""What each layer symbol means; every one is a positive integer."""
