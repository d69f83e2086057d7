"""Reading a root `.arch` file and everything it includes into one `Program`."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import ast
from ..diagnostics import Note, error
from ..parser import parse_file

STDLIB = Path(__file__).resolve().parents[1] / "stdlib"


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


def load_program(path: str | Path) -> Program:
    program = Program(root=str(path))
    _load(Path(path), str(path), program, is_root=True)
    return program


def _load(path: Path, display: str, program: Program, is_root: bool) -> None:
    key = str(path.resolve())
    if key in program.files:
        return  # a file included twice is read once
    module = parse_file(path, display)
    program.files[key] = info = FileInfo(display)
    for item in module.items:
        if isinstance(item, ast.Include):
            target, shown = _resolve_include(path, item)
            _load(target, shown, program, is_root=False)
        elif isinstance(item, ast.UnitDecl):
            if info.unit is not None:
                raise error("a file declares its `unit` once", item.span,
                            notes=[Note("the first `unit` is", info.unit.span)])
            info.unit = item
        elif isinstance(item, ast.Let):
            program.lets.append(item)
        elif isinstance(item, ast.BlockDef):
            first = program.blocks.get(item.name)
            if first is not None:
                raise error(f"`{item.name}` is defined twice", item.span,
                            notes=[Note("it was first defined", first.span)])
            program.blocks[item.name] = item
            if is_root and item.is_network:
                program.networks.append(item)


def _resolve_include(path: Path, item: ast.Include) -> tuple[Path, str]:
    local = path.parent / item.path
    if local.is_file():
        return local, str(Path(item.span.file).parent / item.path)
    std = STDLIB / item.path
    if std.is_file():
        return std, f"<std>/{item.path}"
    raise error(f'cannot find include "{item.path}"', item.span,
                details=[f"looked in {path.parent or '.'} and in the standard library ({STDLIB})"])


def file_info(program: Program, span_file: str) -> FileInfo | None:
    for info in program.files.values():
        if info.path == span_file:
            return info
    return None
