"""Every diagnostic names file:line:col, quotes the line with a caret, and says what was expected.
Each test runs the real CLI (`cnndsl check`) and checks the exit status and the message."""
from __future__ import annotations

import re

import pytest

from cnndsl.cli import main

HEADER = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.*)$", re.M)


def check(write_arch, capsys, text: str, *args: str):
    path = write_arch(text)
    rc = main(["check", str(path), *args])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "Traceback" not in err
    first = HEADER.search(err)
    assert first, err
    assert first["file"] == str(path)
    return err, int(first["line"]), int(first["col"]), first["msg"]


def caret_under(err: str, text: str) -> str:
    """The source text above the first caret line, where the carets point."""
    lines = err.splitlines()
    i = next(i for i, line in enumerate(lines) if set(line.split("|", 1)[-1].strip()) == {"^"})
    src, caret = lines[i - 1].split("| ", 1)[1], lines[i].split("| ", 1)[1]
    start = caret.index("^")
    return src[start:start + caret.count("^")]


def test_syntax_error_missing_arrow(write_arch, capsys):
    err, line, col, msg = check(write_arch, capsys, "network n : 3x32x32 {\n  3x3:16 -> 3x3:32 3x3:64\n}\n")
    assert (line, col) == (2, 20)
    assert msg == "syntax error: two layers need `->` between them"
    assert caret_under(err, "") == "3x3"
    assert "expected one of:" in err and "`->`" in err


def test_syntax_error_unexpected_character(write_arch, capsys):
    err, line, col, msg = check(write_arch, capsys, "network n : 3x32x32 = 3x3:16 -> $\n")
    assert (line, col) == (1, 33)
    assert msg == "syntax error: unexpected character '$'"
    assert "expected one of:" in err and "a kernel size like 3x3" in err


def test_syntax_error_unclosed_parenthesis_points_at_the_opener(write_arch, capsys):
    err, line, col, msg = check(write_arch, capsys,
                                "network n : 3x32x32 =\n  inception(1x1:64 | 3x3:128\n\nnetwork m : 3x8x8 = relu\n")
    assert (line, col) == (2, 12)
    assert msg == "syntax error: `(` is never closed"


def test_syntax_error_empty_channel_count(write_arch, capsys):
    err, line, col, msg = check(write_arch, capsys, "network n : 3x32x32 = 3x3: -> relu\n")
    assert (line, col) == (1, 28)
    assert msg.startswith("syntax error: a `:` must be followed by a number of filters")


def test_unknown_names_are_all_reported_with_suggestions(write_arch, capsys):
    text = ("block basic(c) = residual<3x3:c -> conv3x3:c -> bnn> -> relu\n"
            "network n : 3x32x32 = 3x3:16 -> basic(wdth) -> maxpol2x2/2 -> fc:10\n")
    err, line, col, msg = check(write_arch, capsys, text)
    found = [(int(m["line"]), int(m["col"]), m["msg"]) for m in HEADER.finditer(err)]
    assert found == [(1, 49, "unknown layer or block `bnn`"), (2, 39, "unknown name `wdth`"),
                     (2, 48, "unknown layer or block `maxpol2x2`")]
    assert "help: did you mean `bn`?" in err
    assert "help: did you mean `maxpool2x2`?" in err


def test_past_the_error_limit_the_check_stops_at_a_located_last_error(write_arch, capsys):
    """Like a C compiler's error limit: 100 unknown names are reported, the 101st is where the check
    stops, and the later ones are not walked. The first names still get their suggestion."""
    from cnndsl.elaborate.resolve import MAX_UNKNOWN
    lets = [f"let width{i} = {i}" for i in range(3 * MAX_UNKNOWN)]
    uses = [f"  -> 3x3:(widht{i})" for i in range(3 * MAX_UNKNOWN)]
    text = "\n".join([*lets, "network n : 3x8x8 = relu", *uses]) + "\n"
    err = check(write_arch, capsys, text)[0]
    found = [(int(m["line"]), m["msg"]) for m in HEADER.finditer(err)]
    first_use = 3 * MAX_UNKNOWN + 2
    assert found[:-1] == [(first_use + i, f"unknown name `widht{i}`") for i in range(MAX_UNKNOWN)]
    assert found[-1] == (first_use + MAX_UNKNOWN, f"more than {MAX_UNKNOWN} unknown names: the check stops here")
    assert "help: did you mean `width0`?" in err


@pytest.mark.parametrize("call, col, message, detail", [
    ("b(16, 2, 3)", 23, "`b` takes 2 arguments, got 3", "parameters: c, s"),
    ("b(16, stride=2)", 29, "`b` has no parameter `stride`", "parameters: c, s"),
    ("b()", 23, "`b` needs an argument for `c`", None),
    ("b(16, s=2, s=1)", 34, "`s` is given twice", None),
])
def test_wrong_block_arguments(write_arch, capsys, call, col, message, detail):
    err, line, c, msg = check(write_arch, capsys, f"block b(c, s=1) = 3x3:c/s\nnetwork n : 3x32x32 = {call}\n")
    assert (line, c, msg) == (2, col, message)
    assert "note: `b` is defined at" in err and ":1:1" in err
    if detail:
        assert detail in err


def test_unknown_attribute_suggests_the_right_one(write_arch, capsys):
    err, line, col, msg = check(write_arch, capsys, "network n : 3x32x32 = conv3x3:16 grops=2\n")
    assert (line, col, msg) == (1, 34, "`conv` has no attribute `grops`")
    assert "help: did you mean `groups`?" in err


