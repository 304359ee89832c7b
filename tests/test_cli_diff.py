"""`sepcalc diff`: layers matched by name, totals with absolute and relative change, exit codes."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from sepcalc.analysis import analyze
from sepcalc.cli import app
from sepcalc.diff import LayerStatus, diff
from sepcalc.graph import build_graph
from sepcalc.snapshot import FIELDS, Snapshot
from sepcalc.spec import load_spec
from tests.golden import assert_golden

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden" / "diff"
MOBILENET = load_spec(ROOT / "examples" / "mobilenet_v1.yaml")

# Input 3x8x8 (64 positions). conv c1 3->8 k3: 3*8*9 = 216 weights, 216*64 = 13,824 MACs.
OLD = """\
name: small
input: {channels: 3, size: 8}
layers:
  - {kind: conv, name: c1, out: 8, kernel: 3}
  - {kind: pointwise, name: c2, out: 16}     # 8*16 = 128 weights, 8,192 MACs
  - {kind: pointwise, name: c3, out: 4}      # 16*4 = 64 weights, 4,096 MACs
"""
NEW = """\
name: small
input: {channels: 3, size: 8}
layers:
  - {kind: conv, name: c1, out: 8, kernel: 3}
  - {kind: pointwise, name: c3, out: 4}      # 8*4 = 32 weights, 2,048 MACs
  - {kind: pointwise, name: c5, out: 4}      # 4*4 = 16 weights, 1,024 MACs
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["diff", *args])


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("old.yaml").write_text(OLD)
    Path("new.yaml").write_text(NEW)
    Path("mobilenet.yaml").write_text((ROOT / "examples" / "mobilenet_v1.yaml").read_text())


def test_layers_matched_by_name() -> None:
    data = json.loads(run("old.yaml", "new.yaml", "--format", "json").stdout)
    rows = [
        (r["name"], r["status"], r["params"]["old"], r["params"]["new"], r["macs"]["delta"])
        for r in data["layers"]
    ]
    assert rows == [
        ("c1", "same", 216, 216, 0),
        ("c2", "removed", 128, None, -8_192),  # right after c1, where it was
        ("c3", "changed", 64, 32, 2_048 - 4_096),  # 16->4 became 8->4
        ("c5", "added", None, 16, 1_024),
    ]
    totals = data["totals"]
    # Old: 216 + 128 + 64 = 408 weights; 13,824 + 8,192 + 4,096 = 26,112 MACs.
    # New: 216 + 32 + 16 = 264 weights; 13,824 + 2,048 + 1,024 = 16,896 MACs.
    assert totals["params"] == {"old": 408, "new": 264, "delta": -144, "relative": -144 / 408}
    assert totals["macs"] == {
        "old": 26_112,
        "new": 16_896,
        "delta": -9_216,
        "relative": -9_216 / 26_112,
    }
    assert data["increased"] == []


def test_removed_first_layer_comes_first(tmp_path: Path) -> None:
    Path("b.yaml").write_text(OLD.replace("  - {kind: conv, name: c1, out: 8, kernel: 3}\n", ""))
    data = json.loads(run("old.yaml", "b.yaml", "-f", "json").stdout)
    assert [(r["name"], r["status"]) for r in data["layers"]] == [
        ("c1", "removed"),
        ("c2", "changed"),  # now takes 3 channels: 3*16 = 48 weights
        ("c3", "same"),
    ]
    assert data["layers"][1]["params"]["new"] == 48


@pytest.mark.parametrize(
    ("fmt", "args", "golden"),
    [
        ("table", (), "small.txt"),
        ("table", ("--all",), "small.all.txt"),
        ("markdown", (), "small.md"),
        ("json", (), "small.json"),
    ],
    ids=["table", "table-all", "markdown", "json"],
)
def test_formats_golden(fmt: str, args: tuple[str, ...], golden: str) -> None:
    result = run("old.yaml", "new.yaml", "--format", fmt, *args)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert_golden(result.stdout, GOLDEN / golden)


