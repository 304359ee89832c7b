"""The registry of layer kinds: each kind has one shape rule and one cost formula.

Formulas use arithmetic only (no ``if`` on a size), so the same function returns exact ints for a
concrete layer and sympy expressions for symbolic arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from sepcalc.cost import Cost, Num

Shape: TypeAlias = tuple[Any, ...]
"""(channels, *spatial) of one sample; a flattened tensor is (features,)."""
Attrs: TypeAlias = Mapping[str, Any]
Parts: TypeAlias = list[tuple[str, Cost]]
"""A layer's cost split by the breakdown bucket each part belongs to (e.g. depthwise, pointwise)."""


class ShapeError(Exception):
    """Input shapes that a layer cannot take; the graph adds the layer's name and position."""


def prod(values: Iterable[Num]) -> Num:
    result: Num = 1
    for v in values:
        result = result * v
    return result


def numel(shape: Shape) -> Num:
    return prod(shape)


def exact_div(a: Num, b: Num) -> Num:
    """``a / b`` that stays an int for ints (which must divide) and is exact for symbols."""
    if isinstance(a, int) and isinstance(b, int):
        q, r = divmod(a, b)
        if r:
            raise ShapeError(f"{a} is not divisible by {b}")
        return q
    return a / b


@dataclass(frozen=True)
class LayerKind:
    name: str
    infer: Callable[[Attrs, Sequence[Shape]], Shape]
    cost: Callable[[Attrs, Sequence[Shape], Shape], Parts]
    arity: int | None = 1
    """How many inputs the layer takes (None: two or more)."""
    summary: str = ""


REGISTRY: dict[str, LayerKind] = {}


def register(
    *names: str, infer: Callable[[Attrs, Sequence[Shape]], Shape], arity: int | None = 1
) -> Callable[
    [Callable[[Attrs, Sequence[Shape], Shape], Parts]],
    Callable[[Attrs, Sequence[Shape], Shape], Parts],
]:
    """Register a cost adapter for one or more layer kinds; a name registered twice is a bug."""

    def deco(
        fn: Callable[[Attrs, Sequence[Shape], Shape], Parts],
    ) -> Callable[[Attrs, Sequence[Shape], Shape], Parts]:
        for name in names:
            if name in REGISTRY:
                raise RuntimeError(f"layer kind '{name}' is registered twice")
            REGISTRY[name] = LayerKind(name, infer, fn, arity, (fn.__doc__ or "").strip())
        return fn

    return deco


def same_shape(attrs: Attrs, shapes: Sequence[Shape]) -> Shape:
    return shapes[0]
