"""Every layer kind against fvcore and torch's FlopCounterMode.

Every kind's declared examples, and for the kinds below small random layers (1-D, 2-D or 3-D;
groups, dilation, stride, padding drawn at random), are built as torch modules; sepcalc's FLOPs
under the matching preset, its parameters and its output shape must equal what each tool counts
on that module, layer by layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("torch")
pytest.importorskip("fvcore")

from sepcalc.analysis import analyze
from sepcalc.crosscheck.compare import TOOL_CONVENTIONS, ToolCheck, compare
from sepcalc.crosscheck.count import COUNTERS
from sepcalc.formulas.base import Example
from sepcalc.formulas.torchplan import ACT_CLASSES
from sepcalc.graph import Graph, build_graph, example_graph
from sepcalc.spec import LoadedSpec, parse_yaml, validate
from tests.kinds import EXAMPLE_IDS, EXAMPLES

pytestmark = pytest.mark.torch

ACTS = sorted(ACT_CLASSES)
Draw = Callable[[st.SearchStrategy[Any]], Any]
Spec = dict[str, Any]

MAX_SIZE = {1: 12, 2: 7, 3: 4}
"""Largest spatial side per dimensionality, to keep each traced module small."""


def graph_of(spec: Spec) -> Graph:
    data, locator = parse_yaml(yaml.safe_dump(spec), "case.yaml")
    return build_graph(LoadedSpec(validate(data, locator), locator))


def network(channels: int, size: list[int], *layers: Spec) -> Spec:
    return {"name": "case", "input": {"channels": channels, "size": size}, "layers": list(layers)}


def _window(draw: Draw, dims: int, pool: bool = False) -> tuple[list[int], Spec]:
    """An input size and kernel/stride/dilation/padding that give a positive output size."""
    kernel = [draw(st.integers(1, 3)) for _ in range(dims)]
    stride = [draw(st.integers(1, 3)) for _ in range(dims)]
    dilation = [draw(st.integers(1, 2)) for _ in range(dims)]
    padding = draw(
        st.one_of(
            st.sampled_from(["same", "valid"]),
            st.lists(st.integers(0, 2), min_size=dims, max_size=dims),
        )
    )
    if pool and isinstance(padding, list):  # torch pools pad at most half the kernel
        padding = [min(p, k // 2) for p, k in zip(padding, kernel, strict=True)]
    pads = padding if isinstance(padding, list) else [0] * dims
    size = [
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), max(MAX_SIZE[dims], d * (k - 1) + 1)))
        for k, d, p in zip(kernel, dilation, pads, strict=True)
    ]
    attrs = {"kernel": kernel, "stride": stride, "dilation": dilation, "padding": padding}
    return size, attrs


def _norm_act(draw: Draw, prefix: str = "") -> Spec:
    return {
        f"{prefix}norm": draw(st.sampled_from([None, "batchnorm"])),
        f"{prefix}act": draw(st.sampled_from([None, *ACTS])),
    }


def _dims(draw: Draw) -> int:
    return int(draw(st.integers(1, 3)))


def _plain_size(draw: Draw, dims: int) -> list[int]:
    return [draw(st.integers(1, MAX_SIZE[dims])) for _ in range(dims)]


@st.composite
def conv(draw: Draw) -> Spec:
    dims, groups = _dims(draw), draw(st.integers(1, 3))
    size, window = _window(draw, dims)
    layer = {
        "kind": "conv",
        "out": groups * draw(st.integers(1, 3)),
        "groups": groups,
        "bias": draw(st.booleans()),
        **window,
        **_norm_act(draw),
    }
    return network(groups * draw(st.integers(1, 3)), size, layer)


@st.composite
def depthwise(draw: Draw) -> Spec:
    dims = _dims(draw)
    size, window = _window(draw, dims)
    layer = {
        "kind": "depthwise",
        "multiplier": draw(st.integers(1, 2)),
        "bias": draw(st.booleans()),
        **window,
        **_norm_act(draw),
    }
    return network(draw(st.integers(1, 6)), size, layer)


@st.composite
def pointwise(draw: Draw) -> Spec:
    dims, groups = _dims(draw), draw(st.integers(1, 3))
    layer = {
        "kind": "pointwise",
        "out": groups * draw(st.integers(1, 3)),
        "groups": groups,
        "stride": [draw(st.integers(1, 3)) for _ in range(dims)],
        "bias": draw(st.booleans()),
        **_norm_act(draw),
    }
    return network(groups * draw(st.integers(1, 3)), _plain_size(draw, dims), layer)


@st.composite
def separable(draw: Draw) -> Spec:
    dims = _dims(draw)
    size, window = _window(draw, dims)
    layer = {
        "kind": "separable",
        "out": draw(st.integers(1, 6)),
        "multiplier": draw(st.integers(1, 2)),
        "bias": draw(st.booleans()),
        **window,
        **_norm_act(draw),
        **_norm_act(draw, "mid_"),
    }
    return network(draw(st.integers(1, 6)), size, layer)


@st.composite
def linear(draw: Draw) -> Spec:
    """Linear over channels, on a flattened vector (0-D) or at every spatial position."""
    dims = draw(st.integers(0, 3))
    first = [{"kind": "flatten"}] if dims == 0 else []
    layer = {
        "kind": "linear",
        "out": draw(st.integers(1, 8)),
        "bias": draw(st.booleans()),
        **_norm_act(draw),
    }
    size = _plain_size(draw, max(dims, 1))
    return network(draw(st.integers(1, 6)), size, *first, layer)


@st.composite
def batchnorm(draw: Draw) -> Spec:
    dims = draw(st.integers(0, 3))
    first = [{"kind": "flatten"}] if dims == 0 else []
    layer = {"kind": "batchnorm", "affine": draw(st.booleans())}
    return network(draw(st.integers(1, 6)), _plain_size(draw, max(dims, 1)), *first, layer)


@st.composite
def activation(draw: Draw) -> Spec:
    dims = _dims(draw)
    layer = {"kind": draw(st.sampled_from(ACTS))}
    return network(draw(st.integers(1, 4)), _plain_size(draw, dims), layer)


@st.composite
def pool(draw: Draw) -> Spec:
    dims, kind = _dims(draw), draw(st.sampled_from(["maxpool", "avgpool"]))
    size, window = _window(draw, dims, pool=True)
    if kind == "avgpool":
        window["dilation"] = 1  # torch's AvgPool has no dilation
        size = [max(n, k) for n, k in zip(size, window["kernel"], strict=True)]
    if draw(st.booleans()):
        window["stride"] = None  # defaults to the kernel
    layer = {"kind": kind, "ceil_mode": draw(st.booleans()), **window}
    return network(draw(st.integers(1, 4)), size, layer)


@st.composite
def global_avg_pool(draw: Draw) -> Spec:
    dims = _dims(draw)
    layer = {"kind": "global_avg_pool", "method": draw(st.sampled_from(["adaptive", "mean"]))}
    return network(draw(st.integers(1, 4)), _plain_size(draw, dims), layer, {"kind": "flatten"})


@st.composite
def adaptive_avg_pool(draw: Draw) -> Spec:
    dims = _dims(draw)
    size = _plain_size(draw, dims)
    out = [draw(st.integers(1, n)) for n in size]
    return network(draw(st.integers(1, 4)), size, {"kind": "adaptive_avg_pool", "size": out})


@st.composite
def flatten(draw: Draw) -> Spec:
    dims = _dims(draw)
    return network(draw(st.integers(1, 4)), _plain_size(draw, dims), {"kind": "flatten"})


@st.composite
def dropout(draw: Draw) -> Spec:
    dims = _dims(draw)
    layer = {"kind": "dropout", "p": draw(st.sampled_from([0.1, 0.5]))}
    return network(draw(st.integers(1, 4)), _plain_size(draw, dims), layer)


@st.composite
def merge(draw: Draw) -> Spec:
    """add or concat of the input with one or two activations of it."""
    dims, kind = _dims(draw), draw(st.sampled_from(["add", "concat"]))
    branches = [{"kind": draw(st.sampled_from(ACTS)), "name": f"b{i}", "inputs": "input"}
                for i in range(draw(st.integers(1, 2)))]  # fmt: skip
    layer = {"kind": kind, "inputs": ["input", *(b["name"] for b in branches)]}
    return network(draw(st.integers(1, 4)), _plain_size(draw, dims), *branches, layer)


@st.composite
def channel_shuffle(draw: Draw) -> Spec:
    dims, groups = _dims(draw), draw(st.integers(1, 3))
    layer = {"kind": "channel_shuffle", "groups": groups}
    return network(groups * draw(st.integers(1, 3)), _plain_size(draw, dims), layer)


@st.composite
def channel_slice(draw: Draw) -> Spec:
    dims, channels = _dims(draw), draw(st.integers(1, 6))
    start = draw(st.integers(0, channels - 1))
    layer = {"kind": "slice", "start": start, "stop": draw(st.integers(start + 1, channels))}
    return network(channels, _plain_size(draw, dims), layer)


@st.composite
def upsample(draw: Draw) -> Spec:
    dims = _dims(draw)
    linear_mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[dims]
    layer = {
        "kind": "upsample",
        "scale": [draw(st.integers(1, 3)) for _ in range(dims)],
        "mode": draw(st.sampled_from(["nearest", linear_mode])),
    }
    return network(draw(st.integers(1, 4)), _plain_size(draw, dims), layer)


@st.composite
def squeeze_excite(draw: Draw) -> Spec:
    dims = _dims(draw)
    layer = {
        "kind": "squeeze_excite",
        "squeeze": draw(st.integers(1, 4)),
        "act": draw(st.sampled_from(ACTS)),
        "gate": draw(st.sampled_from(ACTS)),
        "pool": draw(st.sampled_from(["adaptive", "mean"])),
    }
    return network(draw(st.integers(1, 6)), _plain_size(draw, dims), layer)


CASES: dict[str, Callable[[], st.SearchStrategy[Spec]]] = {
    "conv": conv,
    "depthwise": depthwise,
    "pointwise": pointwise,
    "separable": separable,
    "linear": linear,
    "batchnorm": batchnorm,
    "activation": activation,
    "pool": pool,
    "global_avg_pool": global_avg_pool,
    "adaptive_avg_pool": adaptive_avg_pool,
    "flatten": flatten,
    "dropout": dropout,
    "merge": merge,
    "channel_shuffle": channel_shuffle,
    "slice": channel_slice,
    "upsample": upsample,
    "squeeze_excite": squeeze_excite,
}


def explain(check: ToolCheck) -> str:
    return "\n".join(
        f"{layer.name} ({layer.kind}): flops {layer.flops} vs {layer.tool_flops}, params "
        f"{layer.params} vs {layer.tool_params}, shape {layer.shape} vs {layer.tool_shape}, "
        f"uncounted {dict(layer.uncounted)}"
        for layer in check.differing
    )


@pytest.mark.parametrize("case", sorted(CASES), ids=sorted(CASES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_kind_matches_fvcore_and_torch(case: str, data: st.DataObject) -> None:
    spec = data.draw(CASES[case](), label="spec")
    _agrees_with_both_tools(graph_of(spec), spec["layers"])


def _agrees_with_both_tools(graph: Graph, what: object) -> None:
    for tool, count in COUNTERS.items():
        check = compare(analyze(graph, TOOL_CONVENTIONS[tool]), count(graph))
        assert check.agrees, f"{tool} differs on {what}:\n{explain(check)}"
        assert check.flops == check.tool_flops
        assert check.unattributed == 0


@pytest.mark.parametrize(("kind", "index", "example"), EXAMPLES, ids=EXAMPLE_IDS)
def test_declared_example_matches_fvcore_and_torch(kind: str, index: int, example: Example) -> None:
    _agrees_with_both_tools(example_graph(example), example.layer)


@pytest.mark.parametrize("kind", ["maxpool", "avgpool"])
def test_same_padding_of_a_dilated_pool_over_half_the_kernel_is_padded_explicitly(
    kind: str,
) -> None:
    # A 1x3 window dilated by 2 spans 5: 'same' pads 2 on each side, over torch's kernel // 2.
    dilation = [1, 2] if kind == "maxpool" else 1
    layer = {"kind": kind, "kernel": [1, 3], "dilation": dilation, "padding": "same", "stride": 1}
    if kind == "avgpool":
        layer["kernel"] = [1, 5]  # avg pooling has no dilation: a 1x5 window pads 2 as well
    spec = network(2, [3, 7], layer)
    _agrees_with_both_tools(graph_of(spec), spec["layers"])
