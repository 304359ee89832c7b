"""The network as a picture of its graph: Graphviz DOT and Mermaid text, no dependency.

One node per layer (its name, kind, output shape and MACs), filled with its kind's colour, an
edge per input, and each block instance a cluster (a subgraph) named by its instance, as
Netscope drew Caffe nets. Rendering only: the rows and their costs come from the analysis.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sepcalc.analysis import Analysis, LayerRow
from sepcalc.report.numbers import grouped, shape, si

KIND_COLOURS: dict[str, str] = {
    "conv": "#8cb3dd",
    "conv_transpose": "#8cb3dd",
    "depthwise": "#f28e2b",
    "pointwise": "#e15759",
    "separable": "#ff9d9a",
    "linear": "#76b7b2",
    "attention": "#b07aa1",
    "squeeze_excite": "#edc948",
    "batchnorm": "#bab0ac",
    "layernorm": "#bab0ac",
    "groupnorm": "#bab0ac",
    "layer_scale": "#bab0ac",
    "add": "#59a14f",
    "mul": "#59a14f",
    "concat": "#8cd17d",
    "maxpool": "#9c755f",
    "avgpool": "#9c755f",
    "global_avg_pool": "#9c755f",
    "adaptive_avg_pool": "#9c755f",
    "upsample": "#d4a6c8",
}
"""Fill colours by kind (Tableau 10, light enough for black text): convolutions blue,
depthwise orange, pointwise red, merges green, pooling brown; any other kind (activations,
reshapes) light grey."""
OTHER = "#e8e8e8"
INPUT = "#ffffff"


def colour(kind: str) -> str:
    return KIND_COLOURS.get(kind, OTHER)


@dataclass
class Cluster:
    """A block instance: its full name, its layers and the instances nested in it."""

    name: str
    layers: list[LayerRow] = field(default_factory=list)
    children: dict[str, Cluster] = field(default_factory=dict)

    def macs(self) -> int:
        own: int = sum(r.counts.macs for r in self.layers)
        return own + sum(c.macs() for c in self.children.values())


def clusters(rows: Sequence[LayerRow]) -> Cluster:
    """The block instances of ``rows``, nested: a layer at level L belongs to the instance
    named by the first L-1 parts of its name (``stage2.bottleneck1.dw`` at level 3)."""
    root = Cluster("")
    for row in rows:
        node = root
        parts = row.name.split(".")
        for depth in range(1, min(row.level, len(parts))):
            name = ".".join(parts[:depth])
            node = node.children.setdefault(name, Cluster(name))
        node.layers.append(row)
    return root


def _kinds(rows: Sequence[LayerRow]) -> list[str]:
    return sorted({r.kind for r in rows})


def _title(analysis: Analysis) -> str:
    t = analysis.totals
    return (
        f"{analysis.name}: input {shape(analysis.input_shape)}, {grouped(t.params)} params, "
        f"{grouped(t.macs)} MACs"
    )


# --- Graphviz DOT ------------------------------------------------------------------------------


def _quote(text: str) -> str:
    """A DOT double-quoted string (a line break in ``text`` stays one, as ``\\n``)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    return '"' + lines.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _layer_label(row: LayerRow) -> str:
    """Its own name (within its block), kind, output shape and MACs (where it has any)."""
    short = row.name.rsplit(".", 1)[-1]
    macs = f"\n{si(row.counts.macs)} MACs" if row.counts.macs else ""
    return f"{short}\n{row.kind} {shape(row.output_shape)}{macs}"


def render_dot(analysis: Analysis) -> str:
    """The network as a Graphviz digraph: ``dot -Tsvg net.dot > net.svg``."""
    lines = [
        f"digraph {_quote(analysis.name)} {{",
        f"  graph [label={_quote(_title(analysis))}, labelloc=t, fontname=Helvetica, "
        "rankdir=TB, nodesep=0.25, ranksep=0.3];",
        '  node [shape=box, style="rounded,filled", fontname=Helvetica, fontsize=10];',
        "  edge [arrowsize=0.6];",
        f'  input [label={_quote("input " + shape(analysis.input_shape))}, fillcolor="{INPUT}"];',
    ]

    def cluster(node: Cluster, indent: str) -> Iterator[str]:
        for row in node.layers:
            yield (
                f"{indent}{_quote(row.name)} [label={_quote(_layer_label(row))}, "
                f'fillcolor="{colour(row.kind)}", tooltip={_quote(row.name)}];'
            )
        for child in node.children.values():
            label = f"{child.name.rsplit('.', 1)[-1]}: {si(child.macs())} MACs"
            yield f"{indent}subgraph {_quote('cluster_' + child.name)} {{"
            yield (
                f"{indent}  label={_quote(label)}; labeljust=l; style=rounded; "
                'color="#888888"; fontsize=10;'
            )
            yield from cluster(child, indent + "  ")
            yield f"{indent}}}"

    lines += cluster(clusters(analysis.layers), "  ")
    for row in analysis.layers:
        for source in row.inputs:
            lines.append(f"  {_quote(source)} -> {_quote(row.name)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- Mermaid -----------------------------------------------------------------------------------


MERMAID_ENTITIES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;"}
"""Characters a Mermaid label cannot hold as they are: ``#`` starts an entity code, a quote
ends the label, ``<``, ``>`` and ``&`` are HTML, a backtick starts a Markdown string."""


def _mermaid_text(text: str) -> str:
    """Text inside a Mermaid ``["..."]`` label: line breaks as ``<br/>``, and entity codes for
    the characters Mermaid reads and for what is not printable."""
    return "<br/>".join(
        "".join(MERMAID_ENTITIES.get(c, c if c.isprintable() else f"#{ord(c)};") for c in line)
        for line in text.splitlines()
    )


def _yaml_string(text: str) -> str:
    """A YAML double-quoted scalar of ``text`` (the front matter's title): what is not
    printable, and YAML's own line breaks, escaped; every other character as it is."""
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif c.isprintable() and c != "\ufeff":
            out.append(c)
        elif ord(c) < 0x100:
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")
    return '"' + "".join(out) + '"'


def render_mermaid(analysis: Analysis) -> str:
    """The network as a Mermaid flowchart (GitHub and GitLab render it in Markdown)."""
    ids = {"input": "input"} | {r.name: f"n{i}" for i, r in enumerate(analysis.layers)}
    kinds = _kinds(analysis.layers)
    lines = [
        "---",
        f"title: {_yaml_string(_title(analysis))}",
        "---",
        "flowchart TB",
        f'  input["{_mermaid_text("input " + shape(analysis.input_shape))}"]:::input',
    ]
    counter = iter(range(10**9))

    def cluster(node: Cluster, indent: str) -> Iterator[str]:
        for row in node.layers:
            label = _mermaid_text(_layer_label(row))
            yield f'{indent}{ids[row.name]}["{label}"]:::k_{row.kind}'
        for child in node.children.values():
            label = f"{child.name.rsplit('.', 1)[-1]}: {si(child.macs())} MACs"
            yield f'{indent}subgraph s{next(counter)}["{_mermaid_text(label)}"]'
            yield from cluster(child, indent + "  ")
            yield f"{indent}end"

    lines += cluster(clusters(analysis.layers), "  ")
    for row in analysis.layers:
        for source in row.inputs:
            lines.append(f"  {ids[source]} --> {ids[row.name]}")
    lines.append(f"  classDef input fill:{INPUT},stroke:#333")
    lines += [f"  classDef k_{k} fill:{colour(k)},stroke:#333,color:#000" for k in kinds]
    return "\n".join(lines) + "\n"
