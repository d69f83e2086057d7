"""Parameters (trainable) and buffers (BN running statistics) of every op node, from the op table."""
from __future__ import annotations

from ..ir import Graph


def count_params(graph: Graph) -> None:
    for node in graph.ops():
        ins = [graph[i].shape for i in node.inputs]
        node.meta["params"] = node.opdef.params(node.attrs, ins, node.shape)
        node.meta["buffers"] = node.opdef.buffers(node.attrs, ins, node.shape)
