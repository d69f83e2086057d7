"""Op-table facts computed once per distinct layer.

A rule of the op table (`params`, `macs`, `other_ops`, `window`, ...) reads nothing but the op,
its attributes, its input shapes and its output shape. Elaboration gives equal layers one
attributes object (nodes.op_layer, add_op), so a network's layers fall into far fewer distinct
keys than it has nodes: a 100,000-layer chain of `relu` is one. The passes ask the table once per
key instead of once per node."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from ..ir import Graph, Node
from ..ops import Shape

T = TypeVar("T")
_MISSING = object()


def per_layer(graph: Graph, rule: Callable[[Node, list[Shape]], T]) -> Iterator[tuple[Node, T]]:
    """Each op node, in order, with `rule(node, its input shapes)`, computed for the first node of
    each distinct (op, attributes, output shape, input shapes). The attributes are keyed by
    identity: they are alive in the graph throughout, so no other object takes their id, and
    equal attributes in different objects only cost a second computation. A rule's result may be
    shared by many nodes: a mutable one is copied by the caller."""
    known: dict[tuple[object, ...], object] = {}
    for node in graph.ops():
        ins = graph.input_shapes(node)
        key = (node.op, id(node.attrs), node.shape, *ins)
        found = known.get(key, _MISSING)
        if found is _MISSING:
            found = known[key] = rule(node, ins)
        yield node, found  # type: ignore[misc]
