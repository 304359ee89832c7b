"""Budgets: exact values with SI suffixes, metric names, sources and precedence, baselines, and
the exit-code policy (sepcalc/budget.py), on the real numbers of examples/mobilenet_v1.yaml.

MobileNetV1 at alpha 1, 224x224 (tests/test_mobilenet_v1.py derives them from the paper's
Table 1): 568,740,352 MACs; 4,209,088 weights + 1,000 FC bias + 21,888 BatchNorm (2 x the 10,944
channels of every conv, dw and pw output) = 4,231,976 params; pointwise 539,492,352 MACs
(Table 2: 94.86%).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sepcalc.analysis import analyze
from sepcalc.budget import (
    Allowance,
    Budget,
    BudgetMetric,
    BudgetValueError,
    CheckReport,
    Outcome,
    Source,
    SpecResult,
    Status,
    check,
    check_baseline,
    invalid,
    matches,
    parse_budget_file,
    parse_metric,
    parse_si_count,
    resolve,
    spec_budgets,
    spec_key,
)
from sepcalc.cli.options import parse_budget_option, parse_max_increase, worded
from sepcalc.conventions import get_convention
from sepcalc.errors import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    ConventionMismatch,
    Diagnostic,
    SepcalcError,
    SpecError,
)
from sepcalc.graph import Graph
from sepcalc.report.data import SCHEMA_VERSION, analysis_to_dict
from sepcalc.snapshot import REPORT_SCHEMA_VERSION, Snapshot, read_report
from sepcalc.spec import load_spec

MACS = 568_740_352
PARAMS = 4_231_976
WEIGHTS = 4_209_088
POINTWISE_MACS = 539_492_352
# Default convention: 2 x 568,740,352 MACs + BN 10,085,376 (2 per element) + ReLU 5,042,688
# + global pool 50,176 (1024 x 7 x 7) + FC bias 1,000.
FLOPS = 2 * MACS + 10_085_376 + 5_042_688 + 50_176 + 1_000


@pytest.fixture
def mobilenet(example: Callable[..., Graph]) -> Snapshot:
    return Snapshot.of(analyze(example("mobilenet_v1")), "examples/mobilenet_v1.yaml")


def test_mobilenet_snapshot_numbers(mobilenet: Snapshot) -> None:
    assert mobilenet.totals["macs"] == MACS
    assert mobilenet.totals["params"] == PARAMS == WEIGHTS + 1_000 + 21_888
    assert mobilenet.totals["params.weight"] == WEIGHTS
    assert mobilenet.totals["flops"] == FLOPS == 1_152_659_944
    assert mobilenet.count("macs", "pointwise") == POINTWISE_MACS
    assert mobilenet.count("macs", "squeeze_excite") == 0  # a kind MobileNetV1 does not have


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("300M", 300_000_000),
        ("4.2M", 4_200_000),  # exact: not 4199999.999... from a float
        ("1.5G", 1_500_000_000),
        ("600K", 600_000),
        ("600k", 600_000),
        ("2T", 2 * 10**12),
        ("4.231976M", PARAMS),
        ("1.23456789G", 1_234_567_890),
        ("4231976", PARAMS),
        ("4_231_976", PARAMS),
        (" 600 M ", 600_000_000),
        ("4.2e6", 4_200_000),  # PyYAML reads 4.2e6 as a string (YAML 1.1 needs e+6)
        (".5K", 500),
        ("0", 0),
        (PARAMS, PARAMS),
        (4.2e6, 4_200_000),  # a YAML float: its shortest decimal is what was written
        (0.1e9, 100_000_000),
    ],
    ids=lambda v: repr(v),
)
def test_parse_si_count_is_exact(text: object, expected: int) -> None:
    value = parse_si_count(text)
    assert value == expected
    assert type(value) is int


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("-1M", "not a count"),
        ("abc", "not a count"),
        ("5MB", "not a count"),
        ("1/2", "not a count"),
        ("1.5", "is 1.5, not a whole number"),
        ("1.2345678M", "is 1234567.8, not a whole number"),
        (-5, "negative"),
        (float("inf"), "'inf' is not a number"),
        (True, "not a count"),
        (None, "not a count"),
        ([1], "not a count"),
    ],
    ids=lambda v: repr(v),
)
def test_parse_si_count_rejects(text: object, problem: str) -> None:
    with pytest.raises(BudgetValueError, match=problem):
        parse_si_count(text)


@given(
    n=st.integers(min_value=0, max_value=10**15),
    suffix=st.sampled_from(["", "K", "M", "G", "T"]),
)
def test_parse_si_count_reads_every_exact_decimal(n: int, suffix: str) -> None:
    """Any count written as a decimal with a suffix (4231976 -> 4.231976M) reads back exactly."""
    digits = {"": 0, "K": 3, "M": 6, "G": 9, "T": 12}[suffix]
    whole, frac = divmod(n, 10**digits)
    text = f"{whole}.{frac:0{digits}d}{suffix}" if digits else str(n)
    assert parse_si_count(text) == n


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("macs", BudgetMetric("macs")),
        ("params", BudgetMetric("params")),
        ("params.weight", BudgetMetric("params.weight")),
        ("activations", BudgetMetric("activations")),
        ("by_kind.pointwise.macs", BudgetMetric("macs", "pointwise")),
        ("by_kind.depthwise.params.weight", BudgetMetric("params.weight", "depthwise")),
        ("by_kind.activation.flops", BudgetMetric("flops", "activation")),
    ],
    ids=lambda v: str(v),
)
def test_parse_metric(name: str, expected: BudgetMetric) -> None:
    assert parse_metric(name) == expected
    assert str(expected) == name


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("mac", "unknown metric 'mac'; did you mean 'macs'?"),
        ("pointwise.macs", "did you mean 'by_kind.pointwise.macs'?"),
        ("by_kind.pointwsie.macs", "unknown kind 'pointwsie'; did you mean 'pointwise'?"),
        ("by_kind.conv.mac", "by_kind.<kind>.<field>"),
        ("by_kind", "by_kind.<kind>.<field>"),
    ],
    ids=["typo", "kind-without-by_kind", "kind-typo", "field-typo", "bare-by_kind"],
)
def test_parse_metric_rejects(name: str, problem: str) -> None:
    with pytest.raises(BudgetValueError, match=problem.replace("?", r"\?").replace(".", r"\.")):
        parse_metric(name)


@pytest.mark.parametrize(
    ("pattern", "spec", "expected"),
    [
        ("examples/mobilenet_v1.yaml", "examples/mobilenet_v1.yaml", True),
        ("./examples/mobilenet_v1.yaml", "examples/mobilenet_v1.yaml", True),
        ("examples/*.yaml", "examples/mobilenet_v1.yaml", True),
        ("examples/*.yaml", "examples/sub/net.yaml", False),  # * stays in one directory
        ("examples/**/*.yaml", "examples/sub/net.yaml", True),
        ("examples/**/*.yaml", "examples/net.yaml", True),
        ("**/*.yaml", "a/b/c.yaml", True),
        ("mobilenet_*.yaml", "examples/mobilenet_v2.yaml", True),  # no slash: the file name
        ("mobilenet_*.yaml", "examples/resnet50.yaml", False),
        ("examples/mobilenet_v?.yaml", "examples/mobilenet_v2.yaml", True),
        ("examples/mobilenet_v[12].yaml", "examples/mobilenet_v3_large.yaml", False),
        ("examples/mobilenet_v[!1].yaml", "examples/mobilenet_v2.yaml", True),
        ("models/*.yaml", "examples/mobilenet_v1.yaml", False),
        ("examples/*.yaml", "examples/../examples/mobilenet_v1.yaml", True),  # '..' resolved
        ("models/../examples/*.yaml", "examples/mobilenet_v1.yaml", True),
        ("./mobilenet_v1.yaml", "examples/mobilenet_v1.yaml", False),  # a '/': not any dir
        ("[[]x].yaml", "[x].yaml", True),  # [[] is a literal '['
        ("v[!1].yaml", "v/.yaml", False),  # [!...] never matches a directory separator
        ("v[a-c-].yaml", "v-.yaml", True),  # a trailing '-' is a member
        ("v[\\w].yaml", "vx.yaml", False),  # a backslash is a member, not a regex escape
        ("/abs/*.yaml", "abs/a.yaml", False),  # absolute patterns need the absolute path
    ],
)
def test_glob_matching(pattern: str, spec: str, expected: bool) -> None:
    assert matches(pattern, spec) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("/work/models/*.yaml", True),
        ("/work/models/../models/a.yaml", True),
        ("/work/*.yaml", False),
        ("/elsewhere/models/a.yaml", False),
        ("models/a.yaml", True),  # relative patterns match the relative path, as before
        ("a.yaml", True),
    ],
    ids=["glob", "dotdot", "other-dir", "other-root", "relative", "file-name"],
)
def test_absolute_patterns_match_the_absolute_path(pattern: str, expected: bool) -> None:
    assert matches(pattern, "models/a.yaml", ["/work/models/a.yaml"]) is expected


def test_spec_key_normalizes() -> None:
    assert spec_key("./examples/mobilenet_v1.yaml") == "examples/mobilenet_v1.yaml"
    assert spec_key(Path("examples") / "x.yaml") == "examples/x.yaml"
    assert spec_key("examples/../examples/./x.yaml") == "examples/x.yaml"
    assert spec_key("../x.yaml") == "../x.yaml"


def test_rules_that_match_no_spec() -> None:
    rules = parse_budget_file(BUDGETS + "models/*.yaml: {macs: 1G}\n", "budgets.yaml")
    unmatched = rules.unmatched([("examples/resnet50.yaml", ())])
    assert [(r.pattern, r.line) for r in unmatched] == [
        ("examples/mobilenet_v1.yaml", 5),
        ("models/*.yaml", 8),
    ]


BUDGETS = """\
# general first, specific later
"examples/*.yaml":
  params: 30M
  macs: 5G
