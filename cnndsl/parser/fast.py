"""A faster driver for Lark's LALR tables: the same contextual lexer, post-lexer, parse table and
callbacks as `Lark.parse`, in one loop without its per-token layers, and without Lark itself.

Parsing is the cost of a large file (docs/security.md: a valid 100,000-line file must check in a
few seconds, and a program's token budget bounds the parse of a hostile one), and Lark spends
most of its time in generic machinery: a lexer thread, a `feed_token` call per token, rule
hashing on every reduction. This driver runs Lark's tables directly, read out of Lark once and
cached as plain data (tables.py), so a valid file is parsed without importing Lark at all.

It is exact, not approximate: a token is lexed with the terminals of the parser's current state
(the same per-state regular expressions Lark builds, keywords re-typed the same way), and each
reduction's children are filtered, inlined and padded with placeholders as Lark's
`ParseTreeBuilder` does (its wrappers, read out of the callbacks Lark built). It makes no syntax
error of its own: where this loop meets a character no terminal matches, or a token the table has
no action for, it raises `NeedsLark` with where it stopped, and the caller loads Lark and has it
raise its error there (`raise_as_lark`: Lark's contextual lexer at that position, or the
`UnexpectedToken` its `feed_token` raises) -- or, where Lark's tables are not these (a cache built
by another Lark run; state numbers can differ), parses the whole text again with Lark.
tests/test_hostile_parser.py checks the AST and every syntax error against `Lark.parse` on the zoo
and its mutations.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, NoReturn

from .build import PASSTHROUGH, RULE_METHODS
from .tables import EXPAND1, METHOD
from .tokens import Token

_new_token = Token.__new__


class NeedsLark(Exception):
    """The fast loop stops (a syntax error, or tables it cannot use). Where it is a syntax error,
    the parser's stacks and either the token without an action or the lexer's position."""

    def __init__(self, why: str, state_stack: list | None = None, value_stack: list | None = None,
                 token: Token | None = None, lexer_at: tuple[int, int, int, Token | None] | None = None) -> None:
        super().__init__(why)
        self.state_stack, self.value_stack, self.token, self.lexer_at = state_stack, value_stack, token, lexer_at
        self.start = "start"  # set by `parse`


class Tree:
    """What Lark's `Tree` is to a reduction: the children of a `_rule`, which its parent inlines."""

    __slots__ = ("children", "data")

    def __init__(self, data: str, children: list) -> None:
        self.data, self.children = data, children


class _StateLexer:
    """What the contextual lexer does in the parser states that share one set of terminals."""

    __slots__ = ("ignore", "keywords", "newlines", "regexes")

    def __init__(self, spec: tuple) -> None:
        patterns, ignore, newlines, keywords = spec
        try:
            self.regexes = [re.compile(pattern, flags).match for pattern, flags in patterns]
        except (re.error, TypeError, ValueError, OverflowError):
            raise NeedsLark("a cached regular expression does not compile") from None
        self.ignore = frozenset(ignore)
        self.newlines = frozenset(newlines)
        self.keywords: dict[str, dict[str, str]] = keywords  # NAME -> {"network": "NETWORK", ...}


class _StateLexers(dict[int, _StateLexer]):
    """The lexer of each parser state, made when the state is first met: building one compiles a
    large regular expression, and a file meets a fraction of the states, so building all of them
    up front was a fifth of a small check's start-up."""

    def __init__(self, lexer_of_state: dict[int, int], specs: list[tuple]) -> None:
        super().__init__()
        self.lexer_of_state, self.specs = lexer_of_state, specs
        self.shared: dict[int, _StateLexer] = {}  # states with the same terminals share one lexer

    def __missing__(self, state: int) -> _StateLexer:
        i = self.lexer_of_state[state]
        lexer = self.shared.get(i)
        if lexer is None:
            lexer = self.shared[i] = _StateLexer(self.specs[i])
        self[state] = lexer
        return lexer


