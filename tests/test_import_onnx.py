"""`sepcalc import` on ONNX graphs built with onnx.helper: no torch, hand-derived counts.

Each graph is small enough to derive by hand; the derivation is beside each expected number.
Needs the onnx extra (skipped without it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("onnx")

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from sepcalc.cli import app
from sepcalc.errors import InputError, SepcalcError
from sepcalc.importers.onnx import ImportRefused, import_model, import_onnx
from sepcalc.importers.spec_text import ImportedSpec, sanitize

pytestmark = pytest.mark.onnx

runner = CliRunner()


def weight(name: str, *shape: int) -> onnx.TensorProto:
    return numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name)


def ints(name: str, *values: int) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def floats(name: str, *values: float) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(values, dtype=np.float32), name)


def model(
    nodes: Sequence[onnx.NodeProto],
    inits: Sequence[onnx.TensorProto],
    dims: Sequence[int | str] = (1, 3, 8, 8),
    output: str = "y",
    opset: int = 17,
    inputs: Sequence[str] = ("x",),
) -> onnx.ModelProto:
    graph = helper.make_graph(
        list(nodes),
        "test_net",
        [helper.make_tensor_value_info(i, TensorProto.FLOAT, list(dims)) for i in inputs],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
        list(inits),
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def imported(m: onnx.ModelProto, **dims: tuple[int, ...]) -> ImportedSpec:
    return import_model(m, "test.onnx", dims)


def layer_lines(spec: ImportedSpec) -> list[str]:
    return [line.strip() for line in spec.text.splitlines() if line.startswith("  - ")]


def conv_bn_relu(x: str, y: str, name: str, cin: int, cout: int, **conv: object) -> list:
    return [
        helper.make_node("Conv", [x, f"{name}.w"], [f"{name}.c"], name=f"/{name}/{name}.0/Conv",
                         **conv),
        helper.make_node("BatchNormalization",
                         [f"{name}.c", f"{name}.g", f"{name}.b", f"{name}.m", f"{name}.v"],
                         [f"{name}.n"], name=f"/{name}/{name}.1/BatchNormalization"),
        helper.make_node("Relu", [f"{name}.n"], [y], name=f"/{name}/{name}.2/Relu"),
    ]  # fmt: skip


def bn_weights(name: str, cin: int, cout: int, k: int) -> list[onnx.TensorProto]:
    return [weight(f"{name}.w", cout, cin, k, k)] + [
        weight(f"{name}.{p}", cout) for p in ("g", "b", "m", "v")
    ]


def test_conv_bn_relu_pool_gemm_is_a_readable_chain() -> None:
    m = model(
        [
            *conv_bn_relu("x", "a", "conv1", 3, 8, kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            helper.make_node("GlobalAveragePool", ["a"], ["p"], name="/pool/GlobalAveragePool"),
            helper.make_node("Flatten", ["p"], ["f"], name="/flatten/Flatten", axis=1),
            helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["y"], name="/fc/Gemm", transB=1),
        ],
        [*bn_weights("conv1", 3, 8, 3), weight("fc.w", 10, 8), weight("fc.b", 10)],
    )
    spec = imported(m)
    assert layer_lines(spec) == [
        # padding 1 at stride 1 is 'same', the default: left out
        "- {kind: conv, name: conv1, out: 8, kernel: 3, norm: batchnorm, act: relu}",
        "- {kind: global_avg_pool, name: pool}",
        "- {kind: flatten, name: flatten}",
        "- {kind: linear, name: fc, out: 10}",  # bias: true is linear's default
    ]
    assert "  channels: 3\n  size: 8\n" in spec.text
    total = spec.graph.total()
    # conv 8*3*3*3 = 216 weights + BatchNorm 2*8; fc 8*10 + 10
    assert total.params == 216 + 16 + 80 + 10
    # conv: 216 MACs at each of the 8*8 outputs; fc: 80
    assert total.macs == 216 * 64 + 80


@pytest.mark.parametrize(
    ("group", "cout", "kernel", "expected", "params"),
    [
        (8, 8, 3, "{kind: depthwise, name: c}", 8 * 9),
        (8, 16, 3, "{kind: depthwise, name: c, multiplier: 2}", 16 * 9),
        (1, 16, 1, "{kind: pointwise, name: c, out: 16}", 16 * 8),
        (2, 16, 1, "{kind: pointwise, name: c, out: 16, groups: 2}", 16 * 4),
        (2, 16, 3, "{kind: conv, name: c, out: 16, kernel: 3, groups: 2}", 16 * 4 * 9),
    ],
    ids=["depthwise", "depthwise-x2", "pointwise", "grouped-1x1", "grouped-3x3"],
)
def test_conv_kinds_by_groups_and_kernel(
    group: int, cout: int, kernel: int, expected: str, params: int
) -> None:
    pad = kernel // 2
    m = model(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="c", group=group,
                          kernel_shape=[kernel, kernel], pads=[pad] * 4)],
        [weight("w", cout, 8 // group, kernel, kernel)],
        dims=(1, 8, 8, 8),
    )  # fmt: skip
    spec = imported(m)
    assert layer_lines(spec) == [f"- {expected}"]
    assert spec.graph.total().params == params  # C_out x C_in/groups x k x k, no bias


def test_a_folded_batchnorm_is_noted_and_its_bias_counted() -> None:
    # torch.onnx (eval mode) folds BatchNorm into the conv: anonymous 'onnx::Conv_N' weights
    m = model(
        [helper.make_node("Conv", ["x", "onnx::Conv_7", "onnx::Conv_8"], ["y"],
                          name="/stem/stem.0/Conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1])],
        [weight("onnx::Conv_7", 8, 3, 3, 3), weight("onnx::Conv_8", 8)],
    )  # fmt: skip
    spec = imported(m)
    assert layer_lines(spec)[0] == "- {kind: conv, name: stem_0, out: 8, kernel: 3, bias: true}"
    assert "    # BatchNorm folded in by the exporter (weights onnx::Conv_7): 8 biases" in spec.text
    assert "1 conv carry a BatchNorm the exporter folded in" in spec.text
    assert spec.graph.total().params == 8 * 27 + 8  # weights + the bias the fold made
    assert len(spec.notes) == 1
    assert spec.notes[0].startswith("stem_0: BatchNorm folded in by the exporter")
    assert spec.remarks[-1].startswith("1 conv carry a BatchNorm the exporter folded in")


def test_inputs_written_only_where_the_graph_is_not_a_chain() -> None:
    m = model(
        [
            helper.make_node("Conv", ["x", "w1"], ["a"], name="/a/Conv", kernel_shape=[1, 1]),
            helper.make_node("Conv", ["a", "w2"], ["b"], name="/b/Conv", kernel_shape=[1, 1]),
            helper.make_node("Add", ["a", "b"], ["s"], name="/res/Add"),
            helper.make_node("Relu", ["s"], ["r"], name="/act/Relu"),
            helper.make_node("Concat", ["r", "x"], ["y"], name="/cat/Concat", axis=1),
        ],
        [weight("w1", 8, 3, 1, 1), weight("w2", 8, 8, 1, 1)],
    )
    assert layer_lines(imported(m)) == [
        "- {kind: pointwise, name: a, out: 8}",
        "- {kind: pointwise, name: b, out: 8}",
        "- {kind: add, name: res, inputs: [a, b]}",
        "- {kind: relu, name: act}",
        "- {kind: concat, name: cat, inputs: [act, input]}",
    ]


@pytest.mark.parametrize(
    ("act_nodes", "act"),
    [
        ([helper.make_node("Clip", ["c", "lo", "hi"], ["y"])], "relu6"),
        ([helper.make_node("Sigmoid", ["c"], ["s"]), helper.make_node("Mul", ["c", "s"], ["y"])],
         "silu"),
        ([helper.make_node("HardSigmoid", ["c"], ["s"], alpha=1 / 6),
          helper.make_node("Mul", ["s", "c"], ["y"])], "hardswish"),
        ([helper.make_node("HardSwish", ["c"], ["y"])], "hardswish"),
        ([helper.make_node("Gelu", ["c"], ["y"], domain="")], "gelu"),
        ([helper.make_node("Tanh", ["c"], ["y"])], "tanh"),
    ],
    ids=["clip-0-6", "x*sigmoid(x)", "x*hardsigmoid(x)", "hardswish", "gelu", "tanh"],
)  # fmt: skip
def test_activations_fused_into_the_conv(act_nodes: list, act: str) -> None:
    m = model(
        [helper.make_node("Conv", ["x", "w"], ["c"], name="/c/Conv", kernel_shape=[1, 1]),
         *act_nodes],
        [weight("w", 4, 3, 1, 1), floats("lo", 0.0), floats("hi", 6.0)],
        opset=20,
    )  # fmt: skip
    assert layer_lines(imported(m)) == [f"- {{kind: pointwise, name: c, out: 4, act: {act}}}"]


def se_model(fc2_bias: bool = True) -> onnx.ModelProto:
    """MobileNetV3's squeeze-excite on 16 channels, squeeze 8."""
    fc2 = ["s2r", "w2", "b2"] if fc2_bias else ["s2r", "w2"]
    return model(
        [
            helper.make_node("GlobalAveragePool", ["x"], ["s1"], name="/se/avgpool/Pool"),
            helper.make_node("Conv", ["s1", "w1", "b1"], ["s2"], name="/se/fc1/Conv",
                             kernel_shape=[1, 1]),
            helper.make_node("Relu", ["s2"], ["s2r"], name="/se/relu/Relu"),
            helper.make_node("Conv", [*fc2], ["s4"], name="/se/fc2/Conv", kernel_shape=[1, 1]),
            helper.make_node("HardSigmoid", ["s4"], ["g"], name="/se/gate/HardSigmoid",
                             alpha=1 / 6),
            helper.make_node("Mul", ["g", "x"], ["y"], name="/se/Mul"),
        ],
        [weight("w1", 8, 16, 1, 1), weight("b1", 8), weight("w2", 16, 8, 1, 1),
         weight("b2", 16)],
        dims=(1, 16, 4, 4),
    )  # fmt: skip


