"""Every declared layer kind is complete and consistent, checked on its own examples.

Nothing here names a kind: a new kind is covered as soon as it is declared.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sepcalc.cost import Cost
from sepcalc.formulas import REGISTRY
from sepcalc.formulas.base import Example, buckets
from sepcalc.formulas.torchplan import Call
from sepcalc.graph import example_graph
from sepcalc.spec.models import MODEL_OF_KIND, LayerBase
from tests.kinds import EXAMPLE_IDS, EXAMPLES

ROOT = Path(__file__).resolve().parent.parent


def _custom_classes() -> set[str]:
    """The classes of crosscheck/layers.py, read without importing torch."""
    tree = ast.parse((ROOT / "sepcalc" / "crosscheck" / "layers.py").read_text())
    return {node.name for node in tree.body if isinstance(node, ast.ClassDef)}


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_kind_has_examples_a_summary_and_buckets(kind: str) -> None:
    declared = REGISTRY[kind]
    assert declared.examples, "declare at least one example"
    assert declared.summary
    assert declared.flops
    assert declared.buckets


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_spec_model_has_exactly_the_declared_attributes(kind: str) -> None:
    model = MODEL_OF_KIND[kind]
    declared = REGISTRY[kind]
    assert set(model.model_fields) == {*LayerBase.model_fields, "kind", *declared.attr_names}
    for attr in declared.attrs:
        field = model.model_fields[attr.name]
        assert field.is_required() == attr.required
        assert field.description == attr.doc


@pytest.mark.parametrize(("kind", "index", "example"), EXAMPLES, ids=EXAMPLE_IDS)
def test_example_builds_reports_to_declared_buckets_and_has_a_torch_plan(
    kind: str, index: int, example: Example
) -> None:
    node = example_graph(example).nodes[-1]
    assert node.kind == kind
    declared = REGISTRY[kind]
    assert {b for b, _ in node.parts} <= set(declared.buckets)
    module = declared.torch(node)
    assert isinstance(module, Call)
    unknown = {c for c in module.classes() if not c[:1].isupper()}
    assert not unknown, f"not a class name: {unknown}"


def test_every_declared_bucket_is_reached_by_an_example() -> None:
    reached = {b for _, _, e in EXAMPLES for n in example_graph(e).nodes for b, _ in n.parts}
    assert reached == buckets()


def test_custom_torch_classes_exist() -> None:
    """A class a counterpart names is torch.nn's (checked with torch) or crosscheck.layers'."""
    custom = _custom_classes()
    named = {c for _, _, e in EXAMPLES for c in _classes(e)}
    torch = pytest.importorskip("torch")
    missing = {c for c in named if c not in custom and not hasattr(torch.nn, c)}
    assert not missing


def _classes(example: Example) -> set[str]:
    node = example_graph(example).nodes[-1]
    return REGISTRY[node.kind].torch(node).classes()


@pytest.mark.parametrize(
    ("kind", "index", "example"),
    [e for e in EXAMPLES if REGISTRY[e[0]].view is None],
    ids=[i for i, e in zip(EXAMPLE_IDS, EXAMPLES, strict=True) if REGISTRY[e[0]].view is None],
)
def test_kind_without_a_closed_form_has_no_parameters_and_no_arithmetic(
    kind: str, index: int, example: Example
) -> None:
    # `formula KIND` says so of every kind without a view.
    node = example_graph(example).nodes[-1]
    assert node.cost._replace(activations=0) == Cost()


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_defaults_are_valid_values(kind: str) -> None:
    for attr in REGISTRY[kind].attrs:
        if attr.required or attr.default is None:
            continue
        if attr.type == "choice" or isinstance(attr.default, str):
            assert attr.default in attr.choices, attr.name
        elif attr.type == "bool":
            assert isinstance(attr.default, bool), attr.name
        else:
            assert attr.lowest is None or attr.default >= attr.lowest, attr.name
            assert attr.high is None or attr.default <= attr.high, attr.name
