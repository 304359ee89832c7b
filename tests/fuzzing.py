"""Malformed specs, written and generated, and what every run of sepcalc on one must keep.

Used by tests/test_fuzz.py (the written corpus in full, a sample of generated ones) and by
benchmarks/fuzz_specs.py (thousands of generated runs, with timings and failure classes).

The invariants, for ANY input: exit 0, 1 or 2, never an internal error or a traceback; an
invalid spec is exit 2 with every diagnostic at ``file:line:col`` (or at the file, for a
problem of the whole file) in the spec's words, not Python's; within a few seconds.
"""

from __future__ import annotations

import contextlib
import datetime
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from sepcalc.cli import app, register
from sepcalc.formulas import REGISTRY

register()
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))

PYTHON_WORDS = re.compile(
    r"Traceback|internal error|[Ii]nput should|should be a valid|datetime\.|NoneType|\bNone\b"
    r"|\bTrue\b|\bFalse\b|Exceeds the limit|set_int_max_str_digits|<class|object at 0x"
    r"|[A-Z][a-z]+Error\b|\bkwargs\b|\bargs\b|unhashable|not subscriptable"
    r"|not iterable|\bposition \d+"
)
"""Words that only Python (or pydantic, or libyaml) says: a message must not leak them."""

WHOLE_FILE = ("cannot read spec", "the text is longer than")
"""Problems of the whole file, which have no line to point at."""


# ---- a written corpus: one case per kind of mistake -----------------------------------------

HEAD = "name: corpus\ninput: {channels: 8, size: 16}\n"
BLOCK = (
    "blocks:\n  unit:\n    params: {out: null, act: relu, k: 3}\n"
    "    layers:\n      - {kind: conv, out: out, kernel: k, act: act}\n"
)


def _layers(*entries: str) -> str:
    return HEAD + BLOCK + "layers:\n" + "".join(f"  - {e}\n" for e in entries)


