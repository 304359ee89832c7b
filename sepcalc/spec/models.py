"""The spec format as pydantic models: what keys exist, their types and defaults.

Integer fields accept a number or an expression string (see :mod:`sepcalc.expr`); expressions
are evaluated later, when the graph is built with the spec's vars.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args

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


def _annotation(attr: Attr) -> Any:
    if attr.type == "choice":
        choice: Any = Literal[attr.choices] | ParamName
        return choice | None if attr.default is None else choice
    annotation = _TYPES[attr.type]
    return annotation | None if attr.default is None else annotation


_TYPES: dict[str, Any] = {
    "int": IntExpr,
    "per_dim": PerDim,
    "per_dim_number": PerDimNumber,
    "bool": BoolExpr,
    "number": NumExpr,
    "layer": StrictStr,
}


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


LAYER_MODELS: tuple[type[LayerBase], ...] = tuple(_layer_model(g) for g in _declarations())
MODEL_OF_KIND: dict[str, type[LayerBase]] = {
    kind: model
    for model in LAYER_MODELS
    for kind in get_args(model.model_fields["kind"].annotation)
}


def _layer_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return "block" if "block" in value else value.get("kind")
    return "block" if isinstance(value, BlockCall) else getattr(value, "kind", None)


if TYPE_CHECKING:
    LayerEntry = LayerBase
else:
    LayerEntry = Annotated[
        Union[
            (
                *(Annotated[model, Tag(kind)] for kind, model in MODEL_OF_KIND.items()),
                Annotated[BlockCall, Tag("block")],
            )
        ],
        Discriminator(_layer_tag),
    ]


class Block(Strict):
    params: list[StrictStr] | dict[StrictStr, StrictBool | NumExpr | None] = Field(
        default_factory=list
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
    vars: dict[StrictStr, StrictBool | NumExpr] = Field(default_factory=dict)
    blocks: dict[StrictStr, Block] = Field(default_factory=dict)
    layers: list[LayerEntry] = Field(min_length=1)
    budget: dict[StrictStr, StrictInt | StrictFloat | StrictStr] | None = None
    """Upper bounds checked by ``sepcalc check`` (e.g. macs: 600M)."""
