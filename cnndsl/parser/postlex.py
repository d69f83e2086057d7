"""Newline handling between the lexer and the LALR parser.

Newlines end statements, except where a reader would not expect them to: inside (), [] and the
<> of a combinator, inside a {} dictionary literal, and after a token that cannot end a line
(`->`, `|`, `=`, `,`). A line that *starts* with `->`, `<-` or `|` is handled by the grammar, whose
arrow terminals swallow the newlines before them.

The filter never looks ahead: the contextual lexer picks terminals by the parser's current state,
so holding a token back would lex the next one in the wrong state.

It also bounds the parse (limits.py): brackets nested more than MAX_NESTING deep, a name, number
or string longer than MAX_TOKEN_CHARS and more tokens than the program's budget are refused at the
token that passes the limit, before the parser goes on.
"""
from __future__ import annotations

from collections.abc import Iterator

from .limits import MAX_NESTING, MAX_TOKEN_CHARS, Budget
from .tokens import LexedToken as Token

# After one of these a `{` opens a statement body (`block b(c) {`, `: 3x224x224 {`, `if aux {`);
# after anything else (`=`, `(`, `,`, `:` ...) it opens a dictionary literal.
BODY_PRECEDERS = {"NAME", "DIMS", "RPAR", "RSQB", "INT", "FLOAT", "STRING", "TRUE", "FALSE", "ELSE", "_NL"}
LINE_JOINERS = {"_ARROW", "_LARROW", "_BAR", "EQUAL", "COMMA", "LBRACE"}


# The message and help of a program past its token budget (the parser may refuse it before lexing).
TOO_MANY_TOKENS = ("the program has more than {limit:,} tokens",
                   "a program (a file and what it includes) is limited in size so that checking it stays fast; "
                   "see docs/security.md")

# Tokens whose length the text decides; newlines and arrows may be long (blank lines, comments).
_VALUED = frozenset({"NAME", "INT", "FLOAT", "STRING", "DIMS"})


# The tokens `_track` reads: openers and closers of brackets, combinators and bodies.
_BRACKETS = frozenset({"LPAR", "LSQB", "KERNEL_OPEN", "KERNEL_X", "LESSTHAN", "LBRACE", "RPAR", "RSQB", "RBRACE",
                       "MORETHAN"})


class LimitReached(Exception):
    """A limit passed at `token`; the parser turns it into a located diagnostic."""

    def __init__(self, token: Token, message: str, help: str) -> None:
        super().__init__(message)
        self.token, self.message, self.help = token, message, help


class NewlineFilter:
    always_accept = ("_NL",)

    def __init__(self) -> None:
        self.unclosed: list[Token] = []  # openers still open when the last parse stopped
        self.last: Token | None = None  # the last token the parser accepted
        self.budget = Budget()  # set before each parse

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        stack: list[str] = []  # "(", "[", "<", "{" (statement body) or "d" (dictionary)
        self.unclosed = openers = []
        self.last = None
        prev: Token | None = None
        budget = self.budget
        for tok in stream:
            budget.tokens -= 1
            if budget.tokens < 0:
                raise LimitReached(tok, TOO_MANY_TOKENS[0].format(limit=budget.token_limit), TOO_MANY_TOKENS[1])
            if len(tok) > MAX_TOKEN_CHARS and tok.type in _VALUED:
                raise LimitReached(tok, f"this is longer than {MAX_TOKEN_CHARS:,} characters",
                                   "names, numbers and strings are limited in length")
            if tok.type == "_NL" and self._joined(stack, prev):
                continue
            if tok.type in _BRACKETS:  # only these open or close anything: most tokens skip the test
                depth = len(stack)
                self._track(tok, prev, stack)
                if len(stack) > depth:
                    if depth >= MAX_NESTING:
                        raise LimitReached(tok, f"brackets are nested too deeply (more than {MAX_NESTING} levels)",
                                           "nesting this deep is refused before anything recurses over it")
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
        if t in ("LPAR", "LSQB", "KERNEL_OPEN", "KERNEL_X"):
            stack.append("[" if t == "LSQB" else "(")
        elif t == "LESSTHAN" and prev is not None and prev.type == "COMBINATOR":
            stack.append("<")
        elif t == "LBRACE":
            stack.append("{" if prev is None or prev.type in BODY_PRECEDERS else "d")
        elif stack and (t in ("RPAR", "RSQB", "RBRACE") or (t == "MORETHAN" and stack[-1] == "<")):
            stack.pop()
