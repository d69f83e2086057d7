"""The parser's limits (docs/security.md lists every limit of cnndsl with its reason).

They bound what a hostile file can cost before anything is built from it: the parse runs in time
linear in its tokens, so a program's tokens bound its parse time; nesting bounds every recursion
over the AST; the bytes of a program bound its memory."""
from __future__ import annotations

import re

from ..source import MAX_FILE_BYTES

MAX_PROGRAM_BYTES = 8_000_000  # all files of a program together (a file alone: source.MAX_FILE_BYTES)
MAX_TOKENS = 250_000  # tokens of a program: about 100,000 lines of one layer each; the zoo's largest has ~700
MAX_TOKEN_CHARS = 1_000  # one name, number, size or string
MAX_NESTING = 100  # brackets, and any construct nested in another; the zoo's deepest is 12
MAX_INT = 2 ** 63 - 1  # every integer fits in a signed 64-bit word
MIN_INT = -(2 ** 63)

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_INT",
    "MAX_NESTING",
    "MAX_PROGRAM_BYTES",
    "MAX_TOKENS",
    "MAX_TOKEN_CHARS",
    "MIN_INT",
    "Budget",
    "past_token_budget",
    "token_floor",
]


class Budget:
    """What a program may still spend: tokens and bytes, shared by all the files it reads."""

    def __init__(self, tokens: int = MAX_TOKENS, size: int = MAX_PROGRAM_BYTES) -> None:
        self.token_limit = self.tokens = tokens
        self.byte_limit = self.bytes = size


# Pieces of text each of which holds the start of a token of its own, so that their number is a
# floor under the number of tokens the lexer makes (grammar/cnndsl.lark): a word (a name, or a name
# and the `(` after it: `x(` is one token), a number or size (`1.5e-3`, `3x3`), a run of operators
# and brackets, a string. Comments (the group) are counted apart; newlines, tokens too, not at all.
_PIECES = re.compile(r'[^\W\d]\w*\(?|\d[\w.]*(?:[-+]\d+)?|[^\s\w"#\\]+|(#[^\n]*)|"[^"\n]*"')


def token_floor(text: str) -> int:
    """At most the number of tokens in `text` (the pieces above, comments aside)."""
    return _PIECES.findall(text).count("")  # findall gives the comment group: "" for every other piece


def past_token_budget(text: str, tokens: int) -> int | None:
    """Where in `text` the pieces above pass `tokens`, or None if they do not: a text past its
    budget is refused before the parser lexes a token of it, at the cost of one regular expression
    over the text, instead of after the parse of a quarter of a million tokens (two seconds).

    A floor, so a text it lets through may still pass the budget, which the post-lexer then
    refuses at the exact token; it never refuses a text within it. A token is at least one
    character, so a text no longer than its budget needs no count."""
    if len(text) <= tokens:
        return None
    if token_floor(text) <= tokens:
        return None
    counted = 0
    for match in _PIECES.finditer(text):
        if match.group(1) is None:
            counted += 1
            if counted > tokens:
                return match.start()
    return None  # unreachable: the count above passed the budget
