"""Reading a root `.arch` file and everything it includes into one `Program`.

Includes stay inside the project (docs/security.md). The roots are the directory of the root file
(the one named on the command line), the `--include-path` directories and the standard library.
`include "x.arch"` is looked for beside the including file, then in each `--include-path`
directory, then in the standard library, and is refused, at the include's string and without
opening the target, when the path is absolute, does not end in `.arch`, leads out of every root
(by `..` or through a symbolic link), or names something other than a regular file of at most
`source.MAX_FILE_BYTES` bytes. A program reads at most MAX_FILES files and the parser's byte and
token budgets are shared by all of them.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from .. import ast
from ..diagnostics import CnnDslError, Note, error
from ..parser import Budget, parse_file
from ..source import MAX_FILE_BYTES, Span
from .functions import BUILTINS

STDLIB = Path(__file__).resolve().parents[1] / "stdlib"
MAX_FILES = 256  # files in one program, the root included; the zoo's programs read at most 4
_INSIDE = ("an included file is found beside the including file, in an --include-path directory or in "
           "the standard library, and must stay inside them")


@dataclass
class FileInfo:
    path: str
    unit: ast.UnitDecl | None = None


@dataclass
class Program:
    root: str
    files: dict[str, FileInfo] = field(default_factory=dict)
    blocks: dict[str, ast.BlockDef] = field(default_factory=dict)
    lets: list[ast.Let] = field(default_factory=list)
    defs: dict[str, ast.FuncDef] = field(default_factory=dict)  # value functions, by name
    networks: list[ast.BlockDef] = field(default_factory=list)  # of the root file, in order

    def main(self, name: str | None = None) -> ast.BlockDef:
        if name is not None:
            block = self.blocks.get(name)
            if block is None or not block.is_network:
                known = ", ".join(b.name for b in self.blocks.values() if b.is_network) or "none"
                raise error(f"no network `{name}` in {self.root} (networks: {known})", None)
            return block
        if not self.networks:
            raise error(f"{self.root} defines no `network`", None,
                        help="add e.g. `network mynet : 3x32x32 = 3x3:16 -> gap -> fc:10`")
        return self.networks[-1]


@dataclass(frozen=True)
class _Dir:
    """A directory includes are looked for in: its real path, and how the user would name it."""

    real: Path
    shown: str


@dataclass(frozen=True)
class _Source:
    """A file being read: where it really is, and the name its spans carry."""

    real: Path
    shown: str
    is_root: bool = False

    def dir(self) -> _Dir:
        return _Dir(self.real.parent, os.path.dirname(self.shown))


class _Loader:
    def __init__(self, program: Program, roots: list[_Dir]) -> None:
        self.program, self.roots, self.budget = program, roots, Budget()

    def run(self, root: _Source) -> None:
        """Depth first, in the order of the text, without recursion: an include's items come
        where the include stands."""
        stack: list[tuple[_Source, Iterator[ast.Node]]] = [(root, iter(self._parse(root, None).items))]
        while stack:
            source, items = stack[-1]
            item = next(items, None)
            if item is None:
                stack.pop()
            elif isinstance(item, ast.Include):
                target = resolve_include(item, source.dir(), self.roots)
                if str(target.real) not in self.program.files:  # a file included twice is read once
                    if len(self.program.files) >= MAX_FILES:
                        raise error(f"the program includes more than {MAX_FILES} files", _string_span(item))
                    stack.append((target, iter(self._parse(target, _string_span(item)).items)))
            else:
                self._add(item, source)

    def _parse(self, source: _Source, where: Span | None) -> ast.Module:
        """Parse a file; a reason it cannot be read is located at the include that named it."""
        try:
            module = parse_file(source.real, source.shown, self.budget)
        except CnnDslError as exc:
            if where is None or exc.diagnostics[0].span is not None:
                raise
            raise error(exc.diagnostics[0].message, where) from None
        self.program.files[str(source.real)] = FileInfo(source.shown)
        return module

    def _add(self, item: ast.Node, source: _Source) -> None:
        program = self.program
        if isinstance(item, ast.UnitDecl):
            info = program.files[str(source.real)]
            if info.unit is not None:
                raise error("a file declares its `unit` once", item.span,
                            notes=[Note("the first `unit` is", info.unit.span)])
            info.unit = item
        elif isinstance(item, ast.Let):
            program.lets.append(item)
        elif isinstance(item, ast.FuncDef):
            _check_def(item, program)
            program.defs[item.name] = item
        elif isinstance(item, ast.BlockDef):
            first = program.blocks.get(item.name) or program.defs.get(item.name)
            if first is not None:
                raise error(f"`{item.name}` is defined twice", item.span,
                            notes=[Note("it was first defined", first.span)])
            program.blocks[item.name] = item
            if source.is_root and item.is_network:
                program.networks.append(item)


def _check_def(item: ast.FuncDef, program: Program) -> None:
    """A `def` has a name of its own: not a built-in's (calls would be ambiguous to a reader), not
    a block's, not another def's."""
    first = program.defs.get(item.name) or program.blocks.get(item.name)
    if first is not None:
        raise error(f"`{item.name}` is defined twice", item.span, notes=[Note("it was first defined", first.span)])
    if item.name in BUILTINS:
        raise error(f"`{item.name}` is a built-in function; give the `def` another name", item.span)
    seen: set[str] = set()
    for p in item.params:
        if p.name in seen:
            raise error(f"the parameter `{p.name}` is named twice", p.span)
        seen.add(p.name)


def load_program(path: str | Path, include_path: Sequence[str | Path] = ()) -> Program:
    """Read `path` and everything it includes. `include_path`: more directories to look in
    (`--include-path`), each a root that includes may read."""
    program = Program(root=str(path))
    shown = str(path)
    for name in (shown, *map(str, include_path)):
        if not name or "\x00" in name:
            raise error(f"cannot read {name!r}: not a file name", None)
    named = Path(os.path.abspath(path))
    root = _Source(named.parent.resolve() / named.name, shown, is_root=True)
    roots = [_Dir(root.real.parent, os.path.dirname(shown))]
    roots += [_include_dir(d) for d in include_path]
    roots.append(_Dir(STDLIB, "<std>"))
    _Loader(program, roots).run(root)
    return program


def _include_dir(d: str | Path) -> _Dir:
    real = Path(os.path.abspath(d)).resolve()
    if not real.is_dir():
        raise error(f"--include-path {d}: not a directory", None)
    return _Dir(real, str(d))


def resolve_include(item: ast.Include, here: _Dir, roots: list[_Dir]) -> _Source:
    """The file `include "..."` names, or a located refusal that never opens a refused file."""
    where = _string_span(item)
    _check_spelling(item.path, where)
    places = [here] + [d for d in roots[1:] if d != here]
    inside = [(d, Path(os.path.normpath(d.real / item.path))) for d in places]
    inside = [(d, p) for d, p in inside if _within(p, roots)]
    if not inside:
        raise error(f'include "{item.path}" leads out of the project', where,
                    details=[_INSIDE])
    for d, candidate in inside:
        try:
            os.lstat(candidate)
        except OSError:
            continue
        real = candidate.resolve()
        if not _within(real, roots):
            raise error(f'include "{item.path}" is a link that leads out of the project', where,
                        details=[_INSIDE + ", once links are followed"])
        _check_file(real, item.path, where)
        return _Source(real, _shown(d, item.path))
    places_shown = [_place(d, here) for d, _ in inside]
    looked = ", ".join(places_shown[:-1]) + " and " + places_shown[-1] if len(places_shown) > 1 else places_shown[0]
    raise error(f'cannot find include "{item.path}"', item.span, details=[f"looked in {looked}"])


def _check_spelling(text: str, where: Span) -> None:
    if not text.strip():
        raise error("an include needs a file name", where)
    if PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute() or PureWindowsPath(text).drive:
        raise error(f'include "{text}" is an absolute path', where,
                    help="name the file relative to the including file, or pass its directory with --include-path")
    if not text.endswith(".arch"):
        raise error(f'include "{text}" is not an .arch file', where, help="only .arch files can be included")


def _check_file(real: Path, name: str, where: Span) -> None:
    """A regular file of at most MAX_FILE_BYTES, checked before it is opened (and again through
    the open descriptor, by source.read_bytes)."""
    try:
        info = os.stat(real)
    except OSError as exc:
        raise error(f'cannot read include "{name}": {exc.strerror}', where) from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a device, FIFO or socket"
        raise error(f'include "{name}" is not a regular file ({kind})', where)
    if info.st_size > MAX_FILE_BYTES:
        raise error(f'include "{name}" has {info.st_size:,} bytes; the limit is {MAX_FILE_BYTES:,}', where)


def _within(path: Path, roots: list[_Dir]) -> bool:
    return any(path == d.real or path.is_relative_to(d.real) for d in roots)


def _shown(d: _Dir, name: str) -> str:
    if d.shown == "<std>":
        return f"<std>/{os.path.normpath(name)}"
    return os.path.normpath(os.path.join(d.shown, name))


def _place(d: _Dir, here: _Dir) -> str:
    if d.shown == "<std>":
        return "the standard library"
    shown = d.shown or "."
    return f"{shown} (beside the including file)" if d == here else f"{shown} (--include-path)"


def _string_span(item: ast.Include) -> Span:
    """The span of the include's "string": it ends the statement, on the statement's last line."""
    s = item.span
    return Span(s.file, s.end_line, max(1, s.end_column - len(item.path) - 2), s.end_line, s.end_column)


def file_info(program: Program, span_file: str) -> FileInfo | None:
    for info in program.files.values():
        if info.path == span_file:
            return info
    return None


__all__ = ["MAX_FILES", "STDLIB", "FileInfo", "Program", "file_info", "load_program"]
