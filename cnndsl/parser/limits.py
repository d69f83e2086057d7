"""The parser's limits (docs/security.md lists every limit of cnndsl with its reason).

They bound what a hostile file can cost before anything is built from it: the parse runs in time
linear in its tokens, so a program's tokens bound its parse time; nesting bounds every recursion
over the AST; the bytes of a program bound its memory."""
from __future__ import annotations

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
]


class Budget:
    """What a program may still spend: tokens and bytes, shared by all the files it reads."""

    def __init__(self, tokens: int = MAX_TOKENS, size: int = MAX_PROGRAM_BYTES) -> None:
        self.token_limit = self.tokens = tokens
        self.byte_limit = self.bytes = size
