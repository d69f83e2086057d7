"""The canonical layout of an `.arch` text: what `cnndsl fmt` writes.

The formatter keeps the author's line breaks (a chain broken where the paper's table has a row
stays broken there) and rewrites everything else:
  * indentation: two spaces per statement body; a line continuing a chain with `->`, `<-` or `|`
    lines up with the chain's first layer; a line inside brackets lines up after the bracket
    (a leading `|` or `->` is pulled left so the layer after it lines up), or two spaces in when
    the bracket ends its line;
  * spacing: one space between tokens, none where the grammar rule reads as one word
    (`3x3:64/2`, `b(c)*2`, `residual<...>`, `s=2` in arguments, `n[0]`, `-1`), driven by the
    (token, grammar rule) tables below;
  * an arrow or bar that ends a line moves to the start of the next one;
  * a line longer than WIDTH breaks after a block's `=`, then before its loosest chain operators
    (`|`, then `->`, then `<-`), at the outermost bracket level they occur;
  * trailing comments that the author aligned in one column stay aligned, two spaces after the
    longest line of their group; others sit two spaces after the code; comment lines take the
    indentation of the code after them; at most one blank line in a row, none at either end of
    a file or a body.
Only whitespace changes: `format_text` re-scans its output and refuses (AssertionError) to
return a text whose tokens or comments differ from the input's.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .syntax import Lexeme, Scan, comments, scan, signature

WIDTH = 100
STEP = 2
ARROWS = ("|", "->", "<-")  # loosest first: a long chain breaks at the loosest it has
BODY_RULES = {"stmt_body", "if_stmt", "else_block"}  # braces around statements (others: dictionaries)
STATEMENT_RULES = {"include", "unit_decl", "block_def", "network_def", "let_stmt", "output_stmt", "if_stmt",
                   "else_block"}  # a line starting with one of these starts no chain
# A line starting with a token of these rules lines up with its statement, not as a continuation
# (`else` on a line of its own, once the grammar allows it).
STATEMENT_CONTINUATIONS = {"else_block"}
BODY_EQUALS = {"expr_body", "unit_decl"}  # `block b(c) =`: a long line breaks after it
ANY = None
LAYER_LITERALS = {"unit_layer", "name_layer", "kernel_layer"}
KEYWORD_EQUALS = {"param", "kw_arg", "attr_value"}
CALLS = {"call_layer", "call", "params", "merge", "merge_for"}
# No space after / before a token of this text in one of these rules (ANY: in every rule).
TIGHT_AFTER: dict[str, set[str] | None] = {
    "(": ANY, "x(": ANY, "[": ANY, "{": {"dict"}, "<": {"combinator"}, ":": LAYER_LITERALS, "/": LAYER_LITERALS,
    "*": {"repeat"}, "**": ANY, "-": {"neg"}, "=": KEYWORD_EQUALS,
}
TIGHT_BEFORE: dict[str, set[str] | None] = {
    ")": ANY, "x(": {"kernel_layer"}, "]": ANY, "}": {"dict"}, "<": {"combinator"}, ">": {"combinator"}, ",": ANY, ":": LAYER_LITERALS | {"pair"},
    "/": LAYER_LITERALS, "*": {"repeat"}, "**": ANY, "=": KEYWORD_EQUALS, "(": CALLS, "[": {"index"},
}
CLOSERS = {"(": ")", "x(": ")", "[": "]", "{": "}", "<": ">"}  # `x(`: the second of `(k)x(k)`
# Arithmetic directly inside the parentheses of a layer literal reads as part of the literal:
# `1x1:(4*k)`, `b(c)*(n-1)`; elsewhere binary operators are spaced: `16 * k`.
ARITHMETIC = {"add_op", "mul_op"}
LITERAL_PARTS = LAYER_LITERALS | {"repeat"}
ALIGN_SLACK = 2  # trailing comments this close to the one above were meant to line up


def format_text(text: str, filename: str = "<string>") -> str:
    """The canonical layout of `text`; a text that does not parse raises `CnnDslError`."""
    before = scan(text, filename)
    out = _Layout().run(_source_lines(before))
    after = scan(out, filename)
    if signature(after) != signature(before):
        raise AssertionError(f"cnndsl fmt would change the tokens or comments of {filename}")
    return out


# ------------------------------------------------------------------ source lines
@dataclass
class _Line:
    tokens: list[Lexeme]
    brk: str  # how the line before it ended (see Scan.breaks); "first" for the first line
    comment: str | None = None
    comment_column: int | None = None  # where its trailing comment stood in the source
    before: list[str | None] = field(default_factory=list)  # comment lines (str) and blank lines (None)


def _source_lines(s: Scan) -> tuple[list[_Line], list[str | None]]:
    """The text as lines of tokens, each with the comment and blank lines before it; and what
    follows the last line."""
    lines: list[_Line] = []
    for i, (lexeme, brk) in enumerate(zip(s.lexemes, s.breaks)):
        if i == 0 or brk:
            first, middle = _split_trivia(s.trivia[i], i == 0)
            if lines:
                _attach_comment(lines[-1], first)
            lines.append(_Line([lexeme], brk or "first", before=middle))
        else:
            lines[-1].tokens.append(lexeme)
    first, tail = _split_trivia(s.trivia[-1] + "\n", not lines)
    if lines:
        _attach_comment(lines[-1], first)
    return _move_trailing_arrows(lines), tail


def _split_trivia(trivia: str, at_start: bool) -> tuple[str, list[str | None]]:
    """Trivia across line ends: what ends the line before (a comment), and the whole lines between
    (comment lines and blank lines)."""
    parts = trivia.split("\n")
    first, middle = ("", parts[:-1]) if at_start else (parts[0], parts[1:-1])
    return first, [next(iter(comments(p)), None) for p in middle]


def _attach_comment(line: _Line, trailing: str) -> None:
    found = comments(trailing)
    if found:
        last = line.tokens[-1]
        line.comment = found[0]
        line.comment_column = last.column - 1 + len(last.text) + trailing.index("#")


def _move_trailing_arrows(lines: list[_Line]) -> list[_Line]:
    """`a ->` / `b` becomes `a` / `-> b`: a chain's operators start its lines."""
    out: list[_Line] = []
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if nxt is not None and nxt.brk == "joined" and line.tokens[-1].text in ARROWS:
            nxt.tokens.insert(0, line.tokens.pop())
            nxt.brk = "arrow"
            if not line.tokens:  # the arrow stood alone: its comment becomes a comment line
                nxt.before[:0] = line.before + ([line.comment] if line.comment else [])
                continue
        out.append(line)
    return out


