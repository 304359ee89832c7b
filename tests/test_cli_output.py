"""Every command writes its report to ``--output FILE`` (README: reports go to stdout or to a
file), byte for byte what it prints on stdout with the terminal styling off; and every command
that reads a spec (or a space) reads it from stdin as ``-``.

Parametrized over every command, found by walking the app (tests/cli_commands.py), so a new
command without ``--output``, or without a run to try it with, fails here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from sepcalc.cli import app
from tests.cli_commands import command, commands, formats, materialize, options, runs

COMMANDS = commands()


def invoke(argv: list[str], stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, argv, input=stdin)


def test_the_walk_finds_every_command() -> None:
    assert {"analyze", "check", "export torch", "formula", "import", "schema", "search grid",
            "space sample", "zoo"} <= set(COMMANDS)  # fmt: skip
    assert len(COMMANDS) == 21


@pytest.mark.parametrize("words", COMMANDS)
def test_every_report_goes_to_output_as_it_goes_to_stdout(words: str, tmp_path: Path) -> None:
    assert {"--output", "-o"} <= options(words), f"`sepcalc {words}` has no --output"
    report = tmp_path / "report.out"
    for args in runs(words):
        for fmt in formats(words) or (None,):
            argv = [*words.split(), *materialize(args, tmp_path)]
            argv += ["--format", fmt] if fmt else []
            printed = invoke(argv)
            written = invoke([*argv, "--output", str(report)])
            assert written.exit_code == printed.exit_code, (argv, written.output)
            if printed.exit_code == 2:  # a format this run does not take: no report at all
                assert not report.exists(), argv
                continue
            assert printed.stdout_bytes.strip(), argv
            assert written.stdout_bytes == b"", argv
            assert report.read_bytes() == printed.stdout_bytes, argv
            report.unlink()


def test_a_failed_search_still_writes_its_report(tmp_path: Path) -> None:
    # 1/C_out + 1/9 > 1/10 for every C_out: no 3x3 separable layer is 10x cheaper (exit 1)
    report = tmp_path / "infeasible.json"
    argv = ["search", "channels", "--k", "3", "--min-factor", "10", "-f", "json"]
    assert invoke([*argv, "-o", str(report)]).exit_code == 1
    assert report.read_text() == invoke(argv).stdout
    assert '"feasible": false' in report.read_text()


READS_A_SPEC = [
    words
    for words in COMMANDS
    if any(getattr(p, "metavar", None) in ("SPEC", "SPACE") for p in command(words).params)
    or words == "diff"
]


def test_the_commands_that_read_a_spec() -> None:
    assert {"analyze", "check", "diff", "export dot", "search width", "space count"} <= set(
        READS_A_SPEC
    )
    assert "import" not in READS_A_SPEC  # an ONNX model, not a spec


@pytest.mark.parametrize("words", READS_A_SPEC)
def test_every_command_reads_its_spec_from_stdin(words: str, tmp_path: Path) -> None:
    args = materialize(runs(words)[0], tmp_path)
    path = next(a for a in args if a.endswith(".yaml"))
    from_file = invoke([*words.split(), *args])
    piped = [*words.split(), *("-" if a == path else a for a in args)]
    from_stdin = invoke(piped, stdin=Path(path).read_text())
    assert from_stdin.exit_code == from_file.exit_code, from_stdin.output
    assert from_stdin.exit_code in (0, 1), from_stdin.output
    # the same report, where it names the file (as given, or relative to here) it names <stdin>
    named = from_file.stdout.replace(path, "<stdin>").replace(os.path.relpath(path), "<stdin>")
    assert from_stdin.stdout == named
