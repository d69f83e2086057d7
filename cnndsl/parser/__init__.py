"""Text -> AST. The only place that talks to Lark; every Lark error leaves here as a Diagnostic.

A valid text is parsed by fast.py's loop over Lark's tables, cached as plain data (tables.py), so
that it neither imports nor loads Lark (a fifth of `cnndsl compile`'s start-up); Lark is loaded
where that loop stops at a syntax error, and raises its own error there (`_parse`).

The text is checked before Lark sees it (UTF-8, no control characters, at most
`source.MAX_FILE_BYTES`), and the parse is bounded (postlex.MAX_TOKENS per program, brackets and
AST nesting up to build.MAX_NESTING); each refusal is a diagnostic at the line and column where the
limit was passed. docs/security.md lists the limits."""
from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import ast
from ..diagnostics import CnnDslError, Diagnostic, error
from ..source import SOURCES, SourceError, Span, check_characters
from . import tables
from .build import RULE_METHODS, AstBuilder
from .fast import FastParser, NeedsLark, raise_as_lark
from .limits import MAX_FILE_BYTES, MAX_NESTING, Budget, past_token_budget
from .postlex import TOO_MANY_TOKENS, LimitReached, NewlineFilter
from .tokens import TOKEN_TYPES
from .tokens import LexedToken as Token

if TYPE_CHECKING:
    from lark import Lark
    from lark.exceptions import UnexpectedInput

__all__ = ["MAX_NESTING", "Budget", "parse", "parse_expr", "parse_file"]

# grammar/cnndsl.lark, through a link inside the package so that a built wheel carries it too
GRAMMAR = Path(__file__).resolve().parents[1] / "grammar.lark"

# What a terminal is called in an error message.
TOKEN_NAMES = {
    "_NL": "end of line", "$END": "end of file", "NAME": "a name", "INT": "an integer",
    "FLOAT": "a number", "DIMS": "a kernel size like 3x3", "STRING": 'a "string"',
    "_ARROW": "`->`", "_LARROW": "`<-`", "_BAR": "`|`", "LPAR": "`(`", "RPAR": "`)`",
    "LSQB": "`[`", "RSQB": "`]`", "LBRACE": "`{`", "RBRACE": "`}`", "LESSTHAN": "`<`",
    "MORETHAN": "`>`", "COLON": "`:`", "SLASH": "`/`", "STAR": "`*`", "EQUAL": "`=`",
    "COMMA": "`,`", "MERGE": "a merge such as concat(...)", "COMBINATOR": "residual<...> or dense<...>",
    "PLUS": "`+`", "PERCENT": "`%`", "__ANON_1": "`//`",
    "QMARK": "`?`", "ELSE": "`else`", "KERNEL_OPEN": "`(`", "KERNEL_X": "`x(`", "MINUS": "`-`", "__ANON_0": "`**`",
}

# A token that can begin a layer, met where `->` could have come: the arrow is missing.
LAYER_STARTS = {"DIMS", "MERGE", "COMBINATOR", "LPAR", "KERNEL_OPEN"}

# What must follow these tokens, when something else did.
MUST_FOLLOW = {
    "COLON": "a `:` must be followed by a number of filters (or a name, or a parenthesised expression)",
    "SLASH": "a `/` must be followed by a stride, e.g. `3x3:64/2`",
    "STAR": "a `*` must be followed by a repeat count, e.g. `3x3:64*2`",
    "_ARROW": "`->` must be followed by a layer",
    "EQUAL": "`=` must be followed by a value",
}

# Inputs whose parse fails the same way as the user's get the friendlier message on the left.
EXAMPLES = {
    "arithmetic inside a layer needs parentheses, e.g. `3x3:(c+1)`": [
        "network n = 3x3:c+1", "network n = 3x3:c-1",
    ],
}


_NEWLINES = NewlineFilter()
_BUILDER = AstBuilder()
_LOCK = threading.RLock()  # the post-lexer and the builder hold the state of one parse at a time


