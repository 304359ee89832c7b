"""Layer kinds added for the model zoo: ``slice`` (ShuffleNetV2), ``adaptive_avg_pool`` (VGG)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sepcalc.cost import Cost
from sepcalc.errors import SpecError
from sepcalc.formulas import REGISTRY
from sepcalc.formulas.base import ShapeError
from sepcalc.formulas.pooling import adaptive_pool_cost, global_pool_cost
from tests.conftest import graph_of


@pytest.mark.parametrize(
    ("shape", "size", "out", "ops"),
    [
        # VGG16: 512x7x7 -> (7, 7): same shape, one add per input element, 512*49 = 25,088.
        ((512, 7, 7), (7, 7), (512, 7, 7), 25_088),
        # Downsampling 4x8x8 -> 2x2: each output averages a 4x4 window; 4*64 = 256 reads.
        ((4, 8, 8), (2, 2), (4, 2, 2), 256),
        # 1-D: 3 channels of 10 -> 5.
        ((3, 10), (5,), (3, 5), 30),
        # 3-D to 1x1x1: the global pool.
        ((2, 4, 4, 4), (1, 1, 1), (2, 1, 1, 1), 128),
    ],
    ids=["vgg-7x7", "8to2", "1d", "3d-global"],
)
def test_adaptive_avg_pool(
    shape: tuple[int, ...], size: tuple[int, ...], out: tuple[int, ...], ops: int
) -> None:
    kind = REGISTRY["adaptive_avg_pool"]
    assert kind.infer({"size": size}, [shape]) == out
    [(bucket, cost)] = kind.cost({"size": size}, [shape], out)
    assert bucket == "pool"
    assert cost == Cost(gpool_ops=ops, activations=math.prod(out))


@given(c=st.integers(1, 64), h=st.integers(1, 32), w=st.integers(1, 32))
def test_adaptive_to_one_is_the_global_pool(c: int, h: int, w: int) -> None:
    assert adaptive_pool_cost((c, h, w), (c, 1, 1)) == global_pool_cost((c, h, w))


def test_adaptive_avg_pool_in_a_spec(tmp_path: Path) -> None:
    g = graph_of(
        "input: {channels: 8, size: [14, 10]}\n"
        "layers:\n"
        "  - {kind: adaptive_avg_pool, size: [7, 5]}\n"
        "  - {kind: adaptive_avg_pool, size: 1}\n",
        tmp_path,
    )
    assert [n.output_shape for n in g.nodes] == [(8, 7, 5), (8, 1, 1)]
    assert g.total().gpool_ops == 8 * 14 * 10 + 8 * 7 * 5


@pytest.mark.parametrize(
    ("start", "stop", "out"),
    [(0, 58, 58), (58, 116, 58), (10, 11, 1), (0, 116, 116)],
    ids=["left-half", "right-half", "one", "all"],
)
def test_slice(start: int, stop: int, out: int) -> None:
    kind = REGISTRY["slice"]
    attrs = {"start": start, "stop": stop}
    assert kind.infer(attrs, [(116, 28, 28)]) == (out, 28, 28)
    # A view of the input: no parameters, no arithmetic, no new tensor.
    assert kind.cost(attrs, [(116, 28, 28)], (out, 28, 28)) == [("slice", Cost())]


@pytest.mark.parametrize(
    ("start", "stop"), [(58, 58), (60, 10), (0, 117)], ids=["empty", "reversed", "past-end"]
)
def test_slice_out_of_range(start: int, stop: int) -> None:
    with pytest.raises(ShapeError, match=f"channels {start}:{stop} are not a non-empty range"):
        REGISTRY["slice"].infer({"start": start, "stop": stop}, [(116, 28, 28)])


def test_channel_split_in_a_spec(tmp_path: Path) -> None:
    # ShuffleNetV2's stride-1 unit on 8 channels: split 4 | 4, a 1x1 conv on the right half,
    # concat, shuffle. The split itself costs nothing; the conv is 4*4 weights at 5x5.
    g = graph_of(
        "input: {channels: 8, size: 5}\n"
        "layers:\n"
        "  - {kind: slice, name: left, stop: 4}\n"
        "  - {kind: slice, name: right, inputs: input, start: 4, stop: 8}\n"
        "  - {kind: pointwise, name: branch, out: 4}\n"
        "  - {kind: concat, inputs: [left, branch]}\n"
        "  - {kind: channel_shuffle, groups: 2}\n",
        tmp_path,
    )
    assert [n.output_shape for n in g.nodes] == [(4, 5, 5), (4, 5, 5), (4, 5, 5), (8, 5, 5),
                                                 (8, 5, 5)]  # fmt: skip
    assert (g.total().params, g.total().macs) == (16, 16 * 25)


def test_slice_errors_point_at_the_spec(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        graph_of(
            "input: {channels: 8, size: 5}\n"
            "layers:\n"
            "  - {kind: slice, start: -1, stop: 4}\n"
            "  - {kind: slice, inputs: input, start: 4, stop: 9}\n",
            tmp_path,
        )
    messages = [d.message for d in info.value.diagnostics]
    assert any("start" in m and "at least 0" in m for m in messages), messages
    assert any("channels 4:9 are not a non-empty range of the 8 input" in m for m in messages)
