"""Graph IR -> ONNX, through the PyTorch module and torch's exporter."""
from __future__ import annotations

import warnings
from pathlib import Path

from ..ir import Graph


def export_onnx(graph: Graph, path: Path, opset: int = 17) -> None:
    import torch

    from .torch_module import to_module
    module = to_module(graph).eval()
    example = torch.randn(1, *module.input_shape)
    names = module.output_names
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated, but the new one needs onnxscript and a tracer
        # that our interpreter loop gains nothing from; the legacy path gives the same graph.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(module, (example,), str(path), input_names=["input"], output_names=names,
                          opset_version=opset, dynamo=False)
