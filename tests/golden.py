"""Golden-file comparison; set SEPCALC_UPDATE_GOLDEN=1 to rewrite the expected files."""

from __future__ import annotations

import os
from pathlib import Path


def assert_golden(actual: str, path: Path) -> None:
    if os.environ.get("SEPCALC_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
        return
    assert path.exists(), f"missing golden file {path}; run with SEPCALC_UPDATE_GOLDEN=1"
    assert actual == path.read_text(), f"output differs from {path}"
