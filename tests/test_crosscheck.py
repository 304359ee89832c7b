"""Every example spec against fvcore and torch's FlopCounterMode, and the exported module.

Needs the torch extra (skipped without it). New specs in examples/ are picked up by the glob.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("fvcore")

import torch

from sepcalc.analysis import analyze
from sepcalc.cli import app
from sepcalc.conventions import FVCORE, TORCH
from sepcalc.crosscheck.build import plan
from sepcalc.crosscheck.compare import compare
from sepcalc.crosscheck.count import count_fvcore, count_torch
from sepcalc.crosscheck.export import render_module
from sepcalc.graph import INPUT, Graph, build_graph
from sepcalc.spec import load_spec
from tests.conftest import EXAMPLES, graph_of

pytestmark = pytest.mark.torch

SPECS = sorted(EXAMPLES.glob("*.yaml"))
IDS = [p.stem for p in SPECS]


def graph(path: Path) -> Graph:
    return build_graph(load_spec(path))


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_example_matches_fvcore(path: Path) -> None:
    g = graph(path)
    count = count_fvcore(g)
    check = compare(analyze(g, FVCORE), count)
    assert check.differing == ()
    assert count.flops == analyze(g, FVCORE).totals.flops
    assert count.params == g.total().params
    assert check.unattributed == 0


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_example_matches_flop_counter_mode(path: Path) -> None:
    g = graph(path)
    count = count_torch(g)
    check = compare(analyze(g, TORCH), count)
    assert check.differing == ()
    # FlopCounterMode counts 2 FLOPs per multiply-accumulate of conv and matmul, nothing else.
    assert count.flops == 2 * g.total().macs
    assert count.params == g.total().params
    assert count.shapes == {n.name: tuple(n.output_shape) for n in g.nodes}


def test_mobilenet_v1_figures_from_both_tools() -> None:
    g = graph(EXAMPLES / "mobilenet_v1.yaml")
    # 568,740,352 MACs (Table 1 derivation in test_mobilenet_v1.py)
    # + BatchNorm in eval, 2 FLOPs per element of every conv output:
    #   conv1 32*112^2 = 401,408; dws1 dw 401,408 + pw 802,816; dws2 200,704 + 401,408;
    #   dws3 401,408 + 401,408; dws4 100,352 + 200,704; dws5 200,704 + 200,704;
    #   dws6 50,176 + 100,352; dws7-11 5 * (100,352 + 100,352); dws12 25,088 + 50,176;
    #   dws13 50,176 + 50,176: 5,042,688 elements, 10,085,376 FLOPs
    # + global pool: 1,024 * 7 * 7 = 50,176 input elements.
    assert count_fvcore(g).flops == 568_740_352 + 10_085_376 + 50_176 == 578_875_904
    assert count_torch(g).flops == 2 * 568_740_352
    assert count_torch(g).params == 4_231_976


def exported(g: Graph, source: str = "spec.yaml") -> tuple[dict[str, Any], str]:
    p = plan(g)
    namespace: dict[str, Any] = {"__name__": "exported"}
    exec(compile(render_module(p, source), "exported.py", "exec"), namespace)  # our own output
    return namespace, p.name


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_exported_module_has_sepcalcs_params_and_shape(path: Path) -> None:
    g = graph(path)
    namespace, name = exported(g)
    with torch.device("meta"):  # no weights allocated
        model = namespace[name]().eval()
        out = model(torch.empty(1, *namespace["INPUT_SHAPE"]))
    assert sum(p.numel() for p in model.parameters()) == g.total().params
    assert tuple(out.shape[1:]) == tuple(g.output_shape)


def test_exported_module_is_standalone_and_runs() -> None:
    g = graph(EXAMPLES / "mobilenet_v1.yaml")
    namespace, name = exported(g)
    source = render_module(plan(g), "spec.yaml")
    assert "sepcalc" not in source.split('"""', 2)[2]  # nothing of ours past the docstring
    assert "import torch\nfrom torch import nn\n" in source
    model = namespace[name]().eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 224, 224)).shape == (1, 1000)


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_cli_crosscheck_agrees() -> None:
    result = run("crosscheck", str(EXAMPLES / "mobilenet_v1.yaml"))
    assert result.exit_code == 0, result.output
    assert "fvcore FlopCountAnalysis vs sepcalc: agree" in result.stdout
    assert "FLOPs under convention fvcore: fvcore FlopCountAnalysis: 1 per MAC" in result.stdout
    assert "578,875,904" in result.stdout  # fvcore's total (derived above)
    assert "1,137,480,704" in result.stdout  # FlopCounterMode's: 2 * 568,740,352


