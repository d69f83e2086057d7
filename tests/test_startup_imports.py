"""What a static command imports, in a fresh process: start-up is most of what a person waits for
on one file (docs/performance.md, "Start-up"), so the heavy libraries stay off the paths that do
not need them."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "torchvision", "networkx", "pydantic", "cnndsl.views.report", "cnndsl.views.diagram")


def imported_by(argv: list[str], env: dict[str, str] | None = None) -> set[str]:
    code = ("import sys; from cnndsl.cli import main; "
            f"rc = main({argv!r}); assert rc == 0, rc; print('MODULES', *sorted(sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    return set(done.stderr.split("MODULES", 1)[1].split())  # the command's own output is on stdout


@pytest.mark.parametrize("command", [["check", "archs/googlenet.arch", "archs/resnet50.arch"],
                                     ["check", "archs/densenet.arch"]])
def test_check_imports_no_heavy_library(command: list[str]) -> None:
    """A check needs neither pydantic (the op table's attributes are plain dataclasses), nor the
    report, the diagram, networkx or torch."""
    modules = imported_by(command)
    assert not [m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY]


@pytest.mark.parametrize("command", [["compile", "archs/resnet50.arch", "--json"], ["summary", "archs/resnet50.arch"]])
def test_the_report_imports_no_heavy_library(command: list[str]) -> None:
    """The command line builds and writes the report without its pydantic models
    (views.report_data; tests/test_report_data.py holds the two equal)."""
    modules = imported_by(command)
    assert "cnndsl.views.report_data" in modules
    assert not [m for m in modules if m.split(".")[0] in HEAVY[:4] or m in HEAVY]


def test_a_valid_file_is_parsed_without_lark(tmp_path):
    """The parser runs its tables from its cache (cnndsl/parser/tables.py): importing Lark and
    loading its parser was a fifth of `compile --json`'s start-up. The first run builds the cache
    (with Lark); the runs after it need neither Lark nor what Lark imports."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    assert "lark" in imported_by(["check", "archs/resnet50.arch"], env)  # no cache yet: built with Lark
    for command in (["check", "archs/resnet50.arch", "archs/densenet.arch"],
                    ["compile", "archs/resnet50.arch", "--json"]):
        modules = imported_by(command, env)
        assert not [m for m in modules if m.split(".")[0] in ("lark", "regex", "pickle")], command
