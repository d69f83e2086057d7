"""The folders show the pipeline: text -> AST -> IR -> passes -> views / lowering, each importing
only what lies below it; categories and conventions are tables, not strings."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cnndsl.ops import OPS, Category
from cnndsl.passes.conventions import BASE, CONVENTIONS

PACKAGE = Path(__file__).resolve().parents[1] / "cnndsl"
ABOVE = {"cnndsl.api", "cnndsl.cli", "cnndsl.lower", "cnndsl.views"}  # what the core must not import


def imports(path: Path) -> set[str]:
    """Absolute names of the cnndsl modules a file imports (relative imports resolved)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            out |= {module} | {f"{module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return {m for m in out if m.startswith("cnndsl")}


@pytest.mark.parametrize("folder", ["ir", "ops", "passes", "elaborate", "parser"])
def test_the_core_imports_nothing_above_it(folder):
    for path in (PACKAGE / folder).rglob("*.py"):
        bad = {m for m in imports(path) if any(m == a or m.startswith(a + ".") for a in ABOVE)}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


def test_views_do_not_import_the_api_or_the_lowering():
    for path in (PACKAGE / "views").rglob("*.py"):
        bad = {m for m in imports(path) if m.split(".")[:2] in (["cnndsl", "api"], ["cnndsl", "cli"],
                                                                   ["cnndsl", "lower"])}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


def test_conventions_are_tables_over_every_op_and_never_read_the_lowering():
    for name, (table, _) in CONVENTIONS.items():
        assert set(table) == set(OPS), name
    assert set(BASE) == set(OPS)
    for path in (PACKAGE / "passes" / "conventions").glob("*.py"):
        assert "Lowering" not in path.read_text() and ".lower(" not in path.read_text(), path.name


def test_every_op_has_a_category_of_the_enum():
    assert all(isinstance(op.category, Category) for op in OPS.values())
