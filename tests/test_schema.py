"""The JSON Schemas of a spec and a budgets file: committed copies current, every example valid
under them, and the mistakes an editor must flag flagged at their place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from typer.testing import CliRunner

from sepcalc.cli import app
from sepcalc.formulas import REGISTRY
from sepcalc.schema import SCHEMAS, budgets_schema, schema_text, spec_schema

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
HEADER = "# yaml-language-server: $schema=../docs/schemas/spec.schema.json\n"


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_committed_schema_is_the_generated_one(name: str) -> None:
    committed = ROOT / "docs" / "schemas" / f"{name}.schema.json"
    assert committed.read_text() == schema_text(name), "run: python docs/generate.py"


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_schema_command_prints_it(name: str) -> None:
    result = CliRunner().invoke(app, ["schema", name])
    assert result.exit_code == 0
    assert result.stdout == schema_text(name)
    Draft7Validator.check_schema(json.loads(result.stdout))


def test_schema_command_defaults_to_the_spec() -> None:
    assert CliRunner().invoke(app, ["schema"]).stdout == schema_text("spec")


def test_an_unknown_schema_is_exit_2() -> None:
    result = CliRunner().invoke(app, ["schema", "budget"])
    assert result.exit_code == 2
    assert "'budget' is not one of" in result.stderr


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_names_the_schema_and_is_valid(path: Path) -> None:
    text = path.read_text()
    assert text.startswith(HEADER)
    assert list(Draft7Validator(spec_schema()).iter_errors(yaml.safe_load(text))) == []


def test_the_example_budgets_file_is_valid() -> None:
    path = ROOT / "examples" / "ci" / "budgets.yaml"
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=../../docs/schemas/budgets.schema.json")
    assert list(Draft7Validator(budgets_schema()).iter_errors(yaml.safe_load(text))) == []


def test_every_kind_is_in_the_schema() -> None:
    text = json.dumps(spec_schema())
    for kind in REGISTRY:
        assert f'"{kind}"' in text


def _errors(layer: dict[str, Any]) -> list[tuple[str, ...]]:
    """The paths the schema flags in a one-layer spec with this layer."""
    spec = {"input": {"channels": 3, "size": 32}, "layers": [layer]}
    validator = Draft7Validator(spec_schema())
    return [tuple(map(str, e.absolute_path)) for e in validator.iter_errors(spec)]


@pytest.mark.parametrize(
    ("layer", "flagged"),
    [
        ({"kind": "conv", "out": 8, "kernel": 3}, False),
        ({"kind": "conv", "out": "int(8 * alpha)", "kernel": [3, 1]}, False),
        ({"block": "dws", "out": 64, "stride": 2}, False),
        ({"kind": "conv", "out": 8, "kernel": 3, "strid": 2}, True),  # misspelt key
        ({"kind": "convv", "out": 8, "kernel": 3}, True),  # misspelt kind
        ({"kind": "conv", "kernel": 3}, True),  # out is required
        ({"kind": "conv", "out": 0, "kernel": 3}, True),  # out >= 1 (declared bound)
        ({"kind": "conv", "out": 8, "kernel": [3, 0]}, True),  # per-dimension bound
        ({"kind": "conv", "out": 8, "kernel": 3, "act": "relu7"}, False),  # may name a param
        ({"kind": "conv", "out": 8, "kernel": 3, "act": "relu-7"}, True),  # not a name at all
        ({"kind": "dropout", "p": 1.5}, True),  # a probability: at most 1
        ({"kind": "conv", "out": 8, "kernel": 3, "bias": "yes please"}, False),  # expression
    ],
    ids=[
        "valid",
        "expressions",
        "block-call",
        "unknown-key",
        "unknown-kind",
        "missing-required",
        "below-bound",
        "per-dim-below-bound",
        "param-name",
        "bad-name",
        "above-bound",
        "bool-expression",
    ],
)
def test_mistakes_are_flagged_at_their_layer(layer: dict[str, Any], flagged: bool) -> None:
    assert _errors(layer) == ([("layers", "0")] if flagged else [])


@pytest.mark.parametrize(
    ("budget", "ok"),
    [
        ({"macs": "600M", "params": 4_300_000, "by_kind.pointwise.macs": "550M"}, True),
        ({"params.weight": "4.2M", "flops": "1.5G"}, True),
        ({"mac": "600M"}, False),  # misspelt metric
        ({"by_kind.pointwise.mac": "1G"}, False),
        ({"by_kind.conv2d.macs": "1G"}, False),  # not a breakdown kind
        ({"macs": "lots"}, False),
        ({"macs": -1}, False),
    ],
    ids=["totals-and-kinds", "roles", "metric", "kind-field", "kind", "value", "negative"],
)
def test_budgets_are_checked_in_spec_and_file(budget: dict[str, Any], ok: bool) -> None:
    spec = {"input": {"channels": 3, "size": 32}, "layers": [{"kind": "flatten"}]}
    in_spec = list(Draft7Validator(spec_schema()).iter_errors({**spec, "budget": budget}))
    in_file = list(Draft7Validator(budgets_schema()).iter_errors({"models/*.yaml": budget}))
    assert (not in_spec, not in_file) == (ok, ok)
