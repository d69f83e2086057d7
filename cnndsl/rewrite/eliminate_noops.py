"""Leave out the layers that return their input unchanged.

A dropout of p=0, an `identity`, a merge of one input, a drop-path that always survives, or a
stride-1 zero-padding shortcut that pads nothing compute nothing; a person would not write them as
modules, and they cost a copy or a call. The op table says which (`OpDef.noop`). Their users read
their input instead."""
from __future__ import annotations

from ..ir import Graph
from ..ops.base import does_something


def eliminate_noops(graph: Graph) -> None:
    for node in list(graph.ops()):
        noop = node.opdef.noop  # most ops declare none: their shapes need not be read
        if noop is not does_something and noop(node.attrs, graph.input_shapes(node)):
            graph.bypass(node.id)
