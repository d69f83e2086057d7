"""Diagnostics: file:line:col, the source line, a caret, and what was expected.

Every error the compiler reports to a user is a `Diagnostic`; raising `CnnDslError` carries one or
more of them up to the CLI (or the Python caller), where `format()` renders them without a
traceback.
"""
from __future__ import annotations

import difflib
import os
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .source import SOURCES, Span


@dataclass
class Note:
    message: str
    span: Span | None = None


@dataclass
class Diagnostic:
    message: str
    span: Span | None
    details: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    help: str | None = None
    severity: str = "error"

    def format(self, color: bool = False) -> str:
        """The diagnostic as text; `color` adds ANSI colours (for a terminal), as rustc and clang do."""
        c = _Colors(color)
        where = f"{self.span}: " if self.span else ""
        out = [c.bold(where) + c.severity(self.severity) + c.bold(f": {self.message}")]
        if self.span:
            out += c.quote(_quote(self.span))
        out += [f"  {d}" for d in self.details]
        for note in self.notes:
            at = f" at {note.span}" if note.span else ""
            out.append(f"  {c.note('note')}: {note.message}{at}")
        if self.help:
            out.append(f"  {c.help('help')}: {self.help}")
        return "\n".join(out)


QUOTE_WIDTH = 300  # characters of a long line shown around the caret


class _Colors:
    """ANSI SGR codes, or nothing: the plain text is the coloured one with the codes left out."""

    CODES = {"error": "1;31", "warning": "1;33", "note": "1;36", "help": "1;32", "bold": "1", "gutter": "1;34"}

    def __init__(self, on: bool):
        self.on = on

    def paint(self, text: str, kind: str) -> str:
        return f"\x1b[{self.CODES[kind]}m{text}\x1b[0m" if self.on and text else text

    def bold(self, text: str) -> str:
        return self.paint(text, "bold")

    def severity(self, severity: str) -> str:
        return self.paint(severity, severity if severity in self.CODES else "bold")

    def note(self, text: str) -> str:
        return self.paint(text, "note")

    def help(self, text: str) -> str:
        return self.paint(text, "help")

    def quote(self, lines: list[str]) -> list[str]:
        """The quoted line and its carets (from `_quote`): gutter in blue, carets in red."""
        if not self.on or len(lines) != 2:
            return lines
        text, caret = (line.split("| ", 1) for line in lines)
        marks = caret[1].lstrip(" ")
        pad = caret[1][:len(caret[1]) - len(marks)]
        return [self.paint(text[0] + "|", "gutter") + " " + text[1],
                self.paint(caret[0] + "|", "gutter") + " " + pad + self.paint(marks, "error")]


def use_color(mode: str = "auto", stream: Any = None) -> bool:
    """`--color always|never|auto`: auto colours a terminal, unless NO_COLOR is set (no-color.org)
    or the terminal is dumb."""
    if mode != "auto":
        return mode == "always"
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _quote(span: Span) -> list[str]:
    """The line and a caret under the span. The caret line copies the tabs of the quoted line and
    gives a wide character two columns, so the caret stands under its character in any terminal;
    a long line is cut to a window around the caret, and a control character (refused in a file,
    but a diagnostic may quote a `-D` value) is shown as U+FFFD, never sent to the terminal."""
    text = SOURCES.line(span.file, span.line)
    if text is None:
        return []
    end = span.end_column if span.end_line == span.line else len(text) + 1
    start = min(max(span.column - 1, 0), len(text))
    stop = max(start + 1, min(end - 1, len(text)))
    lo = max(0, min(start - QUOTE_WIDTH // 2, len(text) - QUOTE_WIDTH))
    hi = min(len(text), lo + QUOTE_WIDTH)
    shown = [_visible(ch) for ch in text[lo:hi]]
    before = "".join("\t" if ch == "\t" else " " * _width(ch) for ch in shown[:start - lo])
    marks = "^" * max(1, sum(max(1, _width(ch)) for ch in shown[start - lo:stop - lo]))
    cut_left, cut_right = ("..." if lo > 0 else ""), ("..." if hi < len(text) else "")
    gutter = f"{span.line:>5} | "
    pad = " " * (len(gutter) - 2) + "| "
    return [gutter + cut_left + "".join(shown) + cut_right, pad + " " * len(cut_left) + before + marks]


def _visible(ch: str) -> str:
    if ch != "\t" and (unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")):
        return "\ufffd"
    return ch


def _width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


class CnnDslError(Exception):
    """One or more diagnostics; `str()` renders them all."""

    def __init__(self, diagnostics: Diagnostic | Iterable[Diagnostic]):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = list(diagnostics)
        # the diagnostics, not their text: `str()` formats them when asked, once (a file with
        # 20,000 unknown names spent a second formatting its error twice), and pickling rebuilds
        # the error from them
        super().__init__(self.diagnostics)

    def format(self, color: bool = False) -> str:
        return "\n\n".join(d.format(color) for d in self.diagnostics)

    def __str__(self) -> str:  # notes may be added as the error passes through block uses
        return self.format()

    @classmethod
    def from_message(cls, message: str) -> CnnDslError:
        return cls(Diagnostic(message, None))


def error(message: str, span: Span | None, **kw: Any) -> CnnDslError:
    return CnnDslError(Diagnostic(message, span, **kw))


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None