CORPUS: dict[str, str] = {
    # YAML itself
    "empty-file": "",
    "only-a-comment": "# nothing\n",
    "a-list": "- {kind: relu}\n",
    "a-scalar": "relu\n",
    "tab-indent": "name: x\ninput:\n\tchannels: 3\n",
    "unclosed-bracket": HEAD + "layers: [{kind: relu}\n",
    "unclosed-quote": HEAD + "layers:\n  - {kind: 'relu}\n",
    "bad-indent": HEAD + "layers:\n  - kind: relu\n   out: 3\n",
    "duplicate-key": HEAD + "layers:\n  - {kind: relu, kind: gelu}\n",
    "two-documents": HEAD + "layers: [{kind: relu}]\n---\nname: y\n",
    "nul-byte": HEAD + "layers: [{kind: relu\x00}]\n",
    "bell-char": HEAD + "layers: [{kind: relu\x07}]\n",
    "unknown-tag": HEAD + "layers: [!!python/object {kind: relu}]\n",
    "set-tag": HEAD + "layers: [!!set {kind: relu}]\n",
    "binary-tag": HEAD + "name: !!binary aGVsbG8=\nlayers: [{kind: relu}]\n",
    "undefined-alias": HEAD + "layers: [*nope]\n",
    "list-as-key": HEAD + "layers:\n  - {kind: relu, ? [a]: 1}\n",
    "mapping-as-key": HEAD + "layers:\n  - kind: relu\n    ? {a: 1}\n    : 2\n",
    "expr-syntax-warning": _layers("{kind: conv, kernel: 3, out: '8if 1 else 4'}"),
    "merge-key": HEAD + "base: &b {kind: relu}\nlayers: [{<<: *b, name: r}]\n",
    "deep-flow": HEAD + "layers: [{kind: conv, kernel: 1, out: " + "[" * 150 + "]" * 150 + "}]\n",
    "deep-block": HEAD + "layers:\n" + "  " + "- " * 150 + "x\n",
    "digits-5000": _layers("{kind: conv, kernel: 1, out: " + "7" * 5000 + "}"),
    "digits-1300": _layers("{kind: conv, kernel: 1, out: " + "7" * 1300 + "}"),
    "hex-huge": _layers("{kind: conv, kernel: 1, out: 0x" + "f" * 1100 + "}"),
    "float-inf": _layers("{kind: dropout, p: .inf}"),
    "float-nan": _layers("{kind: dropout, p: .nan}"),
    "float-1e400": _layers("{kind: dropout, p: 1e400}"),
    "bom-in-middle": HEAD + "layers: [{kind: \ufeffrelu}]\n",
    "crlf": HEAD.replace("\n", "\r\n") + "layers: [{kind: relu}]\r\n",
    "unicode-name": _layers("{kind: relu, name: réseau}"),
    # top-level sections
    "no-input": "name: x\nlayers: [{kind: relu}]\n",
    "no-layers": HEAD,
    "empty-layers": HEAD + "layers: []\n",
    "layers-mapping": HEAD + "layers: {kind: relu}\n",
    "name-date": "name: 2024-01-01\ninput: {channels: 3, size: 8}\nlayers: [{kind: relu}]\n",
    "name-null": "name:\ninput: {channels: 3, size: 8}\nlayers: [{kind: relu}]\n",
    "name-list": "name: [a]\ninput: {channels: 3, size: 8}\nlayers: [{kind: relu}]\n",
    "unknown-section": HEAD + "layer: [{kind: relu}]\nlayers: [{kind: relu}]\n",
    "input-string": "input: rgb\nlayers: [{kind: relu}]\n",
    "input-4-dims": "input: {channels: 3, size: [2, 2, 8, 8]}\nlayers: [{kind: relu}]\n",
    "input-0-dims": "input: {channels: 3, size: []}\nlayers: [{kind: relu}]\n",
    "input-zero": "input: {channels: 0, size: 8}\nlayers: [{kind: relu}]\n",
    "input-negative": "input: {channels: 3, size: [-8, 8]}\nlayers: [{kind: relu}]\n",
    "input-fraction": "input: {channels: 1.5, size: 8}\nlayers: [{kind: relu}]\n",
    "input-expression-undefined": "input: {channels: c, size: 8}\nlayers: [{kind: relu}]\n",
    "vars-list": HEAD + "vars: [a, b]\nlayers: [{kind: relu}]\n",
    "vars-cycle": HEAD + "vars: {a: b, b: a}\nlayers: [{kind: relu}]\n",
    "vars-reserved": HEAD + "vars: {i: 1, input: 2, in_channels: 3}\nlayers: [{kind: relu}]\n",
    "vars-keyword": HEAD + "vars: {class: 1, 2x: 3}\nlayers: [{kind: relu}]\n",
    "budget-list": HEAD + "budget: [macs]\nlayers: [{kind: relu}]\n",
    "budget-junk": HEAD + "budget: {macs: lots, params: -1, flops: 1.5}\nlayers: [{kind: relu}]\n",
    "budget-unknown-metric": HEAD + "budget: {maccs: 1M}\nlayers: [{kind: relu}]\n",
    # layer entries
    "layer-string": _layers("relu"),
    "layer-null": _layers("null"),
    "layer-list": _layers("[relu]"),
    "no-kind": _layers("{out: 8}"),
    "unknown-kind": _layers("{kind: convolution, out: 8}"),
    "kind-number": _layers("{kind: 3}"),
    "kind-and-block": _layers("{kind: relu, block: unit, out: 8}"),
    "unknown-key": _layers("{kind: conv, out: 8, kernel_size: 3}"),
    "missing-required": _layers("{kind: conv, kernel: 3}"),
    "out-zero": _layers("{kind: conv, out: 0, kernel: 3}"),
    "out-negative": _layers("{kind: conv, out: -8, kernel: 3}"),
    "out-fraction": _layers("{kind: conv, out: 2.5, kernel: 3}"),
    "out-bool": _layers("{kind: conv, out: true, kernel: 3}"),
    "out-list-nested": _layers("{kind: conv, out: [[8]], kernel: 3}"),
    "stride-nested": _layers("{kind: conv, out: 8, kernel: 3, stride: [[2, 2]]}"),
    "kernel-3-values-2d": _layers("{kind: conv, out: 8, kernel: [3, 3, 3]}"),
    "kernel-too-big": _layers("{kind: conv, out: 8, kernel: 99, padding: 0}"),
    "groups-not-dividing": _layers("{kind: conv, out: 8, kernel: 3, groups: 3}"),
    "padding-word": _layers("{kind: conv, out: 8, kernel: 3, padding: full}"),
    "padding-negative": _layers("{kind: conv, out: 8, kernel: 3, padding: -1}"),
    "dilation-zero": _layers("{kind: conv, out: 8, kernel: 3, dilation: 0}"),
    "norm-unknown": _layers("{kind: conv, out: 8, kernel: 3, norm: bn}"),
    "act-unknown": _layers("{kind: conv, out: 8, kernel: 3, act: swishh}"),
    "act-number": _layers("{kind: conv, out: 8, kernel: 3, act: 6}"),
    "bias-string": _layers("{kind: conv, out: 8, kernel: 3, bias: 'yes please'}"),
    "bias-number": _layers("{kind: linear, out: 8, bias: 2}"),
    "dropout-over-1": _layers("{kind: dropout, p: 1.5}"),
    "repeat-negative": _layers("{kind: relu, repeat: -1}"),
    "repeat-huge": _layers("{kind: relu, repeat: 10000000}"),
    "repeat-fraction": _layers("{kind: relu, repeat: 1.5}"),
    "repeat-expression-bomb": _layers("{kind: relu, repeat: '9**9**9'}"),
    "when-3": _layers("{kind: relu, when: 3}"),
    "when-string": _layers("{kind: relu, when: maybe}"),
    "when-list": _layers("{kind: relu, when: [true]}"),
    "name-reserved": _layers("{kind: relu, name: input}"),
    "name-duplicate": _layers("{kind: relu, name: a}", "{kind: relu, name: a}"),
    "name-bad-chars": _layers("{kind: relu, name: 'a b'}"),
    "name-number": _layers("{kind: relu, name: 12}"),
    "inputs-undefined": _layers("{kind: add, inputs: [input, nowhere]}"),
    "inputs-later": _layers("{kind: add, inputs: [input, later]}", "{kind: relu, name: later}"),
    "inputs-self": _layers("{kind: add, inputs: [input, me], name: me}"),
    "inputs-number": _layers("{kind: add, inputs: [input, 1]}"),
    "inputs-one-for-add": _layers("{kind: add, inputs: [input]}"),
    "inputs-two-for-relu": _layers("{kind: relu, inputs: [input, input]}"),
    "inputs-each-unknown": _layers("{kind: concat, inputs: {each: nobody}}"),
    "inputs-each-number": _layers("{kind: concat, inputs: [{each: 3}]}"),
    "inputs-each-extra": _layers("{kind: concat, inputs: {each: a, all: true}}"),
    "add-shape-mismatch": _layers(
        "{kind: conv, out: 4, kernel: 3, name: a}", "{kind: add, inputs: [input, a]}"
    ),
    "concat-size-mismatch": _layers(
        "{kind: conv, out: 8, kernel: 3, stride: 2, name: a}", "{kind: concat, inputs: [input, a]}"
    ),
    "linear-on-map": _layers("{kind: global_avg_pool}", "{kind: linear, out: 10}"),
    "pool-after-flatten": _layers("{kind: flatten}", "{kind: maxpool, kernel: 2}"),
    "maxpool-padding-over-half": _layers("{kind: maxpool, kernel: 2, stride: 2, padding: 3}"),
    "avgpool-dilation": _layers("{kind: avgpool, kernel: 3, dilation: 2}"),
    "avgpool-ceil-padding": _layers("{kind: avgpool, kernel: 3, padding: 2, ceil_mode: true}"),
    "global-pool-method": _layers("{kind: global_avg_pool, method: median}"),
    # new kinds and keys
    "layernorm-key": _layers("{kind: layernorm, groups: 2}"),
    "groupnorm-not-dividing": _layers("{kind: groupnorm, groups: 3}"),
    "groupnorm-zero": _layers("{kind: groupnorm, groups: 0}"),
    "norm-groups-without-groupnorm": _layers(
        "{kind: conv, out: 8, kernel: 3, norm: batchnorm, norm_groups: 4}"
    ),
    "norm-groups-not-dividing": _layers(
        "{kind: conv, out: 8, kernel: 3, norm: groupnorm, norm_groups: 3}"
    ),
    "layer-scale-key": _layers("{kind: layer_scale, init: 0.1}"),
    "attention-heads-not-dividing": _layers("{kind: attention, heads: 3}"),
    "attention-heads-zero": _layers("{kind: attention, heads: 0}"),
    "attention-patch-not-dividing": _layers("{kind: attention, heads: 2, patch: 3}"),
    "attention-patch-1d": "input: {channels: 8, size: [16]}\nlayers: [{kind: attention, "
    "heads: 2, patch: 2}]\n",
    "attention-flat": _layers("{kind: flatten}", "{kind: attention, heads: 2}"),
    "upsample-nothing": _layers("{kind: upsample}"),
    "upsample-two-ways": _layers("{kind: upsample, scale: 2, size: 32}"),
    "upsample-size-zero": _layers("{kind: upsample, size: 0}"),
    "upsample-size-3-values": _layers("{kind: upsample, size: [2, 2, 2]}"),
    "upsample-scale-negative": _layers("{kind: upsample, scale: -2}"),
    "upsample-scale-tiny": _layers("{kind: upsample, scale: 0.001}"),
    "upsample-scale-huge": _layers("{kind: upsample, scale: 1e300}"),
    "upsample-like-undefined": _layers("{kind: upsample, like: nowhere}"),
    "upsample-like-list": _layers("{kind: upsample, like: [input]}"),
    "upsample-like-itself": _layers("{kind: upsample, like: me, name: me}"),
    "upsample-mode-unknown": _layers("{kind: upsample, scale: 2, mode: cubic}"),
    "upsample-trilinear-2d": _layers("{kind: upsample, scale: 2, mode: trilinear}"),
    "mul-mismatch": _layers(
        "{kind: conv, out: 4, kernel: 1, name: a}", "{kind: mul, inputs: [input, a]}"
    ),
    "mul-broadcast-bad": _layers(
        "{kind: maxpool, kernel: 2, name: a}", "{kind: mul, inputs: [input, a]}"
    ),
    "mul-one-input": _layers("{kind: mul}"),
    "conv-transpose-output-padding": _layers(
        "{kind: conv_transpose, out: 8, kernel: 3, stride: 2, output_padding: 2}"
    ),
    "conv-transpose-padding-too-big": _layers(
        "{kind: conv_transpose, out: 8, kernel: 3, padding: 9}"
    ),
    # expressions
    "expr-syntax": _layers("{kind: conv, out: '8 +', kernel: 3}"),
    "expr-undefined": _layers("{kind: conv, out: width, kernel: 3}"),
    "expr-call-unknown": _layers("{kind: conv, out: 'pow(2, 3)', kernel: 3}"),
    "expr-attribute": _layers("{kind: conv, out: '().__class__', kernel: 3}"),
    "expr-import": _layers("{kind: conv, out: \"__import__('os')\", kernel: 3}"),
    "expr-lambda": _layers("{kind: conv, out: '(lambda: 8)()', kernel: 3}"),
    "expr-string": _layers("{kind: conv, out: \"'8'\", kernel: 3}"),
    "expr-division-by-zero": _layers("{kind: conv, out: '8 / 0', kernel: 3}"),
    "expr-modulo-zero": _layers("{kind: conv, out: '8 % 0', kernel: 3}"),
    "expr-power-tower": _layers("{kind: conv, out: '9**9**9', kernel: 3}"),
    "expr-power-fraction": _layers("{kind: conv, out: '8 ** 0.5', kernel: 3}"),
    "expr-huge-constant": _layers("{kind: conv, out: '" + "9" * 1300 + " // 10**1290', kernel: 3}"),
    "expr-long": _layers("{kind: conv, out: '" + "1+" * 1500 + "1', kernel: 3}"),
    "expr-deep-parens": _layers(
        "{kind: conv, out: '" + "(" * 300 + "8" + ")" * 300 + "', kernel: 3}"
    ),
    "expr-fraction-result": _layers("{kind: conv, out: '8 / 3', kernel: 3}"),
    "expr-bool-result": _layers("{kind: conv, out: '8 > 3', kernel: 3}"),
    "expr-log-zero": _layers("{kind: conv, out: 'log(0)', kernel: 3}"),
    "expr-log-negative": _layers("{kind: conv, out: 'log2(-8)', kernel: 3}"),
    "expr-log-base-one": _layers("{kind: conv, out: 'log(8, 1)', kernel: 3}"),
    "expr-sqrt-negative": _layers("{kind: conv, out: 'sqrt(-4)', kernel: 3}"),
    "expr-sqrt-irrational": _layers("{kind: conv, out: 'sqrt(2)', kernel: 3}"),
    "expr-exp-huge": _layers("{kind: conv, out: 'round(exp(5000))', kernel: 3}"),
    "expr-exp-1000": _layers("{kind: conv, out: 'round(exp(1000))', kernel: 3}"),
    "expr-exp-irrational-int": _layers("{kind: conv, out: 'exp(3)', kernel: 3}"),
    "expr-round-digits": _layers("{kind: conv, out: 'round(8, 1000)', kernel: 3}"),
    "expr-min-one-arg": _layers("{kind: conv, out: 'min(8)', kernel: 3}"),
    "expr-make-divisible-zero": _layers("{kind: conv, out: 'make_divisible(8, 0)', kernel: 3}"),
    "expr-keyword-arg": _layers("{kind: conv, out: 'round(x=8)', kernel: 3}"),
    "expr-word-arith": _layers("{block: unit, out: 'relu + 1'}"),
    # blocks
    "block-undefined": _layers("{block: nothing, out: 8}"),
    "block-unknown-arg": _layers("{block: unit, out: 8, stride: 2}"),
    "block-missing-arg": _layers("{block: unit}"),
    "block-arg-list": _layers("{block: unit, out: [8]}"),
    "block-arg-mapping": _layers("{block: unit, out: {a: 1}}"),
    "block-arg-null": _layers("{block: unit, out: null}"),
    "block-arg-date": _layers("{block: unit, out: 2024-01-01}"),
    "block-arg-alias-bomb": HEAD + BLOCK + "layers:\n  - {block: unit, out: &a9 [&a8 [&a7 "
    "[&a6 [1,1,1,1,1,1,1,1,1], *a6,*a6,*a6,*a6,*a6,*a6,*a6,*a6], *a7,*a7,*a7,*a7,*a7,*a7,*a7,"
    "*a7], *a8,*a8,*a8,*a8,*a8,*a8,*a8,*a8]}\n",
    "block-word-not-a-choice": _layers("{block: unit, out: 8, act: swishh}"),
    "block-word-as-number": _layers("{block: unit, out: relu}"),
    "block-param-reserved": HEAD + "blocks:\n  b:\n    params: [i, kind]\n    layers: "
    "[{kind: relu}]\nlayers: [{block: b, i: 1, kind: 2}]\n",
    "block-param-bad-name": HEAD + "blocks:\n  b:\n    params: ['a b']\n    layers: "
    "[{kind: relu}]\nlayers: [{block: b}]\n",
    "block-params-list-defaults": HEAD + "blocks:\n  b:\n    params: {k: [3]}\n    layers: "
    "[{kind: relu}]\nlayers: [{block: b}]\n",
    "block-no-layers": HEAD + "blocks:\n  b: {params: [a]}\nlayers: [{block: b, a: 1}]\n",
    "block-recursion": HEAD + "blocks:\n  a: {layers: [{block: b}]}\n  b: {layers: [{block: a}]}\n"
    "layers: [{block: a}]\n",
    "block-repeat-explosion": HEAD + "blocks:\n  a: {layers: [{kind: relu, repeat: 1000}]}\n"
    "  b: {layers: [{block: a, repeat: 1000}]}\nlayers: [{block: b, repeat: 1000}]\n",
    "block-two-inputs": _layers("{block: unit, out: 8, inputs: [input, input]}"),
    "block-name-param": HEAD + "blocks:\n  b:\n    params: [a]\n    layers: [{kind: conv, out: 8, "
    "kernel: 1, act: a}]\nlayers: [{block: b, a: 7}]\n",
    "error-at-line-100": _layers(*["{kind: relu}"] * 91, "{kind: relu, when: 3}"),  # ':100:'
    "block-layers-many": HEAD + "layers:\n" + "  - {kind: relu}\n" * 20 + "  - {kind: relu",
}
"""The written corpus: each a mistake someone makes, by hand or on purpose."""


