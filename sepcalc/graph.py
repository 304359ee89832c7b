"""Build the layer graph from a validated spec: vars, blocks, repeats, inputs, shapes and costs.

Layers are expanded in spec order, so a layer can only take the outputs of layers before it and
the graph is acyclic by construction. Every problem is collected as a diagnostic with the spec
position of the offending key; a layer that fails is skipped, and so are the layers that need
its output (their errors would only repeat the first one).
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

from sepcalc.cost import MAX_COUNT_BITS, Cost, too_large
from sepcalc.errors import Diagnostic, InputError, SpecError, did_you_mean
from sepcalc.expr import (
    FUNCTIONS,
    MAX_BITS,
    ExprError,
    Number,
    UndefinedName,
    Word,
    WordInExpression,
    as_int,
    evaluate,
    show,
)
from sepcalc.formulas import REGISTRY, Attr, LayerKind, Shape, ShapeError
from sepcalc.formulas.base import Example
from sepcalc.spec.loader import MAX_LAYERS, LoadedSpec, Locator, SpecPath, one_of
from sepcalc.spec.models import Block, BlockCall, Each, InvalidEntry, LayerBase, NetworkSpec

FREE_FUNCTION_NAMES = frozenset({"sqrt", "log", "log2", "exp"})
"""Functions added after specs had used their names (MobileNetV3's expansion ``exp``). A call
``exp(x)`` and a name ``exp`` never mix up in an expression, so vars and params may use these."""
RESERVED = frozenset({"i", "in_channels", "input", *FUNCTIONS}) - FREE_FUNCTION_NAMES
"""Names that expressions already give a meaning: the repeat index, the block's input
channels, the input, and the functions (but those above)."""
BLOCK_KEYS = frozenset({*LayerBase.model_fields, "block", "kind"})
"""Keys of a block call that are not arguments, so no block parameter can have their names."""

MAX_DIMS = 3
"""Spatial dimensions of an input at most: 1-D, 2-D and 3-D layers (torch's Conv1d to Conv3d)."""

INPUT = "input"
"""The name of the network's input (and, inside a block, of the block's input)."""
FAILED = ""
"""The source of a layer whose input could not be built: its own entry is still checked."""

COUNT = Attr("repeat", "int", "how many times", low=0)
"""A count that may be 0 (a repeat)."""


@dataclass(frozen=True)
class Instance:
    """One call of a block in the expanded graph."""

    name: str
    """Its full name, the prefix of its layers' names (``stage2.bottleneck1``)."""
    block: str
    """The block it calls."""


@dataclass(frozen=True)
class Node:
    """One layer of the expanded graph, with its shapes and its cost split by bucket."""

    name: str
    kind: str
    attrs: Mapping[str, Any]
    inputs: tuple[str, ...]
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    parts: tuple[tuple[str, Cost], ...]
    path: SpecPath
    within: tuple[Instance, ...] = ()
    """The block instances this layer is in, outermost first (empty at the top level)."""

    @cached_property
    def cost(self) -> Cost:
        return sum((c for _, c in self.parts), Cost())


@dataclass(frozen=True)
class Graph:
    name: str
    input_shape: Shape
    vars: Mapping[str, Number]
    nodes: tuple[Node, ...]

    @property
    def output_shape(self) -> Shape:
        return self.nodes[-1].output_shape if self.nodes else self.input_shape

    def total(self) -> Cost:
        return sum((n.cost for n in self.nodes), Cost())

    def unused(self) -> list[str]:
        """Layers whose output no other layer takes and that are not the network's output.

        They are still counted, but a traced framework (fvcore's jit trace) drops them.
        """
        consumed = {source for node in self.nodes for source in node.inputs}
        return [n.name for n in self.nodes[:-1] if n.name not in consumed]


class _Skip(Exception):
    """This layer cannot be built; its diagnostic (if any) is already recorded."""


@dataclass
class _Scope:
    env: dict[str, Any]
    prefix: str
    input_name: str
    prev: str
    names: dict[str, str] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    later: dict[str, SpecPath] = field(default_factory=dict)
    """Names of the entries not reached yet, for a clear error on a forward reference."""
    failed: set[str] = field(default_factory=set)
    """Names of layers that could not be built: their consumers are skipped silently."""
    written: set[str] = field(default_factory=set)
    """Every name the spec gives a layer or block call in this scope."""
    built: dict[str, list[str]] = field(default_factory=dict)
    """The outputs built from each named entry, in order (the repeats of a repeated one)."""
    owners: dict[str, tuple[SpecPath, bool]] = field(default_factory=dict)
    """The entry that built each local name (an entry's name and its repeats' ``name.i``, a
    block call's instance name), and whether it repeats. Two entries never build the same name;
    they may share one when their ``when`` never hold together (only one of them builds)."""
    attempt: str = ""
    """The local name of the layer or block being built."""
    within: tuple[Instance, ...] = ()
    """The block instances this scope is in, outermost first."""

    def auto_name(self, base: str) -> str:
        """``conv1``, ``conv2``, ...: skipping the names the spec gives its layers."""
        while True:
            self.counters[base] = self.counters.get(base, 0) + 1
            name = f"{base}{self.counters[base]}"
            if name not in self.names and name not in self.written:
                return name


class _Builder:
    def __init__(self, spec: NetworkSpec, locator: Locator, costs: bool = True) -> None:
        self.spec = spec
        self.locator = locator
        self.costs = costs
        self.diagnostics: list[Diagnostic] = []
        self.reported: set[Diagnostic] = set()
        self.nodes: list[Node] = []
        self.shapes: dict[str, Shape | None] = {}
        self.globals: dict[str, Any] = {}
        self.failed_vars: set[str] = set()
        self.blocks_open: list[str] = []
        self.too_many = False
        self.input_dims = 2

    def error(self, path: SpecPath, message: str, *, key: bool = False) -> None:
        diagnostic = self.locator.diagnostic(path, message, key=key)
        if diagnostic not in self.reported:  # a block's problem, once for all its calls
            self.reported.add(diagnostic)
            self.diagnostics.append(diagnostic)

    def word_error(self, word: Word, message: str | None = None) -> None:
        """An error at the block argument that gave a word (once, however often it is used)."""
        self.error(word.origin, f"{_where(word.origin)}: {message or word.undefined}")

    def not_word(self, value: Any) -> Any:
        """The value, unless it is a word where a number or a condition is needed."""
        if isinstance(value, Word):
            self.word_error(value)
            raise _Skip
        return value

    def value(self, path: SpecPath, raw: Any, env: Mapping[str, Any]) -> Any:
        try:
            return evaluate(raw, env)
        except WordInExpression as exc:
            self.word_error(exc.word)
            raise _Skip from None
        except UndefinedName as exc:
            if exc.name not in self.failed_vars:
                self.error(path, f"{_where(path)}: {exc}")
            raise _Skip from None
        except ExprError as exc:
            self.error(path, f"{_where(path)}: {exc}")
            raise _Skip from None

    def integer(
        self, path: SpecPath, raw: Any, env: Mapping[str, Any], decl: Attr | None = None
    ) -> int:
        """An integer of at least ``decl``'s lowest value (default: a positive one)."""
        low = 1 if decl is None else decl.lowest or 0
        high = None if decl is None else decl.high
        if (
            type(raw) is int
            and raw.bit_length() <= MAX_BITS
            and raw >= low
            and (high is None or raw <= high)
        ):
            return raw
        try:
            number = as_int(self.not_word(self.value(path, raw, env)))
        except ExprError as exc:
            self.error(path, f"{_where(path)}: {exc}")
            raise _Skip from None
        if number < low or (high is not None and number > high):
            bound = "positive" if low == 1 and high is None else _range(low, high)
            self.error(path, f"{_where(path)}: must be {bound}, got {number}")
            raise _Skip
        return number

    def resolve_vars(self, overrides: Mapping[str, Number | bool]) -> dict[str, Any]:
        unknown = [name for name in overrides if name not in self.spec.vars]
        if unknown:
            name = unknown[0]
            raise InputError(
                "overrides",
                name,
                f"the spec has no var '{name}'{did_you_mean(name, self.spec.vars)}"
                f" (its vars: {', '.join(self.spec.vars) or 'none'})",
            )
        env: dict[str, Any] = {}
        for name, raw in self.spec.vars.items():
            if not self.usable_name(("vars", name), name, "var"):
                self.failed_vars.add(name)
                continue
            try:
                env[name] = (
                    overrides[name] if name in overrides else self.value(("vars", name), raw, env)
                )
            except _Skip:
                self.failed_vars.add(name)
        return env

    def usable_name(self, path: SpecPath, name: str, what: str) -> bool:
        """A var or block parameter name must be something expressions can refer to."""
        if not name.isidentifier() or keyword.iskeyword(name):
            self.error(path, f"{what} name '{name}' cannot be used in expressions: use letters, "
                       "digits and '_', starting with a letter or '_'", key=True)  # fmt: skip
            return False
        reserved = RESERVED | (BLOCK_KEYS if what == "block parameter" else frozenset())
        if name in reserved:
            self.error(path, f"{what} name '{name}' is reserved", key=True)
            return False
        return True

    def check_block_params(self) -> None:
        for block_name, block in self.spec.blocks.items():
            base = ("blocks", block_name, "params")
            for index, name in enumerate(block.params):
                where = (*base, index) if isinstance(block.params, list) else (*base, name)
                self.usable_name(where, name, "block parameter")

    def input_shape(self, env: Mapping[str, Any]) -> Shape | None:
        spec = self.spec.input
        try:
            channels = self.integer(("input", "channels"), spec.channels, env)
            if isinstance(spec.size, list):
                size = tuple(
                    self.integer(("input", "size", i), s, env) for i, s in enumerate(spec.size)
                )
            else:
                side = self.integer(("input", "size"), spec.size, env)
                size = (side, side)
            if not size:
                self.error(("input", "size"), "input.size: give one size per spatial dimension")
                raise _Skip
            if len(size) > MAX_DIMS:
                self.error(
                    ("input", "size"),
                    f"input.size: {len(size)} spatial dimensions; an input is 1-D, 2-D or 3-D "
                    "(one size per dimension, e.g. [16, 112, 112] for T x H x W)",
                )
                raise _Skip
            self.input_dims = len(size)
        except _Skip:
            return None
        return (channels, *size)

    def expand(self, entries: Sequence[LayerBase], base: SpecPath, scope: _Scope) -> None:
        for index, entry in enumerate(entries):
            if entry.name is not None:
                scope.later.setdefault(entry.name, (*base, index))
                scope.written.add(entry.name)
        for index, entry in enumerate(entries):
            if self.too_many:
                return
            path = (*base, index)
            if entry.name is not None and scope.later.get(entry.name) == path:
                del scope.later[entry.name]
            try:
                repeat = self.integer((*path, "repeat"), entry.repeat, scope.env, COUNT)
            except _Skip:
                scope.prev = FAILED
                continue
            if repeat > MAX_LAYERS:
                self.error(
                    (*path, "repeat"), f"repeat {repeat} is over the {MAX_LAYERS:,}-layer limit"
                )
                scope.prev = FAILED
                continue
            for i in range(repeat):
                if self.too_many:
                    return
                self.repetition(entry, path, scope, i, repeat)

    def repetition(
        self, entry: LayerBase, path: SpecPath, scope: _Scope, i: int, repeat: int
    ) -> None:
        """Repeat ``i`` (of ``repeat``) of a layer entry or block call (search spaces build one
        repeat at a time, with that repeat's choices)."""
        env = {**scope.env, "i": i}
        scope.attempt = ""
        try:
            if entry.when is not None and not self.when((*path, "when"), entry.when, env):
                return
            if isinstance(entry, InvalidEntry):
                raise _Skip
            if isinstance(entry, BlockCall):
                self.call_block(entry, path, scope, env, i if repeat > 1 else None)
            else:
                self.layer(entry, path, scope, env, i if repeat > 1 else None)
        except _Skip:
            scope.prev = FAILED
            scope.failed.update(n for n in (scope.attempt, entry.name) if n)

    def inputs(self, entry: LayerBase, path: SpecPath, scope: _Scope, own: str) -> list[str]:
        if entry.inputs is None:
            return [scope.prev]
        single = not isinstance(entry.inputs, list)
        names: list[str | Each] = entry.inputs if isinstance(entry.inputs, list) else [entry.inputs]
        found: list[str] = []
        for j, name in enumerate(names):
            where = (*path, "inputs") if single else (*path, "inputs", j)
            if isinstance(name, Each):
                found += self.each(name.each, (*where, "each"), scope, own)
            else:
                found.append(self.source(name, where, scope, own))
        return found

    def source(
        self, name: str, where: SpecPath, scope: _Scope, own: str, what: str = "input"
    ) -> str:
        """The graph name of the earlier layer (or input) that ``name`` means in ``scope``."""
        if name == INPUT:
            return scope.input_name
        if name in scope.names:
            return scope.names[name]
        if name in scope.failed:
            return FAILED
        if name == own:
            self.error(where, f"layer '{own}' takes its own output: inputs would form a cycle")
            raise _Skip
        if name in scope.later:
            line, _ = self.locator.position(scope.later[name])
            self.error(
                where,
                f"{what} '{name}' is defined later (line {line}): a layer takes "
                "only earlier layers' outputs, so inputs never form a cycle",
            )
            raise _Skip
        hint = did_you_mean(name, [*scope.names, INPUT])
        self.error(where, f"undefined {what} '{name}'{hint}")
        raise _Skip

    def references(
        self, kind: LayerKind, entry: LayerBase, path: SpecPath, scope: _Scope, own: str
    ) -> list[str]:
        """The layers that the kind's ``layer`` attributes name, in declaration order.

        A referenced layer is resolved as an input is, and joins the node's inputs after the data
        inputs: its output shape reaches the shape rule (and its tensor the torch counterpart).
        """
        found, failed = [], False
        for decl in kind.attrs:
            name = getattr(entry, decl.name) if decl.type == "layer" else None
            if name is None:
                continue
            try:
                found.append(self.source(name, (*path, decl.name), scope, own, "layer"))
            except _Skip:
                failed = True
        if failed:
            raise _Skip
        return found

    def each(self, name: str, where: SpecPath, scope: _Scope, own: str) -> list[str]:
        """The outputs of every layer built from the entry ``name`` (``inputs: {each: name}``)."""
        if name in scope.failed:
            return [FAILED]
        if scope.built.get(name):
            return list(scope.built[name])
        if name == own:
            self.error(where, f"layer '{own}' takes its own output: inputs would form a cycle")
        elif name in scope.later:
            line, _ = self.locator.position(scope.later[name])
            self.error(where, f"'{name}' is defined later (line {line}): a layer takes only "
                       "earlier layers' outputs")  # fmt: skip
        elif name in scope.written:
            self.error(where, f"'{name}' built no layer here (repeat 0, or its when is false "
                       "every time): a layer needs at least one input")  # fmt: skip
        else:
            named = [n for n in scope.written if n not in scope.later]
            self.error(where, f"no layer is named '{name}'{did_you_mean(name, named)}")
        raise _Skip

    def attrs(
        self, kind: LayerKind, entry: LayerBase, path: SpecPath, env: Mapping[str, Any], dims: int
    ) -> dict[str, Any]:
        """The layer's attributes as its kind declares them, every one checked."""
        attrs: dict[str, Any] = {}
        failed = False
        for decl in kind.attrs:
            try:
                attrs[decl.name] = self.attr(decl, getattr(entry, decl.name), path, env, dims)
            except _Skip:
                failed = True
        if failed:
            raise _Skip
        for decl in kind.attrs:
            if decl.default_from is not None and attrs[decl.name] is None:
                attrs[decl.name] = attrs[decl.default_from]
        return attrs

    def attr(self, decl: Attr, raw: Any, path: SpecPath, env: Mapping[str, Any], dims: int) -> Any:
        if raw is None or decl.type == "layer" or (decl.type == "choice" and raw in decl.choices):
            return raw
        if type(raw) is int and decl.type in ("int", "per_dim"):  # integer()'s fast path
            low, high = decl.lowest or 0, decl.high
            if raw.bit_length() <= MAX_BITS and raw >= low and (high is None or raw <= high):
                return raw if decl.type == "int" else (raw,) * dims
        if type(raw) is bool and decl.type == "bool":
            return raw
        where = (*path, decl.name)
        if decl.type == "choice":
            return self.choice(decl, raw, where, env)
        if decl.type in ("per_dim", "per_dim_number"):
            one = self.integer if decl.type == "per_dim" else self.positive
            if isinstance(raw, str) and raw.lower() in decl.choices:
                return raw.lower()
            if isinstance(raw, str) and decl.choices and isinstance(env.get(raw.strip()), Word):
                return self.choice(decl, raw.strip(), where, env)
            if isinstance(raw, list):
                if len(raw) != dims:
                    self.error(where, f"{_where(where)}: {len(raw)} values for a {dims}-D input")
                    raise _Skip
                return tuple(one((*where, j), r, env, decl) for j, r in enumerate(raw))
            return (one(where, raw, env, decl),) * dims
        if decl.type == "int":
            return self.integer(where, raw, env, decl)
        if decl.type == "bool":
            return self.flag(where, raw, env)
        return self.number(where, raw, env, decl)

    def choice(self, decl: Attr, raw: str, where: SpecPath, env: Mapping[str, Any]) -> str:
        """A name for a key that takes one: a block parameter carrying a word (``act: a``)."""
        value = env.get(raw)
        choices = one_of(decl.choices)
        if isinstance(value, Word):
            text = value.text.lower() if decl.type == "per_dim" else value.text
            if text in decl.choices:
                return text
            hint = did_you_mean(value.text, decl.choices)
            self.word_error(
                value,
                f"'{value.text}' is not one of {choices} (block parameter '{raw}', "
                f"taken by {_where(where)}){hint}",
            )
        elif raw in env:
            self.error(where, f"{_where(where)}: '{raw}' is {show(value)}, not one of {choices}")
        else:
            hint = did_you_mean(raw, decl.choices)
            self.error(where, f"{_where(where)}: '{raw}' is not one of {choices}{hint}")
        raise _Skip

    def flag(self, path: SpecPath, raw: Any, env: Mapping[str, Any]) -> bool:
        value = self.not_word(self.value(path, raw, env))
        if not isinstance(value, bool):
            self.error(path, f"{_where(path)}: expected true or false, got {show(value)}")
            raise _Skip
        return value

    def positive(self, path: SpecPath, raw: Any, env: Mapping[str, Any], decl: Attr) -> Any:
        """An exact number (int or Fraction) above 0."""
        value = self.value(path, raw, env)
        if isinstance(value, bool) or not isinstance(value, int | Fraction) or value <= 0:
            self.error(path, f"{_where(path)}: expected a positive number, got {show(value)}")
            raise _Skip
        return value

    def when(self, path: SpecPath, raw: Any, env: Mapping[str, Any]) -> bool:
        """A layer's condition: true or false, or a number that is 0 or 1 (a 0/1 var)."""
        value = self.not_word(self.value(path, raw, env))
        if isinstance(value, bool):
            return value
        if value == 0 or value == 1:
            return bool(value == 1)
        self.error(path, f"{_where(path)}: expected true or false, or 0 or 1, got {show(value)}")
        raise _Skip

    def number(self, path: SpecPath, raw: Any, env: Mapping[str, Any], decl: Attr) -> Any:
        value = self.not_word(self.value(path, raw, env))
        low, high = decl.lowest, decl.high
        if (
            isinstance(value, bool)
            or (low is not None and value < low)
            or (high is not None and value > high)
        ):
            noun = "a probability" if (low, high) == (0, 1) else "a number"
            self.error(
                path, f"{_where(path)}: expected {noun} {_range(low, high)}, got {show(value)}"
            )
            raise _Skip
        return value

    def layer(
        self,
        entry: LayerBase,
        path: SpecPath,
        scope: _Scope,
        env: Mapping[str, Any],
        rep: int | None,
    ) -> None:
        kind_name: str = entry.kind  # type: ignore[attr-defined]
        kind = REGISTRY[kind_name]
        local = entry.name if entry.name is not None else scope.auto_name(kind_name)
        if entry.name is not None and rep is not None:
            local = f"{entry.name}.{rep}"
        name = scope.prefix + local
        scope.attempt = local
        unique = self.unique(entry, path, scope, local)
        sources = self.inputs(entry, path, scope, entry.name or local)
        if kind.arity is not None and len(sources) != kind.arity:
            self.error(
                (*path, "inputs"),
                f"layer '{name}' ({kind_name}) takes exactly "
                f"{kind.arity} input, got {len(sources)}",
            )
            raise _Skip
        if kind.arity is None and len(sources) < 2 and not _has_each(entry):
            earlier = [INPUT, *scope.names]  # the names this layer may take, never its own
            example = ", ".join(earlier[-2:]) if len(earlier) > 1 else f"{INPUT}, <a layer>"
            self.error(
                (*path, "inputs") if entry.inputs else (*path, "kind"),
                f"layer '{name}' ({kind_name}) needs two or more inputs of earlier layers, "
                f"e.g. inputs: [{example}]",
            )
            raise _Skip
        sources += self.references(kind, entry, path, scope, entry.name or local)
        known = [self.shapes.get(s) for s in sources]
        in_shapes = tuple(s for s in known if s is not None)
        dims = len(in_shapes[0]) - 1 if in_shapes else self.input_dims
        attrs = self.attrs(kind, entry, path, env, dims)
        if len(in_shapes) < len(known):
            raise _Skip
        if entry.name == INPUT:
            self.error((*path, "name"), f"the name '{INPUT}' is reserved: it means the input")
            raise _Skip
        if not unique:
            raise _Skip
        if name in self.shapes:
            self.error((*path, "name") if entry.name else path, f"duplicate layer name '{name}'")
            raise _Skip
        if len(self.nodes) >= MAX_LAYERS:
            self.error(path, f"the network expands to more than {MAX_LAYERS:,} layers")
            self.too_many = True
            raise _Skip
        try:
            out = kind.infer(attrs, in_shapes)
            parts = kind.cost(attrs, in_shapes, out) if self.costs else []
        except ShapeError as exc:
            given = exc.attr in entry.model_fields_set
            self.error(
                (*path, exc.attr if given else "kind"), f"layer '{name}' ({kind_name}): {exc}"
            )
            raise _Skip from None
        if too_large(out) or any(too_large(c) for _, c in parts):
            self.error(
                (*path, "kind"),
                f"layer '{name}' ({kind_name}): a count or size is over 2**{MAX_COUNT_BITS} "
                f"(about 10**{MAX_COUNT_BITS * 30103 // 100000}), the most sepcalc counts "
                "for one layer",
            )
            raise _Skip
        self.nodes.append(
            Node(
                name,
                kind_name,
                attrs,
                tuple(sources),
                in_shapes,
                out,
                tuple(parts),
                path,
                scope.within,
            )
        )
        self.shapes[name] = out
        scope.names[local] = name
        if entry.name is not None:
            scope.names[entry.name] = name
        scope.prev = name
        self.claim(entry, path, scope, local)
        if entry.name is not None:
            scope.built.setdefault(entry.name, []).append(name)

    def unique(self, entry: LayerBase, path: SpecPath, scope: _Scope, local: str) -> bool:
        """Whether the names this entry builds (``local``, and the ``name`` its repeats share)
        were built by no other entry of the scope (else an error: ``inputs: a`` would silently
        change meaning with the order of the entries)."""
        for name in dict.fromkeys(n for n in (local, entry.name) if n is not None):
            other, repeats = scope.owners.get(name, (path, False))
            if other == path:
                continue
            line, _ = self.locator.position(other)
            what = "block instance" if isinstance(entry, BlockCall) else "layer"
            named = entry.name or name
            note = (
                f" (a repeated entry named '{named}' builds '{named}.0', '{named}.1', ..., and "
                f"'{named}' means its last repeat)"
                if repeats or (entry.name is not None and local != entry.name)
                else ""
            )
            block = f" in block '{scope.within[-1].block}'" if scope.within else ""
            self.error(
                (*path, "name") if entry.name else path,
                f"duplicate {what} name '{name}'{block}: the entry at line {line} builds it "
                f"too{note}",
            )
            return False
        return True

    def claim(self, entry: LayerBase, path: SpecPath, scope: _Scope, local: str) -> None:
        for name in (local, entry.name):
            if name is not None:
                scope.owners[name] = (path, entry.name is not None and local != entry.name)

    def call_block(
        self,
        call: BlockCall,
        path: SpecPath,
        scope: _Scope,
        env: Mapping[str, Any],
        rep: int | None,
    ) -> None:
        block = self.spec.blocks.get(call.block)
        if block is None:
            hint = did_you_mean(call.block, self.spec.blocks)
            self.error((*path, "block"), f"undefined block '{call.block}'{hint}")
            raise _Skip
        if call.block in self.blocks_open:
            chain = " -> ".join(
                [*self.blocks_open[self.blocks_open.index(call.block) :], call.block]
            )
            self.error((*path, "block"), f"block '{call.block}' calls itself ({chain})")
            raise _Skip
        instance = call.name if call.name is not None else scope.auto_name(call.block)
        if call.name is not None and rep is not None:
            instance = f"{call.name}.{rep}"
        scope.attempt = instance
        if not self.unique(call, path, scope, instance):
            raise _Skip
        sources = self.inputs(call, path, scope, call.name or instance)
        if len(sources) != 1:
            self.error((*path, "inputs"), f"block '{call.block}' takes one input")
            raise _Skip
        bound = self.bind(block, call, path, env)
        shape = self.shapes.get(sources[0])
        if shape is None:
            raise _Skip
        block_env = {**self.globals, INPUT_CHANNELS: shape[0], **bound}
        inner = _Scope(block_env, f"{scope.prefix}{instance}.", sources[0], sources[0])
        inner.within = (*scope.within, Instance(scope.prefix + instance, call.block))
        self.blocks_open.append(call.block)
        try:
            self.expand(block.layers, ("blocks", call.block, "layers"), inner)
        finally:
            self.blocks_open.pop()
        if not inner.prev:
            raise _Skip
        scope.prev = inner.prev
        scope.names[instance] = inner.prev
        self.claim(call, path, scope, instance)
        if call.name is not None:
            scope.names[call.name] = inner.prev
            scope.built.setdefault(call.name, []).append(inner.prev)

    def bind(
        self, block: Block, call: BlockCall, path: SpecPath, env: Mapping[str, Any]
    ) -> dict[str, Any]:
        params = dict.fromkeys(block.params) if isinstance(block.params, list) else block.params
        args = dict(call.model_extra or {})
        bound: dict[str, Any] = {}
        failed = False
        for name in args:
            if name not in params:
                hint = did_you_mean(name, params)
                self.error(
                    (*path, name), f"block '{call.block}' has no parameter '{name}'{hint}", key=True
                )
                failed = True
        for name, default in params.items():
            try:
                if name in args:
                    bound[name] = self.argument((*path, name), args[name], env)
                elif default is not None:
                    bound[name] = self.argument(
                        ("blocks", call.block, "params", name), default, {**self.globals, **bound}
                    )
                else:
                    self.error(path, f"block '{call.block}' needs parameter '{name}'")
                    failed = True
            except _Skip:
                failed = True
        if failed:
            raise _Skip
        return bound

    def argument(self, path: SpecPath, raw: Any, env: Mapping[str, Any]) -> Any:
        """A block argument: a value, or a word (a bare name that no var or parameter has)."""
        if isinstance(raw, str):
            text = raw.strip()
            bare = text.isidentifier() and not keyword.iskeyword(text)
            if bare and text not in env and text not in FUNCTIONS:
                return Word(text, path, did_you_mean(text, env))
        return self.value(path, raw, env)


INPUT_CHANNELS = "in_channels"
"""Inside a block, the number of channels entering the block."""


def _has_each(entry: LayerBase) -> bool:
    """Whether the entry's inputs use ``{each: ...}`` (then a single input is allowed: a merge
    over a repeat that ran once passes its one input through)."""
    refs = entry.inputs if isinstance(entry.inputs, list) else [entry.inputs]
    return any(isinstance(r, Each) for r in refs)


def _where(path: SpecPath) -> str:
    return ".".join(str(p) for p in path)


def _range(low: int | None, high: int | None) -> str:
    if high is None:
        return f"at least {low}"
    if low is None:
        return f"at most {high}"
    return f"from {low} to {high}"


def build_graph(
    loaded: LoadedSpec, overrides: Mapping[str, Number | bool] | None = None, *, costs: bool = True
) -> Graph:
    """Expand a loaded spec into its layer graph; raises SpecError with every problem found.

    ``costs=False`` leaves the cost formulas out (every node's ``parts`` empty), and with them
    only their own errors: the layers, attrs and shapes of a caller that counts the costs
    itself (the grid's replay), in about two thirds of the time.
    """
    spec, builder = loaded.spec, _Builder(loaded.spec, loaded.locator, costs)
    builder.globals = builder.resolve_vars(overrides or {})
    builder.check_block_params()
    shape = builder.input_shape(builder.globals)
    builder.shapes[INPUT] = shape
    builder.expand(spec.layers, ("layers",), _Scope(dict(builder.globals), "", INPUT, INPUT))
    builder.diagnostics += loaded.problems
    if builder.diagnostics:
        raise SpecError(builder.diagnostics)
    assert shape is not None
    return Graph(spec.name, shape, dict(builder.globals), tuple(builder.nodes))


def example_graph(example: Example) -> Graph:
    """The graph of a kind's declared example: its input (flattened for a flat example), then
    the layer."""
    import json

    from sepcalc.spec.loader import parse_yaml, validate

    flat = [] if example.size else [{"kind": "flatten"}]
    spec = {
        "name": "example",
        "input": {"channels": example.channels, "size": list(example.size) or [1]},
        "layers": [*flat, dict(example.layer)],
    }
    data, locator = parse_yaml(json.dumps(spec), f"<{example.layer.get('kind')} example>")
    return build_graph(LoadedSpec(validate(data, locator), locator))