def test_a_layer_written_as_an_attribute_hints_at_a_missing_arrow(write_arch, capsys):
    err, line, col, msg = check(write_arch, capsys, "network n : 3x32x32 = maxpool3x3 relu\n")
    assert (line, col, msg) == (1, 34, "`maxpool` has no attribute `relu`")
    assert "did you forget `->` before it?" in err


def test_residual_shape_error_names_both_inputs_and_the_block(write_arch, capsys):
    text = ("unit = conv(bias=false) -> bn -> relu\n"
            "block bottleneck(c, s=1) =\n"
            "  residual<1x1:c -> 3x3:c/s -> conv1x1:(4*c) -> bn, identity> -> relu\n"
            "network mynet : 3x224x224 {\n"
            "  7x7:64/2 -> maxpool3x3/2 p=1\n"
            "  -> bottleneck(64)\n"
            "}\n")
    err, line, col, msg = check(write_arch, capsys, text)
    assert (line, col, msg) == (3, 3, "residual add needs equal shapes")
    assert "body gives 256x56x56" in err and "shortcut gives 64x56x56" in err
    assert re.search(r"note: in `bottleneck\(64\)`, used at .*:6:6", err)
    assert re.search(r"note: `bottleneck` is defined at .*:2:1", err)


def test_concat_shape_error_names_each_input(write_arch, capsys):
    text = "block twoway(a) = (3x3:a | maxpool3x3/2)\nnetwork n : 3x32x32 = 3x3:16 -> twoway(8)\n"
    err, line, col, msg = check(write_arch, capsys, text)
    assert (line, col, msg) == (1, 19, "concat needs inputs of equal spatial size")
    assert re.search(r"input 1: 8x32x32 from `twoway1\.relu1`", err)
    assert re.search(r"input 2: 16x15x15 from `twoway1\.maxpool1`", err)
    assert re.search(r"note: in `twoway\(8\)`, used at .*:2:33", err)


def test_bad_value_type(write_arch, capsys):
    err, line, col, msg = check(write_arch, capsys, "network n : 3x32x32 = conv3x3:(1.5)\n")
    assert (line, col) == (1, 23)
    assert msg == "bad value for `out` of `conv`: 1.5"


def test_conv_too_big_for_its_input(write_arch, capsys):
    err, line, col, msg = check(write_arch, capsys, "network n : 3x4x4 = conv7x7:8 p=0\n")
    assert msg == "a 7x7 conv does not fit the 3x4x4 input"


def test_unknown_network_parameter_on_the_command_line(write_arch, capsys):
    path = write_arch("network n(depth=18) : 3x32x32 = 3x3:16\n")
    assert main(["check", str(path), "-D", "dept=50"]) == 1
    err = capsys.readouterr().err
    assert "network `n` has no parameter `dept` (parameters: depth)" in err
    assert "did you mean `depth`?" in err


def test_missing_file(capsys):
    assert main(["check", "no/such/file.arch"]) == 1
    assert "cannot read no/such/file.arch" in capsys.readouterr().err


def test_include_not_found(write_arch, capsys):
    err, line, col, msg = check(write_arch, capsys, 'include "nowhere.arch"\nnetwork n : 3x8x8 = relu\n')
    assert (line, col, msg) == (1, 1, 'cannot find include "nowhere.arch"')


def test_indexing_a_table_with_a_missing_key(write_arch, capsys):
    text = "network n(depth=19) : 3x8x8 {\n  let n = {18: 2, 34: 3}[depth]\n  3x3:8*n\n}\n"
    err, line, col, msg = check(write_arch, capsys, text)
    assert (line, col, msg) == (2, 26, "19 is not one of the keys {18, 34}")


def test_check_reports_the_errors_of_every_network_in_a_file(write_arch, capsys):
    text = ("block twoway(a) = (3x3:a | maxpool3x3/2)\n"
            "network needs(c) : 3x32x32 = 3x3:c\n"  # a parameter without default: checked through uses
            "network other : 3x32x32 = residual<3x3:32/2> shortcut=identity\n"
            "network main(k=10) : 3x32x32 = 3x3:16 -> twoway(8) -> fc:k\n")  # the last: gets -D k=5
    err, line, col, msg = check(write_arch, capsys, text, "-D", "k=5")
    found = [(int(m["line"]), m["msg"]) for m in HEADER.finditer(err)]
    assert found == [(3, "residual add needs equal shapes"), (1, "concat needs inputs of equal spatial size")]


@pytest.mark.parametrize("layer, col, message", [
    ("3x3:16 grops=2", 28, "`conv` has no attribute `grops`"),  # the attribute written on the literal
    ("7x7:16 p=0", 21, "a 7x7 conv does not fit the 3x4x4 input"),  # the literal, not the unit's conv
])
def test_errors_in_a_unit_literal_point_at_the_literal(write_arch, capsys, layer, col, message):
    err, line, c, msg = check(write_arch, capsys, f"unit = conv -> bn -> relu\nnetwork n : 3x4x4 = {layer}\n")
    assert (line, c, msg) == (2, col, message)


def test_an_error_inside_a_library_block_names_where_it_was_used(write_arch, capsys):
    text = 'include "std.arch"\nblock b(c, s=1) = 3x3:c/s\nnetwork n : 3x32x32 = 3x3:16 -> stage(b, 16, 2.5)\n'
    assert main(["check", str(write_arch(text))]) == 1
    err = capsys.readouterr().err
    first = HEADER.search(err)
    assert first["msg"] == "a repeat count must be an integer, got a number (1.5)"
    assert first["file"] == "<std>/std.arch"  # `b(c)*(n-1)` in the standard library's `stage`
    assert re.search(r"note: in `stage\(b, 16, 2\.5\)`, used at .*test\.arch:3:33", err)
    assert "note: `stage` is defined at <std>/std.arch" in err
