"""Regenerate the docs' tables from the layer kinds' declarations.

    python docs/generate.py            # rewrites docs/spec.md and docs/counting.md in place

A test (tests/test_docgen.py) fails while a committed table differs from its generated version.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sepcalc.docgen import DOCS, update

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    for path in update(ROOT / doc for doc in (sys.argv[1:] or DOCS)):
        print(f"updated {path.relative_to(ROOT)}")  # noqa: T201