# ------------------------------------------------------------------ layout
@dataclass
class _Bracket:
    closer: str
    column: int  # of the opener, in the output
    line_indent: int  # of the line it opened on
    body: bool  # a statement body's `{`
    hanging: bool = False  # it ends its line


@dataclass
class _Out:
    indent: int
    code: str  # "" for a comment line or a blank line
    comment: str | None = None
    comment_column: int | None = None
    blank: bool = False


def _is_opener(t: Lexeme) -> bool:
    return t.text in ("(", "x(", "[", "{") or (t.text == "<" and t.rule == "combinator")


def _is_closer(t: Lexeme) -> bool:
    return t.text in ")]}" or (t.text == ">" and t.rule == "combinator")


def _tight(table: dict[str, set[str] | None], t: Lexeme) -> bool:
    if t.text not in table:
        return False
    rules = table[t.text]
    return rules is None or t.rule in rules


def render(tokens: list[Lexeme]) -> tuple[str, list[int]]:
    """Tokens on one line, spaced by the tables; and each token's offset in the result."""
    parts: list[str] = []
    offsets: list[int] = []
    width = 0
    literal: list[bool] = []  # per bracket open on this line: a layer literal's parentheses
    for i, tok in enumerate(tokens):
        prev = tokens[i - 1] if i else None
        in_literal = bool(literal) and literal[-1]
        if prev is not None and not (_tight(TIGHT_AFTER, prev) or _tight(TIGHT_BEFORE, tok) or (
                in_literal and (prev.rule in ARITHMETIC or tok.rule in ARITHMETIC))):
            parts.append(" ")
            width += 1
        if _is_closer(tok) and literal:
            literal.pop()
        if _is_opener(tok):
            literal.append(tok.rule == "kernel_layer" or (tok.text == "(" and prev is not None
                                                          and prev.rule in LITERAL_PARTS and _tight(TIGHT_AFTER, prev)))
        offsets.append(width)
        parts.append(tok.text)
        width += len(tok.text)
    return "".join(parts), offsets


