"""One cost formula per layer kind, in one registry (:data:`REGISTRY`)."""

from sepcalc.formulas import (  # noqa: F401  (importing a module registers its kinds)
    activation,
    conv,
    dense,
    excite,
    merge,
    norm,
    pooling,
    reshape,
)
from sepcalc.formulas.base import REGISTRY, LayerKind, Parts, Shape, ShapeError

__all__ = ["REGISTRY", "LayerKind", "Parts", "Shape", "ShapeError"]
