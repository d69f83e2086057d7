"""`cnndsl`: check, compile, summarise, compare and draw `.arch` files.

`check`, `summary`, `render`, `zoo`, `compile` without `--emit` and `compare` without `--measure`
never import torch."""
from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeAlias

from . import __version__
from .diagnostics import CnnDslError, use_color


def _common(p: argparse.ArgumentParser, every_file: bool = False) -> None:
    which = " (for every file whose network has it)" if every_file else ""
    p.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME=VALUE",
                   help=f"set a network parameter{which}, e.g. -D depth=101 -D aux=true")
    p.add_argument("--input", metavar="CxHxW", help="input shape, overriding the network's own")
    p.add_argument("--network", help="which network of the file (default: the last one)")
    p.add_argument("--include-path", dest="include_path", action="append", default=[], metavar="DIR",
                   help="also look for includes in DIR (repeatable); includes never leave the file's "
                        "directory, these and the standard library")


def _diagram_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("diagram")
    g.add_argument("--depth", type=_positive, metavar="N",
                   help="show N levels of blocks; deeper ones collapse into one box with their totals "
                        "(default: all)")
    g.add_argument("--unroll", action="store_true", help="draw every copy of a repetition, not one with xN")
    g.add_argument("--unfold", action="store_true",
                   help="draw BN, activations, dropout and flatten as boxes of their own")
    g.add_argument("--rankdir", choices=["TB", "LR"], default="TB", help="top to bottom (default) or left to right")
    g.add_argument("--params", action="store_true", help="show parameter counts in every box")
    g.add_argument("--macs", action="store_true", help="show multiply-accumulates in every box")
    g.add_argument("--no-legend", action="store_true", help="leave out the title and the colour legend")
    g.add_argument("--dpi", type=_positive, default=None, metavar="N",
                   help="resolution of a .png diagram (default 300, print quality; 96 is a screen's)")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return int(text)


def _costs(p: argparse.ArgumentParser) -> None:
    from .passes import CONVENTIONS, DTYPES
    p.add_argument("--convention", choices=list(CONVENTIONS), default="torchvision",
                   help="how to count operations: " + "; ".join(f"{k}: {v[1]}" for k, v in CONVENTIONS.items()))
    p.add_argument("--batch", type=_positive, default=1,
                   help="batch size for activation memory (default 1; operations stay per image)")
    p.add_argument("--dtype", choices=list(DTYPES), default="float32", help="activation dtype for memory")


Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
COLOR_HELP = "colour diagnostics: auto (default: on a terminal, unless NO_COLOR is set)"


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnndsl", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--version", action="version", version=f"cnndsl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_check, _add_compile, _add_render, _add_compare, _add_zoo):
        add(sub)
    for name in COMMAND_MODULES:
        COMMANDS.update(importlib.import_module(name).register(sub))
    for p in sub.choices.values():  # after the subcommand too: `cnndsl check x.arch --color never`
        p.add_argument("--color", choices=["auto", "always", "never"], default=argparse.SUPPRESS, help=COLOR_HELP)
    parser.add_argument("--color", choices=["auto", "always", "never"], default="auto", help=COLOR_HELP)
    return parser


def _add_check(sub: Subparsers) -> None:
    p = sub.add_parser("check", help="report every error in .arch files; exit 1 if any")
    p.add_argument("files", nargs="+")
    _common(p)


