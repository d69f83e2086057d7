"""The Python entry points. Nothing here imports torch until `load()` is called."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .diagnostics import error
from .elaborate import build_graph, check_program, load_program
from .elaborate.values import Env, Evaluator, checked_value, show
from .ir import Graph
from .parser import parse_expr
from .parser.limits import MAX_INT
from .passes import run_passes
from .source import SOURCES, Span


def analyze(path: str | Path, *, input: str | tuple[int, ...] | None = None, network: str | None = None,
            include_path: Sequence[str | Path] = (), **params: Any) -> Graph:
    """Elaborate a `.arch` file and run the static passes: a networkx-backed graph whose nodes carry
    shape, params, buffers, MACs and FLOPs in `meta`, and their source span. `include_path`: more
    directories that includes may come from (docs/security.md)."""
    graph = build_graph(path, check_params(params), input_dims(input), network, include_path)
    return run_passes(graph)


def check(path: str | Path, *, input: str | tuple[int, ...] | None = None, include_path: Sequence[str | Path] = (),
          **params: Any) -> list[Graph]:
    """Elaborate every network of a file that can stand alone (the last one with `params`) and run
    the passes; all their errors are raised together."""
    return [run_passes(g) for g in check_program(load_program(path, include_path), check_params(params),
                                                  input_dims(input))]


def report(path: str | Path, **kw: Any):
    from .views.report import build_report
    return build_report(analyze(path, **kw))


def load(path: str | Path, *, input: str | tuple[int, ...] | None = None, network: str | None = None,
         include_path: Sequence[str | Path] = (), **params: Any):
    """Compile a `.arch` file to a `torch.nn.Module`, e.g. `load("archs/resnet50.arch", num_classes=10)`."""
    from .lower.torch_module import to_module
    return to_module(analyze(path, input=input, network=network, include_path=include_path, **params))


def parse_dims(text: str) -> tuple[int, ...]:
    """`--input 3x224x224` (or `--input 10` for a vector): each size a whole number from 1 to
    2**63 - 1. The text is a source of its own, so an error points into it."""
    SOURCES.add("--input", text)
    parts, column = text.split("x") if text else [""], 1
    if len(parts) not in (1, 3):
        raise error(f"--input must look like CxHxW (e.g. 3x224x224), got {len(parts)} sizes", _span("--input", text))
    for part in parts:
        if not (part.isascii() and part.isdigit()) or len(part) > len(str(MAX_INT)) or not 1 <= int(part) <= MAX_INT:
            raise error("--input must look like CxHxW (e.g. 3x224x224), each size a whole number from 1 to "
                        f"{MAX_INT:,}", _span("--input", text, column, len(part)))
        column += len(part) + 1
    return tuple(int(p) for p in parts)


def input_dims(value: str | Sequence[int] | None) -> tuple[int, ...] | None:
    """An input shape from the command line (text) or from Python (a tuple), checked like --input."""
    if value is None or isinstance(value, str):
        return None if value is None else parse_dims(value)
    ok = isinstance(value, Sequence) and len(value) in (1, 3) \
        and all(type(v) is int and 1 <= v <= MAX_INT for v in value)
    if not ok:
        raise error(f"input must be a tuple like (3, 224, 224) of whole numbers from 1 to {MAX_INT:,}, "
                    f"got {show(list(value) if isinstance(value, (tuple, list)) else value)}", None)
    return tuple(value)


def parse_defines(items: list[str]) -> dict[str, Any]:
    """`-D depth=50 -D aux=true`: values are `.arch` value expressions, evaluated safely. Each
    `-D` value is a source of its own (`-D depth`), so an error points into the text."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip().isidentifier() or not name.strip().isascii():
            SOURCES.add("-D", item)
            raise error(f"-D needs NAME=VALUE, got {show(item)}", _span("-D", item))
        out[name.strip()] = Evaluator(set()).eval(parse_expr(text, f"-D {name.strip()}"), Env())
    return out


def check_params(params: dict[str, Any]) -> dict[str, Any]:
    """Network parameters given from Python obey the rules of values written in a file: 64-bit
    integers, finite numbers, strings, and lists and dictionaries of them, of bounded size."""
    for name, value in params.items():
        try:
            checked_value(value)
        except (TypeError, ValueError) as exc:
            raise error(f"parameter `{name}`: {exc}", None) from None
    return params


def _span(name: str, text: str, column: int = 1, width: int = 0) -> Span:
    return Span(name, 1, column, 1, column + max(1, width or len(text)))
