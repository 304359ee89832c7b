"""Every JSON output carries a ``schema_version`` (README, docs/output.md), first: parametrized
over every command that has ``--format json``, found by walking the app, so a new one without a
run in tests/cli_commands.py, or without the key, fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sepcalc.cli import app
from tests.cli_commands import commands, formats, materialize, runs

JSON_COMMANDS = [words for words in commands() if "json" in formats(words)]


def test_the_walk_finds_the_json_commands() -> None:
    # not every command: export, import and schema print code or a spec, not a report
    assert {"analyze", "check", "crosscheck", "diff", "formula", "search grid", "space count",
            "space sample", "zoo"} <= set(JSON_COMMANDS)  # fmt: skip
    assert not {"export torch", "import", "schema"} & set(JSON_COMMANDS)


@pytest.mark.parametrize("words", JSON_COMMANDS)
def test_every_json_output_carries_a_schema_version(words: str, tmp_path: Path) -> None:
    for args in runs(words):
        argv = [*words.split(), *materialize(args, tmp_path), "--format", "json"]
        result = CliRunner().invoke(app, argv)
        assert result.exit_code in (0, 1), (argv, result.output)
        data = json.loads(result.stdout)
        assert next(iter(data)) == "schema_version", argv
        assert data["schema_version"] == 1, argv
