"""The package outside the checkout: the sdist carries its tests, the wheel carries the zoo.

Builds the sdist and, from it, the wheel (``python -m build``, as a release would), then reads
both archives and runs sepcalc from the unpacked wheel in an empty folder, with no checkout on
the import path.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("*.yaml"))


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def _one(folder: Path, pattern: str) -> Path:
    (found,) = folder.glob(pattern)
    return found


def test_metadata_is_spdx_and_complete() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"  # an SPDX expression, not the deprecated table
    assert project["license-files"] == ["LICENSE"]
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert "Typing :: Typed" in project["classifiers"]
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]
    assert (ROOT / "sepcalc" / "py.typed").exists()
    assert {"plot", "docs", "torch", "test", "dev"} <= set(project["optional-dependencies"])


def test_sdist_carries_what_its_tests_need(dist: Path) -> None:
    with tarfile.open(_one(dist, "*.tar.gz")) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    needed = {
        "LICENSE",
        "README.md",
        "pyproject.toml",
        ".pre-commit-config.yaml",
        "tests/conftest.py",
        "tests/golden.py",
        "tests/golden/mobilenet_v1.json",
        "tests/diagnostics/binary.yaml",
        "tests/diagnostics/binary.expected",
        "docs/spec.md",
        "docs/counting.md",
        "docs/schemas/check-report.schema.json",
        "examples/ci/budgets.yaml",
        *(f"examples/{n}" for n in EXAMPLES),
        *(f"sepcalc/examples/{n}" for n in EXAMPLES),
    }
    assert sorted(needed - names) == []
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_wheel_ships_the_zoo_and_types(dist: Path) -> None:
    with zipfile.ZipFile(_one(dist, "*.whl")) as wheel:
        names = set(wheel.namelist())
        (metadata,) = (n for n in names if n.endswith(".dist-info/METADATA"))
        meta = wheel.read(metadata).decode()
    assert {f"sepcalc/examples/{n}" for n in EXAMPLES} <= names
    assert "sepcalc/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: MIT" in meta
    assert not [n for n in names if n.startswith(("tests/", "examples/"))]


def test_installed_wheel_analyzes_the_zoo_outside_the_checkout(dist: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(_one(dist, "*.whl")) as wheel:
        wheel.extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # An editable install of the checkout would win the import: drop its finder.
    code = (
        "import sys\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f)]\n"
        f"sys.path.insert(0, {str(site)!r})\n"
        "import sepcalc\n"
        "print(sepcalc.__file__)\n"
        "sys.argv = ['sepcalc', 'analyze', 'zoo:mobilenet_v2', '-f', 'json']\n"
        "from sepcalc.cli import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=elsewhere, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    where, _, report = done.stdout.partition("\n")
    assert Path(where).is_relative_to(site)
    # torchvision's MobileNet_V2_Weights: 3,504,872 params, 0.30 GFLOPS (multiply-adds)
    totals = json.loads(report)["totals"]
    assert (totals["params"], totals["macs"]) == (3_504_872, 300_774_272)
