"""A global average pool as an adaptive pool or as a mean (``method``), and the fvcore preset.

Both are the same arithmetic (one add per input element), but fvcore counts
``aten::adaptive_avg_pool2d`` and not ``aten::mean``, so a network that ends with ``x.mean`` (as
torchvision's ShuffleNetV2 does) is matched by the fvcore preset only when the spec says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from sepcalc.analysis import analyze
from sepcalc.cli import app
from sepcalc.conventions import DEFAULT, FVCORE, PRESETS, TORCH
from sepcalc.cost import Cost
from sepcalc.formulas import REGISTRY
from sepcalc.graph import Graph
from tests.conftest import EXAMPLES, graph_of

SHUFFLENET_MACS = 144_907_992  # torchvision shufflenet_v2_x1_0 (tests/test_zoo.py)
# fvcore counts eval BatchNorm at 2 FLOPs per element of every conv output. Elements, layer by
# layer (torchvision models/shufflenetv2.py: channels 24, 116, 232, 464, 1024; sizes 112, 56 after
# the max pool, 28, 14, 7; a down unit's branch2 1x1 runs at its input size):
#   conv1: 24 * 112^2                                             =   301,056
#   stage2 down: dw 24*28^2 + pw 58*28^2 + pw1 58*56^2 + dw, pw2 58*28^2 each
#                = 18,816 + 45,472 + 181,888 + 45,472 + 45,472    =   337,120
#   stage2 basic x3: 3 * (3 * 58 * 28^2)                          =   409,248
#   stage3 down: 4 * 116*14^2 + 116*28^2 = 90,944 + 90,944        =   181,888
#   stage3 basic x7: 7 * (3 * 116 * 14^2)                         =   477,456
#   stage4 down: 4 * 232*7^2 + 232*14^2 = 45,472 + 45,472         =    90,944
#   stage4 basic x3: 3 * (3 * 232 * 7^2)                          =   102,312
#   conv5: 1024 * 7^2                                             =    50,176
#                                                                   1,950,200 elements
SHUFFLENET_BN_ELEMENTS = 1_950_200
# torchvision's global pool is x.mean([2, 3]): fvcore does not count it, where it would count
# an AdaptiveAvgPool2d at 1 per input element, 1024 * 7 * 7 = 50,176.
SHUFFLENET_FVCORE = SHUFFLENET_MACS + 2 * SHUFFLENET_BN_ELEMENTS  # 148,808,392
POOL_INPUT = 1024 * 7 * 7


def shufflenet(method: str, tmp_path: Path) -> Graph:
    """examples/shufflenet_v2_x1_0.yaml with its global pool computed by ``method``."""
    text = (EXAMPLES / "shufflenet_v2_x1_0.yaml").read_text()
    assert "method: mean" in text
    return graph_of(text.replace("method: mean", f"method: {method}"), tmp_path)


def test_shufflenet_fvcore_total_matches_torchvision(example: Callable[..., Graph]) -> None:
    g = example("shufflenet_v2_x1_0")
    assert SHUFFLENET_FVCORE == 148_808_392
    assert analyze(g, FVCORE).totals.flops == SHUFFLENET_FVCORE
    pool = next(n for n in g.nodes if n.name == "pool")
    assert pool.attrs["method"] == "mean"
    assert pool.cost == Cost(mean_ops=POOL_INPUT, activations=1024)


def test_an_adaptive_pool_would_be_50176_more_under_fvcore_only(tmp_path: Path) -> None:
    mean, adaptive = shufflenet("mean", tmp_path), shufflenet("adaptive", tmp_path)
    fvcore = [analyze(g, FVCORE).totals.flops for g in (mean, adaptive)]
    assert fvcore == [SHUFFLENET_FVCORE, SHUFFLENET_FVCORE + 50_176]
    # The arithmetic is the same: the default preset counts both, torch's neither.
    for convention in (DEFAULT, TORCH):
        assert analyze(mean, convention).totals == analyze(adaptive, convention).totals
    assert analyze(mean, TORCH).totals.flops == 2 * SHUFFLENET_MACS


shapes = st.lists(st.integers(1, 9), min_size=2, max_size=4).map(tuple)


@given(shape=shapes)
def test_mean_and_adaptive_pool_differ_only_in_which_count(shape: tuple[int, ...]) -> None:
    kind = REGISTRY["global_avg_pool"]
    out = kind.infer({"method": "mean"}, [shape])
    assert out == (shape[0], *(1 for _ in shape[1:]))
    (bucket, mean), (_, adaptive) = (
        kind.cost({"method": m}, [shape], out)[0] for m in ("mean", "adaptive")
    )
    elements = math.prod(shape)
    assert bucket == "pool"
    assert (mean.mean_ops, mean.gpool_ops, adaptive.gpool_ops) == (elements, 0, elements)
    assert mean.activations == adaptive.activations == shape[0]
    # fvcore counts the adaptive pool only; the default preset counts both alike.
    assert (FVCORE.flops(mean), FVCORE.flops(adaptive)) == (0, elements)
    assert DEFAULT.flops(mean) == DEFAULT.flops(adaptive) == elements


def test_every_tool_preset_weighs_a_mean_as_its_tool_does() -> None:
    # fvcore 0.1.5: aten::mean is in neither its handles nor its ignore list (unsupported, 0);
    # FlopCounterMode has no formula for aten.mean.
    assert {name: p.weight("mean_ops") for name, p in PRESETS.items()} == {
        "default": 1, "paper": 0, "torch": 0, "fvcore": 0, "core": 0,
    }  # fmt: skip


def test_torch_counterpart_is_a_mean(example: Callable[..., Graph]) -> None:
    pool = next(n for n in example("shufflenet_v2_x1_0").nodes if n.name == "pool")
    assert REGISTRY["global_avg_pool"].torch(pool).cls == "Mean"
    avg = next(n for n in example("mobilenet_v2").nodes if n.kind == "global_avg_pool")
    assert avg.attrs["method"] == "adaptive"  # torchvision: adaptive_avg_pool2d
    assert REGISTRY["global_avg_pool"].torch(avg).cls == "AdaptiveAvgPool2d"


@pytest.mark.parametrize(
    ("pool", "fvcore"),
    [
        # Two biased 1x1 convs, 72 -> 24 -> 72, on the pooled vector: 2 * 72 * 24 = 3,456 MACs;
        # fvcore counts them once each, and the adaptive pool's 72 * 28 * 28 = 56,448 inputs.
        ("adaptive", 3_456 + 56_448),
        # timm's SqueezeExcite pools with x.mean((2, 3), keepdim=True): fvcore skips it.
        ("mean", 3_456),
    ],
)
def test_squeeze_excite_pool_is_counted_as_the_tools_count_it(
    pool: str, fvcore: int, tmp_path: Path
) -> None:
    spec = f"""