def test_squeeze_excite_is_one_layer() -> None:
    spec = imported(se_model())
    assert layer_lines(spec) == [
        "- {kind: squeeze_excite, name: se, squeeze: 8, gate: hardsigmoid}"
    ]
    # two 1x1 convs with bias: 16*8 + 8 and 8*16 + 16
    assert spec.graph.total().params == 16 * 8 + 8 + 8 * 16 + 16


def test_a_gate_without_a_bias_stays_separate_layers() -> None:
    spec = imported(se_model(fc2_bias=False))
    assert layer_lines(spec) == [
        "- {kind: global_avg_pool, name: se_avgpool}",
        "- {kind: pointwise, name: se_fc1, out: 8, bias: true, act: relu}",
        "- {kind: pointwise, name: se_fc2, out: 16, act: hardsigmoid}",
        "- {kind: mul, name: se, inputs: [se_fc2, input]}",
    ]
    assert spec.graph.total().params == 16 * 8 + 8 + 8 * 16  # the same weights, no fc2 bias


def test_channels_last_layernorm_and_linear_are_over_channels() -> None:
    """ConvNeXt's block: permute, LayerNorm, Linear (MatMul + bias), GELU, permute back."""
    m = model(
        [
            helper.make_node("Conv", ["x", "dw", "dwb"], ["c"], name="/dw/dw.0/Conv",
                             group=8, kernel_shape=[7, 7], pads=[3] * 4),
            helper.make_node("Transpose", ["c"], ["t"], name="/dw/dw.1/Transpose",
                             perm=[0, 2, 3, 1]),
            helper.make_node("LayerNormalization", ["t", "g", "b"], ["n"],
                             name="/dw/dw.1/LayerNormalization", axis=-1),
            helper.make_node("MatMul", ["n", "w1"], ["m"], name="/pw1/pw1.0/linear/MatMul"),
            helper.make_node("Add", ["b1", "m"], ["mb"], name="/pw1/pw1.0/linear/Add"),
            helper.make_node("Gelu", ["mb"], ["h"], name="/pw1/pw1.1/Gelu"),
            helper.make_node("Transpose", ["h"], ["y"], name="/back/Transpose",
                             perm=[0, 3, 1, 2]),
        ],
        [weight("dw", 8, 1, 7, 7), weight("dwb", 8), weight("g", 8), weight("b", 8),
         weight("w1", 8, 32), weight("b1", 32)],
        dims=(1, 8, 14, 14), opset=20,
    )  # fmt: skip
    spec = imported(m)
    assert layer_lines(spec) == [
        "- {kind: depthwise, name: dw, kernel: 7, bias: true, norm: layernorm}",
        "- {kind: linear, name: pw1, out: 32, act: gelu}",
    ]
    # dw 8*49 + 8 bias, LayerNorm 2*8, linear 8*32 + 32
    assert spec.graph.total().params == 8 * 49 + 8 + 16 + 8 * 32 + 32
    # dw 8*49 per position, linear 8*32 per position, 14*14 positions
    assert spec.graph.total().macs == (8 * 49 + 8 * 32) * 14 * 14


