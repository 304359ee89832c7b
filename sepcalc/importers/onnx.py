"""An ONNX model as sepcalc layers (optional extra ``onnx``; no onnxruntime).

The file is read without its external weights (only their shapes count), the input's symbolic or
missing dims are set, and ONNX's own shape inference gives every tensor a static shape. Then:

1. **Constants are folded**: everything computed from initializers and shapes alone (the
   ``Shape -> Gather -> Concat -> Reshape`` chains exporters write, padding amounts, scales) is
   evaluated with ONNX's reference operators, so what is left runs on activations.
2. **Renames are followed**: ``Identity``, ``Dropout``, a ``Transpose`` that only moves the
   channels last (or back, as ConvNeXt's ``permute`` around LayerNorm and Linear) and a zero
   ``Pad`` before a convolution are not layers; the layout of each tensor is tracked so that a
   LayerNorm or MatMul over the last axis of a channels-last tensor is a layer over channels.
3. **Layers are recognised**, fused as a spec writes them: Conv (+ BatchNormalization,
   LayerNormalization or GroupNormalization) (+ activation, SiLU and hard-swish written as
   ``x * sigmoid(x)`` included) is one ``conv`` / ``depthwise`` / ``pointwise`` layer with
   ``norm:``/``act:``; Gemm or MatMul (+ bias Add) is ``linear``; pool, 1x1 conv, act, 1x1 conv,
   gate, Mul is ``squeeze_excite``; Reshape, Transpose, Reshape is ``channel_shuffle``; a
   self-attention written as MatMul, Softmax, MatMul between a qkv and an output projection is
   ``attention``; and the rest one operator per layer.

Every operator left over is listed, with its node name, in one error: nothing is dropped.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import NodeProto, numpy_helper, shape_inference
from onnx.reference import ReferenceEvaluator

from sepcalc.errors import InputError, SepcalcError
from sepcalc.importers.spec_text import NETWORK_INPUT, ImportedLayer, ImportedSpec, write_spec

SMALL = 1 << 16
"""Constants with at most this many elements have their values read and folded (shapes, pads,
scales, axes); larger ones (weights) are known by their shape only."""

SIMPLE_ACTIVATIONS = {
    "Relu": "relu",
    "HardSwish": "hardswish",
    "HardSigmoid": "hardsigmoid",
    "Sigmoid": "sigmoid",
    "Gelu": "gelu",
    "Tanh": "tanh",
}
"""ONNX operators that are one activation of sepcalc's (Clip(0, 6) is relu6)."""

WHOLE_MODULES = frozenset({"squeeze_excite", "attention", "channel_shuffle"})
"""Kinds recognised from a module's several operators: named by the module they share."""

GENERIC_GRAPH_NAMES = frozenset({"", "main_graph", "torch_jit", "torch-jit-export"})
"""Graph names exporters write for every model: the file's name is used instead."""


class ImportRefused(SepcalcError):
    """Operators that cannot be written as sepcalc layers: every one, with its node name."""

    def __init__(self, source: str, refused: Sequence[tuple[str, str, str]]) -> None:
        self.refused = tuple(refused)
        by_op: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for op, name, reason in refused:
            by_op[op].append((name, reason))
        lines = [
            f"{source}: {len(refused)} operator{'s' if len(refused) != 1 else ''} cannot be "
            "written as sepcalc layers (nothing was imported):"
        ]
        for op in sorted(by_op, key=lambda o: (-len(by_op[o]), o)):
            lines.append(f"  {op} x {len(by_op[op])}:")
            lines += [f"    {name}{f': {why}' if why else ''}" for name, why in by_op[op]]
        super().__init__("\n".join(lines))


