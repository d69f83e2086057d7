"""`cnndsl compare`: several networks side by side, from their reports; optionally timed.

A view: it reads reports (and, to time them, modules) that its caller made, and imports nothing
above it. Everything but `measure` is static and never imports torch."""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..diagnostics import CnnDslError
from ..ir import Graph
from .chart import Point, bubble_chart, to_png, to_svg
from .report import ReceptiveField, Report, build_report, fmt_bytes, fmt_rf


class Row(BaseModel):
    network: str
    file: str
    input: list[int]
    layers: int
    params: int
    ops: int  # the total under the comparison's convention
    macs: int  # conv + linear MACs (the torchvision convention)
    conventions: dict[str, int]  # every convention's total
    training_saved_bytes: int
    inference_peak_bytes: int
    params_bytes: int
    rf: ReceptiveField | None  # of the last feature map larger than 1x1
    latency_ms: dict[str, float] = {}  # device -> median forward time, with --measure


class Comparison(BaseModel):
    schema_version: int = 1
    convention: str
    batch: int
    dtype: str
    rows: list[Row]


def rows(graphs: Iterable[tuple[Graph, str, dict[str, Any]]], convention: str = "torchvision", batch: int = 1,
         dtype: str = "float32") -> list[Row]:
    """One row per analysed graph, with the file it came from and the parameters given to it from
    outside (which name the row: `resnet(depth=101)`)."""
    return [row(build_report(graph, batch=batch, dtype=dtype), file, convention, given)
            for graph, file, given in graphs]


def row(report: Report, file: str, convention: str, given: dict[str, Any] | None = None) -> Row:
    maps = [layer for layer in report.layers if len(layer.shape) == 3 and layer.shape[1] * layer.shape[2] > 1]
    memory = report.memory
    assert memory is not None, "build_report always fills memory"
    shown = ", ".join(f"{k}={_show(v)}" for k, v in (given or {}).items())
    return Row(network=f"{report.network}({shown})" if shown else report.network, file=file,
               input=next(iter(report.inputs.values())),
               layers=len(report.layers), params=report.params, ops=report.conventions[convention],
               macs=report.macs, conventions=report.conventions,
               training_saved_bytes=memory.training_saved_bytes,
               inference_peak_bytes=memory.inference_peak_bytes, params_bytes=memory.params_bytes,
               rf=maps[-1].rf if maps else None)


def _show(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def measure(rows: list[Row], modules: Iterable[Any], devices: list[str] | None = None, batch: int = 1,
            repeat: int = 10) -> None:
    """Time each compiled module (evaluation, batch `batch`, random weights) on each device; the
    modules come in the rows' order (an iterable, so that one is built at a time)."""
    try:
        import torch
    except ImportError:
        raise CnnDslError.from_message(
            "--measure times the compiled networks with PyTorch, which is not installed: "
            "pip install 'cnndsl[torch]' (README, Set-up: the CPU-only build is much smaller)") from None

    from ..measure import latency_ms
    devices = devices or ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise CnnDslError.from_message(f"--device {device}: no CUDA device is available")
    for r, module in zip(rows, modules):
        for device in devices:
            r.latency_ms[device] = round(latency_ms(module, r.input, batch, device, repeat=repeat), 3)


def _columns(rows: list[Row], convention: str):
    devices = sorted({d for r in rows for d in r.latency_ms})
    ops = "MACs" if convention == "torchvision" else f"ops ({convention})"
    head = ["network", "input", "params", ops, "training memory", "inference peak", "rf/stride"] + \
        [f"{d} ms" for d in devices]
    body = [[r.network, "x".join(map(str, r.input)), f"{r.params:,}", f"{r.ops:,}", fmt_bytes(r.training_saved_bytes),
             fmt_bytes(r.inference_peak_bytes), fmt_rf(r.rf)] + [f"{r.latency_ms[d]:.2f}" for d in devices]
            for r in rows]
    return head, body


def format_text(rows: list[Row], convention: str = "torchvision") -> str:
    head, body = _columns(rows, convention)
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    fmt = lambda cells: "  ".join(c.ljust(w) if i < 2 else c.rjust(w)  # noqa: E731
                                  for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([fmt(head), "  ".join("-" * w for w in widths)] + [fmt(b) for b in body])


def format_markdown(rows: list[Row], convention: str = "torchvision") -> str:
    head, body = _columns(rows, convention)
    align = ["---", "---"] + ["---:"] * (len(head) - 2)
    return "\n".join("| " + " | ".join(cells) + " |" for cells in [head, align] + body)


def family(network: str) -> str:
    """A network's family, for its colour: the letters its name starts with (vgg16_bn -> vgg)."""
    letters = re.match(r"[A-Za-z]*", network)
    return (letters.group(0).lower() if letters else "") or network


def chart(rows: list[Row], convention: str = "torchvision", batch: int = 1, title: str | None = None):
    ops = "MACs" if convention == "torchvision" else f"operations ({convention})"
    points = [Point(r.network, r.ops, r.params, r.training_saved_bytes, family(r.network))
              for r in rows if r.ops > 0 and r.params > 0]
    if not points:
        raise CnnDslError.from_message("nothing to chart: no network has both operations and parameters")
    return bubble_chart(points, title or f"{ops} and parameters", f"{ops} per image (log)", "parameters (log)",
                        lambda v: fmt_bytes(int(v)).replace(".0 ", " "),
                        size_title=f"bubble area: training activation memory, batch {batch}")


def write_chart(rows: list[Row], path: Path, suffix: str, convention: str = "torchvision", batch: int = 1,
                title: str | None = None) -> None:
    scene = chart(rows, convention, batch, title)
    if suffix == ".svg":
        path.write_text(to_svg(scene))
    elif suffix == ".png":
        try:
            to_png(scene, path)
        except ImportError:
            raise CnnDslError.from_message("a PNG chart needs Pillow: pip install pillow (or write .svg)") from None
    else:
        raise CnnDslError.from_message(f"--chart {path.name}: the chart is written as .svg or .png")