@pytest.mark.parametrize(
    ("pads", "extra", "expected"),
    [
        ([0, 0, 1, 1], [0, 0, 0, 0], "stride: 2"),  # TF 'same' at stride 2 (pad after only)
        ([0, 0, 0, 0], [1, 1, 1, 1], "stride: 2, padding: 1"),  # torch's padding=1
        ([1, 1, 0, 0], [0, 0, 1, 1], "stride: 2, padding: 1"),  # a Pad plus the conv's pads
    ],
    ids=["pad-then-conv-same", "conv-pads", "pad-plus-conv-pads"],
)
def test_a_zero_pad_before_a_conv_becomes_its_padding(
    pads: list[int], extra: list[int], expected: str
) -> None:
    onnx_pads = [0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]]  # N, C, H, W begins; then ends
    m = model(
        [helper.make_node("Pad", ["x", "pads", "zero"], ["p"], name="/c/pad/Pad"),
         helper.make_node("Conv", ["p", "w"], ["y"], name="/c/conv/Conv", kernel_shape=[3, 3],
                          strides=[2, 2], pads=extra)],
        [ints("pads", *onnx_pads), floats("zero", 0.0), weight("w", 4, 3, 3, 3)],
    )  # fmt: skip
    spec = imported(m)
    # the Pad is no layer: the conv's own node names it
    assert layer_lines(spec) == [f"- {{kind: conv, name: c_conv, out: 4, kernel: 3, {expected}}}"]
    assert spec.graph.nodes[0].output_shape == (4, 4, 4)


