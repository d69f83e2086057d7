"""Leave out the layers that return their input unchanged.

A dropout of p=0, an `identity`, a merge of one input, a drop-path that always survives, or a
stride-1 zero-padding shortcut that pads nothing compute nothing; a person would not write them as
modules, and they cost a copy or a call. The op table says which (`OpDef.noop`). Their users read
their input instead."""
from __future__ import annotations

from ..ir import Graph


def eliminate_noops(graph: Graph) -> None:
    for node in list(graph.ops()):
        if node.opdef.noop(node.attrs, graph.input_shapes(node)):
            graph.bypass(node.id)
