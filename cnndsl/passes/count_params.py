"""Parameters (trainable) and buffers (BN running statistics) of every op node, from the op table."""
from __future__ import annotations

from ..ir import Graph


def count_params(graph: Graph) -> None:
    for node in graph.ops():
        op, ins, out = node.opdef, graph.input_shapes(node), node.shape
        node.meta["params"] = op.params(node.attrs, ins, out)
        node.meta["buffers"] = op.buffers(node.attrs, ins, out)