def test_asymmetric_padding_that_is_not_same_is_refused() -> None:
    m = model(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="odd", kernel_shape=[3, 3],
                          pads=[2, 0, 0, 0])],
        [weight("w", 4, 3, 3, 3)],
    )  # fmt: skip
    with pytest.raises(ImportRefused, match=r"odd: asymmetric padding \[2, 0\] before"):
        imported(m)


def test_shape_arithmetic_is_folded_into_a_channel_shuffle() -> None:
    """ShuffleNetV2's shuffle as torch exports it: the view's sizes computed from Shape."""
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Gather", ["shape", "i1"], ["c"], axis=0),
        helper.make_node("Div", ["c", "two"], ["half"]),
        helper.make_node("Concat", ["one", "two", "half", "hw"], ["view"], axis=0),
        helper.make_node("Reshape", ["x", "view"], ["r"], name="/shuffle/Reshape"),
        helper.make_node("Transpose", ["r"], ["t"], name="/shuffle/Transpose",
                         perm=[0, 2, 1, 3, 4]),
        helper.make_node("Reshape", ["t", "back"], ["s"], name="/shuffle/Reshape_1"),
        helper.make_node("Slice", ["s", "start", "stop", "axis"], ["y"], name="/left/Slice"),
    ]  # fmt: skip
    inits = [
        *(ints(n, v) for n, v in (("i1", 1), ("two", 2), ("one", 1), ("start", 0), ("stop", 4),
                                  ("axis", 1))),
        ints("hw", 4, 4),
        ints("back", 1, 8, 4, 4),
    ]  # fmt: skip
    spec = imported(model(nodes, inits, dims=(1, 8, 4, 4)))
    assert layer_lines(spec) == [
        "- {kind: channel_shuffle, name: shuffle, groups: 2}",
        "- {kind: slice, name: left, stop: 4}",
    ]


