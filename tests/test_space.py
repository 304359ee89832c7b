"""Search spaces (sepcalc.search.space, decompose, exact, sums, spaces; `sepcalc space`).

The OFA MobileNetV3 space's size is the paper's combinatorics; every other answer is checked
against brute force: every assignment of small random spaces written out as an ordinary spec
and built as `analyze` builds it.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter as Tally
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sepcalc.cli import app
from sepcalc.errors import SpecError
from sepcalc.search import sums
from sepcalc.search.decompose import METRICS, Decomposition, TooLarge
from sepcalc.search.evaluator import totals_of
from sepcalc.search.exact import Bound, HistAlgebra, Program
from sepcalc.search.space import Space, load_space, space_from_data
from sepcalc.search.spaces import (
    best,
    choice_probability,
    count_space,
    distribution,
    pareto,
    sample,
    within,
)
from sepcalc.spec.loader import parse_yaml

ROOT = Path(__file__).resolve().parent.parent
OFA = ROOT / "examples" / "spaces" / "ofa_mobilenet_v3.yaml"

# --- the OFA MobileNetV3 space ---------------------------------------------------------------

# Per stage: depth 2, 3 or 4, each block one of 3 kernels x 3 expansions = 9 options:
# 9**2 + 9**3 + 9**4 = 81 + 729 + 6561 = 7371 per stage; five independent stages:
OFA_SIZE = 21_758_655_492_572_485_851
assert OFA_SIZE == (9**2 + 9**3 + 9**4) ** 5


def test_ofa_space_size() -> None:
    result = count_space(Decomposition(load_space(OFA)))
    assert result.assignments == OFA_SIZE
    assert result.buildable == OFA_SIZE
    assert [s.kind for s in result.steps].count("stage") == 5


def test_ofa_elastic_resolution_multiplies_the_size() -> None:
    # resolution 128, 132, ..., 224: (224 - 128) / 4 + 1 = 25 values
    space = load_space(OFA, varied={"resolution": list(range(128, 225, 4))})
    result = count_space(Decomposition(space))
    assert result.assignments == 25 * OFA_SIZE
    assert len(result.by_var) == 25


def _ofa_net(k: int, e: int, d: int) -> dict[str, Any]:
    assignment: dict[str, Any] = {}
    for s in range(1, 6):
        assignment[f"stage{s}.repeat"] = d
        assignment[f"stage{s}.k"] = (k,) * d
        assignment[f"stage{s}.e"] = (e,) * d
    return assignment


def test_ofa_extremes_are_the_front_ends_and_analyze_agrees() -> None:
    space = load_space(OFA)
    front = pareto(Decomposition(space), [("macs", -1), ("params", 1)])
    smallest, largest = front.points[0], front.points[-1]
    assert smallest.assignment == _ofa_net(3, 3, 2)
    assert largest.assignment == _ofa_net(7, 6, 4)
    for point in (smallest, largest):
        analyzed = totals_of(space.graph(point.assignment).total(), Decomposition(space).convention)
        assert analyzed.as_dict() == point.totals
    # the smallest and largest sub-networks at 224 (their fvcore/FlopCounterMode cross-check is
    # in test_ofa_subnetworks_cross_check)
    assert smallest.totals["macs"] == 121_278_672
    assert largest.totals["macs"] == 566_170_656
    assert largest.totals["params"] == 7_664_760


def test_ofa_count_within_300m_macs() -> None:
    # Counted with the three-table method (the joint table of MACs is too large to hold); the
    # pure-Python path gave the same integer (95 s), the numpy one runs here.
    result = count_space(Decomposition(load_space(OFA)), [Bound("macs", high=300_000_000)])
    assert result.within == 856_295_841_105_991_212
    assert result.method == "three tables"


def test_ofa_sampler_sees_shallow_networks() -> None:
    dec = Decomposition(load_space(OFA))
    uniform = sample(dec, 40, seed=3)
    ofa = sample(dec, 40, seed=3, sampler="choices")
    depth = [
        sum(s.assignment[f"stage{k}.repeat"] for k in range(1, 6)) / 5 for s in uniform.samples
    ]
    depth_ofa = [
        sum(s.assignment[f"stage{k}.repeat"] for k in range(1, 6)) / 5 for s in ofa.samples
    ]
    # uniform over architectures: depth 4 is 6561/7371 = 89% of each stage (mean 3.88);
    # OFA's sampler: depth uniform (mean 3)
    assert sum(depth) / len(depth) > 3.6
    assert sum(depth_ofa) / len(depth_ofa) < 3.4


@pytest.mark.torch
def test_ofa_subnetworks_cross_check() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("fvcore")
    from sepcalc.analysis import analyze
    from sepcalc.conventions import FVCORE
    from sepcalc.crosscheck.compare import compare
    from sepcalc.crosscheck.count import count_fvcore, count_torch

    space = load_space(OFA)
    for k, e, d in ((3, 3, 2), (7, 6, 4), (5, 4, 3)):
        g = space.graph(_ofa_net(k, e, d))
        assert compare(analyze(g, FVCORE), count_fvcore(g)).differing == ()
        assert count_torch(g).flops == 2 * g.total().macs


# --- the spec of choices ----------------------------------------------------------------------


def _space(text: str) -> Space:
    data, locator = parse_yaml(text, "space.yaml")
    return space_from_data(data, locator)


BASE = """
name: t
vars: {res: 16}
input: {channels: 3, size: res}
blocks:
  b:
    params: {out: null, k: 3, s: 1}
    layers:
      - {kind: conv, name: c, out: out, kernel: k, stride: s, norm: batchnorm, act: relu}
