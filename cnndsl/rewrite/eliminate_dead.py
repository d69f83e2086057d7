"""Leave out the layers whose result reaches no output, and say so.

A named tensor that nothing uses (`... as t` and no `t -> ...`, no `output t`) or a branch cut
off by an edit would otherwise be counted in parameters and MACs and built as modules that never
run. Each group of such layers is dropped with one warning, at the layer that ends it."""
from __future__ import annotations

from ..diagnostics import Diagnostic
from ..ir import Graph, Node
from ..source import Span


def eliminate_dead(graph: Graph) -> None:
    live = set(graph.outputs)
    for node in reversed(list(graph)):
        if node.id in live:
            live.update(node.inputs)
    dead = [n for n in graph.ops() if n.id not in live]
    first = len(graph.warnings)
    for node in reversed(dead):  # users before the layers they read
        if not graph.users(node.id):
            _warn_if_end(graph, node, dead)
        graph.remove(node.id)
    graph.warnings[first:] = sorted(graph.warnings[first:], key=lambda d: (d.span.line, d.span.column)
                                    if d.span is not None else (0, 0))  # in the order of the text


def _warn_if_end(graph: Graph, node: Node, dead: list[Node]) -> None:
    """One warning per dead group: at a layer that nothing reads at all (the end of a chain); when
    that layer's result was named (`... as aux`), at the name, which is what nothing uses."""
    if any(node.id in other.inputs for other in dead):
        return
    group = _upstream(graph, node.id, {n.id for n in dead})
    count = len(group)
    layers = f"it and the {count - 1} layer{'s' * (count != 2)} before it" if count > 1 else "it"
    names: list[tuple[str, Span]] = node.meta.get("names", [])
    if names:
        name, where = names[-1]
        graph.warnings.append(Diagnostic(
            f"`{name}` (line {where.line}) reaches no output of `{graph.name}`, so {layers} are left out",
            where, severity="warning", details=[f"`{name}` is the result of `{node.id}`"],
            help=f"use it (`{name} -> ...`), list it in `output`, or delete it"))
        return
    read = [f"`{n}` (line {w.line})" for i in group if i != node.id for n, w in graph[i].meta.get("names", [])]
    graph.warnings.append(Diagnostic(
        f"the result of `{node.id}` reaches no output of `{graph.name}`, so {layers} are left out",
        node.span, severity="warning",
        details=[f"it reads the named tensor{'s' * (len(read) > 1)} {', '.join(read)}"] if read else [],
        help="use it (`name -> ...`), list it in `output`, or delete it"))


def _upstream(graph: Graph, start: str, dead: set[str]) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for i in graph[stack.pop()].inputs:
            if i in dead and i not in seen:
                seen.add(i)
                stack.append(i)
    return seen
