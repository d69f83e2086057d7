"""The Python entry points. Nothing here imports torch until `load()` is called.

Network parameters are passed as a dict, `params={"depth": 101}`, which cannot collide with the
entry points' own keywords (`input`, `network`); `analyze(path, depth=101)` is sugar for it."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .diagnostics import CnnDslError, error
from .elaborate import build_graph, check_program, load_program
from .elaborate.values import Env, Evaluator
from .ir import Graph
from .parser import parse_expr
from .passes import run_passes

if TYPE_CHECKING:
    from .views.report import Report

ZOO = Path(__file__).resolve().parent / "zoo"  # the zoo's .arch files, shipped with the package
Dims = str | tuple[int, ...] | None


def analyze(path: str | Path, *, input: Dims = None, network: str | None = None,
            params: dict[str, Any] | None = None, **kw_params: Any) -> Graph:
    """Elaborate a `.arch` file and run the static passes: a networkx-backed graph whose nodes carry
    shape, params, buffers, MACs and FLOPs in `meta`, and their source span."""
    graph = build_graph(find_arch(path), _params(params, kw_params), _dims(input), network)
    return run_passes(graph)


def check(path: str | Path, *, input: Dims = None, params: dict[str, Any] | None = None,
          **kw_params: Any) -> list[Graph]:
    """Elaborate every network of a file that can stand alone (the last one with `params`) and run
    the passes; all their errors are raised together."""
    program = load_program(find_arch(path))
    return [run_passes(g) for g in check_program(program, _params(params, kw_params), _dims(input))]


def report(path: str | Path, *, batch: int = 1, dtype: str = "float32", **kw: Any) -> Report:
    """The analysis report of `analyze(path, **kw)`, memory for `batch` samples of `dtype`."""
    from .views.report import build_report
    return build_report(analyze(path, **kw), batch=batch, dtype=dtype)


def load(path: str | Path, *, input: Dims = None, network: str | None = None,
         params: dict[str, Any] | None = None, **kw_params: Any) -> Any:
    """Compile a `.arch` file to a `torch.nn.Module`, e.g. `load("archs/resnet50.arch", num_classes=10)`."""
    from .lower.torch_module import to_module
    return to_module(analyze(path, input=input, network=network, params=params, **kw_params))


def network_params(path: str | Path, network: str | None = None) -> list[str]:
    """The parameter names of a file's network (its last one, or `network`), without elaborating it."""
    return [p.name for p in load_program(find_arch(path)).main(network).params]


def find_arch(path: str | Path) -> Path:
    """`path` itself, or a zoo file by its name (`resnet50.arch`) when no such file is here."""
    path = Path(path)
    if not path.exists() and path.parent == Path(".") and (ZOO / path.name).is_file():
        return ZOO / path.name
    return path


def _params(params: dict[str, Any] | None, kw_params: dict[str, Any]) -> dict[str, Any]:
    twice = sorted(set(params or {}) & set(kw_params))
    if twice:
        raise error(f"network parameter `{twice[0]}` is given both in params= and as a keyword", None)
    return {**(params or {}), **kw_params}


def _dims(input: Dims) -> tuple[int, ...] | None:
    return parse_dims(input) if isinstance(input, str) else input


def parse_dims(text: str) -> tuple[int, ...]:
    parts = text.lower().split("x")
    if not all(p.isdigit() and int(p) > 0 for p in parts) or len(parts) not in (1, 3):
        raise error(f"--input must look like CxHxW (e.g. 3x224x224), got {text!r}", None)
    return tuple(int(p) for p in parts)


# Python's spellings of the language's words: `-D aux=True` is a common slip
PYTHON_WORDS = {"True": "did you mean `true`?", "False": "did you mean `false`?",
                "None": "the language has no `None`: leave the parameter out to use its default"}


def parse_defines(items: list[str]) -> dict[str, Any]:
    """`-D depth=50 -D aux=true`: values are `.arch` value expressions, evaluated safely."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise error(f"-D needs NAME=VALUE, got {item!r}", None)
        out[name.strip()] = parse_value(text, f"-D {name.strip()}")
    return out


def parse_value(text: str, where: str) -> Any:
    """One `.arch` value expression given outside a file (`-D`, a compare file's `:name=value`)."""
    try:
        return Evaluator(set()).eval(parse_expr(text, where), Env())
    except CnnDslError as exc:
        for d in exc.diagnostics:
            word = d.message.removeprefix("unknown name `").rstrip("`")
            if d.message.startswith("unknown name `") and word in PYTHON_WORDS:
                d.help = PYTHON_WORDS[word]
        raise
