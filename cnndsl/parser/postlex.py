"""Newline handling between the lexer and the LALR parser.

Newlines end statements, except where a reader would not expect them to: inside (), [] and the
<> of a combinator, inside a {} dictionary literal, and after a token that cannot end a line
(`->`, `|`, `=`, `,`). A line that *starts* with `->`, `<-` or `|` is handled by the grammar, whose
arrow terminals swallow the newlines before them.

The filter never looks ahead: the contextual lexer picks terminals by the parser's current state,
so holding a token back would lex the next one in the wrong state.
"""
from __future__ import annotations

from typing import Iterator

from lark import Token

# After one of these a `{` opens a statement body (`block b(c) {`, `: 3x224x224 {`, `if aux {`);
# after anything else (`=`, `(`, `,`, `:` ...) it opens a dictionary literal.
BODY_PRECEDERS = {"NAME", "DIMS", "RPAR", "RSQB", "INT", "FLOAT", "STRING", "TRUE", "FALSE", "ELSE", "_NL"}
LINE_JOINERS = {"_ARROW", "_LARROW", "_BAR", "EQUAL", "COMMA", "LBRACE"}


class NewlineFilter:
    always_accept = ("_NL",)

    def __init__(self) -> None:
        self.unclosed: list[Token] = []  # openers still open when the last parse stopped
        self.last: Token | None = None  # the last token the parser accepted

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        stack: list[str] = []  # "(", "[", "<", "{" (statement body) or "d" (dictionary)
        self.unclosed = openers = []
        self.last = None
        prev: Token | None = None
        for tok in stream:
            if tok.type == "_NL" and self._joined(stack, prev):
                continue
            depth = len(stack)
            self._track(tok, prev, stack)
            if len(stack) > depth:
                openers.append(tok)
            elif len(stack) < depth:
                openers.pop()
            yield tok
            prev = self.last = tok

    @staticmethod
    def _joined(stack: list[str], prev: Token | None) -> bool:
        if stack and stack[-1] != "{":
            return True
        if prev is None:
            return False
        return prev.type in LINE_JOINERS and not (prev.type == "LBRACE" and stack and stack[-1] == "{")

    @staticmethod
    def _track(tok: Token, prev: Token | None, stack: list[str]) -> None:
        t = tok.type
        if t in ("LPAR", "LSQB"):
            stack.append("(" if t == "LPAR" else "[")
        elif t == "LESSTHAN" and prev is not None and prev.type == "COMBINATOR":
            stack.append("<")
        elif t == "LBRACE":
            stack.append("{" if prev is None or prev.type in BODY_PRECEDERS else "d")
        elif t in ("RPAR", "RSQB", "RBRACE") or (t == "MORETHAN" and stack and stack[-1] == "<"):
            if stack:
                stack.pop()
