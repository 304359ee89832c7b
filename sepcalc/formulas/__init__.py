"""Every layer kind, declared once, in one registry (:data:`REGISTRY`)."""

from sepcalc.formulas import (
    activation,
    attention,
    conv,
    dense,
    excite,
    merge,
    norm,
    pooling,
    reshape,
)
from sepcalc.formulas.base import REGISTRY, Attr, LayerKind, Parts, Shape, ShapeError

FAMILIES = (conv, dense, norm, activation, pooling, excite, attention, merge, reshape)
"""The modules that declare kinds, in the order kinds are listed (docs, ``formula --list``)."""


def _in_family_order() -> None:
    order = {module.__name__: i for i, module in enumerate(FAMILIES)}
    for kind in sorted(REGISTRY.values(), key=lambda k: order[k.cost.__module__]):
        REGISTRY[kind.name] = REGISTRY.pop(kind.name)


_in_family_order()

__all__ = ["FAMILIES", "REGISTRY", "Attr", "LayerKind", "Parts", "Shape", "ShapeError"]
