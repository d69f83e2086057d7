"""The analysis report's pydantic models: its JSON format (docs/report.schema.json) and what
`cnndsl.report()` returns. The data itself is built, written and tabled in `report_data`, which
the command line uses alone (no pydantic to import)."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ..ir import Graph
from .report_data import fmt_bytes, fmt_rf, format_table, format_totals, report_data


class ReceptiveField(BaseModel):
    """Per spatial axis [h, w]; see cnndsl/passes/receptive_field.py."""
    size: list[int]  # input pixels one output position sees
    stride: list[int]  # input pixels between neighbouring output positions (the output stride)
    start: list[int]  # first input row/column seen by position (0, 0); negative: in the padding
    exact: bool  # false after adaptive pooling with non-uniform windows (the largest window is used)


class LayerMemory(BaseModel):
    """Bytes for the report's batch and dtype; see cnndsl/passes/memory.py."""
    output_bytes: int  # the layer's new output tensor (0 for views: flatten, identity, eval dropout)
    saved_bytes: int  # training: this layer's output and own tensors that autograd keeps for backward
    live_bytes: int  # inference: activations alive while the layer runs (its inputs, its output, the rest needed later)


class LayerReport(BaseModel):
    name: str  # the network's name, then the layer's module path in the compiled PyTorch module
    op: str
    label: str
    category: str
    inputs: list[str]
    shape: list[int]
    params: int
    buffers: int
    macs: int
    flops: int
    source: str  # file:line:col of the `.arch` text that made it
    line: int
    scope: list[str]  # the block uses it sits in, outermost first
    attrs: dict[str, Any] = {}  # the op's attributes, e.g. a drop-path layer's survival probability
    other_ops: dict[str, int] = {}  # operations besides MACs by kind: bias, norm, act, pool, add
    conventions: dict[str, int] = {}  # this layer under each tool's counting convention (CONVENTIONS)
    memory: LayerMemory | None = None
    rf: ReceptiveField | None = None  # None where the network input is not a CxHxW map


class MemoryReport(BaseModel):
    batch: int
    dtype: str
    itemsize: int
    params_bytes: int  # trainable parameters in `dtype`
    input_bytes: int
    training_saved_bytes: int  # everything autograd keeps for backward in one training step (input included)
    inference_peak_bytes: int  # the most activation memory alive at once in inference (input included)
    inference_peak_layer: str


class Report(BaseModel):
    schema_version: int = 1
    network: str
    file: str | None
    arguments: dict[str, Any]
    params: int
    buffers: int
    macs: int
    flops: int
    inputs: dict[str, list[int]]
    outputs: dict[str, list[int]]
    layers: list[LayerReport]
    # the totals of the layers' fields of the same names
    other_ops: dict[str, int] = {}
    conventions: dict[str, int] = {}
    memory: MemoryReport | None = None
    receptive_field: dict[str, ReceptiveField | None] = {}  # per output


def build_report(graph: Graph, *, batch: int = 1, dtype: str = "float32") -> Report:
    """The report of an analysed graph; memory for `batch` samples of `dtype` (one of DTYPES)."""
    return Report.model_validate(report_data(graph, batch=batch, dtype=dtype))


__all__ = ["Report", "LayerReport", "LayerMemory", "MemoryReport", "ReceptiveField", "build_report", "fmt_bytes",
           "fmt_rf", "format_table", "format_totals"]