@pytest.mark.parametrize(
    ("resize_inputs", "mode", "expected"),
    [
        (["x", "", "scales"], "nearest", "scale: 2"),
        (["x", "", "", "sizes"], "linear", "size: [12, 10], mode: bilinear"),
    ],
    ids=["scale", "size"],
)
def test_resize(resize_inputs: list[str], mode: str, expected: str) -> None:
    m = model(
        [helper.make_node("Resize", resize_inputs, ["y"], name="up", mode=mode)],
        [floats("scales", 1, 1, 2, 2), ints("sizes", 1, 3, 12, 10)],
    )
    assert layer_lines(imported(m)) == [f"- {{kind: upsample, name: up, {expected}}}"]


def test_conv_transpose() -> None:
    m = model(
        [helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], name="/up/ConvTranspose",
                          kernel_shape=[4, 4], strides=[2, 2], pads=[1, 1, 1, 1])],
        [weight("w", 3, 6, 4, 4), weight("b", 6)],
    )  # fmt: skip
    spec = imported(m)
    assert layer_lines(spec) == [
        "- {kind: conv_transpose, name: up, out: 6, kernel: 4, stride: 2, padding: 1, bias: true}"
    ]
    assert spec.graph.nodes[0].output_shape == (6, 16, 16)  # (8 - 1) * 2 - 2 + 3 + 1
    assert spec.graph.total().params == 3 * 6 * 16 + 6


def test_every_unsupported_operator_is_listed_with_its_name() -> None:
    m = model(
        [
            helper.make_node("Conv", ["x", "w"], ["c"], name="/c/Conv", kernel_shape=[1, 1]),
            helper.make_node("Softmax", ["c"], ["s1"], name="/attn1/Softmax"),
            helper.make_node("Softmax", ["s1"], ["s2"], name="/attn2/Softmax"),
            helper.make_node("Erf", ["s2"], ["e"], name="/gelu/Erf"),
            helper.make_node("Add", ["e", "one"], ["y"], name="/gelu/Add"),
        ],
        [weight("w", 4, 3, 1, 1), floats("one", 1.0)],
    )
    with pytest.raises(ImportRefused) as caught:
        imported(m)
    text = str(caught.value)
    assert text.startswith("test.onnx: 4 operators cannot be written as sepcalc layers")
    assert "  Softmax x 2:\n    /attn1/Softmax\n    /attn2/Softmax\n" in text
    assert text.endswith("  Erf x 1:\n    /gelu/Erf")  # most frequent first, then by name
    assert "/gelu/Add: adds a constant" in text
    assert [r[0] for r in caught.value.refused] == ["Softmax", "Softmax", "Erf", "Add"]


def test_symbolic_dims_need_the_input_size() -> None:
    m = model(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[1, 1])],
        [weight("w", 4, 3, 1, 1)],
        dims=("N", 3, "H", "W"),
    )
    with pytest.raises(InputError, match="symbolic dims Nx3xHxW: give its size") as caught:
        imported(m)
    assert (caught.value.param, caught.value.entry) == ("inputs", "x")
    spec = imported(m, x=(1, 3, 32, 16))
    assert spec.graph.input_shape == (3, 32, 16)
    assert spec.graph.total().macs == 4 * 3 * 32 * 16


def test_a_batch_is_noted_and_counts_stay_per_sample() -> None:
    m = model(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[1, 1])],
        [weight("w", 4, 3, 1, 1)],
        dims=("N", 3, 8, 8),
    )
    spec = imported(m, **{"": (8, 3, 8, 8)})
    assert "batch 8; the spec counts one sample" in spec.text
    assert spec.graph.total().macs == 4 * 3 * 64


