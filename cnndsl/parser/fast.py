"""A faster driver for Lark's LALR tables: the same contextual lexer, post-lexer, parse table and
callbacks as `Lark.parse`, in one loop without its per-token layers.

Parsing is the cost of a large file (docs/security.md: a valid 100,000-line file must check in a
few seconds, and a program's token budget bounds the parse of a hostile one), and Lark spends
most of its time in generic machinery: a lexer thread, a `feed_token` call per token, rule
hashing on every reduction. This driver reads Lark's own tables once and runs them directly.

It is exact, not approximate: a token is lexed with the terminals of the parser's current state
(the same per-state scanners Lark builds, keywords re-typed the same way), and every error is
raised by Lark itself: where this loop meets a character no terminal matches, it hands the
position to Lark's contextual lexer, which raises what `Lark.parse` would; where the table has no
action, it raises the `UnexpectedToken` that `feed_token` would. tests/test_hostile_parser.py
checks the AST and every syntax error against `Lark.parse` on the zoo and its mutations.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from lark import Lark, Token
from lark.exceptions import UnexpectedToken
from lark.lexer import LexerState, LineCounter, PatternStr, TextSlice, UnlessCallback
from lark.parsers.lalr_analysis import Shift
from lark.parsers.lalr_parser_state import ParseConf, ParserState

from .build import PASSTHROUGH

_new_token = Token._future_new  # Token(...) without the keyword-deprecation shim


class _StateLexer:
    """What the contextual lexer does in one parser state, flattened."""

    __slots__ = ("callbacks", "ignore", "keywords", "newlines", "regexes")

    def __init__(self, basic: Any) -> None:
        scanner = basic.scanner  # builds `basic.callback` too
        self.regexes = [mre.match for mre in scanner._mres]
        self.ignore = basic.ignore_types
        self.newlines = basic.newline_types
        self.keywords: dict[str, dict[str, str]] = {}  # NAME -> {"network": "NETWORK", ...}
        self.callbacks: dict[str, Callable[[Token], Token]] = {}
        for type_, cb in basic.callback.items():
            table = _keyword_table(cb)
            if table is None:
                self.callbacks[type_] = cb
            else:
                self.keywords[type_] = table


class _StateLexers(dict[Any, _StateLexer]):
    """The lexer of each parser state, made when the state is first met: building a state's
    scanner compiles one large regular expression, and a file meets a fraction of the states, so
    building all of them up front was a fifth of a small check's start-up."""

    def __init__(self, basics: dict[Any, Any]) -> None:
        super().__init__()
        self.basics = basics
        self.shared: dict[int, _StateLexer] = {}  # states with the same terminals share one lexer

    def __missing__(self, state: Any) -> _StateLexer:
        basic = self.basics[state]
        lexer = self.shared.get(id(basic))
        if lexer is None:
            lexer = self.shared[id(basic)] = _StateLexer(basic)
        self[state] = lexer
        return lexer


def _keyword_table(cb: Any) -> dict[str, str] | None:
    """An UnlessCallback over plain strings is a dictionary look-up."""
    if not isinstance(cb, UnlessCallback):
        return None
    terminals = cb.scanner.terminals
    if not all(isinstance(t.pattern, PatternStr) and not t.pattern.flags for t in terminals):
        return None
    return {t.pattern.value: t.name for t in terminals}


