"""Load a spec file: safe YAML with positions, validated by pydantic, errors as diagnostics."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sepcalc import zoo
from sepcalc.errors import (
    Diagnostic,
    SearchSpaceSpec,
    SepcalcError,
    SpecError,
    brief,
    did_you_mean,
)
from sepcalc.expr import MAX_BITS
from sepcalc.formulas import REGISTRY
from sepcalc.spec.models import (
    MODEL_OF_KIND,
    NAME_PATTERN,
    InvalidEntry,
    LayerBase,
    NetworkSpec,
    layer_kinds,
    network_model,
)
from sepcalc.textfile import read_text

SpecPath = tuple[str | int, ...]

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Locator:
    """Maps a path of keys and indexes in the YAML document to a line and column."""

    file: str
    root: yaml.Node | None

    def position(self, path: SpecPath, *, key: bool = False) -> tuple[int, int]:
        """Where the value at ``path`` (or its key, with ``key=True``) starts.

        A path that does not exist in the document falls back to its nearest existing parent.
        """
        node, mark = self.root, self.root.start_mark if self.root else None
        for part in path:
            found = None
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if k.value == part or (isinstance(part, int) and k.value == str(part)):
                        found, mark = (
                            v,
                            (k.start_mark if key and part == path[-1] else v.start_mark),
                        )
                        break
            elif isinstance(node, yaml.SequenceNode) and _has_index(node, part):
                found = node.value[int(part)]
                mark = found.start_mark
            if found is None:
                break
            node = found
        return (mark.line + 1, mark.column + 1) if mark else (0, 0)

    def diagnostic(self, path: SpecPath, message: str, *, key: bool = False) -> Diagnostic:
        line, col = self.position(path, key=key)
        return Diagnostic(self.file, line, col, message)


@dataclass(frozen=True)
class LoadedSpec:
    spec: NetworkSpec
    locator: Locator
    problems: tuple[Diagnostic, ...] = ()
    """Errors in layer entries, each replaced by an :class:`InvalidEntry` in ``spec`` so that
    the rest of the spec is still built and checked; building the graph reports them."""


def _repeated_keys(node: yaml.MappingNode) -> list[yaml.Node]:
    seen: set[str] = set()
    repeated = []
    for k, _ in node.value:
        if k.value in seen:
            repeated.append(k)
        seen.add(k.value)
    return repeated


_STR, _SEQ, _MAP, _INT = (f"tag:yaml.org,2002:{t}" for t in ("str", "seq", "map", "int"))

MAX_SPEC_BYTES = 2**20
"""Largest spec file read (1 MiB, 200 times the largest spec of the zoo): composing YAML costs
time and memory per node (1 MiB of 50,000 broken layers takes seconds to parse, validate and
report), so a bigger file is refused before it is parsed."""
MAX_LAYERS = 100_000
"""The most layers a spec may list, and expand to (a guard against a runaway ``repeat``)."""
MAX_INT_DIGITS = len(str(2**MAX_BITS)) + 2
"""Longest integer literal read (a sign, and ``_`` separators aside): 2**4096 has 1,234
digits; a longer literal is refused before Python converts it."""


class _Refused(Exception):
    """A YAML value refused as it is constructed, with its node for the position."""

    def __init__(self, node: yaml.Node, message: str) -> None:
        super().__init__(message)
        self.node, self.message = node, message


def _too_large(literal: str) -> str:
    shown = literal if len(literal) <= 20 else f"{literal[:12]}... ({len(literal):,} characters)"
    return (
        f"integer {shown} is too large: a number in a spec is at most {MAX_BITS:,} bits "
        f"(about {len(str(2**MAX_BITS)):,} digits)"
    )


def _construct(
    node: yaml.Node, loader: yaml.SafeLoader, memo: dict[int, Any], duplicates: list[yaml.Node]
) -> Any:
    """Plain values from composed nodes, ten times faster than PyYAML's generic constructor.

    Strings, sequences and mappings are built directly; other scalars (int, float, bool, null,
    timestamps) and anything unusual (merge keys, explicit tags) go through the safe
    constructor, which rejects every tag outside the YAML core schema. An aliased node is
    built once and shared, as PyYAML does, so alias bombs stay small.
    """
    key = id(node)
    if key in memo:
        return memo[key]
    value: Any
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _STR:
            value = node.value
        elif node.tag == _INT and len(node.value) > MAX_INT_DIGITS:
            raise _Refused(node, _too_large(node.value))
        else:
            value = loader.construct_object(node, deep=True)
            if isinstance(value, int) and value.bit_length() > MAX_BITS:
                raise _Refused(node, _too_large(node.value))
    elif isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
        memo[key] = value = []
        value.extend(_construct(item, loader, memo, duplicates) for item in node.value)
    elif (
        isinstance(node, yaml.MappingNode)
        and node.tag == _MAP
        and all(k.tag == _STR for k, _ in node.value)
    ):
        memo[key] = value = {}
        value.update((k.value, _construct(v, loader, memo, duplicates)) for k, v in node.value)
        if len(value) < len(node.value):
            duplicates.extend(_repeated_keys(node))
    else:
        value = loader.construct_object(node, deep=True)
    memo[key] = value
    return value


MAX_DEPTH = 100
"""Deepest nesting accepted (a spec nests a few levels): libyaml, the constructor and the
validator all recurse per level, and would otherwise fail with no line to point at."""


def _too_deep(text: str) -> int | None:
    """Where the nesting first goes over :data:`MAX_DEPTH`, or None: counted as ``[``/``{``
    levels (brackets inside strings count too, an over-estimate) or as the indentation and
    block indicators (``- - - x``) that open a line, two characters a level."""
    depth = 0
    for bracket in re.finditer(r"[\[\]{}]", text):
        depth = depth + 1 if bracket.group() in "[{" else max(depth - 1, 0)
        if depth > MAX_DEPTH:
            return bracket.start()
    for block in re.finditer(r"(?m)^[ \t?:-]+", text):
        if len(block.group()) // 2 > MAX_DEPTH:
            return block.start() + 2 * MAX_DEPTH
    return None


def _position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of a character offset in ``text``."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def parse_yaml(text: str, file: str) -> tuple[Any, Locator]:
    """Safe-load YAML into plain values plus a locator for its positions."""
    deep = _too_deep(text)
    if deep is not None:
        message = f"invalid YAML: nested more than {MAX_DEPTH} levels deep"
        raise SpecError([Diagnostic(file, *_position(text, deep), message)])
    if len(text) > MAX_SPEC_BYTES:
        message = f"the text is longer than {MAX_SPEC_BYTES:,} characters, the most read"
        raise SpecError([Diagnostic(file, 0, 0, message)])
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            _count_layers(node, file)
            duplicates: list[yaml.Node] = []
            data = _construct(node, loader, {}, duplicates) if node is not None else None
            if duplicates:
                raise SpecError(
                    [
                        Diagnostic(
                            file,
                            k.start_mark.line + 1,
                            k.start_mark.column + 1,
                            f"duplicate key '{k.value}'",
                        )
                        for k in duplicates
                    ]
                )
        finally:
            loader.dispose()
    except _Refused as exc:
        mark = exc.node.start_mark
        raise SpecError([Diagnostic(file, mark.line + 1, mark.column + 1, exc.message)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = exc.problem or exc.context or "invalid YAML"
        if problem == "but found another document":
            problem = "a spec is one YAML document, and a second one starts here ('---')"
        if problem == "found unhashable key":
            problem = "a key must be a name or a number, not a list or a mapping"
        raise SpecError([Diagnostic(file, line, col, f"invalid YAML: {problem}")]) from None
    except yaml.reader.ReaderError as exc:
        # A character YAML does not allow (a NUL, a control character): at its position.
        line, col = _position(text, exc.position)
        char = exc.character
        code = ord(char) if isinstance(char, str) else int(char)
        message = f"invalid YAML: character U+{code:04X}: {exc.reason}"
        raise SpecError([Diagnostic(file, line, col, message)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Diagnostic(file, 0, 0, f"invalid YAML: {exc}")]) from None
    except ValueError as exc:  # a value Python cannot build (its digits checked above)
        raise SpecError([Diagnostic(file, 0, 0, f"invalid YAML value: {exc}")]) from None
    except RecursionError:
        raise SpecError([Diagnostic(file, 0, 0, "invalid YAML: nested too deeply")]) from None
    return data, Locator(file, node)


def _count_layers(root: yaml.Node | None, file: str) -> None:
    """Refuse a spec that lists more layers than it may expand to, before any is built.

    Counted on the composed nodes, an alias counting once per use: cheap, where building and
    checking the entries would cost seconds per hundred thousand.
    """
    if not isinstance(root, yaml.MappingNode):
        return
    lists: list[yaml.Node] = []
    for key, value in root.value:
        if key.value == "layers":
            lists.append(value)
        if key.value == "blocks" and isinstance(value, yaml.MappingNode):
            for _, block in value.value:
                if isinstance(block, yaml.MappingNode):
                    lists += [v for k, v in block.value if k.value == "layers"]
    sequences = [n for n in lists if isinstance(n, yaml.SequenceNode)]
    listed = sum(len(n.value) for n in sequences)
    if listed > MAX_LAYERS:
        biggest = max(sequences, key=lambda n: len(n.value)).start_mark
        message = (
            f"the spec lists {listed:,} layers, over the {MAX_LAYERS:,}-layer limit "
            "(a block or a repeat writes many layers once)"
        )
        raise SpecError([Diagnostic(file, biggest.line + 1, biggest.column + 1, message)])


def _has_index(node: Any, part: str | int) -> bool:
    items = node.value if isinstance(node, yaml.SequenceNode) else node
    return isinstance(items, list) and isinstance(part, int) and 0 <= part < len(items)


def _contains(data: Any, part: str | int) -> bool:
    return (isinstance(data, dict) and part in data) or _has_index(data, part)


def _value_at(data: Any, path: SpecPath) -> Any:
    for part in path:
        if _contains(data, part):
            data = data[part]
        else:
            return None
    return data


def _data_path(data: Any, loc: Sequence[str | int], *, missing: bool = False) -> SpecPath:
    """Drop pydantic's union tags from an error location, keeping the keys that exist in data
    (and, for a ``missing`` key, that key)."""
    path: list[str | int] = []
    node = data
    tag = _entry(loc)
    if tag is not None and len(loc) > len(tag) and loc[len(tag)] == "block":
        loc = [*tag, *loc[len(tag) + 1 :]]  # the tag of a block call, not its 'block' key
    for part in loc:
        if _contains(node, part):
            node = node[part]
        elif isinstance(node, dict | list):
            if missing and part == loc[-1] and isinstance(node, dict):
                path.append(part)
            continue
        else:
            continue
        path.append(part)
    return tuple(path)


def _field_names(data: Any, path: SpecPath) -> list[str]:
    """Valid keys at the mapping that holds the last element of ``path``."""
    parent = _value_at(data, path[:-1])
    if isinstance(parent, dict) and "kind" in parent and parent["kind"] in MODEL_OF_KIND:
        return list(MODEL_OF_KIND[parent["kind"]].model_fields)
    if isinstance(parent, dict) and "block" in parent:
        return [*LayerBase.model_fields, "block"]
    names: dict[SpecPath, list[str]] = {
        ("input",): ["channels", "size"],
        ("blocks", "*"): ["params", "layers"],
        (): list(NetworkSpec.model_fields),
    }
    head = path[:-1]
    if head and head[0] == "blocks" and len(head) == 2:
        head = ("blocks", "*")
    return names.get(head, [])


def _short(value: Any, limit: int = 60) -> str:
    """A value for a message, as YAML writes it and cut short (an alias can expand it to
    megabytes)."""
    return brief(value, limit)


def _string_of(data: Any, path: SpecPath) -> str:
    """What a string key takes: a layer's name, or a layer named by a ``layer`` attribute."""
    parent = _value_at(data, path[:-1])
    kind = REGISTRY.get(str(parent.get("kind"))) if isinstance(parent, dict) else None
    called = isinstance(parent, dict) and "block" in parent
    if (kind is not None or called) and path[-1] == "name":
        return "a layer name"
    if kind is not None and any(a.name == path[-1] and a.type == "layer" for a in kind.attrs):
        return "the name of a layer"
    return "a string"


def _message(error: dict[str, Any], data: Any, path: SpecPath) -> tuple[str, bool]:
    kind = error["type"]
    where = ".".join(str(p) for p in path) or "spec"
    if kind == "extra_forbidden":
        name, parent = str(path[-1]), ".".join(str(p) for p in path[:-1]) or "spec"
        valid = _field_names(data, path)
        hint = did_you_mean(name, valid)
        if not hint and _SYNONYMS.get(name) in valid:
            hint = f"; did you mean '{_SYNONYMS[name]}'?"
        return f"{parent}: unknown key '{name}'{hint}", True
    if kind == "union_tag_invalid":
        tag = _value_at(data, path)
        if not isinstance(tag, str):
            return f"{where}: expected the name of a layer kind (got {brief(tag)})", False
        hint = (
            did_you_mean(tag, MODEL_OF_KIND) or f"; known kinds: {', '.join(sorted(MODEL_OF_KIND))}"
        )
        return f"{where}: unknown layer kind '{tag}'{hint}", False
    if kind == "union_tag_not_found":
        value = _value_at(data, path)
        if not isinstance(value, dict):
            example = f"{{kind: {value}}}" if isinstance(value, str) else "{kind: relu}"
            return f"{where}: a layer is a mapping, e.g. {example} (got {_short(value)})", False
        return f"{where}: a layer needs a 'kind' (or a 'block' to call)", False
    if kind == "missing":
        parent = ".".join(str(p) for p in path[:-1]) or "spec"
        return f"{parent}: missing required key '{path[-1]}'", False
    if kind == "literal_error":
        value = _value_at(data, path)
        expected = error["ctx"]["expected"]
        hint = did_you_mean(str(value), [e.strip("' ") for e in expected.split(",")])
        shown = f"'{value}'" if isinstance(value, str) else brief(value)
        return f"{where}: {shown} is not one of {expected}{hint}", False
    if kind == "string_pattern_mismatch":
        value = _value_at(data, path)
        return (
            f"{where}: {_short(value)} is not a valid name: use letters, digits, '_' and '-', "
            "starting with a letter or '_'",
            False,
        )
    if kind in ("model_type", "dict_type"):
        return f"{where}: expected a mapping of keys to values", False
    value = _value_at(data, path)
    if kind == "string_type":
        return f"{where}: expected {_string_of(data, path)} (got {_short(value)})", False
    if kind in _EXPECTED:
        return f"{where}: expected {_EXPECTED[kind]} (got {_short(value)})", False
    if kind == "too_short" and isinstance(value, list | dict) and not value:
        return f"{where}: expected at least one entry (got {_short(value)})", False
    # pydantic's words name the checked value 'input', which is also the spec's own section
    said = re.sub(r"^(Input|Value) should be", "expected", str(error["msg"]))
    return f"{where}: {said[0].lower()}{said[1:]} (got {_short(value)})", False


_SYNONYMS = {
    "activation": "act",
    "out_channels": "out",
    "channels": "out",
    "filters": "out",
    "kernel_size": "kernel",
    "strides": "stride",
    "normalization": "norm",
    "use_bias": "bias",
}
"""Names from other frameworks, suggested when they are used as keys."""

_EXPECTED = {
    "int_type": "an integer",
    "string_type": "an expression string",
    "float_type": "a number",
    "bool_type": "true/false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "none_type": "null",
}


def _expected_any(types: set[str]) -> str:
    """'a number or an expression' for the errors of one value against a union of types."""
    names = [_EXPECTED.get(t, t) for t in sorted(types - {"string_type"})]
    if {"int_type", "float_type"} <= types:
        names = [n for n in names if n not in ("an integer", "a number")] + ["a number"]
    if "string_type" in types:
        names.append("an expression")
    return ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]


def _diagnostics(exc: ValidationError, data: Any, locator: Locator) -> list[Diagnostic]:
    by_path: dict[SpecPath, list[dict[str, Any]]] = {}
    for error in exc.errors():
        path = _data_path(data, error["loc"], missing=error["type"] == "missing")
        if error["type"] == "union_tag_invalid":
            path = (*path, "kind")
        by_path.setdefault(path, []).append(dict(error))
    # A list or mapping that none of a union's members takes has errors of every member: a
    # scalar member's at the value, the container member's at the item inside that is wrong
    # (``stride: [[2, 2]]``: not an int, and its item not an int). The item's error is the
    # one that says what to fix; one mistake is said once.
    unions = [q for q, e in by_path.items() if q and all(x["type"].endswith("_type") for x in e)]
    prefixes = {p[:k] for p in by_path for k in range(1, len(p))}  # linear: 100k errors happen
    outer = {q for q in unions if q in prefixes}
    diagnostics = []
    for path, errors in by_path.items():
        if path in outer:
            continue
        if len(errors) > 1 and all(e["type"].endswith("_type") for e in errors):
            where = ".".join(str(p) for p in path)
            expected = _expected_any({e["type"] for e in errors})
            message, key = (
                f"{where}: expected {expected} (got {_short(_value_at(data, path))})",
                False,
            )
        else:
            message, key = _message(errors[0], data, path)
        diagnostics.append(locator.diagnostic(path, message, key=key))
    return diagnostics


def _entry(loc: Sequence[str | int]) -> SpecPath | None:
    """The layer entry an error location lies in: ('layers', 3) or ('blocks', b, 'layers', 0)."""
    if len(loc) >= 3 and loc[0] == "layers" and isinstance(loc[1], int):
        return tuple(loc[:2])
    if len(loc) >= 5 and loc[0] == "blocks" and loc[2] == "layers" and isinstance(loc[3], int):
        return tuple(loc[:4])
    return None


def _placeholder(entry: Any) -> dict[str, Any]:
    """A valid stand-in for a broken entry, keeping its name if that is valid."""
    name = entry.get("name") if isinstance(entry, dict) else None
    valid = isinstance(name, str) and re.fullmatch(NAME_PATTERN, name) is not None
    return {"kind": "flatten", **({"name": name} if valid else {})}


def _swap_entries(data: Any, broken: set[SpecPath]) -> Any:
    """``data`` with every broken entry replaced by a placeholder (a shallow copy per level)."""
    data = {**data, "layers": list(data["layers"])}
    if any(p[0] == "blocks" for p in broken):
        data["blocks"] = {
            name: {**block, "layers": list(block["layers"])}
            for name, block in data["blocks"].items()
        }
    for path in broken:
        layers = data["layers"] if path[0] == "layers" else data["blocks"][path[1]]["layers"]
        layers[path[-1]] = _placeholder(layers[path[-1]])
    return data


def _invalid_entries(spec: NetworkSpec, broken: set[SpecPath]) -> None:
    for path in broken:
        layers = spec.layers if path[0] == "layers" else spec.blocks[str(path[1])].layers
        layers[int(path[-1])] = InvalidEntry(name=layers[int(path[-1])].name)


def one_of(choices: Sequence[str]) -> str:
    """'a', 'b' or 'c' (as pydantic words a key's choices)."""
    quoted = [f"'{c}'" for c in choices]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _unknown_names(data: Any) -> list[tuple[SpecPath, SpecPath, str]]:
    """Keys that take a name (``act``, ``norm``) given a name that is none of their choices and,
    in a block, none of the block's parameters (which may carry one): the layer entry, the key's
    path and the error. A name that is not a parameter is known wrong before the graph is built.
    """
    found: list[tuple[SpecPath, SpecPath, str]] = []
    if not isinstance(data, dict):
        return found
    scopes: list[tuple[SpecPath, Any, Any]] = [(("layers",), data.get("layers"), None)]
    blocks = data.get("blocks")
    if isinstance(blocks, dict):
        for name, block in blocks.items():
            if isinstance(block, dict):
                params = block.get("params")
                given = list(params) if isinstance(params, list | dict) else []
                scopes.append((("blocks", name, "layers"), block.get("layers"), (name, given)))
    for base, layers, block in scopes:
        if not isinstance(layers, list):
            continue
        for index, entry in enumerate(layers):
            kind = REGISTRY.get(str(entry.get("kind"))) if isinstance(entry, dict) else None
            if kind is None or "block" in entry:
                continue
            for attr in kind.attrs:
                value = entry.get(attr.name)
                if attr.type != "choice" or not isinstance(value, str) or value in attr.choices:
                    continue
                if not value.isidentifier() or (block is not None and value in block[1]):
                    continue  # not a name: the model says what is wrong; a parameter: later
                path = (*base, index, attr.name)
                where = ".".join(str(p) for p in path)
                choices = one_of(attr.choices)
                also = f" (nor a parameter of block '{block[0]}')" if block is not None else ""
                hint = did_you_mean(value, attr.choices)
                message = f"{where}: '{value}' is not one of {choices}{also}{hint}"
                found.append(((*base, index), path, message))
    return found


def validate_entries(data: Any, locator: Locator) -> LoadedSpec:
    """Validate a parsed spec; errors confined to layer entries do not stop the rest.

    A layer entry that is not valid is replaced by an :class:`InvalidEntry` (which keeps its
    name, so the layers that take it are skipped without errors of their own) and its errors
    are kept in ``problems``: building the graph then reports them together with every error
    of the other layers. Any error outside the layer entries is raised at once.
    """
    if not isinstance(data, dict):
        message = "a spec must be a mapping with 'input' and 'layers'"
        if locator.root is None:  # nothing but blank lines and comments: at its start
            raise SpecError([Diagnostic(locator.file, 1, 1, f"the file is empty; {message}")])
        raise SpecError([locator.diagnostic((), f"{message} (got {brief(data)})")])
    _refuse_space(data, locator)
    names = _unknown_names(data)
    named = [locator.diagnostic(path, message) for _, path, message in names]
    model = network_model(layer_kinds(data))
    try:
        spec = model.model_validate(data)
        if not names:
            return LoadedSpec(spec, locator)
        diagnostics, entries = named, {entry for entry, _, _ in names}
    except ValidationError as exc:
        diagnostics = _diagnostics(exc, data, locator) + named
        broken = {_entry(e["loc"]) for e in exc.errors()}
        if None in broken:
            raise SpecError(diagnostics) from None
        entries = {p for p in broken if p is not None} | {entry for entry, _, _ in names}
    try:
        spec = model.model_validate(_swap_entries(data, entries))
    except ValidationError:
        raise SpecError(diagnostics) from None
    _invalid_entries(spec, entries)
    return LoadedSpec(spec, locator, tuple(diagnostics))


CHOICE = "choice"
"""The key of a search space's choice: ``{choice: [3, 5, 7]}``."""


def choice_paths(value: Any, path: SpecPath = ()) -> Iterator[SpecPath]:
    """Where ``value`` holds a choice (``{choice: ...}``), in document order."""
    if isinstance(value, dict):
        if CHOICE in value:
            yield path
            return
        for k, v in value.items():
            yield from choice_paths(v, (*path, k))
    elif isinstance(value, list):
        for j, v in enumerate(value):
            yield from choice_paths(v, (*path, j))


def _refuse_space(data: dict[str, Any], locator: Locator) -> None:
    """A search space is many networks, not one: one error at its first choice."""
    found = list(choice_paths(data))
    if not found:
        return
    where = ".".join(str(p) for p in found[0])
    count = f"{len(found)} choice{'s' if len(found) > 1 else ''}"
    message = (
        f"{where}: a choice: this file is a search space ({count}), not one network; give "
        "each choice one value to get one network"
    )
    raise SearchSpaceSpec(locator.diagnostic(found[0], message, key=True), len(found))


def validate(data: Any, locator: Locator) -> NetworkSpec:
    """Validate a parsed spec; every problem is raised at once."""
    loaded = validate_entries(data, locator)
    if loaded.problems:
        raise SpecError(loaded.problems)
    return loaded.spec


def load_spec(path: str | Path, text: str | None = None) -> LoadedSpec:
    """Read, parse and validate a spec file; every problem found is raised at once.

    ``zoo:NAME`` reads a bundled spec (:mod:`sepcalc.zoo`). With ``text``, nothing is read:
    ``path`` only names the text in diagnostics (``<stdin>``).
    """
    file = str(path)
    if text is None:
        try:
            text = read_text(zoo.path(file) if zoo.is_zoo(file) else path, "spec", MAX_SPEC_BYTES)
        except SepcalcError as exc:
            raise SpecError([Diagnostic(file, 0, 0, str(exc))]) from None
    elif len(text.encode()) > MAX_SPEC_BYTES:
        message = f"the spec is larger than {MAX_SPEC_BYTES:,} bytes, the most a spec may be"
        raise SpecError([Diagnostic(file, 0, 0, message)])
    data, locator = parse_yaml(text, file)
    return validate_entries(data, locator)
