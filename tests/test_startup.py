"""`sepcalc analyze` starts fast: the CLI imports what a command needs when that command runs.

The console script registers only the command it runs (all of them for help), and every
command module keeps its core and report imports inside its functions. These tests run a fresh
interpreter, because the test session itself has imported everything.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = "examples/mobilenet_v1.yaml"
MARK = "MODULES:"

# What only other commands, other formats or optional extras need. (Not `random`, which
# sepcalc.search uses: rich.style imports it, so every run of the CLI has it.)
NOT_FOR_ANALYZE = (
    "sympy",
    "numpy",
    "typer._adapters",  # typer's pydantic coercion: sepcalc.cli coerces plain values itself
    "importlib.metadata",  # pydantic's plugin lookup, spared by the console script
    "matplotlib",
    "sepcalc.report.plots",
    "torch",
    "fvcore",
    "onnx",
    "sepcalc.importers",
    "sepcalc.budget",
    "sepcalc.device",  # only with a device option (--device, --dtype, --batch, --memory)
    "sepcalc.search",
    "sepcalc.diff",
    "sepcalc.snapshot",
    "sepcalc.crosscheck",
    "sepcalc.symbolic",
    "sepcalc.report.symbolic",
)
RENDERERS = {
    "json": "sepcalc.report.data",
    "table": "sepcalc.report.table",
    "csv": "sepcalc.report.csvfmt",
    "markdown": "sepcalc.report.markdown",
}
# Registering every command (nothing run) loads only these sepcalc modules.
STARTUP = {
    "sepcalc",
    "sepcalc.errors",
    "sepcalc.conventions",
    "sepcalc.cost",
    "sepcalc.symbol_names",
}


def _fresh(body: str) -> tuple[int, str, set[str]]:
    """Run `body` in a new interpreter: its exit code, stdout, and the modules it imported."""
    code = (
        "import sys\n"
        "status = 0\n"
        "try:\n"
        + "".join(f"    {line}\n" for line in body.splitlines())
        + "except SystemExit as exc:\n"
        "    status = exc.code or 0\n"
        f"print({MARK!r} + ','.join(sorted(sys.modules)))\n"
        "sys.exit(status)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    out, _, modules = done.stdout.rpartition(MARK)
    assert modules, done.stderr
    return done.returncode, out, set(modules.strip().split(","))


def _loaded(modules: set[str], package: str) -> bool:
    """`package` or any of its submodules was imported (sepcalc.crosscheck, not sepcalc.cli.*)."""
    return any(m == package or m.startswith(package + ".") for m in modules)


@pytest.mark.parametrize("fmt", list(RENDERERS), ids=list(RENDERERS))
def test_analyze_imports_only_its_format(fmt: str) -> None:
    argv = ["sepcalc", "analyze", SPEC, "-f", fmt]
    status, out, modules = _fresh(f"from sepcalc.cli import main\nsys.argv = {argv!r}\nmain()")
    assert status == 0, out
    assert "10838016" in out.replace(",", "")  # conv1 MACs: 3*3*3*32 weights x 112*112 outputs
    assert RENDERERS[fmt] in modules  # the check sees what the run imported
    assert {"sepcalc.graph", "sepcalc.spec.models", "sepcalc.analysis"} <= modules
    unwanted = [*NOT_FOR_ANALYZE, *(r for f, r in RENDERERS.items() if f != fmt)]
    unwanted += [
        f"sepcalc.cli.{c}" for c in ("check", "crosscheck", "diff", "formula", "importer", "search")
    ]
    assert [m for m in unwanted if _loaded(modules, m)] == []


def test_analyze_makes_the_spec_models_of_its_kinds_only() -> None:
    # MobileNetV1 has conv, depthwise, pointwise, global_avg_pool, flatten and linear layers:
    # their models (one per declaration) and none of the other kinds'.
    argv = ["sepcalc", "analyze", SPEC, "-f", "json"]
    status, out, _ = _fresh(
        f"from sepcalc.cli import main\nsys.argv = {argv!r}\ntry:\n    main()\nfinally:\n"
        "    from sepcalc.spec.models import LayerBase\n"
        "    print('MODELS:', *sorted(c.__name__ for c in LayerBase.__subclasses__()))"
    )
    assert status == 0, out
    made = out.rpartition("MODELS:")[2].split()
    assert made == [
        "BlockCall",
        "ConvLayer",
        "DepthwiseLayer",
        "FlattenLayer",
        "GlobalAvgPoolLayer",
        "InvalidEntry",
        "LinearLayer",
        "PointwiseLayer",
    ]


def test_registering_the_commands_imports_no_core_module() -> None:
    status, _, modules = _fresh("import sepcalc.cli\nsepcalc.cli.register()")
    assert status == 0
    assert "sepcalc.cli.search" in modules  # every command module was imported
    assert {m for m in modules if _loaded({m}, "sepcalc") and not _loaded({m}, "sepcalc.cli")} == (
        STARTUP
    )


def test_help_lists_every_command() -> None:
    status, out, modules = _fresh(
        "from sepcalc.cli import main\nsys.argv = ['sepcalc', '--help']\nmain()"
    )
    assert status == 0
    for command in (
        "analyze",
        "check",
        "crosscheck",
        "diff",
        "export",
        "formula",
        "import",
        "search",
    ):
        assert f" {command} " in out
    assert not _loaded(modules, "sepcalc.graph")
