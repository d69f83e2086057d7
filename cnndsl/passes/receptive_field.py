"""Receptive field and output stride of every node, from the op table's `window` facts.

Per spatial axis, the standard recurrence (Araujo et al. 2019, "Computing receptive fields of
convolutional neural networks"), kept as an interval so that merges of branches with different
padding stay exact: position u of a node sees input pixels [lo + u*j, hi + u*j] (before clipping
to the image). A window (k, s, p, d) gives lo' = lo - p*j, hi' = hi + ((k-1)*d - p)*j, j' = j*s,
so the size r = hi - lo + 1 follows r' = r + (k-1)*d*j. Merges take the hull of their inputs.
Vectors (after flatten) see the hull of the whole map.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import Graph

Pair = tuple[int, int]


@dataclass(frozen=True)
class Field:
    lo: Pair  # first input row/column seen by output position (0, 0); may be negative (padding)
    hi: Pair  # last one
    j: Pair  # jump: input pixels between neighbouring output positions (the output stride)
    exact: bool = True  # False after adaptive pooling whose windows are not uniform

    @property
    def size(self) -> Pair:
        return (self.hi[0] - self.lo[0] + 1, self.hi[1] - self.lo[1] + 1)


def receptive_field(graph: Graph) -> None:
    """Write `meta["rf"]` (a `Field`, or None where the network input is not a CxHxW map)."""
    for node in graph:
        if node.kind == "input":
            node.meta["rf"] = Field((0, 0), (0, 0), (1, 1)) if len(node.shape) == 3 else None
            continue
        fields = [graph[i].meta["rf"] for i in node.inputs]
        if any(f is None for f in fields):
            node.meta["rf"] = None
            continue
        field = _hull(fields)
        if node.kind == "op":
            win = node.opdef.window(node.attrs, [graph[i].shape for i in node.inputs], node.shape)
            if win is not None:
                field = _through(field, win)
        node.meta["rf"] = field


def _hull(fields: list[Field]) -> Field:
    if len(fields) == 1:
        return fields[0]
    lo = tuple(min(f.lo[a] for f in fields) for a in (0, 1))
    hi = tuple(max(f.hi[a] for f in fields) for a in (0, 1))
    j = tuple(max(f.j[a] for f in fields) for a in (0, 1))
    same_j = all(f.j == fields[0].j for f in fields)
    return Field(lo, hi, j, all(f.exact for f in fields) and same_j)


def _through(f: Field, w) -> Field:
    lo = tuple(f.lo[a] - w.p[a] * f.j[a] for a in (0, 1))
    hi = tuple(f.hi[a] + ((w.k[a] - 1) * w.d[a] - w.p[a]) * f.j[a] for a in (0, 1))
    j = tuple(f.j[a] * w.s[a] for a in (0, 1))
    return Field(lo, hi, j, f.exact and w.exact)
