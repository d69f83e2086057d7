"""Written attribute values are checked once, against the op's row, with a located message that
says what the value must be; misleading hints are gone."""
from __future__ import annotations

import pytest

import cnndsl
from cnndsl.cli import main
from test_diagnostics import HEADER, caret_under, check


def test_a_conv_literal_and_a_bare_conv_refuse_zero_filters_alike(write_arch, capsys):
    """`conv3x3:0` used to give a conv with the input's channel count while `3x3:0` was refused."""
    for layer in ("conv3x3:0", "3x3:0"):
        err, line, col, msg = check(write_arch, capsys, f"network n : 3x8x8 = {layer}\n")
        assert (line, col, msg) == (1, 21, "bad value for `out` of `conv`: 0")
        assert "out must be at least 1" in err
        assert caret_under(err, "") == layer


@pytest.mark.parametrize("layer, message, detail, where", [
    ("conv3x3:(0-8)", "bad value for `out` of `conv`: -8", "out must be at least 1", "conv3x3:(0-8)"),
    ("3x3:8/0", "bad value for `s` of `conv`: 0", "s must be at least 1", "3x3:8/0"),
    ("conv3x3:8 k=[0, 1]", "bad value for `k` of `conv`: [0, 1]", "k must be at least 1", "k=[0, 1]"),
    ("conv3x3:8 p=(0-1)", "bad value for `p` of `conv`: -1", "p must be at least 0", "p=(0-1)"),
    ("conv3x3:8 d=0", "bad value for `d` of `conv`: 0", "d must be at least 1", "d=0"),
    ("3x3:8 groups=(1.5)", "bad value for `groups` of `conv`: 1.5", "groups must be a whole number", "groups=(1.5)"),
    ("maxpool3x3 k=0", "bad value for `k` of `maxpool`: 0", "k must be at least 1", "k=0"),
    ("maxpool3x3/0", "bad value for `s` of `maxpool`: 0", "s must be at least 1", "maxpool3x3/0"),
    ("adaptive_avgpool(0)", "bad value for `size` of `adaptive_avgpool`: 0", "size must be at least 1",
     "adaptive_avgpool(0)"),
    ("dropout(1.5)", "bad value for `p` of `dropout`: 1.5", "p must be at most 1", "dropout(1.5)"),
    ("bn(momentum=2)", "bad value for `momentum` of `bn`: 2", "momentum must be at most 1", "bn(momentum=2)"),
    ("bn(eps=0)", "bad value for `eps` of `bn`: 0", "eps must be more than 0", "bn(eps=0)"),
    ("lrn(0)", "bad value for `size` of `lrn`: 0", "size must be at least 1", "lrn(0)"),
    ("select([0, -1])", "bad value for `channels` of `select`: [0, -1]", "channels must be at least 0",
     "select([0, -1])"),
    ("gap -> fc:0", "bad value for `out` of `fc`: 0", "out must be at least 1", "fc:0"),
    ("join(relu | relu) drop=1", "bad value for `drop` of `join`: 1", "drop must be less than 1", "drop=1"),
    ("conv3x3:8 bias=3", "bad value for `bias` of `conv`: 3", "bias must be true or false", "bias=3"),
])
def test_each_constraint_has_a_located_clear_message(write_arch, capsys, layer, message, detail, where):
    err, line, col, msg = check(write_arch, capsys, f"network n : 3x8x8 = {layer}\n")
    assert msg == message
    assert f"  {detail}\n" in err + "\n"
    assert caret_under(err, "") == where


def test_a_vector_input_before_a_conv_says_to_declare_a_map(write_arch, capsys):
    err, line, col, msg = check(write_arch, capsys, "network n : 1x8 = conv3x3:4\n")
    assert msg == "conv needs a CxHxW feature map, got 1x8"
    assert "flatten" not in err
    assert "help: the network's input is declared as 1x8, a vector: declare it as CxHxW" in err


def test_a_flattened_tensor_before_a_conv_names_the_flatten(write_arch, capsys):
    err, line, col, msg = check(write_arch, capsys, "network n : 3x8x8 = flatten -> conv3x3:4\n")
    assert msg == "conv needs a CxHxW feature map, got 192"
    assert "help: `flatten1` gives a vector; remove the `flatten`/`fc` before it" in err


def test_a_bad_value_set_with_minus_d_says_so(write_arch, capsys):
    path = write_arch("network n(width=8) : 3x8x8 = 3x3:width -> gap -> fc:3\n")
    assert main(["check", str(path), "-D", "width=-32"]) == 1
    err = capsys.readouterr().err
    assert HEADER.search(err)["msg"] == "bad value for `out` of `conv`: -32"
    assert "note: `width` is -32, set from outside the file (-D width=-32)" in err


def test_a_literal_attribute_wins_over_the_units_keyword(write_arch):
    path = write_arch("unit = conv(bias=false) -> relu\nnetwork n : 3x8x8 = 3x3:4 bias=true -> 3x3:4\n")
    convs = [n for n in cnndsl.analyze(path).ops() if n.op == "conv"]
    assert [c.attrs.bias for c in convs] == [True, False]
    assert [c.meta["params"] for c in convs] == [3 * 9 * 4 + 4, 4 * 9 * 4]


def test_a_projection_takes_each_axis_stride_from_the_body(write_arch):
    path = write_arch("network n : 8x16x16 = residual<conv(16, k=3, s=[2, 1])>\n")
    proj = [n for n in cnndsl.analyze(path).ops() if n.op == "conv"][1]
    assert (proj.attrs.s, proj.shape) == ((2, 1), (16, 8, 16))


def test_a_called_layer_after_a_layer_points_at_the_missing_arrow(write_arch, capsys):
    err, line, col, msg = check(write_arch, capsys, "network n : 3x8x8 = 3x3:4 -> gap dropout(0.2) -> fc:3\n")
    assert msg == "syntax error: two layers need `->` between them"
    assert caret_under(err, "") == "dropout"


@pytest.mark.parametrize("unit, message, where", [
    ("conv -> residual<3x3:8>", "a `unit` cannot contain a `KxK:C` layer: it is what such a layer expands to", "3x3:8"),
    ("residual<conv> -> relu", "the file's `unit` has no `conv` for `KxK:C` to fill", "3x3:8"),
])
def test_a_unit_that_cannot_take_a_literal(write_arch, capsys, unit, message, where):
    err, line, col, msg = check(write_arch, capsys, f"unit = {unit}\nnetwork n : 8x8x8 = 3x3:8\n")
    assert msg == message and caret_under(err, "") == where
