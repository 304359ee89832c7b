"""`sepcalc check` end to end: every exit code, every format, budget sources and baselines.

Numbers are MobileNetV1's (examples/mobilenet_v1.yaml; tests/test_mobilenet_v1.py derives them
from the paper's Table 1): 568,740,352 MACs; 4,231,976 params = 4,209,088 weights + 1,000 FC
bias + 21,888 BatchNorm; 5,044,712 activation elements.
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from sepcalc.cli import app
from tests.golden import assert_golden

ROOT = Path(__file__).resolve().parent.parent
MOBILENET = (ROOT / "examples" / "mobilenet_v1.yaml").read_text()
GOLDEN = Path(__file__).parent / "golden" / "check"
SCHEMA = json.loads((ROOT / "docs" / "schemas" / "check-report.schema.json").read_text())
MACS, PARAMS, ACTIVATIONS = 568_740_352, 4_231_976, 5_044_712


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["check", *args])


def write_spec(name: str, budget: str = "") -> int:
    """MobileNetV1 with a budget section; returns the line of the section's first key."""
    Path(name).write_text(MOBILENET + budget)
    return len(MOBILENET.splitlines()) + 2


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own directory, so spec paths in outputs are short and stable."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


# ---- a run over two specs where one fails -------------------------------------------------

BUDGETS = """\
"*.yaml": {activations: 6M}
tight.yaml:
  params: 4.2M
"""


@pytest.fixture
def two_specs() -> dict[str, int]:
    """ok.yaml holds its budgets; tight.yaml exceeds one in its spec and one in budgets.yaml."""
    ok = write_spec("ok.yaml", "budget:\n  macs: 600M\n  params: 4.3M\n")
    tight = write_spec("tight.yaml", "budget:\n  macs: 500M\n")
    Path("budgets.yaml").write_text(BUDGETS)
    return {"ok": ok, "tight": tight}


def run_two(*args: str) -> Result:
    return run("ok.yaml", "tight.yaml", "--budgets", "budgets.yaml", *args)


@pytest.mark.parametrize(
    ("fmt", "golden"),
    [
        ("text", "two_specs.txt"),
        ("json", "two_specs.json"),
        ("junit", "two_specs.xml"),
        ("github", "two_specs.github.txt"),
        ("markdown", "two_specs.md"),
    ],
    ids=["text", "json", "junit", "github", "markdown"],
)
def test_formats_golden(two_specs: dict[str, int], fmt: str, golden: str) -> None:
    result = run_two("--format", fmt)
    assert result.exit_code == 1, result.stderr
    assert result.stderr == ""
    assert_golden(result.stdout, GOLDEN / golden)


def test_github_lines_point_at_the_budget_that_failed(two_specs: dict[str, int]) -> None:
    result = run_two("--format", "github")
    # tight.yaml: macs from its own budget: section (the 'macs:' key's line); params 4.2M from
    # line 3 of budgets.yaml: 4,231,976 - 4,200,000 = 31,976 over, 31,976 / 4.2M = 0.76%.
    # 68,740,352 / 500M = 13.75%. '%' is escaped as %25 in workflow commands.
    assert result.stdout.splitlines() == [
        "::error file=budgets.yaml,line=3::MobileNetV1: params 4,231,976 exceeds the budget "
        "4.2M (4,200,000) by 31,976 (0.76%25)",
        f"::error file=tight.yaml,line={two_specs['tight']}::MobileNetV1: macs 568,740,352 "
        "exceeds the budget 500M (500,000,000) by 68,740,352 (13.75%25)",
        "sepcalc check: 2 of 6 checks failed in 2 specs",
    ]
    lines = Path("tight.yaml").read_text().splitlines()
    assert lines[two_specs["tight"] - 1] == "  macs: 500M"


def test_github_line_for_an_option_has_no_line() -> None:
    write_spec("net.yaml")
    result = run("net.yaml", "--max-activations", "5M", "--format", "github")
    assert result.exit_code == 1
    # 5,044,712 - 5,000,000 = 44,712 over (0.89% of 5M).
    assert result.stdout.splitlines() == [
        "::error file=net.yaml::MobileNetV1: activations 5,044,712 exceeds the budget 5M "
        "(5,000,000) by 44,712 (0.89%25) [--max-activations 5M]",
        "sepcalc check: 1 of 1 checks failed in 1 spec",
    ]