class _Layout:
    def __init__(self) -> None:
        self.out: list[_Out] = []
        self.stack: list[_Bracket] = []
        self.chain_column: int | None = None  # where this statement's chain starts, if at a line start
        self.after_body_equal = False  # the last line ended with a block's `=`

    def run(self, source: tuple[list[_Line], list[str | None]]) -> str:
        lines, tail = source
        for line in lines:
            self.line(line)
        self._flush(tail, 0, closing=True)
        return _text(_align_comments(self.out))

    # -------------------------------------------------------------- one line
    def line(self, line: _Line) -> None:
        indent = self._indent(line.tokens[0], line.brk)
        self._flush(line.before, self._indent(line.tokens[0], line.brk, content=True),
                    closing=_is_closer(line.tokens[0]))
        if line.brk == "backslash":
            if line.tokens[0].text in ARROWS or self._inner() is not None:
                line.brk = "joined"  # the line continues without the backslash
            elif self.out:
                self.out[-1].code += " \\"
        split = self._split_point(line.tokens, indent)
        if split is None:
            self._commit(line, indent)
            return
        at, brk = split
        self._commit(_Line(line.tokens[:at], line.brk), indent)
        self.line(_Line(line.tokens[at:], brk, line.comment, line.comment_column))

    def _inner(self) -> _Bracket | None:
        """The innermost open bracket, unless a statement body is open inside it."""
        top = self.stack[-1] if self.stack else None
        return None if top is None or top.body else top

    def _depth(self) -> int:
        return sum(b.body for b in self.stack)

    def _indent(self, first: Lexeme, brk: str, content: bool = False) -> int:
        """Where a line starting with `first` starts; `content`: as if it were not a closer."""
        b = self._inner()
        stmt = STEP * self._depth()
        if b is None:
            if _is_closer(first) and not content:
                return stmt - STEP
            if brk in ("stmt", "first") or first.rule in STATEMENT_CONTINUATIONS:
                return stmt
            if first.text in ARROWS and self.chain_column is not None:
                return self.chain_column
            return stmt + STEP
        if _is_closer(first) and not content:
            return b.line_indent if b.hanging else b.column
        if b.hanging:
            return b.line_indent + STEP
        if first.text in ARROWS:
            return max(b.column + 1 - len(first.text) - 1, stmt)
        return b.column + 1

    def _split_point(self, tokens: list[Lexeme], indent: int) -> tuple[int, str] | None:
        """Where a line too long breaks, and how the next line then starts; None to keep it."""
        code, offsets = render(tokens)
        if indent + len(code) <= WIDTH:
            return None
        depths = _depths(tokens)
        for i, tok in enumerate(tokens[:-1]):
            if tok.text == "=" and tok.rule in BODY_EQUALS and depths[i] == 0 and i > 0:
                return i + 1, "joined"
        found = [i for i, t in enumerate(tokens) if i and t.text in ARROWS]
        if not found:
            return None
        low = min(depths[i] for i in found)
        kind = next(a for a in ARROWS if any(tokens[i].text == a and depths[i] == low for i in found))
        points = [i for i in found if tokens[i].text == kind and depths[i] == low]
        fitting = [i for i in points if indent + offsets[i] - 1 <= WIDTH]
        return (fitting[-1] if fitting else points[0]), "arrow"

    def _commit(self, line: _Line, indent: int) -> None:
        first = line.tokens[0]
        if self._inner() is None and not _is_closer(first):
            if line.brk in ("stmt", "first"):
                self.chain_column = None if first.rule in STATEMENT_RULES else indent
            elif line.brk == "joined" and self.after_body_equal:
                self.chain_column = indent
        code, offsets = render(line.tokens)
        opened = None
        for tok, offset in zip(line.tokens, offsets):
            if _is_closer(tok) and self.stack:
                self.stack.pop()
            if _is_opener(tok):
                opened = _Bracket(CLOSERS[tok.text], indent + offset, indent, tok.rule in BODY_RULES)
                self.stack.append(opened)
        if opened is not None and line.tokens[-1] is not None and _is_opener(line.tokens[-1]):
            opened.hanging = True
        last = line.tokens[-1]
        self.after_body_equal = last.text == "=" and last.rule in BODY_EQUALS
        self.out.append(_Out(indent, code, line.comment, line.comment_column))

    def _flush(self, items: list[str | None], indent: int, closing: bool) -> None:
        """Comment lines and blank lines before a line: at most one blank in a row, none at the
        start of the file or of a body, none before the end of a body or of the file."""
        for item in items:
            if item is not None:
                self.out.append(_Out(indent, "", item))
            elif self.out and not self.out[-1].blank and not self._opens_body(self.out[-1]):
                self.out.append(_Out(0, "", blank=True))
        if closing:
            while self.out and self.out[-1].blank:
                self.out.pop()

    def _opens_body(self, out: _Out) -> bool:
        return bool(self.stack) and self.stack[-1].body and out.code.endswith("{")


