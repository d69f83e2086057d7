"""Rewrite rules: plain functions that simplify a freshly elaborated graph in place, each in its own
file (as sqlglot's optimizer rules). They run once, at the end of elaboration, in this order, so
every pass, view and lowering sees the same graph: what the analysis counts is what runs."""
from __future__ import annotations

from ..ir import Graph
from .eliminate_dead import eliminate_dead
from .eliminate_noops import eliminate_noops

RULES = (eliminate_noops, eliminate_dead)


def rewrite(graph: Graph) -> Graph:
    for rule in RULES:
        rule(graph)
    return graph


__all__ = ["RULES", "rewrite", "eliminate_noops", "eliminate_dead"]
