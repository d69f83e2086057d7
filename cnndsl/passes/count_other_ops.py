"""The operations besides conv/linear MACs, by kind (bias, norm, act, pool, add), from the op table.

cnndsl's own convention, tool-independent: one count per elementary operation at inference
(a bias add, a BN scale or shift, an activation, an element of a pooling window, a merge add).
See docs/costs.md for the definition of each kind."""
from __future__ import annotations

from ..ir import Graph
from ..ops.base import OTHER_OPS

_KINDS = frozenset(OTHER_OPS)


def count_other_ops(graph: Graph) -> None:
    for node in graph.ops():
        ops = node.opdef.other_ops(node.attrs, graph.input_shapes(node), node.shape)
        assert _KINDS.issuperset(ops), f"{node.op}: unknown kinds {set(ops) - _KINDS}"
        node.meta["other_ops"] = {k: v for k, v in ops.items() if v}
