"""Reading the text files users give us (specs, budgets files, reports), with clear errors."""

from __future__ import annotations

import codecs
from pathlib import Path

from sepcalc.errors import SepcalcError


def read_text(path: str | Path, what: str) -> str:
    """A UTF-8 text file (a leading byte-order mark is dropped).

    Raises SepcalcError ``cannot read <what>: <why>``; the caller says which file.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SepcalcError(f"cannot read {what}: {exc.strerror or exc}") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SepcalcError(f"cannot read {what}: it is UTF-16 text; save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SepcalcError(
            f"cannot read {what}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start})"
        ) from None
