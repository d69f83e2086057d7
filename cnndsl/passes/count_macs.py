"""Multiply-accumulates of conv and linear layers (torchvision's "GFLOPS" convention, equal to
`FlopCounterMode` / 2); FLOPs are 2 x MACs. Other conventions are separate passes."""
from __future__ import annotations

from ..ir import Graph
from ..ops.base import zero


def count_macs(graph: Graph) -> None:
    for node in graph.ops():
        op = node.opdef  # an op whose row declares no MACs counts 0 without its shapes being read
        node.meta["macs"] = macs = 0 if op.macs is zero else op.macs(node.attrs, graph.input_shapes(node), node.shape)
        node.meta["flops"] = 2 * macs
