"""A Pygments lexer for `.arch` files, registered under the alias `cnndsl` (`pygmentize -l cnndsl`,
Sphinx and MkDocs code blocks), through the `pygments.lexers` entry point in pyproject.toml.

It does not copy the grammar into regular expressions: it runs the grammar's own terminals
(`cnndsl.tools.syntax.lex_loosely`) and maps each terminal to a token type by what the grammar
says it is: a reserved word, a word terminal such as `concat` or `residual`, a number, a string,
an operator or a bracket. Op names (`conv3x3`, `relu`) are looked up in the op table."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from pygments.lexer import Lexer
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
    _TokenType,
)

from .syntax import keywords, lex_loosely, word_terminals

DECLARATIONS = {"block", "network", "unit", "let", "def"}
CONSTANTS = {"true", "false"}
NAMESPACE = {"include"}
PUNCTUATION = set("()[]{},:")
BY_TERMINAL: dict[str, _TokenType] = {
    "COMMENT": Comment.Single, "STRING": String.Double, "DIMS": Number, "INT": Number.Integer,
    "FLOAT": Number.Float, "ERROR": Error,
}


class CnnDslLexer(Lexer):
    name = "cnndsl"
    aliases: ClassVar[list[str]] = ["cnndsl", "arch"]
    filenames: ClassVar[list[str]] = ["*.arch"]
    mimetypes: ClassVar[list[str]] = ["text/x-cnndsl"]

    def get_tokens_unprocessed(self, text: str) -> Iterator[tuple[int, _TokenType, str]]:
        previous = ""
        for offset, terminal, value in lex_loosely(text):
            kind = token_type(terminal, value, previous)
            if kind not in (Whitespace, Comment.Single):
                previous = value
            yield offset, kind, value


def token_type(terminal: str, value: str, previous: str) -> _TokenType:
    """The Pygments type of one piece; `previous` is the last token that was not whitespace."""
    if terminal in BY_TERMINAL:
        return BY_TERMINAL[terminal]
    if not value.strip():
        return Whitespace
    if terminal in word_terminals():
        return Name.Builtin
    if value in keywords():
        return _keyword(value)
    if terminal == "NAME":
        return _name(value, previous)
    if set(value) <= PUNCTUATION:
        return Punctuation
    return Operator if re.fullmatch(r"[^\w\s]+", value) else Text


def _keyword(word: str) -> _TokenType:
    if word in CONSTANTS:
        return Keyword.Constant
    if word in NAMESPACE:
        return Keyword.Namespace
    return Keyword.Declaration if word in DECLARATIONS else Keyword


def _name(word: str, previous: str) -> _TokenType:
    if previous in ("block", "network", "def"):
        return Name.Function
    if _is_op(word):
        return Name.Builtin
    return Name


def _is_op(word: str) -> bool:
    try:
        from ..ops import lookup
        return lookup(word) is not None
    except (ImportError, AttributeError, TypeError):  # the op table is optional for highlighting
        return False
