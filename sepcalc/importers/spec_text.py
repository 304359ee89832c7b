"""Imported layers as a readable spec: one flow mapping a line, names, comments, and a check.

Pure (no ``onnx``): the importer hands over :class:`ImportedLayer` values, in execution order,
whose inputs and outputs are tensor names of the source graph. This module names the layers,
writes ``inputs`` only where the graph is not a chain, leaves out attributes that equal their
kind's default, and then loads the text it wrote with sepcalc itself: every layer must have the
shape the source graph gives its tensor, or the import is refused (never a spec that counts a
different network).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sepcalc import __version__
from sepcalc.errors import SepcalcError
from sepcalc.formulas import REGISTRY
from sepcalc.graph import INPUT, Graph, build_graph
from sepcalc.spec.loader import parse_yaml, validate_entries

NETWORK_INPUT = ""
"""The tensor name standing for the network's input in :attr:`ImportedLayer.inputs`."""


@dataclass
class ImportedLayer:
    """One spec layer recognised in the source graph."""

    kind: str
    attrs: dict[str, Any]
    """Spec keys besides kind, name and inputs (the writer drops those equal to the default)."""
    inputs: list[str]
    """Tensor names of the source graph (:data:`NETWORK_INPUT` for the network's input)."""
    output: str
    shape: tuple[int, ...]
    """The output shape the source graph gives, as sepcalc writes shapes: (C, *spatial)."""
    nodes: tuple[str, ...]
    """The source nodes it stands for (for messages)."""
    scope: str = ""
    """A proposed name (sanitised and made unique when written)."""
    note: str = ""
    """A comment written after the layer."""


@dataclass(frozen=True)
class ImportedSpec:
    text: str
    graph: Graph
    layers: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    """Per layer: ``name: note`` (the comments under layers)."""
    remarks: tuple[str, ...] = field(default_factory=tuple)
    """About the whole import (a batch, folded norms): for the user to read."""


def sanitize(text: str) -> str:
    """A spec name from a node name: letters, digits, '_' and '-' ('features.0.conv' ->
    'features_0_conv'); '' when nothing is left."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_-")
    if name and not (name[0].isalpha() or name[0] == "_"):
        name = "l" + name
    return name


def _names(layers: Sequence[ImportedLayer]) -> list[str]:
    taken: set[str] = {INPUT}
    counts: dict[str, int] = {}
    names = []
    for layer in layers:
        base = sanitize(layer.scope)
        if not base:
            counts[layer.kind] = counts.get(layer.kind, 0) + 1
            base = f"{layer.kind}{counts[layer.kind]}"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        names.append(name)
    return names


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        if value and all(v == value[0] for v in value) and not isinstance(value[0], str):
            return _value(value[0])
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)


def _is_default(kind: str, key: str, value: Any) -> bool:
    attr = next((a for a in REGISTRY[kind].attrs if a.name == key), None)
    if attr is None or attr.required:
        return False
    default = attr.default
    if isinstance(value, list | tuple) and not isinstance(default, list | tuple | str):
        return all(v == default for v in value)
    return bool(value == default)


def layer_line(layer: ImportedLayer, name: str, inputs: Sequence[str] | None) -> str:
    """``- {kind: conv, name: conv1, out: 32, kernel: 3, ...}``."""
    parts = [f"kind: {layer.kind}", f"name: {name}"]
    order = [a.name for a in REGISTRY[layer.kind].attrs]
    for key in sorted(layer.attrs, key=lambda k: order.index(k) if k in order else len(order)):
        value = layer.attrs[key]
        if value is None or _is_default(layer.kind, key, value):
            continue
        parts.append(f"{key}: {_value(value)}")
    if inputs is not None:
        parts.append(f"inputs: {inputs[0] if len(inputs) == 1 else _value(list(inputs))}")
    return "  - {" + ", ".join(parts) + "}"


def _size(shape: Sequence[int]) -> str:
    """The spec's ``size``: one number for a square 2-D input, else a list."""
    size = list(shape[1:])
    if len(size) == 2 and size[0] == size[1]:
        return str(size[0])
    return "[" + ", ".join(str(n) for n in size) + "]"


def write_spec(
    name: str,
    source: str,
    input_shape: tuple[int, ...],
    layers: Sequence[ImportedLayer],
    header: Sequence[str] = (),
    remarks: Sequence[str] = (),
) -> ImportedSpec:
    """The spec text of ``layers``, checked by building it: each layer's output shape must be
    the one the source graph gives (raises :class:`SepcalcError` otherwise)."""
    names = _names(layers)
    by_tensor = {NETWORK_INPUT: INPUT}
    lines = [f"# Imported by sepcalc {__version__} from {source}.", *(f"# {h}" for h in header)]
    lines += [
        f"name: {sanitize(name) or 'network'}",
        "input:",
        f"  channels: {input_shape[0]}",
        f"  size: {_size(input_shape)}",
        "layers:",
    ]
    previous = NETWORK_INPUT
    for layer, layer_name in zip(layers, names, strict=True):
        refs = [by_tensor[t] for t in layer.inputs]
        chain = list(layer.inputs) == [previous]
        lines.append(layer_line(layer, layer_name, None if chain else refs))
        if layer.note:
            lines.append(f"    # {layer.note}")
        by_tensor[layer.output] = layer_name
        previous = layer.output
    text = "\n".join(lines) + "\n"
    graph = check(text, source, layers, names)
    notes = tuple(
        f"{n}: {layer.note}" for layer, n in zip(layers, names, strict=True) if layer.note
    )
    return ImportedSpec(text, graph, len(layers), notes, tuple(remarks))


def check(text: str, source: str, layers: Sequence[ImportedLayer], names: Sequence[str]) -> Graph:
    """Build the written spec; each layer's shape must be its source tensor's."""
    try:
        data, locator = parse_yaml(text, f"<spec imported from {source}>")
        graph = build_graph(validate_entries(data, locator))
    except SepcalcError as exc:
        raise SepcalcError(
            f"{source}: the spec written from it does not build ({exc}); please report it"
        ) from None
    built: Mapping[str, tuple[int, ...]] = {
        n.name: tuple(int(d) for d in n.output_shape) for n in graph.nodes
    }
    for layer, name in zip(layers, names, strict=True):
        if built.get(name) != layer.shape:
            raise SepcalcError(
                f"{source}: node {layer.nodes[0]!r} became layer '{name}' ({layer.kind}) of "
                f"shape {list(built.get(name, ()))}, but the ONNX graph gives "
                f"{list(layer.shape)}; please report it"
            )
    return graph
