"""Round trip on the whole zoo: spec -> torch module -> ONNX (torch.onnx) -> import -> analyze.

Needs the torch and onnx extras (skipped without them). The module is the one `export torch`
writes; torch's TorchScript exporter (``dynamo=False``: it needs no onnxscript and works
offline) writes the ONNX file. ``TrainingMode.PRESERVE`` keeps each BatchNormalization as a
node: in eval mode the exporter folds it into the conv before it (see the last test).
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("onnx")
pytest.importorskip("torch")

import torch

from sepcalc.crosscheck.build import build_module
from sepcalc.graph import Graph, build_graph
from sepcalc.importers.onnx import import_onnx
from sepcalc.importers.spec_text import ImportedSpec
from sepcalc.spec import load_spec
from tests.conftest import EXAMPLES

pytestmark = [pytest.mark.torch, pytest.mark.onnx]

SPECS = sorted(EXAMPLES.glob("*.yaml"))


def to_onnx(graph: Graph, path: Path, preserve: bool = True) -> Path:
    module, plan = build_module(graph, device="meta")
    module = module.to_empty(device="cpu")  # no initialisation: the values never count
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            tensor.zero_()
    mode = torch.onnx.TrainingMode.PRESERVE if preserve else torch.onnx.TrainingMode.EVAL
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notices
        torch.onnx.export(
            module,
            (torch.zeros(1, *plan.input_shape),),
            str(path),
            dynamo=False,
            training=mode,
            do_constant_folding=not preserve,
        )
    return path


def round_trip(spec: Path, tmp_path: Path, preserve: bool = True) -> tuple[Graph, ImportedSpec]:
    graph = build_graph(load_spec(spec))
    return graph, import_onnx(to_onnx(graph, tmp_path / f"{spec.stem}.onnx", preserve))


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_zoo_round_trip_keeps_params_and_macs(spec: Path, tmp_path: Path) -> None:
    graph, imported = round_trip(spec, tmp_path)
    before, after = graph.total(), imported.graph.total()
    assert (after.params, after.macs) == (before.params, before.macs)
    assert imported.graph.input_shape == graph.input_shape
    assert imported.graph.output_shape == graph.output_shape
    assert layer_kinds(imported.graph) == layer_kinds(graph)
    assert activations(imported.graph) == activations(graph)


ACTIVATIONS = frozenset({"relu", "relu6", "hardswish", "hardsigmoid", "sigmoid", "silu", "swish",
                         "gelu", "tanh"})  # fmt: skip


def layer_kinds(graph: Graph) -> Counter[str]:
    """The layers other than activations, as an import writes them: dropout is the identity in
    an exported (eval) graph; torch has no separable conv (a depthwise and a pointwise one);
    a 1x1 conv without padding is a pointwise conv; torch exports an adaptive pool whose
    output size divides its input as an average pool."""
    kinds: Counter[str] = Counter()
    for node in graph.nodes:
        kind = node.kind
        if kind in ACTIVATIONS or kind == "dropout":
            continue
        if kind == "separable":
            kinds.update(["depthwise", "pointwise"])
            continue
        if kind == "conv" and set(node.attrs["kernel"]) == {1} and not any(node.attrs["padding"]):
            kind = "pointwise"
        kinds[{"adaptive_avg_pool": "avgpool"}.get(kind, kind)] += 1
    return kinds


def activations(graph: Graph) -> Counter[str]:
    """Every activation, a layer of its own or fused (``act:``): an import fuses an activation
    into the layer before it wherever that layer's output has no other use, as Xception's
    ReLU that starts a unit, which the spec writes as a layer."""
    found: Counter[str] = Counter()
    for node in graph.nodes:
        if node.kind in ACTIVATIONS:
            found[node.kind] += 1
        elif node.kind != "squeeze_excite":  # its act and gate are inside it
            found.update(node.attrs[k] for k in ("act", "mid_act") if node.attrs.get(k))
    return found


@pytest.mark.parametrize(
    ("spec", "lines"),
    [
        (
            "mobilenet_v2",
            [
                "- {kind: conv, name: conv1, out: 32, kernel: 3, stride: 2, norm: batchnorm, "
                "act: relu6}",
                "- {kind: depthwise, name: stage1_bottleneck1_dw, norm: batchnorm, act: relu6}",
            ],
        ),
        (
            "mobilevit_s",
            ["- {kind: attention, name: mobilevit2_transformer_0_attn, heads: 4, patch: 2}"],
        ),
        ("efficientnet_b0",
         ["- {kind: squeeze_excite, name: stage1_mbconv1_se, squeeze: 8, act: silu}"]),
        ("shufflenet_v2_x1_0",
         ["- {kind: channel_shuffle, name: stage2_down1_channel_shuffle1, groups: 2}"]),
    ],
    ids=["fused-conv", "attention", "squeeze-excite", "channel-shuffle"],
)  # fmt: skip
def test_round_trip_writes_the_spec_kinds(spec: str, lines: list[str], tmp_path: Path) -> None:
    _, imported = round_trip(EXAMPLES / f"{spec}.yaml", tmp_path)
    written = [line.strip() for line in imported.text.splitlines()]
    for line in lines:
        assert line in written


def test_eval_export_folds_batchnorm_into_the_conv_bias(tmp_path: Path) -> None:
    """torch.onnx's default (eval mode, constant folding) folds every BatchNorm after a conv
    into its weights and a new bias: the import notes each one and counts the bias, so a
    folded net has C fewer params per BatchNorm (its 2C weights become the conv's C biases)."""
    graph, imported = round_trip(EXAMPLES / "mobilenet_v2.yaml", tmp_path, preserve=False)
    norms = [n for n in graph.nodes if n.attrs.get("norm") == "batchnorm"]
    channels = sum(n.output_shape[0] for n in norms)
    assert len(norms) == 52  # every conv of torchvision's MobileNetV2
    assert len(imported.notes) == 52
    assert imported.graph.total().params == graph.total().params - channels
    assert imported.graph.total().macs == graph.total().macs
    assert "52 convs carry a BatchNorm the exporter folded in" in imported.text
