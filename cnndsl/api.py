"""The Python entry points. Nothing here imports torch until `load()` is called.

Network parameters are passed as a dict, `params={"depth": 101}`, which cannot collide with the
entry points' own keywords (`input`, `network`, `include_path`); `analyze(path, depth=101)` is
sugar for it. Parameters and input shapes given from Python obey the rules of values written in a
file (docs/security.md)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .diagnostics import CnnDslError, error
from .elaborate import build_graph, check_program, load_program
from .elaborate.values import Env, Evaluator, checked_value, show
from .ir import Graph
from .parser import parse_expr
from .parser.limits import MAX_INT
from .passes import run_passes
from .source import SOURCES, Span

if TYPE_CHECKING:
    from .views.report import Report

ZOO = Path(__file__).resolve().parent / "zoo"  # the zoo's .arch files, shipped with the package
Dims = str | Sequence[int] | None
Paths = Sequence[str | Path]


def analyze(path: str | Path, *, input: Dims = None, network: str | None = None, include_path: Paths = (),
            params: dict[str, Any] | None = None, **kw_params: Any) -> Graph:
    """Elaborate a `.arch` file and run the static passes: a networkx-backed graph whose nodes carry
    shape, params, buffers, MACs and FLOPs in `meta`, and their source span. `include_path`: more
    directories that includes may come from (docs/security.md)."""
    return run_passes(elaborate(path, input=input, network=network, include_path=include_path, params=params,
                                **kw_params))


def check(path: str | Path, *, input: Dims = None, include_path: Paths = (),
          params: dict[str, Any] | None = None, **kw_params: Any) -> list[Graph]:
    """Elaborate every network of a file that can stand alone (the last one with `params`) and run
    the passes; all their errors are raised together."""
    graphs = elaborate_all(path, input=input, include_path=include_path, params=params, **kw_params)
    return [run_passes(g) for g in graphs]  # the program's syntax tree is freed before the passes


def elaborate(path: str | Path, *, input: Dims = None, network: str | None = None, include_path: Paths = (),
              params: dict[str, Any] | None = None, **kw_params: Any) -> Graph:
    """The graph `analyze` runs the passes on: elaborated, no `meta` yet."""
    return build_graph(find_arch(path), _params(params, kw_params), input_dims(input), network, include_path)


def elaborate_all(path: str | Path, *, input: Dims = None, include_path: Paths = (),
                  params: dict[str, Any] | None = None, **kw_params: Any) -> list[Graph]:
    """The graphs `check` runs the passes on: every network of the file that can stand alone."""
    return check_program(load_program(find_arch(path), include_path), _params(params, kw_params),
                         input_dims(input))


def report(path: str | Path, *, batch: int = 1, dtype: str = "float32", **kw: Any) -> Report:
    """The analysis report of `analyze(path, **kw)`, memory for `batch` samples of `dtype`."""
    from .views.report import build_report
    return build_report(analyze(path, **kw), batch=batch, dtype=dtype)


def load(path: str | Path, *, input: Dims = None, network: str | None = None, include_path: Paths = (),
         params: dict[str, Any] | None = None, **kw_params: Any) -> Any:
    """Compile a `.arch` file to a `torch.nn.Module`, e.g. `load("archs/resnet50.arch", num_classes=10)`."""
    from .lower.torch_module import to_module
    return to_module(analyze(path, input=input, network=network, include_path=include_path, params=params,
                             **kw_params))


def network_params(path: str | Path, network: str | None = None) -> list[str]:
    """The parameter names of a file's network (its last one, or `network`), without elaborating it."""
    return [p.name for p in load_program(find_arch(path)).main(network).params]


def find_arch(path: str | Path) -> str | Path:
    """`path` itself, or a zoo file by its name (`resnet50.arch`) when no such file is here. An
    empty or NUL-holding name is left for the loader to refuse (Path("") would be ".")."""
    if not str(path) or "\x00" in str(path):
        return path
    found = Path(path)
    if not found.exists() and found.parent == Path(".") and (ZOO / found.name).is_file():
        return ZOO / found.name
    return found


def _params(params: dict[str, Any] | None, kw_params: dict[str, Any]) -> dict[str, Any]:
    twice = sorted(set(params or {}) & set(kw_params))
    if twice:
        raise error(f"network parameter `{twice[0]}` is given both in params= and as a keyword", None)
    return check_params({**(params or {}), **kw_params})


def check_params(params: dict[str, Any]) -> dict[str, Any]:
    """Network parameters given from Python obey the rules of values written in a file: 64-bit
    integers, finite numbers, strings, and lists and dictionaries of them, of bounded size."""
    for name, value in params.items():
        try:
            checked_value(value)
        except (TypeError, ValueError) as exc:
            raise error(f"parameter `{name}`: {exc}", None) from None
    return params


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


def input_dims(value: Dims) -> tuple[int, ...] | None:
    """An input shape from the command line (text) or from Python (a tuple), checked like --input."""
    if value is None or isinstance(value, str):
        return None if value is None else parse_dims(value)
    ok = isinstance(value, Sequence) and len(value) in (1, 3) \
        and all(type(v) is int and 1 <= v <= MAX_INT for v in value)
    if not ok:
        raise error(f"input must be a tuple like (3, 224, 224) of whole numbers from 1 to {MAX_INT:,}, "
                    f"got {show(list(value) if isinstance(value, (tuple, list)) else value)}", None)
    return tuple(value)


# Python's spellings of the language's words: `-D aux=True` is a common slip
PYTHON_WORDS = {"True": "did you mean `true`?", "False": "did you mean `false`?",
                "None": "the language has no `None`: leave the parameter out to use its default"}


def parse_defines(items: list[str]) -> dict[str, Any]:
    """`-D depth=50 -D aux=true`: values are `.arch` value expressions, evaluated safely. Each
    `-D` value is a source of its own (`-D depth`), so an error points into the text."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip().isidentifier() or not name.strip().isascii():
            SOURCES.add("-D", item)
            raise error(f"-D needs NAME=VALUE, got {show(item)}", _span("-D", item))
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


def _span(name: str, text: str, column: int = 1, width: int = 0) -> Span:
    return Span(name, 1, column, 1, column + max(1, width or len(text)))
