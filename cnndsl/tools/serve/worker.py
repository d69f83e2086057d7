"""The playground's analysis, in a process of its own: a request that runs past the time limit is
stopped by killing the process (a thread could not be stopped), which is then replaced.

The process works in the zoo's folder on a file that exists only in memory (`playground.arch`),
so `include "resnet.arch"` reads the zoo; an include of anything but a zoo or standard-library
file name is refused before anything is read. It never runs generated code, and its memory is
capped."""
from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the worker imports the compiler inside its functions
    from ...diagnostics import Diagnostic
    from ...ir import Graph

ROOT = Path(__file__).resolve().parents[3]
ARCHS = ROOT / "archs"
STDLIB = Path(__file__).resolve().parents[2] / "stdlib"
NAME = "playground.arch"  # the editor's text, as the compiler sees it (never written to disk)
MEMORY_LIMIT = 2 << 30
MAX_ROWS = 3000  # layers listed in the cost table


class Worker:
    """One analysis process (`python -m cnndsl.tools.serve.worker`, one JSON line per request and
    per reply); requests wait their turn."""

    def __init__(self, timeout: float, memory: int = MEMORY_LIMIT) -> None:
        self.timeout, self.memory = timeout, memory
        self.lock = asyncio.Lock()
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cnndsl.tools.serve.worker", str(self.memory), cwd=ARCHS, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)}, limit=64 << 20)

    async def run(self, request: dict[str, Any]) -> dict[str, Any]:
        async with self.lock:
            if self.process is None or self.process.returncode is not None:
                await self.start()
            assert self.process is not None and self.process.stdin and self.process.stdout
            try:
                self.process.stdin.write(json.dumps(request).encode() + b"\n")
                await self.process.stdin.drain()
                line = await asyncio.wait_for(self.process.stdout.readline(), self.timeout)
            except (TimeoutError, OSError, ValueError):
                line = b""
            if not line:
                await self.stop()
                return {"ok": False, "diagnostics": [{
                    "message": f"the analysis took longer than {self.timeout:g} s or ran out of memory, and was stopped",
                    "line": None}]}
            return json.loads(line)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self.process = None


def main() -> None:
    """The worker process: requests on standard input, replies on standard output; the argument
    caps its address space in bytes (0: no cap)."""
    memory = int(sys.argv[1]) if len(sys.argv) > 1 else MEMORY_LIMIT
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    for line in sys.stdin:
        try:
            reply = handle(json.loads(line))
        except Exception as exc:  # noqa: BLE001 -- a bug of ours: say so in the reply, and keep serving
            reply = {"ok": False, "diagnostics": [{"message": f"internal error: {type(exc).__name__}: {exc}",
                                                   "line": None}]}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def handle(request: dict[str, Any]) -> dict[str, Any]:
    from ...diagnostics import CnnDslError
    try:
        graph = load(request["text"], request.get("network"))
        if request.get("kind") == "python":
            from ...lower import to_source
            return {"ok": True, "python": to_source(graph)}
        return {"ok": True, **results(graph, request.get("depth"))}
    except CnnDslError as exc:
        return {"ok": False, "diagnostics": [diagnostic(d) for d in exc.diagnostics]}
    except (RecursionError, MemoryError):
        return {"ok": False, "diagnostics": [{"message": "the network is too large or too deep to analyse here",
                                              "line": None}]}


def load(text: str, network: str | None) -> Graph:
    """The graph of the editor's text, once its includes are known to stay in the zoo."""
    from ...api import analyze
    from ...diagnostics import CnnDslError
    from ...source import SOURCES
    path = Path(NAME)
    SOURCES.set_unsaved(path, text)
    refused = refuse_includes(text)
    if refused:
        raise CnnDslError(refused)
    return analyze(path, network=network or None)


def refuse_includes(text: str) -> list[Diagnostic]:
    """An include that names anything but a file of the zoo or the standard library."""
    from ... import ast
    from ...diagnostics import Diagnostic
    from ...parser import parse
    out = []
    for item in parse(text, NAME).items:
        if isinstance(item, ast.Include) and not _allowed(item.path):
            out.append(Diagnostic(f'include "{item.path}" is refused: the playground reads only the zoo and the '
                                  "standard library", item.span, help='e.g. include "resnet.arch"'))
    return out


def _allowed(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9_-]+\.arch", name)) and ((ARCHS / name).is_file() or (STDLIB / name).is_file())


def diagnostic(d: Diagnostic) -> dict[str, Any]:
    span = d.span
    where = {} if span is None else {"file": span.file, "line": span.line, "column": span.column,
                                     "end_line": span.end_line, "end_column": span.end_column}
    return {"message": d.message, "line": None, **where, "details": list(d.details), "help": d.help,
            "notes": [{"message": n.message, "at": str(n.span) if n.span else None} for n in d.notes],
            "text": d.format()}


def results(graph: Graph, depth: int | None) -> dict[str, Any]:
    from ...views.diagram import Options
    from ...views.graphviz import to_dot, write_diagram
    from ...views.report import build_report
    report = build_report(graph)
    dot = to_dot(graph, Options(depth=depth), "TB")
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "diagram.svg"
        write_diagram(dot, target, "svg")
        svg = target.read_text()
    rows = [{"name": layer.name, "label": layer.label, "shape": layer.shape, "params": layer.params,
             "macs": layer.macs, "line": layer.line if layer.source.startswith(NAME + ":") else None}
            for layer in report.layers[:MAX_ROWS]]
    return {"network": report.network, "params": report.params, "macs": report.macs,
            "inputs": report.inputs, "outputs": report.outputs, "layers": rows,
            "more_layers": max(0, len(report.layers) - MAX_ROWS), "svg": svg}


if __name__ == "__main__":
    main()