# ---- generated: mutations of the zoo and of every kind's example ----------------------------

HOSTILE: tuple[Any, ...] = (
    None, True, False, 0, -1, 1, 2, 3, 7, 64, 2**64, 10**300, 0.5, -0.5, 1e-300, 1e300,
    float("inf"), float("nan"), "", " ", "x", "relu", "input", "i", "in_channels", "1/0", "0/0",
    "10**100", "2**1000", "9**9**9", "exp(5000)", "exp(700)", "round(exp(700))", "log(0)",
    "log(-1)", "sqrt(-1)", "sqrt(2)", "log2(3)", "a if 1 else b", "__import__('os')",
    "().__class__", "x" * 3000, "1e999", "-0", "0x10", "1_000", "nan", "inf", "same", "valid",
    "batchnorm", "groupnorm", "layernorm", "nearest", "bilinear", "mean", "adaptive",
    [], [1], [0], [1, 2], [1, 2, 3], [1, 2, 3, 4], [[1]], [None], {}, {"each": "x"},
    {"each": 1}, {"a": 1}, datetime.date(2024, 1, 1), "'quoted'", "«unicode»",
)  # fmt: skip
"""Values a careless or hostile user writes where another was expected."""

KEYS = sorted(
    {a.name for kind in REGISTRY.values() for a in kind.attrs}
    | {"kind", "name", "inputs", "repeat", "when", "block", "out", "act", "norm"}
)
"""Every key a layer may have (and some it may not)."""


