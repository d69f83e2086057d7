"""Graph IR -> an executable `torch.nn.Module`: an interpreter that runs the op nodes in order."""
from __future__ import annotations

import torch
from torch import nn

from ..ir import Graph
from ..ops import Lowering
from . import torch_layers


def instantiate(lowering: Lowering) -> nn.Module:
    owner, name = lowering.cls.split(".")
    cls = getattr(nn if owner == "nn" else torch_layers, name)
    return cls(**lowering.kwargs)


def module_key(node_id: str) -> str:
    """nn.ModuleDict keys cannot contain dots."""
    return node_id.replace(".", "_")


class CompiledNetwork(nn.Module):
    """Runs the graph: one submodule per op node, values freed after their last use.

    Returns a tensor for a network with one output and a tuple, in `output` order, otherwise."""

    def __init__(self, graph: Graph):
        super().__init__()
        self.graph_name = graph.name
        self.input_shape = tuple(graph[graph.inputs[0]].shape)
        self.layers = nn.ModuleDict()
        self.output_names = [graph[o].meta["name"] for o in graph.outputs]
        keys: dict[str, str] = {i: i for i in graph.inputs}
        steps = []
        for node in graph.ops():
            key = module_key(node.id)
            assert key not in self.layers, f"duplicate module name {key}"
            ins = [graph[i].shape for i in node.inputs]
            self.layers[key] = instantiate(node.opdef.lower(node.attrs, ins))
            keys[node.id] = key
            steps.append((key, tuple(keys[i] for i in node.inputs)))
        self._outputs = tuple(keys[graph[o].inputs[0]] for o in graph.outputs)
        self._input = graph.inputs[0]
        last_use: dict[str, int] = {}
        for step, (_, ins) in enumerate(steps):
            for k in ins:
                last_use[k] = step
        keep = set(self._outputs)
        # After step i, drop the values no later step and no output needs (saves inference memory).
        self._steps = tuple((key, ins, tuple(k for k in set(ins) if last_use[k] == i and k not in keep))
                            for i, (key, ins) in enumerate(steps))

    def forward(self, x: torch.Tensor):
        values = {self._input: x}
        for key, ins, dead in self._steps:
            values[key] = self.layers[key](*(values[k] for k in ins))
            for k in dead:
                del values[k]
        outs = tuple(values[k] for k in self._outputs)
        return outs[0] if len(outs) == 1 else outs


def to_module(graph: Graph) -> CompiledNetwork:
    return CompiledNetwork(graph)
