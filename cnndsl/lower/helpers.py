"""The source text of the runtime helpers (`runtime.py`), read without importing it: emitting Python
is a static path and must not import torch. The emitter copies the classes a network uses."""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

RUNTIME = Path(__file__).with_name("runtime.py")


@lru_cache(maxsize=1)
def helper_sources() -> dict[str, str]:
    """{class name: its source} for every class in runtime.py, in file order."""
    text = RUNTIME.read_text(encoding="utf-8")
    return {node.name: ast.get_source_segment(text, node) or ""
            for node in ast.parse(text).body if isinstance(node, ast.ClassDef)}


def helper_names() -> frozenset[str]:
    return frozenset(helper_sources())
