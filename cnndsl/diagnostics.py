"""Diagnostics: file:line:col, the source line, a caret, and what was expected.

Every error the compiler reports to a user is a `Diagnostic`; raising `CnnDslError` carries one or
more of them up to the CLI (or the Python caller), where `format()` renders them without a
traceback.
"""
from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable

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

    def format(self) -> str:
        where = f"{self.span}: " if self.span else ""
        out = [f"{where}{self.severity}: {self.message}"]
        if self.span:
            out += _quote(self.span)
        out += [f"  {d}" for d in self.details]
        for note in self.notes:
            at = f" at {note.span}" if note.span else ""
            out.append(f"  note: {note.message}{at}")
        if self.help:
            out.append(f"  help: {self.help}")
        return "\n".join(out)


QUOTE_WIDTH = 300  # characters of a long line shown around the caret


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
        super().__init__(self.format())

    def format(self) -> str:
        return "\n\n".join(d.format() for d in self.diagnostics)

    def __str__(self) -> str:  # notes may be added as the error passes through block uses
        return self.format()

    @classmethod
    def from_message(cls, message: str) -> "CnnDslError":
        return cls(Diagnostic(message, None))


def error(message: str, span: Span | None, **kw) -> CnnDslError:
    return CnnDslError(Diagnostic(message, span, **kw))


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None
