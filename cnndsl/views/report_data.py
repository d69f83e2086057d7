"""The analysis report as plain JSON data, its JSON text, and the text table, without pydantic.

The report's pydantic models (`views.report`) declare its format: the JSON schema in docs/, and
`cnndsl.report()`, which validates this data into them. Importing pydantic and building those
models took about a third of `cnndsl compile --json`'s start-up, so the command line builds the
same data here and writes it as pydantic writes it (`dumps`: the models' field order, its number
format); tests/test_report_data.py checks both on every network of the zoo."""
from __future__ import annotations

import io
import math
from collections.abc import Iterable
from typing import Any, TextIO

from ..ir import Graph, Node
from ..ops import fmt
from ..passes import CONVENTIONS, DTYPES, memory_by_node


class Fields(dict[str, Any]):
    """JSON data whose keys also read as attributes (`layer.memory.saved_bytes`), so the text views
    read this data as they read the pydantic report."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def report_data(graph: Graph, *, batch: int = 1, dtype: str = "float32") -> Fields:
    """The report of an analysed graph, in the fields and order of `views.report.Report`; memory
    for `batch` samples of `dtype` (one of DTYPES)."""
    memory = memory_by_node(graph, batch, dtype)
    layers = [_layer(graph, n, memory) for n in graph.ops()]
    return Fields(
        schema_version=1, network=graph.name, file=graph.source, arguments=_jsonable(graph.params),
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


def _layer(graph: Graph, node: Node, memory: dict[str, dict[str, int]]) -> Fields:
    m = memory[node.id]
    return Fields(
        name=graph.qualname(node.id), op=node.op, label=node.opdef.label(node.attrs),
        category=node.opdef.category.value,
        inputs=[graph.qualname(i) for i in node.inputs], shape=list(node.shape), params=node.meta["params"],
        buffers=node.meta["buffers"], macs=node.meta["macs"], flops=node.meta["flops"],
        source=str(node.span), line=node.span.line if node.span else 0,
        scope=[f.label for f in node.scope if f.kind == "block"],
        attrs=node.attrs.to_json(),
        other_ops=node.meta["other_ops"], conventions=node.meta["conventions"],
        memory=Fields(output_bytes=m["output_bytes"], saved_bytes=m["saved_bytes"], live_bytes=m["live_bytes"]),
        rf=_rf(node.meta["rf"]),
    )


def _rf(field: Any) -> Fields | None:
    if field is None:
        return None
    return Fields(size=list(field.size), stride=list(field.j), start=list(field.lo), exact=field.exact)


def _memory(graph: Graph, memory: dict[str, dict[str, int]], batch: int, dtype: str) -> Fields:
    inputs = [memory[i] for i in graph.inputs]
    ops = [n.id for n in graph.ops()]
    peak = max(ops, key=lambda n: memory[n]["live_bytes"], default=None)
    return Fields(
        batch=batch, dtype=dtype, itemsize=DTYPES[dtype],
        params_bytes=sum(graph[n].meta["params"] for n in ops) * DTYPES[dtype],
        input_bytes=sum(m["output_bytes"] for m in inputs),
        training_saved_bytes=sum(m["saved_bytes"] for m in memory.values()),
        inference_peak_bytes=memory[peak]["live_bytes"] if peak else sum(m["output_bytes"] for m in inputs),
        inference_peak_layer=graph.qualname(peak) if peak else "",
    )


def _sum_dicts(dicts: Iterable[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (bool, int, float, str, list, dict)) else str(v) for k, v in values.items()}


# ---------------------------------------------------------------- JSON text, as pydantic writes it
def dumps(value: Any, indent: int = 2) -> str:
    """`value` as JSON text, byte for byte what pydantic's `model_dump_json(indent=...)` writes for
    the same data: text unescaped beyond what JSON needs, a float as pydantic formats it
    (`0.00001`, `1e-6`, `1e+16`), a non-finite float as null."""
    text = io.StringIO()
    dump(value, text, indent)
    return text.getvalue()


def dump(value: Any, stream: TextIO, indent: int = 2) -> None:
    """`dumps` written to `stream` as it goes: the pieces of a 120,000-layer report, joined at the
    end, took a gigabyte for 134 MB of text."""
    out: list[str] = []
    _write(value, out, "\n", " " * indent, stream)
    stream.write("".join(out))


def _write(v: Any, out: list[str], newline: str, step: str, stream: TextIO | None = None) -> None:
    if isinstance(v, dict):
        if not v:
            out.append("{}")
            return
        inner = newline + step
        out.append("{")
        for i, (k, x) in enumerate(v.items()):
            out.append(("," if i else "") + inner + _string(str(k)) + ": ")
            _write(x, out, inner, step, stream)
        out.append(newline + "}")
    elif isinstance(v, (list, tuple)):
        if not v:
            out.append("[]")
            return
        inner = newline + step
        out.append("[")
        for i, x in enumerate(v):
            out.append(("," if i else "") + inner)
            _write(x, out, inner, step)
            if stream is not None and len(out) > 8192:  # an item of a long list written: out with the pieces
                stream.write("".join(out))
                out.clear()
        out.append(newline + "]")
    elif v is None or v is True or v is False:
        out.append("null" if v is None else "true" if v else "false")
    elif isinstance(v, int):
        out.append(str(int(v)))
    elif isinstance(v, float):
        out.append(json_float(v))
    elif isinstance(v, str):
        out.append(_string(v))
    else:
        raise TypeError(f"{type(v).__name__} is not JSON data")


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _string(s: str) -> str:
    if s.isprintable() and '"' not in s and "\\" not in s:
        return f'"{s}"'
    return '"' + "".join(_ESCAPES.get(c, f"\\u{ord(c):04x}" if c < " " else c) for c in s) + '"'


def json_float(v: float) -> str:
    """A float as pydantic writes it: Python's shortest digits, in positional notation from 1e-5
    to below 1e16, else as `1.5e-7` or `1e+16` (no zero-padded exponent)."""
    if not math.isfinite(v):
        return "null"
    text = repr(v)
    if "e" not in text:
        return text
    mantissa, exp = text.split("e")
    e = int(exp)
    if -5 <= e < 0:
        sign, digits = ("-", mantissa[1:]) if mantissa.startswith("-") else ("", mantissa)
        return f"{sign}0.{'0' * (-e - 1)}{digits.replace('.', '')}"
    return f"{mantissa}e{'-' if e < 0 else '+'}{abs(e)}"


# ---------------------------------------------------------------- the text table
def fmt_bytes(n: int) -> str:
    """Decimal units, as torchinfo and the papers print them."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def fmt_rf(rf: Any) -> str:
    if rf is None:
        return ""
    size = str(rf.size[0]) if rf.size[0] == rf.size[1] else f"{rf.size[0]}x{rf.size[1]}"
    stride = str(rf.stride[0]) if rf.stride[0] == rf.stride[1] else f"{rf.stride[0]}x{rf.stride[1]}"
    return f"{size}/{stride}" + ("" if rf.exact else "~")


def format_table(report: Any, convention: str = "torchvision") -> str:
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


def format_totals(report: Any, convention: str = "torchvision") -> str:
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