def test_github_step_summary(two_specs: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    summary = Path("summary.md")
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    run_two("--format", "github")
    markdown = run_two("--format", "markdown").stdout
    assert summary.read_text() == "earlier step\n" + markdown  # appended, not replaced
    assert markdown.startswith("### ❌ sepcalc check: 2 of 6 checks failed in 2 specs\n")


def test_junit_is_valid_xml_with_one_testcase_per_spec_and_budget(
    two_specs: dict[str, int],
) -> None:
    root = ET.fromstring(run_two("--format", "junit").stdout)
    assert root.tag == "testsuites"
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "6",
        "failures": "2",
        "errors": "0",
        "skipped": "0",
    }
    cases = {
        (suite.get("name"), case.get("name")): case
        for suite in root.iter("testsuite")
        for case in suite.iter("testcase")
    }
    assert list(cases) == [
        ("ok.yaml", "params <= 4.3M"),
        ("ok.yaml", "macs <= 600M"),
        ("ok.yaml", "activations <= 6M"),
        ("tight.yaml", "params <= 4.2M"),
        ("tight.yaml", "macs <= 500M"),
        ("tight.yaml", "activations <= 6M"),
    ]
    failed = {key for key, case in cases.items() if case.find("failure") is not None}
    assert failed == {("tight.yaml", "params <= 4.2M"), ("tight.yaml", "macs <= 500M")}
    macs = cases[("tight.yaml", "macs <= 500M")]
    assert (macs.get("file"), macs.get("line")) == ("tight.yaml", str(two_specs["tight"]))
    failure = macs.find("failure")
    assert failure is not None
    assert failure.get("message") == (
        "MobileNetV1: macs 568,740,352 exceeds the budget 500M (500,000,000) by 68,740,352 (13.75%)"
    )


def test_junit_stays_valid_xml_with_control_characters() -> None:
    """XML 1.0 forbids U+0001 even as &#1;: it is written as the text \\x01."""
    write_spec("net.yaml")
    spec = Path("net.yaml").read_text().replace("name: MobileNetV1", 'name: "Mobile\\u0001Net"')
    Path("net.yaml").write_text(spec)
    result = run("net.yaml", "--max-macs", "500M", "-f", "junit")
    assert result.exit_code == 1
    assert "\x01" not in result.stdout
    root = ET.fromstring(result.stdout)
    assert [p.get("value") for p in root.iter("property")] == ["Mobile\\x01Net"]
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message", "").startswith("Mobile\\x01Net: macs 568,740,352 exceeds")


# ---- the JSON schema ---------------------------------------------------------------------