def test_two_inputs_are_refused() -> None:
    m = model([helper.make_node("Add", ["a", "b"], ["y"])], [], inputs=("a", "b"))
    with pytest.raises(InputError, match="a spec has one input and the model has 2: a, b"):
        imported(m)


@pytest.mark.parametrize(
    ("node", "name"),
    [
        ("/features/features.0/features.0.0/Conv", "features_0_0"),
        ("/stem/stem.0/Conv", "stem_0"),
        ("conv 1", "conv_1"),
        ("1st", "l1st"),
        ("", "pointwise1"),
    ],
    ids=["torch-scope", "sequential-member", "space", "digit", "nameless"],
)
def test_layer_names_from_node_names(node: str, name: str) -> None:
    m = model(
        [helper.make_node("Conv", ["x", "w"], ["y"], name=node, kernel_shape=[1, 1])],
        [weight("w", 4, 3, 1, 1)],
    )
    assert layer_lines(imported(m))[0].startswith(f"- {{kind: pointwise, name: {name},")


def test_sanitize() -> None:
    assert sanitize("layer1.0.conv-a/b") == "layer1_0_conv-a_b"
    assert sanitize("...") == ""


def test_duplicate_names_get_a_suffix() -> None:
    m = model(
        [helper.make_node("Relu", ["x"], ["a"], name="act"),
         helper.make_node("Relu", ["a"], ["y"], name="act")],
        [],
    )  # fmt: skip
    assert layer_lines(imported(m)) == [
        "- {kind: relu, name: act}",
        "- {kind: relu, name: act_2}",
    ]


def save(m: onnx.ModelProto, tmp_path: Path) -> Path:
    path = tmp_path / "net.onnx"
    onnx.save(m, str(path))
    return path


def test_cli_writes_the_spec_to_stdout_and_a_summary_to_stderr(tmp_path: Path) -> None:
    m = model(
        [*conv_bn_relu("x", "y", "conv1", 3, 8, kernel_shape=[3, 3], pads=[1, 1, 1, 1])],
        bn_weights("conv1", 3, 8, 3),
        dims=("N", 3, "H", "W"),
    )
    path = save(m, tmp_path)
    done = runner.invoke(app, ["import", str(path), "--input", "x:1x3x16x16"])
    assert done.exit_code == 0, done.output
    assert "- {kind: conv, name: conv1, out: 8, kernel: 3, norm: batchnorm, act: relu}" in (
        done.stdout
    )
    # 8*3*3*3 weights + 16 BatchNorm; 216 MACs at 16*16 positions
    assert f"net.onnx: 1 layers, 232 params, {216 * 256:,} MACs" in done.stderr
    spec = tmp_path / "net.yaml"
    spec.write_text(done.stdout)
    analyzed = runner.invoke(app, ["analyze", str(spec), "-f", "json"])
    assert analyzed.exit_code == 0
    assert '"macs": 55296' in analyzed.stdout.replace(" ", "").replace('":', '": ')


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "x:1x3"], "error: --input x: has 4 dims (NxN3xHxW"),
        (["--input", "y:1x3x8x8"], "error: --input y: the model has no input 'y' (its inputs: x)"),
        (["--input", "1x3xabc"], "error: --input '1x3xabc': expected [NAME:]DIMS"),
        ([], "error: --input x: has symbolic dims Nx3xHxW: give its size, batch first"),
    ],
    ids=["rank", "unknown-name", "not-dims", "symbolic"],
)
def test_cli_input_errors(tmp_path: Path, args: list[str], message: str) -> None:
    m = model(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[1, 1])],
        [weight("w", 4, 3, 1, 1)],
        dims=("N", 3, "H", "W"),
    )
    done = runner.invoke(app, ["import", str(save(m, tmp_path)), *args])
    assert done.exit_code == 2
    assert message.replace("NxN3", "Nx3") in done.stderr
    assert done.stdout == ""