def base_specs() -> list[dict[str, Any]]:
    """The zoo, plus a network per declared kind example (every kind and key covered)."""
    specs: list[dict[str, Any]] = [yaml.safe_load(p.read_text()) for p in EXAMPLES]
    for kind in REGISTRY.values():
        for example in kind.examples:
            size = list(example.size) or [1]
            flat = [] if example.size else [{"kind": "flatten"}]
            layer = dict(example.layer)
            if kind.arity != 1:
                layer.setdefault("inputs", ["input", "input"])
            specs.append(
                {
                    "name": f"{kind.name}-example",
                    "input": {"channels": example.channels, "size": size},
                    "layers": [*flat, layer],
                }
            )
    return specs


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return data


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _layer_paths(data: Any) -> list[tuple[Any, ...]]:
    found = [("layers", i) for i in range(len(data.get("layers") or []))]
    for name, block in (data.get("blocks") or {}).items():
        found += [("blocks", name, "layers", i) for i in range(len(block.get("layers") or []))]
    return found


def _replace_value(rng: random.Random, data: Any) -> Any:
    path = rng.choice(list(_paths(data))[1:])
    return _set(data, path, rng.choice(HOSTILE))


def _delete_key(rng: random.Random, data: Any) -> Any:
    paths = [p for p in _paths(data) if p and isinstance(p[-1], str)]
    path = rng.choice(paths)
    del _get(data, path[:-1])[path[-1]]
    return data