input: {{channels: 72, size: 28}}
layers:
  - {{kind: squeeze_excite, squeeze: 24, gate: hardsigmoid, pool: {pool}}}
"""
    (se,) = graph_of(spec, tmp_path).nodes
    assert (se.cost.params, se.cost.macs) == (2 * 72 * 24 + 24 + 72, 3_456)
    assert FVCORE.flops(se.cost) == fvcore
    # The default preset counts the same either way: 2 per MAC, the 24 + 72 bias adds, the
    # 56,448 pool or mean adds, 24 + 72 activations, and the 56,448 multiplies of the scale.
    assert DEFAULT.flops(se.cost) == 6_912 + 96 + 56_448 + 96 + 56_448 == 120_000
    kwargs = dict(REGISTRY["squeeze_excite"].torch(se).kwargs)
    assert kwargs.get("mean", False) == (pool == "mean")


def test_unknown_method_is_an_error_at_its_line(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "input: {channels: 8, size: 4}\nlayers:\n  - {kind: global_avg_pool, method: max}\n"
    )
    result = CliRunner().invoke(app, ["analyze", str(spec)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{spec}:3:37: ")
    assert "'adaptive'" in result.stderr
    assert "'mean'" in result.stderr


@pytest.mark.torch
def test_fvcore_and_flop_counter_mode_count_the_exported_shufflenet(
    example: Callable[..., Graph],
) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("fvcore")
    from sepcalc.crosscheck.count import count_fvcore, count_torch

    g = example("shufflenet_v2_x1_0")
    fvcore = count_fvcore(g)
    assert fvcore.flops == SHUFFLENET_FVCORE
    assert fvcore.layer_flops["pool"] == 0
    assert fvcore.uncounted["pool"] == {"aten::mean": 1}  # met, and not counted
    assert count_torch(g).flops == 2 * SHUFFLENET_MACS
