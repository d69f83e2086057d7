"""`cnndsl serve` in a subprocess on a free loopback port, for the playground's tests."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The server under a wrapper that reports at exit whether torch was ever imported.
WRAPPER = ("import atexit, runpy, sys\n"
           "atexit.register(lambda: sys.stderr.write('torch imported: %s\\n' % ('torch' in sys.modules)))\n"
           "sys.argv = ['cnndsl'] + sys.argv[1:]\n"
           "runpy.run_module('cnndsl', run_name='__main__')\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def playground(*args: str) -> Iterator[tuple[str, list[str]]]:
    """The base URL of a running playground; after the block, its standard error in the list."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-c", WRAPPER, "serve", "--port", str(port), *args], cwd=ROOT,
                              env=env, stderr=subprocess.PIPE, text=True)
    base, err = f"http://127.0.0.1:{port}", []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/api/examples", timeout=5).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the playground did not start: {server.stderr.read()}") from None
                time.sleep(0.2)
        yield base, err
    finally:
        server.send_signal(signal.SIGINT)
        try:
            _, stderr = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            _, stderr = server.communicate()
        err.append(stderr)


def post(base: str, path: str, body: object, content_type: str = "application/json",
         headers: dict[str, str] | None = None) -> tuple[int, dict, str]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method="POST",
                                     headers={"Content-Type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()