def _set_key(rng: random.Random, data: Any) -> Any:
    """A key of the layer's kind (mostly) or any key, given a hostile or a plausible value."""
    layer = _get(data, rng.choice(_layer_paths(data)))
    if isinstance(layer, dict):
        kind = REGISTRY.get(str(layer.get("kind")))
        own = [a.name for a in kind.attrs] if kind is not None and kind.attrs else KEYS
        key = rng.choice(own if rng.random() < 0.7 else KEYS)
        layer[key] = rng.choice(HOSTILE if rng.random() < 0.5 else PLAUSIBLE)
    return data


def _swap_kind(rng: random.Random, data: Any) -> Any:
    layer = _get(data, rng.choice(_layer_paths(data)))
    if isinstance(layer, dict):
        layer["kind"] = rng.choice(sorted(REGISTRY))
        layer.pop("block", None)
    return data


def _rewire(rng: random.Random, data: Any) -> Any:
    paths = _layer_paths(data)
    layer = _get(data, rng.choice(paths))
    names = ["input", "nowhere"] + [
        str(_get(data, p)["name"])
        for p in paths
        if isinstance(_get(data, p), dict) and "name" in _get(data, p)
    ]
    if isinstance(layer, dict):
        choice = rng.randrange(3)
        if choice == 0:
            layer["inputs"] = rng.sample(names, min(len(names), rng.randint(1, 3)))
        elif choice == 1:
            layer["inputs"] = {"each": rng.choice(names)}
        else:
            layer["when"] = rng.choice([0, 1, 2, True, "i == 0", "i", "x"])
    return data


