"""The grammar's own token stream, for the tools that work on text rather than on the AST.

Everything here is derived from `grammar/cnndsl.lark` when it is first needed: `scan()` runs the
real parser (the contextual lexer and the newline post-lexer) with every token kept, so the
formatter sees exactly the tokens the compiler sees, each with the grammar rule it belongs to;
`lex_loosely()` runs the grammar's terminals as a plain lexer that never stops at a syntax error,
for highlighting. A grammar change reaches both without a copy of any rule here.
"""
from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters
from lark.lexer import PatternStr

from ..parser import GRAMMAR, parse
from ..parser.postlex import NewlineFilter

NEWLINE = "_NL"  # the terminal that ends a statement (the post-lexer drops it where it cannot)
COMMENT = re.compile(r"#[^\n]*")
CONTINUATION = re.compile(r"\\[\t \f]*\r?\n")  # a backslash that joins two lines


@dataclass(frozen=True, slots=True)
class Lexeme:
    """One token as a person reads it: an arrow terminal's text without the newlines and comment
    lines it swallows. Offsets index the source text; line and column count from 1."""

    type: str  # the grammar's terminal name: NAME, LPAR, _ARROW, ...
    text: str
    start: int
    end: int
    line: int
    column: int
    rule: str | None  # the grammar rule (tree node) the token is a child of


@dataclass
class Scan:
    """A parsed text as tokens. `breaks[i]` says how the line before lexeme i ended, if it did:
    "" (same line), "stmt" (a newline that ends a statement), "arrow" (lexeme i is a `->`, `<-` or
    `|` that starts its line), "joined" (a newline the grammar ignores: inside brackets, after
    `=` or `,`) or "backslash" (a `\\` continuation). `trivia[i]` is the text between lexeme i-1
    and lexeme i (whitespace, newlines, comments); `trivia[len]` is what follows the last one."""

    text: str
    lexemes: list[Lexeme] = field(default_factory=list)
    breaks: list[str] = field(default_factory=list)
    trivia: list[str] = field(default_factory=list)


class _Tee(NewlineFilter):
    """The newline post-lexer, also recording every token it is given and the newlines it keeps."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Token] = []
        self.kept: set[int] = set()

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        self.seen, self.kept = [], set()

        def record(tokens: Iterator[Token]) -> Iterator[Token]:
            for tok in tokens:
                self.seen.append(tok)
                yield tok

        for tok in super().process(record(stream)):
            if tok.type == NEWLINE:
                self.kept.add(_pos(tok.start_pos))
            yield tok


_TEE = _Tee()
_LOCK = threading.Lock()  # the post-lexer keeps per-parse state


@lru_cache(maxsize=1)
def _full_parser() -> Lark:
    return Lark(GRAMMAR.read_text(), parser="lalr", lexer="contextual", postlex=_TEE, keep_all_tokens=True,
                maybe_placeholders=False, start="start", cache=True)


@lru_cache(maxsize=1)
def _loose_lexer() -> Lark:
    return Lark(GRAMMAR.read_text(), parser="lalr", lexer="basic", start="start", cache=True)


def scan(text: str, filename: str = "<string>") -> Scan:
    """Tokens of a text that parses; a text that does not raises the compiler's `CnnDslError`."""
    parse(text, filename)  # the compiler's own parse: its friendly syntax errors
    source = text + "\n"  # as the compiler parses it
    with _LOCK:
        tree = _full_parser().parse(source)
        seen, kept = list(_TEE.seen), set(_TEE.kept)
    rules = dict(_leaf_rules(tree))
    return _build_scan(text, source, seen, kept, rules)


def _leaf_rules(tree: Tree) -> Iterator[tuple[int, str]]:
    stack = [tree]
    while stack:
        node = stack.pop()
        for child in node.children:
            if isinstance(child, Tree):
                stack.append(child)
            elif isinstance(child, Token):
                yield _pos(child.start_pos), str(node.data)


def _build_scan(text: str, source: str, seen: list[Token], kept: set[int], rules: dict[int, str]) -> Scan:
    lines = _LineIndex(source)
    out = Scan(text)
    cursor, newline_kept, newline_dropped = 0, False, False
    for tok in seen:
        if tok.type == NEWLINE:
            newline_kept |= tok.start_pos in kept
            newline_dropped |= tok.start_pos not in kept
            continue
        raw = str(tok)
        word = raw.rsplit("\n", 1)[-1].lstrip(" \t\f")  # an arrow terminal swallows lines before it
        end = _pos(tok.end_pos)
        start = end - len(word)
        trivia = source[cursor:start]
        line, column = lines.position(start)
        out.lexemes.append(Lexeme(tok.type, word, start, end, line, column, rules.get(_pos(tok.start_pos))))
        out.trivia.append(trivia)
        out.breaks.append(_break_kind(trivia, newline_kept, newline_dropped, "\n" in raw))
        cursor, newline_kept, newline_dropped = end, False, False
    out.trivia.append(source[cursor:-1])
    return out


