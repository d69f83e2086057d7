"""Rules that give a layer a value only the whole network determines.

Stochastic depth's linear decay (Huang et al. 2016, Eq. 4) gives the l-th of L drop-path layers
the survival probability 1 - l/L (1 - p_L); L is known only once the network is built, so the
elaborator creates those layers with the rule and this pass, run at the end of elaboration,
numbers them in execution order and writes the probability into each one's attributes."""
from __future__ import annotations

from dataclasses import replace

from ..ir import Graph
from ..ops.paths import LinearDecay


def resolve_schedules(graph: Graph) -> None:
    scheduled = [n for n in graph.ops() if n.op == "droppath" and isinstance(n.attrs.survive, LinearDecay)]
    total = len(scheduled)
    for l, node in enumerate(scheduled, 1):
        rule = node.attrs.survive
        node.attrs = replace(node.attrs, survive=rule.at(l, total), rule=f"{rule}, {l} of {total}")
