"""The spec format as pydantic models: what keys exist, their types and defaults.

Integer fields accept a number or an expression string (see :mod:`sepcalc.expr`); expressions
are evaluated later, when the graph is built with the spec's vars.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from types import GenericAlias
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    Tag,
    create_model,
    field_validator,
)
from pydantic_core import PydanticCustomError

from sepcalc.formulas import REGISTRY, Attr, LayerKind

IntExpr = StrictInt | StrictStr
NumExpr = StrictInt | StrictFloat | StrictStr
PerDim = IntExpr | list[IntExpr]
PerDimNumber = NumExpr | list[NumExpr]
BoolExpr = StrictBool | StrictStr
BlockArgument = StrictBool | NumExpr
"""A block argument: a number, true/false, an expression, or a name (``act: relu``)."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*$"
Name = Annotated[str, StringConstraints(strict=True, pattern=NAME_PATTERN)]
"""A layer name: letters, digits, '_' and '-', so it is safe in every output format."""


class Each(Strict):
    """``{each: name}`` in ``inputs``: every layer (or block call) built from the entry with
    that name, in order: all the repeats of a repeated entry, however many there are."""

    each: StrictStr


InputRef = StrictStr | Each


def _input_ref(item: Any) -> Any:
    if isinstance(item, str | Each):
        return item
    if isinstance(item, dict) and list(item) == ["each"] and isinstance(item["each"], str):
        return Each(each=item["each"])
    raise PydanticCustomError(
        "input_ref", "expected a layer name, 'each: <name>', or a list of them"
    )


class LayerBase(Strict):
    name: Name | None = None
    inputs: InputRef | list[InputRef] | None = None
    """Names of the layers this one takes; default: the previous layer."""

    @field_validator("inputs", mode="before")
    @classmethod
    def _inputs(cls, value: Any) -> Any:
        """One message for a wrong input, rather than one per member of the union."""
        if value is None:
            return value
        if isinstance(value, list):
            return [_input_ref(item) for item in value]
        return _input_ref(value)

    repeat: IntExpr = 1
    """Stack this layer (or block) n times; `i` is the 0-based repeat index in expressions."""
    when: StrictBool | StrictInt | StrictStr | None = None
    """Keep this layer only where the expression is true, or 1 (e.g. a residual add); false or
    0 drops it."""


class BlockCall(LayerBase):
    """``{block: name, arg: value, ...}``: the block's layers with its params bound."""

    model_config = ConfigDict(extra="allow", frozen=True)
    block: StrictStr
    __pydantic_extra__: dict[str, BlockArgument] = Field(init=False)
    """The arguments, typed as a block parameter's default is: a list or a mapping is refused
    here, before it is used (an alias can make one of any size)."""


class InvalidEntry(LayerBase):
    """A layer entry that failed validation (its errors are already reported): the graph
    builds nothing for it and skips, silently, the layers that need its output."""


ParamName = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
"""A key that takes a name (``act``) may instead name a block parameter that carries one
(``act: a``); the graph builder checks the name it carries against the key's choices."""


class _Reused:
    """A field type's pydantic core schema, made for its first field and reused by the others.

    pydantic makes the schema of a type again for every field that has it: for every
    attribute of every kind, the most of building a spec model. The types marked here are the
    attributes' (numbers, expressions, names) and need nothing of the field or the model: the
    layer models share one config.
    """

    def __init__(self) -> None:
        self.schema: Any = None

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        if self.schema is None:
            self.schema = handler(source)
        return self.schema


_BASE_TYPES: dict[str, Any] = {
    "int": IntExpr,
    "per_dim": PerDim,
    "per_dim_number": PerDimNumber,
    "bool": BoolExpr,
    "number": NumExpr,
    "layer": StrictStr,
}
_TYPES: dict[tuple[str | tuple[str, ...], bool], Any] = {}
"""The annotation of each attribute type (a choice: of its names) and optional (default
None), made once."""


def _annotation(attr: Attr) -> Any:
    optional = attr.default is None
    key = (attr.choices if attr.type == "choice" else attr.type, optional)
    if key not in _TYPES:
        base: Any = (
            Literal[attr.choices] | ParamName if attr.type == "choice" else _BASE_TYPES[attr.type]
        )
        _TYPES[key] = Annotated[base | None if optional else base, _Reused()]
    return _TYPES[key]


def _layer_model(kinds: Sequence[LayerKind]) -> type[LayerBase]:
    """The spec model of the kinds of one declaration (they share their attributes)."""
    fields: dict[str, Any] = {"kind": (Literal[tuple(k.name for k in kinds)], ...)}
    for attr in kinds[0].attrs:
        default = ... if attr.required else attr.default
        fields[attr.name] = (_annotation(attr), Field(default, description=attr.doc))
    name = "".join(part.title() for part in kinds[0].name.split("_")) + "Layer"
    model: type[LayerBase] = create_model(name, __base__=LayerBase, **fields)
    return model


def _declarations() -> list[list[LayerKind]]:
    """The declared kinds, grouped by declaration (kinds that share a formula)."""
    groups: dict[object, list[LayerKind]] = {}
    for kind in REGISTRY.values():
        groups.setdefault(kind.cost, []).append(kind)
    return list(groups.values())