def test_mobilenet_width_multiplier() -> None:
    """MobileNetV1 alpha 1 -> 0.75 (Table 6: 569M -> 325M mult-adds, 4.2M -> 2.6M params)."""
    Path("base.json").write_text(
        CliRunner().invoke(app, ["analyze", "mobilenet.yaml", "-f", "json"]).stdout
    )
    data = json.loads(
        run("base.json", "mobilenet.yaml", "--set", "alpha=0.75", "-f", "json").stdout
    )
    macs = data["totals"]["macs"]
    assert (macs["old"], macs["new"]) == (568_740_352, 325_400_448)
    params = data["totals"]["params"]
    # 2,568,144 weights (Table 6) + 1,000 FC bias + 16,416 BN (2 x 0.75-wide channels).
    assert (params["old"], params["new"]) == (4_231_976, 2_568_144 + 1_000 + 16_416)
    assert data["totals"]["params.weight"]["new"] == 2_568_144
    assert round(100 * macs["relative"], 2) == -42.79
    statuses = {r["name"]: r["status"] for r in data["layers"]}
    assert statuses["flatten1"] == "same"
    assert statuses["dws13.pw"] == "changed"
    assert data["old"] == {"source": "base.json", "name": "MobileNetV1", "convention": "default"}


@pytest.mark.parametrize(
    ("args", "code", "stderr"),
    [
        (("old.yaml", "new.yaml"), 0, ""),
        (("old.yaml", "new.yaml", "--fail-on-increase"), 0, ""),  # everything shrank
        (("new.yaml", "old.yaml"), 0, ""),  # growth without the flag: still 0
        (("new.yaml", "old.yaml", "--fail-on-increase"), 1,
         "increased: params, params.weight, macs, flops, activations\n"),
        (("mobilenet.yaml", "mobilenet.yaml", "--fail-on-increase", "--set", "resolution=160"),
         0, ""),  # --set applies to both spec sides: no change
    ],
    ids=["shrink", "shrink-flag", "grow", "grow-flag", "set-both"],
)  # fmt: skip
def test_exit_codes(args: tuple[str, ...], code: int, stderr: str) -> None:
    result = run(*args)
    assert result.exit_code == code
    assert result.stderr == stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("old.yaml", "missing.yaml"), "missing.yaml: cannot read spec"),
        (("old.yaml", "bad.json"), "error: bad.json:1:1: invalid JSON"),
        (("old.yaml", "other.json"), "other.json: not a sepcalc analyze report: it has no "
         "schema_version; this sepcalc reads version 1"),
        (("a.json", "a.json", "--set", "alpha=1"), "--set applies to spec sides"),
        (("old.yaml", "broken.yaml"), "broken.yaml:3:5: layers.0: missing required key"),
        (("old.yaml", "new.yaml", "--set", "alpha=2"), "--set alpha: the spec has no var 'alpha'"),
        (("old.yaml", "new.yaml", "--convention", "x"), "unknown convention 'x'"),
        (("bin.json", "old.yaml"),
         "error: bin.json: cannot read report: not UTF-8 text (byte 0xff at offset 2)\n"),
        (("old.yaml", "deep.json"), "error: deep.json: invalid JSON: nested too deeply; "
         "expected the output of `sepcalc analyze SPEC --format json`\n"),
        (("old.yaml", "list.json"), "error: list.json: not a sepcalc analyze report: expected "
         "a JSON object; create one with `sepcalc analyze SPEC --format json > list.json`\n"),
    ],
    ids=["missing", "bad-json", "not-a-report", "set-on-reports", "invalid-spec", "unknown-var",
         "bad-convention", "binary-report", "deep-report", "list-report"],
)  # fmt: skip
def test_invalid_input_exits_2(args: tuple[str, ...], message: str) -> None:
    Path("bad.json").write_text("nope")
    Path("bin.json").write_bytes(bytes.fromhex("445eff3604e95157"))
    Path("deep.json").write_text("[" * 100_000)
    Path("list.json").write_text("[1, 2]")
    Path("other.json").write_text('{"name": "x"}')
    Path("a.json").write_text(CliRunner().invoke(app, ["analyze", "old.yaml", "-f", "json"]).stdout)
    Path("broken.yaml").write_text("input: {channels: 3, size: 8}\nlayers:\n  - {kind: conv}\n")
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert (result.stderr == message) if message.endswith("\n") else (message in result.stderr)
    assert "Traceback" not in result.stderr


