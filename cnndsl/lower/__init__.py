"""Lowering: the graph IR -> PyTorch (a module, standalone Python source, ONNX). Generating source
needs no torch; building a module or exporting ONNX imports it when called."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..ir import Graph


def to_source(graph: Graph) -> str:
    """The network as a standalone Python file that needs only torch."""
    from .python_source import to_source as generate
    return generate(graph)


def to_module(graph: Graph) -> Any:
    """The network as a `torch.nn.Module`."""
    from .torch_module import to_module as build
    return build(graph)


def export_onnx(graph: Graph, path: Path) -> None:
    from .onnx import export_onnx as export
    export(graph, path)


__all__ = ["to_source", "to_module", "export_onnx"]
