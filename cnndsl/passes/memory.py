"""Activation memory, for a batch size and dtype, from the op table's `saved` and `view` facts.

Training: the bytes of the tensors autograd keeps for the backward pass (what
`torch.autograd.graph.saved_tensors_hooks` sees, parameters and buffers left out), each tensor
once however many ops keep it. An op keeps nothing when no input and no parameter of it requires a
gradient (the network input does not). Each kept tensor is charged to the layer that made it; the
input image, when kept, to the input node.

Inference: the tensors alive while each layer runs (the layer's inputs and everything still needed
later, plus its new output), with lifetimes from the liveness pass (`passes/liveness.py`): a value
is freed after its last use, or when the block it was passed into returns; network inputs and
outputs live throughout. Views (flatten, identity, dropout in evaluation) and in-place layers share
their input's memory. The peak is the largest of these; memory that an op needs only inside its
own computation (workspaces, the temporaries of LRN or `mean`) is not in it.

Writes `meta["memory"] = {"output_bytes", "saved_bytes", "live_bytes"}` on op and input nodes.
"""
from __future__ import annotations

import math
from collections.abc import Callable

from ..ir import Graph

DTYPES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}
Size = Callable[[str], int]  # node id -> bytes of its value


def activation_memory(graph: Graph) -> None:
    """The pass: memory for one float32 sample into `meta["memory"]`. Needs the liveness pass
    (and count_params) first."""
    memory = _computed(graph, 1, "float32")
    for node in graph:
        if node.kind != "output":
            node.meta["memory"] = memory[node.id]


def memory_by_node(graph: Graph, batch: int = 1, dtype: str = "float32") -> dict[str, dict[str, int]]:
    """{input or op node: {"output_bytes", "saved_bytes", "live_bytes"}} for `batch` samples of
    `dtype`, without changing the graph: what the pass wrote where that is what is asked (the
    report asks for it again; a second computation was a fifth of `compile`'s passes), else
    computed."""
    values = [n for n in graph if n.kind != "output"]
    if (batch, dtype) == (1, "float32") and all("memory" in n.meta for n in values):
        return {n.id: n.meta["memory"] for n in values}
    return _computed(graph, batch, dtype)


def _computed(graph: Graph, batch: int, dtype: str) -> dict[str, dict[str, int]]:
    itemsize = DTYPES[dtype]
    nbytes = {n.id: math.prod(n.shape) * batch * itemsize for n in graph}  # asked for several times each
    size: Size = nbytes.__getitem__
    saved, freed = _saved_for_backward(graph, batch, itemsize, size), _freed_by_step(graph, size)
    live = sum(size(k) for k in graph.inputs)  # the bytes alive, layer after layer
    out: dict[str, dict[str, int]] = {}
    for node in graph:  # one walk and one dict per value: a large file has a hundred thousand
        if node.kind == "output":
            continue
        own = node.meta["base"][False] == node.id  # a view or an in-place layer adds no memory
        memory = out[node.id] = {"output_bytes": nbytes[node.id] if own else 0,
                                 "saved_bytes": saved.get(node.id, 0), "live_bytes": 0}
        if node.kind == "op":  # alive while it runs: its inputs, what is still needed, its output
            live += memory["output_bytes"]
            memory["live_bytes"] = live
            live -= freed.get(node.meta["step"], 0)
    return out


def _saved_for_backward(graph: Graph, batch: int, itemsize: int, size: Size) -> dict[str, int]:
    requires_grad: set[str] = set()  # the values that need a gradient (no network input does)
    kept: dict[object, tuple[str, int]] = {}  # tensor -> (layer charged, bytes)
    for node in graph.ops():
        if node.meta["params"] == 0 and requires_grad.isdisjoint(node.inputs):
            continue  # autograd records nothing for this op
        requires_grad.add(node.id)
        ins = graph.input_shapes(node)
        for k, s in enumerate(node.opdef.saved(node.attrs, ins, node.shape)):
            if s.for_grad_of is not None and node.inputs[s.for_grad_of] not in requires_grad:
                continue
            if s.what == "own":
                n = s.elements * (batch if s.per_sample else 1) * (s.itemsize or itemsize)
                kept[(node.id, k)] = (node.id, n)
            else:
                b = graph[node.inputs[s.index] if s.what == "input" else node.id].meta["base"][True]
                kept[b] = (b, size(b))
    charged: dict[str, int] = {}
    for layer, n in kept.values():
        charged[layer] = charged.get(layer, 0) + n
    return charged


def _freed_by_step(graph: Graph, size: Size) -> dict[int, int]:
    """The bytes released when each step is done: each base's, at the last step any value of it
    is alive."""
    dies: dict[str, int] = {}  # base -> the last step during which some value of it is alive
    for node in graph:
        if node.kind != "output":
            b, step = node.meta["base"][False], node.meta["free_after"]
            if step > dies.get(b, -1):
                dies[b] = step
    freed: dict[int, int] = {}
    for b, step in dies.items():
        freed[step] = freed.get(step, 0) + size(b)
    return freed
