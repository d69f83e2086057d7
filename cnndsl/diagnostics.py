"""Diagnostics: file:line:col, the source line, a caret, and what was expected.

Every error the compiler reports to a user is a `Diagnostic`; raising `CnnDslError` carries one or
more of them up to the CLI (or the Python caller), where `format()` renders them without a
traceback.
"""
from __future__ import annotations

import difflib
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


def _quote(span: Span) -> list[str]:
    text = SOURCES.line(span.file, span.line)
    if text is None:
        return []
    gutter = f"{span.line:>5} | "
    end = span.end_column if span.end_line == span.line else len(text) + 1
    width = max(1, end - span.column)
    caret = " " * (len(gutter) - 2) + "| " + " " * (span.column - 1) + "^" * width
    return [gutter + text, caret]


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