def test_cli_refusal_lists_every_operator(tmp_path: Path) -> None:
    m = model(
        [helper.make_node("Softmax", ["x"], ["s"], name="/a/Softmax"),
         helper.make_node("Softmax", ["s"], ["y"], name="/b/Softmax")],
        [],
    )  # fmt: skip
    done = runner.invoke(app, ["import", str(save(m, tmp_path))])
    assert done.exit_code == 2
    assert "2 operators cannot be written as sepcalc layers" in done.stderr
    assert "Softmax x 2:\n    /a/Softmax\n    /b/Softmax" in done.stderr
    assert "Traceback" not in done.output


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "No such file or directory"), (b"not a protobuf \xff\xff", "as an ONNX model")],
    ids=["missing", "not-onnx"],
)
def test_cli_unreadable_model(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "bad.onnx"
    if content is not None:
        path.write_bytes(content)
    done = runner.invoke(app, ["import", str(path)])
    assert done.exit_code == 2
    assert done.stderr.startswith(f"error: cannot read {path} as an ONNX model")
    assert message in done.stderr


def test_import_onnx_reads_no_external_weights(tmp_path: Path) -> None:
    """Weights kept outside the file are never loaded: their shapes are enough."""
    m = model(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[3, 3],
                          pads=[1, 1, 1, 1])],
        [weight("w", 64, 3, 3, 3)],
    )  # fmt: skip
    path = tmp_path / "ext.onnx"
    onnx.save(m, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
              location="ext.bin", size_threshold=0)  # fmt: skip
    (tmp_path / "ext.bin").unlink()  # gone: the import must not need it
    spec = import_onnx(path)
    assert spec.graph.total().params == 64 * 27


def test_refusal_is_a_user_error() -> None:
    assert issubclass(ImportRefused, SepcalcError)


def test_groupnorm_fused_and_a_mean_without_kept_dims() -> None:
    m = model(
        [helper.make_node("Conv", ["x", "w"], ["c"], name="/c/c.0/Conv", kernel_shape=[1, 1]),
         helper.make_node("GroupNormalization", ["c", "g", "b"], ["n"],
                          name="/c/c.1/GroupNormalization", num_groups=4),
         helper.make_node("ReduceMean", ["n", "axes"], ["y"], name="/head/ReduceMean",
                          keepdims=0)],
        [weight("w", 8, 3, 1, 1), weight("g", 8), weight("b", 8), ints("axes", 2, 3)],
        opset=21,
    )  # fmt: skip
    spec = imported(m)
    assert layer_lines(spec) == [
        "- {kind: pointwise, name: c, out: 8, norm: groupnorm, norm_groups: 4}",
        "- {kind: global_avg_pool, name: head, method: mean}",  # x.mean([2, 3]): no dims kept
        "- {kind: flatten, name: head_2}",
    ]
    assert spec.graph.output_shape == (8,)
    assert spec.graph.total().params == 8 * 3 + 2 * 8  # weights + GroupNorm's scale and bias


def test_split_over_channels_is_slices() -> None:
    m = model(
        [helper.make_node("Split", ["x", "sizes"], ["a", "b"], name="/split/Split", axis=1),
         helper.make_node("Concat", ["b", "a"], ["y"], name="/cat/Concat", axis=1)],
        [ints("sizes", 1, 2)],
    )  # fmt: skip
    assert layer_lines(imported(m)) == [
        "- {kind: slice, name: split, stop: 1}",
        "- {kind: slice, name: split_2, start: 1, stop: 3, inputs: input}",
        "- {kind: concat, name: cat, inputs: [split_2, split]}",
    ]


def test_a_product_of_two_activations_is_refused_with_the_reason() -> None:
    m = model(
        [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 1, 3, 2]),
         helper.make_node("MatMul", ["x", "t"], ["y"], name="/scores/MatMul")],
        [],
    )  # fmt: skip
    with pytest.raises(ImportRefused) as caught:
        imported(m)
    assert "/scores/MatMul: a product of two activations" in str(caught.value)
    assert "Transpose x 1" in str(caught.value)  # a transpose it cannot follow: listed too
