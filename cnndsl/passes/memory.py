"""Activation memory, for a batch size and dtype, from the op table's `saved` and `view` facts.

Training: the bytes of the tensors autograd keeps for the backward pass (what
`torch.autograd.graph.saved_tensors_hooks` sees, parameters and buffers left out), each tensor
once however many ops keep it. An op keeps nothing when no input and no parameter of it requires a
gradient (the network input does not). Each kept tensor is charged to the layer that made it; the
input image, when kept, to the input node.

Inference: the tensors alive while each layer runs (the layer's inputs and everything still needed
later, plus its new output), freeing each value after its last use as `CompiledNetwork` does; the
input is held by the caller throughout and the outputs to the end. Views (flatten, identity,
dropout in evaluation) share their input's memory. The peak is the largest of these; memory that
an op needs only inside its own computation (workspaces, the temporaries of LRN or `mean`) is not
in it.

Writes `meta["memory"] = {"output_bytes", "saved_bytes", "live_bytes"}` on op and input nodes.
"""
from __future__ import annotations

import math

from ..ir import Graph

DTYPES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}


def activation_memory(graph: Graph, batch: int = 1, dtype: str = "float32") -> None:
    itemsize = DTYPES[dtype]
    for node in graph:
        if node.kind != "output":
            node.meta["memory"] = {"output_bytes": 0, "saved_bytes": 0, "live_bytes": 0}
    size = lambda node_id: math.prod(graph[node_id].shape) * batch * itemsize  # noqa: E731
    for node_id, nbytes in _saved_for_backward(graph, batch, itemsize, size).items():
        graph[node_id].meta["memory"]["saved_bytes"] = nbytes
    base = _bases(graph, training=False)
    for node in graph:
        if node.kind != "output" and base[node.id] == node.id:
            node.meta["memory"]["output_bytes"] = size(node.id)
    for node_id, nbytes in _live(graph, base, size).items():
        graph[node_id].meta["memory"]["live_bytes"] = nbytes


def _bases(graph: Graph, training: bool) -> dict[str, str]:
    """The node whose memory each value is: itself, or for a view the base of its input."""
    base: dict[str, str] = {}
    for node in graph:
        if node.kind == "input":
            base[node.id] = node.id
        elif node.kind == "op":
            base[node.id] = base[node.inputs[0]] if node.opdef.view(node.attrs, training) else node.id
    return base


def _saved_for_backward(graph: Graph, batch: int, itemsize: int, size) -> dict[str, int]:
    base = _bases(graph, training=True)
    requires_grad = {i: False for i in graph.inputs}
    kept: dict[object, tuple[str, int]] = {}  # tensor -> (layer charged, bytes)
    for node in graph.ops():
        requires_grad[node.id] = node.meta["params"] > 0 or any(requires_grad[i] for i in node.inputs)
        if not requires_grad[node.id]:
            continue  # autograd records nothing for this op
        ins = [graph[i].shape for i in node.inputs]
        for k, s in enumerate(node.opdef.saved(node.attrs, ins, node.shape)):
            if s.what == "own":
                n = s.elements * (batch if s.per_sample else 1) * (s.itemsize or itemsize)
                kept[(node.id, k)] = (node.id, n)
            else:
                b = base[node.inputs[s.index] if s.what == "input" else node.id]
                kept[b] = (b, size(b))
    charged: dict[str, int] = {}
    for layer, n in kept.values():
        charged[layer] = charged.get(layer, 0) + n
    return charged


def _live(graph: Graph, base: dict[str, str], size) -> dict[str, int]:
    steps = list(graph.ops())
    forever = len(steps)
    last_use = {k: i for i, node in enumerate(steps) for k in node.inputs}
    kept = set(graph.inputs) | {graph[o].inputs[0] for o in graph.outputs}  # the caller holds the input
    dies: dict[str, int] = {}  # base -> the step after which no view of it is needed
    for k, b in base.items():
        end = forever if k in kept else last_use.get(k, forever)  # a value nothing uses is never freed
        dies[b] = max(dies.get(b, -1), end)
    live = {k: size(k) for k in graph.inputs}
    total = sum(live.values())
    out: dict[str, int] = {}
    for i, node in enumerate(steps):
        if base[node.id] == node.id:
            live[node.id] = size(node.id)
            total += live[node.id]
        out[node.id] = total
        for b in {base[k] for k in node.inputs}:
            if dies[b] == i:
                total -= live.pop(b)
    return out
