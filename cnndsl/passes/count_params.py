"""Parameters (trainable) and buffers (BN running statistics) of every op node, from the op table."""
from __future__ import annotations

from ..ir import Graph
from ..ops.base import zero


def count_params(graph: Graph) -> None:
    for node in graph.ops():
        op = node.opdef
        if op.params is zero and op.buffers is zero:  # an op without weights: no shapes to read
            node.meta["params"], node.meta["buffers"] = 0, 0
            continue
        ins, out = graph.input_shapes(node), node.shape
        node.meta["params"] = op.params(node.attrs, ins, out)
        node.meta["buffers"] = op.buffers(node.attrs, ins, out)
