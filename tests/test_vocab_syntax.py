"""The layer language of issue 9: a kernel from expressions (`(k)x(k):c/s`), `else` on a line of
its own, the rule for `if c then a -> b`, loops that unpack (`for w, s in zip(ws, ss)`), and the
warning for a named tensor that reaches no output; each with its formatter, highlighter and
diagnostics. Static: torch is not imported."""
from __future__ import annotations

import pytest

import cnndsl
from cnndsl.cli import main
from cnndsl.tools.layout import format_text
from cnndsl.tools.lexer import CnnDslLexer
from test_diagnostics import caret_under, check

UNIT = "unit = conv(bias=false) -> bn -> relu\n"


def layers(write_arch, text: str, **params) -> list[tuple[str, object]]:
    graph = cnndsl.analyze(write_arch(text), params=params)
    return [(n.op, getattr(n.attrs, "k", None), n.shape) for n in graph.ops()]


# ------------------------------------------------------------------ kernel from expressions
def test_a_kernel_from_expressions_expands_like_a_literal_kernel(write_arch):
    literal = layers(write_arch, UNIT + "network n : 4x16x16 = 5x5:8/2 groups=4 -> 3x1:16*2\n")
    written = layers(write_arch, UNIT + "let ks = [5, 3]\n"
                     "network n(k=5) : 4x16x16 = (k)x(k):8/2 groups=4 -> (ks[1])x(k - 4):16*2\n")
    assert written == literal
    assert [op for op, _, _ in written] == ["conv", "bn", "relu"] * 3  # the unit applies to each


def test_a_kernel_expression_may_call_functions_and_loops_unpack(write_arch):
    got = layers(write_arch, 'include "modern.arch"\n'
                 "network n : 4x16x16 = [(k)x(max(1, k - 2)):(make_divisible(w))/s for w, s, k in "
                 "zip([10, 20], [1, 2], [3, 5])] -> concat(1x1:(c) for i, c in enumerate([2, 4]))\n")
    convs = [(k, shape) for op, k, shape in got if op == "conv"]
    assert convs == [((3, 1), (16, 16, 16)), ((5, 3), (24, 8, 8)), ((1, 1), (2, 8, 8)), ((1, 1), (4, 8, 8))]


def test_arithmetic_after_a_literal_still_repeats(write_arch):
    assert len(layers(write_arch, "network n : 4x8x8 = (3)x(3):4*2\n")) == 4  # two convs, not 8 filters


@pytest.mark.parametrize("layer, where, message", [
    ("(0)x(3):4", "0", "a kernel size must be at least 1, got 0"),
    ("(3)x(1.5):4", "1.5", "a kernel size must be an integer, got a number (1.5)"),
    ("(k)x(3):4", "k", "unknown name `k`"),
])
def test_kernel_expression_errors_are_located(write_arch, capsys, layer, where, message):
    err, line, col, msg = check(write_arch, capsys, f"network n : 4x8x8 = {layer}\n")
    assert (line, msg) == (1, message), err
    assert col == len("network n : 4x8x8 = ") + layer.index(where) + 1
    assert caret_under(err, "") == where


# ------------------------------------------------------------------ if/then/else
@pytest.mark.parametrize("flag, expected", [(True, ["relu", "conv", "conv"]), (False, ["relu"])])
def test_then_takes_the_whole_chain(write_arch, flag, expected):
    text = "network n(c=true) : 4x8x8 = relu -> if c then conv3x3:4 -> conv3x3:2\n"
    assert [op for op, _, _ in layers(write_arch, text, c=flag)] == expected


@pytest.mark.parametrize("flag, expected", [(True, ["relu", "conv", "conv"]), (False, ["relu", "conv"])])
def test_brackets_give_the_other_reading(write_arch, flag, expected):
    text = "network n(c=true) : 4x8x8 = relu -> (if c then conv3x3:4) -> conv3x3:2\n"
    assert [op for op, _, _ in layers(write_arch, text, c=flag)] == expected