@lru_cache(maxsize=1)
def _parser() -> Lark:
    """Lark's parser, with the builder as its transformer: the reference the fast loop follows,
    the source of its tables, and the engine of every syntax error."""
    from lark import Lark
    from lark import Token as LarkToken

    TOKEN_TYPES.add(LarkToken)  # its tokens reach the builder
    grammar = GRAMMAR.read_text()
    return Lark(grammar, parser="lalr", lexer="contextual", postlex=_NEWLINES,
                transformer=_BUILDER, keep_all_tokens=True, maybe_placeholders=True, start=["start", "expr"],
                cache=_cache_file(grammar))


def _cache_file(grammar: str) -> str | bool:
    """Where Lark may keep its LALR tables (a pickle, loaded at every start): in a directory of
    the user's own, never in the shared temp directory, where `cache=True` would put it under a
    predictable name that another user could plant first (docs/security.md). No such directory:
    no cache (0.15 s more per start)."""
    import hashlib

    base = tables.cache_dir()
    if base is None:
        return False
    digest = hashlib.sha256(grammar.encode()).hexdigest()[:20]
    return str(base / f"lark-{digest}.pickle")


@lru_cache(maxsize=1)
def _fast() -> FastParser:
    return FastParser(_tables(), _BUILDER)


def _tables() -> dict[str, Any]:
    """The tables from the cache where it holds sound ones for this grammar and this Lark; else
    read out of Lark (loaded for it) and cached for the next start. Without a private cache
    directory, or where Lark's version cannot be read without importing it, nothing is cached."""
    grammar = GRAMMAR.read_text()
    version = tables.lark_version()
    path = _tables_path(grammar, version)
    if path is not None and version is not None:  # a path only with a version; said again for mypy
        found = tables.load(path, grammar, version, RULE_METHODS)
        if found is not None:
            return found
    return _tables_of_lark(grammar, version, path)


def _tables_path(grammar: str, version: str | None) -> Path | None:
    if version is None:  # Lark's version names the file: unknown, nothing is cached
        return None
    base = tables.cache_dir()
    return tables.cache_path(base, grammar, version) if base is not None else None


def _tables_of_lark(grammar: str, version: str | None, path: Path | None) -> dict[str, Any]:
    """The tables read out of the loaded Lark, cached where there is a place for them."""
    built = tables.build(_parser(), _BUILDER, grammar)
    if path is not None and built["lark"] == version and tables.check(built, RULE_METHODS):
        tables.save(path, built)
    return built


ENGINE = "fast"  # or "lark": Lark's own loop, which tests compare the fast one against


def parse(text: str, filename: str = "<string>", budget: Budget | None = None) -> ast.Module:
    """Parse a whole `.arch` text."""
    SOURCES.add(filename, text)
    return _run(text + "\n", filename, "start", budget)


def parse_file(path: str | Path, display: str | None = None, budget: Budget | None = None) -> ast.Module:
    """Read and parse a file (a regular file of at most source.MAX_FILE_BYTES bytes of UTF-8)."""
    path = Path(path)
    display = display or str(path)
    budget = budget or Budget()
    try:
        text = SOURCES.read(path, display, min(MAX_FILE_BYTES, budget.bytes))
    except SourceError as exc:
        raise _source_error(exc, display, f"cannot read {display}: ") from None
    budget.bytes -= len(text)
    return _run(text + "\n", display, "start", budget)


def parse_expr(text: str, filename: str = "<command line>") -> ast.Expr:
    """Parse a value expression, e.g. the right-hand side of `-D depth=50`."""
    SOURCES.add(filename, text)
    return _run(text, filename, "expr", None)


def _source_error(exc: SourceError, filename: str, prefix: str = "") -> CnnDslError:
    if exc.line is None:
        return error(prefix + exc.message, None)
    column = exc.column or 1
    return error(exc.message, Span(filename, exc.line, column, exc.line, column + 1))