def _break_kind(trivia: str, kept: bool, dropped: bool, swallowed: bool) -> str:
    if "\n" not in trivia:
        return ""
    if kept:
        return "stmt"
    if swallowed:
        return "arrow"
    return "joined" if dropped else "backslash"


class _LineIndex:
    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1


def comments(trivia: str) -> list[str]:
    return [m.group().rstrip() for m in COMMENT.finditer(trivia)]


def signature(scan_: Scan) -> tuple[list[tuple[str, str]], list[str]]:
    """What a layout change must keep: every token, and every comment, each in order. (A comment
    may move past an arrow: `a ->  # c` / `b` and `a  # c` / `-> b` are the same chain.)"""
    tokens = [(lexeme.type, lexeme.text) for lexeme in scan_.lexemes]
    return tokens, [c for trivia in scan_.trivia for c in comments(trivia)]


# ------------------------------------------------------------------ highlighting
# Reserved words with a terminal of their own, so that they may start a line (ELSE swallows the
# newlines before it, as the arrows do): the terminal's name is the word.
LINE_KEYWORDS = ("ELSE",)


@lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """The grammar's reserved words: its string terminals that read as names (`let`, `block`...)."""
    terminals = _loose_lexer().terminals
    return frozenset([t.pattern.value for t in terminals
                      if isinstance(t.pattern, PatternStr) and t.pattern.value.isidentifier()]
                     + [t.name.lower() for t in terminals if t.name in LINE_KEYWORDS])


@lru_cache(maxsize=1)
def terminal_patterns() -> dict[str, str]:
    """Each named terminal's regular expression, as the grammar writes it."""
    return {t.name: t.pattern.to_regexp() for t in _loose_lexer().terminals if not t.name.startswith("__")}


@lru_cache(maxsize=1)
def word_terminals() -> dict[str, str]:
    """Terminals defined by a regular expression of alternative words (MERGE, COMBINATOR), with
    the expression: words the grammar gives a meaning of their own."""
    out = {}
    for t in _loose_lexer().terminals:
        if not isinstance(t.pattern, PatternStr) and re.fullmatch(r"\(([a-z_]+\|)*[a-z_]+\)\\b", t.pattern.value):
            out[t.name] = t.pattern.value
    return out


def grammar_words() -> frozenset[str]:
    """Every word the grammar gives a meaning: reserved words and word terminals' alternatives."""
    words = {w for pattern in word_terminals().values() for w in re.findall(r"[a-z_]+", pattern)}
    return keywords() | words


def _pos(offset: int | None) -> int:
    """Lark types token positions as optional; the lexers here always set them."""
    assert offset is not None
    return offset


def lex_loosely(text: str) -> Iterator[tuple[int, str, str]]:
    """(offset, terminal, text) for every piece of `text`, whitespace and comments included, with
    the grammar's terminals and no parser: it never fails, a character no terminal matches comes
    out as terminal "ERROR". An arrow terminal's swallowed lines come out as their own pieces."""
    pos = 0
    while pos <= len(text):
        try:
            for tok in _loose_lexer().lex(text[pos:], dont_ignore=True):
                yield from _split_swallowed(pos + _pos(tok.start_pos), tok.type, str(tok))
            return
        except UnexpectedCharacters as exc:
            pos += _pos(exc.pos_in_stream)
            yield pos, "ERROR", text[pos]
            pos += 1


def _split_swallowed(offset: int, type_: str, raw: str) -> Iterator[tuple[int, str, str]]:
    word = raw.rsplit("\n", 1)[-1].lstrip(" \t\f")
    head = raw[: len(raw) - len(word)]
    if not word or not head:  # whitespace, or a token that swallowed nothing
        yield offset, type_, raw
        return
    for m in re.finditer(r"#[^\n]*|[^#]+", head):
        yield offset + m.start(), "COMMENT" if m.group().startswith("#") else "WHITESPACE", m.group()
    yield offset + len(head), type_, word
