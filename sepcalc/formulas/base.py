"""The registry of layer kinds: each kind is declared once, with everything sepcalc knows of it.

A :class:`LayerKind` holds a kind's attributes (types, defaults, bounds), its shape rule, its
cost formula, its breakdown buckets, its symbolic view, its torch counterpart (as plain data)
and small examples. The spec models, the graph builder, the symbolic views, the exporter, the
cross-check and the docs tables all read these declarations; none keeps a per-kind table.

Formulas use arithmetic only (no ``if`` on a size), so the same function returns exact ints for a
concrete layer and sympy expressions for symbolic arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, TypeAlias

from sepcalc.cost import Cost, Num

if TYPE_CHECKING:
    from sepcalc.formulas.torchplan import Call
    from sepcalc.formulas.view import View

Shape: TypeAlias = tuple[Any, ...]
"""(channels, *spatial) of one sample; a flattened tensor is (features,)."""
Attrs: TypeAlias = Mapping[str, Any]
Parts: TypeAlias = list[tuple[str, Cost]]
"""A layer's cost split by the breakdown bucket each part belongs to (e.g. depthwise, pointwise)."""
Infer: TypeAlias = Callable[[Attrs, Sequence[Shape]], Shape]
Formula: TypeAlias = Callable[[Attrs, Sequence[Shape], Shape], Parts]


class ShapeError(Exception):
    """Input shapes that a layer cannot take; the graph adds the layer's name and position.

    ``attr`` names the attribute that causes the problem (``stride``, ``groups``, ``inputs``),
    so the error points at it in the spec.
    """

    def __init__(self, message: str, attr: str = "kind") -> None:
        super().__init__(message)
        self.attr = attr


class Layer(Protocol):
    """What a torch counterpart reads of a built layer (a graph node satisfies it)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def attrs(self) -> Attrs: ...
    @property
    def input_shapes(self) -> tuple[Shape, ...]: ...
    @property
    def output_shape(self) -> Shape: ...


ToTorch: TypeAlias = Callable[[Layer], "Call"]


class Traffic(NamedTuple):
    """The elements one layer moves for one sample, whatever their data type (the device model,
    :mod:`sepcalc.device`, turns them into bytes, a batch and times).

    ``read + weights + written`` is the memory access cost as ShuffleNetV2 (arXiv 1807.11164,
    Eq. 1) defines it: for a 1x1 conv of c1 -> c2 channels at h x w, hw(c1 + c2) + c1*c2.
    """

    read: Num
    """Elements of the input tensors read, and of any intermediate tensor read back."""
    weights: Num
    """Parameters read (once per batch)."""
    written: Num
    """Elements written: the output and any intermediate tensor."""
    workspace: Num = 0
    """Elements of intermediate tensors held while the layer runs, besides its inputs and its
    output (a separable layer's middle tensor, attention's scores)."""
    in_place: Num | None = None
    """The scratch elements the layer needs when it overwrites its input as it goes (TinyEngine's
    in-place depthwise: one output channel); None when it cannot run in place."""
    data_inputs: int | None = None
    """How many of the node's inputs it reads (None: all); a ``like`` reference is only a
    shape."""
    view: bool = False
    """The output is a view of the first input (slice, flatten, dropout): nothing moves and no
    memory is allocated."""


TrafficRule: TypeAlias = Callable[[Attrs, Sequence[Shape], Shape, Cost], Traffic]
"""A kind's bytes-moved rule: attributes, input shapes, output shape and the layer's cost."""


def default_traffic(attrs: Attrs, inputs: Sequence[Shape], out: Shape, cost: Cost) -> Traffic:
    """Reads every input, the parameters and back every intermediate tensor; writes every
    tensor it produces (``cost.activations``: the output and the intermediates); holds the
    intermediates as workspace.

    That is the ShuffleNetV2 memory access cost of a conv or linear layer (its output is its
    only tensor: fused norms and activations run in place), and of norms, activations,
    pooling, adds and concats.
    """
    intermediates = cost.activations - numel(out)
    return Traffic(
        read=sum((numel(s) for s in inputs), 0) + intermediates,
        weights=cost.params,
        written=cost.activations,
        workspace=intermediates,
    )


def view_traffic(attrs: Attrs, inputs: Sequence[Shape], out: Shape, cost: Cost) -> Traffic:
    """A view of its input: moves nothing, allocates nothing."""
    return Traffic(0, 0, 0, view=True)


AttrType: TypeAlias = Literal[
    "int", "per_dim", "per_dim_number", "bool", "number", "choice", "layer"
]
"""``int``: an integer or expression; ``per_dim``: one such value for every spatial dimension
(or one for all); ``per_dim_number``: one exact positive number (int or decimal) per spatial
dimension (or one for all); ``bool``: true/false or an expression; ``number``: an exact number
(int or decimal); ``choice``: one of ``choices`` (a name, never an expression); ``layer``: the
name of an earlier layer (or ``input``), resolved as an input is: the graph appends that layer to
the node's inputs, after the data inputs (so the shape rule receives its output shape last, and
the torch counterpart its tensor), and the attribute keeps the name as the spec writes it."""


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""The default of an attribute the spec must give."""


