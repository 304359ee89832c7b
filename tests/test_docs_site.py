"""The docs site (mkdocs.yml over docs/): every page is in the navigation, and, where mkdocs is
installed (the docs extra; CI installs it), the site builds with --strict: no broken link or
anchor."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_every_page_is_in_the_navigation() -> None:
    text = (ROOT / "mkdocs.yml").read_text()
    nav = set(re.findall(r"^  - [^:\n]+: (\S+\.md)$", text, re.MULTILINE))
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert nav == pages


def test_the_getting_started_page_walks_from_analyze_to_ci() -> None:
    text = (ROOT / "docs" / "index.md").read_text()
    steps = ["sepcalc analyze zoo:", "sepcalc search width", "sepcalc check"]
    assert all(step in text for step in steps)
    assert [text.index(step) for step in steps] == sorted(text.index(step) for step in steps)


def test_site_builds_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "zoo" / "index.html").exists()
    assert (tmp_path / "schemas" / "spec.schema.json").exists()  # linked from spec.md
