"""Data types, their sizes in bytes, and the precision a network runs at (weights, activations)."""

from __future__ import annotations

from dataclasses import dataclass

from sepcalc.errors import SepcalcError, did_you_mean

DTYPES: dict[str, int] = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}
"""Every data type and its size in bytes."""


def dtype_bytes(name: str) -> int:
    """The size of one element of ``name``; a SepcalcError names the known types."""
    try:
        return DTYPES[name]
    except KeyError:
        raise SepcalcError(
            f"unknown data type '{name}'{did_you_mean(name, DTYPES)}; choose one of: "
            f"{', '.join(DTYPES)}"
        ) from None


@dataclass(frozen=True)
class Precision:
    """The data types of the parameters (``weights``) and of the tensors (``activations``).

    Every parameter (weights, biases, norm scales) is stored at ``weights``: a deployment that
    folds BatchNorm into the conv before it stores fewer (docs/device.md). Compute runs at the
    activations' type (weight-only quantization dequantizes the weights to it).
    """

    weights: str = "fp32"
    activations: str = "fp32"

    def __post_init__(self) -> None:
        dtype_bytes(self.weights)
        dtype_bytes(self.activations)

    @property
    def weight_bytes(self) -> int:
        return DTYPES[self.weights]

    @property
    def activation_bytes(self) -> int:
        return DTYPES[self.activations]

    @property
    def compute(self) -> str:
        """The type the arithmetic runs at: the activations'."""
        return self.activations

    def __str__(self) -> str:
        if self.weights == self.activations:
            return self.weights
        return f"weights {self.weights}, activations {self.activations}"