def validate(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """The subset of JSON Schema that docs/schemas/check-report.schema.json uses.

    Stricter than JSON Schema in one way: an object may only have documented properties, so a
    field added to the output without documenting it fails here.
    """
    if "$ref" in schema:
        schema = SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    errors = []
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    types = schema.get("type")
    if types is not None:
        kinds = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
                 "number": (int, float)}  # fmt: skip
        ok = any(
            (isinstance(value, int) and not isinstance(value, bool))
            if t == "integer"
            else isinstance(value, kinds[t])
            for t in ([types] if isinstance(types, str) else types)
        )
        if not ok:
            return [f"{path}: {value!r} is not {types}"]
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if "minimum" in schema and isinstance(value, int) and value < schema["minimum"]:
        errors.append(f"{path}: {value} < {schema['minimum']}")
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        errors += [f"{path}: missing {k}" for k in schema.get("required", []) if k not in value]
        errors += [f"{path}: undocumented {k}" for k in value if k not in props]
        for k, v in value.items():
            if k in props:
                errors += validate(v, props[k], f"{path}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += validate(item, schema["items"], f"{path}[{i}]")
    return errors


def test_schema_validator_catches_problems() -> None:
    """The validator is not vacuous: each kind of mistake is reported."""
    good = json.loads((GOLDEN / "two_specs.json").read_text())
    assert validate(good, SCHEMA) == []
    bad = json.loads(json.dumps(good))
    bad["schema_version"] = 2
    bad["summary"]["extra"] = 1
    del bad["specs"][0]["checks"][0]["limit"]
    bad["specs"][1]["status"] = "ok"
    bad["specs"][1]["checks"][0]["value"] = "4.2M"
    assert validate(bad, SCHEMA) == [
        "$.schema_version: 2 != 1",
        "$.summary: undocumented extra",
        "$.specs[0].checks[0]: missing limit",
        "$.specs[1].status: 'ok' not in ['pass', 'fail', 'error', 'no_budget']",
        "$.specs[1].checks[0].value: '4.2M' does not match ^-?[0-9](\\.[0-9]+)?e[+-][0-9]+$",
    ]


@pytest.mark.parametrize(
    "args",
    [
        ("ok.yaml", "tight.yaml", "--budgets", "budgets.yaml"),
        ("ok.yaml", "bad.yaml", "none.yaml"),
        ("ok.yaml", "--baseline", "base.json", "--max-increase", "macs=2%"),
    ],
    ids=["budgets", "invalid-and-unbudgeted", "baseline"],
)
def test_json_matches_its_schema(two_specs: dict[str, int], args: tuple[str, ...]) -> None:
    Path("bad.yaml").write_text("input: {channels: 3, size: 8}\nlayers:\n  - {kind: conv}\n")
    write_spec("none.yaml")
    Path("base.json").write_text(
        CliRunner().invoke(app, ["analyze", "ok.yaml", "--format", "json"]).stdout
    )
    data = json.loads(run(*args, "--format", "json").stdout)
    assert validate(data, SCHEMA) == []


def test_json_numbers(two_specs: dict[str, int]) -> None:
    data = json.loads(run_two("--format", "json").stdout)
    assert (data["status"], data["summary"]["failed_checks"]) == ("fail", 2)
    tight = data["specs"][1]
    assert tight["status"] == "fail"
    checks = {c["metric"]: c for c in tight["checks"]}
    assert checks["macs"] == {
        "metric": "macs",
        "type": "budget",
        "value": MACS,
        "limit": 500_000_000,
        "headroom": 500_000_000 - MACS,
        "passed": False,
        "bound": "500M",
        "baseline": None,
        "source": {
            "origin": "spec",
            "file": "tight.yaml",
            "line": two_specs["tight"],
            "label": "budget.macs",
        },
    }
    assert checks["params"]["source"] == {
        "origin": "file",
        "file": "budgets.yaml",
        "line": 3,
        "label": "tight.yaml: params",
    }
    assert checks["activations"]["value"] == ACTIVATIONS


# ---- exit codes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--max-macs", "600M", "--max-params", "4.3M"), 0),  # 568.74M <= 600M, 4.23M <= 4.3M
        (("--max-macs", "568740352"), 0),  # equal to the budget passes
        (("--max-macs", "568740351"), 1),  # one MAC over fails
        (("--max-params", "4.2M"), 1),  # 4,231,976 > 4,200,000
        (("--max-params", "4.2M", "--exit-zero"), 0),
        (("--budget", "by_kind.pointwise.macs=539492352"), 0),  # Table 2: the 1x1 convs
        (("--budget", "by_kind.pointwise.macs=539.49M"), 1),  # 539,490,000 < 539,492,352
        (("--budget", "params.weight=4209088"), 0),
        (("--max-flops", "1.15G"), 1),  # 1,152,659,944 FLOPs (default convention)
        (("--max-flops", "1.15G", "--convention", "fvcore"), 0),  # fvcore: 1 per MAC + BN...
    ],
    ids=["pass", "equal", "one-over", "params-over", "exit-zero", "kind", "kind-over",
         "weights", "flops-over", "flops-fvcore"],
)  # fmt: skip
def test_exit_codes_on_mobilenet(args: tuple[str, ...], code: int) -> None:
    write_spec("net.yaml")
    result = run("net.yaml", *args)
    assert result.exit_code == code, result.stdout + result.stderr
    assert result.stderr == ""


def test_exit_zero_still_reports_the_failure() -> None:
    write_spec("net.yaml")
    plain = run("net.yaml", "--max-params", "4.2M", "--format", "json")
    zero = run("net.yaml", "--max-params", "4.2M", "--format", "json", "--exit-zero")
    assert (plain.exit_code, zero.exit_code) == (1, 0)
    assert plain.stdout == zero.stdout
    assert json.loads(zero.stdout)["status"] == "fail"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--max-macs", "6OOM"), "error: --max-macs 6OOM: '6OOM' is not a count"),
        (("--max-macs", "1.5"), "error: --max-macs 1.5: '1.5' is 1.5, not a whole number"),
        (("--budget", "mac=1M"), "error: --budget mac=1M: unknown metric 'mac'; did you mean"),
        (("--budgets", "missing.yaml"), "missing.yaml: cannot read budgets file"),
        (("--budgets", "broken.yaml"), "broken.yaml:1:1: a budgets file maps spec paths or "
         "globs to budgets, e.g. 'models/*.yaml: {macs: 600M, params: 4.3M}'\n1 error in "
         "broken.yaml"),
        (("--max-increase", "macs=2%"), "error: --max-increase needs --baseline"),
        (("--baseline", "missing.json"), "error: missing.json: cannot read report"),
        (("--baseline", "broken.yaml"), "error: broken.yaml:1:1: invalid JSON"),
        (("--baseline", "base.json", "--max-increase", "flops=1%", "--convention", "paper"),
         "error: base.json counts FLOPs with the 'default' convention, this run with 'paper'"),
        (("--baseline", "base.json", "--max-increase", "macs=2"), None),  # valid: +2 MACs
        (("--convention", "fvcor"), "error: unknown convention 'fvcor'; did you mean 'fvcore'?"),
    ],
    ids=["bad-value", "fraction", "bad-metric", "no-budgets-file", "bad-budgets-file",
         "increase-without-baseline", "no-baseline", "baseline-not-json", "flops-convention",
         "valid-absolute-increase", "bad-convention"],
)  # fmt: skip
def test_invalid_options_exit_2(args: tuple[str, ...], message: str | None) -> None:
    write_spec("net.yaml")
    Path("broken.yaml").write_text("- not a mapping\n")
    Path("base.json").write_text(
        CliRunner().invoke(app, ["analyze", "net.yaml", "--format", "json"]).stdout
    )
    result = run("net.yaml", *args)
    if message is None:
        assert result.exit_code == 0, result.stderr
        return
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_baseline_needs_exactly_one_spec() -> None:
    write_spec("a.yaml")
    write_spec("b.yaml")
    Path("base.json").write_text("{}")
    result = run("a.yaml", "b.yaml", "--baseline", "base.json")
    assert result.exit_code == 2
    assert "--baseline compares one spec with its saved report; got 2 specs" in result.stderr