class _Models(Mapping[str, type[LayerBase]]):
    """The spec model of each kind, by kind, made the first time it is asked for (a spec uses
    a few of the kinds; making the models of all of them was a tenth of a plain ``analyze``'s
    start-up). The kinds of one declaration share one model."""

    def __init__(self) -> None:
        self._group = {k.name: tuple(g) for g in _declarations() for k in g}
        self._made: dict[str, type[LayerBase]] = {}

    def __getitem__(self, kind: str) -> type[LayerBase]:
        group = self._group[kind]
        first = group[0].name
        if first not in self._made:
            self._made[first] = _layer_model(group)
        return self._made[first]

    def __contains__(self, kind: object) -> bool:
        return kind in self._group  # not Mapping's, which would make the model

    def __iter__(self) -> Iterator[str]:
        return iter(self._group)

    def __len__(self) -> int:
        return len(self._group)


MODEL_OF_KIND: Mapping[str, type[LayerBase]] = _Models()


def _layer_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return "block" if "block" in value else value.get("kind")
    return "block" if isinstance(value, BlockCall) else getattr(value, "kind", None)


def _entry_union(kinds: Sequence[str]) -> Any:
    """A layer entry of one of ``kinds``, or a block call, told apart by its ``kind``."""
    return Annotated[
        Union[
            (
                *(Annotated[MODEL_OF_KIND[kind], Tag(kind)] for kind in kinds),
                Annotated[BlockCall, Tag("block")],
            )
        ],
        Discriminator(_layer_tag),
    ]


if TYPE_CHECKING:
    LayerEntry = LayerBase
# Otherwise LayerEntry (every kind) is defined by network_model(None) when the full model is
# first needed: the annotations below name it, and pydantic resolves them then.


def _empty_list() -> list[Any]:
    """A new ``[]``, as a default factory whose signature pydantic reads cheaply: the builtins'
    (``list``, ``dict``) are parsed from their text signatures, which compiles tokenize's
    patterns, milliseconds of every start."""
    return []


def _empty_dict() -> dict[Any, Any]:
    """A new ``{}`` (see :func:`_empty_list`)."""
    return {}


class Block(Strict):
    params: list[StrictStr] | dict[StrictStr, StrictBool | NumExpr | None] = Field(
        default_factory=_empty_list
    )
    """Parameter names, or names with defaults (null: required)."""
    layers: list[LayerEntry] = Field(min_length=1)


class Input(Strict):
    channels: IntExpr
    size: PerDim
    """Spatial size: one number per dimension (1-D, 2-D, 3-D), or one number for a square 2-D."""


class NetworkSpec(Strict):
    name: StrictStr = "network"
    description: StrictStr | None = None
    input: Input
    vars: dict[StrictStr, StrictBool | NumExpr] = Field(default_factory=_empty_dict)
    blocks: dict[StrictStr, Block] = Field(default_factory=_empty_dict)
    layers: list[LayerEntry] = Field(min_length=1)
    budget: dict[StrictStr, StrictInt | StrictFloat | StrictStr] | None = None
    """Upper bounds checked by ``sepcalc check`` (e.g. macs: 600M)."""


PLACEHOLDER_KIND = "flatten"
"""The kind of the stand-in the loader puts in place of a broken layer entry."""


def layer_kinds(data: Any) -> frozenset[str] | None:
    """Every kind the layer entries of a parsed spec name, or None when an entry is not a
    plain layer or block call of a known kind (then only the full model words its error)."""
    if not isinstance(data, dict):
        return None
    lists = [data.get("layers")]
    blocks = data.get("blocks", {})
    if not isinstance(blocks, dict):
        return None
    lists += [b.get("layers") if isinstance(b, dict) else None for b in blocks.values()]
    kinds = set()
    for entries in lists:
        if not isinstance(entries, list):
            return None
        for entry in entries:
            if isinstance(entry, dict) and "block" in entry:
                continue
            kind = entry.get("kind") if isinstance(entry, dict) else None
            if not isinstance(kind, str) or kind not in MODEL_OF_KIND:
                return None
            kinds.add(kind)
    return frozenset(kinds)


@lru_cache(maxsize=32)
def _network_of(kinds: frozenset[str]) -> type[NetworkSpec]:
    union = _entry_union([k for k in MODEL_OF_KIND if k in kinds | {PLACEHOLDER_KIND}])
    entries: Any = GenericAlias(list, (union,))
    block: Any = create_model("Block", __base__=Block, layers=(entries, Field(min_length=1)))
    model: type[NetworkSpec] = create_model(
        "NetworkSpec",
        __base__=NetworkSpec,
        blocks=(dict[StrictStr, block], Field(default_factory=_empty_dict)),
        layers=(entries, Field(min_length=1)),
    )
    return model


def network_model(kinds: frozenset[str] | None) -> type[NetworkSpec]:
    """The spec model for a spec whose layers are of ``kinds`` (see :func:`layer_kinds`).

    The same layer models as the full :class:`NetworkSpec`, so the same values and the same
    errors, in a union of just those kinds: only their models are made and only their
    validators built. None: the full model, every kind (made on first use).
    """
    if kinds is not None:
        return _network_of(kinds)
    if "LayerEntry" not in globals():
        globals()["LayerEntry"] = _entry_union(list(MODEL_OF_KIND))
        Block.model_rebuild()
        NetworkSpec.model_rebuild()
    return NetworkSpec


def layer_entry() -> Any:
    """The type of one layer entry: a layer of any kind or a block call (the full union)."""
    network_model(None)
    return globals()["LayerEntry"]
