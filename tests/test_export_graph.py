"""`sepcalc export dot|mermaid`: the network's graph, one node per layer, blocks as clusters.

Checked as a reader of the file would: the DOT parses (pydot's grammar; Graphviz renders it to
SVG where `dot` is installed), and both formats carry every layer once, every edge, the
clusters of the block instances, and each layer's kind, output shape and MACs.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pydot
import pytest
import yaml
from typer.testing import CliRunner

from sepcalc.analysis import analyze
from sepcalc.cli import app
from sepcalc.conventions import get_convention
from sepcalc.graph import build_graph
from sepcalc.report.graph import _mermaid_text
from sepcalc.spec import load_spec

# pydot's parser still calls pyparsing's camelCase names
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
NETS = ["mobilenet_v2", "shufflenet_v2_x1_0", "s3d"]


def export(fmt: str, name: str) -> str:
    result = CliRunner().invoke(app, ["export", fmt, f"zoo:{name}"])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _layers(name: str) -> list[tuple[str, tuple[str, ...]]]:
    graph = build_graph(load_spec(ROOT / "examples" / f"{name}.yaml"), {})
    return [(r.name, r.inputs) for r in analyze(graph, get_convention("default")).layers]


@pytest.mark.parametrize("name", NETS)
def test_dot_parses_with_every_layer_and_edge(name: str) -> None:
    (graph,) = pydot.graph_from_dot_data(export("dot", name))
    layers = _layers(name)

    def nodes(g: pydot.Graph) -> list[str]:
        own = [n.get_name().strip('"') for n in g.get_nodes()]
        return own + [n for sub in g.get_subgraphs() for n in nodes(sub)]

    declared = [n for n in nodes(graph) if n not in ("node", "edge", "graph")]
    assert sorted(declared) == sorted(["input", *(n for n, _ in layers)])
    edges = {(e.get_source().strip('"'), e.get_destination().strip('"')) for e in graph.get_edges()}
    assert edges == {(i, n) for n, inputs in layers for i in inputs}


def test_dot_labels_and_clusters() -> None:
    text = export("dot", "mobilenet_v2")
    # conv1: 3x3x3 weights x 32 filters x 112x112 outputs = 10,838,016 MACs
    assert '"conv1" [label="conv1\\nconv 32x112x112\\n10.84M MACs"' in text
    assert '"cluster_stage2.bottleneck1"' in text
    # stage2: 29,202,432 + 25,740,288 MACs (its two bottlenecks)
    assert 'label="stage2: 54.94M MACs"' in text
    assert 'fillcolor="#f28e2b"' in text  # depthwise orange
    assert "300,774,272 MACs" in text  # the title: the network's total


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")
def test_graphviz_renders_the_dot_to_svg(tmp_path: Path) -> None:
    source = tmp_path / "net.dot"
    source.write_text(export("dot", "shufflenet_v2_x1_0"))
    done = subprocess.run(["dot", "-Tsvg", str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    svg = ET.fromstring(done.stdout)
    texts = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert "channel_shuffle 116x28x28" in texts


@pytest.mark.parametrize("name", NETS)
def test_mermaid_has_every_layer_edge_and_cluster(name: str) -> None:
    text = export("mermaid", name)
    lines = text.splitlines()
    assert (lines[0], lines[2], lines[3]) == ("---", "---", "flowchart TB")
    assert lines[1].startswith("title: ")
    layers = _layers(name)
    nodes = re.findall(r'^\s+(n\d+|input)\["', text, re.MULTILINE)
    assert len(nodes) == len(set(nodes)) == len(layers) + 1
    edges = re.findall(r"^\s+(\w+) --> (\w+)$", text, re.MULTILINE)
    assert len(edges) == sum(len(inputs) for _, inputs in layers)
    opened = len(re.findall(r"^\s+subgraph s\d+\[", text, re.MULTILINE))
    assert opened == len(re.findall(r"^\s+end$", text, re.MULTILINE)) > 0
    used = set(re.findall(r":::(\w+)$", text, re.MULTILINE))
    assert used == set(re.findall(r"^\s+classDef (\w+) ", text, re.MULTILINE))


def test_mermaid_labels() -> None:
    text = export("mermaid", "mobilenet_v1")
    assert '["conv1<br/>conv 32x112x112<br/>10.84M MACs"]:::k_conv' in text
    assert 'title: "MobileNetV1: input 3x224x224, 4,231,976 params, 568,740,352 MACs"' in text


NASTY = 'Net "q": [a] {b} #1 #quot; &amp; <br/> `md` café ☃ 😀 back\\slash\nline2 - x: y'
"""A network name with what YAML, DOT and Mermaid read: quotes, colons, brackets, ``#`` and an
entity code, HTML, a backtick, unicode (an emoji beyond the BMP), a backslash, a line break."""


def _nasty_spec(tmp_path: Path) -> Path:
    spec = tmp_path / "nasty.yaml"
    spec.write_text(
        f"name: {json.dumps(NASTY, ensure_ascii=False)}\ninput: {{channels: 3, size: 8}}\n"
        "blocks: {b: {params: [out], layers: [{kind: conv, out: out, kernel: 1}]}}\n"
        "layers:\n  - {kind: conv, out: 8, kernel: 3}\n  - {block: b, out: 8, name: st-1}\n",
        encoding="utf-8",
    )
    return spec


# conv1 (no bias): 3*3*3*8 = 216 params, 3*3*3 * 8*8*8 = 13,824 MACs; st-1.conv1: 8*8 = 64
# params, 8 * 8*8*8 = 4,096 MACs: 280 params, 17,920 MACs
TITLE = f"{NASTY}: input 3x8x8, 280 params, 17,920 MACs"


def test_mermaid_front_matter_is_yaml_whatever_the_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["export", "mermaid", str(_nasty_spec(tmp_path))])
    assert result.exit_code == 0, result.stderr
    front, body = result.stdout.removeprefix("---\n").split("---\n", 1)
    assert yaml.safe_load(front) == {"title": TITLE}
    assert body.startswith("flowchart TB\n")


def test_dot_parses_whatever_the_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["export", "dot", str(_nasty_spec(tmp_path))])
    assert result.exit_code == 0, result.stderr
    (graph,) = pydot.graph_from_dot_data(result.stdout)

    def unquote(text: str) -> str:
        """A DOT double-quoted label as Graphviz shows it (``\\n`` a line break)."""
        assert text[0] == text[-1] == '"'
        return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], text[1:-1])

    assert unquote(graph.get_name()) == NASTY
    assert unquote(graph.get_graph_defaults()[0]["label"]) == TITLE
    assert [s.get_name() for s in graph.get_subgraphs()] == ['"cluster_st-1"']


def _mermaid_shown(label: str) -> str:
    """A Mermaid label as Mermaid shows it: ``#<n>;`` and ``#<name>;`` are entity codes."""
    assert '"' not in label
    lines = label.split("<br/>")
    assert all("<" not in line and ">" not in line and "`" not in line for line in lines)
    decode = re.compile(r"#(\d+|\w+);")
    return "\n".join(
        decode.sub(lambda m: chr(int(m[1])) if m[1].isdigit() else html.unescape(f"&{m[1]};"), line)
        for line in lines
    )


@pytest.mark.parametrize("text", [NASTY, "", "plain", "a\tb\x07c\u2028d", "#35;"], ids=repr)
def test_mermaid_labels_show_the_text(text: str) -> None:
    shown = text.replace("\u2028", "\n")  # a line break, as every other
    assert _mermaid_shown(_mermaid_text(text)) == shown


@pytest.mark.parametrize("fmt", ["dot", "mermaid"])
def test_a_bad_spec_is_exit_2(fmt: str, tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("input: {channels: 3, size: 8}\nlayers:\n  - {kind: convv, out: 8}\n")
    result = CliRunner().invoke(app, ["export", fmt, str(spec)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert f"{spec}:3:12: layers.0.kind: unknown layer kind 'convv'" in result.stderr