def test_invalid_spec_among_several(two_specs: dict[str, int]) -> None:
    """An invalid spec is reported on stderr; the others are still checked; exit code 2."""
    Path("bad.yaml").write_text("input: {channels: 3, size: 8}\nlayers:\n  - {kind: conv}\n")
    result = run("ok.yaml", "bad.yaml", "tight.yaml", "--budgets", "budgets.yaml", "-f", "github")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "bad.yaml:3:5: layers.0: missing required key 'kernel'",
        "bad.yaml:3:5: layers.0: missing required key 'out'",
        "2 errors in bad.yaml",
    ]
    out = result.stdout.splitlines()
    assert out[:2] == [
        "::error file=bad.yaml,line=3,col=5::layers.0: missing required key 'kernel'",
        "::error file=bad.yaml,line=3,col=5::layers.0: missing required key 'out'",
    ]
    assert (
        out[-1] == "sepcalc check: 1 of 3 specs invalid; 2 of 6 checks failed in the other 2 specs"
    )
    # --exit-zero does not hide invalid input.
    assert run("bad.yaml", "--max-macs", "1M", "--exit-zero").exit_code == 2


JUNK = bytes.fromhex("445eff3604e95157e0e8af80")  # the start of a binary file: 0xff at offset 2
SELF_BLOCK = """\
input: {channels: 3, size: 8}
blocks:
  b:
    params: [out]
    layers:
      - {block: b, out: out}
layers:
  - {block: b, out: 4}
"""


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "github", "markdown"])
def test_unreadable_and_recursive_specs_do_not_stop_the_others(fmt: str) -> None:
    """A binary spec and a block that calls itself are those specs' errors; ok.yaml is checked
    and every format prints its whole report (568,740,352 MACs <= 1G)."""
    write_spec("ok.yaml")
    Path("junk.yaml").write_bytes(JUNK)
    Path("self.yaml").write_text(SELF_BLOCK)
    result = run("ok.yaml", "junk.yaml", "self.yaml", "--max-macs", "1G", "-f", fmt)
    assert result.exit_code == 2
    err = result.stderr.splitlines()
    # The wording of each problem is the spec loader's (tests/test_diagnostics.py).
    assert len(err) == 4
    assert (err[0].startswith("junk.yaml: cannot read spec: "), err[1]) == (
        True,
        "1 error in junk.yaml",
    )
    assert (err[2].startswith("self.yaml:6:"), err[3]) == (True, "1 error in self.yaml")
    assert "internal error" not in result.stderr
    summary = "2 of 3 specs invalid; 1 check passed in the other spec"
    if fmt == "json":
        data = json.loads(result.stdout)
        assert [s["status"] for s in data["specs"]] == ["pass", "error", "error"]
        assert data["summary"]["invalid"] == 2
        assert validate(data, SCHEMA) == []
    elif fmt == "junit":
        root = ET.fromstring(result.stdout)
        assert [root.get(k) for k in ("tests", "failures", "errors")] == ["3", "0", "2"]
    else:
        assert summary in result.stdout