def _filter(node_builder: Callable, to_include: tuple, append_none: int) -> Callable[[list], Any]:
    """Lark's `ChildFilterLALR`: keep the children the rule keeps, inline a `_rule`'s, and pad
    with the placeholders (None) of absent `[optional]` parts."""
    def call(children: list) -> Any:
        filtered: list = []
        for i, to_expand, add_none in to_include:
            if add_none:
                filtered += [None] * add_none
            if to_expand:
                if filtered:
                    filtered += children[i].children
                else:  # as Lark does: the first inlined child's list is reused, not copied
                    filtered = children[i].children
            else:
                filtered.append(children[i])
        if append_none:
            filtered += [None] * append_none
        return node_builder(filtered)
    return call


def _expand_single(node_builder: Callable) -> Callable[[list], Any]:
    """Lark's `ExpandSingleChild` (a `?rule`): one child is the result itself."""
    def call(children: list) -> Any:
        return children[0] if len(children) == 1 else node_builder(children)
    return call


def _callback(builder: object, steps: tuple, base: tuple) -> Callable[[list], Any]:
    kind, name = base
    if kind == METHOD:
        if name not in RULE_METHODS:
            raise NeedsLark(f"the cached tables name {name!r}, which is no method of the builder")
        f = getattr(builder, name)
    else:
        f = partial(Tree, name)
    for step in reversed(steps):  # the innermost wrapper first
        f = _expand_single(f) if step[0] == EXPAND1 else _filter(f, step[1], step[2])
    return f


class FastParser:
    def __init__(self, tables: dict[str, Any], builder: object) -> None:
        self.tables = tables
        self.start_states: dict[str, int] = tables["start_states"]
        self.end_states: dict[str, int] = tables["end_states"]
        self.lexers = _StateLexers(tables["lexer_of_state"], tables["lexers"])
        self.rules = [self._reduction(rule, builder) for rule in tables["rules"]]
        # state -> terminal or rule name -> (True, next state) for a shift, (False, rule) for a reduce
        self.actions: dict[int, dict[str, tuple[bool, Any]]] = {
            state: {sym: (True, arg) if arg >= 0 else (False, self.rules[-1 - arg]) for sym, arg in row.items()}
            for state, row in tables["states"].items()}
        self.chains: dict[tuple[int, int, str], int] = {}  # see _chain

    @staticmethod
    def _reduction(rule: tuple, builder: object) -> tuple[int, str, Callable | None]:
        """(symbols, rule name, callback); no callback where reducing one symbol returns it as it
        is: a `?rule` Lark inlines, or a rule the builder passes its only child through."""
        size, origin, name, inlined, single, steps, base = rule
        if size == 1 and single and (inlined or name in PASSTHROUGH):
            return size, origin, None
        return size, origin, _callback(builder, steps, base)

    def parse(self, text: str, start: str, postlex: Any) -> Any:
        state_stack = [self.start_states[start]]
        value_stack: list = []
        end_state = self.end_states[start]
        token, actions = None, self.actions
        try:
            for token in postlex.process(self._lex(text, state_stack)):
                action = actions[state_stack[-1]].get(token.type)
                if action is not None and action[0]:  # a shift, half the tokens: as `_feed` would, without the call
                    state_stack.append(action[1])
                    value_stack.append(token)
                else:
                    self._feed(token, state_stack, value_stack, end_state)
            end = Token.new_borrow_pos("$END", "", token) if token is not None else Token("$END", "", 0, 1, 1)
            return self._feed(end, state_stack, value_stack, end_state)
        except NeedsLark as stop:
            stop.start = start
            raise

    def _feed(self, token: Token, state_stack: list, value_stack: list, end_state: int) -> Any:
        actions, type_ = self.actions, token.type
        while True:
            action = actions[state_stack[-1]].get(type_)
            if action is None:
                raise NeedsLark("no action", state_stack, value_stack, token=token)
            shift, arg = action
            if shift:
                state_stack.append(arg)
                value_stack.append(token)
                return None
            size, origin, callback = arg
            if callback is None:  # one symbol, passed through: its value stays on the stack
                key = (state_stack[-2], state_stack[-1], type_)
                final = self.chains.get(key)
                if final is None:
                    final = self.chains[key] = self._chain(*key)
                state_stack[-1] = final
            else:
                if size:
                    children = value_stack[-size:]
                    del state_stack[-size:]
                    del value_stack[-size:]
                else:
                    children = []
                value_stack.append(callback(children))
                state_stack.append(actions[state_stack[-1]][origin][1])
            if type_ == "$END" and state_stack[-1] == end_state:
                return value_stack[-1]

    def _chain(self, below: int, top: int, type_: str) -> int:
        """Where a run of pass-through reductions from `top` (above `below`) ends before `type_`:
        each pops one state and pushes the goto from `below`, so the run depends on these three
        only, and is worked out once (an integer in an expression: ten reductions, one look-up)."""
        state = top
        while not (type_ == "$END" and state in self.end_states.values()):
            shift, arg = self.actions[state].get(type_, (True, None))
            if shift or arg[2] is not None:
                break
            state = self.actions[below][arg[1]][1]
        return state

    def _lex(self, text: str, state_stack: list) -> Iterator[Token]:
        lexers, end = self.lexers, len(text)
        pos, line, line_start = 0, 1, 0
        last = None
        while pos < end:
            lexer = lexers[state_stack[-1]]
            for match in lexer.regexes:
                m = match(text, pos)
                if m:
                    break
            else:  # Lark's contextual lexer says which character
                raise NeedsLark("no terminal matches", state_stack, [], lexer_at=(pos, line, line_start, last))
            value, type_ = m.group(0), m.lastgroup or ""
            if not value:  # Lark refuses empty terminals; only a damaged cache could hold one
                raise NeedsLark("an empty match")
            new_pos = pos + len(value)
            if type_ in lexer.newlines and "\n" in value:
                new_line = line + value.count("\n")
                new_start = pos + value.rindex("\n") + 1
            else:
                new_line, new_start = line, line_start
            if type_ not in lexer.ignore:
                keywords = lexer.keywords.get(type_)
                if keywords is not None:
                    type_ = keywords.get(value, type_)
                tok = _new_token(Token, type_, value, pos, line, pos - line_start + 1,
                                 new_line, new_pos - new_start + 1, new_pos)
                pos, line, line_start = new_pos, new_line, new_start
                last = tok
                yield tok
            else:
                pos, line, line_start = new_pos, new_line, new_start


