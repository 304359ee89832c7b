"""Every command of the command line, found by walking the app, and runs of each that write a
report: the tests of what holds for every command (a ``schema_version`` in every JSON output,
``--output``) are parametrized over :func:`commands`, so a new command without a run here fails
them until it has one.

A run's arguments follow the command's words; ``{NAME}`` stands for a file that
:func:`materialize` writes (a small space, a tiny spec, an ONNX model).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
import typer

from sepcalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
V1 = str(ROOT / "examples" / "mobilenet_v1.yaml")
V2 = str(ROOT / "examples" / "mobilenet_v2.yaml")
PI = ("--device", "raspberry-pi-4")

SPACE = """\
name: two
input: {channels: 3, size: 8}
layers:
  - {kind: conv, name: stem, out: 4, kernel: 3, bias: false}
  - {kind: pointwise, name: head, out: {choice: [4, 8]}, bias: false}
"""

RUNS: dict[str, list[tuple[str, ...]]] = {
    "analyze": [(V1,), (V1, *PI), (V1, "--symbolic", "alpha")],
    "check": [(V1, "--max-macs", "600M"), (V1, "--max-latency", "1ms", *PI)],
    "crosscheck": [("{tiny}", "--tool", "torch"),
                   ("{tiny}", "--tool", "torch", "--against", "tests.user_models.tiny:TinyNet")],
    "diff": [(V1, V2)],
    "export dot": [(V1,)],
    "export mermaid": [(V1,)],
    "export torch": [(V1,)],
    "formula": [("separable", "--vs", "conv"), ("--list",)],
    "import": [("{onnx}", "--input", "x:1x3x8x8")],
    "schema": [(), ("budgets",)],
    "search channels": [("--k", "3", "--max-ratio", "0.12"), ("--k", "3", "--min-factor", "10")],
    "search kernel": [("--c-out", "128", "--min-savings", "88%")],
    "search width": [(V1, "--max-macs", "300M"), (V1, "--max-latency", "1ms", *PI)],
    "search resolution": [(V1, "--max-macs", "300M", "--step", "32")],
    "search grid": [(V1, "--var", "alpha=0.25,1", "--max-peak-memory", "1MiB")],
    "space count": [("{space}", "--max-flash", "500")],
    "space distribution": [("{space}", "--metric", "flash")],
    "space pareto": [("{space}", "--keys", "min:latency,max:params", *PI)],
    "space best": [("{space}", "--maximize", "params", "--max-peak-memory", "2KiB")],
    "space sample": [("{space}", "-n", "2")],
    "zoo": [()],
}  # fmt: skip
"""Runs of every command that print a report in each of the command's formats."""

NEEDS = {"crosscheck": ("torch", "fvcore"), "import": ("onnx",)}
"""The optional extras a command's runs need (skipped without them)."""


def commands() -> list[str]:
    """Every command the app runs, as its words ('analyze', 'search width'), in order."""

    def walk(command: Any, words: tuple[str, ...]) -> Iterator[str]:
        if hasattr(command, "commands"):  # a group
            for name, sub in sorted(command.commands.items()):
                yield from walk(sub, (*words, name))
        else:
            yield " ".join(words)

    return list(walk(typer.main.get_command(app), ()))


def command(words: str) -> Any:
    """The command the words name, as typer builds it."""
    found = typer.main.get_command(app)
    for word in words.split():
        found = found.commands[word]  # type: ignore[attr-defined]
    return found


def options(words: str) -> set[str]:
    """Every option name of the command: '--format', '-f', '--output', ..."""
    return {name for param in command(words).params for name in getattr(param, "opts", ())}


def formats(words: str) -> tuple[str, ...]:
    """The values of the command's ``--format`` (none without one): the members of the enum
    its annotation names."""
    for param in command(words).params:
        if "--format" in getattr(param, "opts", ()):
            annotation = param.type_descriptor.annotation
            assert issubclass(annotation, Enum), words
            return tuple(str(m.value) for m in annotation)
    return ()


def runs(words: str) -> list[tuple[str, ...]]:
    """The runs of the command, after skipping it when an extra it needs is missing."""
    assert words in RUNS, f"add a run of `sepcalc {words}` to tests/cli_commands.py RUNS"
    for module in NEEDS.get(words, ()):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"`sepcalc {words}` needs {module}")
    return RUNS[words]


def materialize(args: tuple[str, ...], tmp_path: Path) -> list[str]:
    """The arguments with each ``{NAME}`` replaced by a file written in ``tmp_path``."""
    files = {"space": _space, "tiny": _tiny, "onnx": _onnx}
    out = []
    for arg in args:
        if arg.startswith("{") and arg.endswith("}"):
            arg = str(files[arg[1:-1]](tmp_path))
        out.append(arg)
    return out


def _space(tmp_path: Path) -> Path:
    path = tmp_path / "two.yaml"
    path.write_text(SPACE)
    return path


def _tiny(tmp_path: Path) -> Path:
    from tests.test_crosscheck_against import SPEC

    path = tmp_path / "tiny.yaml"
    path.write_text(SPEC)
    return path


def _onnx(tmp_path: Path) -> Path:
    """A model of one ReLU on a 1x3x8x8 input."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name="act")],
        "relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    path = tmp_path / "relu.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path
