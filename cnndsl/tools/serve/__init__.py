"""`cnndsl serve`: the local web playground (starlette + uvicorn). See `app.py` and `worker.py`."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]


def register(subparsers: argparse._SubParsersAction) -> dict[str, Handler]:
    p = subparsers.add_parser("serve", help="a web playground: edit .arch, see the diagram and costs live")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; the page is unauthenticated)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds one analysis may take (default 10)")
    p.add_argument("--max-body", type=int, default=256_000, help="largest request in bytes (default 256000)")
    return {"serve": run}


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from .app import create_app
    except ImportError as exc:  # starlette and uvicorn are an optional extra
        print(f"cnndsl serve needs starlette and uvicorn: pip install 'cnndsl[serve]' ({exc})", file=sys.stderr)
        return 1
    print(f"cnndsl playground on http://{args.host}:{args.port}/ (Ctrl-C stops it)", file=sys.stderr)
    uvicorn.run(create_app(args.max_body, args.timeout), host=args.host, port=args.port, log_level="warning",
                limit_concurrency=32, timeout_keep_alive=5)
    return 0
