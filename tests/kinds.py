"""Every declared example of every kind, for the tests that cover all kinds."""

from __future__ import annotations

from sepcalc.formulas import REGISTRY

EXAMPLES = [(name, i, e) for name, kind in REGISTRY.items() for i, e in enumerate(kind.examples)]
"""(kind, index, example) for every declared example."""
EXAMPLE_IDS = [f"{name}-{i}" for name, i, _ in EXAMPLES]
