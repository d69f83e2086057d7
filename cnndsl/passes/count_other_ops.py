"""The operations besides conv/linear MACs, by kind (bias, norm, act, pool, add), from the op table.

cnndsl's own convention, tool-independent: one count per elementary operation at inference
(a bias add, a BN scale or shift, an activation, an element of a pooling window, a merge add).
See docs/costs.md for the definition of each kind."""
from __future__ import annotations

from ..ir import Graph, Node
from ..ops import Shape
from ..ops.base import OTHER_OPS
from .per_layer import per_layer

_KINDS = frozenset(OTHER_OPS)


def count_other_ops(graph: Graph) -> None:
    for node, ops in per_layer(graph, _other_ops):
        node.meta["other_ops"] = dict(ops)  # each node its own dict: equal layers share `ops`


def _other_ops(node: Node, ins: list[Shape]) -> dict[str, int]:
    ops = node.opdef.other_ops(node.attrs, ins, node.shape)
    assert _KINDS.issuperset(ops), f"{node.op}: unknown kinds {set(ops) - _KINDS}"
    return {k: v for k, v in ops.items() if v}