# Whole texts kept parsed, by file name and text: a language server re-checks a file at every edit,
# and the includes it reads again (std.arch, resnet_blocks.arch) are unchanged. Syntax trees are
# frozen, so programs can share them. Small files only, few of them: the cache stays small.
MAX_CACHED_TEXTS = 32
MAX_CACHED_CHARS = 200_000
_PARSED: dict[tuple[str, str, str], tuple[Any, int]] = {}  # (engine, file name, text) -> (tree, its tokens)


def _run(text: str, filename: str, start: str, budget: Budget | None) -> Any:
    budget = budget or Budget()
    key = (ENGINE, filename, text) if start == "start" and len(text) <= MAX_CACHED_CHARS else None
    with _LOCK:
        hit = _PARSED.get(key) if key is not None else None
    if hit is not None and hit[1] <= budget.tokens:  # past the budget: parse again, for the located error
        budget.tokens -= hit[1]
        return hit[0]
    try:
        check_characters(text)
    except SourceError as exc:
        raise _source_error(exc, filename) from None
    past = past_token_budget(text, budget.tokens)
    if past is not None:
        raise _too_many_tokens(text, filename, past, budget)
    with _LOCK:
        _BUILDER.reset(filename)
        _NEWLINES.budget = budget
        tokens_before = budget.tokens
        try:
            tree = _parse(text, filename, start, budget)
            if key is not None:
                _PARSED[key] = (tree, tokens_before - budget.tokens)
                while len(_PARSED) > MAX_CACHED_TEXTS:
                    del _PARSED[next(iter(_PARSED))]  # the oldest
            return tree
        except LimitReached as exc:
            line, column = _position(exc.token)
            width = len(exc.token.strip() or " ")
            raise error(exc.message, Span(filename, line, column, line, column + width), help=exc.help) from None
        finally:
            _BUILDER.reset("<string>")


def _parse(text: str, filename: str, start: str, budget: Budget) -> Any:
    """The fast loop's tree. Where it stops at a syntax error, Lark (loaded then) raises its error
    there if its tables are the loop's; else Lark parses the text again, after the post-lexer and
    the builder start again and the tokens the fast loop spent are given back (so the limits are
    charged once)."""
    if ENGINE == "fast":
        tokens_before = budget.tokens
        try:
            return _fast().parse(text, start, _NEWLINES)
        except NeedsLark as stop:
            if stop.state_stack is not None and _lark_has_the_fast_tables():
                return _as_diagnostic(partial(raise_as_lark, stop, _parser(), text), text, filename, start)
            budget.tokens = tokens_before
            _BUILDER.reset(filename)  # the post-lexer starts again with each parse
    return _as_diagnostic(lambda: _parser().parse(text, start=start), text, filename, start)


@lru_cache(maxsize=1)
def _lark_has_the_fast_tables() -> bool:
    """Whether the loaded Lark numbers its states as the fast loop's tables do. Not where they came
    from different builds (Lark's pickle rebuilt, or two first starts at once): then the cache is
    written again from this Lark, for the next start; this process lets Lark parse again."""
    if tables.same_as_lark(_parser(), _fast().tables):
        return True
    grammar = GRAMMAR.read_text()
    version = tables.lark_version()
    _tables_of_lark(grammar, version, _tables_path(grammar, version))
    return False


def _as_diagnostic(run: Callable[[], Any], text: str, filename: str, start: str) -> Any:
    """`run()`, a Lark parse, its syntax errors as diagnostics."""
    from lark.exceptions import UnexpectedInput, VisitError

    try:
        return run()
    except UnexpectedInput as exc:
        raise CnnDslError(_syntax_diagnostic(exc, text, filename, start)) from None
    except VisitError as exc:  # raised by Lark around an error inside a builder method
        if isinstance(exc.orig_exc, CnnDslError):
            raise exc.orig_exc from None
        raise


