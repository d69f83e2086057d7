"""What the language server knows about one document: the compiler's diagnostics and graphs for
its text, and indexes from source positions to graph nodes and block uses.

Nothing here depends on node names: nodes are found by their spans, block uses by the `use`
spans of their scope frames. Positions are 1-based (line, column), as in `cnndsl.source.Span`."""
from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ...api import check
from ...diagnostics import CnnDslError, Diagnostic
from ...ir import Frame, Graph, Node
from ...parser import parse
from ...source import SOURCES, Span

STDLIB = Path(__file__).resolve().parents[2] / "stdlib"
NETWORK = re.compile(r"^[ \t]*network\b", re.MULTILINE)


def real_path(display: str) -> Path:
    """The file a span's file name stands for (`<std>/x.arch` is the standard library's)."""
    return STDLIB / display[len("<std>/"):] if display.startswith("<std>/") else Path(display)


def contains(span: Span, line: int, column: int) -> bool:
    if (line, column) < (span.line, span.column):
        return False
    return (line, column) < (span.end_line, span.end_column)


def size(span: Span) -> tuple[int, int]:
    return span.end_line - span.line, span.end_column - span.column if span.end_line == span.line else 10**6


@dataclass
class Use:
    """One use of a block (a frame) and the nodes made inside it."""

    frame: Frame
    nodes: list[Node] = field(default_factory=list)
    graph: Graph | None = None


@dataclass
class Analysis:
    path: Path
    version: int
    graphs: list[Graph]
    diagnostics: list[Diagnostic]
    seconds: float
    started: int = 0  # the server's edit count when the check began (server.py: staleness)

    @property
    def ok(self) -> bool:
        return not self.diagnostics

    @cached_property
    def files_reached(self) -> set[str]:
        """Every file the analysis reached, by span file name."""
        names = {d.span.file for d in self.diagnostics if d.span}
        for graph in self.graphs:
            for node in graph:
                if node.span:
                    names.add(node.span.file)
                names.update(f.use.file for f in node.scope)
        return names

    @cached_property
    def _index(self) -> tuple[dict[str, list[tuple[Span, Node, Graph]]], dict[str, dict[tuple, Use]]]:
        layers: dict[str, list[tuple[Span, Node, Graph]]] = defaultdict(list)
        uses: dict[str, dict[tuple, Use]] = defaultdict(dict)
        for graph in self.graphs:
            for node in graph:
                if node.kind == "op" and node.span is not None:
                    layers[node.span.file].append((node.span, node, graph))
                for depth, frame in enumerate(node.scope):
                    if frame.kind == "block":
                        key = (id(graph), node.scope[: depth + 1])
                        use = uses[frame.use.file].setdefault(key, Use(frame, graph=graph))
                        use.nodes.append(node)
        return layers, uses

    def layers_at(self, file: str, line: int, column: int) -> list[tuple[Node, Graph]]:
        """The nodes of the innermost layer written at the position (one per use of its block)."""
        found = [(span, n, g) for span, n, g in self._index[0].get(file, ()) if contains(span, line, column)]
        if not found:
            return []
        best = min(size(span) for span, _, _ in found)
        return [(n, g) for span, n, g in found if size(span) == best]

    def uses_at(self, file: str, line: int, column: int) -> list[Use]:
        """The innermost block use written at the position (one per use of the block around it)."""
        found = [u for u in self._index[1].get(file, {}).values() if contains(u.frame.use, line, column)]
        if not found:
            return []
        best = min(size(u.frame.use) for u in found)
        return [u for u in found if size(u.frame.use) == best]

    def line_shapes(self, file: str) -> dict[int, list[tuple[int, ...]]]:
        """For each line of `file`, the shapes the chain has after it: the shape of the last node
        made by what the line writes (a layer, or a block used there), once per use."""
        last: dict[tuple[int, int, int], Node] = {}  # (line, graph, use) -> last node
        for g, graph in enumerate(self.graphs):
            for node in graph:
                for line, instance in _lines_of(node, file):
                    last[(line, g, instance)] = node
        out: dict[int, list[tuple[int, ...]]] = defaultdict(list)
        for (line, _, _), node in sorted(last.items(), key=lambda item: item[0][:2]):
            shape = tuple(node.meta.get("shape", ()))
            if shape not in out[line]:
                out[line].append(shape)
        return out


def _lines_of(node: Node, file: str) -> list[tuple[int, Any]]:
    """The lines of `file` a node belongs to: where it is written and where blocks it sits in
    are used; each with the block use around it, so that each use has its own shape."""
    found: list[tuple[int, Any]] = []
    outer: Any = None
    for depth, frame in enumerate(node.scope):
        if frame.kind == "block" and frame.use.file == file:
            found.append((frame.use.end_line, node.scope[:depth]))
        if frame.kind == "block":
            outer = node.scope[: depth + 1]
    if node.kind == "op" and node.span is not None and node.span.file == file:
        found.append((node.span.end_line, outer))
    return found


def analyse(path: Path, text: str, version: int) -> Analysis:
    """Check `text` as the contents of `path` (includes are read from disk, or from other
    unsaved buffers): every network of the file that can stand alone, as `cnndsl check` does."""
    SOURCES.set_unsaved(path, text)
    start = time.perf_counter()
    try:
        if not NETWORK.search(text):  # a library of blocks: its syntax here, its names where it is used
            parse(text, str(path))
            return Analysis(path, version, [], [], time.perf_counter() - start)
        graphs, diagnostics = check(path), []
    except CnnDslError as exc:
        graphs, diagnostics = [], exc.diagnostics
    except RecursionError:
        graphs, diagnostics = [], [Diagnostic("the file is nested too deeply to analyse", None)]
    return Analysis(path, version, graphs, diagnostics, time.perf_counter() - start)


def shape_text(shape: tuple[int, ...] | list[int]) -> str:
    return "x".join(str(d) for d in shape) if shape else "?"


def rf_text(node: Node) -> str | None:
    """The receptive field in input pixels and its stride, e.g. `35x35 /8`."""
    rf = node.meta.get("rf")
    if rf is None:
        return None
    size_ = getattr(rf, "size", None)
    stride = getattr(rf, "stride", None) or getattr(rf, "j", None)
    if size_ is None and hasattr(rf, "lo"):
        size_ = tuple(h - lo + 1 for lo, h in zip(rf.lo, rf.hi))
    if size_ is None:
        return None
    text = "x".join(str(s) for s in size_)
    return f"{text}, stride {'x'.join(str(s) for s in stride)}" if stride else text
