"""Source files and spans: every AST node and graph node points back into a `.arch` file."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file; lines and columns count from 1, `end_column` is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class SourceRegistry:
    """Keeps the text of every file read, so diagnostics can quote the offending line."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}
        self._unsaved: dict[str, str] = {}  # resolved path -> an editor's text of it

    def set_unsaved(self, path: Path, text: str | None) -> None:
        """What an editor holds for `path` and has not saved: `read` returns it instead of the
        file (the language server, the playground); None forgets it."""
        key = str(path.resolve())
        if text is None:
            self._unsaved.pop(key, None)
        else:
            self._unsaved[key] = text

    def add(self, name: str, text: str) -> None:
        self._texts[name] = text

    def line(self, name: str, lineno: int) -> str | None:
        text = self._texts.get(name)
        if text is None:
            return None
        lines = text.splitlines()
        return lines[lineno - 1] if 0 < lineno <= len(lines) else ""

    def read(self, path: Path, display: str) -> str:
        text = self._unsaved.get(str(path.resolve())) if self._unsaved else None
        if text is None:
            text = path.read_text(encoding="utf-8")
        self.add(display, text)
        return text


SOURCES = SourceRegistry()