PLAUSIBLE: tuple[Any, ...] = (
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 17, 32, 100, 1000, 0.25, 0.5, 1.5, 2.5, "2 * 2",
    "i + 1", "in_channels", "in_channels // 2", "in_channels * 3 // 2", "i % 2", "i == 0",
    "make_divisible(in_channels * 0.75, 8)", "round(sqrt(in_channels))", "int(log2(in_channels))",
    "exp(0)", "log(in_channels, 2)",
)  # fmt: skip
"""Values that are valid somewhere: put where another valid value was, they reach the shape
rules and the formulas rather than the validator."""


def _plausible(rng: random.Random, data: Any) -> Any:
    leaves = [
        p
        for p in _paths(data)
        if p and not isinstance(_get(data, p), dict | list) and p[-1] not in ("kind", "name")
    ]
    return _set(data, rng.choice(leaves), rng.choice(PLAUSIBLE))


def _small_input(rng: random.Random, data: Any) -> Any:
    data["input"]["size"] = rng.choice([1, 2, 3, 5, [1, 1], [2, 3], [1], [7], [1, 2, 3], [3, 7, 7]])
    if rng.random() < 0.3:
        data["input"]["channels"] = rng.choice([1, 2, 3, 5])
    return data


def _shuffle(rng: random.Random, data: Any) -> Any:
    layers = data.get("layers")
    if isinstance(layers, list) and len(layers) > 1:
        i, j = rng.sample(range(len(layers)), 2)
        layers[i], layers[j] = layers[j], layers[i]
    return data