def test_cli_crosscheck_differs_under_another_convention() -> None:
    result = run(
        "crosscheck", str(EXAMPLES / "mobilenet_v1.yaml"), "--tool", "torch",
        "--convention", "default", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["agrees"] is False
    (tool,) = data["tools"]
    assert tool["convention"]["name"] == "default"
    differing = {layer["name"] for layer in tool["layers"] if not layer["agrees"]}
    # Every conv carries BN and ReLU (counted by default, not by torch); pool, flatten, FC
    # bias: the FC's 1,000 bias adds and the pool's 50,176 adds differ too.
    assert {"conv1", "dws1.dw", "dws13.pw", "pool", "fc"} <= differing
    assert "flatten1" not in differing


def test_cli_crosscheck_table_shows_where() -> None:
    result = run(
        "crosscheck", str(EXAMPLES / "mobilenet_v1.yaml"), "-t", "fvcore", "--convention", "paper"
    )
    assert result.exit_code == 1
    assert "DIFFER" in result.stdout
    assert "Layers that differ" in result.stdout
    assert "dws1.dw" in result.stdout


def test_cli_crosscheck_lists_operators_fvcore_does_not_count() -> None:
    result = run(
        "crosscheck", str(EXAMPLES / "mobilenet_v1.yaml"), "-t", "fvcore", "--format", "json"
    )
    assert result.exit_code == 0
    layers = {layer["name"]: layer for layer in json.loads(result.stdout)["tools"][0]["layers"]}
    # TF 'same' at stride 2 pads (0, 1): an explicit pad, which fvcore has no formula for.
    assert layers["conv1"]["uncounted_ops"] == {"aten::pad": 1}
    assert layers["dws1.dw"]["uncounted_ops"] == {}  # relu is on fvcore's ignore list
    assert layers["conv1"]["tool_flops"] == 10_838_016 + 2 * 32 * 112 * 112  # conv + BN


def test_cli_export_prints_the_module() -> None:
    path = EXAMPLES / "mobilenet_v1.yaml"
    result = run("export", "torch", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == render_module(plan(graph(path)), str(path))
    assert f"class {plan(graph(path)).name}(nn.Module):" in result.stdout


# Hostile strings: each one would run print("PWNED") if pasted into the source unescaped, whether
# into the docstring (quotes, a newline), a statement or a line of its own.
PAYLOADS = [
    'x""";print("PWNED");""".yaml',
    "x\nprint('PWNED')\n.yaml",
    'x\\""" + print("PWNED") + """',
    "x\r\nprint('PWNED') #\u2028é",
]
PAYLOAD_IDS = ["triple-quote", "newline", "backslash-quote", "crlf-unicode"]
SMALL = """
input: {channels: 3, size: 8}
layers:
  - {kind: conv, out: 4, kernel: 3, name: c1}
  - {kind: relu, name: r1}
  - {kind: add, inputs: [c1, r1], name: sum}
"""


@pytest.mark.parametrize("payload", PAYLOADS, ids=PAYLOAD_IDS)
def test_cli_export_escapes_a_hostile_file_name(
    payload: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / payload.replace("/", "_")
    spec.write_text(SMALL)
    result = run("export", "torch", str(spec))
    assert result.exit_code == 0, result.output
    namespace: dict[str, Any] = {"__name__": "exported"}
    exec(compile(result.stdout, "exported.py", "exec"), namespace)  # the file under test
    assert capsys.readouterr().out == ""  # the payload did not run
    # The docstring reads back the file name exactly, on one line of the source.
    assert f"from {spec}. Input: (N, 3, 8, 8)." in namespace["__doc__"]
    assert len(result.stdout.split('"""', 2)[1].splitlines()) == 3


@pytest.mark.parametrize("payload", PAYLOADS, ids=PAYLOAD_IDS)
def test_exported_module_escapes_hostile_network_and_layer_names(
    payload: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Names are set on the built graph, so the test holds whatever names the spec accepts.
    g = graph_of(SMALL, tmp_path)
    renamed = {INPUT: INPUT, **{n.name: payload + n.name for n in g.nodes}}
    nodes = tuple(
        dataclasses.replace(n, name=renamed[n.name], inputs=tuple(renamed[i] for i in n.inputs))
        for n in g.nodes
    )
    hostile = dataclasses.replace(g, name=payload, nodes=nodes)
    namespace, name = exported(hostile, payload)
    assert capsys.readouterr().out == ""
    assert name.isidentifier()
    assert payload in namespace["__doc__"]
    model = namespace[name]().eval()
    assert sum(p.numel() for p in model.parameters()) == 4 * 3 * 3 * 3  # conv weight, no bias
    assert model(torch.zeros(1, 3, 8, 8)).shape == (1, 4, 8, 8)  # padding "same" by default


def test_render_module_refuses_what_is_not_an_identifier_or_a_literal() -> None:
    from sepcalc.crosscheck.export import literal
    from sepcalc.crosscheck.plan import LayerPlan, ModulePlan
    from sepcalc.formulas.torchplan import Call

    bad_attr = LayerPlan("n", "relu", "a; print(1)", Call("ReLU"), ("x",))
    with pytest.raises(ValueError, match="not a Python identifier: 'a; print\\(1\\)'"):
        render_module(ModulePlan("Net", (3, 8, 8), (bad_attr,)), "spec.yaml")
    with pytest.raises(ValueError, match="not a Python identifier: 'class'"):
        render_module(ModulePlan("class", (3, 8, 8)), "spec.yaml")
    with pytest.raises(TypeError, match="cannot write a object as a Python literal"):
        literal(object())
    assert literal(float("nan")) == 'float("nan")'
    assert literal(-float("inf")) == 'float("-inf")'
    assert literal(("a'\"\n",)) == "('a\\'\"\\n',)"


def test_cli_crosscheck_table_at_80_columns_keeps_numbers_whole() -> None:
    args = ["crosscheck", str(EXAMPLES / "mobilenet_v2.yaml"), "-t", "fvcore", "--layers",
            "--convention", "paper"]  # fmt: skip
    result = CliRunner().invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code == 1  # paper counts no BatchNorm: it differs from fvcore
    out = result.stdout
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    (tool,) = json.loads(run(*args[:-3], "--convention", "paper", "-f", "json").stdout)["tools"]
    for layer in tool["layers"]:
        for key in ("flops", "tool_flops", "params", "tool_params"):
            assert f" {layer[key]:,} " in out or f" {layer[key]:,}\n" in out, (layer["name"], key)
