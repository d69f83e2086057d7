"""`cnndsl`: check, compile, summarise, compare and draw `.arch` files.

`check`, `summary`, `render`, `compile` without `--emit` and `compare` without `--measure` never
import torch."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
from pathlib import Path

from .diagnostics import CnnDslError


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME=VALUE",
                   help="set a network parameter, e.g. -D depth=101 -D aux=true")
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


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return int(text)


def _costs(p: argparse.ArgumentParser) -> None:
    from .passes import CONVENTIONS, DTYPES
    p.add_argument("--convention", choices=list(CONVENTIONS), default="torchvision",
                   help="how to count operations: " + "; ".join(f"{k}: {v[1]}" for k, v in CONVENTIONS.items()))
    p.add_argument("--batch", type=int, default=1, help="batch size for activation memory (default 1)")
    p.add_argument("--dtype", choices=list(DTYPES), default="float32", help="activation dtype for memory")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnndsl", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="report every error in .arch files; exit 1 if any")
    p.add_argument("files", nargs="+")
    _common(p)
    for name, help_ in (("compile", "analyse a network: per-layer table, or JSON, or emitted code"),
                        ("summary", "the per-layer table (same as compile without --emit)")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("file")
        _common(p)
        p.add_argument("--json", action="store_true", help="print the report as JSON")
        _costs(p)
        if name == "compile":
            p.add_argument("--emit", choices=["python", "onnx", "json"], help="write the network in this form to -o")
            p.add_argument("-o", "--output", help="output file for --emit")
            p.add_argument("--diagram", metavar="FILE", help="also draw the network: .svg, .png, .pdf or .dot")
            _diagram_options(p)
    p = sub.add_parser("render", help="draw a network as .svg, .png, .pdf or .dot (graphviz)")
    p.add_argument("file")
    p.add_argument("-o", "--output", metavar="FILE", help="output file (default: DOT text on stdout)")
    _common(p)
    _diagram_options(p)
    p = sub.add_parser("compare", help="networks side by side: params, operations, memory (and measured latency)")
    p.add_argument("files", nargs="+", help=".arch files (each file's last network)")
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
    for name in COMMAND_MODULES:
        COMMANDS.update(importlib.import_module(name).register(sub))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except CnnDslError as exc:
        print(exc.format(), file=sys.stderr)
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


def _graph_args(args):
    from .api import parse_defines, parse_dims
    return dict(input=parse_dims(args.input) if args.input is not None else None, network=args.network,
                include_path=args.include_path, **parse_defines(args.defines))


def cmd_check(args) -> int:
    """Every network of each file (the main one with -D values), or the one --network names."""
    from .api import analyze, check
    failed = 0
    for f in args.files:
        try:
            kw = _graph_args(args)
            graphs = [analyze(f, **kw)] if args.network else check(f, **{k: v for k, v in kw.items() if k != "network"})
        except CnnDslError as exc:
            print(exc.format(), file=sys.stderr)
            failed += 1
            continue
        summary = ", ".join(f"{g.name}: {len(g)} nodes, {sum(n.meta['params'] for n in g.ops()):,} params"
                            for g in graphs)
        print(f"{f}: ok ({summary})")
    return 1 if failed else 0


def cmd_compile(args) -> int:
    from .api import analyze
    from .views.report import build_report, format_table
    diagram = getattr(args, "diagram", None)
    if diagram:
        _check_diagram_target(diagram)
    graph = analyze(args.file, **_graph_args(args))
    report = build_report(graph, batch=args.batch, dtype=args.dtype)
    if diagram:
        _write_diagram(graph, args, diagram)
    emit = getattr(args, "emit", None)
    if emit:
        if not args.output:
            raise CnnDslError.from_message(f"--emit {emit} needs -o FILE")
        write_atomic(Path(args.output), lambda path: EMITTERS[emit](graph, report, path))
        print(f"wrote {args.output}", file=sys.stderr)
    print(report.model_dump_json(indent=2) if args.json else format_table(report, args.convention))
    return 0


def cmd_compare(args) -> int:
    from .views import compare
    rows = compare.rows(args.files, convention=args.convention, batch=args.batch, dtype=args.dtype)
    if args.measure:
        compare.measure(rows, args.files, devices=args.device, batch=args.batch, repeat=args.repeat)
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


def _emit_python(graph, report, path: Path) -> None:
    from .lower.python_source import to_source
    path.write_text(to_source(graph))


def _emit_json(graph, report, path: Path) -> None:
    path.write_text(report.model_dump_json(indent=2))


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
    write_atomic(Path(target), lambda path: write_diagram(text, path, format_of(target)))
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


COMMANDS = {"check": cmd_check, "compile": cmd_compile, "summary": cmd_compile, "render": cmd_render,
            "compare": cmd_compare}

# Commands that live in modules of their own: each has `register(subparsers) -> {name: handler}`, and
# imports what it needs (torch, pygls, ...) inside its handlers, so `cnndsl check` stays light.
COMMAND_MODULES: tuple[str, ...] = ()

if __name__ == "__main__":
    sys.exit(main())
