"""Every malformed spec gets a located, plain error, quickly: the written corpus in full and a
seeded sample of generated mutations (benchmarks/fuzz_specs.py runs thousands)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.fuzzing import COMMANDS, CORPUS, base_specs, mutated, run

VALID = {
    "crlf": "Windows line ends are YAML",
    "budget-junk": "analyze does not read the budget section; check reports it",
    "budget-unknown-metric": "likewise",
    "linear-on-map": "a linear layer maps channels at every position (a 1x1 map here)",
    "attention-patch-1d": "patches of 2 positions along the one dimension",
    "upsample-nothing": "the default scale, 2",
    "upsample-scale-huge": "exact: 1.6e301 x 1.6e301 positions, within the count bound",
    "expr-exp-1000": "round(exp(1000)) is exact: decided with interval arithmetic",
    "expr-syntax-warning": "'8if 1 else 4' is 8 (as Python reads it), with no SyntaxWarning",
}
"""The written specs that are not mistakes after all, and why."""


@pytest.mark.parametrize("name", list(CORPUS))
def test_written_corpus(name: str, tmp_path: Path) -> None:
    path = tmp_path / "corpus.yaml"
    path.write_bytes(CORPUS[name].encode())
    outcome = run(path)
    assert outcome.problems == ()
    assert outcome.exit_code == (0 if name in VALID else 2)


@pytest.mark.parametrize("seed", range(8))
def test_generated_mutations(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    bases = base_specs()
    path = tmp_path / "fuzz.yaml"
    for _ in range(25):
        text = mutated(rng, bases)
        path.write_bytes(text.encode())
        outcome = run(path, rng.choice(COMMANDS))
        assert outcome.problems == (), text
