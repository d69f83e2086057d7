"""`cnndsl serve` over HTTP: the page's security headers, the zoo as examples, the analysis, and
the limits on what a stranger's request can make the server do."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest

from playground_server import ROOT, playground, post

SMALL = "network n : 3x32x32 =\n  3x3:16 -> gap -> fc:10\n"


@pytest.fixture(scope="module")
def server():
    with playground("--timeout", "3") as (base, err):
        yield base
    assert "torch imported: False" in err[0], err[0]


def test_page_and_headers(server):
    with urllib.request.urlopen(server + "/", timeout=30) as response:
        page, headers = response.read().decode(), response.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert '<script src="/static/app.js"' in page and "onclick" not in page and "<script>" not in page


def test_examples_are_the_zoo(server):
    names = json.loads(urllib.request.urlopen(server + "/api/examples", timeout=30).read())
    assert names == sorted(p.stem for p in (ROOT / "archs").glob("*.arch"))
    text = urllib.request.urlopen(server + "/api/examples/lenet5", timeout=30).read().decode()
    assert text == (ROOT / "archs" / "lenet5.arch").read_text()
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(server + "/api/examples/..%2F..%2Fetc%2Fpasswd", timeout=30)


def test_analysis_costs_diagram_and_errors(server):
    status, _, body = post(server, "/api/analyze", {"text": SMALL})
    reply = json.loads(body)
    assert status == 200 and reply["ok"] and reply["params"] == 618 and reply["svg"].lstrip().startswith("<")
    assert [layer["line"] for layer in reply["layers"]][:1] == [2]
    status, _, body = post(server, "/api/analyze", {"text": SMALL.replace("fc:10", "fc:10 -> relu2")})
    error, = json.loads(body)["diagnostics"]
    assert (error["file"], error["line"], error["column"]) == ("playground.arch", 2, 29)
    assert "did you mean `relu`" in error["text"] and "^^^^^" in error["text"]
    reply = json.loads(post(server, "/api/analyze", {"text": 'include "resnet.arch"\n'
                                                     "network r : 3x64x64 = resnet(depth=18, num_classes=7)\n"})[2])
    assert reply["ok"] and reply["outputs"] == {"output": [7]}


@pytest.mark.parametrize("include", ["/etc/passwd", "../README.md", "../archs/resnet.arch", "nope.arch",
                                     "../../cnndsl/stdlib/std.arch"])
def test_includes_stay_in_the_zoo_and_the_stdlib(server, include):
    reply = json.loads(post(server, "/api/analyze", {"text": f'include "{include}"\nnetwork n : 3x8x8 = relu\n'})[2])
    error, = reply["diagnostics"]
    assert "is refused" in error["message"] and error["line"] == 1 and "root:" not in json.dumps(reply)


def test_request_limits(server):
    assert post(server, "/api/analyze", {"text": "x" * 300_000})[0] == 413
    assert post(server, "/api/analyze", b"text", content_type="text/plain")[0] == 415
    assert post(server, "/api/analyze", b"{not json")[0] == 400
    assert post(server, "/api/analyze", {"text": 3})[0] == 422
    assert post(server, "/api/analyze", {"text": SMALL}, headers={"Host": "attacker.example"})[0] == 400


def test_a_hostile_file_is_cut_off_and_the_next_request_is_served(server):
    status, _, body = post(server, "/api/analyze", {"text": "network n : 3x8x8 = (relu*10000)*24\n"})
    assert status == 200 and "was stopped" in json.loads(body)["diagnostics"][0]["message"]
    assert json.loads(post(server, "/api/analyze", {"text": SMALL})[2])["params"] == 618


def test_python_download_is_the_emitted_source(server):
    reply = json.loads(post(server, "/api/python", {"text": SMALL})[2])
    assert reply["ok"] and "class N(nn." in reply["python"]
    compile(reply["python"], "n.py", "exec")  # well-formed Python; the server never runs it


def test_the_analysis_process_never_imports_torch():
    request = json.dumps({"kind": "analyze", "text": (ROOT / "archs" / "googlenet.arch").read_text()})
    code = ("import atexit, runpy, sys\n"
            "atexit.register(lambda: sys.stderr.write('torch imported: %s' % ('torch' in sys.modules)))\n"
            "sys.argv = ['worker']\nrunpy.run_module('cnndsl.tools.serve.worker', run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", code], input=request + "\n", capture_output=True, text=True,
                          cwd=ROOT / "archs", env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120,
                          check=False)
    assert json.loads(done.stdout)["ok"] and done.stderr.endswith("torch imported: False"), done.stderr