TREE_MUTATIONS: tuple[Callable[[random.Random, Any], Any], ...] = (
    _replace_value, _replace_value, _replace_value, _delete_key, _set_key, _set_key,
    _swap_kind, _swap_kind, _rewire, _shuffle, _plausible, _plausible, _plausible, _plausible,
    _small_input, _small_input,
)  # fmt: skip

NOISE = "\x00\x07\t\r\n :-[]{}&*!|>'\"#%@`,?~\\\ufeff\u2028é0123456789"


def _mutate_text(rng: random.Random, text: str) -> str:
    """A typo in the YAML text: a character dropped, doubled or inserted; a line repeated."""
    if not text:
        return text
    at = rng.randrange(len(text))
    choice = rng.randrange(4)
    if choice == 0:
        return text[:at] + text[at + 1 :]
    if choice == 1:
        return text[:at] + text[at] + text[at:]
    if choice == 2:
        return text[:at] + rng.choice(NOISE) + text[at:]
    lines = text.splitlines(keepends=True)
    k = rng.randrange(len(lines))
    return "".join(lines[: k + 1] + lines[k:])


def mutated(rng: random.Random, bases: list[dict[str, Any]]) -> str:
    """One malformed (or, by chance, valid) spec: a few mutations of a base spec."""
    data = yaml.safe_load(yaml.safe_dump(rng.choice(bases)))  # a deep copy
    for _ in range(rng.randint(1, 3)):
        # A mutation may not apply to this shape of spec: then it changes nothing.
        with contextlib.suppress(IndexError, KeyError, TypeError, AttributeError, ValueError):
            data = rng.choice(TREE_MUTATIONS)(rng, data)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**6)
    if rng.random() < 0.25:
        text = _mutate_text(rng, text)
    return text