examples/mobilenet_v1.yaml:
  macs: 600M
  by_kind.pointwise.macs: 550M
"""


def test_budget_file_later_rules_override() -> None:
    rules = parse_budget_file(BUDGETS, "budgets.yaml")
    got = {str(b.metric): (b.limit, b.text, b.source.line) for b in rules.budgets_for(
        "examples/mobilenet_v1.yaml")}  # fmt: skip
    assert got == {
        "params": (30_000_000, "30M", 3),
        "macs": (600_000_000, "600M", 6),  # line 6 overrides line 4
        "by_kind.pointwise.macs": (550_000_000, "550M", 7),
    }
    other = {str(b.metric): b.limit for b in rules.budgets_for("examples/resnet50.yaml")}
    assert other == {"params": 30_000_000, "macs": 5_000_000_000}
    assert rules.budgets_for("models/net.yaml") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a.yaml:\n  mac: 600M\n  params: lots\n",
            [
                "budgets.yaml:2:3: a.yaml: mac: unknown metric 'mac'; did you mean 'macs'?",
                "budgets.yaml:3:11: a.yaml: params: 'lots' is not a count; write a number with "
                "an optional K, M, G or T suffix, e.g. 600M or 4.2M",
            ],
        ),
        (
            "a.yaml: 600M\n",
            [
                "budgets.yaml:1:9: a.yaml: expected a mapping of metrics to budgets, e.g. "
                "'models/*.yaml: {macs: 600M, params: 4.3M}'"
            ],
        ),
        (
            "- a.yaml\n",
            [
                "budgets.yaml:1:1: a budgets file maps spec paths or globs to budgets, e.g. "
                "'models/*.yaml: {macs: 600M, params: 4.3M}'"
            ],
        ),
        # The wording after "invalid YAML:" is libyaml's or PyYAML's, whichever is installed.
        ("a.yaml: {macs: 1M\n", ["budgets.yaml:2:1: invalid YAML: ..."]),
        ("a: {macs: 1M}\na: {params: 1M}\n", ["budgets.yaml:2:1: duplicate key 'a'"]),
        ('"[": {macs: 1M}\nok.yaml: {macs: 1M}\n"a[z-b].yaml": {macs: 1M}\n', [
            "budgets.yaml:1:1: '[': a '[' opens a character class that no ']' closes; write "
            "[[] to match a literal '['",
            "budgets.yaml:3:1: 'a[z-b].yaml': the range z-b is reversed; write b-z",
        ]),
        ("a.yaml:\n  macs: 1M\n  ' macs': 2M\n", [
            "budgets.yaml:3:3: a.yaml:  macs: macs already has a budget on line 2",
        ]),
    ],
    ids=["bad-metric-and-value", "not-a-mapping", "top-level-list", "invalid-yaml", "duplicate",
         "invalid-glob", "same-metric-twice"],
)  # fmt: skip
def test_budget_file_diagnostics(text: str, expected: list[str]) -> None:
    with pytest.raises(SpecError) as err:
        parse_budget_file(text, "budgets.yaml")
    got = [str(d) for d in err.value.diagnostics]
    assert len(got) == len(expected)
    for line, want in zip(got, expected, strict=True):
        assert line.startswith(want[:-3]) if want.endswith("...") else line == want


def _spec_with_budget(tmp_path: Path, budget: str) -> Path:
    spec = tmp_path / "net.yaml"
    text = (Path(__file__).parent.parent / "examples" / "mobilenet_v1.yaml").read_text()
    spec.write_text(text + budget)
    return spec


def test_spec_budgets_have_their_lines(tmp_path: Path) -> None:
    spec = _spec_with_budget(tmp_path, "budget:\n  macs: 600M\n  params: 4.3M\n")
    first = len(spec.read_text().splitlines()) - 1  # the line of 'macs:'
    budgets = spec_budgets(load_spec(spec))
    assert [(str(b.metric), b.limit, b.source.line, b.source.col) for b in budgets] == [
        ("macs", 600_000_000, first, 3),
        ("params", 4_300_000, first + 1, 3),
    ]
    assert all(b.source.origin == "spec" and b.source.file == str(spec) for b in budgets)


def test_spec_budget_problems_are_spec_diagnostics(tmp_path: Path) -> None:
    spec = _spec_with_budget(tmp_path, "budget:\n  maks: 600M\n  params: -4M\n")
    line = len(spec.read_text().splitlines()) - 1
    with pytest.raises(SpecError) as err:
        spec_budgets(load_spec(spec))
    assert [(d.line, d.col) for d in err.value.diagnostics] == [(line, 3), (line + 1, 11)]
    assert "budget.maks: unknown metric 'maks'; did you mean 'macs'?" in str(err.value)


def _budget(metric: str, limit: int, origin: str) -> Budget:
    return Budget(parse_metric(metric), limit, str(limit), Source(origin))  # type: ignore[arg-type]


def test_precedence_cli_over_file_over_spec() -> None:
    spec = [_budget("macs", 1, "spec"), _budget("params", 2, "spec"), _budget("flops", 3, "spec")]
    file = [_budget("macs", 10, "file"), _budget("params", 20, "file")]
    cli = [_budget("macs", 100, "cli")]
    merged = {str(b.metric): (b.limit, b.source.origin) for b in resolve(spec, file, cli)}
    assert merged == {"macs": (100, "cli"), "params": (20, "file"), "flops": (3, "spec")}
    # Totals first in FIELDS order, then kinds.
    order = resolve([_budget("by_kind.conv.macs", 1, "cli"), _budget("macs", 1, "cli"),
                     _budget("params", 1, "cli")])  # fmt: skip
    assert [str(b.metric) for b in order] == ["params", "macs", "by_kind.conv.macs"]


def test_budget_option() -> None:
    b = parse_budget_option("by_kind.pointwise.macs=550M")
    assert (b.metric, b.limit, b.source.label) == (
        BudgetMetric("macs", "pointwise"),
        550_000_000,
        "--budget by_kind.pointwise.macs=550M",
    )
    with pytest.raises(SepcalcError, match="expected METRIC=VALUE"):
        parse_budget_option("600M")
    with pytest.raises(SepcalcError, match="--budget macs=6OOM: '6OOM' is not a count"):
        parse_budget_option("macs=6OOM")


def test_check_budgets_on_mobilenet(mobilenet: Snapshot) -> None:
    budgets = [
        _budget("params", 4_300_000, "cli"),  # 4.3M - 4,231,976 = 68,024 to spare
        _budget("macs", 500_000_000, "cli"),  # 568,740,352 - 500M = 68,740,352 over
        _budget("by_kind.pointwise.macs", POINTWISE_MACS, "cli"),  # equal: passes
    ]
    result = check("net.yaml", mobilenet, budgets)
    assert [(str(o.metric), o.value, o.headroom, o.passed) for o in result.outcomes] == [
        ("params", PARAMS, 68_024, True),
        ("macs", MACS, -68_740_352, False),
        ("by_kind.pointwise.macs", POINTWISE_MACS, 0, True),
    ]
    assert result.status is Status.FAIL
    assert result.network == "MobileNetV1"


def test_allowance_limits() -> None:
    macs = BudgetMetric("macs")
    # 2% of 568,740,352 = 11,374,807.04: the largest whole count within it is 580,115,159.
    assert Allowance(macs, Fraction(2, 100), True, "macs=2%").limit(MACS) == 580_115_159
    assert Allowance(macs, Fraction(0), True, "macs=0%").limit(MACS) == MACS
    assert Allowance(macs, Fraction(10_000), False, "macs=10K").limit(MACS) == MACS + 10_000
    assert Allowance(macs, Fraction(5, 100), True, "macs=5%").limit(0) == 0


def test_parse_max_increase() -> None:
    got = parse_max_increase("macs=2%,params=0, by_kind.pointwise.macs=1.5M")
    assert [(str(a.metric), a.amount, a.relative) for a in got] == [
        ("macs", Fraction(1, 50), True),
        ("params", 0, False),
        ("by_kind.pointwise.macs", 1_500_000, False),
    ]
    for bad, problem in [
        ("macs", "expected METRIC=AMOUNT"),
        ("macs=-2%", "not a count"),
        ("mac=2%", "did you mean 'macs'"),
        (",", "expected METRIC=AMOUNT"),
    ]:
        with pytest.raises(SepcalcError, match=problem):
            parse_max_increase(bad)  # fmt: skip


def test_baseline_growth(mobilenet: Snapshot, example: Callable[..., Graph]) -> None:
    # Resolution 160 (Table 7): 290,675,200 MACs; the weights do not change.
    small = Snapshot.of(analyze(example("mobilenet_v1", resolution=160)), "base.json")
    allowances = parse_max_increase("macs=2%,params=0")
    result = check("net.yaml", mobilenet, [], allowances, small)
    macs, params = result.outcomes
    assert (macs.baseline, macs.value, macs.limit, macs.passed) == (
        290_675_200,
        MACS,
        290_675_200 + 5_813_504,  # 2% of 290,675,200 = 5,813,504 exactly
        False,
    )
    assert (params.baseline, params.value, params.passed) == (PARAMS, PARAMS, True)
    assert (macs.source.origin, macs.source.file) == ("baseline", "base.json")
    # The other way round MACs shrink: everything passes.
    assert check("net.yaml", small, [], allowances, mobilenet).status is Status.PASS


def test_baseline_flops_need_the_same_convention(mobilenet: Snapshot) -> None:
    allowances = parse_max_increase("flops=1%")
    check_baseline(allowances, mobilenet, "default")
    with pytest.raises(ConventionMismatch, match="count under 'default' to compare flops"):
        check_baseline(allowances, mobilenet, "fvcore")
    check_baseline(parse_max_increase("macs=1%"), mobilenet, "fvcore")  # MACs do not depend on it


def _result(status: Status) -> SpecResult:
    outcome = Outcome(
        BudgetMetric("macs"), 1, 1 if status is Status.PASS else 0, "1", Source("cli")
    )
    if status is Status.ERROR:
        return invalid("x.yaml", SpecError([Diagnostic("x.yaml", 1, 1, "bad")]))
    return SpecResult("x.yaml", "X", () if status is Status.NO_BUDGET else (outcome,))


@pytest.mark.parametrize(
    ("statuses", "exit_zero", "code", "overall"),
    [
        ([Status.PASS], False, EXIT_OK, Status.PASS),
        ([Status.PASS, Status.NO_BUDGET], False, EXIT_OK, Status.PASS),
        ([Status.PASS, Status.FAIL], False, EXIT_FAILED, Status.FAIL),
        ([Status.PASS, Status.FAIL], True, EXIT_OK, Status.FAIL),
        ([Status.FAIL, Status.ERROR], False, EXIT_INVALID, Status.ERROR),
        ([Status.ERROR], True, EXIT_INVALID, Status.ERROR),  # --exit-zero never hides bad input
    ],
    ids=["pass", "pass-unbudgeted", "fail", "fail-exit-zero", "error-wins", "error-exit-zero"],
)
def test_exit_code_policy(
    statuses: list[Status], exit_zero: bool, code: int, overall: Status
) -> None:
    report = CheckReport(tuple(_result(s) for s in statuses), "default")
    assert [r.status for r in report.results] == statuses
    assert report.status is overall
    assert report.exit_code(exit_zero=exit_zero) == code


def test_invalid_result_from_a_plain_error() -> None:
    result = invalid("x.yaml", SepcalcError("--set beta: the spec has no var 'beta'"))
    assert result.diagnostics == (
        Diagnostic("x.yaml", 0, 0, "--set beta: the spec has no var 'beta'"),
    )


def test_saved_report_reads_back_as_the_same_snapshot(
    example: Callable[..., Graph], tmp_path: Path
) -> None:
    assert REPORT_SCHEMA_VERSION == SCHEMA_VERSION
    analysis = analyze(example("mobilenet_v1"), get_convention("fvcore"), compare_standard=True)
    path = tmp_path / "report.json"
    path.write_text(json.dumps(analysis_to_dict(analysis)))
    saved = read_report(path)
    assert saved == dataclasses.replace(Snapshot.of(analysis), source=str(path))
    assert saved.convention == "fvcore"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{", "report.json:1:2: invalid JSON"),
        ("[]", "not a sepcalc analyze report: expected a JSON object"),
        ('{"schema_version": 2}', "schema_version is 2; this sepcalc reads version 1"),
        ('{"schema_version": 1, "name": "x"}', "'convention' should be an object"),
        (
            '{"schema_version": 1, "name": "x", "convention": {"name": "default"}, '
            '"layers": [], "by_kind": {}, "totals": {"params": 1}}',
            "'totals.params_by_role' should be an object",
        ),
    ],
    ids=["invalid-json", "not-object", "version", "no-convention", "incomplete-totals"],
)
def test_saved_report_problems(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "report.json"
    path.write_text(content)
    with pytest.raises(SepcalcError) as err:
        read_report(path)
    assert problem in str(err.value)
    assert "sepcalc analyze SPEC --format json" in str(worded(err.value))


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        ("by_kind.relu.flops", "'relu' is a layer kind, not a breakdown kind: its costs are "
         "under by_kind.activation"),
        ("by_kind.separable.macs", "under by_kind.depthwise and by_kind.pointwise"),
        ("by_kind.maxpool.flops", "under by_kind.pool"),
        ("by_kind.pointwize.macs", "unknown kind 'pointwize'; did you mean 'pointwise'?"),
    ],
    ids=["relu", "separable", "maxpool", "typo"],
)  # fmt: skip
def test_by_kind_names_a_bucket_not_a_layer_kind(metric: str, message: str) -> None:
    # A budget on a name that never appears in the breakdown would always pass (0 <= budget).
    with pytest.raises(BudgetValueError, match=re.escape(message)):
        parse_metric(metric)
