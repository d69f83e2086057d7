"""Diagrams as graphviz DOT text, and through graphviz's `dot` program as SVG, PNG or PDF.

We write the DOT text ourselves (no graphviz Python package): it is a few dozen lines, keeps the
output byte-for-byte deterministic (golden-file tested) and lets `.dot` output work where graphviz
is not installed. Styling lives in the tables below: one palette entry per drawing category.
"""
from __future__ import annotations

import shutil
import subprocess
from html import escape as _escape
from pathlib import Path

from ..diagnostics import CnnDslError
from ..ir import Graph
from ..ops import Category
from .diagram import DEFAULT_OPTIONS, Box, Diagram, Item, Options, build_diagram

# drawing category (diagram.PALETTE_ORDER) -> (legend name, fill, border). Fills are light so black
# text stays readable in print; borders carry the hue so the categories stay apart in grey-scale
# too (they differ in lightness).
PALETTE: dict[str, tuple[str, str, str]] = {
    "io": ("input / output", "#e5e7eb", "#4b5563"),
    Category.CONV: ("convolution", "#cfe0f7", "#2f64a8"),
    Category.POOL: ("pooling", "#fde0c2", "#c0661a"),
    Category.NORM: ("normalization", "#fff0b0", "#a88600"),
    Category.ACT: ("activation", "#d5efcb", "#3f8a2e"),
    Category.LINEAR: ("fully connected", "#e6d8f2", "#6f4a9e"),
    Category.MERGE: ("merge", "#f7d0d0", "#b03a3a"),
    "other": ("other", "#ffffff", "#8a8a8a"),
    "block": ("block (collapsed)", "#f1f3f6", "#374151"),
}
FONT = "Helvetica"
FORMATS = {".dot": None, ".gv": None, ".svg": "svg", ".png": "png", ".pdf": "pdf"}
PNG_DPI = 300  # print quality; 96 dpi is a screen's size (`--dpi`)
INSTALL_HELP = ("install graphviz (Debian/Ubuntu: `apt-get install graphviz`; macOS: `brew install "
                "graphviz`; conda: `conda install -c conda-forge graphviz`), or write a `.dot` file and "
                "render it elsewhere")


def to_dot(graph: Graph, opts: Options = DEFAULT_OPTIONS, rankdir: str = "TB", legend: bool = True) -> str:
    return diagram_dot(build_diagram(graph, opts), rankdir, legend)


