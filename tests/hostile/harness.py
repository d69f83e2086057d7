"""Running cnndsl on hostile input: in a subprocess with hard time and memory bounds, and the
checks every run must pass (an exit status of 0 or 1, never 2; no traceback; an error located at
file:line:col)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
HEADER = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.*)$", re.MULTILINE)
EXPECT = re.compile(r"^# expect: (?P<line>\d+|\?):(?P<col>\d+|\?) (?P<msg>.+)$", re.MULTILINE)
FORBID = re.compile(r"^# forbid: (?P<text>.+)$", re.MULTILINE)
WHERE = re.compile(r"^# where: (?P<file>.+)$", re.MULTILINE)
ARGS = re.compile(r"^# args: (?P<args>.+)$", re.MULTILINE)
XFAIL = re.compile(r"^# xfail: (?P<reason>.+)$", re.MULTILINE)


@dataclass
class Run:
    rc: int
    out: str
    err: str

    def first_error(self) -> re.Match | None:
        return HEADER.search(self.err)


def bounded(memory_mb: int, *args: str) -> list[str]:
    """A command line that runs `python ARGS` with at most `memory_mb` of address space and no
    core dump (set in the child, which then execs the Python that runs ARGS)."""
    size = memory_mb * 1024 * 1024
    launcher = ("import os, resource, sys; "
                f"resource.setrlimit(resource.RLIMIT_AS, ({size}, {size})); "
                "resource.setrlimit(resource.RLIMIT_CORE, (0, 0)); "
                "os.execv(sys.executable, [sys.executable] + sys.argv[1:])")
    return [sys.executable, "-c", launcher, *args]


def run_cli(*args: str, timeout: float = 60, memory_mb: int = 2048, cwd: Path = ROOT,
            env: dict[str, str] | None = None) -> Run:
    """`python -m cnndsl ARGS` with this checkout's cnndsl, killed past `timeout` seconds, and
    refused memory past `memory_mb` of address space."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full_env.pop("CNNDSL_DEBUG", None)
    proc = subprocess.run(bounded(memory_mb, "-m", "cnndsl", *args), check=False, cwd=cwd, env=full_env,
                          capture_output=True, text=True, errors="replace", timeout=timeout)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def assert_user_error(run: Run, file: str | None = None, line: int | None = None, col: int | None = None,
                      message: str | None = None) -> re.Match:
    """Exit 1 with a located diagnostic, and no sign of a bug."""
    assert "Traceback" not in run.err and "internal error" not in run.err, run.err[-3000:]
    assert run.rc == 1, (run.rc, run.err[-3000:])
    first = run.first_error()
    assert first is not None, run.err[-3000:]
    if file is not None:
        assert first["file"] == file, first.group(0)
    if line is not None:
        assert (int(first["line"]), int(first["col"])) == (line, col), first.group(0)
    if message is not None:
        assert message in first["msg"], first.group(0)
    return first


def hostile_files() -> list[Path]:
    return sorted(p for p in HERE.glob("*.arch") if p.is_file())


@dataclass
class Expectation:
    """What a hostile file's header says: `# expect: LINE:COL MESSAGE` (`?:?` any place, `*` any
    message), `# args: ...` for the command line, `# where: SOURCE` when the error is in one of
    them, `# forbid: TEXT` that must not be in the message, `# xfail: WHY` for a fix that belongs
    to another part (docs/security.md)."""

    line: int | None
    col: int | None
    message: str | None
    args: list[str]
    forbid: str | None
    xfail: str | None
    where: str | None  # the source the error is in, when not the file (`-D depth`, `--input`)

    def check(self, run: Run, path: Path) -> None:
        first = assert_user_error(run, self.where or str(path), self.line, self.col, self.message)
        if self.forbid:
            assert self.forbid not in first["msg"], first.group(0)

    def check_error(self, exc: BaseException, path: Path) -> None:
        """The same for a CnnDslError raised through the Python API."""
        first = exc.diagnostics[0]
        assert first.span is not None, str(exc)
        assert first.span.file == (self.where or str(path)), str(exc)
        if self.line is not None:
            assert (first.span.line, first.span.column) == (self.line, self.col), str(exc)
        assert self.message is None or self.message in first.message, str(exc)
        assert self.forbid is None or self.forbid not in first.message, str(exc)


def expectation(path: Path) -> Expectation:
    text = path.read_text(errors="replace")
    m = EXPECT.search(text)
    assert m, f"{path.name} has no `# expect:` line"
    args, forbid, xfail, where = ARGS.search(text), FORBID.search(text), XFAIL.search(text), WHERE.search(text)
    return Expectation(None if m["line"] == "?" else int(m["line"]), None if m["col"] == "?" else int(m["col"]),
                       None if m["msg"] == "*" else m["msg"], args["args"].split() if args else [],
                       forbid["text"] if forbid else None, xfail["reason"] if xfail else None,
                       where["file"] if where else None)