# ---- running one ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    seconds: float
    problems: tuple[str, ...]
    """What broke an invariant (empty: none did)."""


COMMANDS = (
    ("analyze", "{spec}"),
    ("analyze", "{spec}", "-f", "json"),
    ("analyze", "{spec}", "-f", "csv", "--depth", "1"),
    ("analyze", "{spec}", "-f", "markdown", "--columns", "params,macs,flops,shape"),
    ("analyze", "{spec}", "--convention", "fvcore", "--compare-standard", "--depth", "2"),
    ("analyze", "{spec}", "--symbolic", "all"),
    ("check", "{spec}", "--max-macs", "1G", "-f", "junit"),
    ("check", "{spec}", "--max-params", "1", "-f", "github"),
    ("check", "{spec}", "--max-flops", "1T", "-f", "markdown"),
    ("diff", "{spec}", "{spec}"),
    ("export", "torch", "{spec}"),
    ("search", "width", "{spec}", "--max-macs", "300M"),
    ("search", "grid", "{spec}", "--var", "alpha=0.25:1:0.25", "--max-macs", "300M"),
)
"""The commands run on a generated spec (one chosen per run); a written one gets the first."""


def run(path: Path, command: tuple[str, ...] = COMMANDS[0], limit: float = 10.0) -> Outcome:
    """Run ``sepcalc COMMAND`` on ``path`` in-process and check the invariants on its output."""
    start = time.perf_counter()
    result = CliRunner().invoke(app, [a.replace("{spec}", str(path)) for a in command])
    seconds = time.perf_counter() - start
    problems: list[str] = []
    out = result.stdout + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        problems.append(f"exception {type(result.exception).__name__}: {result.exception}")
    if result.exit_code not in (0, 1, 2):
        problems.append(f"exit code {result.exit_code}")
    if seconds > limit:
        problems.append(f"slow: {seconds:.1f} s")
    if result.exit_code == 2:
        for line in result.stderr.splitlines()[:-1]:
            if line.startswith("error: "):  # an option's error, not the spec's
                continue
            located = re.match(rf"{re.escape(str(path))}:\d+:\d+: ", line)
            whole = any(line.startswith(f"{path}: {w}") for w in WHOLE_FILE)
            if not (located or whole):
                problems.append(f"not located: {line[:200]}")
    for match in PYTHON_WORDS.finditer(result.stderr):
        problems.append(f"python words '{match.group()}': {_around(result.stderr, match)}")
    if "internal error" in out:
        problems.append(f"internal error: {out[:300]}")
    return Outcome(result.exit_code, seconds, tuple(problems))


def _around(text: str, match: re.Match[str]) -> str:
    line_start = text.rfind("\n", 0, match.start()) + 1
    line_end = text.find("\n", match.end())
    return text[line_start : line_end if line_end >= 0 else None][:200]