def _depths(tokens: list[Lexeme]) -> list[int]:
    """Each token's bracket depth relative to the start of its line (closers of earlier lines
    make it negative)."""
    depth, out = 0, []
    for tok in tokens:
        if _is_closer(tok):
            depth -= 1
        out.append(depth)
        if _is_opener(tok):
            depth += 1
    return out


def _align_comments(lines: list[_Out]) -> list[_Out]:
    """Trailing comments of consecutive code lines (code lines without a comment may come
    between) that the author lined up, give or take ALIGN_SLACK columns, share a column again:
    two spaces after the longest code of the group. Groups whose new columns come that close
    merge, until none do, so that formatting the output again finds the same groups."""
    for run in _runs(lines):
        groups = _chain([[line] for line in run])
        while True:
            for group in groups:
                _set_column(group)
            merged = _chain(groups)
            if len(merged) == len(groups):
                break
            groups = merged
    return lines


def _runs(lines: list[_Out]) -> list[list[_Out]]:
    """Code lines with trailing comments, in runs that blank lines and comment lines end."""
    runs: list[list[_Out]] = [[]]
    for line in lines:
        if not line.code:
            runs.append([])
        elif line.comment is not None:
            runs[-1].append(line)
    return [run for run in runs if run]


def _chain(groups: list[list[_Out]]) -> list[list[_Out]]:
    """Neighbouring groups whose comment columns are within ALIGN_SLACK, joined."""
    out: list[list[_Out]] = []
    for group in groups:
        here, there = group[0].comment_column, out[-1][-1].comment_column if out else None
        if here is not None and there is not None and abs(here - there) <= ALIGN_SLACK:
            out[-1].extend(group)
        else:
            out.append(list(group))
    return out


def _set_column(group: list[_Out]) -> None:
    column = max(line.indent + len(line.code) for line in group) + 2
    for line in group:
        line.comment_column = column


def _text(lines: list[_Out]) -> str:
    out = []
    for line in lines:
        if line.blank:
            out.append("")
        elif not line.code:
            out.append(" " * line.indent + (line.comment or ""))
        elif line.comment is None:
            out.append(" " * line.indent + line.code)
        else:
            code = " " * line.indent + line.code
            out.append(code.ljust(line.comment_column or 0) + line.comment)
    return "\n".join(out).rstrip("\n") + "\n" if out else ""
