"""Includes stay inside the project (docs/security.md): a file outside it is never opened, so its
content can never reach a message, whichever way the include tries to reach it; and nothing that
is not a regular .arch file of bounded size is read."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from cnndsl.api import analyze
from cnndsl.diagnostics import CnnDslError
from cnndsl.elaborate.program import MAX_FILES
from cnndsl.source import MAX_FILE_BYTES
from hostile.harness import assert_user_error, run_cli

SECRET = "SECRET_TOKEN=correct-horse-battery-staple"
NET = "network n : 3x8x8 = relu\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """tmp/project/ (the root) beside tmp/outside/secret.arch, whose first line is a secret."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.arch").write_text(SECRET + "\n")
    root = tmp_path / "project"
    (root / "sub").mkdir(parents=True)
    (root / "link.arch").symlink_to(outside / "secret.arch")
    (root / "linkdir").symlink_to(outside)
    (root / "sub" / "lib.arch").write_text("block two(c) = 3x3:c*2\n")
    return root


def _main(root: Path, include: str) -> Path:
    path = root / "main.arch"
    path.write_text(f'include "{include}"\n{NET}')
    return path


@pytest.mark.parametrize("include, message", [
    ("../outside/secret.arch", "leads out of the project"),
    ("sub/../../outside/secret.arch", "leads out of the project"),
    ("link.arch", "is a link that leads out of the project"),
    ("linkdir/secret.arch", "is a link that leads out of the project"),
    ("sub/../link.arch", "is a link that leads out of the project"),
])
def test_an_include_out_of_the_project_is_refused_at_its_string_and_never_read(project, include, message):
    path = _main(project, include)
    run = run_cli("check", str(path), timeout=60, memory_mb=1536)
    assert_user_error(run, str(path), 1, 9, message)
    assert "correct-horse" not in run.out + run.err
    with pytest.raises(CnnDslError) as info:
        analyze(path)
    assert "correct-horse" not in str(info.value)


def test_an_absolute_include_of_a_secret_is_refused(project):
    path = _main(project, str(project.parent / "outside" / "secret.arch"))
    run = run_cli("check", str(path), timeout=60, memory_mb=1536)
    assert_user_error(run, str(path), 1, 9, "is an absolute path")
    assert "correct-horse" not in run.out + run.err


def test_includes_inside_the_project_still_work(project):
    path = project / "main.arch"
    path.write_text('include "sub/lib.arch"\ninclude "sub/../sub/lib.arch"\ninclude "std.arch"\n'
                    "network n : 3x8x8 = two(4) -> classifier(10)\n")
    assert analyze(path).outputs  # the same file twice is read once


def test_a_fifo_is_refused_without_blocking(project):
    os.mkfifo(project / "fifo.arch")
    path = _main(project, "fifo.arch")
    assert_user_error(run_cli("check", str(path), timeout=30), str(path), 1, 9, "is not a regular file")
    run = run_cli("check", str(project / "fifo.arch"), timeout=30)  # named on the command line
    assert run.rc == 1 and "not a regular file (a FIFO)" in run.err, run.err


def test_a_device_is_refused(project):
    run = run_cli("check", "/dev/zero", timeout=30, memory_mb=1024)
    assert run.rc == 1 and "not a regular file (a device)" in run.err, run.err
    (project / "zero.arch").symlink_to("/dev/zero")
    path = _main(project, "zero.arch")
    assert_user_error(run_cli("check", str(path), timeout=30, memory_mb=1024), str(path), 1, 9, "leads out")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(project):
    big = project / "big.arch"
    big.write_text("# " + "x" * (MAX_FILE_BYTES + 10) + "\n" + NET)
    run = run_cli("check", str(big), timeout=30, memory_mb=1024)
    assert run.rc == 1 and f"the limit is {MAX_FILE_BYTES:,}" in run.err, run.err
    path = _main(project, "big.arch")
    assert_user_error(run_cli("check", str(path), timeout=30, memory_mb=1024), str(path), 1, 9, "bytes; the limit is")


def test_a_program_reads_at_most_MAX_FILES_files(project):
    for i in range(MAX_FILES + 5):
        (project / f"f{i}.arch").write_text(f'include "f{i + 1}.arch"\n')
    (project / f"f{MAX_FILES + 5}.arch").write_text("")
    path = _main(project, "f0.arch")
    with pytest.raises(CnnDslError, match=f"the program includes more than {MAX_FILES} files"):
        analyze(path)


def test_includes_that_include_each_other_are_read_once(project):
    (project / "a.arch").write_text('include "b.arch"\nblock a1 = relu\n')
    (project / "b.arch").write_text('include "a.arch"\nblock b1 = relu\n')
    path = _main(project, "a.arch")
    path.write_text(path.read_text().replace("= relu", "= a1 -> b1"))
    assert len(list(analyze(path).ops())) == 2


def test_include_path_directories_are_roots_too(project):
    lib = project.parent / "lib"
    lib.mkdir()
    (lib / "mine.arch").write_text('include "../outside/secret.arch"\n')
    (lib / "ok.arch").write_text("block three(c) = 3x3:c*3\n")
    path = project / "main.arch"
    path.write_text('include "ok.arch"\nnetwork n : 3x8x8 = three(4)\n')
    with pytest.raises(CnnDslError, match='cannot find include "ok.arch"'):
        analyze(path)
    assert len(list(analyze(path, include_path=[lib]).ops())) == 6
    path.write_text('include "mine.arch"\n' + NET)
    run = run_cli("check", str(path), "--include-path", str(lib), timeout=60, memory_mb=1536)
    assert_user_error(run, str(lib / "mine.arch"), 1, 9, "leads out of the project")
    assert "correct-horse" not in run.out + run.err
    missing = run_cli("check", str(path), "--include-path", str(project / "nowhere"), timeout=60)
    assert missing.rc == 1 and "not a directory" in missing.err


def test_cannot_find_names_only_the_places_the_user_gave(tmp_path):
    (tmp_path / "main.arch").write_text('include "nowhere.arch"\n' + NET)
    run = run_cli("check", "main.arch", cwd=tmp_path, timeout=60)
    first = assert_user_error(run, "main.arch", 1, 1, 'cannot find include "nowhere.arch"')
    assert "looked in . (beside the including file) and the standard library" in run.err, run.err
    assert str(Path(analyze.__code__.co_filename).parent) not in run.err  # no path of the installation
    assert first


def test_a_syntax_error_in_an_included_file_quotes_that_file(project):
    (project / "sub" / "broken.arch").write_text("block b = 3x3:8 3x3:8\n")
    path = _main(project, "sub/broken.arch")
    run = run_cli("check", str(path), timeout=60)
    assert_user_error(run, str(project / "sub" / "broken.arch"), 1, 17, "two layers need `->` between them")
    assert "block b = 3x3:8 3x3:8" in run.err


@pytest.mark.parametrize("path, include_path", [("a\x00b.arch", []), ("", []), ("x.arch", ["d\x00"])])
def test_a_file_name_from_python_that_is_not_one_is_a_cnndsl_error(path, include_path):
    with pytest.raises(CnnDslError, match="not a file name"):
        analyze(path, include_path=include_path)
