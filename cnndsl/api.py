"""The Python entry points. Nothing here imports torch until `load()` is called."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .diagnostics import error
from .elaborate import build_graph, check_program, load_program
from .elaborate.values import Env, Evaluator
from .ir import Graph
from .parser import parse_expr
from .passes import run_passes


def analyze(path: str | Path, *, input: str | tuple[int, ...] | None = None, network: str | None = None,
            include_path: Sequence[str | Path] = (), **params: Any) -> Graph:
    """Elaborate a `.arch` file and run the static passes: a networkx-backed graph whose nodes carry
    shape, params, buffers, MACs and FLOPs in `meta`, and their source span. `include_path`: more
    directories that includes may come from (docs/security.md)."""
    graph = build_graph(path, params, parse_dims(input) if isinstance(input, str) else input, network, include_path)
    return run_passes(graph)


def check(path: str | Path, *, input: str | tuple[int, ...] | None = None, include_path: Sequence[str | Path] = (),
          **params: Any) -> list[Graph]:
    """Elaborate every network of a file that can stand alone (the last one with `params`) and run
    the passes; all their errors are raised together."""
    dims = parse_dims(input) if isinstance(input, str) else input
    return [run_passes(g) for g in check_program(load_program(path, include_path), params, dims)]


def report(path: str | Path, **kw: Any):
    from .views.report import build_report
    return build_report(analyze(path, **kw))


def load(path: str | Path, *, input: str | tuple[int, ...] | None = None, network: str | None = None,
         include_path: Sequence[str | Path] = (), **params: Any):
    """Compile a `.arch` file to a `torch.nn.Module`, e.g. `load("archs/resnet50.arch", num_classes=10)`."""
    from .lower.torch_module import to_module
    return to_module(analyze(path, input=input, network=network, include_path=include_path, **params))


def parse_dims(text: str) -> tuple[int, ...]:
    parts = text.lower().split("x")
    if not all(p.isdigit() and int(p) > 0 for p in parts) or len(parts) not in (1, 3):
        raise error(f"--input must look like CxHxW (e.g. 3x224x224), got {text!r}", None)
    return tuple(int(p) for p in parts)


def parse_defines(items: list[str]) -> dict[str, Any]:
    """`-D depth=50 -D aux=true`: values are `.arch` value expressions, evaluated safely."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise error(f"-D needs NAME=VALUE, got {item!r}", None)
        out[name.strip()] = Evaluator(set()).eval(parse_expr(text, f"-D {name.strip()}"), Env())
    return out
