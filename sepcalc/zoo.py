"""The model zoo: the example specs that ship inside the package, named ``zoo:NAME``.

The specs are the files of the repository's ``examples/`` folder (``sepcalc/examples`` links to
it, and the wheel carries them as package data), so a spec added there is in the zoo at once.
A spec argument ``zoo:mobilenet_v2`` reads ``examples/mobilenet_v2.yaml`` from wherever
sepcalc is installed.
"""

from __future__ import annotations

from pathlib import Path

from sepcalc.errors import SepcalcError, did_you_mean

PREFIX = "zoo:"
"""How a spec argument names a bundled spec: ``zoo:mobilenet_v2``."""


def folder() -> Path:
    """The folder of the bundled specs: inside the installed package, or the checkout's
    ``examples/`` where the link did not survive (a checkout without symlinks)."""
    here = Path(__file__).resolve().parent
    bundled = here / "examples"
    return bundled if bundled.is_dir() else here.parent / "examples"


def names() -> list[str]:
    """Every bundled spec's name, sorted: the file names without ``.yaml``."""
    return sorted(p.stem for p in folder().glob("*.yaml"))


def is_zoo(ref: str | Path) -> bool:
    """``ref`` names a bundled spec (``zoo:NAME``) rather than a file."""
    return str(ref).startswith(PREFIX)


def path(name: str) -> Path:
    """The file of the bundled spec ``name`` (with or without ``zoo:`` and ``.yaml``)."""
    name = name.removeprefix(PREFIX).removesuffix(".yaml")
    known = names()
    if name not in known:
        hint = did_you_mean(name, known) or f"; the zoo has: {', '.join(known)}"
        raise SepcalcError(f"no spec '{name}' in the zoo{hint}")
    return folder() / f"{name}.yaml"


SCHEMA_HEADER = "# yaml-language-server: $schema="
"""The first line of every bundled spec names the schema relative to the checkout."""


def standalone(text: str) -> str:
    """A bundled spec as a user copies it: its schema header names ``spec.schema.json`` beside
    the copy (written by ``sepcalc schema``), not a path that exists only in the checkout."""
    first, newline, rest = text.partition("\n")
    if first.startswith(SCHEMA_HEADER):
        return f"{SCHEMA_HEADER}spec.schema.json{newline}{rest}"
    return text