def test_flops_of_different_conventions_are_not_compared() -> None:
    Path("fv.json").write_text(
        CliRunner()
        .invoke(app, ["analyze", "new.yaml", "-f", "json", "--convention", "fvcore"])
        .stdout
    )
    # old.yaml -> new.yaml under fvcore: FLOPs would look like a change of convention only.
    result = run("fv.json", "old.yaml", "-f", "json", "--fail-on-increase")
    data = json.loads(result.stdout)
    assert data["flops_comparable"] is False
    assert "flops" not in data["increased"]
    assert result.exit_code == 1  # params and MACs did grow (264 -> 408, 16,896 -> 26,112)
    table = run("fv.json", "old.yaml").stdout
    assert "FLOPs not compared: the old side counts them with the 'fvcore' convention" in table
    assert "FLOPs " not in table.split("Layers")[0].split("Totals")[1]  # no FLOPs row


def test_same_network_under_another_convention_is_unchanged() -> None:
    """MobileNetV1 saved under fvcore vs the spec under the default convention: params, MACs and
    activations are identical, so every layer is the same and nothing grew; FLOPs are null."""
    Path("fv.json").write_text(
        CliRunner()
        .invoke(app, ["analyze", "mobilenet.yaml", "-f", "json", "--convention", "fvcore"])
        .stdout
    )
    note = (
        "note: FLOPs not compared: fv.json counts them with the 'fvcore' convention; pass "
        "--convention fvcore to count the spec the same way\n"
    )
    result = run("fv.json", "mobilenet.yaml", "-f", "json", "--fail-on-increase")
    assert (result.exit_code, result.stderr) == (0, note)
    data = json.loads(result.stdout)
    assert data["flops_comparable"] is False
    assert data["totals"]["flops"] is None
    assert data["totals"]["macs"] == {"old": 568_740_352, "new": 568_740_352, "delta": 0,
                                      "relative": 0.0}  # fmt: skip
    assert len(data["layers"]) == 30  # 1 conv + 13 x (dw, pw) + pool + flatten + fc
    assert {r["status"] for r in data["layers"]} == {"same"}
    assert all(r["flops"] is None for r in data["layers"])
    table = run("fv.json", "mobilenet.yaml")
    assert (table.exit_code, table.stderr) == (0, note)
    assert "Layers: 30 unchanged; every layer costs the same." in table.stdout
    assert " ".join(table.stdout.split()).endswith(  # piped: the note wraps at 80 columns
        "FLOPs not compared: the old side counts them with the 'fvcore' convention, the new "
        "side with 'default'."
    )
    markdown = run("fv.json", "mobilenet.yaml", "-f", "markdown").stdout
    assert "Layers: 30 unchanged." in markdown
    assert "FLOPs" not in markdown.split("Layers:")[0]  # no FLOPs row in the totals
    # Counting the spec the way the report did makes FLOPs comparable again.
    same = run("fv.json", "mobilenet.yaml", "-f", "json", "--convention", "fvcore")
    assert (same.exit_code, same.stderr) == (0, "")
    assert json.loads(same.stdout)["totals"]["flops"]["delta"] == 0


def test_markdown_keeps_a_name_with_a_line_break_on_one_line() -> None:
    Path("odd.yaml").write_text(NEW.replace("name: small", 'name: "two\\nlines | here"'))
    lines = run("old.yaml", "odd.yaml", "-f", "markdown").stdout.splitlines()
    assert lines[0] == "### sepcalc diff: small (old.yaml) → two lines | here (odd.yaml)"
    assert lines[2] == "| | old | new | change | % |"


