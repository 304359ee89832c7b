"""`sepcalc import`: an ONNX model as a readable spec (optional extra ``onnx``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sepcalc.cli import app, output_to, stderr, user_errors
from sepcalc.cli.options import OutputOpt, parse_inputs
from sepcalc.errors import EXIT_INVALID

IMPORT_HELP = (
    "Write an ONNX model as a sepcalc spec (stdout, or --output FILE): conv + norm + activation "
    "as one layer, depthwise and pointwise convs, residual adds, concats, gating, pooling, "
    "resizing, linear layers, squeeze-excite, channel shuffle, attention; names from the node "
    "names."
    "\n\n"
    "The input's symbolic or missing dims are set with --input. An operator sepcalc cannot "
    "express is an error that lists every such node (exit 2); nothing is dropped. The spec is "
    "built before it is written, and each layer's shape checked against ONNX's shape inference."
    "\n\n"
    "Needs the onnx extra: pip install 'sepcalc\\[onnx]' (no onnxruntime, no weights read)."
    "\n\n"
    "Example: sepcalc import model.onnx --input input:1x3x224x224 > model.yaml"
)


@app.command("import", help=IMPORT_HELP)
def import_(
    model: Annotated[
        Path, typer.Argument(help="ONNX model file.", show_default=False, metavar="MODEL")
    ],
    inputs: Annotated[
        list[str],
        typer.Option(
            "--input",
            "-i",
            metavar="[NAME:]DIMS",
            help="Set the dims of the model's input, batch first, e.g. input:1x3x224x224 "
            "(NAME can be left out: the model has one input). Counts are for one sample.",
        ),
    ] = [],  # noqa: B006  (typer reads the default; it is never mutated)
    output: OutputOpt = None,
) -> None:
    """Import an ONNX model (the help text is IMPORT_HELP)."""
    with user_errors():
        given = parse_inputs(inputs)
        try:
            from sepcalc.importers.onnx import import_onnx
        except ImportError as exc:
            from sepcalc.importers import INSTALL_HINT

            stderr().print(
                f"error: this command needs the optional onnx extra "
                f"({(exc.name or 'onnx').split('.')[0]} is not installed); install it with: "
                f"{INSTALL_HINT}",
                markup=False,
            )
            raise typer.Exit(EXIT_INVALID) from None
        imported = import_onnx(model, given)
    with output_to(output):
        typer.echo(imported.text, nl=False)
    total = imported.graph.total()
    err = stderr()
    err.print(
        f"{model}: {imported.layers} layers, {total.params:,} params, {total.macs:,} MACs",
        markup=False,
    )
    for remark in imported.remarks:
        err.print(f"note: {remark}", markup=False)
