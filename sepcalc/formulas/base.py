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
    buckets: tuple[str, ...] = ()
    """The breakdown buckets (``by_kind`` keys) its parts may go to."""


REGISTRY: dict[str, LayerKind] = {}


FUSED = ("batchnorm", "activation")
"""The buckets of a norm and activation fused after a layer (``norm:``/``act:`` keys)."""


def register(
    *names: str,
    infer: Callable[[Attrs, Sequence[Shape]], Shape],
    buckets: Sequence[str],
    arity: int | None = 1,
) -> Callable[
    [Callable[[Attrs, Sequence[Shape], Shape], Parts]],
    Callable[[Attrs, Sequence[Shape], Shape], Parts],
]:
    """Register a cost adapter for one or more layer kinds; a name registered twice is a bug.

    ``buckets`` declares where the adapter's parts may go in the breakdown by kind.
    """

    def deco(
        fn: Callable[[Attrs, Sequence[Shape], Shape], Parts],
    ) -> Callable[[Attrs, Sequence[Shape], Shape], Parts]:
        for name in names:
            if name in REGISTRY:
                raise RuntimeError(f"layer kind '{name}' is registered twice")
            summary = (fn.__doc__ or "").strip()
            REGISTRY[name] = LayerKind(name, infer, fn, arity, summary, tuple(buckets))
        return fn

    return deco


def buckets() -> frozenset[str]:
    """Every breakdown bucket any registered kind can report (the keys ``by_kind`` may have)."""
    return frozenset(b for kind in REGISTRY.values() for b in kind.buckets)


def same_shape(attrs: Attrs, shapes: Sequence[Shape]) -> Shape:
    return shapes[0]