@pytest.mark.parametrize("a, b, expected", [(True, True, 4), (True, False, 5), (False, True, None)])
def test_else_binds_to_the_nearest_if_and_may_start_a_line(write_arch, a, b, expected):
    text = ("network n(a=true, b=true) : 4x8x8 =\n  relu -> if a then if b then conv3x3:4\n"
            "  # the inner if's else\n  else conv3x3:5 -> relu\n")
    got = [shape[0] for op, _, shape in layers(write_arch, text, a=a, b=b) if op == "conv"]
    assert got == ([expected] if expected else [])


@pytest.mark.parametrize("aux, expected", [(True, 4), (False, 6)])
def test_an_if_statement_takes_else_on_the_next_line(write_arch, aux, expected):
    text = ("network n(aux=true) : 4x8x8 {\n  if aux {\n    conv3x3:4\n  }\n\n  # or else\n  else {\n"
            "    conv3x3:6\n  }\n}\n")
    assert [shape[0] for op, _, shape in layers(write_arch, text, aux=aux)] == [expected]


def test_else_without_if_is_a_located_syntax_error(write_arch, capsys):
    err, line, col, msg = check(write_arch, capsys, "network n : 4x8x8 = relu\n  else relu\n")
    assert (line, col) == (1, 25) and msg == "syntax error: unexpected `else`", err


# ------------------------------------------------------------------ unused named tensors
def test_a_named_tensor_that_reaches_no_output_is_named_at_its_as(write_arch, capsys):
    path = write_arch("network n : 4x8x8 {\n  3x3:8 as stem\n  stem -> conv3x3:4 -> relu as aux\n"
                      "  stem -> conv3x3:6 as side\n  side -> conv1x1:2\n  stem -> gap -> fc:10\n}\n")
    assert main(["check", str(path)]) == 0  # a warning, not an error
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if ": warning: " in line]
    assert lines[0].endswith(":3:32: warning: `aux` (line 3) reaches no output of `n`, so it and the 1 layer "
                             "before it are left out")
    assert lines[1].endswith(":5:11: warning: the result of `conv4` reaches no output of `n`, so it and the 1 "
                             "layer before it are left out")
    assert "it reads the named tensor `side` (line 4)" in err
    assert [n.op for n in cnndsl.analyze(path).ops()] == ["conv", "relu", "gap", "flatten", "fc"]


# ------------------------------------------------------------------ tools
@pytest.mark.parametrize("text, expected", [
    ("def  f( v,d=8 )=max( d,v )\n", "def f(v, d=8) = max(d, v)\n"),
    ("let a=[ x*2 for x,y in zip( [1],[2] ) if x>0 ]\n", "let a = [x * 2 for x, y in zip([1], [2]) if x > 0]\n"),
    ("network n : 4x8x8 = ( k + 1 ) x( 3 ) : 4 / 2\n", "network n : 4x8x8 = (k+1)x(3):4/2\n"),
    ("network n(c=true) : 4x8x8 = relu -> if c then relu\n     else relu\n",
     "network n(c=true) : 4x8x8 = relu -> if c then relu\n  else relu\n"),
    ("network n(c=true) : 4x8x8 {\n  if c { relu }\n    else { relu }\n}\n",
     "network n(c=true) : 4x8x8 {\n  if c { relu }\n  else { relu }\n}\n"),
])
def test_the_formatter_lays_out_the_new_syntax(text, expected):
    assert format_text(text) == expected
    assert format_text(expected) == expected


def test_the_highlighter_knows_def_and_else_at_the_start_of_a_line():
    from pygments.token import Keyword, Name

    text = "def half(c) = c // 2\nnetwork n(a=true) : 4x8x8 = if a then relu\n  else relu\n"
    tokens = [(kind, value) for _, kind, value in CnnDslLexer().get_tokens_unprocessed(text) if value.strip()]
    assert (Keyword.Declaration, "def") in tokens and (Name.Function, "half") in tokens
    assert (Keyword, "else") in tokens
