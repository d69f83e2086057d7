"""Every hostile file of tests/hostile/ (one per case of issue 10, and more) is refused by
`cnndsl check` with exit status 1 and a diagnostic at the file, line and column its header names,
never exit 2 or a traceback. A case whose fix belongs to another part of the compiler is a strict
xfail naming that part, so its fix shows up here as an unexpected pass."""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from cnndsl.api import check
from cnndsl.cli import main
from cnndsl.diagnostics import CnnDslError
from hostile.harness import Run, expectation, hostile_files, run_cli

FILES = hostile_files()


def _cases(files: list[Path]) -> list:
    out = []
    for path in files:
        why = expectation(path).xfail
        marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
        out.append(pytest.param(path, marks=marks, id=path.stem))
    return out


def _check_in_process(path: Path, args: list[str]) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["check", str(path), *args])
    return Run(rc, out.getvalue(), err.getvalue())


@pytest.mark.parametrize("path", _cases(FILES))
def test_check_refuses_the_file_where_its_header_says(path):
    expected = expectation(path)
    expected.check(_check_in_process(path, expected.args), path)


@pytest.mark.parametrize("path", _cases([p for p in FILES if not expectation(p).args]))
def test_the_python_api_raises_a_located_cnndsl_error(path):
    with pytest.raises(CnnDslError) as info:
        check(path)
    expectation(path).check_error(info.value, path)


# A few through the real command line, in a subprocess bounded in time and memory: one per kind.
SUBPROCESS = ["include_etc_passwd", "include_proc_environ", "int_1e309", "zero_pow_negative", "list_doubling",
              "block_value_doubling", "evaluation_steps", "unary_chain", "define_overflow", "bidi_override"]


@pytest.mark.parametrize("name", SUBPROCESS)
def test_the_command_line_exits_1_with_a_located_message(name):
    path = next(p for p in FILES if p.stem == name)
    expected = expectation(path)
    expected.check(run_cli("check", str(path), *expected.args, timeout=60, memory_mb=1536), path)


def test_nothing_of_an_absolute_include_reaches_the_output():
    secret = Path("/etc/passwd").read_text(errors="replace").splitlines()[0] if Path("/etc/passwd").exists() else None
    passwd = next(p for p in FILES if p.stem == "include_etc_passwd")
    run = run_cli("check", str(passwd), env={"HOSTILE_TOKEN": "s3cr3t-xyzzy"})
    environ = run_cli("check", str(next(p for p in FILES if p.stem == "include_proc_environ")),
                      env={"HOSTILE_TOKEN": "s3cr3t-xyzzy"})
    assert secret is None or secret not in run.err + run.out
    assert "s3cr3t-xyzzy" not in environ.err + environ.out
