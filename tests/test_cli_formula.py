"""`sepcalc formula` and `sepcalc analyze --symbolic` end to end: golden output, JSON that sympy
parses back, exact values, user errors, and sympy staying off the plain `analyze` path."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sympy
from typer.testing import CliRunner

from sepcalc.cli import app
from sepcalc.symbolic import SYMBOL_MEANINGS, VIEWS
from sepcalc.symbols import LAYER_SYMBOLS, C_out, k, var_symbol
from tests.golden import assert_golden

ROOT = Path(__file__).resolve().parent.parent
SPEC = "examples/mobilenet_v1.yaml"
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def run(*args: str, code: int = 0) -> tuple[str, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "golden"),
    [
        (("formula", "conv"), "formula.conv.txt"),
        (("formula", "separable", "--vs", "conv"), "formula.separable-vs-conv.txt"),
        (
            ("formula", "separable", "--vs", "conv", "--at", "C_out=128,k=3"),
            "formula.separable-vs-conv.at.txt",
        ),
        (
            ("formula", "separable", "--vs", "conv", "--count", "bias,norm", "--metric", "params"),
            "formula.separable-vs-conv.count.txt",
        ),
        (("formula", "depthwise", "--latex"), "formula.depthwise.latex.txt"),
        (("formula", "--list"), "formula.list.txt"),
        (
            ("formula", "separable", "--vs", "conv", "--at", "C_out=128,k=3", "-f", "json"),
            "formula.separable-vs-conv.at.json",
        ),
        (("analyze", SPEC, "--symbolic", "alpha,resolution"), "symbolic.mobilenet_v1.txt"),
        (
            (
                "analyze",
                SPEC,
                "--symbolic",
                "alpha,resolution",
                "--per-layer",
                "--set",
                "alpha=0.3",
            ),
            "symbolic.mobilenet_v1.a03.per-layer.txt",
        ),
        (
            ("analyze", SPEC, "--symbolic", "alpha,resolution", "--per-layer", "-f", "json"),
            "symbolic.mobilenet_v1.per-layer.json",
        ),
    ],
    ids=["conv", "vs", "at", "count", "latex", "list", "json", "network", "rounding", "net-json"],
)
def test_output_golden(args: tuple[str, ...], golden: str) -> None:
    assert_golden(run(*args)[0], GOLDEN / golden)


def test_formula_json_parses_back_with_sympy() -> None:
    data = json.loads(run("formula", "separable", "--vs", "conv", "-f", "json")[0])
    assert data["kinds"] == ["separable", "conv"]
    assert list(data["symbols"]) == ["C_in", "C_out", "k", "H", "W"]
    ratio = sympy.sympify(data["ratio"]["ratio"], locals=LAYER_SYMBOLS)
    assert sympy.simplify(ratio - (1 / C_out + 1 / k**2)) == 0
    for kind in ("separable", "conv"):
        for name in ("params", "macs", "flops"):
            parsed = sympy.sympify(data["formulas"][kind][name], locals=LAYER_SYMBOLS)
            assert str(parsed) == data["formulas"][kind][name]


def test_formula_json_exact_values_at_a_point() -> None:
    data = json.loads(
        run("formula", "separable", "--vs", "conv", "--at", "C_out=128", "--at", "k=3",
            "-f", "json")[0]
    )  # fmt: skip
    at = data["at"]
    assert at["values"] == {"C_out": 128, "k": 3}
    assert at["ratio"] == {"exact": "137/1152", "decimal": 137 / 1152}
    assert at["reduction"]["exact"] == "1152/137"
    assert round(at["reduction"]["decimal"], 2) == 8.41
    assert at["savings"]["exact"] == "1015/1152"
    # C_in, H, W remain: the costs at the point are still expressions.
    assert at["formulas"]["separable"]["macs"] == {"expr": "137*C_in*H*W"}


def test_formula_text_at_a_point_says_8_41x() -> None:
    out = run("formula", "separable", "--vs", "conv", "--at", "C_out=128,k=3")[0]
    assert "ratio = 137/1152 ≈ 0.1189, i.e. 8.41x fewer MACs" in out
    assert "savings 88.11%" in out


def test_count_with_macs_metric_says_macs_do_not_change() -> None:
    out = " ".join(run("formula", "separable", "--vs", "conv", "--count", "bias,norm")[0].split())
    assert "MACs never include bias adds or normalization" in out


def test_list_names_every_view() -> None:
    data = json.loads(run("formula", "--list", "-f", "json")[0])
    assert list(data["kinds"]) == list(VIEWS)
    assert data["kinds"]["separable"]["macs"] == "C_in*C_out*H*W + C_in*H*W*k**2"


def test_help_documents_symbols_and_sizes() -> None:
    out = run("formula", "--help")[0]
    for name in LAYER_SYMBOLS.keys() - {"k_h", "k_w", "s", "g"}:
        assert name in out
    assert "OUTPUT size" in out
    assert set(SYMBOL_MEANINGS) == set(LAYER_SYMBOLS)


def test_network_json_parses_back_and_states_the_relaxation() -> None:
    data = json.loads(run("analyze", SPEC, "--symbolic", "alpha,resolution", "-f", "json")[0])
    assert data["symbols"] == ["alpha", "resolution"]
    assert "continuous relaxation" in data["relaxation"]
    assert data["point"] == {"alpha": 1, "resolution": 224}
    assert data["agrees_at_point"] is True
    assert data["exact_at_point"]["macs"] == 568_740_352
    names = {n: var_symbol(n) for n in data["symbols"]}
    macs = sympy.sympify(data["totals"]["macs"], locals=names)
    assert macs.subs({names["alpha"]: 1, names["resolution"]: 224}) == 568_740_352
    assert "layers" not in data


USER_ERRORS = {
    "kind": (
        ("formula", "sepparable"),
        "unknown layer kind 'sepparable'; did you mean 'separable'?; run `sepcalc formula "
        "--list` for the kinds that have a closed form",
    ),
    "no-formula": (
        ("formula", "flatten"),
        "'flatten' has no closed form: it has no parameters and does no arithmetic. Run "
        "`sepcalc formula --list` for the kinds that have one",
    ),
    "no-kind": (("formula",), "name a layer kind, e.g. `sepcalc formula conv`, or use --list"),
    "at-name": (
        ("formula", "conv", "--at", "C_ot=3"),
        "--at C_ot: no such symbol; did you mean 'C_out'?; symbols: C_in, C_out, k, k_h, k_w, "
        "H, W, s, g, m, C_se, n_h",
    ),
    "at-int": (("formula", "conv", "--at", "k=1.5"), "--at k: must be a positive integer, got 1.5"),
    "at-form": (
        ("formula", "conv", "--at", "k"),
        "--at 'k': expected NAME=NUMBER, e.g. --at C_out=128,k=3",
    ),
    "at-unused": (
        ("formula", "conv", "--at", "m=2"),
        "--at m: the formulas of conv do not use m (they use: C_in, C_out, k, H, W)",
    ),
    "at-twice": (
        ("formula", "conv", "--at", "C_out=1,C_out=2"),
        "--at C_out: given twice (C_out=1 and C_out=2); give each symbol once",
    ),
    "at-twice-repeated": (
        ("formula", "conv", "--at", "C_out=1", "--at", "k=3", "--at", "C_out=1"),
        "--at C_out: given twice (C_out=1 and C_out=1); give each symbol once",
    ),
    "count": (
        ("formula", "conv", "--count", "bais"),
        "--count bais: unknown; did you mean 'bias'?; choose from: bias, norm, act",
    ),
    # relu has no MACs and no params: the hint names only the metric that has a ratio.
    "zero": (
        ("formula", "add", "--vs", "relu"),
        "relu has no macs: there is no ratio with --metric macs; try --metric flops",
    ),
    "zero-params": (
        ("formula", "add", "--vs", "relu", "--metric", "params"),
        "relu has no params: there is no ratio with --metric params; try --metric flops",
    ),
    "zero-two-left": (
        ("formula", "conv", "--vs", "batchnorm"),
        "batchnorm has no macs: there is no ratio with --metric macs; try --metric params or flops",
    ),
    "zero-all": (  # the paper convention counts no activation FLOPs
        ("formula", "add", "--vs", "relu", "--convention", "paper"),
        "relu has no params, macs or flops under the paper convention: there is no ratio",
    ),
    "convention": (
        ("formula", "conv", "--convention", "nope"),
        "unknown convention 'nope'; choose one of: default, paper, torch, fvcore, core",
    ),
    "var": (
        ("analyze", SPEC, "--symbolic", "alph"),
        "--symbolic alph: the spec has no var 'alph'; did you mean 'alpha'? (its vars: alpha, "
        "resolution)",
    ),
    "var-twice": (
        ("analyze", SPEC, "--symbolic", "alpha,resolution,alpha"),
        "--symbolic alpha: named twice; name each var once",
    ),
    "empty": (
        ("analyze", SPEC, "--symbolic", ","),
        "--symbolic: name at least one var, e.g. --symbolic alpha,resolution",
    ),
    "per-layer": (
        ("analyze", SPEC, "--per-layer"),
        "--per-layer needs --symbolic VARS: it adds every layer's closed forms, e.g. --symbolic "
        "alpha,resolution --per-layer",
    ),
    "csv": (
        ("analyze", SPEC, "--symbolic", "alpha", "-f", "csv"),
        "--symbolic gives table or json output, not --format csv",
    ),
    "compare": (
        ("analyze", SPEC, "--symbolic", "alpha", "--compare-standard"),
        "--symbolic cannot be combined with --compare-standard",
    ),
}


@pytest.mark.parametrize(("args", "message"), list(USER_ERRORS.values()), ids=list(USER_ERRORS))
def test_user_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    out, err = run(*args, code=2)
    assert err == f"error: {message}\n"
    assert out == ""


def test_adaptive_avg_pool_counts_one_add_per_input_element() -> None:
    # adaptive_pool_cost: gpool_ops = C_in*H*W (the INPUT size), 1 FLOP each by default.
    out = run("formula", "adaptive_avg_pool", "--at", "C_in=512,H=14,W=14")[0]
    assert "does no arithmetic" not in out
    assert "FLOPs = 100,352\n" in out  # 512 * 14 * 14: VGG-16's pool to 7 x 7 at 224
    assert "params = 0\n" in out
    assert "MACs = 0\n" in out


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize(
    ("command", "sentence"),
    [
        ("formula", "C_in input channels; C_out output channels; C_se hidden (squeeze) channels"),
        ("crosscheck", "(fvcore: 1 per MAC plus BatchNorm and adaptive pooling; torch: 2 per"),
    ],
    ids=["formula", "crosscheck"],
)
def test_help_paragraphs_wrap_at_the_terminal_width(
    command: str, sentence: str, width: int
) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": str(width)})
    assert result.exit_code == 0
    lines = [line.strip() for line in result.stdout.split("╭")[0].splitlines()]
    assert sentence in " ".join(lines)
    # Greedy wrapping: a prose line ends only where the next word would not fit (one space
    # of margin each side), never at a line break of the source.
    for line, following in itertools.pairwise(lines):
        if line and following:
            assert len(line) + 1 + len(following.split()[0]) > width - 2, (line, following)


def test_help_shows_no_bool_type_beside_flags() -> None:
    for args in (["--help"], ["formula", "--help"], ["analyze", "--help"]):
        result = CliRunner().invoke(app, args, env={"COLUMNS": "120"})
        assert result.exit_code == 0
        assert "<bool>" not in result.stdout
    out = CliRunner().invoke(app, ["formula", "--help"], env={"COLUMNS": "120"}).stdout
    assert re.search(r"│ --latex +Print LaTeX instead of unicode\. +│", out)


def _modules_after(*argv: str) -> set[str]:
    code = (
        "import sys\n"
        "from sepcalc.cli import app, register\n"
        "register()\n"
        "try:\n"
        f"    app({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('SYMPY:' + ','.join(m for m in sys.modules if m.split('.')[0] == 'sympy'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()[-1]
    assert out.startswith("SYMPY:")
    return set(filter(None, out.removeprefix("SYMPY:").split(",")))


def test_plain_analyze_does_not_import_sympy() -> None:
    assert _modules_after("analyze", SPEC, "--format", "json") == set()
    assert _modules_after("formula", "conv")  # and the check itself can see sympy


def test_conv_at_mobilenet_v1_conv1() -> None:
    data = json.loads(
        run("formula", "conv", "--at", "C_in=3,C_out=32,k=3,H=112,W=112", "-f", "json")[0]
    )
    at = data["at"]["formulas"]["conv"]
    # MobileNetV1 conv1 (Table 1): 3x3x3x32 = 864 weights, 864 * 112 * 112 = 10,838,016 MACs,
    # 2 FLOPs per MAC under the default convention (no bias, norm or act counted).
    assert at["params"] == {"exact": "864", "decimal": 864.0}
    assert at["macs"]["exact"] == "10838016"
    assert at["flops"]["exact"] == "21676032"
