"""Every layer kind reports its costs only to the breakdown buckets it declares."""

from __future__ import annotations

from pathlib import Path

import pytest

from sepcalc.formulas import REGISTRY
from sepcalc.formulas.base import buckets
from sepcalc.graph import Graph, build_graph
from sepcalc.spec import load_spec
from tests.conftest import EXAMPLES, graph_of

EVERY_KIND = """
input: {channels: 8, size: 16}
layers:
  - {kind: conv, name: c, out: 8, kernel: 3, bias: true, norm: batchnorm, act: relu}
  - {kind: conv, out: 8, kernel: 1}
  - {kind: conv, out: 8, kernel: 3, groups: 8}
  - {kind: depthwise, norm: batchnorm, act: relu6}
  - {kind: pointwise, out: 8, norm: batchnorm, act: hardswish}
  - {kind: separable, out: 8, mid_norm: batchnorm, mid_act: relu, norm: batchnorm, act: silu}
  - {kind: batchnorm}
  - {kind: relu}
  - {kind: relu6}
  - {kind: hardswish}
  - {kind: hardsigmoid}
  - {kind: sigmoid}
  - {kind: silu}
  - {kind: swish}
  - {kind: gelu}
  - {kind: tanh}
  - {kind: squeeze_excite, squeeze: 2}
  - {kind: channel_shuffle, groups: 2}
  - {kind: slice, start: 0, stop: 4, name: s}
  - {kind: slice, start: 4, stop: 8, inputs: c, name: t}
  - {kind: concat, inputs: [s, t]}
  - {kind: add, inputs: [c, concat1]}
  - {kind: upsample, scale: 2, mode: bilinear}
  - {kind: maxpool, kernel: 2}
  - {kind: avgpool, kernel: 2}
  - {kind: adaptive_avg_pool, size: 2}
  - {kind: dropout}
  - {kind: global_avg_pool}
  - {kind: flatten}
  - {kind: linear, out: 10, act: relu}
"""


def _check(graph: Graph) -> None:
    for node in graph.nodes:
        declared = REGISTRY[node.kind].buckets
        for bucket, _ in node.parts:
            assert bucket in declared, f"{node.name} ({node.kind}) reports to '{bucket}'"


def test_a_spec_with_every_kind(tmp_path: Path) -> None:
    graph = graph_of(EVERY_KIND, tmp_path)
    assert {n.kind for n in graph.nodes} == set(REGISTRY), "add new kinds to EVERY_KIND"
    _check(graph)
    assert {b for n in graph.nodes for b, _ in n.parts} == buckets()


@pytest.mark.parametrize("spec", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_examples(spec: Path) -> None:
    _check(build_graph(load_spec(spec)))
