"""Generated code is inert (docs/security.md, "Generated code"): whatever a file and its name hold,
`--emit python` writes a module that only defines its network, and every layer is its own module.

The emitted source is only parsed and compiled here, never run (tests/test_emit_inert.py also
imports it with traps on everything that could run code)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cnndsl.api import analyze
from cnndsl.lower import to_source
from hostile.harness import run_cli

ALLOWED = (ast.Import, ast.ImportFrom, ast.ClassDef, ast.FunctionDef)


def assert_inert(source: str) -> None:
    """Only a docstring, imports, `__all__` and definitions at module level; the class bodies
    define methods only, so importing the module runs nothing of the file's."""
    tree = ast.parse(source)
    compile(tree, "<emitted>", "exec")
    for i, node in enumerate(tree.body):
        docstring = i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        all_ = isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]
        assert docstring or all_ or isinstance(node, ALLOWED), ast.dump(node)[:200]
        if isinstance(node, ast.ClassDef):
            # methods, a docstring, and constants (`input_shape = (3, 224, 224)`, `shape: List[int]`)
            assert all(isinstance(b, (ast.FunctionDef, ast.Expr, ast.Pass)) or _constant(b) for b in node.body)


def _constant(node: ast.stmt) -> bool:
    if not isinstance(node, (ast.Assign, ast.AnnAssign)):
        return False
    return node.value is None or isinstance(node.value, (ast.Constant, ast.Tuple))


def _emit(path: Path) -> str:
    return to_source(analyze(path))


NAMED = [
    pytest.param('evil""";print("x");""".arch', id="docstring-closing-name"),
    pytest.param('nl\nprint(1)\n.arch', id="newline-in-name"),
    pytest.param("plain.arch", id="plain"),
]


@pytest.mark.parametrize("name", NAMED)
def test_a_file_name_cannot_inject_code(tmp_path, name):
    path = tmp_path / name
    path.write_text("network n : 3x8x8 = 3x3:4\n")
    assert_inert(_emit(path))


@pytest.mark.parametrize("network", [
    "None",
    "false_",
    "none",  # class None
    "resnet",
])
def test_a_network_name_is_a_valid_class_name(write_arch, network):
    assert_inert(_emit(write_arch(f"network {network} : 3x8x8 = 3x3:4\n")))


def test_emit_of_an_unusable_name_never_exits_0_with_broken_code(write_arch, tmp_path):
    out = tmp_path / "net.py"
    run = run_cli("compile", str(write_arch("network None : 3x8x8 = relu\n")), "--emit", "python", "-o", str(out),
                  timeout=120, memory_mb=8192)
    assert "Traceback" not in run.err
    assert run.rc == 1 or (run.rc == 0 and ast.parse(out.read_text()))


def test_a_block_named_like_a_dunder_gets_no_mangled_attribute(write_arch):
    tree = ast.parse(_emit(write_arch("block __import__ = 3x3:4\nnetwork n : 3x8x8 = __import__\n")))
    attrs = [n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
             and n.value.id == "self"]
    assert attrs and not [a for a in attrs if a.startswith("__") and not a.endswith("__")]


COLLIDING = "block b_c = 3x3:4\nblock a = b_c\nblock a1_b_c = 3x3:4\nnetwork n : 3x8x8 = a -> a1_b_c\n"


def test_two_layers_never_share_a_module_name(write_arch):
    graph = analyze(write_arch(COLLIDING))
    keys = [node.id for node in graph.ops()]  # a node's id is its module's path
    assert len(keys) == len(set(keys)), keys


def test_load_of_colliding_names_builds_one_module_per_layer(write_arch):
    import cnndsl
    model = cnndsl.load(write_arch(COLLIDING))
    assert sum(1 for name in model.state_dict() if name.endswith("weight")) == 2
