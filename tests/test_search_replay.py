"""The grid's replay against a full build and ``analyze`` of every point, by brute force.

Every zoo spec on a small grid over its vars (odd sizes included: they round differently in
every strided layer, and split the replay's lanes), and random grids of specs with ``when:``,
``round`` and ``make_divisible``: each point's MACs, params, FLOPs and activations are those of
``analyze(build_graph(spec, point))``, and a point that does not build has the build's error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sepcalc import zoo
from sepcalc.analysis import analyze
from sepcalc.cli.options import parse_axis
from sepcalc.conventions import DEFAULT, FVCORE, Convention
from sepcalc.errors import SpecError
from sepcalc.expr import Number
from sepcalc.graph import build_graph
from sepcalc.search import Axis, Evaluator, GridResult, grid_search
from sepcalc.spec import load_spec
from sepcalc.spec.loader import LoadedSpec

ZOO_GRIDS = {
    "convnext_tiny": ("resolution=33,64", "depth3=2,3"),
    "efficientnet_b0": ("width=0.5,1.1", "depth=1.0,1.2", "resolution=65,96"),
    "lraspp_mobilenet_v3_large": ("resolution=63,96", "inter=32,128"),
    "mobilenet_v1": ("alpha=0.25,0.6,1.0", "resolution=1,33,96,161"),
    "mobilenet_v2": ("alpha=0.35,0.6,1.4", "resolution=32,97,160"),
    "mobilenet_v3_large": ("resolution=31,96,161",),
    "mobilenet_v3_small": ("resolution=2,97,128",),
    "mobilenet_v4_conv_small": ("resolution=63,96,127",),
    "mobilevit_s": ("resolution=64,96,128",),
    "resnet50": ("resolution=33,64", "v1_5=0,1"),
    "s3d": ("frames=16,17", "resolution=224,239", "classes=10,400"),
    "shufflenet_v2_x1_0": ("resolution=33,96,131",),
    "vgg16": ("resolution=32,33,64",),
    "xception": ("resolution=71,100",),
}
"""A small grid over the vars of every zoo spec (S3D's final 2 x 7 x 7 pool needs 16 frames and
224 x 224 at least; MobileViT-S does not build at 96)."""


def analyzed(loaded: LoadedSpec, point: Mapping[str, Number], convention: Convention) -> object:
    """(MACs, params, FLOPs, activations) from a full build and analyze, or the build's error."""
    try:
        graph = build_graph(loaded, point)
    except SpecError as exc:
        return exc.diagnostics[0].message
    totals = analyze(graph, convention).totals
    return (totals.macs, totals.params, totals.flops, totals.activations)


def replayed(result: GridResult, i: int) -> object:
    totals = result.totals[i]
    if totals is None:
        return result.errors[i]
    return (totals.macs, totals.params, totals.flops, totals.activations)


def assert_every_point_analyzed(
    loaded: LoadedSpec, axes: Sequence[Axis], convention: Convention = DEFAULT
) -> GridResult:
    result = grid_search(Evaluator(loaded, convention), axes)
    for i, point in enumerate(result.points):
        assert replayed(result, i) == analyzed(loaded, point, convention), point
    return result


def test_every_zoo_spec_has_a_grid() -> None:
    assert sorted(ZOO_GRIDS) == zoo.names()


@pytest.mark.parametrize("name", sorted(ZOO_GRIDS))
def test_replay_equals_analyze_on_every_zoo_spec(name: str) -> None:
    loaded = load_spec(zoo.path(name))
    result = assert_every_point_analyzed(loaded, [parse_axis(a) for a in ZOO_GRIDS[name]])
    assert result.method == "replay"
    built = [t is not None for t in result.totals]
    # MobileViT's attention takes 2 x 2 patches of its 1/32 size maps: 96 gives 3 x 3.
    assert built == [name != "mobilevit_s" or p["resolution"] != 96 for p in result.points]


def test_replay_equals_analyze_under_another_flops_convention() -> None:
    """fvcore counts no norm or activation FLOPs: the replay sums FLOPs under the evaluator's
    convention, part by part."""
    loaded = load_spec(zoo.path("mobilenet_v2"))
    axes = [parse_axis("alpha=0.5,1"), parse_axis("resolution=96,97")]
    assert_every_point_analyzed(loaded, axes, FVCORE)