class FastParser:
    def __init__(self, lark: Lark) -> None:
        frontend = lark.parser
        self.contextual = frontend.lexer.lexer
        self.postlex = frontend.lexer.postlexer
        lalr = frontend.parser.parser
        self.table, self.callbacks = lalr.parse_table, lalr.callbacks
        if any(isinstance(k, str) for k in self.callbacks):
            raise TypeError("callbacks on terminals are not supported")
        self.lexers = _StateLexers(self.contextual.lexers)
        # state -> terminal or rule name -> (True, next state) for a shift, (False, rule) for a reduce
        self.actions: dict[Any, dict[str, tuple[bool, Any]]] = {
            state: {sym: (action is Shift, arg if action is Shift else self._reduction(arg))
                    for sym, (action, arg) in row.items()}
            for state, row in self.table.states.items()}
        self.chains: dict[tuple[Any, Any, str], Any] = {}  # see _chain

    def _reduction(self, rule: Any) -> tuple[int, str, Callable | None]:
        """(symbols, rule name, callback); no callback where reducing one symbol returns it as it
        is: a `?rule` Lark inlines, or a rule the builder passes its only child through."""
        size = len(rule.expansion)
        inlined = rule.options.expand1 and not rule.alias
        passes = inlined or (rule.alias or rule.origin.name) in PASSTHROUGH
        if size == 1 and passes and not rule.expansion[0].name.startswith("_") and not rule.expansion[0].is_term:
            return size, rule.origin.name, None
        return size, rule.origin.name, self.callbacks[rule]

    def parse(self, text: str, start: str) -> Any:
        state_stack = [self.table.start_states[start]]
        value_stack: list = []
        end_state = self.table.end_states[start]
        token, actions = None, self.actions
        for token in self.postlex.process(self._lex(text, state_stack, start)):
            action = actions[state_stack[-1]].get(token.type)
            if action is not None and action[0]:  # a shift, half the tokens: as `_feed` would, without the call
                state_stack.append(action[1])
                value_stack.append(token)
            else:
                self._feed(token, state_stack, value_stack, start, end_state)
        end = Token.new_borrow_pos("$END", "", token) if token is not None else Token("$END", "", 0, 1, 1)
        return self._feed(end, state_stack, value_stack, start, end_state)

    def _feed(self, token: Token, state_stack: list, value_stack: list, start: str, end_state: Any) -> Any:
        actions, type_ = self.actions, token.type
        while True:
            try:
                shift, arg = actions[state_stack[-1]][type_]
            except KeyError:
                states = self.table.states
                expected = {s for s in states[state_stack[-1]] if s.isupper()}
                raise UnexpectedToken(token, expected, state=self._state(state_stack, value_stack, start),
                                      interactive_parser=None) from None
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

    def _chain(self, below: Any, top: Any, type_: str) -> Any:
        """Where a run of pass-through reductions from `top` (above `below`) ends before `type_`:
        each pops one state and pushes the goto from `below`, so the run depends on these three
        only, and is worked out once (an integer in an expression: ten reductions, one look-up)."""
        state = top
        while not (type_ == "$END" and state in self.table.end_states.values()):
            shift, arg = self.actions[state].get(type_, (True, None))
            if shift or arg[2] is not None:
                break
            state = self.actions[below][arg[1]][1]
        return state

    def _state(self, state_stack: list, value_stack: list, start: str) -> ParserState:
        # no lexer thread: the state is only read, by Lark's error reporting
        return ParserState(ParseConf(self.table, self.callbacks, start), None, state_stack,  # type: ignore[arg-type]
                           value_stack)

    def _lex(self, text: str, state_stack: list, start: str) -> Iterator[Token]:
        lexers, end = self.lexers, len(text)
        pos, line, line_start = 0, 1, 0
        last = None
        while pos < end:
            lexer = lexers[state_stack[-1]]
            for match in lexer.regexes:
                m = match(text, pos)
                if m:
                    break
            else:
                self._fail(text, pos, line, line_start, last, state_stack, start)
            value, type_ = m.group(0), m.lastgroup
            new_pos = pos + len(value)
            if type_ in lexer.newlines and "\n" in value:
                new_line = line + value.count("\n")
                new_start = pos + value.rindex("\n") + 1
            else:
                new_line, new_start = line, line_start
            if type_ not in lexer.ignore:
                keywords = lexer.keywords.get(type_)
                callback = lexer.callbacks.get(type_)
                if keywords is not None:
                    type_ = keywords.get(value, type_)
                tok = _new_token(type_, value, pos, line, pos - line_start + 1,
                                 new_line, new_pos - new_start + 1, new_pos)
                if callback is not None:
                    tok = callback(tok)
                last = tok
                pos, line, line_start = new_pos, new_line, new_start
                yield tok
            else:
                pos, line, line_start = new_pos, new_line, new_start

    def _fail(self, text: str, pos: int, line: int, line_start: int, last: Token | None,
              state_stack: list, start: str) -> None:
        """No terminal of this state matches at `pos`: let Lark's contextual lexer raise its error."""
        counter = LineCounter("\n")
        counter.char_pos, counter.line, counter.line_start_pos = pos, line, line_start
        counter.column = pos - line_start + 1
        lexer_state = LexerState(TextSlice(text, 0, len(text)), counter, last)
        parser_state = self._state(state_stack, [], start)
        for _ in self.contextual.lex(lexer_state, parser_state):  # raises
            break
        raise AssertionError("Lark's lexer matched where the fast lexer did not")  # a bug, not user input
