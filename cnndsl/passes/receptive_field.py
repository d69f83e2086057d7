"""Receptive field and output stride of every node, from the op table's `window` facts.

Per spatial axis, the standard recurrence (Araujo et al. 2019, "Computing receptive fields of
convolutional neural networks"), kept as an interval so that merges of branches with different
padding stay exact: position u of a node sees input pixels [lo + u*j, hi + u*j] (before clipping
to the image). A window (k, s, p, d) gives lo' = lo - p*j, hi' = hi + ((k-1)*d - p)*j, j' = j*s,
so the size r = hi - lo + 1 follows r' = r + (k-1)*d*j. Merges take the hull of their inputs.
Vectors (after flatten) see the hull of the whole map. A 1x1 input broadcast over a larger map (a
squeeze-and-excitation gate into `mul`) gives every output position the same pixels: the hull
takes its extent but not its jump, and is marked inexact (an interval that moves with u cannot
hold a field that does not).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import Graph, Node
from ..ops.base import Window, pointwise

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
        field = _merged(graph, node)
        if field is None:
            node.meta["rf"] = None
            continue
        if node.kind == "op" and node.opdef.window is not pointwise:  # a pointwise op keeps the field
            win = node.opdef.window(node.attrs, graph.input_shapes(node), node.shape)
            if win is not None:
                field = _through(field, win)
        node.meta["rf"] = field


def _merged(graph: Graph, node: Node) -> Field | None:
    """The field of a node's inputs together (None where one has none). One input, most layers,
    passes its field on as it is."""
    if len(node.inputs) == 1:
        field: Field | None = graph[node.inputs[0]].meta["rf"]
        return field
    fields = [graph[i].meta["rf"] for i in node.inputs]
    if any(f is None for f in fields):
        return None
    return _hull(fields, [_broadcast(graph[i].shape, node.shape) for i in node.inputs])


def _broadcast(shape: tuple[int, ...], out: tuple[int, ...]) -> bool:
    return len(shape) == 3 and shape[1:] == (1, 1) and out[1:] != (1, 1)


def _hull(fields: list[Field], broadcast: list[bool]) -> Field:
    lo = (min(f.lo[0] for f in fields), min(f.lo[1] for f in fields))
    hi = (max(f.hi[0] for f in fields), max(f.hi[1] for f in fields))
    moving = [f for f, b in zip(fields, broadcast) if not b] or fields
    j = (max(f.j[0] for f in moving), max(f.j[1] for f in moving))
    same_j = all(f.j == moving[0].j for f in moving)
    return Field(lo, hi, j, all(f.exact for f in fields) and same_j and not any(broadcast))


def _through(f: Field, w: Window) -> Field:
    def axis(a: int) -> tuple[int, int, int]:
        lo = f.lo[a] - w.p[a] * f.j[a]
        hi = f.hi[a] + ((w.k[a] - 1) * w.d[a] - w.p[a]) * f.j[a]
        return lo, hi, f.j[a] * w.s[a]
    (lo_h, hi_h, j_h), (lo_w, hi_w, j_w) = axis(0), axis(1)
    lo, hi, j = (lo_h, lo_w), (hi_h, hi_w), (j_h, j_w)
    return Field(lo, hi, j, f.exact and w.exact)
