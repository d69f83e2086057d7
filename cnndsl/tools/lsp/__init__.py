"""`cnndsl lsp`: a language server for `.arch` files over stdio (pygls). See `server.py`."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]


def register(subparsers: argparse._SubParsersAction) -> dict[str, Handler]:
    subparsers.add_parser("lsp", help="the language server (stdio): diagnostics, hover, definitions, completion")
    return {"lsp": run}


def run(args: argparse.Namespace) -> int:
    try:
        from .server import serve
    except ImportError as exc:  # pygls is an optional extra
        print(f"cnndsl lsp needs pygls: pip install 'cnndsl[lsp]' ({exc})", file=sys.stderr)
        return 1
    serve()
    return 0
