"""`cnndsl watch FILE -o out.svg`: redraw the diagram (and print the cost table) every time the
file, or a file it includes, is saved. A save that does not compile prints its errors and keeps
the last good drawing. Ctrl-C stops it."""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

Handler = Callable[[argparse.Namespace], int]


def register(subparsers: argparse._SubParsersAction) -> dict[str, Handler]:
    p = subparsers.add_parser("watch", help="redraw a network's diagram (and re-report) on every save")
    p.add_argument("file")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the diagram: .svg, .png, .pdf or .dot")
    p.add_argument("--network", help="which network of the file (default: the last one)")
    p.add_argument("--quiet", action="store_true", help="do not print the cost table")
    p.add_argument("--once", action="store_true", help="draw once and stop (no watching)")
    return {"watch": run}


def run(args: argparse.Namespace) -> int:
    from ..views.graphviz import find_dot, format_of
    if format_of(args.output) is not None:
        find_dot()  # fail now, not at the first save, when graphviz is missing
    files = redraw(args)
    if args.once:
        return 0 if files else 1
    from watchfiles import watch
    watched = files or {Path(args.file).resolve()}
    print(f"watching {args.file} (Ctrl-C stops)", file=sys.stderr)
    for changes in watch(*{p.parent for p in watched}, debounce=200, raise_interrupt=False):
        if {Path(path).resolve() for _, path in changes} & watched:
            watched = redraw(args) or watched
    return 0


def redraw(args: argparse.Namespace) -> set[Path]:
    """Compile, draw and report once; the files the network was read from (empty on errors)."""
    from ..api import analyze
    from ..cli import write_atomic
    from ..diagnostics import CnnDslError
    from ..views.diagram import Options
    from ..views.graphviz import format_of, to_dot, write_diagram
    from ..views.report import build_report, format_table
    stamp = time.strftime("%H:%M:%S")
    try:
        graph = analyze(args.file, network=args.network)
    except CnnDslError as exc:
        print(f"[{stamp}] {args.file}: errors; {args.output} keeps the last good drawing\n{exc.format()}",
              file=sys.stderr)
        return set()
    text = to_dot(graph, Options())
    write_atomic(Path(args.output), lambda path: write_diagram(text, path, format_of(args.output)))
    report = build_report(graph)
    if not args.quiet:
        print(format_table(report, "torchvision"))
    print(f"[{stamp}] wrote {args.output}: {report.network}, {report.params:,} params, {report.macs:,} MACs",
          file=sys.stderr)
    return {_real(n.span.file) for n in graph if n.span} | {Path(args.file).resolve()}


def _real(file: str) -> Path:
    if file.startswith("<std>/"):
        return Path(__file__).resolve().parents[1] / "stdlib" / file[len("<std>/"):]
    return Path(file).resolve()
