"""Static analysis passes: plain functions that read the graph and write into each node's `meta`."""
from __future__ import annotations

from ..ir import Graph
from .count_macs import count_macs
from .count_params import count_params

DEFAULT_PASSES = (count_params, count_macs)


def run_passes(graph: Graph, passes=DEFAULT_PASSES) -> Graph:
    for p in passes:
        p(graph)
    return graph


__all__ = ["run_passes", "count_params", "count_macs", "DEFAULT_PASSES"]