def _add_compile(sub: Subparsers) -> None:
    for name, help_ in (("compile", "analyse a network: per-layer table, or JSON, or emitted code"),
                        ("summary", "the per-layer table (same as compile without --emit)")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("file")
        _common(p)
        p.add_argument("--json", action="store_true", help="print the report as JSON")
        p.add_argument("-q", "--totals", action="store_true", help="print the totals, not the per-layer table")
        _costs(p)
        if name == "compile":
            p.add_argument("--emit", choices=["python", "onnx", "json"],
                           help="write the network in this form to -o (then only the totals are printed)")
            p.add_argument("-o", "--output", help="output file for --emit")
            p.add_argument("--diagram", metavar="FILE", help="also draw the network: .svg, .png, .pdf or .dot")
            _diagram_options(p)


def _add_render(sub: Subparsers) -> None:
    p = sub.add_parser("render", help="draw a network as .svg, .png, .pdf or .dot (graphviz)")
    p.add_argument("file")
    p.add_argument("-o", "--output", metavar="FILE", help="output file (default: DOT text on stdout)")
    _common(p)
    _diagram_options(p)


def _add_compare(sub: Subparsers) -> None:
    p = sub.add_parser("compare", help="networks side by side: params, operations, memory (and measured latency)")
    p.add_argument("files", nargs="+", metavar="FILE[:NAME=VALUE,...]",
                   help=".arch files (each file's last network, or --network); parameters for one file after "
                        "a colon: archs/resnet.arch:depth=18 archs/resnet.arch:depth=101")
    _common(p, every_file=True)
    _costs(p)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the rows as JSON")
    out.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.add_argument("--chart", action="append", default=[], metavar="FILE.svg|FILE.png",
                   help="also draw operations against parameters, bubble area by training memory (repeatable)")
    p.add_argument("--title", help="the chart's title (default: what it plots)")
    p.add_argument("--measure", action="store_true", help="also time the compiled modules (imports torch)")
    p.add_argument("--device", action="append", metavar="cpu|cuda",
                   help="where to time with --measure (repeatable; default cpu, and cuda when available)")
    p.add_argument("--repeat", type=int, default=10, help="timed forward passes per network with --measure")


def _add_zoo(sub: Subparsers) -> None:
    p = sub.add_parser("zoo", help="list the zoo: one line per file, its networks, params and MACs")
    p.add_argument("--path", action="store_true", help="print the folder that holds the zoo's files")


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    with _one_short_run() if args.command in STATIC else contextlib.nullcontext():
        return _run(args)


@contextlib.contextmanager
def _one_short_run() -> Iterator[None]:
    """A static command is one short run that makes many small acyclic objects (nodes, spans,
    meta dicts) and almost no cycles: the cycle collector's scans of them are a fifth of a large
    check's time and free nothing, and every quantity a file controls is bounded
    (docs/security.md), so memory stays bounded without it. pydantic looks for plugins in every
    installed distribution's entry points when it builds its first model (15 ms with torch
    installed); `compare`'s models need none (the op table and the report no longer use pydantic).
    Both are restored afterwards (tests and other callers run `main` in their own process)."""
    collecting, quiet_plugins = gc.isenabled(), "PYDANTIC_DISABLE_PLUGINS" not in os.environ
    gc.disable()
    if quiet_plugins:
        os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
    try:
        yield
    finally:
        if collecting:
            gc.enable()
        if quiet_plugins:
            os.environ.pop("PYDANTIC_DISABLE_PLUGINS", None)


def _run(args: argparse.Namespace) -> int:
    try:
        return COMMANDS[args.command](args)
    except CnnDslError as exc:
        _print_error(exc, args)
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # the file system said no (a missing folder, a full disk): not a bug
        print(f"cnndsl: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug of ours: say so in one line; CNNDSL_DEBUG=1 shows the traceback
        if os.environ.get("CNNDSL_DEBUG"):
            raise
        print(f"cnndsl: internal error: {type(exc).__name__}: {exc}\n"
              "  this is a bug in cnndsl, not in your file; rerun with CNNDSL_DEBUG=1 for details and report it",
              file=sys.stderr)
        return 2


def _print_error(exc: CnnDslError, args: argparse.Namespace) -> None:
    print(exc.format(color=use_color(getattr(args, "color", "auto"))), file=sys.stderr)


def _print_warnings(graphs: list[Any], args: argparse.Namespace) -> None:
    """Warnings (a layer whose result reaches no output) never fail a command; each is said once."""
    color = use_color(getattr(args, "color", "auto"))
    seen: set[str] = set()
    for graph in graphs:
        for warning in graph.warnings:
            text = warning.format(color)
            if text not in seen:
                seen.add(text)
                print(text, file=sys.stderr)


def _graph_args(args: argparse.Namespace) -> dict[str, Any]:
    """`--input`, `--network` and `-D` as the API's keywords; network parameters go in `params=`,
    so a parameter named `input` or `network` cannot collide with them."""
    from .api import parse_defines, parse_dims
    return dict(input=parse_dims(args.input) if args.input is not None else None, network=args.network,
                params=parse_defines(args.defines), include_path=args.include_path)


def cmd_check(args: argparse.Namespace) -> int:
    """Every network of each file (the main one with -D values), or the one --network names.

    Every error is the elaborator's (the passes only count), so a check runs the one pass its line
    prints, the parameter count; `compile` and `summary` run them all. The rest was 40% of the
    check of the collection (docs/performance.md)."""
    from .api import elaborate, elaborate_all
    from .passes import count_params, run_passes
    failed = 0
    for f in args.files:
        try:
            kw = _graph_args(args)
            graphs = [elaborate(f, **kw)] if args.network else \
                elaborate_all(f, input=kw["input"], params=kw["params"], include_path=kw["include_path"])
            graphs = [run_passes(g, (count_params,)) for g in graphs]
        except CnnDslError as exc:
            _print_error(exc, args)
            failed += 1
            continue
        _print_warnings(graphs, args)
        summary = ", ".join(f"{g.name}: {len(list(g.ops())):,} layers, {sum(n.meta['params'] for n in g.ops()):,} "
                            f"params" for g in graphs)
        print(f"{f}: ok ({summary})")
    return 1 if failed else 0


def cmd_compile(args: argparse.Namespace) -> int:
    from .api import analyze
    from .views.report_data import dump, format_table, format_totals, report_data
    diagram = getattr(args, "diagram", None)
    if diagram:
        _check_diagram_target(diagram)
    graph = analyze(args.file, **_graph_args(args))
    _print_warnings([graph], args)
    report = report_data(graph, batch=args.batch, dtype=args.dtype)  # what views.report.Report declares
    if diagram:
        _write_diagram(graph, args, diagram)
    emit = getattr(args, "emit", None)
    if emit:
        if not args.output:
            raise CnnDslError.from_message(f"--emit {emit} needs -o FILE")
        write_atomic(Path(args.output), lambda path: EMITTERS[emit](graph, report, path))
        print(f"wrote {args.output}", file=sys.stderr)
    if args.json:
        dump(report, sys.stdout)
        print()
    elif args.totals or emit:
        print(format_totals(report, args.convention))
    else:
        print(format_table(report, args.convention))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .api import analyze, load
    from .views import compare
    entries = _compare_entries(args)
    dims = {"input": args.input, "network": args.network}
    graphs = ((analyze(f, **dims, params=given), str(f), given) for f, given in entries)
    rows = compare.rows(graphs, convention=args.convention, batch=args.batch, dtype=args.dtype)
    if args.measure:
        modules = (load(f, **dims, params=given) for f, given in entries)
        compare.measure(rows, modules, devices=args.device, batch=args.batch, repeat=args.repeat)
    for chart in args.chart:
        write_atomic(Path(chart), lambda path, chart=chart: compare.write_chart(
            rows, path, Path(chart).suffix, args.convention, args.batch, args.title))
        print(f"wrote {chart}", file=sys.stderr)
    if args.json:
        print(compare.Comparison(convention=args.convention, batch=args.batch, dtype=args.dtype,
                                 rows=rows).model_dump_json(indent=2))
    else:
        print((compare.format_markdown if args.markdown else compare.format_text)(rows, args.convention))
    return 0


_PER_FILE = re.compile(r"^(?P<file>.+?\.arch):(?P<params>[A-Za-z_].*=.*)$")


def _compare_entries(args: argparse.Namespace) -> list[tuple[str | Path, dict[str, Any]]]:
    """Each file with the parameters given to it: its own (`FILE:NAME=VALUE,...`) over the -D
    values its network has. A -D value that no file's network has is an error."""
    from .api import find_arch, network_params, parse_defines
    defines = parse_defines(args.defines)
    entries, used = [], set()
    for item in args.files:
        m = _PER_FILE.match(item)
        path = find_arch(m["file"] if m else item)
        names = network_params(path, args.network)
        shared = {k: v for k, v in defines.items() if k in names}
        used |= set(shared)
        own = _file_params(m["file"], m["params"]) if m else {}
        entries.append((path, {**shared, **own}))
    unused = [k for k in defines if k not in used]
    if unused:
        raise CnnDslError.from_message(f"-D {unused[0]}: no file's network has a parameter `{unused[0]}`")
    return entries


def _file_params(file: str, text: str) -> dict[str, Any]:
    from .api import parse_value
    out = {}
    for item in _split_top(text):
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise CnnDslError.from_message(f"{file}:{text}: parameters for one file are NAME=VALUE,NAME=VALUE")
        out[name.strip()] = parse_value(value, f"{file}:{name.strip()}")
    return out


def _split_top(text: str) -> Iterator[str]:
    """`depth=18,widths=[1, 2]` -> `depth=18`, `widths=[1, 2]`: commas inside brackets stay."""
    depth, start = 0, 0
    for i, ch in enumerate(text):
        depth += (ch in "([{") - (ch in ")]}")
        if ch == "," and depth == 0:
            yield text[start:i]
            start = i + 1
    yield text[start:]


def cmd_zoo(args: argparse.Namespace) -> int:
    """One line per zoo file: its networks (those that stand alone), parameters and MACs."""
    from .api import ZOO, check
    if args.path:
        print(ZOO.resolve())
        return 0
    files = sorted(ZOO.glob("*.arch"))
    width = max((len(f.name) for f in files), default=0)
    for f in files:
        try:
            graphs = check(f)
        except CnnDslError as exc:
            _print_error(exc, args)
            return 1
        nets = "; ".join(f"{g.name:<18} {sum(n.meta['params'] for n in g.ops()):>13,} params "
                         f"{sum(n.meta['macs'] for n in g.ops()):>17,} MACs" for g in graphs)
        print(f"{f.name:<{width}}  {nets}")
    return 0


def _emit_python(graph, report, path: Path) -> None:
    from .lower.python_source import to_source
    path.write_text(to_source(graph))


def _emit_json(graph, report, path: Path) -> None:
    from .views.report_data import dump
    with path.open("w") as stream:
        dump(report, stream)


def _emit_onnx(graph, report, path: Path) -> None:
    from .lower.onnx import export_onnx
    export_onnx(graph, path)


EMITTERS = {"python": _emit_python, "json": _emit_json, "onnx": _emit_onnx}


def cmd_render(args) -> int:
    from .api import analyze
    if args.output:
        _check_diagram_target(args.output)
    graph = analyze(args.file, **_graph_args(args))
    if args.output:
        _write_diagram(graph, args, args.output)
    else:
        from .views.graphviz import to_dot
        sys.stdout.write(to_dot(graph, _drawing(args), args.rankdir, legend=not args.no_legend))
    return 0


def _check_diagram_target(target: str) -> None:
    """Fail before the (possibly long) analysis if the file name or a missing `dot` rules it out."""
    from .views.graphviz import find_dot, format_of
    if format_of(target) is not None:
        find_dot()


def _drawing(args):
    from .views.diagram import Options
    return Options(depth=args.depth, unroll=args.unroll, fold=not args.unfold, params=args.params, macs=args.macs)


def _write_diagram(graph, args, target: str) -> None:
    from .views.graphviz import format_of, to_dot, write_diagram
    text = to_dot(graph, _drawing(args), args.rankdir, legend=not args.no_legend)
    write_atomic(Path(target), lambda path: write_diagram(text, path, format_of(target), dpi=args.dpi))
    print(f"wrote {target}", file=sys.stderr)


def write_atomic(target: Path, write) -> None:
    """Write through a temporary file in the same folder, so a failure never leaves a partial file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check": cmd_check, "compile": cmd_compile, "summary": cmd_compile, "render": cmd_render,
    "compare": cmd_compare, "zoo": cmd_zoo}
STATIC = frozenset(COMMANDS)  # the commands that run once and return (not training, serving, watching)

# Commands that live in modules of their own: each has `register(subparsers) -> {name: handler}`, and
# imports what it needs (torch, pygls, ...) inside its handlers, so `cnndsl check` stays light.
COMMAND_MODULES: tuple[str, ...] = ("cnndsl.tools.fmt", "cnndsl.tools.lsp", "cnndsl.tools.serve", "cnndsl.tools.watch",
                                   "cnndsl.train.cli")

if __name__ == "__main__":
    sys.exit(main())
