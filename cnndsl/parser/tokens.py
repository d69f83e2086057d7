"""The token the fast parser makes: Lark's `Token` without importing Lark.

A static command parses with cnndsl's own loop over tables cached as plain data (tables.py), and
importing Lark was a tenth of its start-up; so the token is a class of our own with the same
attributes and the same comparison as `lark.Token`. Lark's own loop (the tests' reference, and the
parse of a text again where a syntax error needs it: parser/__init__.py `_parse`) still makes
`lark.Token`s, so loading Lark registers that class in TOKEN_TYPES, which the builder tests a child
against; Lark's error reporting reads either kind.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["TOKEN_TYPES", "LexedToken", "Token"]


class Token(str):
    """A piece of the text with its terminal's name and its place (lines and columns from 1)."""

    type: str
    value: str
    start_pos: int | None
    line: int | None
    column: int | None
    end_line: int | None
    end_column: int | None
    end_pos: int | None

    def __new__(cls, type: str, value: str, start_pos: int | None = None, line: int | None = None,
                column: int | None = None, end_line: int | None = None, end_column: int | None = None,
                end_pos: int | None = None) -> Token:
        inst = str.__new__(cls, value)
        inst.type, inst.value, inst.start_pos, inst.end_pos = type, value, start_pos, end_pos
        inst.line, inst.column, inst.end_line, inst.end_column = line, column, end_line, end_column
        return inst

    @classmethod
    def new_borrow_pos(cls, type_: str, value: str, borrow: Any) -> Token:
        return cls(type_, value, borrow.start_pos, borrow.line, borrow.column, borrow.end_line, borrow.end_column,
                   borrow.end_pos)

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.type, self.value, self.start_pos, self.line, self.column,
                                 self.end_line, self.end_column, self.end_pos))

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.value!r})"

    # As lark.Token: tokens of different terminals differ even where their text is the same.
    def __eq__(self, other: object) -> bool:
        if isinstance(other, Token) and self.type != other.type:
            return False
        return str.__eq__(self, other)

    __hash__ = str.__hash__


# The classes whose instances are tokens in a reduction's children; lark.Token joins when Lark is
# loaded (parser/__init__.py `_parser`). A set test, not isinstance(x, str): `cmp_op` hands its
# parent a plain string.
TOKEN_TYPES: set[type] = {Token}

# A token as the post-lexer and the builder see it: this class or Lark's, which have the same
# attributes. The type checker is shown Lark's (the highlighter's post-lexer, tools/syntax.py,
# is fed Lark's tokens); at run time the name is this module's class.
if TYPE_CHECKING:
    from lark import Token as LexedToken
else:
    LexedToken = Token
