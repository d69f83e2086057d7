"""The analysis report: pydantic models (they cross the JSON boundary) and the text table."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ..ir import Graph
from ..ops import fmt


class LayerReport(BaseModel):
    name: str
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


def build_report(graph: Graph) -> Report:
    layers = [_layer(graph, n) for n in graph.ops()]
    return Report(
        network=graph.name, file=graph.source, arguments=_jsonable(graph.params),
        params=sum(layer.params for layer in layers), buffers=sum(layer.buffers for layer in layers),
        macs=sum(layer.macs for layer in layers), flops=sum(layer.flops for layer in layers),
        inputs={graph[i].id: list(graph[i].shape) for i in graph.inputs},
        outputs={graph[o].meta["name"]: list(graph[o].shape) for o in graph.outputs},
        layers=layers,
    )


def _layer(graph: Graph, node) -> LayerReport:
    return LayerReport(
        name=node.id, op=node.op, label=node.opdef.label(node.attrs), category=node.opdef.category,
        inputs=list(node.inputs), shape=list(node.shape), params=node.meta["params"],
        buffers=node.meta["buffers"], macs=node.meta["macs"], flops=node.meta["flops"],
        source=str(node.span), line=node.span.line if node.span else 0,
        scope=[f.label for f in node.scope if f.kind == "block"],
        attrs=node.attrs.model_dump(mode="json"),
    )


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (bool, int, float, str, list, dict)) else str(v) for k, v in values.items()}


def format_table(report: Report) -> str:
    rows = [("layer", "op", "output", "params", "MACs", "source")]
    for layer in report.layers:
        rows.append((layer.name, layer.label, fmt(layer.shape), f"{layer.params:,}", f"{layer.macs:,}",
                     layer.source.rsplit(":", 1)[0]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    right = {3, 4}

    def line(r):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    out = [line(rows[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows[1:]]
    ins = ", ".join(f"{k} {fmt(v)}" for k, v in report.inputs.items())
    outs = ", ".join(f"{k} {fmt(v)}" for k, v in report.outputs.items())
    out += ["", f"network   {report.network} ({report.file})", f"inputs    {ins}", f"outputs   {outs}",
            f"layers    {len(report.layers):,}",
            f"params    {report.params:,}  (+ {report.buffers:,} buffer elements)",
            f"MACs      {report.macs:,}  ({report.macs / 1e9:.3f} G, conv + linear)",
            f"FLOPs     {report.flops:,}  (2 x MACs)"]
    return "\n".join(out)
