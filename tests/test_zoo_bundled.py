"""The zoo inside the package: `sepcalc zoo`, `zoo:NAME` spec arguments, and `-` for stdin.

The figures are the published ones the zoo reproduces (docs/zoo.md): torchvision's model cards
give MobileNetV2 3,504,872 params and 0.30 GFLOPS (= 300,774,272 MACs, Sandler et al. 2018,
Table 3: 300M mult-adds) and ResNet-50 25,557,032 params.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sepcalc import zoo
from sepcalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.yaml"))


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_the_zoo_is_every_example() -> None:
    assert zoo.names() == EXAMPLES
    assert len(EXAMPLES) >= 13  # the 13 networks of docs/zoo.md


def test_listing_has_the_published_counts() -> None:
    code, out, _ = invoke("zoo", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["schema_version"] == 1
    specs = {s["spec"]: s for s in data["specs"]}
    assert list(specs) == [f"zoo:{n}" for n in EXAMPLES]
    assert specs["zoo:mobilenet_v2"]["params"] == 3_504_872
    assert specs["zoo:mobilenet_v2"]["macs"] == 300_774_272
    assert specs["zoo:resnet50"]["params"] == 25_557_032
    assert specs["zoo:s3d"]["input"] == {"channels": 3, "size": [16, 224, 224]}


def test_listing_table_names_each_spec() -> None:
    code, out, _ = invoke("zoo")
    assert code == 0
    for name in EXAMPLES:
        assert f"zoo:{name} " in out
    assert "3,504,872" in out  # MobileNetV2's params


def test_zoo_name_prints_the_spec_itself() -> None:
    code, out, _ = invoke("zoo", "mobilenet_v1")
    assert code == 0
    original = (ROOT / "examples" / "mobilenet_v1.yaml").read_text()
    # The same spec, its schema header naming the schema beside the copy.
    assert out.splitlines()[1:] == original.splitlines()[1:]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("zoo", "mobilenet_v9"), "no spec 'mobilenet_v9' in the zoo; did you mean"),
        (("analyze", "zoo:vgg17"), "zoo:vgg17: no spec 'vgg17' in the zoo; did you mean 'vgg16'?"),
        (("analyze", "zoo:xyz"), "the zoo has: convnext_tiny, efficientnet_b0"),
    ],
    ids=["zoo-command", "analyze-close", "analyze-far"],
)
def test_an_unknown_zoo_name_is_exit_2(args: tuple[str, ...], message: str) -> None:
    code, out, err = invoke(*args)
    assert (code, out) == (2, "")
    assert message in err


def _analysis(*args: str, stdin: str | None = None) -> dict[str, object]:
    code, out, err = invoke("analyze", *args, "-f", "json", stdin=stdin)
    assert code == 0, err
    data: dict[str, object] = json.loads(out)
    return data


def test_zoo_spec_analyses_as_the_file() -> None:
    assert _analysis("zoo:mobilenet_v2") == _analysis(str(ROOT / "examples/mobilenet_v2.yaml"))


def test_zoo_spec_takes_vars() -> None:
    half = _analysis("zoo:mobilenet_v1", "--set", "alpha=0.5")
    assert half == _analysis(str(ROOT / "examples/mobilenet_v1.yaml"), "--set", "alpha=0.5")
    # Howard et al. 2017, Table 6: 1.0 MobileNet-224 569M mult-adds, 0.50 MobileNet-224 150M
    assert half["totals"]["macs"] == 149_497_088  # type: ignore[index]


def test_dash_reads_the_spec_from_stdin() -> None:
    text = (ROOT / "examples/mobilenet_v1.yaml").read_text()
    assert _analysis("-", stdin=text) == _analysis(str(ROOT / "examples/mobilenet_v1.yaml"))


def test_stdin_errors_are_located_at_stdin() -> None:
    code, out, err = invoke("analyze", "-", stdin="name: x\ninput: {channels: 3, size: 8}\n")
    assert (code, out) == (2, "")
    assert "<stdin>:1:1: spec: missing required key 'layers'" in err


def test_stdin_keeps_the_size_limit_of_a_file() -> None:
    from sepcalc.spec.loader import MAX_SPEC_BYTES

    big = "input: {channels: 3, size: 8}\nlayers:\n" + "  - {kind: relu}\n" * 70_000
    assert len(big) > MAX_SPEC_BYTES
    code, out, err = invoke("analyze", "-", stdin=big)
    assert (code, out) == (2, "")
    assert f"<stdin>: the spec is larger than {MAX_SPEC_BYTES:,} bytes" in err


def test_check_reads_zoo_and_stdin_specs() -> None:
    text = (ROOT / "examples/mobilenet_v2.yaml").read_text()
    code, out, _ = invoke(
        "check", "zoo:mobilenet_v1", "-", "--max-macs", "569M", "-f", "json", stdin=text
    )
    assert code == 0
    specs = json.loads(out)["specs"]
    assert [(s["spec"], s["network"], s["status"]) for s in specs] == [
        ("zoo:mobilenet_v1", "MobileNetV1", "pass"),  # 568,740,352 MACs
        ("<stdin>", "MobileNetV2", "pass"),  # 300,774,272 MACs; named as its diagnostics name it
    ]


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(flag: str) -> None:
    from sepcalc import __version__

    code, out, _ = invoke(flag)
    assert (code, out) == (0, f"sepcalc {__version__}\n")


def test_shell_completes_zoo_names() -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "_SEPCALC_COMPLETE": "complete_bash",
        "COMP_WORDS": "sepcalc zoo mobilenet_v3",
        "COMP_CWORD": "2",
    }
    code = "import sys\nsys.argv = ['sepcalc']\nfrom sepcalc.cli import main\nmain()"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert done.stdout.split() == ["mobilenet_v3_large", "mobilenet_v3_small"]


def test_a_printed_zoo_spec_names_the_schema_beside_it() -> None:
    code, out, _ = invoke("zoo", "mobilenet_v2")
    assert code == 0
    first = out.splitlines()[0]
    assert first == "# yaml-language-server: $schema=spec.schema.json"
    assert "../docs/schemas" in (ROOT / "examples/mobilenet_v2.yaml").read_text().splitlines()[0]
