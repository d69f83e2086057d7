"""What a static command imports, in a fresh process: start-up is most of what a person waits for
on one file (docs/performance.md, "Start-up"), so the heavy libraries stay off the paths that do
not need them."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "torchvision", "networkx", "pydantic", "cnndsl.views.report", "cnndsl.views.diagram")


def imported_by(argv: list[str]) -> set[str]:
    code = ("import sys; from cnndsl.cli import main; "
            f"rc = main({argv!r}); assert rc == 0, rc; print(' '.join(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


@pytest.mark.parametrize("command", [["check", "archs/googlenet.arch", "archs/resnet50.arch"],
                                     ["check", "archs/densenet.arch"]])
def test_check_imports_no_heavy_library(command: list[str]) -> None:
    """A check needs neither pydantic (the op table's attributes are plain dataclasses), nor the
    report, the diagram, networkx or torch."""
    modules = imported_by(command)
    assert not [m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY]


def test_the_json_report_imports_neither_torch_nor_networkx() -> None:
    modules = imported_by(["compile", "archs/resnet50.arch", "--json"])
    assert not [m for m in modules if m.split(".")[0] in ("torch", "torchvision", "networkx")]
