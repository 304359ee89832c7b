"""Every command's --help reads at 80 columns: its paragraphs wrap to the terminal."""

from __future__ import annotations

from itertools import pairwise

import pytest
import typer
from typer.testing import CliRunner

from sepcalc.cli import app, reflow

WIDTH = 80


def commands(group: typer.Typer, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The argv of every command and group of ``group``, e.g. ("search", "grid")."""
    found: list[tuple[str, ...]] = []
    for command in group.registered_commands:
        assert command.callback is not None
        found.append((*prefix, command.name or command.callback.__name__.replace("_", "-")))
    for sub in group.registered_groups:
        assert sub.name is not None
        assert sub.typer_instance is not None
        found.append((*prefix, sub.name))
        found += commands(sub.typer_instance, (*prefix, sub.name))
    return found


COMMANDS = commands(app)


def description(help_text: str) -> list[str]:
    """The lines of the help between the usage line and the first box, right-stripped."""
    lines = help_text.splitlines()
    start = next(i for i, line in enumerate(lines) if "Usage:" in line) + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("╭"))
    return [line.rstrip() for line in lines[start:end]]


def test_the_walk_finds_the_commands() -> None:
    # The README's commands, so that the test below cannot pass on an empty list.
    for argv in [("analyze",), ("check",), ("schema",), ("search", "channels"), ("export", "dot")]:
        assert argv in COMMANDS


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_help_paragraphs_wrap_at_80_columns(argv: tuple[str, ...]) -> None:
    # A line of a paragraph ends only where the next word would not fit: the docstrings are
    # wrapped at 100 columns in the source, and typer's rich help kept those line breaks, so
    # `sepcalc analyze --help` broke "peak activation memory," / "flash and ..." mid-sentence.
    result = CliRunner().invoke(app, [*argv, "--help"], env={"COLUMNS": str(WIDTH)})
    assert result.exit_code == 0, result.output
    lines = description(result.stdout)
    for line, after in pairwise(lines):
        if line and after:
            next_word = after.split()[0]
            assert len(line) + 1 + len(next_word) > WIDTH - 1, (line, after)


def test_reflow_joins_lines_and_keeps_paragraphs() -> None:
    text = "First line\n    goes on.\n\n    Second\n    paragraph.\n\n    \b\n    kept\n    as is"
    assert reflow(text) == "First line goes on.\n\nSecond paragraph.\n\n\b\nkept\nas is"
