"""The parser's token pre-count (parser/limits.py `token_floor`): a text whose pieces outnumber its
token budget is refused before it is lexed, so the count must never exceed the tokens the lexer
really makes, or a valid program would be refused. The lexer is the judge: every text here is
parsed, and its tokens counted by the budget the parse spends."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

import cnndsl.parser as parser_module
from cnndsl.diagnostics import CnnDslError
from cnndsl.parser import parse
from cnndsl.parser.limits import Budget, past_token_budget, token_floor
from tests.test_hostile_fuzz import _grammar
from tests.zoo import FILES

NET = "network n : 3x8x8 = "

# What the pieces could miscount: numbers with exponents and points, `x(`, strings and comments
# holding operators and words, continued lines, arrows and `else` after comment lines.
TRICKY = [
    NET + "3x3:(int(1.5e-3 * 2E+10 + 1. + 0.25))/2 -> relu\n",
    NET + "(1 + 2)x(3):(2 ** 3 // 2)/(4 % 3) -> relu\n",
    'block b(label="a -> b # c x( d") = relu\n' + NET + 'b("x(1) ** y")\n',
    "# a comment with words -> and x( and 1.5e-3 and \"quotes\"\n" + NET + "relu  # trailing -> words\n",
    NET + "relu \\\n  -> relu \\\n\n  -> relu\n",
    NET + "concat(relu\n  # between\n\n  -> relu\n  | relu)\n",
    "let a = 1 != 2 and 3 <= 4 or 5 >= 6 or 7 == 8\n" + NET + "relu\n",
    "block b(k) = if k == 0 then relu\n  # why\n  else relu -> relu\n" + NET + "b(1)\n",
    "let d = {\"a\": [1, 2, 3], \"b\": -4}\n" + NET + "3x3:(d[\"a\"][0])\n",
]


def _tokens(text: str) -> int:
    budget = Budget()
    parse(text, "<floor>", budget=budget)
    return budget.token_limit - budget.tokens


@pytest.mark.parametrize("text", TRICKY)
def test_the_floor_is_at_most_the_lexers_tokens_on_tricky_texts(text):
    assert token_floor(text) <= _tokens(text)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_floor_is_at_most_the_lexers_tokens_on_the_zoo(path):
    text = path.read_text()
    tokens = _tokens(text)
    assert token_floor(text) <= tokens
    assert past_token_budget(text, tokens) is None
    assert token_floor(text) > tokens // 3  # and close enough to refuse what is far past the budget


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(text=_grammar())
def test_the_floor_is_at_most_the_lexers_tokens_on_grammar_derivations(text):
    try:
        tokens = _tokens(text)
    except CnnDslError:
        return  # the derivation is not a valid program (a limit, a bad literal): nothing to compare
    assert token_floor(text) <= tokens


def test_a_text_far_past_the_budget_is_refused_before_it_is_lexed(monkeypatch):
    def no_lexing():
        raise AssertionError("the text was lexed")
    monkeypatch.setattr(parser_module, "_fast", no_lexing)
    monkeypatch.setattr(parser_module, "_parser", no_lexing)
    body = "".join(f"block b{i}(c, s=1) {{\n  3x3:c/s -> bn\n  relu\n}}\n" for i in range(50))
    with pytest.raises(CnnDslError) as info:
        parse(body + NET + "b0(8)\n", "big.arch", budget=Budget(tokens=500))
    diagnostic = info.value.diagnostics[0]
    assert diagnostic.message == "the program has more than 500 tokens"
    assert diagnostic.span.file == "big.arch" and diagnostic.span.line > 1