layers:
  - {kind: conv, name: stem, out: 4, kernel: 3}
"""


def test_a_per_block_choice_becomes_an_expression_in_i() -> None:
    space = _space(BASE + "  - {block: b, name: st, repeat: 3, out: 4, k: {choice: [1, 3]}}\n")
    data = space.concrete({"st.k": (3, 1, 3)})
    assert data["layers"][1]["k"] == "3 if i == 0 else 1 if i == 1 else 3"
    assert space.concrete({"st.k": (1, 1, 1)})["layers"][1]["k"] == 1
    reloaded = yaml.safe_load(space.concrete_yaml({"st.k": (3, 1, 3)}, "a comment"))
    assert reloaded["layers"][1]["k"] == "3 if i == 0 else 1 if i == 1 else 3"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("  - {block: b, out: 4, k: {choice: []}}", "expected a list of values"),
        ("  - {block: b, out: 4, k: {choice: [1, 1]}}", "1 is given twice"),
        ("  - {block: b, out: 4, k: {choice: [1], per: stages}}", "did you mean 'stage'?"),
        ("  - {block: b, out: 4, repeat: {choice: [1, 2], per: block}}", "per: stage"),
        ("  - {block: b, out: 4, k: {choice: [1], pre: block}}", "did you mean 'per'?"),
        ("  - {block: {choice: [b]}, out: 4}", "'block' cannot be a choice"),
        ("  - {block: b, out: 4, k: {choice: [1, 4]}}", None),
        ("  - {block: b, out: 4, k: [{choice: [1]}]}", "a choice goes on a whole key"),
        ("  - {block: b, out: 4, repeat: {choice: [1, -1]}}", "a depth is a whole number"),
    ],
    ids=[
        "empty",
        "twice",
        "per-typo",
        "repeat-per-block",
        "key-typo",
        "block",
        "ok",
        "nested",
        "negative-depth",
    ],
)
def test_choice_errors_point_at_the_key(entry: str, message: str | None) -> None:
    if message is None:
        assert len(_space(BASE + entry + "\n").choices) == 1
        return
    with pytest.raises(SpecError) as info:
        _space(BASE + entry + "\n")
    d = info.value.diagnostics[0]
    assert d.line == 12  # the entry's line in BASE + entry (BASE starts with a newline)
    assert d.col > 1
    assert message in d.message


def test_a_choice_inside_a_block_says_where_it_goes() -> None:
    text = BASE.replace("kernel: k,", "kernel: {choice: [1, 3]},") + "  - {block: b, out: 4}\n"
    with pytest.raises(SpecError) as info:
        _space(text)
    assert "make it a block parameter and put the choice on the block call" in str(info.value)


def test_a_bad_value_is_reported_at_its_choice() -> None:
    with pytest.raises(SpecError) as info:
        _space(BASE + "  - {kind: conv, out: 4, kernel: 3, act: {choice: [relu, rleu]}}\n")
    assert "'rleu' is not one of" in str(info.value)


def test_entries_with_choices_need_distinct_names() -> None:
    """Choices are named by their entry: with two entries named 's', 's.repeat' would be read
    as the depth of both (and the spec would have two layers named 's' anyway)."""
    text = BASE + (
        "  - {block: b, out: 4, name: s, k: {choice: [1, 3]}, s: {choice: [1, 2]}}\n"
        "  - {block: b, out: 4, name: s, repeat: {choice: [1, 2]}}\n"
    )
    with pytest.raises(SpecError) as info:
        _space(text)
    assert [str(d) for d in info.value.diagnostics] == [
        "space.yaml:13:30: layers.2.name: the entry at line 12 is named 's' too and has choices: "
        "its choices and this one's would have the same names; give the entries distinct names"
    ]


def test_cli_errors_are_located_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BASE + "  - {block: b, out: 4, k: {choice: [1], per: stages}}\n")
    result = CliRunner().invoke(app, ["space", "count", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}:12:")
    assert "Traceback" not in result.stderr
    for args, message in (
        (["--max-macs", "lots"], "--max-macs lots: 'lots' is not a count"),
        (["--macs", "5M:1M"], "the band is empty"),
        (["--choice", "resolutoin=1:2:1"], "did you mean 'resolution'"),
    ):
        result = CliRunner().invoke(app, ["space", "count", str(OFA), *args])
        assert result.exit_code == 2, args
        assert message in result.stderr


# --- brute force on small random spaces ---------------------------------------------------------


@st.composite
def spaces(draw: st.DrawFn) -> str:
    """A small space: 1 to 3 stages of conv blocks whose depth, width (so the next stage's input
    shape), kernel and stride may be choices, per stage or per block; sometimes a resolution
    choice, sometimes an entry that takes an earlier layer by name (no cut: a group)."""
    res = draw(st.sampled_from(["8", "{choice: [6, 9]}"]))
    lines = [
        "name: t",
        f"vars: {{res: {res}}}",
        "input: {channels: 2, size: res}",
        "blocks:",
        "  b:",
        "    params: {out: null, k: 3, s: 1}",
        "    layers:",
        "      - {kind: conv, name: c, out: out, kernel: k, stride: s, bias: true, act: relu}",
        "      - {kind: add, inputs: [input, c], when: 's == 1 and in_channels == out'}",
        "layers:",
        "  - {kind: conv, name: stem, out: 2, kernel: 3}",
    ]
    for n in range(draw(st.integers(1, 2))):
        keys = [f"name: st{n}"]
        keys.append(draw(st.sampled_from(["repeat: 1", "repeat: 2", "repeat: {choice: [1, 2]}"])))
        keys.append(
            draw(
                st.sampled_from(
                    ["out: 2", "out: {choice: [2, 3], per: stage}", "out: {choice: [2, 4]}"]
                )
            )
        )
        keys.append(
            draw(
                st.sampled_from(["k: 1", "k: {choice: [1, 3]}", "k: {choice: [1, 3], per: stage}"])
            )
        )
        keys.append(draw(st.sampled_from(["s: 1", "s: {choice: [1, 2], per: stage}"])))
        lines.append("  - {block: b, " + ", ".join(keys) + "}")
    if draw(st.booleans()):
        lines.append("  - {kind: pointwise, out: {choice: [1, 2]}, inputs: stem}")
    lines += ["  - {kind: global_avg_pool}", "  - {kind: flatten}", "  - {kind: linear, out: 3}"]
    return "\n".join(lines) + "\n"


def _repeats(space: Space, entry: int, stage: dict[str, Any]) -> int:
    key = f"{space.label(entry)}.repeat"
    return int(stage[key]) if key in stage else int(space.template.spec.layers[entry].repeat)


def every_assignment(space: Space) -> Iterator[dict[str, Any]]:
    """Every assignment, written independently of the engine: per-stage values, then one
    value per repeat for the per-block choices."""
    once = [c for c in space.choices if c.per != "block"]
    each = [c for c in space.choices if c.per == "block"]
    for combo in itertools.product(*(c.values for c in once)):
        fixed = {c.name: v for c, v in zip(once, combo, strict=True)}
        ranges = []
        for c in each:
            assert c.entry is not None
            r = _repeats(space, c.entry, fixed)
            ranges.append(list(itertools.product(c.values, repeat=r)) if r else [(c.values[0],)])
        for tuples in itertools.product(*ranges):
            yield {**fixed, **{c.name: t for c, t in zip(each, tuples, strict=True)}}


def brute(space: Space) -> list[tuple[dict[str, Any], tuple[int, ...]]]:
    dec = Decomposition(space)
    out = []
    for a in every_assignment(space):
        try:
            t = totals_of(space.graph(a).total(), dec.convention)
        except SpecError:
            continue
        out.append((a, tuple(t.get(m) for m in METRICS)))
    return out


SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
MAX_BRUTE = 150
"""The most assignments a drawn space may have (each is built one by one)."""


def small(text: str) -> Space:
    space = _space(text)
    assume(sum(1 for _ in itertools.islice(every_assignment(space), MAX_BRUTE + 1)) <= MAX_BRUTE)
    return space


@SETTINGS
@given(spaces(), st.integers(0, 10**6), st.sampled_from(METRICS))
def test_count_distribution_and_bounds_match_brute_force(text: str, cut: int, metric: str) -> None:
    space = small(text)
    dec = Decomposition(space)
    every = brute(space)
    result = count_space(dec)
    assert result.buildable == len(every)
    assert result.assignments == sum(1 for _ in every_assignment(space))
    values = sorted(v[METRICS.index(metric)] for _, v in every)
    bound = Bound(metric, high=values[cut % len(values)] if values else 0)
    within_count = count_space(dec, [bound]).within
    assert within_count == sum(1 for _, v in every if within(v, [bound]))
    band = Bound(metric, low=values[0] + 1, high=max(values[-1], values[0] + 1))
    assert count_space(dec, [band]).within == sum(1 for _, v in every if within(v, [band]))
    d = distribution(dec, metric).parts[0]
    assert dict(d.values or ()) == dict(Tally(values))
    assert d.mean == Fraction(sum(values), len(values))
    assert d.quantiles[3][1] == values[(len(values) - 1) // 2]  # the lower median


@SETTINGS
@given(spaces(), st.integers(0, 10**6))
def test_front_and_best_match_brute_force(text: str, cut: int) -> None:
    space = small(text)
    dec = Decomposition(space)
    every = brute(space)
    macs = sorted(v[0] for _, v in every)
    bound = Bound("macs", high=macs[cut % len(macs)])
    feasible = [v for _, v in every if within(v, [bound])]
    expected = {
        (v[0], v[1])
        for v in feasible
        if not any(w[0] <= v[0] and w[1] >= v[1] and (w[0], w[1]) != (v[0], v[1]) for w in feasible)
    }
    found = pareto(dec, [("macs", -1), ("params", 1)], [bound])
    assert {(p.totals["macs"], p.totals["params"]) for p in found.points} == expected
    for p in found.points:  # each point's architecture has the totals shown
        t = totals_of(space.graph(p.assignment).total(), dec.convention)
        assert t.as_dict() == p.totals
    top = best(dec, ("params", 1), [bound])
    assert top.best is not None
    assert top.best.totals["params"] == max(v[1] for v in feasible)
    # a lower bound: the fewest MACs with at least this many parameters
    params = sorted(v[1] for _, v in every)
    floor = Bound("params", low=params[cut % len(params)])
    cheapest = best(dec, ("macs", -1), [floor])
    assert cheapest.best is not None
    assert cheapest.best.totals["macs"] == min(v[0] for _, v in every if within(v, [floor]))


@SETTINGS
@given(spaces(), st.integers(0, 10**6), st.integers(0, 100))
def test_samples_are_within_bounds_and_reproduced_by_analyze(
    text: str, cut: int, seed: int
) -> None:
    space = small(text)
    dec = Decomposition(space)
    every = brute(space)
    acts = sorted(v[3] for _, v in every)
    bound = Bound("activations", high=acts[cut % len(acts)])
    keys = {json.dumps(a, sort_keys=True, default=str) for a, v in every if within(v, [bound])}
    for sampler in ("uniform", "choices"):
        result = sample(dec, 5, seed, [bound], sampler)
        assert len(result.samples) == 5
        for s in result.samples:
            assert json.dumps(s.assignment, sort_keys=True, default=str) in keys
            t = totals_of(space.graph(s.assignment).total(), dec.convention)
            assert t.as_dict() == s.totals


def test_uniform_samples_are_uniform() -> None:
    # 2 stages x (k in {1, 3} per block, 2 repeats) = 16 architectures; 3,200 samples: each
    # appears 200 times on average; a chi-square over 15 degrees of freedom stays under 45
    # (p < 1e-4) for a uniform sampler, and the fixed seed makes it deterministic.
    text = BASE + "".join(
        f"  - {{block: b, name: s{n}, repeat: 2, out: 4, k: {{choice: [1, 3]}}}}\n"
        for n in range(2)
    )
    dec = Decomposition(_space(text))
    result = sample(dec, 3200, seed=7)
    seen = Tally(json.dumps(s.assignment, sort_keys=True) for s in result.samples)
    assert len(seen) == 16
    chi2 = sum((c - 200) ** 2 / 200 for c in seen.values())
    assert chi2 < 45


@SETTINGS
@given(spaces(), st.integers(0, 10**6))
def test_choice_uniform_probability_matches_brute_force(text: str, cut: int) -> None:
    space = small(text)
    dec = Decomposition(space)
    every = brute(space)
    if len(every) != sum(1 for _ in every_assignment(space)):
        return  # the sampler's probabilities assume every assignment builds
    macs = sorted(v[0] for _, v in every)
    bound = Bound("macs", high=macs[cut % len(macs)])
    # P(assignment) under OFA's sampler: each choice uniform: for a per-block choice, one draw
    # per repeat the drawn depth makes
    expected = Fraction(0)
    for a, v in every:
        p = Fraction(1)
        for c in space.choices:
            n = len(a[c.name]) if c.per == "block" else 1
            p *= Fraction(1, len(c.values)) ** n
        if within(v, [bound]):
            expected += p
    assert choice_probability(dec, bound) == expected


@SETTINGS
@given(
    st.lists(
        st.dictionaries(st.integers(0, 60), st.integers(1, 9), min_size=1, max_size=6),
        min_size=1,
        max_size=5,
    ),
    st.integers(0, 200),
)
def test_three_table_count_matches_brute_force(hists: list[dict[int, int]], t: int) -> None:
    expected = 0
    for combo in itertools.product(*(h.items() for h in hists)):
        if sum(v for v, _ in combo) <= t:
            n = 1
            for _, c in combo:
                n *= c
            expected += n
    assert sums.Counter(hists).at_most(t) == expected
    with pytest.MonkeyPatch.context() as patch:  # the pure-Python path, as without numpy
        patch.setattr(sums, "numpy_module", lambda: None)
        python = sums.Counter(hists)
        assert not python.fast
    assert python.at_most(t) == expected


@pytest.mark.parametrize("fast", [True, False], ids=["numpy", "python"])
def test_distribution_falls_back_to_exact_bins(monkeypatch: pytest.MonkeyPatch, fast: bool) -> None:
    from sepcalc.search import exact, sums_numpy

    text = BASE + "".join(
        f"  - {{block: b, name: s{n}, repeat: 2, out: 4, k: {{choice: [1, 3, 5]}}}}\n"
        for n in range(3)
    )
    space = _space(text)
    dec = Decomposition(space)
    full = distribution(dec, "macs", bins=4).parts[0]
    assert full.method == "table"
    # the stages' distributions (9 assignments each) no longer merge into one table
    monkeypatch.setattr(sums_numpy, "CHEAP", 0)
    monkeypatch.setattr(sums_numpy, "GROUP_PAIRS", 20)
    monkeypatch.setattr(sums, "GROUP_PAIRS", 20)
    if not fast:
        monkeypatch.setattr(sums, "numpy_module", lambda: None)
    binned = distribution(Decomposition(space), "macs", bins=4)
    assert binned.parts[0].bins == full.bins
    assert binned.parts[0].method == "three tables"
    with pytest.raises(TooLarge, match="does not fit in one table"):
        distribution(Decomposition(space), "macs")
    monkeypatch.setattr(exact, "MAX_PAIRS", 20)  # a stage (3 x 3) fits, two stages do not
    hist = Program(Decomposition(space), HistAlgebra(["macs"]))
    with pytest.raises(TooLarge):
        hist.total()


# --- the command line -------------------------------------------------------------------------


def test_cli_best_writes_a_spec_that_analyze_reproduces(tmp_path: Path) -> None:
    out = tmp_path / "best.yaml"
    result = CliRunner().invoke(
        app,
        [
            "space",
            "best",
            str(OFA),
            "--maximize",
            "params",
            "--max-macs",
            "300M",
            "--out",
            str(out),
            "-f",
            "json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    analyzed = CliRunner().invoke(app, ["analyze", str(out), "-f", "json"])
    totals = json.loads(analyzed.stdout)["totals"]
    assert {m: totals[m] for m in METRICS} == found["totals"]
    assert found["totals"]["macs"] <= 300_000_000


def test_cli_infeasible_bounds_exit_1() -> None:
    result = CliRunner().invoke(
        app, ["space", "best", str(OFA), "--maximize", "params", "--max-macs", "100M"]
    )
    assert result.exit_code == 1
    said = " ".join(result.stdout.split())  # piped: the note wraps at 80 columns
    assert "the smallest macs in the space is 121,278,672" in said


def test_cli_distribution_by_var_and_samples_written(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(BASE + "  - {block: b, name: st, repeat: 2, out: 4, k: {choice: [1, 3]}}\n")
    result = CliRunner().invoke(
        app,
        ["space", "distribution", str(path), "--choice", "res=8,16", "--by-var", "-f", "json"],
    )
    assert result.exit_code == 0, result.stderr
    parts = json.loads(result.stdout)["parts"]
    assert [p["vars"] for p in parts] == [{"res": 8}, {"res": 16}]
    # 4 architectures per resolution; MACs of a layer scale with H x W: 16**2 / 8**2 = 4
    assert [p["count"] for p in parts] == [4, 4]
    assert parts[1]["min"] == 4 * parts[0]["min"]
    out = tmp_path / "samples"
    result = CliRunner().invoke(
        app, ["space", "sample", str(path), "-n", "3", "--seed", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    written = sorted(out.glob("sample-*.yaml"))
    assert len(written) == 3
    for spec in written:
        analyzed = CliRunner().invoke(app, ["analyze", str(spec), "-f", "json"])
        assert analyzed.exit_code == 0, analyzed.stderr
