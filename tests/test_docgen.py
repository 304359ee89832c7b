"""The generated tables of the docs are up to date with the kinds' declarations."""

from __future__ import annotations

from pathlib import Path

import pytest

from sepcalc.docgen import DOCS, TABLES, regenerate

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("doc", DOCS)
def test_committed_docs_equal_the_generated_tables(doc: str) -> None:
    text = (ROOT / doc).read_text()
    assert regenerate(text) == text, f"run: python docs/generate.py  (then commit {doc})"


def test_every_table_is_in_some_doc() -> None:
    text = "".join((ROOT / doc).read_text() for doc in DOCS)
    assert {name for name in TABLES if f"<!-- generated: {name} -->" in text} == set(TABLES)


def test_a_stale_table_is_replaced() -> None:
    stale = "a\n<!-- generated: spec-kinds -->\n| old |\n<!-- end: spec-kinds -->\nb\n"
    fresh = regenerate(stale)
    assert "| old |" not in fresh
    assert "`conv`" in fresh
    assert fresh.startswith("a\n<!-- generated: spec-kinds -->\n| kind |")
    assert fresh.endswith("<!-- end: spec-kinds -->\nb\n")
