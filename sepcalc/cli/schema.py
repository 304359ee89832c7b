"""`sepcalc schema`: the JSON Schema of a spec or a budgets file, for editors and validators."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from sepcalc.cli import app, output_to
from sepcalc.cli.options import OutputOpt


class SchemaName(StrEnum):
    spec = "spec"
    budgets = "budgets"


@app.command()
def schema(
    name: Annotated[
        SchemaName,
        typer.Argument(metavar="WHAT", help="spec (a network spec) or budgets (a budgets file)."),
    ] = SchemaName.spec,
    output: OutputOpt = None,
) -> None:
    """Print the JSON Schema of a network spec (or of a budgets file).

    Editors with a YAML language server complete and check a spec whose first line names it
    (see docs/spec.md):

    # yaml-language-server: $schema=spec.schema.json

    Example: sepcalc schema > spec.schema.json; sepcalc schema budgets > budgets.schema.json
    """
    from sepcalc.schema import schema_text

    with output_to(output):
        typer.echo(schema_text(name.value), nl=False)