def _too_many_tokens(text: str, filename: str, offset: int, budget: Budget) -> CnnDslError:
    """The budget is passed by `offset` (the count before the parse says so): the same error as the
    post-lexer's, at the piece of text where the count passed it."""
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)  # rfind is -1 on the first line: column is 1-based
    message, help = TOO_MANY_TOKENS
    return error(message.format(limit=budget.token_limit), Span(filename, line, column, line, column + 1),
                 help=help)


def _syntax_diagnostic(exc: UnexpectedInput, text: str, filename: str, start: str) -> Diagnostic:
    from lark.exceptions import UnexpectedEOF, UnexpectedToken

    line, col = max(exc.line, 1), max(exc.column, 1)
    width = 1
    if isinstance(exc, UnexpectedToken) and exc.token.type not in ("$END", "_NL"):
        width = max(1, len(str(exc.token)))
    span = Span(filename, line, col, line, col + width)
    at_end = isinstance(exc, UnexpectedEOF) or getattr(getattr(exc, "token", None), "type", "") == "$END"
    # Inside brackets newlines do not end statements, so a missing `)` surfaces lines later.
    unclosed = [t for t in _NEWLINES.unclosed if (t.type != "LBRACE" or at_end) and (at_end or _position(t)[0] < line)]
    if unclosed:
        opener = unclosed[-1]
        where = "the file ends" if at_end else f"line {line} is reached"
        at_line, at_column = _position(opener)
        return Diagnostic(f"syntax error: `{opener}` is never closed",
                          Span(filename, at_line, at_column, at_line, at_column + 1),
                          details=[f"{where} while it is still open"])
    message = f"syntax error: {_unexpected(exc)}"
    label = None
    expected_names = getattr(exc, "expected", None) or set()
    last = _NEWLINES.last.type if _NEWLINES.last is not None else None
    if getattr(getattr(exc, "token", None), "type", "") in LAYER_STARTS and "_ARROW" in expected_names:
        label = "two layers need `->` between them"
        span = _called_name(_NEWLINES.last, span)
    elif last in MUST_FOLLOW and start == "start" and isinstance(exc, UnexpectedToken):
        label = MUST_FOLLOW[last]
    elif start == "start":
        label = exc.match_examples(lambda s: _parser().parse(s + "\n", start="start"), EXAMPLES,
                                   use_accepts=False)  # lark 1.3 crashes formatting a debug line with True
    expected = _expected(exc)
    details = [f"expected {expected}"] if expected else []
    return Diagnostic(message if not label else f"syntax error: {label}", span, details=details)


def _called_name(last: Token | None, span: Span) -> Span:
    """`gap dropout(0.2)`: `dropout` was read as a flag of `gap`, and the `(` right after it is
    where the parse fails; the layer that lacks its `->` is the name, so the caret goes there."""
    if last is not None and last.type == "NAME" and last.line == span.line and last.end_column == span.column:
        line, column = _position(last)
        return Span(span.file, line, column, line, span.column)
    return span


def _position(tok: Token) -> tuple[int, int]:
    """A token's line and column; the lexers here always set them (Lark types them optional)."""
    return tok.line or 1, tok.column or 1


def _unexpected(exc: UnexpectedInput) -> str:
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    if isinstance(exc, UnexpectedCharacters):
        return f"unexpected character {exc.char!r}"
    if not isinstance(exc, UnexpectedToken):
        return "unexpected end of file"
    tok = exc.token
    if tok.type == "$END":
        return "unexpected end of file"
    if tok.type == "_NL":
        return "unexpected end of line"
    return f"unexpected `{str(tok).strip()}`"


def _expected(exc: UnexpectedInput) -> str:
    names = getattr(exc, "expected", None) or getattr(exc, "allowed", None) or set()
    words = sorted({TOKEN_NAMES.get(n, f"`{n.lower()}`") for n in names})
    if not words:
        return ""
    if len(words) > 8:
        words = words[:8] + ["..."]
    return "one of: " + ", ".join(words) if len(words) > 1 else words[0]
