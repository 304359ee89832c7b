"""The spec model narrowed to the kinds a spec uses (a faster start) validates exactly as the
full model: the same values for every zoo spec, and the full model wherever a kind is unknown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sepcalc.spec.models import MODEL_OF_KIND, NetworkSpec, layer_kinds, network_model

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_narrow_model_reads_every_zoo_spec_as_the_full_one(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    kinds = layer_kinds(data)
    assert kinds is not None
    narrow = network_model(kinds)
    assert narrow is not NetworkSpec
    assert issubclass(narrow, NetworkSpec)
    full = network_model(None)
    assert narrow.model_validate(data).model_dump() == full.model_validate(data).model_dump()


def test_layer_kinds_of_layers_and_blocks() -> None:
    data = {
        "layers": [{"kind": "conv"}, {"block": "b"}, {"kind": "add"}],
        "blocks": {"b": {"layers": [{"kind": "depthwise"}, {"block": "c"}]}},
    }
    assert layer_kinds(data) == {"conv", "add", "depthwise"}


@pytest.mark.parametrize(
    "data",
    [
        {"layers": [{"kind": "convv"}]},  # unknown: the full model words it
        {"layers": [{"out": 8}]},  # no kind
        {"layers": ["conv"]},  # not a mapping
        {"layers": {"kind": "conv"}},  # not a list
        {"layers": [], "blocks": {"b": {"layers": [{"kind": 3}]}}},
        {"layers": [], "blocks": ["b"]},
        ["not", "a", "spec"],
    ],
    ids=["unknown", "no-kind", "string", "not-a-list", "block-kind", "blocks-list", "list"],
)
def test_anything_unusual_takes_the_full_model(data: Any) -> None:
    assert layer_kinds(data) is None
    assert network_model(None) is NetworkSpec


def test_models_are_made_per_declaration() -> None:
    assert len(MODEL_OF_KIND) == len(set(MODEL_OF_KIND))
    assert MODEL_OF_KIND["depthwise"] is MODEL_OF_KIND["depthwise"]  # made once
    assert "kind" in MODEL_OF_KIND["conv"].model_fields
    with pytest.raises(KeyError):
        MODEL_OF_KIND["convv"]
