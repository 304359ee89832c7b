"""The zoo reports costs only to the breakdown buckets each kind declares (every kind on its
own examples: tests/test_declarations.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sepcalc.formulas import REGISTRY
from sepcalc.graph import Graph, build_graph
from sepcalc.spec import load_spec
from tests.conftest import EXAMPLES


def _check(graph: Graph) -> None:
    for node in graph.nodes:
        declared = REGISTRY[node.kind].buckets
        for bucket, _ in node.parts:
            assert bucket in declared, f"{node.name} ({node.kind}) reports to '{bucket}'"


@pytest.mark.parametrize("spec", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_examples(spec: Path) -> None:
    _check(build_graph(load_spec(spec)))
