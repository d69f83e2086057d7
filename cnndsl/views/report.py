"""The analysis report: pydantic models (they cross the JSON boundary) and the text table."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ..ir import Graph, Node
from ..ops import fmt
from ..passes import CONVENTIONS, DTYPES, memory_by_node


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
    memory = memory_by_node(graph, batch, dtype)
    layers = [_layer(graph, n, memory) for n in graph.ops()]
    return Report(
        network=graph.name, file=graph.source, arguments=_jsonable(graph.params),
        params=sum(layer.params for layer in layers), buffers=sum(layer.buffers for layer in layers),
        macs=sum(layer.macs for layer in layers), flops=sum(layer.flops for layer in layers),
        inputs={graph[i].id: list(graph[i].shape) for i in graph.inputs},
        outputs={graph[o].meta["name"]: list(graph[o].shape) for o in graph.outputs},
        layers=layers,
        other_ops=_sum_dicts(layer.other_ops for layer in layers),
        conventions={name: sum(layer.conventions[name] for layer in layers) for name in CONVENTIONS},
        memory=_memory(graph, memory, batch, dtype),
        receptive_field={graph[o].meta["name"]: _rf(graph[o].meta["rf"]) for o in graph.outputs},
    )


def _layer(graph: Graph, node: Node, memory: dict[str, dict[str, int]]) -> LayerReport:
    return LayerReport(
        name=graph.qualname(node.id), op=node.op, label=node.opdef.label(node.attrs),
        category=node.opdef.category.value,
        inputs=[graph.qualname(i) for i in node.inputs], shape=list(node.shape), params=node.meta["params"],
        buffers=node.meta["buffers"], macs=node.meta["macs"], flops=node.meta["flops"],
        source=str(node.span), line=node.span.line if node.span else 0,
        scope=[f.label for f in node.scope if f.kind == "block"],
        attrs=node.attrs.to_json(),
        other_ops=node.meta["other_ops"], conventions=node.meta["conventions"],
        memory=LayerMemory(**memory[node.id]), rf=_rf(node.meta["rf"]),
    )


def _rf(field) -> ReceptiveField | None:
    if field is None:
        return None
    return ReceptiveField(size=list(field.size), stride=list(field.j), start=list(field.lo), exact=field.exact)


def _memory(graph: Graph, memory: dict[str, dict[str, int]], batch: int, dtype: str) -> MemoryReport:
    inputs = [memory[i] for i in graph.inputs]
    ops = [n.id for n in graph.ops()]
    peak = max(ops, key=lambda n: memory[n]["live_bytes"], default=None)
    return MemoryReport(
        batch=batch, dtype=dtype, itemsize=DTYPES[dtype],
        params_bytes=sum(graph[n].meta["params"] for n in ops) * DTYPES[dtype],
        input_bytes=sum(m["output_bytes"] for m in inputs),
        training_saved_bytes=sum(m["saved_bytes"] for m in memory.values()),
        inference_peak_bytes=memory[peak]["live_bytes"] if peak else sum(m["output_bytes"] for m in inputs),
        inference_peak_layer=graph.qualname(peak) if peak else "",
    )


def _sum_dicts(dicts) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (bool, int, float, str, list, dict)) else str(v) for k, v in values.items()}


def fmt_bytes(n: int) -> str:
    """Decimal units, as torchinfo and the papers print them."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def fmt_rf(rf: ReceptiveField | None) -> str:
    if rf is None:
        return ""
    size = str(rf.size[0]) if rf.size[0] == rf.size[1] else f"{rf.size[0]}x{rf.size[1]}"
    stride = str(rf.stride[0]) if rf.stride[0] == rf.stride[1] else f"{rf.stride[0]}x{rf.stride[1]}"
    return f"{size}/{stride}" + ("" if rf.exact else "~")


def format_table(report: Report, convention: str = "torchvision") -> str:
    """The per-layer table and the totals. The MACs column follows `convention` (see CONVENTIONS)."""
    count = (lambda layer: layer.macs) if convention == "torchvision" else (lambda layer: layer.conventions[convention])
    header = "MACs" if convention == "torchvision" else convention
    rows = [("layer", "op", "output", "params", header, "rf/stride", "saved", "source")]
    for layer in report.layers:
        saved = layer.memory.saved_bytes if layer.memory else 0
        rows.append((layer.name.split(".", 1)[1], layer.label, fmt(layer.shape), f"{layer.params:,}",
                     f"{count(layer):,}", fmt_rf(layer.rf), fmt_bytes(saved) if saved else "",
                     layer.source.rsplit(":", 1)[0]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    right = {3, 4, 5, 6}

    def line(r):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    out = [line(rows[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows[1:]]
    return "\n".join(out) + "\n\n" + format_totals(report, convention)


def format_totals(report: Report, convention: str = "torchvision") -> str:
    """The totals under the table, alone (`--totals`). Operations are per image whatever the batch;
    memory is for the batch."""
    batch = report.memory.batch if report.memory else 1
    per = "per image"
    ins = ", ".join(f"{k} {fmt(v)}" for k, v in report.inputs.items())
    outs = ", ".join(f"{k} {fmt(v)}" for k, v in report.outputs.items())
    out = [f"network   {report.network} ({report.file})", f"inputs    {ins}", f"outputs   {outs}",
           f"layers    {len(report.layers):,}",
           f"params    {report.params:,}  (+ {report.buffers:,} buffer elements)",
           f"MACs      {report.macs:,}  ({report.macs / 1e9:.3f} G, conv + linear, {per})",
           f"FLOPs     {report.flops:,}  (2 x MACs, {per})"]
    if report.other_ops:
        out.append("other ops " + ", ".join(f"{k} {v:,}" for k, v in report.other_ops.items()) + f"  ({per})")
    if report.conventions:
        out.append("tools     " + ", ".join(f"{k} {v:,}" for k, v in report.conventions.items())
                   + f"  (docs/costs.md; flop_counter in FLOPs, the others in MACs; {per})")
    if batch > 1:
        out.append(f"batch     {batch}: the operations above are per image (x{batch} for the batch), "
                   f"the memory below is for the batch")
    if report.memory:
        m = report.memory
        out.append(f"memory    training {fmt_bytes(m.training_saved_bytes)} saved for backward, inference peak "
                   f"{fmt_bytes(m.inference_peak_bytes)} at {m.inference_peak_layer}, "
                   f"params {fmt_bytes(m.params_bytes)}"
                   f" (batch {m.batch}, {m.dtype})")
    return "\n".join(out)