def diagram_dot(d: Diagram, rankdir: str = "TB", legend: bool = True) -> str:
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be TB or LR, got {rankdir!r}")
    lines = [
        f"digraph {_q(d.name)} {{",
        f"  graph [rankdir={rankdir}, fontname={_q(FONT)}, fontsize=12, nodesep=0.18, ranksep=0.22,"
        f" newrank=true, compound=true, pad=0.15, labelloc=t, labeljust=l"
        + (f",\n         label={_title(d)}];" if legend else "];"),  # a paper's caption replaces the title
        f"  node [shape=box, style=\"rounded,filled\", fontname={_q(FONT)}, fontsize=11,"
        f" height=0.3, margin=\"0.1,0.04\", penwidth=1.1];",
        f"  edge [fontname={_q(FONT)}, fontsize=9, color=\"#6b7280\", fontcolor=\"#4b5563\","
        f" arrowsize=0.6, penwidth=0.9];",
    ]
    for item in d.items:
        lines += _item(item, "  ")
    for boxes in d.same_rank:
        lines.append(f"  {{rank=same; {' '.join(_q(b) + ';' for b in boxes)}}}")
    said: set[tuple[str, str]] = set()
    lhead = _entries(d)
    seen: set[str] = set()
    merges = {b.id for b in _boxes(d.items) if b.category == "merge"}
    gated = _gated(d, merges)
    for e in d.edges:
        attrs = []
        if e.dst in gated and not _is_gate(e.label):  # the map runs straight through; its gate comes in from the side
            attrs.append("weight=8")
        elif e.src in seen and e.dst in merges:  # a shortcut leaves from the box's side, not curling over it
            attrs.append(f"tailport={'e' if rankdir == 'TB' else 's'}")
        seen.add(e.src)
        if (e.src, e.label) not in said:  # a tensor that feeds several boxes is labelled once
            attrs.append(f"label={_q(' ' + e.label)}")
        said.add((e.src, e.label))
        if (e.src, e.dst) in lhead:
            attrs.append(f"lhead={_q(lhead[e.src, e.dst])}")
        lines.append(f"  {_q(e.src)} -> {_q(e.dst)}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _is_gate(label: str) -> bool:
    return label.endswith("x1x1") or "x" not in label  # a Cx1x1 or C tensor


def _gated(d: Diagram, merges: set[str]) -> set[str]:
    """Merges that broadcast a per-channel gate over a map (`mul(identity | gap -> ... -> sigmoid)`)."""
    labels: dict[str, set[bool]] = {}
    for e in d.edges:
        if e.dst in merges:
            labels.setdefault(e.dst, set()).add(_is_gate(e.label))
    return {m for m, kinds in labels.items() if kinds == {True, False}}


def _item(item: Item, pad: str) -> list[str]:
    if isinstance(item, Box):
        return [pad + _box(item)]
    title = escape(item.title)
    if item.count > 1:
        title = f"{title}  <b>&#215;{item.count}</b>" if title else f"<b>&#215;{item.count}</b>"
    out = [f"{pad}subgraph {_q(item.id)} {{",
           f"{pad}  label=<{title}>; tooltip={_q(item.tooltip)};",
           f"{pad}  style=\"rounded,filled\"; fillcolor=\"{_cluster_fill(pad)}\"; color=\"#9ca3af\";"
           f" fontsize=11; fontcolor=\"#1f2937\"; margin=8; penwidth=1;"]
    if item.count > 1:  # (a nested cluster would inherit these, hence penwidth=1 on every one)
        out.append(f"{pad}  penwidth=1.6; style=\"rounded,filled,dashed\";")
    for inner in item.items:
        out += _item(inner, pad + "  ")
    out.append(pad + "}")
    return out


def _boxes(items: list[Item]) -> list[Box]:
    out: list[Box] = []
    for it in items:
        out += [it] if isinstance(it, Box) else _boxes(it.items)
    return out


def _entries(d: Diagram) -> dict[tuple[str, str], str]:
    """Edges that enter a cluster at one of its first boxes end at the cluster's border (`lhead`):
    the arrow then points at the block, and never runs through the block's title."""
    chain: dict[str, tuple[str, ...]] = {}

    def walk(items, outer):
        for it in items:
            if isinstance(it, Box):
                chain[it.id] = outer
            else:
                walk(it.items, outer + (it.id,))
    walk(d.items, ())
    fed_from_inside = {(c, e.dst) for e in d.edges for c in chain[e.src] if c in chain[e.dst]}
    out = {}
    for e in d.edges:
        entered = [c for c in chain[e.dst] if c not in chain[e.src]]
        if entered and (entered[0], e.dst) not in fed_from_inside:
            out[e.src, e.dst] = entered[0]
    return out


def _cluster_fill(pad: str) -> str:
    """Nested clusters alternate two near-white greys so their borders read without heavy lines."""
    return "#f6f7f9" if (len(pad) // 2) % 2 else "#ffffff"


def _box(b: Box) -> str:
    _, fill, border = PALETTE[b.category]
    rows = []
    if b.before:
        rows.append(f"<font point-size=\"9\" color=\"#4b5563\">{escape(', '.join(b.before))} &#9656;</font>")
    title = escape(b.title)
    if b.count > 1:
        title += f"  <b>&#215;{b.count}</b>"
    rows.append(title)
    if b.after:
        rows.append(f"<font point-size=\"9\" color=\"#4b5563\">+ {escape(', '.join(b.after))}</font>")
    if b.stats:
        rows.append(f"<font point-size=\"9\" color=\"#374151\">{escape(b.stats)}</font>")
    attrs = [f"label=<{'<br/>'.join(rows)}>", f"fillcolor=\"{fill}\"", f"color=\"{border}\"",
             f"tooltip={_q(b.tooltip)}"]
    if b.category == "block":
        attrs.append("penwidth=1.6")
    if b.count > 1:
        attrs.append("peripheries=2")
    return f"{_q(b.id)} [{', '.join(attrs)}];"


def _title(d: Diagram) -> str:
    head = f"<b>{escape(d.name)}</b>  <font point-size=\"10\" color=\"#4b5563\">{escape(d.subtitle)}</font>"
    chips = "".join(
        f"<td bgcolor=\"{PALETTE[c][1]}\" color=\"{PALETTE[c][2]}\" border=\"1\" cellpadding=\"3\">"
        f"<font point-size=\"9\">{escape(PALETTE[c][0])}</font></td>"
        for c in d.categories)
    return (f"<<table border=\"0\" cellborder=\"0\" cellspacing=\"4\" cellpadding=\"1\">"
            f"<tr><td align=\"left\" colspan=\"{max(1, len(d.categories))}\">{head}</td></tr>"
            f"<tr>{chips}</tr></table>>")


def escape(text: str) -> str:
    """Text for an HTML-like label, in ASCII: the DOT file stays plain ASCII, whatever the platform."""
    return _escape(text).encode("ascii", "xmlcharrefreplace").decode()


def _q(text: str) -> str:
    """A DOT double-quoted string. Newlines become `\\n`, which graphviz shows as line breaks."""
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + text + '"'


# ---------------------------------------------------------------- files
def write_diagram(dot_text: str, path: Path, fmt: str | None, dpi: int | None = None) -> None:
    """Write DOT text to `path`, or have `dot` render it there as svg/png/pdf (a PNG at `dpi`)."""
    if fmt is None:
        path.write_text(dot_text, encoding="utf-8")
        return
    exe = find_dot()
    args = [exe, f"-T{fmt}", "-o", str(path)]
    if fmt == "png":
        args.insert(1, f"-Gdpi={dpi or PNG_DPI}")
    try:
        done = subprocess.run(args, input=dot_text.encode(), capture_output=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise CnnDslError.from_message("graphviz `dot` took more than 10 minutes; try a smaller --depth") from None
    if done.returncode != 0:
        raise CnnDslError.from_message(
            f"graphviz `dot` failed (exit {done.returncode}): {done.stderr.decode(errors='replace').strip()}")


def find_dot() -> str:
    exe = shutil.which("dot")
    if exe is None:
        raise CnnDslError.from_message(f"drawing SVG, PNG or PDF needs graphviz's `dot`, which is not on PATH: "
                                       f"{INSTALL_HELP}")
    return exe


def format_of(path: str | Path) -> str | None:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise CnnDslError.from_message(
            f"cannot tell the diagram format from {str(path)!r}: use a name ending in "
            f"{', '.join(FORMATS)}")
    return FORMATS[suffix]
