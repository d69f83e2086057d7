"""Source files and spans: every AST node and graph node points back into a `.arch` file.

Reading is the first line of defence against a hostile file (docs/security.md): only regular
files are opened (a device, a FIFO or a directory is refused before it is read, and the open never
blocks), nothing larger than MAX_FILE_BYTES is read, and the text must be UTF-8 without control
characters. Each refusal is a `SourceError` with the line and column of the culprit, which the
parser turns into a located diagnostic.
"""
from __future__ import annotations

import os
import re
import stat
from array import array
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 4_000_000  # one .arch file; the zoo's largest is under 4 KB

# C0 and C1 control characters other than tab, newline and form feed, a carriage return not
# before a newline, and the Unicode bidirectional controls ("Trojan source"): they would let a file
# show one thing in an editor or a terminal and mean another, or drive the terminal that prints a
# diagnostic quoting them.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|\r(?!\n)")


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


class SourceError(Exception):
    """A file that cannot be read as `.arch` text; `line`/`column` locate the culprit when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


class SourceRegistry:
    """Keeps the text of every file read, so diagnostics can quote the offending line."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}
        self._unsaved: dict[str, str] = {}  # resolved path -> an editor's text of it
        self._starts: dict[str, array] = {}  # where each line starts, found at the first quote

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
        self._starts.pop(name, None)

    def line(self, name: str, lineno: int) -> str | None:
        """Line `lineno` as the lexer counts lines (only "\\n" ends one), without its "\\r"."""
        text = self._texts.get(name)
        if text is None:
            return None
        starts = self._starts.get(name)
        if starts is None:
            starts = self._starts[name] = array("q", [0])
            starts.extend(m.end() for m in re.finditer("\n", text))
        if not 0 < lineno <= len(starts):
            return ""
        end = starts[lineno] - 1 if lineno < len(starts) else len(text)
        return text[starts[lineno - 1]:end].removesuffix("\r")

    def read(self, path: Path, display: str, limit: int = MAX_FILE_BYTES) -> str:
        text = self._unsaved.get(str(path.resolve())) if self._unsaved else None
        if text is None:
            text = decode(read_bytes(path, limit), display, self)
        self.add(display, text)
        return text


SOURCES = SourceRegistry()


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes. The open does not block (a FIFO
    with no writer would), and the file is checked through the open descriptor, so what is
    checked is what is read."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise SourceError(exc.strerror or str(exc)) from None
    except ValueError:  # a NUL in the name, from Python
        raise SourceError("not a file name") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # located at 1:1: what the file is, not where it is
            raise SourceError(f"not a regular file ({_kind(info.st_mode)})", 1, 1)
        if info.st_size > limit:
            raise SourceError(f"the file has {info.st_size:,} bytes; the limit is {limit:,}", 1, 1)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise SourceError(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    if size > limit:  # it grew while we read it
        raise SourceError(f"the file has more than {limit:,} bytes", 1, 1)
    return b"".join(chunks)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"


def decode(data: bytes, display: str, registry: SourceRegistry | None = None) -> str:
    """UTF-8 text, or a SourceError at the line and column of the first invalid byte (the
    text is registered with the bad bytes replaced, so the diagnostic can quote the line)."""
    data = data.removeprefix(b"\xef\xbb\xbf")  # a byte order mark is not text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if registry is not None:
            registry.add(display, data.decode("utf-8", errors="replace"))
        line = data.count(b"\n", 0, exc.start) + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[start:exc.start].decode("utf-8")) + 1
        raise SourceError(f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})", line, column) from None


def check_characters(text: str) -> None:
    """Refuse control characters (see _FORBIDDEN) at their line and column."""
    m = _FORBIDDEN.search(text)
    if m is None:
        return
    pos = m.start()
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    raise SourceError(f"the control character U+{ord(text[pos]):04X} is not allowed in a .arch file", line, column)
