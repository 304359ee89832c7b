"""Bad specs and the exact diagnostics they produce (golden pairs in tests/diagnostics/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sepcalc.cli import app
from tests.golden import assert_golden

HERE = Path(__file__).parent
ROOT = HERE.parent
CASES = sorted((HERE / "diagnostics").glob("*.yaml"))


@pytest.mark.parametrize("spec", CASES, ids=[c.stem for c in CASES])
def test_diagnostics_golden(spec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["analyze", str(spec.relative_to(ROOT))])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert_golden(result.stderr, spec.with_suffix(".expected"))


def test_every_diagnostic_names_file_line_and_column(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for spec in CASES:
        result = CliRunner().invoke(app, ["analyze", str(spec.relative_to(ROOT))])
        *diagnostics, summary = result.stderr.splitlines()
        assert summary.endswith("in spec")
        for line in diagnostics:
            if spec.stem == "binary":  # a file that is not text has no line to point at
                assert line.startswith(f"{spec.relative_to(ROOT)}: cannot read spec")
                continue
            file, row, col, message = line.split(":", 3)
            assert file == str(spec.relative_to(ROOT))
            assert int(row) > 0
            assert int(col) > 0
            assert message.strip()


def test_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "cannot read spec" in result.stderr


def test_unknown_override_suggests_the_var() -> None:
    result = CliRunner().invoke(
        app, ["analyze", str(ROOT / "examples/mobilenet_v1.yaml"), "--set", "alpah=0.5"]
    )
    assert result.exit_code == 2
    assert "no var 'alpah'; did you mean 'alpha'?" in result.stderr


@pytest.mark.parametrize("bad", ["alpha", "alpha=", "alpha=half", "=1"], ids=str)
def test_malformed_override(bad: str) -> None:
    result = CliRunner().invoke(
        app, ["analyze", str(ROOT / "examples/mobilenet_v1.yaml"), "--set", bad]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --set")
