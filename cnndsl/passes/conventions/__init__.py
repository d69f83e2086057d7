"""Counting conventions: what each tool people use would report for a layer, computed statically.

A convention is a function `Facts -> int`, usually a table keyed by the PyTorch class a layer
lowers to (that is what the hook-based tools dispatch on), whose rows read the op table's facts
(MACs, bias adds, parameters, shapes). A layer whose class a table does not name counts 0, which
is what the tools do with modules and functions they do not know. One file per convention; every
quirk is explained beside its row and in docs/costs.md. All counts are for one sample (batch 1).
"""
from __future__ import annotations

from ...ir import Graph, Node
from . import flop_counter, fvcore, ptflops, torchinfo, torchvision
from .base import Facts, Rule, by_class

# name -> (rule, what it measures); the order is the order of reports
CONVENTIONS: dict[str, tuple[Rule, str]] = {
    "torchvision": (torchvision.count, torchvision.__doc__.splitlines()[0]),
    "flop_counter": (flop_counter.count, flop_counter.__doc__.splitlines()[0]),
    "torchinfo": (torchinfo.count, torchinfo.__doc__.splitlines()[0]),
    "fvcore": (fvcore.count, fvcore.__doc__.splitlines()[0]),
    "ptflops": (ptflops.count, ptflops.__doc__.splitlines()[0]),
}


def facts(graph: Graph, node: Node) -> Facts:
    ins = [graph[i].shape for i in node.inputs]
    return Facts(node.op, node.attrs, ins, node.shape, node.meta["macs"], node.meta["other_ops"].get("bias", 0),
                 node.meta["params"], node.opdef.lower(node.attrs, ins))


def count_conventions(graph: Graph) -> None:
    """Write `meta["conventions"] = {name: count}` on every op node. Needs count_params,
    count_macs and count_other_ops first."""
    for node in graph.ops():
        f = facts(graph, node)
        node.meta["conventions"] = {name: rule(f) for name, (rule, _) in CONVENTIONS.items()}


__all__ = ["CONVENTIONS", "Facts", "by_class", "count_conventions"]
