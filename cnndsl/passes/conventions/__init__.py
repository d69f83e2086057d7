"""Counting conventions: what each tool people use would report for a layer, computed statically.

A convention is a table keyed by op name whose rules read the op table's facts (MACs, bias adds,
parameters, shapes, attributes): `base.BASE` counts 0 for every op, and each tool's module
overrides the ops that tool counts (as a SQL dialect overrides its generator's transforms). One
file per convention; every quirk is explained beside its row and in docs/costs.md. All counts are
for one sample (batch 1).
"""
from __future__ import annotations

from ...ir import Graph, Node
from ...ops import Shape
from ..per_layer import per_layer
from . import flop_counter, fvcore, ptflops, torchinfo, torchvision
from .base import BASE, Facts, Rule, Table, count


def _doc(module: object) -> str:
    return (module.__doc__ or "").splitlines()[0]


# name -> (table, what it measures); the order is the order of reports
CONVENTIONS: dict[str, tuple[Table, str]] = {
    "torchvision": (torchvision.TABLE, _doc(torchvision)),
    "flop_counter": (flop_counter.TABLE, _doc(flop_counter)),
    "torchinfo": (torchinfo.TABLE, _doc(torchinfo)),
    "fvcore": (fvcore.TABLE, _doc(fvcore)),
    "ptflops": (ptflops.TABLE, _doc(ptflops)),
}


def facts(node: Node, ins: list[Shape]) -> Facts:
    return Facts(node.opdef.name, node.attrs, ins, node.shape, node.meta["macs"],
                 node.meta["other_ops"].get("bias", 0), node.meta["params"])


def count_conventions(graph: Graph) -> None:
    """Write `meta["conventions"] = {name: count}` on every op node. Needs count_params,
    count_macs and count_other_ops first (what they wrote follows from the same key)."""
    for node, counts in per_layer(graph, _counts):
        node.meta["conventions"] = dict(counts)  # each node its own dict: equal layers share `counts`


def _counts(node: Node, ins: list[Shape]) -> dict[str, int]:
    f = facts(node, ins)
    return {name: count(table, f) for name, (table, _) in CONVENTIONS.items()}


__all__ = ["BASE", "CONVENTIONS", "Facts", "Rule", "Table", "count", "count_conventions"]
