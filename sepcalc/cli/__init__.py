"""The command-line interface: the only package that imports typer and prints.

Results go to stdout, diagnostics to stderr. Exit codes: 0 success, 1 a check failed (budget
exceeded, infeasible search, cross-check mismatch), 2 invalid spec, options or internal error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from sepcalc import __version__
from sepcalc.errors import SepcalcError, SpecError

app = typer.Typer(
    name="sepcalc",
    help="What a CNN will cost, from a YAML spec: parameters, MACs, FLOPs, activation memory, "
    "and what depthwise separable convolutions save. MACs are multiply-accumulates (the papers' "
    "mult-adds); FLOPs follow a stated convention (see --convention).\n\n"
    "Exit codes: 0 success; 1 a check failed (budget exceeded, search infeasible, cross-check "
    "mismatch); 2 invalid spec, options or an internal error.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def stdout() -> Console:
    """Results console; when piped, wide enough that tables are never truncated."""
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 200
    return console


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn our exceptions into messages on stderr and exit code 2, never a traceback."""
    try:
        yield
    except SpecError as exc:
        err = stderr()
        for d in exc.diagnostics:
            err.print(str(d), markup=False)
        n = len(exc.diagnostics)
        err.print(f"{n} error{'s' if n != 1 else ''} in spec", style="red", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    except SepcalcError as exc:
        stderr().print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_USAGE) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sepcalc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """What a CNN will cost, from a YAML spec."""


# Every command module is imported on every run, so each imports the core (graph, spec, budget,
# search, report, ...) inside its functions, never at the top: tests/test_startup.py.
from sepcalc.cli import analyze as _analyze  # noqa: E402,F401  (registers its command)
from sepcalc.cli import check as _check  # noqa: E402,F401
from sepcalc.cli import crosscheck as _crosscheck  # noqa: E402,F401
from sepcalc.cli import diff as _diff  # noqa: E402,F401
from sepcalc.cli import export as _export  # noqa: E402,F401
from sepcalc.cli import formula as _formula  # noqa: E402,F401
from sepcalc.cli import search as _search  # noqa: E402,F401


def main() -> None:
    try:
        app()
    except Exception as exc:
        if os.environ.get("SEPCALC_DEBUG"):
            raise
        print(  # noqa: T201  (the last resort, when rich itself may be what failed)
            f"sepcalc: internal error: {type(exc).__name__}: {exc}\n"
            "Please report it; set SEPCALC_DEBUG=1 for the traceback.",
            file=sys.stderr,
        )
        sys.exit(EXIT_USAGE)
