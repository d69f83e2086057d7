"""The facts a counting convention may read about one layer, and the table-keyed rule helper."""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

from ...ops import Lowering, Shape


class Facts(NamedTuple):
    """What a convention may know about one layer."""
    op: str
    attrs: Any
    ins: list[Shape]
    out: Shape
    macs: int  # conv/linear multiply-accumulates (op table `macs`)
    bias: int  # bias additions (op table `other_ops["bias"]`)
    params: int
    lowering: Lowering

    @property
    def cls(self) -> str:
        return self.lowering.cls


Rule = Callable[[Facts], int]


def by_class(table: dict[str, Rule]) -> Rule:
    """A convention from a table keyed by the lowering's class; absent classes count 0."""
    def count(f: Facts) -> int:
        rule = table.get(f.cls)
        return int(rule(f)) if rule else 0
    count.table = table  # type: ignore[attr-defined]
    return count
