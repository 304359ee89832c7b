"""Reading the text files users give us (specs, budgets files, reports), with clear errors."""

from __future__ import annotations

import codecs
from pathlib import Path

from sepcalc.errors import SepcalcError


def read_text(path: str | Path, what: str, limit: int | None = None) -> str:
    """A UTF-8 text file (a leading byte-order mark is dropped), of at most ``limit`` bytes.

    Raises SepcalcError ``cannot read <what>: <why>``; the caller says which file. A file over
    the limit is refused before more than ``limit`` bytes of it are read.
    """
    try:
        with Path(path).open("rb") as file:
            data = file.read() if limit is None else file.read(limit + 1)
    except OSError as exc:
        raise SepcalcError(f"cannot read {what}: {exc.strerror or exc}") from None
    if limit is not None and len(data) > limit:
        raise SepcalcError(
            f"cannot read {what}: it is larger than {limit:,} bytes ({limit // 2**20} MiB), "
            f"the most a {what} may be"
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SepcalcError(f"cannot read {what}: it is UTF-16 text; save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SepcalcError(
            f"cannot read {what}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start})"
        ) from None