@dataclass(frozen=True)
class Attr:
    """One attribute of a layer kind, as the spec writes it."""

    name: str
    type: AttrType
    doc: str
    default: Any = REQUIRED
    low: int | None = None
    """Smallest value (ints and per-dimension ints: default 1; numbers: none)."""
    high: int | None = None
    """Largest value (none by default)."""
    choices: tuple[str, ...] = ()
    """The names a ``choice`` accepts (or the words a ``per_dim`` accepts instead of numbers,
    e.g. padding: same, valid)."""
    default_from: str | None = None
    """When not given, the value of this other attribute (a pool's stride: its kernel)."""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def lowest(self) -> int | None:
        if self.low is not None:
            return self.low
        return 1 if self.type in ("int", "per_dim") else None


@dataclass(frozen=True)
class Example:
    """A small valid layer of a kind: the generic tests build, cost and cross-check it."""

    layer: Mapping[str, Any]
    """The layer entry as in a spec (``kind`` included)."""
    channels: int = 8
    size: tuple[int, ...] = (8, 8)
    """The input's channels and spatial size (every input of a merge layer is the input);
    ``()`` for a flat vector of ``channels`` features."""


@dataclass(frozen=True)
class LayerKind:
    """Everything sepcalc knows of one layer kind."""

    name: str
    summary: str
    attrs: tuple[Attr, ...]
    infer: Infer
    cost: Formula
    buckets: tuple[str, ...]
    """The breakdown buckets (``by_kind`` keys) its parts may go to."""
    torch: ToTorch
    """Its PyTorch counterpart as a constructor call (plain data, see :mod:`.torchplan`)."""
    flops: str
    """What it counts besides MACs, in words (the docs' table of kinds)."""
    examples: tuple[Example, ...]
    view: View | None = None
    """Its symbolic view (``sepcalc formula``); None for a kind with no parameters and no
    arithmetic."""
    arity: int | None = 1
    """How many inputs the layer takes (None: two or more)."""
    traffic: TrafficRule = default_traffic
    """The elements it reads, writes and holds (bytes moved, peak memory): the generic
    :func:`default_traffic` unless the kind declares its own."""

    @property
    def attr_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attrs)


REGISTRY: dict[str, LayerKind] = {}

FUSED = ("batchnorm", "layernorm", "groupnorm", "activation")
"""The buckets of a norm and activation fused after a layer (``norm:``/``act:`` keys)."""


def declare(
    *names: str,
    attrs: Sequence[Attr],
    infer: Infer,
    buckets: Sequence[str],
    torch: ToTorch,
    flops: str,
    examples: Sequence[Example],
    view: View | Callable[[str], View | None] | None = None,
    arity: int | None = 1,
    summary: str | Callable[[str], str] | None = None,
    traffic: TrafficRule = default_traffic,
) -> Callable[[Formula], Formula]:
    """Declare one or more layer kinds whose cost is the decorated formula.

    The summary is the formula's docstring unless given (a function of the kind's name for a
    declaration of several kinds, like ``view``). A name declared twice is a bug.
    """

    def deco(fn: Formula) -> Formula:
        for name in names:
            if name in REGISTRY:
                raise RuntimeError(f"layer kind '{name}' is declared twice")
            text = summary(name) if callable(summary) else summary
            REGISTRY[name] = LayerKind(
                name=name,
                summary=text if text is not None else (fn.__doc__ or "").strip(),
                attrs=tuple(attrs),
                infer=infer,
                cost=fn,
                buckets=tuple(buckets),
                torch=torch,
                flops=flops,
                examples=tuple(
                    e
                    if e.layer.get("kind") == name
                    else Example({**e.layer, "kind": name}, e.channels, e.size)
                    for e in examples
                ),
                view=view(name) if callable(view) else view,
                arity=arity,
                traffic=traffic,
            )
        return fn

    return deco


def buckets() -> frozenset[str]:
    """Every breakdown bucket any declared kind can report (the keys ``by_kind`` may have)."""
    return frozenset(b for kind in REGISTRY.values() for b in kind.buckets)


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


def same_shape(attrs: Attrs, shapes: Sequence[Shape]) -> Shape:
    """The input's shape."""
    return shapes[0]


def spatial(shape: Shape) -> Shape:
    """The spatial size of an input, which must have one."""
    if len(shape) < 2:
        raise ShapeError(f"needs an input with spatial dimensions, got shape {list(shape)}")
    return shape[1:]