def raise_as_lark(stop: NeedsLark, lark: Any, text: str) -> NoReturn:
    """Raise what `lark.parse` raises where the fast loop stopped with a syntax error; the caller
    has checked that `lark`'s tables are the ones the loop ran (tables.same_as_lark)."""
    from lark.exceptions import UnexpectedToken
    from lark.lexer import LexerState, LineCounter, TextSlice
    from lark.parsers.lalr_parser_state import ParseConf, ParserState

    lalr = lark.parser.parser.parser
    # no lexer thread: the state is only read, by Lark's error reporting
    state = ParserState(ParseConf(lalr.parse_table, lalr.callbacks, stop.start), None,  # type: ignore[arg-type]
                        stop.state_stack, stop.value_stack)
    if stop.token is not None:
        expected = {s for s in lalr.parse_table.states[state.position] if s.isupper()}
        raise UnexpectedToken(stop.token, expected, state=state, interactive_parser=None)
    assert stop.lexer_at is not None
    pos, line, line_start, last = stop.lexer_at
    counter = LineCounter("\n")
    counter.char_pos, counter.line, counter.line_start_pos = pos, line, line_start
    counter.column = pos - line_start + 1
    lexer_state = LexerState(TextSlice(text, 0, len(text)), counter, last)  # type: ignore[arg-type]  # Lark-like
    for _ in lark.parser.lexer.lexer.lex(lexer_state, state):  # raises
        break
    raise AssertionError("Lark's lexer matched where the fast lexer did not")  # a bug, not user input
