"""Static analysis passes: plain functions that read the graph and write into each node's `meta`."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from ..ir import Graph
from .conventions import CONVENTIONS, count_conventions
from .count_macs import count_macs
from .count_other_ops import count_other_ops
from .count_params import count_params
from .liveness import liveness
from .memory import DTYPES, activation_memory, memory_by_node
from .receptive_field import receptive_field

DEFAULT_PASSES = (count_params, count_macs, count_other_ops, count_conventions, liveness, activation_memory,
                  receptive_field)


def run_passes(graph: Graph, passes: Iterable[Callable[[Graph], None]] = DEFAULT_PASSES) -> Graph:
    for p in passes:
        p(graph)
    return graph


__all__ = ["run_passes", "liveness", "count_params", "count_macs", "count_other_ops", "count_conventions",
           "activation_memory", "memory_by_node", "receptive_field", "CONVENTIONS", "DTYPES", "DEFAULT_PASSES"]
