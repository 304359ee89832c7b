"""The limits a spec must keep (docs/spec.md, "Limits"): each refused early, at its line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sepcalc.cli import app
from sepcalc.errors import SpecError
from sepcalc.graph import build_graph
from sepcalc.spec import loader
from sepcalc.spec.loader import MAX_SPEC_BYTES, load_spec, parse_yaml

HEAD = "name: limits\ninput: {channels: 3, size: 8}\n"


def _build(text: str) -> None:
    data, locator = parse_yaml(text, "spec.yaml")
    build_graph(loader.validate_entries(data, locator))


def _errors(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        _build(text)
    return [str(d) for d in info.value.diagnostics]


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    # 3 million layers, 51 MB: parsing it took minutes and gigabytes.
    path = tmp_path / "huge.yaml"
    path.write_text(HEAD + "layers:\n" + "  - {kind: relu}\n" * 3_000_000)
    start = time.perf_counter()
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert time.perf_counter() - start < 5  # reads 1 MiB, parses nothing
    assert [d.message for d in info.value.diagnostics] == [
        f"cannot read spec: it is larger than {MAX_SPEC_BYTES:,} bytes (1 MiB), "
        "the most a spec may be"
    ]


def test_a_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "padded.yaml"
    text = HEAD + "layers: [{kind: relu}]\n"
    path.write_text(text + "#" * (MAX_SPEC_BYTES - len(text) - 1) + "\n")
    assert len(load_spec(path).spec.layers) == 1


def test_more_layers_listed_than_the_limit_are_refused_before_validation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loader, "MAX_LAYERS", 10)
    text = HEAD + "blocks:\n  b: {layers: [{kind: relu}, {kind: relu}]}\nlayers:\n"
    assert _errors(text + "  - {kind: relu}\n" * 9) == [
        "spec.yaml:6:3: the spec lists 11 layers, over the 10-layer limit (a block or a "
        "repeat writes many layers once)"
    ]


def test_an_alias_counts_once_per_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "MAX_LAYERS", 10)
    text = HEAD + "layers: [&r {kind: relu}" + ", *r" * 10 + "]\n"
    assert _errors(text) == [
        "spec.yaml:3:9: the spec lists 11 layers, over the 10-layer limit (a block or a "
        "repeat writes many layers once)"
    ]


@pytest.mark.parametrize(
    ("literal", "shown"),
    [
        ("1" + "0" * 1300, "100000000000... (1,301 characters)"),  # 4,319 bits, under 4,300 digits
        ("0x" + "f" * 1025, "0xffffffffff... (1,027 characters)"),  # 4,100 bits in hex
        ("-" + "9" * 5000, "-99999999999... (5,001 characters)"),  # over Python's digit limit
    ],
    ids=["decimal", "hex", "python-limit"],
)
def test_an_integer_literal_over_4096_bits_is_refused_at_its_line(literal: str, shown: str) -> None:
    text = HEAD + f"layers:\n  - {{kind: conv, kernel: 1, out: {literal}}}\n"
    assert _errors(text) == [
        f"spec.yaml:4:34: integer {shown} is too large: a number in a spec is at most "
        "4,096 bits (about 1,234 digits)"
    ]


def test_the_largest_integer_literal_is_read() -> None:
    # 2**4096 - 1 has 4,096 bits (1,234 digits): the bound, inclusive.
    text = HEAD + f"vars: {{big: {2**4096 - 1}}}\nlayers:\n  - {{kind: relu}}\n"
    data, _ = parse_yaml(text, "spec.yaml")
    assert data["vars"]["big"] == 2**4096 - 1


# ---- numbers on the command line: the same bound, said short ------------------------------

MOBILENET = str(Path(__file__).resolve().parent.parent / "examples" / "mobilenet_v1.yaml")
LONG = "9" * 5000
SAID = (
    "'999999999999... (5,000 characters)' has 5,000 digits: a number is at most 4,096 bits "
    "(about 1,234 digits)"
)


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (["analyze", MOBILENET, "--set", f"alpha={LONG}"], f"error: --set alpha: {SAID}\n"),
        (
            ["check", MOBILENET, "--max-macs", LONG],
            f"error: --max-macs 999999999999... (5,000 characters): {SAID}\n",
        ),
        (["formula", "conv", "--at", f"k={LONG}"], f"error: --at k: {SAID}\n"),
        (
            ["search", "grid", MOBILENET, "--var", "alpha=0.1:1e300:0.1", "--max-macs", "1G"],
            "error: --var alpha: more than 10**301 values from 0.1 to 100000000000... (301 "
            "characters) in steps of 0.1: at most 100,000 (use a larger step)\n",
        ),
    ],
    ids=["set", "max-macs", "at", "grid"],
)
def test_a_number_too_long_on_the_command_line(args: list[str], stderr: str) -> None:
    # A 5,000-digit number was echoed whole and called "not a number" (Python would not
    # convert it); a grid of 10**301 values printed all 302 digits of its count.
    result = CliRunner().invoke(app, args)
    assert (result.exit_code, result.stderr) == (2, stderr)


def test_twenty_thousand_broken_layers_are_reported_in_seconds() -> None:
    # Each entry's out: [1] fails every member of a union; collapsing those errors compared
    # every error with every other (8,000 entries: 4.5 s; 20,000: about 30 s). Linear now.
    text = HEAD + "layers:\n" + "  - {kind: conv, out: [1], kernel: 1}\n" * 20_000
    start = time.perf_counter()
    errors = _errors(text)
    assert time.perf_counter() - start < 15
    assert len(errors) == 20_000
    assert errors[-1] == (
        "spec.yaml:20003:23: layers.19999.out: expected an integer or an expression (got [1])"
    )