ROUND_WHEN = """\
name: round-when
vars: {alpha: 1.0, resolution: 32, deep: 1}
input: {channels: 3, size: resolution}
blocks:
  unit:
    params: [c, s]
    layers:
      - {kind: pointwise, name: expand, out: "round(in_channels * 3 * alpha)", act: relu,
         when: "in_channels * alpha > 6"}
      - {kind: depthwise, name: dw, kernel: 3, stride: s, padding: 1, norm: batchnorm,
         act: relu6}
      - {kind: pointwise, name: project, out: "max(8, round(c * alpha / 4) * 4)",
         norm: batchnorm}
      - {kind: add, inputs: [input, project],
         when: "s == 1 and in_channels == max(8, round(c * alpha / 4) * 4)"}
layers:
  - {kind: conv, out: "make_divisible(16 * alpha, 8)", kernel: 3, stride: 2, padding: 1,
     norm: batchnorm, act: hardswish}
  - {block: unit, c: 16, s: 1}
  - {block: unit, c: 24, s: 2}
  - {block: unit, c: 24, s: 1, when: "deep == 1"}
  - {kind: maxpool, kernel: 2}
  - {kind: conv, out: "int(32 * alpha)", kernel: 2, stride: 1, when: "alpha > 0.5"}
  - {kind: global_avg_pool}
  - {kind: flatten}
  - {kind: linear, out: 10}
"""
"""``round`` and ``make_divisible`` widths, layers and a whole block kept by ``when:`` on the
width, the block's input channels or another var, residual adds, an even pooling kernel (odd
and even sizes round apart), and a stride-1 conv after it that small inputs cannot take."""
SQUEEZE_EXCITE = """\
name: se
vars: {alpha: 1.0, resolution: 32}
input: {channels: 3, size: resolution}
layers:
  - {kind: conv, out: "make_divisible(16 * alpha, 8)", kernel: 3, stride: 2, act: relu}
  - {kind: squeeze_excite, squeeze: "max(1, int(4 * alpha))"}
  - {kind: pointwise, out: "int(24 * alpha)"}
"""
SPECS = {"round-when": ROUND_WHEN, "squeeze-excite": SQUEEZE_EXCITE}


@pytest.fixture(scope="module")
def loaded_specs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LoadedSpec]:
    folder: Path = tmp_path_factory.mktemp("specs")
    specs = {}
    for name, text in SPECS.items():
        (folder / f"{name}.yaml").write_text(text)
        specs[name] = load_spec(folder / f"{name}.yaml")
    specs["mobilenet_v2"] = load_spec(zoo.path("mobilenet_v2"))
    return specs


def test_a_spec_with_round_and_when_on_a_fixed_grid(loaded_specs: dict[str, LoadedSpec]) -> None:
    axes = [parse_axis("alpha=0.25:1.5:0.25"), parse_axis("resolution=2,5,8,9,31,32")]
    result = assert_every_point_analyzed(loaded_specs["round-when"], axes)
    assert result.method == "replay"
    # At resolution 2 the 2x2 max pool gets 1x1 (the stride-2 unit halves 1 to 1): it cannot
    # take it, and no point there builds.
    assert all(
        result.totals[i] is None for i, p in enumerate(result.points) if p["resolution"] == 2
    )
    assert sum(t is not None for t in result.totals) >= 30


@settings(max_examples=25, deadline=None)
@given(
    which=st.sampled_from(["round-when", "squeeze-excite", "mobilenet_v2"]),
    alphas=st.lists(st.integers(10, 160), min_size=1, max_size=3, unique=True),
    sizes=st.lists(st.integers(1, 100), min_size=1, max_size=4, unique=True),
    deep=st.sampled_from([(1,), (0,), (0, 1)]),
)
def test_random_grids_equal_analyze(
    loaded_specs: dict[str, LoadedSpec],
    which: str,
    alphas: list[int],
    sizes: list[int],
    deep: tuple[int, ...],
) -> None:
    axes = [
        Axis("alpha", tuple(Fraction(a, 100) for a in alphas)),
        Axis("resolution", tuple(sizes)),
    ]
    if which == "round-when":
        axes.append(Axis("deep", deep))
    assert_every_point_analyzed(loaded_specs[which], axes)
