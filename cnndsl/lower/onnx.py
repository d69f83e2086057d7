"""Graph IR -> ONNX: the compiled module, exported with a dynamic batch dimension.

Static shapes are the compiler's advantage: where a layer is not exportable as PyTorch writes it,
the exporter gets an equivalent form chosen from the known shapes. An adaptive average pool whose
output size does not divide its input (GoogLeNet's auxiliary heads pool 14x14 to 4x4, with
overlapping windows) has no ONNX operator; it is the same as multiplying by a fixed averaging matrix
on each side (rows @ x @ cols), which ONNX runs as two MatMuls.
"""
from __future__ import annotations

import copy
import math
import warnings
from pathlib import Path

import torch
from torch import nn

from ..ir import Graph
from .torch_module import to_module


class AveragingMatrices(nn.Module):
    """`nn.AdaptiveAvgPool2d(out)` on an `in`-sized map, as rows @ x @ cols: row i of `rows` holds
    1/len over the input rows of output row i's window (PyTorch's windows: floor(i*n/o) to
    ceil((i+1)*n/o)), and likewise for columns."""

    def __init__(self, size_in: tuple[int, int], size_out: tuple[int, int]):
        super().__init__()
        self.register_buffer("rows", _averaging(size_in[0], size_out[0]), persistent=False)
        self.register_buffer("cols", _averaging(size_in[1], size_out[1]).t().contiguous(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(torch.matmul(self.rows, x), self.cols)


def _averaging(n: int, o: int) -> torch.Tensor:
    m = torch.zeros(o, n)
    for i in range(o):
        lo, hi = (i * n) // o, math.ceil((i + 1) * n / o)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


def exportable(module: nn.Module, graph: Graph) -> nn.Module:
    """`module` with every layer ONNX cannot take replaced by its equivalent (in place)."""
    for node in graph.ops():
        if node.op in ("adaptive_avgpool", "gap"):
            (_, h, w), (_, oh, ow) = graph[node.inputs[0]].shape, node.shape
            if h % oh or w % ow:
                module.set_submodule(node.id, AveragingMatrices((h, w), (oh, ow)))
    return module


def export_onnx(graph: Graph, path: Path, opset: int = 17, module: nn.Module | None = None) -> None:
    """Export `module` (a compiled network of `graph`, with its weights; a fresh one by default),
    leaving it as it was."""
    module = exportable(copy.deepcopy(module) if module is not None else to_module(graph), graph).eval()
    example = torch.randn(2, *module.input_shape)
    outputs = list(module.output_names)
    name = "input" if "input" not in outputs else "images"
    batch = {0: "batch"}
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated, but the dynamo one needs onnxscript, and both give
        # the same graph for these modules.
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (example,), str(path), input_names=[name], output_names=outputs,
                          dynamic_axes={name: batch, **{o: batch for o in outputs}},
                          opset_version=opset, dynamo=False)