@settings(max_examples=15, deadline=None)
@given(
    a=st.sampled_from([Fraction(1, 4), Fraction(1, 2), Fraction(3, 4), Fraction(1)]),
    b=st.sampled_from([Fraction(1, 4), Fraction(1, 2), Fraction(3, 4), Fraction(1)]),
    ra=st.sampled_from([128, 160, 192, 224]),
    rb=st.sampled_from([128, 160, 192, 224]),
)
def test_total_change_is_the_sum_of_layer_changes(
    a: Fraction, b: Fraction, ra: int, rb: int
) -> None:
    old = Snapshot.of(analyze(build_graph(MOBILENET, {"alpha": a, "resolution": ra})))
    new = Snapshot.of(analyze(build_graph(MOBILENET, {"alpha": b, "resolution": rb})))
    d = diff(old, new)
    for field in FIELDS:
        assert d.totals[field].delta == sum(row.changes[field].delta for row in d.layers)
    same = (a, ra) == (b, rb)
    assert all(row.status is LayerStatus.SAME for row in d.layers) is same
    assert (d.increased() == ()) is (d.totals["macs"].delta <= 0 and d.totals["params"].delta <= 0
                                     and d.totals["activations"].delta <= 0)  # fmt: skip


# --- a saved report on stdin -----------------------------------------------------------------


def test_a_report_on_stdin_is_read_as_a_report() -> None:
    report = CliRunner().invoke(app, ["analyze", "old.yaml", "-f", "json"]).stdout
    result = CliRunner().invoke(app, ["diff", "-", "new.yaml", "-f", "json"], input=report)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    # old: 216 + 128 + 64 = 408 weights; new: 216 + 32 + 16 = 264 (derivations above)
    assert (data["totals"]["params"]["old"], data["totals"]["params"]["new"]) == (408, 264)
    assert data["old"]["source"] == "<stdin>"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"schema_version": 1, "totals": {', "error: <stdin>:1:34: invalid JSON: Expecting"),
        ('{"schema_version": null, "totals": {}}', "error: <stdin>: not a sepcalc analyze "
         "report: its schema_version is null; this sepcalc reads version 1 (re-create the report "
         "with this version); create one with `sepcalc analyze SPEC --format json > report.json`"),
    ],
    ids=["broken-json", "null-version"],
)  # fmt: skip
def test_a_bad_report_on_stdin_is_exit_2(text: str, message: str) -> None:
    result = CliRunner().invoke(app, ["diff", "-", "new.yaml"], input=text)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(message)


def test_a_search_space_is_one_error_naming_space() -> None:
    space = (ROOT / "examples" / "spaces" / "ofa_mobilenet_v3.yaml").read_text()
    Path("space.yaml").write_text(space)
    result = run("space.yaml", "new.yaml")
    assert (result.exit_code, result.stdout) == (2, "")
    # line 40: stage1's call, whose first choice is its repeat (15 choices: 5 stages x 3)
    assert result.stderr == (
        "space.yaml:40:6: layers.2.repeat: a choice: this file is a search space (15 choices), "
        "not one network; give each choice one value to get one network; `sepcalc space count "
        "space.yaml` (or best, sample, pareto, distribution) answers over all of them\n"
        "1 error in spec\n"
    )


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("analyze", "space.yaml:40:6: layers.2.repeat: a choice: this file is a search space"),
        ("check", "space.yaml:40:6: layers.2.repeat: a choice: this file is a search space"),
        ("formula", "error: space.yaml is a search space, and formula takes a layer kind"),
    ],
    ids=["analyze", "check", "formula"],
)
def test_other_commands_refuse_a_space_once(command: str, message: str) -> None:
    Path("space.yaml").write_text(
        (ROOT / "examples" / "spaces" / "ofa_mobilenet_v3.yaml").read_text()
    )
    result = CliRunner().invoke(app, [command, "space.yaml"])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "sepcalc space count space.yaml" in result.stderr
    assert "expected an integer" not in result.stderr  # no cascade of per-field errors


def test_device_file_errors_are_counted_in_the_device_file() -> None:
    Path("dev.yaml").write_text("name: d\ntitle: x\npeak: {fp32: 1}\nbandwidth: 2\n")
    result = CliRunner().invoke(app, ["analyze", "old.yaml", "--device", "dev.yaml"])
    assert result.exit_code == 2
    assert result.stderr.endswith("2 errors in device file dev.yaml\n")
