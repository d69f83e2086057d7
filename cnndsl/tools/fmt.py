"""`cnndsl fmt FILE...`: rewrite `.arch` files in the canonical layout (`cnndsl.tools.layout`).

`--check` changes nothing and exits 1 when a file would change (what CI runs on `archs/`);
`--diff` prints the changes as a unified diff instead of writing them. A folder stands for the
`.arch` files under it; `-` reads standard input and writes standard output."""
from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable
from pathlib import Path

Handler = Callable[[argparse.Namespace], int]


def register(subparsers: argparse._SubParsersAction) -> dict[str, Handler]:
    p = subparsers.add_parser("fmt", help="rewrite .arch files in the canonical layout (--check: only tell)")
    p.add_argument("files", nargs="+", metavar="FILE", help=".arch files or folders of them; - for standard input")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if any file would change")
    p.add_argument("--diff", action="store_true", help="write nothing; print the changes as a unified diff")
    return {"fmt": run}


def run(args: argparse.Namespace) -> int:
    from ..diagnostics import CnnDslError
    failed = changed = 0
    for path in expand(args.files):
        try:
            changed += _one(path, args)
        except CnnDslError as exc:
            print(exc.format(), file=sys.stderr)
            failed += 1
    if not args.check and not args.diff and changed:
        print(f"{changed} file{'s' if changed != 1 else ''} reformatted", file=sys.stderr)
    return 1 if failed or (args.check and changed) else 0


def expand(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        path = Path(name)
        out += sorted(str(p) for p in path.rglob("*.arch")) if path.is_dir() else [name]
    return out


def _one(name: str, args: argparse.Namespace) -> bool:
    """Format one file (or standard input); True when its layout changes."""
    from ..cli import write_atomic
    from ..diagnostics import error
    from .layout import format_text
    if name == "-":
        text = sys.stdin.read()
        sys.stdout.write(format_text(text, "<stdin>"))
        return False
    try:
        text = Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {name}: {getattr(exc, 'strerror', None) or exc}", None) from None
    new = format_text(text, name)
    if new == text:
        return False
    if args.diff:
        sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), new.splitlines(True), name, name))
    if args.check:
        print(f"would reformat {name}", file=sys.stderr)
    if not args.check and not args.diff:
        write_atomic(Path(name), lambda path: path.write_text(new, encoding="utf-8"))
        print(f"reformatted {name}", file=sys.stderr)
    return True
