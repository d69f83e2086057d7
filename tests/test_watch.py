"""`cnndsl watch FILE -o out.svg`: a save redraws the diagram and re-reports; a save with errors
keeps the last good drawing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_redraws_on_every_save(tmp_path):
    arch, svg = tmp_path / "n.arch", tmp_path / "n.svg"
    arch.write_text("network n : 3x32x32 = 3x3:16 -> gap -> fc:10\n")
    log = (tmp_path / "log").open("w+")
    watcher = subprocess.Popen([sys.executable, "-m", "cnndsl", "watch", str(arch), "-o", str(svg)], cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        wait_for(lambda: "watching" in (tmp_path / "log").read_text())
        first = svg.read_text()
        assert "618" in (tmp_path / "log").read_text()  # the cost table's total
        arch.write_text("network n : 3x32x32 = 3x3:32 -> gap -> fc:10\n")
        wait_for(lambda: svg.read_text() != first)
        assert "32x32x32" in svg.read_text()
        wait_for(lambda: "1,226 params" in (tmp_path / "log").read_text())
        drawn = svg.read_text()
        arch.write_text("network n : 3x32x32 = 3x3:32 -> gap -> fc:10 -> relu2\n")
        wait_for(lambda: "relu2" in (tmp_path / "log").read_text())
        assert "did you mean `relu`" in (tmp_path / "log").read_text() and svg.read_text() == drawn
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.wait(timeout=30)
        log.close()


def test_once_draws_and_stops(tmp_path, capsys):
    from cnndsl.cli import main
    assert main(["watch", str(ROOT / "archs" / "lenet5.arch"), "-o", str(tmp_path / "l.dot"), "--once", "--quiet"]) == 0
    assert (tmp_path / "l.dot").read_text().startswith('digraph "lenet5"')