def test_a_bug_while_checking_one_spec_is_that_specs_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exception that is not a user error still leaves the other specs' report intact; it is
    named as an internal error (exit 2), and SEPCALC_DEBUG=1 raises it for the traceback."""
    import sepcalc.graph

    build_graph = sepcalc.graph.build_graph

    def buggy(loaded: Any, overrides: Any) -> Any:
        if loaded.locator.file == "bug.yaml":
            raise RecursionError("maximum recursion depth exceeded")
        return build_graph(loaded, overrides)

    monkeypatch.setattr(sepcalc.graph, "build_graph", buggy)
    write_spec("ok.yaml")
    write_spec("bug.yaml")
    result = run("ok.yaml", "bug.yaml", "--max-macs", "600M", "-f", "github")
    message = (
        "internal error: RecursionError: maximum recursion depth exceeded; please report it "
        "(SEPCALC_DEBUG=1 shows the traceback)"
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"bug.yaml: {message}", "1 error in bug.yaml"]
    assert result.stdout.splitlines() == [
        f"::error file=bug.yaml::{message}",
        "sepcalc check: 1 of 2 specs invalid; 1 check passed in the other spec",
    ]
    monkeypatch.setenv("SEPCALC_DEBUG", "1")
    assert isinstance(run("ok.yaml", "bug.yaml").exception, RecursionError)


REPORT_HINT = "expected the output of `sepcalc analyze SPEC --format json`"


@pytest.mark.parametrize(
    ("option", "content", "stderr"),
    [
        ("--budgets", JUNK, "in.dat: cannot read budgets file: not UTF-8 text (byte 0xff at "
         "offset 2)\n1 error in in.dat\n"),
        ("--budgets", "net.yaml: {macs: 1M}\n".encode("utf-16"), "in.dat: cannot read budgets "
         "file: it is UTF-16 text; save it as UTF-8\n1 error in in.dat\n"),
        ("--budgets", b"\x00\x01", "in.dat:1:1: invalid YAML: character U+0000: control "
         "characters are not allowed\n1 error in in.dat\n"),
        ("--budgets", b"", "in.dat: a budgets file maps spec paths or globs to budgets, "
         "e.g. 'models/*.yaml: {macs: 600M, params: 4.3M}'\n1 error in in.dat\n"),
        ("--baseline", JUNK, "error: in.dat: cannot read report: not UTF-8 text (byte 0xff at "
         "offset 2)\n"),
        ("--baseline", b"[" * 100_000, f"error: in.dat: invalid JSON: nested too deeply; "
         f"{REPORT_HINT}\n"),
        ("--baseline", b"1" * 5_000, "error: in.dat: invalid JSON: an integer of 5,000 digits, "
         f"more than any count has; {REPORT_HINT}\n"),
        ("--baseline", b"", f"error: in.dat:1:1: invalid JSON: Expecting value; {REPORT_HINT}\n"),
        ("--baseline", b"[1, 2]", "error: in.dat: not a sepcalc analyze report: expected a JSON "
         "object; create one with `sepcalc analyze SPEC --format json > in.dat`\n"),
        ("--baseline", b'{"schema_version": 1, "name": "x"}', "error: in.dat: not a sepcalc "
         "analyze report: 'convention' should be an object; create one with `sepcalc analyze "
         "SPEC --format json > in.dat`\n"),
    ],
    ids=["budgets-binary", "budgets-utf16", "budgets-nul", "budgets-empty", "baseline-binary",
         "baseline-deep", "baseline-huge-int", "baseline-empty", "baseline-list",
         "baseline-not-a-report"],
)  # fmt: skip
def test_unreadable_budgets_file_or_baseline(option: str, content: bytes, stderr: str) -> None:
    write_spec("net.yaml")
    Path("in.dat").write_bytes(content)
    result = run("net.yaml", option, "in.dat")
    assert (result.exit_code, result.stdout) == (2, "")
    if stderr.endswith("..."):
        assert result.stderr.startswith(stderr[:-3]), result.stderr
    else:
        assert result.stderr == stderr


def test_budgets_file_with_a_byte_order_mark() -> None:
    write_spec("net.yaml")
    Path("budgets.yaml").write_bytes("net.yaml: {macs: 600M}\n".encode("utf-8-sig"))
    result = run("net.yaml", "--budgets", "budgets.yaml")
    assert (result.exit_code, result.stderr) == (0, "")
    assert "1 check passed in 1 spec" in result.stdout


@pytest.mark.parametrize(
    ("args", "summary", "code"),
    [
        (("bad.yaml",), "1 spec invalid; 0 checks run", 2),
        (("bad.yaml", "bad.yaml"), "2 specs invalid; 0 checks run", 2),
        (("net.yaml", "bad.yaml"), "1 of 2 specs invalid; 1 check passed in the other spec", 2),
        (("net.yaml", "net.yaml", "bad.yaml"),
         "1 of 3 specs invalid; all 2 checks passed in the other 2 specs", 2),
        (("net.yaml", "bad.yaml", "--max-macs", "500M"),
         "1 of 2 specs invalid; 1 of 1 checks failed in the other spec", 2),
        (("plain.yaml",), "0 checks run in 1 spec (1 without a budget)", 0),
        (("net.yaml", "plain.yaml"), "1 check passed in 2 specs (1 without a budget)", 0),
        (("net.yaml", "plain.yaml", "bad.yaml"),
         "1 of 3 specs invalid; 1 check passed in the other 2 specs (1 without a budget)", 2),
    ],
    ids=["one-invalid", "all-invalid", "one-of-two", "one-of-three", "invalid-and-failed",
         "unbudgeted", "passed-and-unbudgeted", "all-three"],
)  # fmt: skip
def test_summary_says_what_was_checked(args: tuple[str, ...], summary: str, code: int) -> None:
    write_spec("net.yaml", "budget:\n  macs: 600M\n")  # 568,740,352 MACs: passes
    write_spec("plain.yaml")
    Path("bad.yaml").write_text("input: {channels: 3, size: 8}\nlayers:\n  - {kind: conv}\n")
    result = run(*args, "-f", "github")
    assert result.exit_code == code
    assert result.stdout.splitlines()[-1] == f"sepcalc check: {summary}"


def test_missing_spec_and_bad_set(two_specs: dict[str, int]) -> None:
    result = run("ok.yaml", "nowhere.yaml", "--format", "json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert [s["status"] for s in data["specs"]] == ["pass", "error"]
    assert data["specs"][1]["diagnostics"][0]["message"].startswith("cannot read spec")
    result = run("ok.yaml", "--set", "beta=2")
    assert result.exit_code == 2
    assert "--set beta: the spec has no var 'beta'" in result.stderr


def test_spec_budget_errors_point_at_the_spec(two_specs: dict[str, int]) -> None:
    line = write_spec("typo.yaml", "budget:\n  maks: 600M\n  params: 4.3 M B\n")
    result = run("typo.yaml")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        f"typo.yaml:{line}:3: budget.maks: unknown metric 'maks'; did you mean 'macs'?",
        f"typo.yaml:{line + 1}:11: budget.params: '4.3 M B' is not a count; write a number "
        "with an optional K, M, G or T suffix, e.g. 600M or 4.2M",
    ]


def test_no_budget_is_a_warning() -> None:
    write_spec("net.yaml")
    result = run("net.yaml")
    assert result.exit_code == 0
    assert result.stderr.startswith("warning: net.yaml: no budget applies")
    assert "NO BUDGET" in result.stdout


# ---- budget sources ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_macs", "cli_macs", "expected"),
    [
        (None, None, ("500M", "spec", 1)),  # spec only: 568.74M > 500M
        ("550M", None, ("550M", "file", 1)),  # the file overrides the spec
        ("550M", "600M", ("600M", "cli", 0)),  # the option overrides both
        (None, "600M", ("600M", "cli", 0)),
    ],
    ids=["spec", "file-over-spec", "cli-over-file", "cli-over-spec"],
)
def test_precedence_cli_over_file_over_spec(
    file_macs: str | None, cli_macs: str | None, expected: tuple[str, str, int]
) -> None:
    write_spec("net.yaml", "budget:\n  macs: 500M\n  params: 4.3M\n")
    args = ["net.yaml", "--format", "json"]
    if file_macs:
        Path("budgets.yaml").write_text(f"net.yaml: {{macs: {file_macs}}}\n")
        args += ["--budgets", "budgets.yaml"]
    if cli_macs:
        args += ["--max-macs", cli_macs]
    result = run(*args)
    checks = {c["metric"]: c for c in json.loads(result.stdout)["specs"][0]["checks"]}
    bound, origin, code = expected
    assert (checks["macs"]["bound"], checks["macs"]["source"]["origin"]) == (bound, origin)
    assert checks["params"]["source"]["origin"] == "spec"  # untouched: only macs is overridden
    assert result.exit_code == code


def test_budgets_file_globs_and_absolute_paths(tmp_path: Path) -> None:
    Path("models").mkdir()
    write_spec("models/a.yaml")
    Path("budgets.yaml").write_text('"models/*.yaml": {macs: 600M}\n')
    for spec in ("models/a.yaml", "./models/a.yaml", str(tmp_path / "models" / "a.yaml")):
        data = json.loads(run(spec, "--budgets", "budgets.yaml", "-f", "json").stdout)
        assert data["specs"][0]["spec"] == "models/a.yaml"
        assert data["specs"][0]["status"] == "pass"


@pytest.mark.parametrize(
    ("entry", "spec"),
    [
        ('"{root}/models/*.yaml"', "models/a.yaml"),  # an absolute pattern
        ('"{root}/models/*.yaml"', "{root}/models/../models/a.yaml"),
        ("models/a.yaml", "models/../models/a.yaml"),  # '..' in the spec path
        ("models/a.yaml", "./models/./a.yaml"),
    ],
    ids=["absolute-pattern", "absolute-both", "dotdot-spec", "dot-spec"],
)
def test_budgets_file_paths_are_normalized(tmp_path: Path, entry: str, spec: str) -> None:
    Path("models").mkdir()
    write_spec("models/a.yaml")
    root = tmp_path.resolve().as_posix()
    Path("budgets.yaml").write_text(entry.format(root=root) + ": {macs: 1M}\n")
    result = run(spec.format(root=root), "--budgets", "budgets.yaml", "-f", "github")
    assert (result.exit_code, result.stderr) == (1, "")
    # 568,740,352 - 1,000,000 = 567,740,352 over, 56,774.04% of 1M.
    assert result.stdout.splitlines() == [
        "::error file=budgets.yaml,line=1::MobileNetV1: macs 568,740,352 exceeds the budget 1M "
        "(1,000,000) by 567,740,352 (56774.04%25)",
        "sepcalc check: 1 of 1 checks failed in 1 spec",
    ]


def test_invalid_glob_is_an_error_at_its_line() -> None:
    write_spec("net.yaml")
    Path("budgets.yaml").write_text('net.yaml: {macs: 600M}\n"[": {macs: 1M}\n')
    result = run("net.yaml", "--budgets", "budgets.yaml")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "budgets.yaml:2:1: '[': a '[' opens a character class that no ']' closes; write [[] to "
        "match a literal '['\n1 error in budgets.yaml\n"
    )


def test_pattern_matching_no_spec_is_a_warning() -> None:
    write_spec("net.yaml")
    Path("budgets.yaml").write_text(
        'net.yaml: {macs: 600M}\n"models/*.yaml": {macs: 1M}\n"/nowhere/*.yaml": {macs: 1M}\n'
    )
    result = run("net.yaml", "--budgets", "budgets.yaml", "-f", "github")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "warning: budgets.yaml:2: 'models/*.yaml' matches none of the specs given",
        "warning: budgets.yaml:3: '/nowhere/*.yaml' matches none of the specs given",
    ]
    assert result.stdout == "sepcalc check: 1 check passed in 1 spec\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--max-macs", "1K", "--budget", "macs=2K"),
         "error: --budget macs=2K: macs already has a budget (--max-macs 1K); give each metric "
         "once\n"),
        (("--budget", "by_kind.pointwise.macs=1M", "--budget", "by_kind.pointwise.macs=2M"),
         "error: --budget by_kind.pointwise.macs=2M: by_kind.pointwise.macs already has a budget "
         "(--budget by_kind.pointwise.macs=1M); give each metric once\n"),
        (("--baseline", "base.json", "--max-increase", "macs=2%,macs=3%"),
         "error: --max-increase macs=3%: macs already has an allowance (macs=2%); give each "
         "metric once\n"),
        (("--baseline", "base.json", "--max-increase", "macs=2%", "--max-increase", "macs=0"),
         "error: --max-increase macs=0: macs already has an allowance (macs=2%); give each "
         "metric once\n"),
    ],
    ids=["max-and-budget", "budget-twice", "increase-in-one", "increase-repeated"],
)  # fmt: skip
def test_a_metric_given_twice_on_the_command_line(args: tuple[str, ...], message: str) -> None:
    write_spec("net.yaml")
    Path("base.json").write_text(
        CliRunner().invoke(app, ["analyze", "net.yaml", "--format", "json"]).stdout
    )
    result = run("net.yaml", *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message)


# ---- baseline -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline_set", "spec_set", "increase", "code"),
    [
        # Baseline at resolution 160: 290,675,200 MACs (Table 7); now 224: 568,740,352.
        ("resolution=160", None, "macs=2%,params=0", 1),
        # Growth is 568,740,352 / 290,675,200 - 1 = +95.66%:
        ("resolution=160", None, "macs=95%", 1),  # limit 566,816,640 < 568,740,352
        ("resolution=160", None, "macs=96%", 0),  # limit 569,723,392 >= 568,740,352
        (None, "resolution=160", "macs=0%", 0),  # MACs went down
        (None, None, None, 0),  # default params=0,macs=0 against itself
        # Table 6, alpha 0.75: 2,585,560 params; growth to alpha 1 is 1,646,416.
        ("alpha=0.75", None, "params=1.6M", 1),
        ("alpha=0.75", None, "params=1646416", 0),
    ],
    ids=["grew", "grew-95", "within-96", "shrank", "default-same", "params-over", "params-exact"],
)
def test_baseline(
    baseline_set: str | None, spec_set: str | None, increase: str | None, code: int
) -> None:
    write_spec("net.yaml")
    analyze = ["analyze", "net.yaml", "--format", "json"]
    if baseline_set:
        analyze += ["--set", baseline_set]
    Path("base.json").write_text(CliRunner().invoke(app, analyze).stdout)
    args = ["net.yaml", "--baseline", "base.json", "--format", "json"]
    if spec_set:
        args += ["--set", spec_set]
    if increase:
        args += ["--max-increase", increase]
    result = run(*args)
    assert result.exit_code == code, result.stdout
    checks = json.loads(result.stdout)["specs"][0]["checks"]
    assert all(c["type"] == "baseline" for c in checks)
    assert all(c["source"]["file"] == "base.json" for c in checks)


def test_baseline_numbers() -> None:
    write_spec("net.yaml")
    Path("base.json").write_text(
        CliRunner()
        .invoke(app, ["analyze", "net.yaml", "-f", "json", "--set", "resolution=160"])
        .stdout
    )
    result = run("net.yaml", "--baseline", "base.json", "--max-increase", "macs=2%", "-f", "github")
    # 568,740,352 / 290,675,200 - 1 = +95.66%; 2% of 290,675,200 = 5,813,504.
    assert result.stdout.splitlines() == [
        "::error file=net.yaml::MobileNetV1: macs 568,740,352 grew +95.66%25 over the baseline "
        "290,675,200 (base.json), more than macs=2%25 allows (at most 296,488,704) "
        "[--max-increase macs=2%25]",
        "sepcalc check: 1 of 1 checks failed in 1 spec",
    ]


# ---- the shipped CI example ---------------------------------------------------------------


def test_ci_example_budgets_hold_for_every_example() -> None:
    """What examples/ci/github-workflow.yml runs: every example has a budget, and all hold."""
    specs = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples").glob("*.yaml"))
    for spec in specs:
        Path(spec).parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / spec, spec)
    result = run(*specs, "--budgets", str(ROOT / "examples" / "ci" / "budgets.yaml"), "-f", "json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0, [s for s in data["specs"] if s["status"] != "pass"]
    assert all(s["checks"] for s in data["specs"])
    v1 = next(s for s in data["specs"] if s["spec"] == "examples/mobilenet_v1.yaml")
    assert {c["metric"]: c["value"] for c in v1["checks"]} == {
        "params": PARAMS,
        "macs": MACS,
        "by_kind.pointwise.macs": 539_492_352,  # Table 2: 94.86% of the mult-adds
    }


def test_pre_commit_hook() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["sepcalc-check"]
    assert hooks[0]["entry"] == "sepcalc check"
    assert hooks[0]["language"] == "python"


@pytest.mark.parametrize("columns", ["80", "200"])
def test_help_documents_exit_codes(columns: str) -> None:
    result = CliRunner().invoke(app, ["check", "--help"], env={"COLUMNS": columns})
    # rich draws the options in a box: drop its borders before joining the wrapped lines.
    text = re.sub(r"\s+", " ", re.sub(r"[│╭╮╰╯─]", " ", result.stdout))
    assert (
        "Exit codes: 0 every budget holds (or --exit-zero); 1 a budget is exceeded or a "
        "baseline grew more than allowed; 2 invalid spec, budgets file, report or options."
    ) in text
    # Nothing is cut with "…" at 80 columns: the --budget example is whole.
    assert "…" not in result.stdout
    assert "e.g. macs=600M or by_kind.pointwise.macs=550M." in text
    assert max(len(line) for line in result.stdout.splitlines()) <= int(columns)


@pytest.mark.parametrize(
    ("args", "budget", "message"),
    [
        (("--budget", "latency=5ms"), "", "net.yaml: --budget latency=5ms: a latency budget (5ms)"),
        ((), "budget:\n  latency: 5ms\n", "budget.latency: a latency budget (5ms)"),
        (("--budgets", "b.yaml"), "", "b.yaml:2:3: **/*.yaml: latency: a latency budget (5ms)"),
    ],
    ids=["option", "spec", "budgets-file"],
)
def test_a_latency_budget_without_a_device_names_the_budget(
    args: tuple[str, ...], budget: str, message: str
) -> None:
    Path("b.yaml").write_text('"**/*.yaml":\n  latency: 5ms\n')
    line = write_spec("net.yaml", budget)
    result = run("net.yaml", *args)
    assert result.exit_code == 2
    expected = message if budget == "" else f"net.yaml:{line}:3: {message}"
    assert expected + " needs a device to run on, and this check has none" in result.stderr
