"""The facts a counting convention may read about one layer, and the base table every convention
overrides.

A convention is a table keyed by op name (a row of `cnndsl.ops.OPS`): what the tool counts for one
layer of that op. `BASE` counts 0 for every op, which is what the tools do with the modules and
functions they do not know; each tool's module overrides the entries it counts
(`TABLE = {**BASE, "conv": ..., "bn": ...}`), so a new op needs no line here unless a tool counts it.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ...ops import OPS, Shape


class Facts(NamedTuple):
    """What a convention may know about one layer: the op table's facts, nothing of its lowering."""

    op: str
    attrs: Any
    ins: list[Shape]
    out: Shape
    macs: int  # conv/linear multiply-accumulates (op table `macs`)
    bias: int  # bias additions (op table `other_ops["bias"]`)
    params: int


Rule = Callable[[Facts], int]
Table = Mapping[str, Rule]


def zero(f: Facts) -> int:
    return 0


def params(f: Facts) -> int:
    return f.params


BASE: dict[str, Rule] = {name: zero for name in OPS}


def count(table: Table, f: Facts) -> int:
    """The count of one layer under `table`; an op the table was built without counts 0."""
    return int(table.get(f.op, zero)(f))
