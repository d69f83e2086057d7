"""The playground's web application (Starlette): the page, the zoo as examples, and the analysis.

Every response carries a strict Content-Security-Policy (scripts and styles from this server
only, nothing inline, no frames, no plugins); the page builds everything it shows from the JSON
with DOM text nodes and shows the diagram as an image, so no text from a `.arch` file can run
as script. Request bodies are capped, must be JSON, and are analysed in a worker process that
is killed past the time limit. Only Host headers naming this machine are served (DNS rebinding)."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .worker import ARCHS, Worker

STATIC = Path(__file__).resolve().parent / "static"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY", "Cache-Control": "no-store"}
STATIC_FILES = {"app.js": "text/javascript", "app.css": "text/css"}


class Limits:
    def __init__(self, max_body: int, timeout: float) -> None:
        self.max_body, self.timeout = max_body, timeout


def examples() -> dict[str, Path]:
    return {p.stem: p for p in sorted(ARCHS.glob("*.arch"))}


async def read_request(request: Request, limits: Limits) -> dict[str, Any] | Response:
    """The JSON body, or the error response: too large, not JSON, or fields of the wrong kind."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return PlainTextResponse("send application/json", 415)
    if int(request.headers.get("content-length") or 0) > limits.max_body:
        return PlainTextResponse(f"the request is larger than {limits.max_body} bytes", 413)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limits.max_body:
            return PlainTextResponse(f"the request is larger than {limits.max_body} bytes", 413)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return PlainTextResponse("the body is not JSON", 400)
    if not isinstance(data, dict):
        data = {}
    network, depth = data.get("network"), data.get("depth")
    if not isinstance(data.get("text"), str) or \
            not (network is None or (isinstance(network, str) and network.isidentifier())) or \
            not (depth is None or (isinstance(depth, int) and 1 <= depth <= 20)):
        return PlainTextResponse('expected {"text": str, "network": name or null, "depth": 1..20 or null}', 422)
    return {"text": data["text"], "network": network, "depth": depth}


def create_app(max_body: int = 256_000, timeout: float = 10.0) -> Starlette:
    limits = Limits(max_body, timeout)
    # Emitting Python is static (it never imports torch), so the one capped worker does it too.
    analysis = Worker(timeout)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await analysis.start()
        yield
        await analysis.stop()

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers=HEADERS)

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC_FILES:
            return PlainTextResponse("not found", 404, headers=HEADERS)
        return FileResponse(STATIC / name, media_type=STATIC_FILES[name], headers=HEADERS)

    async def example_list(request: Request) -> Response:
        return JSONResponse(sorted(examples()), headers=HEADERS)

    async def example(request: Request) -> Response:
        path = examples().get(request.path_params["name"])
        if path is None:
            return PlainTextResponse("no such example", 404, headers=HEADERS)
        return PlainTextResponse(path.read_text(), headers=HEADERS)

    async def analyze(request: Request) -> Response:
        data = await read_request(request, limits)
        if isinstance(data, Response):
            return data
        return JSONResponse(await analysis.run({"kind": "analyze", **data}), headers=HEADERS)

    async def python(request: Request) -> Response:
        data = await read_request(request, limits)
        if isinstance(data, Response):
            return data
        return JSONResponse(await analysis.run({"kind": "python", **data}), headers=HEADERS)

    routes = [Route("/", page), Route("/static/{name}", static), Route("/api/examples", example_list),
              Route("/api/examples/{name}", example), Route("/api/analyze", analyze, methods=["POST"]),
              Route("/api/python", python, methods=["POST"])]
    hosts = ["127.0.0.1", "localhost", "[::1]", "::1"]
    return Starlette(routes=routes, lifespan=lifespan,
                     middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)])
