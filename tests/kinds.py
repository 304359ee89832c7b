"""One-layer specs from the kinds' declared examples, for the tests that cover every kind."""

from __future__ import annotations

import json
from typing import Any

from sepcalc.formulas import REGISTRY
from sepcalc.formulas.base import Example
from sepcalc.graph import Graph, build_graph
from sepcalc.spec import LoadedSpec, parse_yaml, validate


def example_spec(example: Example) -> dict[str, Any]:
    """The example as a spec: its input, then the layer (a merge takes the input n times)."""
    return {
        "name": "example",
        "input": {"channels": example.channels, "size": list(example.size)},
        "layers": [dict(example.layer)],
    }


def graph_of_spec(spec: dict[str, Any]) -> Graph:
    data, locator = parse_yaml(json.dumps(spec), "example.yaml")
    return build_graph(LoadedSpec(validate(data, locator), locator))


def example_graph(example: Example) -> Graph:
    return graph_of_spec(example_spec(example))


EXAMPLES = [(name, i, e) for name, kind in REGISTRY.items() for i, e in enumerate(kind.examples)]
"""(kind, index, example) for every declared example."""
EXAMPLE_IDS = [f"{name}-{i}" for name, i, _ in EXAMPLES]
