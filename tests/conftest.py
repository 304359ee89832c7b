from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from sepcalc.cli import register
from sepcalc.expr import Number
from sepcalc.graph import Graph, build_graph
from sepcalc.spec import load_spec

register()  # the console script registers only the command it runs; tests use them all


@pytest.fixture(autouse=True)
def _terminal_independent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Render as when piped, whatever terminal runs the tests, so goldens do not depend on it.

    The results console is 200 columns wide unless COLUMNS says otherwise (sepcalc.cli.stdout);
    a test that wants a narrow terminal passes COLUMNS to its CliRunner.
    """
    for name in ("COLUMNS", "LINES"):
        monkeypatch.delenv(name, raising=False)


ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture
def example() -> Callable[..., Graph]:
    """Build the graph of examples/<name>.yaml with optional var overrides."""

    def build(name: str, **overrides: Number) -> Graph:
        return build_graph(load_spec(EXAMPLES / f"{name}.yaml"), overrides)

    return build


def graph_of(text: str, tmp_path: Path, overrides: Mapping[str, Number] | None = None) -> Graph:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return build_graph(load_spec(path), overrides)
