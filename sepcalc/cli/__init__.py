"""The command-line interface: the only package that imports typer and prints.

Results go to stdout, diagnostics to stderr. Exit codes: 0 success, 1 a check failed (budget
exceeded, infeasible search, cross-check mismatch), 2 invalid spec, options or internal error.
"""

from __future__ import annotations

import gc
import importlib
import inspect
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.protocol import is_renderable
from rich.text import Text

from sepcalc import __version__
from sepcalc.cli.options import worded
from sepcalc.cli.tables import Fitted, wrap_prose
from sepcalc.cli.tables import fit_tables as fit_tables
from sepcalc.errors import EXIT_INVALID, SepcalcError, SpecError


def reflow(text: str) -> str:
    """``text`` with each paragraph on one line, so that the help wraps to the terminal.

    typer's rich help keeps a docstring's single line breaks, so a paragraph wrapped at 100
    columns in the source breaks mid-sentence at 80; paragraphs (blank-line separated) and
    click's ``\b`` (keep this paragraph as written) are kept.
    """
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(
        p if p.startswith("\b") else " ".join(line.strip() for line in p.splitlines())
        for p in paragraphs
    )


class Typer(typer.Typer):
    """A ``typer.Typer`` whose commands' help (docstring or ``help=``) is :func:`reflow`-ed."""

    def command(  # type: ignore[override]
        self, name: str | None = None, *, help: str | None = None, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        register = super().command

        def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
            # typer reads a command's signature four times as it builds the command; with
            # postponed annotations it would evaluate each one (and its typer.Option) each time.
            f.__annotations__ = inspect.get_annotations(f, eval_str=True)
            text = help if help is not None else inspect.getdoc(f)
            return register(name, help=None if text is None else reflow(text), **kwargs)(f)

        return decorator


app = Typer(
    name="sepcalc",
    help="What a CNN will cost, from a YAML spec: parameters, MACs, FLOPs, activation memory, "
    "and what depthwise separable convolutions save. MACs are multiply-accumulates (the papers' "
    "mult-adds); FLOPs follow a stated convention (see --convention).\n\n"
    "Exit codes: 0 success; 1 a check failed (budget exceeded, search infeasible, cross-check "
    "mismatch); 2 invalid spec, options or an internal error.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    rich_markup_mode="rich",
)


def _hide_flag_types() -> None:
    """Print no `<bool>` beside a flag (--latex, --help) in the help.

    typer's rich help prints a value type for every option, flags included, which take no
    value (its plain help leaves it out); there is no setting for it, so flags report none.
    """
    from typer.core import TyperOption

    shown = getattr(TyperOption, "display_type_rich", None)
    if shown is None:  # another typer: its help keeps the type, nothing breaks
        return

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    setattr(TyperOption, "display_type_rich", display_type_rich)  # noqa: B010


_hide_flag_types()

_INT = re.compile(r"[+-]?[0-9]+")
_NOT_PLAIN = object()
"""What :func:`_plain_value` returns for a value it leaves to typer."""


def _plain_value(annotation: Any, info: Any, value: Any) -> Any:
    """``value`` coerced to ``annotation`` where that is plainly valid (a string for a str, a
    member's value for an enum, digits within bounds for an int, text for a path without path
    checks, a list of those); anything else is :data:`_NOT_PLAIN`."""
    from enum import Enum
    from typing import get_args, get_origin

    if get_origin(annotation) is list and isinstance(value, list | tuple):
        (item,) = get_args(annotation)
        items = [_plain_value(item, info, v) for v in value]
        return _NOT_PLAIN if any(v is _NOT_PLAIN for v in items) else items
    if annotation is str and isinstance(value, str):
        return value
    if annotation is bool and isinstance(value, bool):
        return value
    if annotation is int and not getattr(info, "clamp", True):
        number = value if type(value) is int else None
        if isinstance(value, str) and _INT.fullmatch(value):
            number = int(value)
        low, high = getattr(info, "min", None), getattr(info, "max", None)
        if (
            number is not None
            and (low is None or number >= low)
            and (high is None or number <= high)
        ):
            return number
        return _NOT_PLAIN
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        if isinstance(value, annotation):
            return value
        members = {m.value: m for m in annotation}
        if getattr(info, "case_sensitive", False) and isinstance(value, str) and value in members:
            return members[value]
        return _NOT_PLAIN
    if annotation is Path and _plain_path(info):
        if isinstance(value, Path):
            return value
        if isinstance(value, str):
            return Path(value)
    return _NOT_PLAIN


def _plain_path(info: Any) -> bool:
    """A path option that asks typer for no check (existence, kind, dash, resolving)."""
    wanted = {"exists": False, "file_okay": True, "dir_okay": True, "writable": False,
              "readable": True, "resolve_path": False, "allow_dash": False, "path_type": None,
              "parser": None}  # fmt: skip
    return all(getattr(info, k, not v) == v for k, v in wanted.items())


class _PlainCoercion:
    """typer's runtime coercion of one parameter, without a pydantic TypeAdapter where the
    value is plainly valid; otherwise typer's own (which words every error)."""

    def __init__(self, param: Any, typer_own: Any) -> None:
        self.param, self.typer_own = param, typer_own

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        descriptor = self.param.type_descriptor
        multiple = param.multiple or param.nargs == -1
        if value is None:  # as typer's coercion: nothing given, nothing to coerce
            return () if multiple else None
        if not (multiple and isinstance(value, str)) and descriptor.file_annotation is None:
            plain = _plain_value(descriptor.annotation, descriptor.parameter_info, value)
            if plain is not _NOT_PLAIN:
                return plain
        return self.typer_own(self.param).coerce(value, param=param, ctx=ctx)


def _plain_coercion() -> None:
    """Coerce option values without typer's pydantic adapters where they are plainly valid.

    typer (0.2x) coerces every parameter's value, defaults included, through a pydantic
    TypeAdapter built for it on first use; importing those adapters and building them was a
    third of a plain ``analyze``'s start-up. The options of sepcalc are strings, paths, enums,
    ints and lists of them: a value that is plainly valid is coerced here, anything else goes
    to typer's coercion, so every error is typer's own. A typer without this hook is left alone.
    """
    from typer.core import _TyperParameter

    typer_own = getattr(_TyperParameter, "get_runtime_param", None)
    if typer_own is None or "type_descriptor" not in getattr(
        _TyperParameter, "__annotations__", {}
    ):
        return  # another typer: its coercion is used as it is

    def get_runtime_param(self: Any) -> Any:
        return _PlainCoercion(self, typer_own)

    setattr(_TyperParameter, "get_runtime_param", get_runtime_param)  # noqa: B010


_plain_coercion()


class _ResultsConsole(Console):
    """A console that never cuts a table cell (see :func:`fit_tables`), and that wraps prose
    at ``prose_width`` (none: at its width)."""

    prose_width: int | None = None

    def print(self, *objects: Any, **kwargs: Any) -> None:
        # Text and str are left alone: rich joins adjacent ones on one line.
        prose = self.prose_width
        if prose and len(objects) == 1 and isinstance(objects[0], str | Text):
            (text,) = objects
            if isinstance(text, str):
                options = ("markup", "emoji", "highlight")
                text = self.render_str(text, **{k: kwargs.pop(k) for k in options if k in kwargs})
            objects = (wrap_prose(text, min(prose, self.width)),)
        fitted = [
            Fitted(o, prose) if is_renderable(o) and not isinstance(o, str | Text) else o
            for o in objects
        ]
        super().print(*fitted, **kwargs)


@contextmanager
def progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when it is a terminal (rich shows it after a moment), else
    nothing; the callback takes (done, total)."""
    err = stderr()
    if not err.is_terminal:
        yield None
        return
    from rich.progress import Progress

    with Progress(console=err, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield update


PIPED_WIDTH = 200
"""The width of tables written to a pipe or a file (unless COLUMNS says otherwise): the same
whatever terminal the command runs in, and wide enough that no table folds."""
PROSE_WIDTH = 80
"""Where notes, titles and explanations written to a pipe or a file wrap (unless COLUMNS says
otherwise)."""


def stdout() -> Console:
    """Results console; when piped, tables at :data:`PIPED_WIDTH` and prose wrapped at
    :data:`PROSE_WIDTH` (both at COLUMNS when it is set, as on a terminal that wide); on a
    narrow terminal tables fit it (see :func:`fit_tables`)."""
    console = _ResultsConsole(highlight=False, emoji=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPED_WIDTH
        console.prose_width = PROSE_WIDTH
    return console


def stderr() -> Console:
    # emoji=False: rich reads ':100:' in 'spec.yaml:100:3' as an emoji code
    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def print_diagnostics(exc: SpecError, where: str = "spec") -> None:
    """Every diagnostic on stderr, then how many there were and in what."""
    err = stderr()
    if exc.diagnostics:  # one print: a spec of 50,000 broken layers has as many lines
        err.print("\n".join(str(d) for d in exc.diagnostics), markup=False)
    n = len(exc.diagnostics)
    err.print(f"{n} error{'s' if n != 1 else ''} in {where}", style="red", markup=False)


def _what(exc: SpecError) -> str:
    """What the errors are in: ``spec``, or a file of another kind with its name
    (``device file dev.yaml``)."""
    files = {d.file for d in exc.diagnostics}
    if exc.what == "spec" or len(files) != 1:
        return exc.what
    return f"{exc.what} {files.pop()}"


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn our exceptions into messages on stderr and exit code 2, never a traceback."""
    try:
        yield
    except SpecError as exc:
        shown = worded(exc)
        print_diagnostics(shown if isinstance(shown, SpecError) else exc, _what(exc))
        raise typer.Exit(EXIT_INVALID) from None
    except SepcalcError as exc:
        stderr().print(f"error: {worded(exc)}", markup=False)
        raise typer.Exit(EXIT_INVALID) from None


@contextmanager
def output_to(path: Path | None) -> Iterator[None]:
    """Send what the block writes to stdout into the file ``path`` (none: stdout as usual).

    The report is gathered first and written once the block ends, also when it ends with an
    exit code (a failed check still writes its report); nothing written, no file made.
    """
    if path is None:
        yield
        return
    import io
    from contextlib import redirect_stdout

    buffer = io.StringIO()
    try:
        with redirect_stdout(buffer):
            yield
    finally:
        if buffer.getvalue():
            try:
                path.write_text(buffer.getvalue(), encoding="utf-8")
            except OSError as exc:
                stderr().print(f"error: cannot write {path}: {exc.strerror or exc}", markup=False)
                raise typer.Exit(EXIT_INVALID) from None


def save_plot(figure: Any, path: Path) -> None:
    """Write a matplotlib figure to ``path`` (its type from the suffix) and say so on stderr."""
    import matplotlib

    try:
        # Text stays text in an SVG: searchable, selectable, and the same font as the page.
        with matplotlib.rc_context({"svg.fonttype": "none"}):
            figure.savefig(path, format=path.suffix.lower().lstrip("."), dpi=150)
    except OSError as exc:
        stderr().print(f"error: cannot write {path}: {exc.strerror or exc}", markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    stderr().print(f"plot written to {path}", markup=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sepcalc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        "-V",
        callback=_version,
        is_eager=True,
        help="Show the version and exit.",
    ),
) -> None:
    """What a CNN will cost, from a YAML spec."""


# Every command module is imported on every run, so each imports the core (graph, spec, budget,
# search, report, ...) inside its functions, never at the top: tests/test_startup.py.
COMMANDS = (
    "analyze",
    "check",
    "crosscheck",
    "diff",
    "export",
    "formula",
    "import",
    "schema",
    "search",
    "space",
    "zoo",
)
"""Each command lives in the module of its name, which registers it on ``app`` when imported."""

MODULE_OF = {"import": "importer"}
"""Commands whose module has another name (``import`` is a Python keyword)."""


def register(names: Iterable[str] = COMMANDS) -> None:
    """Import the modules of these commands (all by default), so ``app`` knows them."""
    for name in names:
        importlib.import_module(f"sepcalc.cli.{MODULE_OF.get(name, name)}")


def _invoked(argv: list[str]) -> list[str]:
    """Just the command the arguments name, or every command (help, version, a typo)."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return [first] if first in COMMANDS else list(COMMANDS)


def _settings(command: Any) -> dict[str, Any]:
    """The defaults of ``[tool.sepcalc]`` in the nearest pyproject.toml, as click's
    ``default_map`` (options given on the command line win); none without one."""
    from sepcalc.cli import config

    found = config.find(Path.cwd())
    if found is None:
        return {}
    try:
        settings = config.read(found)
    except SepcalcError as exc:
        stderr().print(f"error: {exc}", markup=False)
        sys.exit(EXIT_INVALID)
    return {"default_map": config.default_map(command, settings)}


def _no_pydantic_plugins() -> None:
    """Spare pydantic's plugin lookup: sepcalc's spec models use no pydantic plugin.

    The first time pydantic builds a validator it looks for plugins in every installed
    package's metadata, importing importlib.metadata (email, zipfile, csv, ...): a sixth of a
    plain ``analyze``'s start-up, for nothing. pydantic reads its plugins through
    ``pydantic.plugin._loader.get_plugins``; the console script stands in a loader that finds
    none, as PYDANTIC_DISABLE_PLUGINS would, unless pydantic has loaded its own already or the
    user chose which plugins to disable. typer spares its own validators the same lookup.
    """
    name = "pydantic.plugin._loader"
    if name in sys.modules or "PYDANTIC_DISABLE_PLUGINS" in os.environ:
        return
    import types

    loader = types.ModuleType(name)
    loader.get_plugins = lambda: ()  # type: ignore[attr-defined]
    sys.modules[name] = loader


def main() -> None:
    """The console script: typer builds only the command that runs (a faster start)."""
    # What is imported so far (typer, rich, ...) lives as long as the process: the garbage
    # collections that the imports and validators to come set off need not go through it.
    gc.freeze()
    _no_pydantic_plugins()
    try:
        register(_invoked(sys.argv[1:]))
        command = typer.main.get_command(app)
        command(**_settings(command))
    except Exception as exc:
        if os.environ.get("SEPCALC_DEBUG"):
            raise
        print(  # noqa: T201  (the last resort, when rich itself may be what failed)
            f"sepcalc: internal error: {type(exc).__name__}: {exc}\n"
            "Please report it; set SEPCALC_DEBUG=1 for the traceback.",
            file=sys.stderr,
        )
        sys.exit(EXIT_INVALID)
