"""Values in messages: as YAML writes them, and never longer than a line."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sepcalc.cli import app
from sepcalc.errors import brief
from sepcalc.expr import ExprError, evaluate


def _bomb(levels: int) -> list[Any]:
    """What a YAML alias bomb expands to: ``levels`` nested lists of 9, shared (9**levels)."""
    value: list[Any] = [1] * 9
    for _ in range(levels - 1):
        value = [value] * 9
    return value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (12, "12"),
        (0.5, "0.5"),
        ("dws", "'dws'"),
        ([2, 2], "[2, 2]"),
        ([[2, 2]], "[[2, 2]]"),
        ({"each": "branch", "all": True}, "{each: 'branch', all: true}"),
        (datetime.date(2024, 1, 1), "the date 2024-01-01"),
        (2**300, "an integer of 301 bits"),
    ],
    ids=["null", "true", "false", "int", "float", "str", "list", "nested", "map", "date", "huge"],
)
def test_brief_writes_values_as_yaml_does(value: Any, text: str) -> None:
    assert brief(value) == text


def test_brief_never_walks_an_alias_bomb() -> None:
    # 9**9 = 387,420,489 ones: printing it whole takes minutes and gigabytes.
    text = brief(_bomb(9))
    assert len(text) <= 60
    assert text.startswith("[[[[...], [...]")
    assert text.endswith("...")


def test_a_list_in_an_expression_is_refused_short() -> None:
    with pytest.raises(ExprError, match=r"^\[\[\[\[\.\.\.\].{0,60} is not a number$"):
        evaluate(_bomb(9), {})


@pytest.mark.parametrize(
    ("budgets", "stderr"),
    [
        ("null: {macs: 1M}", "b.yaml:1:1: null is not a path or glob (write a path in quotes)"),
        (
            "2024-01-01: {macs: 1M}",
            "b.yaml:1:1: the date 2024-01-01 is not a path or glob (write a path in quotes)",
        ),
        (
            "net.yaml: {macs: 1e-400}",
            "b.yaml:1:18: net.yaml: macs: '1e-400' is about 1e-400, not a whole number",
        ),
        ("net.yaml: {macs: null}", "b.yaml:1:18: net.yaml: macs: null is not a count; write a "
         "number such as 600M"),
    ],
    ids=["null-key", "date-key", "tiny", "null-value"],
)  # fmt: skip
def test_a_budgets_file_is_answered_in_its_own_words(
    budgets: str, stderr: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 'None' is not a path or glob; '1e-400' is 1/1000...(400 zeros), not a whole number.
    monkeypatch.chdir(tmp_path)
    Path("net.yaml").write_text("input: {channels: 3, size: 8}\nlayers: [{kind: relu}]\n")
    Path("b.yaml").write_text(budgets + "\n")
    result = CliRunner().invoke(app, ["check", "net.yaml", "--budgets", "b.yaml"])
    assert (result.exit_code, result.stderr) == (2, f"{stderr}\n1 error in b.yaml\n")
