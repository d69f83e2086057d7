"""Leave out the layers whose result reaches no output, and say so.

A named tensor that nothing uses (`... as t` and no `t -> ...`, no `output t`) or a branch cut
off by an edit would otherwise be counted in parameters and MACs and built as modules that never
run. Each group of such layers is dropped with one warning, at the layer that ends it."""
from __future__ import annotations

from ..diagnostics import Diagnostic
from ..ir import Graph


def eliminate_dead(graph: Graph) -> None:
    live = set(graph.outputs)
    for node in reversed(list(graph)):
        if node.id in live:
            live.update(node.inputs)
    dead = [n for n in graph.ops() if n.id not in live]
    for node in reversed(dead):  # users before the layers they read
        if not graph.users(node.id):
            _warn_if_end(graph, node, dead)
        graph.remove(node.id)


def _warn_if_end(graph: Graph, node, dead) -> None:
    """One warning per dead group: at a layer that nothing reads at all (the end of a chain)."""
    if any(node.id in other.inputs for other in dead):
        return
    count = _count_upstream(graph, node.id, {n.id for n in dead})
    layers = f"it and the {count - 1} layer{'s' * (count != 2)} before it" if count > 1 else "it"
    graph.warnings.append(Diagnostic(
        f"the result of `{node.id}` reaches no output of `{graph.name}`, so {layers} are left out",
        node.span, severity="warning",
        help="use it (`name -> ...`), list it in `output`, or delete it"))


def _count_upstream(graph: Graph, start: str, dead: set[str]) -> int:
    seen, stack = {start}, [start]
    while stack:
        for i in graph[stack.pop()].inputs:
            if i in dead and i not in seen:
                seen.add(i)
                stack.append(i)
    return len(seen)