def import_onnx(
    path: str | Path, inputs: Mapping[str, tuple[int, ...]] | None = None
) -> ImportedSpec:
    """The spec of the ONNX model at ``path``; ``inputs`` sets an input's dims, batch first
    (key ``""``: the only input, whatever its name)."""
    source = str(path)
    try:
        model = onnx.load(source, load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError, OSError, ...
        why = getattr(exc, "strerror", None) or _first_line(exc)
        raise SepcalcError(f"cannot read {source} as an ONNX model: {why}") from None
    return import_model(model, source, inputs or {})


def import_model(
    model: onnx.ModelProto, source: str, inputs: Mapping[str, tuple[int, ...]]
) -> ImportedSpec:
    """The spec of an in-memory model (``source`` names it in messages)."""
    name = _set_input(model, inputs)
    weights = _weights_as_inputs(model)
    inferred = _fold_constants(model, source)
    reader = _Reader(inferred, source, name, weights)
    layers = reader.read()
    graph_name = inferred.graph.name
    opset = next((o.version for o in inferred.opset_import if o.domain in ("", "ai.onnx")), 0)
    header = [
        f"ONNX: {inferred.producer_name or 'unknown producer'} "
        f"{inferred.producer_version}, opset {opset}; {len(inferred.graph.node)} nodes became "
        f"{len(layers)} layers."
    ]
    if reader.batch != 1:
        header.append(f"The ONNX input has batch {reader.batch}; the spec counts one sample.")
    if reader.folded:
        header.append(
            f"{reader.folded} conv{'s' if reader.folded != 1 else ''} carry a BatchNorm the "
            "exporter folded in (a comment under each): the spec counts their biases, not the "
            "norms; export with torch.onnx.TrainingMode.PRESERVE to keep the norms."
        )
    title = graph_name if graph_name not in GENERIC_GRAPH_NAMES else Path(source).stem
    return write_spec(title, Path(source).name, reader.input_shape, layers, header, header[1:])


def _set_input(model: onnx.ModelProto, given: Mapping[str, tuple[int, ...]]) -> str:
    """Set the dims of the model's one data input; returns its name."""
    graph = model.graph
    weights = {i.name for i in graph.initializer}
    data = [i for i in graph.input if i.name not in weights]
    names = [i.name for i in data]
    for key in given:
        if key and key not in names:
            raise InputError(
                "inputs",
                key,
                f"the model has no input '{key}' (its inputs: {', '.join(names) or 'none'})",
            )
    if len(data) != 1:
        raise InputError(
            "inputs",
            "",
            f"a spec has one input and the model has {len(data)}: {', '.join(names) or 'none'}",
        )
    value = data[0]
    dims = value.type.tensor_type.shape.dim
    wanted = given.get(value.name, given.get(""))
    if wanted is not None:
        if dims and len(wanted) != len(dims):
            raise InputError(
                "inputs",
                value.name,
                f"has {len(dims)} dims ({_dims_text(dims)}), not {len(wanted)}",
            )
        if not dims:
            for _ in wanted:
                dims.add()
        for d, n in zip(dims, wanted, strict=True):
            if d.HasField("dim_value") and d.dim_value != n:
                raise InputError(
                    "inputs",
                    value.name,
                    f"is {_dims_text(dims)} in the model; only symbolic dims can be set, not "
                    f"{n} for {d.dim_value}",
                )
            d.dim_value = n
    elif not dims or any(not d.HasField("dim_value") for d in dims[1:]):
        raise InputError(
            "inputs",
            value.name,
            f"has {'no dims' if not dims else 'symbolic dims ' + _dims_text(dims)}: give its "
            f"size, batch first, e.g. {value.name}:1x3x224x224",
        )
    elif not dims[0].HasField("dim_value"):
        dims[0].dim_value = 1
    if len(dims) < 3:
        raise InputError(
            "inputs", value.name, f"is {_dims_text(dims)}: a spec's input has channels and a size"
        )
    del graph.value_info[:]
    for out in graph.output:
        out.type.tensor_type.ClearField("shape")
    return str(value.name)


def _weights_as_inputs(model: onnx.ModelProto) -> set[str]:
    """Make the large initializers graph inputs of their shape (their values never count, and
    shape inference then works on a small model); returns their names."""
    graph = model.graph
    listed = {i.name: i for i in graph.input}
    weights: set[str] = set()
    keep = []
    for init in graph.initializer:
        if init.data_location == onnx.TensorProto.EXTERNAL or math.prod(init.dims) > SMALL:
            weights.add(init.name)
            if init.name in listed:
                graph.input.remove(listed[init.name])
            graph.input.append(
                onnx.helper.make_tensor_value_info(init.name, init.data_type, list(init.dims))
            )
        else:
            keep.append(init)
    del graph.initializer[:]
    graph.initializer.extend(keep)
    return weights


MAX_FOLDS = 16
"""Rounds of folding and shape inference (each round can fold the ``Shape`` of a tensor whose
shape the previous round found)."""


def _infer(model: onnx.ModelProto, source: str, strict: bool = True) -> onnx.ModelProto:
    try:
        return shape_inference.infer_shapes(model, strict_mode=strict, data_prop=True)
    except Exception as exc:  # onnx's InferenceError, or a checker's ValidationError
        raise SepcalcError(f"{source}: ONNX shape inference failed: {_first_line(exc)}") from None


def _fold_constants(model: onnx.ModelProto, source: str) -> onnx.ModelProto:
    """Replace every node computed from constants and static shapes by an initializer, with
    shape inference between rounds; returns the model, shape-inferred."""
    for _ in range(MAX_FOLDS):
        inferred = _infer(model, source, strict=False)
        graph = inferred.graph
        shapes = _static_shapes(inferred)
        values = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        kept, made, known = [], [], []
        for node in graph.node:
            if node.op_type in SAME_SHAPE and node.output[0] not in shapes:
                x = node.input[0]
                if x in shapes:  # an operator ONNX infers no shape for (a function op)
                    known.append(_value_info(inferred, node.output[0], shapes[x]))
            computed = _evaluate(node, values, shapes)
            if computed is None:
                kept.append(node)
                continue
            for name, value in zip(node.output, computed, strict=True):
                values[name] = value
                made.append(numpy_helper.from_array(np.asarray(value), name))
        if not made and not known:
            break
        del model.graph.node[:]
        model.graph.node.extend(kept)
        model.graph.initializer.extend(made)
        del model.graph.value_info[:]
        model.graph.value_info.extend(known)
    return _infer(model, source)  # strict: an inconsistent model is an error here


SAME_SHAPE = frozenset(
    {"GroupNormalization", "InstanceNormalization", "LayerNormalization", "BatchNormalization",
     "Gelu", "HardSwish", "HardSigmoid", "Relu", "Sigmoid", "Tanh", "Clip", "Identity"}
)  # fmt: skip
"""Operators whose output has their first input's shape: where shape inference gives the
output none (GroupNormalization, a function operator, in onnx 1.23), it is set from there."""


def _value_info(model: onnx.ModelProto, name: str, shape: tuple[int, ...]) -> Any:
    elem = onnx.TensorProto.FLOAT
    for v in model.graph.value_info:
        if v.name == name and v.type.tensor_type.elem_type:
            elem = v.type.tensor_type.elem_type
    return onnx.helper.make_tensor_value_info(name, elem, list(shape))


def _static_shapes(model: onnx.ModelProto) -> dict[str, tuple[int, ...]]:
    shapes = {}
    graph = model.graph
    for v in [*graph.input, *graph.value_info, *graph.output]:
        t = v.type.tensor_type
        if t.HasField("shape") and all(d.HasField("dim_value") for d in t.shape.dim):
            shapes[v.name] = tuple(int(d.dim_value) for d in t.shape.dim)
    for init in graph.initializer:
        shapes[init.name] = tuple(int(d) for d in init.dims)
    return shapes


def _evaluate(
    node: NodeProto, values: Mapping[str, np.ndarray], shapes: Mapping[str, tuple[int, ...]]
) -> list[np.ndarray] | None:
    """The outputs of a node whose inputs are all known values (or the Shape of a static
    shape), or None."""
    if node.domain not in ("", "ai.onnx") or node.op_type in NONDETERMINISTIC:
        return None
    ins = [i for i in node.input if i]
    if node.op_type == "Shape" and ins[0] in shapes:
        start, end = _attr(node, "start", 0), _attr(node, "end", None)
        return [np.array(shapes[ins[0]][start:end], dtype=np.int64)]
    if not all(i in values for i in ins):
        return None
    try:
        results = ReferenceEvaluator(node).run(None, {i: values[i] for i in ins})
    except Exception:  # an operator the reference cannot run: left as it is
        return None
    if len(results) != len(node.output) or any(np.asarray(r).size > SMALL for r in results):
        return None
    return [np.asarray(r) for r in results]


NONDETERMINISTIC = frozenset(
    {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial",
     "Bernoulli"}
)  # fmt: skip


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _dims_text(dims: Any) -> str:
    return "x".join(
        str(d.dim_value) if d.HasField("dim_value") else d.dim_param or "?" for d in dims
    )


def _attr(node: NodeProto, name: str, default: Any = None) -> Any:
    for a in node.attribute:
        if a.name == name:
            value = onnx.helper.get_attribute_value(a)
            return value.decode() if isinstance(value, bytes) else value
    return default


def _label(node: NodeProto, index: int) -> str:
    return node.name or f"#{index} ({node.output[0]})"


@dataclass
class _Act:
    name: str
    nodes: list[int]
    out: str


class _Reader:
    """One pass over a shape-inferred model: fold, follow renames, recognise layers."""

    def __init__(
        self, model: onnx.ModelProto, source: str, input_name: str, weights: set[str]
    ) -> None:
        graph = model.graph
        self.source = source
        self.input = input_name
        self.outputs = {o.name for o in graph.output}
        self.shapes: dict[str, tuple[int, ...] | None] = {}
        for v in [*graph.input, *graph.value_info, *graph.output]:
            t = v.type.tensor_type
            if t.HasField("shape"):
                dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
                self.shapes[v.name] = None if None in dims else tuple(int(d) for d in dims)  # type: ignore[arg-type]
        self.consts: set[str] = set(weights)
        self.values: dict[str, np.ndarray] = {}
        for init in graph.initializer:
            self.consts.add(init.name)
            self.shapes[init.name] = tuple(int(d) for d in init.dims)
            external = init.data_location == onnx.TensorProto.EXTERNAL
            if not external and math.prod(init.dims) <= SMALL:
                self.values[init.name] = numpy_helper.to_array(init)
        self.data: list[NodeProto] = []
        self._fold(list(graph.node))
        in_shape = self.shapes.get(input_name)
        assert in_shape is not None
        self.batch = in_shape[0]
        self.input_shape = tuple(in_shape[1:])
        self.alias: dict[str, str] = {}
        self.pads: dict[str, tuple[list[int], list[int]]] = {}
        self.layout: dict[str, str | None] = {input_name: "cf"}
        self.consumers: dict[str, list[int]] = defaultdict(list)
        for i, node in enumerate(self.data):
            for name in dict.fromkeys(node.input):
                if name and name not in self.consts:
                    self.consumers[name].append(i)
        self.renames: set[int] = set()
        self.done: set[int] = set()
        self.found: list[tuple[int, ImportedLayer]] = []
        self.refused: list[tuple[str, str, str]] = []
        self.folded = 0

    # ---- constants -------------------------------------------------------------------------

    def _fold(self, nodes: list[NodeProto]) -> None:
        """Evaluate what depends on constants only; the other nodes go to ``self.data``."""
        for node in nodes:
            ins = [i for i in node.input if i]
            standard = node.domain in ("", "ai.onnx")
            if standard and node.op_type == "Shape":
                shape = self.shapes.get(ins[0])
                if shape is not None:
                    start, end = _attr(node, "start", 0), _attr(node, "end", None)
                    self._const(node.output[0], np.array(shape[start:end], dtype=np.int64))
                    continue
            if standard and all(i in self.consts for i in ins) and node.op_type != "RandomNormal":
                if all(i in self.values for i in ins):
                    try:
                        results = ReferenceEvaluator(node).run(
                            None, {i: self.values[i] for i in ins}
                        )
                    except Exception:  # an operator the reference cannot run: shape only
                        results = [None] * len(node.output)
                    for name, value in zip(node.output, results, strict=False):
                        self._const(name, value)
                else:
                    for name in node.output:
                        self._const(name, None)
                continue
            self.data.append(node)

    def _const(self, name: str, value: Any) -> None:
        self.consts.add(name)
        if value is not None:
            array = np.asarray(value)
            self.shapes[name] = tuple(int(d) for d in array.shape)
            if array.size <= SMALL:
                self.values[name] = array

    def value(self, name: str) -> np.ndarray | None:
        return self.values.get(name) if name else None

    def ints(self, name: str) -> list[int] | None:
        v = self.value(name)
        return None if v is None else [int(x) for x in v.reshape(-1)]

    # ---- tensors ---------------------------------------------------------------------------

    def shape(self, name: str) -> tuple[int, ...]:
        shape = self.shapes.get(name)
        if shape is None:
            raise _Refuse("its shape is not known after shape inference")
        return shape

    def lshape(self, name: str) -> tuple[int, ...]:
        """One sample's shape as sepcalc writes it: (C, *spatial), whatever the layout."""
        s = self.shape(name)[1:]
        return (s[-1], *s[:-1]) if self.layout.get(name) == "cl" else s

    def resolve(self, name: str) -> str:
        while name in self.alias:
            name = self.alias[name]
        return NETWORK_INPUT if name == self.input else name

    def is_data(self, name: str) -> bool:
        return bool(name) and name not in self.consts

    def users(self, name: str) -> list[int]:
        """The nodes that take ``name``, looking through renames (-1: a graph output)."""
        found = [-1] if name in self.outputs else []
        for i in self.consumers.get(name, []):
            if i in self.renames:
                found += self.users(self.data[i].output[0])
            else:
                found.append(i)
        return found

    def sole(self, name: str, op: str | tuple[str, ...] | None = None) -> int | None:
        users = self.users(name)
        if len(users) != 1 or users[0] < 0:
            return None
        if op is not None and self.data[users[0]].op_type not in (
            (op,) if isinstance(op, str) else op
        ):
            return None
        return users[0]

    def data_inputs(self, node: NodeProto) -> list[str]:
        return [i for i in node.input if self.is_data(i)]

    # ---- the passes ------------------------------------------------------------------------

    def read(self) -> list[ImportedLayer]:
        self._renames()
        self._attention()
        for i, node in enumerate(self.data):
            if i in self.done:
                continue
            handler = getattr(self, f"_op_{node.op_type}", None)
            if node.domain not in ("", "ai.onnx"):
                self.refused.append((f"{node.domain}.{node.op_type}", _label(node, i), ""))
                continue
            if handler is None:
                self.refused.append((node.op_type, _label(node, i), ""))
                continue
            try:
                handler(i, node)
            except _Refuse as exc:
                self.refused.append((node.op_type, _label(node, i), str(exc)))
        if self.refused:
            raise ImportRefused(self.source, self.refused)
        return _in_order(self.found)

    def _renames(self) -> None:
        """Identity, Dropout, layout-only Transposes and zero Pads before a Conv: no layer."""
        for i, node in enumerate(self.data):
            ins = self.data_inputs(node)
            x = ins[0] if ins else ""
            out = node.output[0] if node.output else ""
            rank = len(self.shapes.get(x) or ())
            lay = self.layout.get(x, "cf")
            op = node.op_type
            if op in ("Identity", "Dropout") and x:
                self._rename(i, out, x, lay)
            elif op == "Transpose" and x and rank >= 3:
                perm = list(_attr(node, "perm", []))
                if lay == "cf" and perm == [0, *range(2, rank), 1]:
                    self._rename(i, out, x, "cl")
                elif lay == "cl" and perm == [0, rank - 1, *range(1, rank - 1)]:
                    self._rename(i, out, x, "cf")
                else:
                    self.layout[out] = None
            elif op == "Pad" and x and self._zero_pad(node):
                pads = self.ints(node.input[1]) if len(node.input) > 1 else None
                pads = pads if pads is not None else list(_attr(node, "pads", []))
                n = len(pads) // 2
                self._rename(i, out, x, lay)
                self.pads[out] = (pads[2:n], pads[n + 2 :])
            else:
                for o in node.output:
                    same = len(self.shapes.get(o) or ()) == rank
                    self.layout[o] = lay if same else "cf"  # a reshape: channels first

    def _rename(self, i: int, out: str, x: str, layout: str | None) -> None:
        self.alias[out] = x
        self.layout[out] = layout
        self.renames.add(i)
        self.done.add(i)

    def _zero_pad(self, node: NodeProto) -> bool:
        """A constant zero Pad of the spatial dims only, every one of whose users is a Conv."""
        if _attr(node, "mode", "constant") != "constant":
            return False
        value = self.value(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if value is not None and float(value.reshape(-1)[0]) != 0.0:
            return False
        if len(node.input) > 3 and node.input[3]:
            return False  # explicit axes: not what exporters write
        pads = self.ints(node.input[1]) if len(node.input) > 1 else list(_attr(node, "pads", []))
        if not pads:
            return False
        n = len(pads) // 2
        if any(pads[k] for k in (0, 1, n, n + 1)) or any(p < 0 for p in pads):
            return False
        users = [self.data[u] for u in self.consumers.get(node.output[0], [])]
        return bool(users) and all(u.op_type == "Conv" for u in users)

    # ---- emitting --------------------------------------------------------------------------

    def emit(
        self,
        nodes: Sequence[int],
        kind: str,
        attrs: dict[str, Any],
        inputs: Sequence[str],
        output: str,
        shape: tuple[int, ...] | None = None,
        note: str = "",
    ) -> None:
        for n in nodes:
            self.done.add(n)
        names = [self.data[n].name for n in nodes]
        layer = ImportedLayer(
            kind=kind,
            attrs=attrs,
            inputs=[self.resolve(t) for t in inputs],
            output=output,
            shape=shape if shape is not None else self.lshape(output),
            nodes=tuple(n or f"#{k}" for n, k in zip(names, nodes, strict=True)),
            scope=_scope(names, whole=kind in WHOLE_MODULES),
            note=note,
        )
        self.found.append((min(nodes), layer))

    def need_layout(self, name: str, *allowed: str) -> str:
        lay = self.layout.get(name, "cf")
        if lay is None:
            raise _Refuse("its input comes from a Transpose that sepcalc cannot follow")
        if lay not in allowed:
            raise _Refuse("its input has the channels last")
        return lay

    # ---- activations and norms after a layer -----------------------------------------------

    def activation(self, i: int) -> _Act | None:
        """The activation starting at node ``i`` (two nodes for x * sigmoid(x))."""
        node = self.data[i]
        op, x, out = node.op_type, node.input[0], node.output[0]
        if op == "Clip":
            lo = self._bound(node, 1, "min")
            hi = self._bound(node, 2, "max")
            if lo == 0 and hi == 6:
                return _Act("relu6", [i], out)
            if lo == 0 and hi is None:
                return _Act("relu", [i], out)
            return None
        if op not in SIMPLE_ACTIVATIONS:
            return None
        if op in ("Sigmoid", "HardSigmoid"):
            m = self.sole(out, "Mul")
            if m is not None and {self.resolve(t) for t in self.data[m].input} == {
                self.resolve(x),
                out,
            }:
                return _Act(
                    "silu" if op == "Sigmoid" else "hardswish", [i, m], self.data[m].output[0]
                )
        return _Act(SIMPLE_ACTIVATIONS[op], [i], out)

    def _bound(self, node: NodeProto, index: int, attr: str) -> float | None:
        if len(node.input) > index and node.input[index]:
            v = self.value(node.input[index])
            if v is None:
                raise _Refuse("its bounds are computed at run time")
            value = float(v.reshape(-1)[0])
        else:
            value = _attr(node, attr)
        if value is None or math.isinf(value) or abs(value) >= 3.4e38:
            return None
        return value

    def act_after(self, t: str) -> _Act | None:
        users = self.users(t)
        if len(users) == 1 and users[0] >= 0:
            return self.activation(users[0])
        if len(users) == 2 and -1 not in users:
            for u in users:
                if self.data[u].op_type in ("Sigmoid", "HardSigmoid"):
                    act = self.activation(u)
                    if act is not None and set(act.nodes) == set(users):
                        return act
        return None

    def norm_after(self, t: str, attrs: dict[str, Any], nodes: list[int]) -> str:
        """Fuse the BatchNormalization, LayerNormalization or GroupNormalization that alone
        takes ``t``; returns the tensor after it."""
        u = self.sole(t, ("BatchNormalization", "LayerNormalization", "GroupNormalization"))
        if u is None:
            return t
        node = self.data[u]
        try:
            norm = self._norm(node)
        except _Refuse:
            return t
        attrs["norm"] = norm[0]
        if norm[1] is not None:
            attrs["norm_groups"] = norm[1]
        nodes.append(u)
        return str(node.output[0])

    def _norm(self, node: NodeProto) -> tuple[str, int | None]:
        x = node.input[0]
        op = node.op_type
        if op == "BatchNormalization":
            self.need_layout(x, "cf")
            if len([o for o in node.output if o]) > 1:
                raise _Refuse("a BatchNormalization in training mode")
            return "batchnorm", None
        if op == "LayerNormalization":
            rank = len(self.shape(x))
            axis = _attr(node, "axis", -1)
            lay = self.layout.get(x, "cf")
            if axis not in (-1, rank - 1) or (rank > 2 and lay != "cl"):
                raise _Refuse("a LayerNormalization over more than the channels")
            if len(node.input) < 3 or not node.input[2]:
                raise _Refuse("a LayerNormalization without a bias (sepcalc's is affine)")
            return "layernorm", None
        self.need_layout(x, "cf")
        groups = int(_attr(node, "num_groups", 0))
        channels = self.lshape(x)[0]
        if self.shape(node.input[1]) != (channels,):
            raise _Refuse("a GroupNormalization with a scale per group (opset 18)")
        return "groupnorm", groups

    def fused(self, t: str, attrs: dict[str, Any], nodes: list[int], norm: bool = True) -> str:
        if norm:
            t = self.norm_after(t, attrs, nodes)
        act = self.act_after(t)
        if act is not None:
            attrs["act"] = act.name
            nodes += act.nodes
            t = act.out
        return t

    # ---- convolutions and linear layers ----------------------------------------------------

    def _op_Conv(self, i: int, node: NodeProto) -> None:
        x, w = node.input[0], node.input[1]
        if not self.is_data(x) or self.is_data(w):
            raise _Refuse("its weights are computed at run time")
        bias = len(node.input) > 2 and bool(node.input[2])
        source, extra = x, None
        while source in self.alias:
            if source in self.pads:
                if extra is not None:
                    raise _Refuse("two paddings before it")
                extra = self.pads[source]
            source = self.alias[source]
        self.need_layout(x, "cf")
        weight = self.shape(w)
        out, kernel = weight[0], list(weight[2:])
        n = len(kernel)
        stride = list(_attr(node, "strides", [1] * n))
        dilation = list(_attr(node, "dilations", [1] * n))
        groups = int(_attr(node, "group", 1))
        pads = list(_attr(node, "pads", [0] * 2 * n))
        begin, end = pads[:n], pads[n:]
        if extra is not None:
            begin = [a + b for a, b in zip(begin, extra[0], strict=True)]
            end = [a + b for a, b in zip(end, extra[1], strict=True)]
        size = self.lshape(source)
        y = node.output[0]
        padding = _padding(
            _attr(node, "auto_pad", "NOTSET"), begin, end, size[1:], self.lshape(y)[1:],
            kernel, stride, dilation, same_default=True,
        )  # fmt: skip
        cin = size[0]
        attrs: dict[str, Any]
        if groups == cin and cin > 1 and weight[1] == 1:
            attrs = {"kernel": kernel, "stride": stride, "padding": padding,
                     "dilation": dilation, "multiplier": out // cin}  # fmt: skip
            kind = "depthwise"
        elif all(k == 1 for k in kernel) and padding in (None, "same") and not any(begin + end):
            attrs = {"out": out, "stride": stride, "groups": groups}
            kind = "pointwise"
        else:
            attrs = {"out": out, "kernel": kernel, "stride": stride, "padding": padding,
                     "dilation": dilation, "groups": groups}  # fmt: skip
            kind = "conv"
        attrs["bias"] = bias
        nodes = [i]
        t = self.fused(y, attrs, nodes)
        note = ""
        if bias and w.startswith("onnx::") and "norm" not in attrs:
            self.folded += 1
            note = (
                f"BatchNorm folded in by the exporter (weights {w}): {out} biases counted; "
                "with the norm: norm: batchnorm, bias: false"
            )
        self.emit(nodes, kind, attrs, [source], t, note=note)

    def _op_ConvTranspose(self, i: int, node: NodeProto) -> None:
        x, w = node.input[0], node.input[1]
        if self.is_data(w):
            raise _Refuse("its weights are computed at run time")
        if _attr(node, "output_shape") is not None or _attr(node, "auto_pad", "NOTSET") != "NOTSET":
            raise _Refuse("an output_shape or auto_pad (write padding and output_padding)")
        self.need_layout(x, "cf")
        weight = self.shape(w)
        kernel = list(weight[2:])
        n = len(kernel)
        groups = int(_attr(node, "group", 1))
        pads = list(_attr(node, "pads", [0] * 2 * n))
        if pads[:n] != pads[n:]:
            raise _Refuse(f"asymmetric padding {pads}")
        attrs = {
            "out": weight[1] * groups,
            "kernel": kernel,
            "stride": list(_attr(node, "strides", [1] * n)),
            "padding": pads[:n],
            "output_padding": list(_attr(node, "output_padding", [0] * n)),
            "dilation": list(_attr(node, "dilations", [1] * n)),
            "groups": groups,
            "bias": len(node.input) > 2 and bool(node.input[2]),
        }
        nodes = [i]
        t = self.fused(node.output[0], attrs, nodes)
        self.emit(nodes, "conv_transpose", attrs, [x], t)

    def _op_Gemm(self, i: int, node: NodeProto) -> None:
        a, b = node.input[0], node.input[1]
        if not self.is_data(a) or self.is_data(b) or _attr(node, "transA", 0):
            raise _Refuse("not an activation times a weight matrix")
        self.need_layout(a, "cf")
        weight = self.shape(b)
        out = weight[0] if _attr(node, "transB", 0) else weight[1]
        attrs: dict[str, Any] = {"out": out, "bias": len(node.input) > 2 and bool(node.input[2])}
        nodes = [i]
        t = self.fused(node.output[0], attrs, nodes)
        self.emit(nodes, "linear", attrs, [a], t)

    def _op_MatMul(self, i: int, node: NodeProto) -> None:
        a, b = node.input[0], node.input[1]
        if self.is_data(a) and self.is_data(b):
            raise _Refuse("a product of two activations (attention written out, not recognised)")
        if not self.is_data(a) or len(self.shape(b)) != 2:
            raise _Refuse("not an activation times a weight matrix")
        if len(self.shape(a)) > 2:
            self.need_layout(a, "cl")
        out = self.shape(b)[1]
        attrs: dict[str, Any] = {"out": out, "bias": False}
        nodes = [i]
        t = node.output[0]
        add = self.sole(t, "Add")
        if add is not None:
            other = [x for x in self.data[add].input if x != t]
            bias = len(other) == 1 and not self.is_data(other[0])
            if bias and math.prod(self.shape(other[0])) == out:
                attrs["bias"] = True
                nodes.append(add)
                t = self.data[add].output[0]
        t = self.fused(t, attrs, nodes)
        self.emit(nodes, "linear", attrs, [a], t)

    # ---- norms and activations on their own ------------------------------------------------

    def _norm_layer(self, i: int, node: NodeProto) -> None:
        norm, groups = self._norm(node)
        attrs: dict[str, Any] = {} if groups is None else {"groups": groups}
        self.emit([i], norm, attrs, [node.input[0]], node.output[0])

    _op_BatchNormalization = _norm_layer
    _op_LayerNormalization = _norm_layer
    _op_GroupNormalization = _norm_layer

    def _activation_layer(self, i: int, node: NodeProto) -> None:
        act = self.activation(i)
        if act is None:
            raise _Refuse("not an activation sepcalc has (Clip other than 0..6)")
        self.emit(act.nodes, act.name, {}, [node.input[0]], act.out)

    _op_Relu = _activation_layer
    _op_Clip = _activation_layer
    _op_HardSwish = _activation_layer
    _op_HardSigmoid = _activation_layer
    _op_Sigmoid = _activation_layer
    _op_Gelu = _activation_layer
    _op_Tanh = _activation_layer

    # ---- element-wise merges ---------------------------------------------------------------

    def _op_Add(self, i: int, node: NodeProto) -> None:
        ins = self.data_inputs(node)
        if len(ins) != len(node.input):
            raise _Refuse("adds a constant (sepcalc adds layers' outputs)")
        self.emit([i], "add", {}, ins, node.output[0])

    def _op_Mul(self, i: int, node: NodeProto) -> None:
        ins = self.data_inputs(node)
        if len(ins) == len(node.input):
            self.emit([i], "mul", {}, ins, node.output[0])
            return
        if len(ins) != 1:
            raise _Refuse("multiplies constants")
        x = ins[0]
        const = next(t for t in node.input if t != x)
        channels = self.lshape(x)[0]
        shape = [d for d in self.shape(const) if d != 1]
        if shape == [channels] and self._channel_axis(x, self.shape(const)):
            self.emit([i], "layer_scale", {}, [x], node.output[0])
            return
        raise _Refuse("multiplies by a constant that is not one value per channel")

    def _channel_axis(self, x: str, const: tuple[int, ...]) -> bool:
        """Does ``const`` broadcast along the channel axis of ``x``?"""
        rank = len(self.shape(x))
        full = (1,) * (rank - len(const)) + tuple(const)
        axis = rank - 1 if self.layout.get(x) == "cl" else 1
        return all(d == 1 for k, d in enumerate(full) if k != axis)

    def _op_Concat(self, i: int, node: NodeProto) -> None:
        ins = self.data_inputs(node)
        if len(ins) != len(node.input):
            raise _Refuse("concatenates a constant")
        rank = len(self.shape(node.output[0]))
        axis = int(_attr(node, "axis", 1)) % rank
        lay = self.need_layout(ins[0], "cf", "cl")
        if axis != (rank - 1 if lay == "cl" else 1):
            raise _Refuse(f"along axis {axis}, not the channels")
        self.emit([i], "concat", {}, ins, node.output[0])

    # ---- pooling ---------------------------------------------------------------------------

    def _pool(self, i: int, node: NodeProto) -> None:
        x = node.input[0]
        self.need_layout(x, "cf")
        kernel = list(_attr(node, "kernel_shape"))
        n = len(kernel)
        stride = list(_attr(node, "strides", [1] * n))
        pads = list(_attr(node, "pads", [0] * 2 * n))
        dilation = list(_attr(node, "dilations", [1] * n))
        ceil = bool(_attr(node, "ceil_mode", 0))
        padding = _padding(
            _attr(node, "auto_pad", "NOTSET"), pads[:n], pads[n:], self.lshape(x)[1:],
            self.lshape(node.output[0])[1:], kernel, stride, dilation, same_default=False,
        )  # fmt: skip
        attrs: dict[str, Any] = {"kernel": kernel, "padding": padding, "dilation": dilation,
                                 "ceil_mode": ceil}  # fmt: skip
        if stride != kernel:
            attrs["stride"] = stride
        kind = "maxpool" if node.op_type == "MaxPool" else "avgpool"
        self.emit([i], kind, attrs, [x], node.output[0])

    _op_MaxPool = _pool
    _op_AveragePool = _pool

    def _op_GlobalAveragePool(self, i: int, node: NodeProto) -> None:
        x = node.input[0]
        self.need_layout(x, "cf")
        if not self._squeeze_excite(i, x, node.output[0], "adaptive"):
            self.emit([i], "global_avg_pool", {}, [x], node.output[0])

    def _op_ReduceMean(self, i: int, node: NodeProto) -> None:
        x = node.input[0]
        self.need_layout(x, "cf")
        rank = len(self.shape(x))
        axes = _attr(node, "axes")
        if axes is None and len(node.input) > 1 and node.input[1]:
            axes = self.ints(node.input[1])
        if axes is None or sorted(a % rank for a in axes) != list(range(2, rank)):
            raise _Refuse("a mean over other axes than all the spatial ones")
        out = node.output[0]
        if _attr(node, "keepdims", 1):
            if not self._squeeze_excite(i, x, out, "mean"):
                self.emit([i], "global_avg_pool", {"method": "mean"}, [x], out)
            return
        pooled = (self.lshape(x)[0], *(1,) * (rank - 2))
        self.emit([i], "global_avg_pool", {"method": "mean"}, [x], out + "#pooled", pooled)
        self.emit([i], "flatten", {}, [out + "#pooled"], out)

    def _squeeze_excite(self, i: int, x: str, pooled: str, method: str) -> bool:
        """pool, 1x1 conv (bias), act, 1x1 conv (bias), gate, x * gate: one layer."""
        channels = self.lshape(x)[0]
        first = self._conv1x1(pooled, None, channels)
        if first is None:
            return False
        squeeze, c1 = first
        act = self.act_after(self.data[c1].output[0])
        if act is None:
            return False
        second = self._conv1x1(act.out, channels, squeeze)
        if second is None:
            return False
        gate = self.act_after(self.data[second[1]].output[0])
        if gate is None:
            return False
        mul = self.sole(gate.out, "Mul")
        if mul is None or {self.resolve(t) for t in self.data[mul].input} != {
            self.resolve(x),
            gate.out,
        }:
            return False
        nodes = [i, c1, *act.nodes, second[1], *gate.nodes, mul]
        attrs = {"squeeze": squeeze, "act": act.name, "gate": gate.name, "pool": method}
        self.emit(nodes, "squeeze_excite", attrs, [x], self.data[mul].output[0])
        return True

    def _conv1x1(self, t: str, out: int | None, cin: int) -> tuple[int, int] | None:
        c = self.sole(t, "Conv")
        if c is None:
            return None
        node = self.data[c]
        weight = self.shapes.get(node.input[1]) or ()
        ok = (
            not self.is_data(node.input[1])
            and len(node.input) > 2
            and bool(node.input[2])
            and int(_attr(node, "group", 1)) == 1
            and all(k == 1 for k in weight[2:])
            and len(weight) > 2
            and weight[1] == cin
            and (out is None or weight[0] == out)
            and not any(_attr(node, "pads", []))
            and all(s == 1 for s in _attr(node, "strides", []))
        )
        return (weight[0], c) if ok else None

    # ---- reshaping -------------------------------------------------------------------------

    def _op_Flatten(self, i: int, node: NodeProto) -> None:
        if _attr(node, "axis", 1) != 1:
            raise _Refuse("flattens from another axis than the channels")
        self.emit([i], "flatten", {}, [node.input[0]], node.output[0])

    def _op_Reshape(self, i: int, node: NodeProto) -> None:
        x, y = node.input[0], node.output[0]
        shape, target = self.shape(x), self.shape(y)
        if len(target) == 2 and target[0] == shape[0]:
            self.emit([i], "flatten", {}, [x], y)
            return
        self.need_layout(x, "cf")
        if len(target) == len(shape) + 1 and target[0] == shape[0]:
            groups = target[1]
            t = self.sole(y, "Transpose")
            rank = len(target)
            perm = [0, 2, 1, *range(3, rank)]
            if t is not None and list(_attr(self.data[t], "perm", [])) == perm:
                back = self.sole(self.data[t].output[0], "Reshape")
                if back is not None and self.shape(self.data[back].output[0]) == shape:
                    self.emit(
                        [i, t, back],
                        "channel_shuffle",
                        {"groups": groups},
                        [x],
                        self.data[back].output[0],
                    )
                    return
        raise _Refuse(f"to {list(target)}: neither a flatten nor a channel shuffle")

    def _op_Slice(self, i: int, node: NodeProto) -> None:
        x = node.input[0]
        rank = len(self.shape(x))
        if len(node.input) > 1:
            starts, ends = self.ints(node.input[1]), self.ints(node.input[2])
            axes = self.ints(node.input[3]) if len(node.input) > 3 and node.input[3] else None
            steps = self.ints(node.input[4]) if len(node.input) > 4 and node.input[4] else None
        else:
            starts, ends = list(_attr(node, "starts", [])), list(_attr(node, "ends", []))
            axes, steps = _attr(node, "axes"), None
        if starts is None or ends is None:
            raise _Refuse("its bounds are computed at run time")
        axes = list(axes) if axes is not None else list(range(len(starts)))
        lay = self.need_layout(x, "cf", "cl")
        channel = rank - 1 if lay == "cl" else 1
        if [a % rank for a in axes] != [channel] or (steps and steps != [1]):
            raise _Refuse("not a slice of the channels with step 1")
        c = self.lshape(x)[0]
        start, stop = (max(0, min(c, v + c if v < 0 else v)) for v in (starts[0], ends[0]))
        self.emit([i], "slice", {"start": start, "stop": stop}, [x], node.output[0])

    def _op_Split(self, i: int, node: NodeProto) -> None:
        x = node.input[0]
        rank = len(self.shape(x))
        lay = self.need_layout(x, "cf", "cl")
        if int(_attr(node, "axis", 0)) % rank != (rank - 1 if lay == "cl" else 1):
            raise _Refuse("not a split of the channels")
        start = 0
        for out in node.output:
            size = self.lshape(out)[0]
            if self.users(out):
                self.emit([i], "slice", {"start": start, "stop": start + size}, [x], out)
            start += size

    def _op_Resize(self, i: int, node: NodeProto) -> None:
        x, y = node.input[0], node.output[0]
        self.need_layout(x, "cf")
        mode = _attr(node, "mode", "nearest")
        size_in, size_out = self.lshape(x)[1:], self.lshape(y)[1:]
        if mode == "linear":
            mode = {1: "linear", 2: "bilinear", 3: "trilinear"}.get(len(size_in), "")
        if mode not in ("nearest", "linear", "bilinear", "trilinear"):
            raise _Refuse(f"{_attr(node, 'mode', 'nearest')} interpolation")
        scales = self.value(node.input[2]) if len(node.input) > 2 else None
        attrs: dict[str, Any] = {"mode": mode}
        whole = scales is not None and scales.size and all(float(s).is_integer() for s in scales)
        if whole and scales is not None and [int(s) for s in scales[:2]] == [1, 1]:
            attrs["scale"] = [int(s) for s in scales[2:]]
        else:
            attrs["size"] = list(size_out)
        self.emit([i], "upsample", attrs, [x], y)

    _op_Upsample = _op_Resize

    # ---- attention -------------------------------------------------------------------------

    def _attention(self) -> None:
        for s, node in enumerate(self.data):
            if node.op_type == "Softmax" and s not in self.done:
                try:
                    self._attention_at(s)
                except _Refuse:
                    continue

    def _attention_at(self, s: int) -> None:
        """MatMul(q, k^T) -> Softmax -> MatMul(., v) between a qkv projection (MatMul by a
        C x 3C weight, its bias Add) and an output projection (C x C), reached from a feature
        map of C channels through reshapes and transposes only, and back to its shape."""
        producers = {o: k for k, n in enumerate(self.data) for o in n.output}
        scores = producers.get(self.data[s].input[0])
        mixed = self.sole(self.data[s].output[0], "MatMul")
        if scores is None or mixed is None or self.data[scores].op_type != "MatMul":
            raise _Refuse("")
        moves = ("Reshape", "Transpose", "Gather", "Squeeze", "Unsqueeze", "Split", "Slice",
                 "Mul", "Div", "Add")  # fmt: skip

        def back_to_qkv(t: str) -> int:
            while True:
                k = producers.get(t)
                if k is None:
                    raise _Refuse("")
                node = self.data[k]
                if node.op_type == "MatMul" and not self.is_data(node.input[1]):
                    return k
                if node.op_type not in moves:
                    raise _Refuse("")
                t = next(x for x in node.input if self.is_data(x))

        qkv = {back_to_qkv(t) for t in [*self.data[scores].input, self.data[mixed].input[1]]}
        if len(qkv) != 1:
            raise _Refuse("")
        q = qkv.pop()
        channels, three = self.shape(self.data[q].input[1])
        if three != 3 * channels:
            raise _Refuse("")
        entry = self.data[q].input[0]
        first_reshape = None
        while self.resolve(entry) == entry and entry in producers:
            node = self.data[producers[entry]]
            if node.op_type not in ("Reshape", "Transpose") or producers[entry] in self.renames:
                break
            if node.op_type == "Reshape":
                first_reshape = node
            entry = node.input[0]
        rank = len(self.shape(entry))
        if self.layout.get(entry, "cf") != "cf" or self.lshape(entry)[0] != channels:
            raise _Refuse("")
        # forward from the mixing product to the output projection and back to the map
        t = self.data[mixed].output[0]
        proj = None
        while proj is None or self.shape(t) != self.shape(entry):
            u = self.sole(t, ("Reshape", "Transpose", "Add", "MatMul"))
            if u is None:
                raise _Refuse("")
            node = self.data[u]
            if node.op_type in ("MatMul", "Add") and all(self.is_data(x) for x in node.input):
                raise _Refuse("")
            if node.op_type == "MatMul":
                if proj is not None or self.shape(node.input[1]) != (channels, channels):
                    raise _Refuse("")
                proj = u
            t = node.output[0]
        exit_ = t
        # every node between entry and exit_
        region: set[int] = set()
        stack = [exit_]
        while stack:
            k = producers.get(stack.pop())
            if k is None or k in region:
                continue
            region.add(k)
            stack += [x for x in self.data[k].input if self.is_data(x) and x != entry]
        for k in region:
            for o in self.data[k].output:
                if o != exit_ and any(u < 0 or u not in region for u in self.users(o)):
                    raise _Refuse("")
        qkv_bias = any(
            self.data[k].op_type == "Add" and self.data[q].output[0] in self.data[k].input
            for k in region
        )
        proj_bias = any(
            self.data[k].op_type == "Add" and self.data[proj].output[0] in self.data[k].input
            for k in region
        )
        heads = self.shape(self.data[s].input[0])[1]
        area = self.shape(self.data[s].input[0])[0] // self.batch
        dims = rank - 2
        patch = [1] * dims
        if area != 1:
            target = self.shape(first_reshape.output[0]) if first_reshape is not None else ()
            if len(target) != 2 + 2 * dims:
                raise _Refuse("")
            patch = [target[3 + 2 * k] for k in range(dims)]
            if math.prod(patch) != area:
                raise _Refuse("")
        attrs = {"heads": heads, "patch": patch, "qkv_bias": qkv_bias, "proj_bias": proj_bias}
        self.emit(sorted(region), "attention", attrs, [entry], exit_)


class _Refuse(Exception):
    """This node (and the pattern it starts) is not a layer sepcalc has; the message says why."""


def _padding(
    auto_pad: str,
    begin: Sequence[int],
    end: Sequence[int],
    size: Sequence[int],
    out: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    same_default: bool,
) -> Any:
    """The spec's padding for ONNX's: None (the kind's default), numbers, 'same' or 'valid'.

    'same' (TensorFlow's) pads ``max((o - 1) * s + d * (k - 1) + 1 - n, 0)`` in total with
    ``o = ceil(n / s)``, the extra one at the end; symmetric padding equal to it is the default
    of a conv, written as nothing.
    """
    if auto_pad == "SAME_UPPER":
        return "same"
    if auto_pad == "VALID":
        return "valid"
    if auto_pad == "SAME_LOWER":
        raise _Refuse("SAME_LOWER padding (the extra row first)")
    same_out = [-(-n // s) for n, s in zip(size, stride, strict=True)]
    totals = [
        max((o - 1) * s + d * (k - 1) + 1 - n, 0)
        for n, o, k, s, d in zip(size, same_out, kernel, stride, dilation, strict=True)
    ]
    is_same = list(out) == same_out
    if list(begin) == list(end):
        if same_default and is_same and all(t == 2 * b for t, b in zip(totals, begin, strict=True)):
            return None
        return list(begin) if any(begin) or same_default else None
    if is_same and all(
        b == t // 2 and e == t - t // 2 for b, e, t in zip(begin, end, totals, strict=True)
    ):
        return "same"
    raise _Refuse(f"asymmetric padding {list(begin)} before and {list(end)} after")


def _scope(names: Sequence[str], whole: bool = False) -> str:
    """The module path of a layer's nodes, the first being its main node, as torch.onnx names
    nodes ('/conv1/conv1.0/Conv'): the path the nodes share when they are the members of one
    Sequential (conv1.0, conv1.1, conv1.2 -> 'conv1'), else the main node's ('/se/fc1/Conv',
    '/se/relu/Relu' -> 'se.fc1'); for a ``whole`` module written as one layer (a
    squeeze-excite, an attention), the shared path; a node name without a path as it is."""
    paths = [n.split("/")[1:-1] if n.startswith("/") else [] for n in names if n]
    if not paths:
        return ""
    main = paths[0]
    if not main:
        return names[0] if names[0] and "/" not in names[0] else ""
    common: list[str] = []
    for parts in zip(*paths, strict=False):
        if any(p != parts[0] for p in parts):
            break
        common.append(parts[0])
    member = main[len(common)] if len(main) > len(common) else ""
    if common and (whole or re.search(r"\.\d+$", member)):
        return _dotted(common)
    return _dotted(main)


def _dotted(parts: Sequence[str]) -> str:
    """A module path from torch.onnx's scope parts, which are full dotted paths
    ('features', 'features.0') or, below a module with a custom forward, relative names
    ('pwconv2', 'linear' -> 'pwconv2.linear')."""
    name = ""
    for part in parts:
        name = part if not name or part.startswith(name + ".") else f"{name}.{part}"
    return name


def _in_order(found: list[tuple[int, ImportedLayer]]) -> list[ImportedLayer]:
    """The layers by their first node, moved later where an input is made after them."""
    pending = [layer for _, layer in sorted(found, key=lambda p: p[0])]
    made = {NETWORK_INPUT}
    ordered: list[ImportedLayer] = []
    while pending:
        for k, layer in enumerate(pending):
            if all(t in made for t in layer.inputs):
                ordered.append(pending.pop(k))
                made.add(layer.output)
                break
        else:  # an input no layer makes: the writer reports it
            ordered += pending
            break
    return ordered
