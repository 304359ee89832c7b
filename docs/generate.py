"""Regenerate the docs' tables from the layer kinds' declarations.

    python docs/generate.py            # rewrites docs/spec.md and docs/counting.md in place
                                       # and docs/schemas/{spec,budgets}.schema.json

A test (tests/test_docgen.py) fails while a committed table differs from its generated version.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sepcalc.docgen import DOCS, update
from sepcalc.schema import SCHEMAS, schema_text

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    for path in update(ROOT / doc for doc in (sys.argv[1:] or DOCS)):
        print(f"updated {path.relative_to(ROOT)}")  # noqa: T201
    for name in SCHEMAS if not sys.argv[1:] else ():
        schema = ROOT / "docs" / "schemas" / f"{name}.schema.json"
        if not schema.exists() or schema.read_text() != schema_text(name):
            schema.write_text(schema_text(name))
            print(f"updated {schema.relative_to(ROOT)}")  # noqa: T201
