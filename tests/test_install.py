"""Installing: the version is written once, the wheel's data is declared, and a clone named
`cnndsl` in the working folder does not shadow the installed package."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import cnndsl

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_version_is_written_once():
    assert "version" not in PYPROJECT["project"] and "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "cnndsl.__version__"}
    assert cnndsl.__version__.count(".") == 2


def test_the_package_data_ships_the_zoo_grammar_and_types():
    data = PYPROJECT["tool"]["setuptools"]["package-data"]["cnndsl"]
    assert {"zoo/*.arch", "grammar.lark", "py.typed", "stdlib/*.arch"} <= set(data)
    assert (ROOT / "cnndsl" / "py.typed").is_file() and list((ROOT / "cnndsl" / "zoo").glob("*.arch"))


def test_a_clone_named_cnndsl_in_the_working_folder_does_not_shadow_the_package(tmp_path):
    """Editable installs put the repository on sys.path with a plain .pth file (package-dir
    {"" = "."} makes setuptools choose one over its import hook). A path entry that holds the
    regular package wins over the namespace package the clone's folder would otherwise be; an
    import hook, asked only after the path, loses to it."""
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"": "."}
    (tmp_path / "cnndsl").symlink_to(ROOT, target_is_directory=True)  # ./cnndsl is the clone
    site = tmp_path / "site"
    site.mkdir()
    (site / "__editable__.cnndsl.pth").write_text(f"{ROOT}\n")  # what the editable install writes
    code = (f"import site, sys; site.addsitedir({str(site)!r}); import cnndsl; "
            "print(cnndsl.__file__); print(cnndsl.load.__name__)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(ROOT / "cnndsl" / "__init__.py"), "load"]
