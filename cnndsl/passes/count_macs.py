"""Multiply-accumulates of conv and linear layers (torchvision's "GFLOPS" convention, equal to
`FlopCounterMode` / 2); FLOPs are 2 x MACs. Other conventions are separate passes."""
from __future__ import annotations

from ..ir import Graph


def count_macs(graph: Graph) -> None:
    for node in graph.ops():
        node.meta["macs"] = macs = node.opdef.macs(node.attrs, graph.input_shapes(node), node.shape)
        node.meta["flops"] = 2 * macs
