"""Names in the source: blocks, networks, includes, `let`s, parameters and named tensors, for
go-to-definition, completion and document symbols. Read from the AST (spans), with includes
followed as the compiler follows them (beside the file, then the standard library)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ... import ast
from ...diagnostics import CnnDslError
from ...parser import parse
from ...source import SOURCES, Span
from .analysis import STDLIB

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Symbols:
    """One file's items and the blocks it sees (its own and its includes')."""

    path: Path
    module: ast.Module
    blocks: dict[str, tuple[Path, ast.BlockDef]] = field(default_factory=dict)
    includes: list[tuple[ast.Include, Path | None]] = field(default_factory=list)
    lets: dict[str, ast.Let] = field(default_factory=dict)
    defs: dict[str, tuple[Path, ast.FuncDef]] = field(default_factory=dict)  # value functions


def resolve_include(path: Path, name: str) -> Path | None:
    for candidate in (path.parent / name, STDLIB / name):
        if candidate.is_file():
            return candidate
    return None


class SymbolTable:
    """Parsed files by path, re-parsed when their text changes."""

    def __init__(self) -> None:
        self._parsed: dict[Path, tuple[str, ast.Module]] = {}

    def module(self, path: Path, text: str | None = None) -> ast.Module | None:
        if text is None:
            try:
                text = SOURCES.read(path, str(path))
            except (OSError, UnicodeDecodeError):
                return None
        cached = self._parsed.get(path)
        if cached is not None and cached[0] == text:
            return cached[1]
        try:
            module = parse(text, str(path))
        except CnnDslError:
            return cached[1] if cached else None  # the last text that parsed
        self._parsed[path] = (text, module)
        return module

    def symbols(self, path: Path, text: str | None = None) -> Symbols | None:
        module = self.module(path, text)
        if module is None:
            return None
        out = Symbols(path, module)
        self._collect(path, module, out, set())
        return out

    def _collect(self, path: Path, module: ast.Module, out: Symbols, seen: set[Path]) -> None:
        seen.add(path.resolve())
        for item in module.items:
            if isinstance(item, ast.BlockDef):
                out.blocks.setdefault(item.name, (path, item))
            elif isinstance(item, ast.Let):
                out.lets.setdefault(item.name, item)
            elif isinstance(item, ast.FuncDef):
                out.defs.setdefault(item.name, (path, item))
            elif isinstance(item, ast.Include):
                target = resolve_include(path, item.path)
                if path == out.path:
                    out.includes.append((item, target))
                if target is not None and target.resolve() not in seen:
                    included = self.module(target)
                    if included is not None:
                        self._collect(target, included, out, seen)


def word_at(line_text: str, column: int) -> str | None:
    """The name under a 0-based column."""
    for m in WORD.finditer(line_text):
        if m.start() <= column <= m.end():
            return m.group()
    return None


def enclosing_block(module: ast.Module, line: int) -> ast.BlockDef | None:
    for item in module.items:
        if isinstance(item, ast.BlockDef) and item.span.line <= line <= item.span.end_line:
            return item
    return None


def local_names(block: ast.BlockDef) -> dict[str, Span]:
    """Names a block or network binds: parameters, `let`s, `as` tensors and loop variables; each
    with the span of its name."""
    out: dict[str, Span] = {p.name: _head(p.span, p.name) for p in block.params}
    for node in _walk(block.body):
        if isinstance(node, ast.Named):
            s = node.span
            out.setdefault(node.name, Span(s.file, s.end_line, s.end_column - len(node.name), s.end_line,
                                           s.end_column))
        elif isinstance(node, ast.Let):
            out.setdefault(node.name, node.span)
    return out


def _head(span: Span, name: str) -> Span:
    return Span(span.file, span.line, span.column, span.line, span.column + len(name))


def _walk(obj: object) -> Iterator[ast.Node]:
    if isinstance(obj, tuple):
        for item in obj:
            yield from _walk(item)
    elif isinstance(obj, ast.Node):
        yield obj
        for name in obj.__dataclass_fields__:
            if name != "span":
                yield from _walk(getattr(obj, name))


def signature(block: ast.BlockDef | ast.FuncDef) -> str:
    params = ", ".join(p.name + ("=..." if p.default is not None else "") for p in block.params)
    if isinstance(block, ast.FuncDef):
        return f"def {block.name}({params})"
    kind = "network" if block.is_network else "block"
    return f"{kind} {block.name}({params})" if block.params else f"{kind} {block.name}"


def call_before(text: str, line: int, column: int) -> str | None:
    """The name of the call whose parentheses the 0-based (line, column) is inside, if any:
    `bottleneck(64, |` -> "bottleneck"."""
    lines = text.split("\n")
    before = "\n".join(lines[:line] + [lines[line][:column] if line < len(lines) else ""])
    depth = 0
    for i in range(len(before) - 1, -1, -1):
        ch = before[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*$", before[:i])
                return m.group(1) if m else None
            depth -= 1
    return None
