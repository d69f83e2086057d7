"""The parser on hostile text: every refusal at the line and column where the text passed a
limit, quoting that line with a caret under the culprit (tabs, wide characters, long lines), and
the fast LALR driver giving exactly what Lark's own loop gives."""
from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path

import pytest

import cnndsl.parser as parser_module
from cnndsl import ast
from cnndsl.api import analyze
from cnndsl.diagnostics import CnnDslError
from cnndsl.parser import parse
from cnndsl.parser.limits import MAX_NESTING, MAX_TOKENS
from hostile.harness import ROOT, assert_user_error, run_cli

NET = "network n : 3x8x8 = "


def _error(path: Path) -> CnnDslError:
    with pytest.raises(CnnDslError) as info:
        analyze(path)
    return info.value


def _at(exc: CnnDslError) -> tuple[int, int]:
    span = exc.diagnostics[0].span
    return span.line, span.column


def test_3000_parentheses_on_line_3_are_refused_where_the_nesting_passes_the_limit(write_arch):
    text = "# a comment\n\n" + NET + "(" * 3000 + "relu" + ")" * 3000 + "\n"
    exc = _error(write_arch(text))
    assert _at(exc) == (3, len(NET) + MAX_NESTING + 1)  # the opener past the limit
    assert "nested too deeply" in exc.diagnostics[0].message
    quoted = str(exc).splitlines()[1]
    assert quoted.startswith("    3 | ") and "((((" in quoted and "comment" not in quoted


@pytest.mark.parametrize("body", [
    "3x3:(" + "-" * 500 + "1)",  # unary minus
    "3x3:(" + "not " * 500 + "true ? 1 : 2)",
    "3x3:(" + " ** ".join(["2"] * 500) + ")",  # right-nested powers
    "3x3:(" + " + ".join(["1"] * 500) + ")",  # a left-nested chain of additions
    "relu" + " as a" * 500,
    "relu" + "*1" * 500,
    "3x3:(x" + "[0]" * 500 + ")",
    "if true then " * 500 + "relu",
])
def test_nesting_without_brackets_is_refused_before_anything_recurses(write_arch, body):
    exc = _error(write_arch(NET + body + "\n"))
    assert _at(exc)[0] == 1 and "nested too deeply" in exc.diagnostics[0].message


def test_nested_statement_bodies_are_bounded_too(write_arch):
    text = NET.replace("= ", "{\n") + "if true {\n" * 200 + "relu\n" + "}\n" * 201
    exc = _error(write_arch(text))
    assert _at(exc) == (MAX_NESTING + 1, 9) and "nested too deeply" in str(exc)


def test_invalid_utf8_is_reported_at_line_and_column(tmp_path):
    path = tmp_path / "bad.arch"
    path.write_bytes(b"# caf\xc3\xa9\n" + NET.encode() + b"3x3:8 \xff\xfe -> relu\n")
    run = run_cli("check", str(path), timeout=60)
    assert_user_error(run, str(path), 2, len(NET) + 7, "not valid UTF-8 (byte 0xff)")
    assert "\ufffd" in run.err  # the line is quoted, the bad bytes shown as replacement characters


@pytest.mark.parametrize("char, name", [("\x00", "U+0000"), ("\x1b", "U+001B"), ("\x7f", "U+007F"),
                                        ("\x9b", "U+009B"), ("\r", "U+000D"), ("\u2066", "U+2066")])
def test_control_characters_are_refused_at_their_place(write_arch, char, name):
    exc = _error(write_arch(f"# ok\n{NET}relu # comment {char}[31m red\n"))
    assert _at(exc) == (2, len(NET) + 16) and name in exc.diagnostics[0].message
    assert char not in str(exc)  # never sent to the terminal


def test_a_byte_order_mark_and_crlf_line_ends_are_fine(tmp_path):
    path = tmp_path / "bom.arch"
    path.write_bytes(b"\xef\xbb\xbf# windows\r\n" + NET.encode() + b"relu\r\n")
    assert analyze(path).outputs


def _caret_column(err: str) -> tuple[str, str]:
    """The quoted line and the caret line, tabs expanded the same way in both."""
    lines = err.splitlines()
    i = next(i for i, line in enumerate(lines) if re.fullmatch(r"\s*\| *[\t ]*\^+", line))
    return lines[i - 1].expandtabs(8), lines[i].expandtabs(8)


@pytest.mark.parametrize("indent", ["\t", "\t\t", " \t", "\t  \t"])
def test_the_caret_stands_under_its_character_on_a_line_with_tabs(write_arch, indent):
    text = f"{NET.replace('= ', '{')}\n{indent}relu ->\t3x3:(1 / 0)\n}}\n"
    exc = _error(write_arch(text))
    source, caret = _caret_column(str(exc))
    start = caret.index("^")
    assert source[start:start + caret.count("^")] == "0"


def test_the_caret_stands_under_a_character_after_wide_ones(write_arch):
    exc = _error(write_arch(f"# 中文\n{NET}relu -> 3x3:(1 / 0) # 中文\n"))
    source, caret = _caret_column(str(exc))
    assert _display_width(source[:source.index("0)")]) == caret.index("^")


def _display_width(text: str) -> int:
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_a_long_line_is_quoted_around_the_caret(write_arch):
    exc = _error(write_arch(NET + "relu -> " * 2000 + "3x3:(1 / 0)\n"))
    source, caret = _caret_column(str(exc))
    assert len(source) < 400 and source.startswith("    1 | ...")
    assert source[caret.index("^")] == "0"


def test_a_program_has_at_most_MAX_TOKENS_tokens(write_arch):
    text = "let x = [" + "1," * MAX_TOKENS + "1]\n" + NET + "relu\n"
    exc = _error(write_arch(text))
    assert f"more than {MAX_TOKENS:,} tokens" in exc.diagnostics[0].message
    assert _at(exc)[0] == 1


def test_a_name_longer_than_the_limit_is_refused(write_arch):
    exc = _error(write_arch(NET + "relu -> " + "x" * 2000 + "\n"))
    assert _at(exc) == (1, len(NET) + 9) and "longer than 1,000 characters" in str(exc)


def test_a_line_continuation_run_is_one_match(write_arch):
    assert analyze(write_arch(NET + "relu " + "\\\n" * 100_000 + "-> relu\n")).outputs


# ---------------------------------------------------------------- the fast driver against Lark's
def _spans(obj, out: list) -> list:
    """Every AST node's type and span, in order, iteratively."""
    stack = [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, (tuple, list)):
            stack.extend(reversed(x))
        elif isinstance(x, ast.Node):
            s = x.span
            out.append((type(x).__name__, s.line, s.column, s.end_line, s.end_column))
            stack.extend(reversed([getattr(x, f.name) for f in dataclasses.fields(x) if f.name != "span"]))
    return out


def _outcome(text: str) -> object:
    try:
        return _spans(parse(text, "f.arch"), [])
    except CnnDslError as exc:
        return str(exc)


def _corpus(n: int) -> list[str]:
    from test_fuzz import mutate  # the zoo mutator of the older fuzz test
    zoo = [p.read_text() for p in sorted((ROOT / "archs").glob("*.arch"))]
    rng = random.Random(10)
    return zoo + [mutate(rng.choice(zoo), rng) for _ in range(n)]


def test_the_fast_driver_gives_what_larks_loop_gives(monkeypatch):
    corpus = _corpus(400) + ["", "\n", "network", "(", "network n : 3x8x8 = relu\x00", "a b c", "1 +"]
    fast = [_outcome(t) for t in corpus]
    monkeypatch.setattr(parser_module, "ENGINE", "lark")
    slow = [_outcome(t) for t in corpus]
    assert sum(isinstance(r, list) for r in fast) > 100  # parsed, not only failed
    for text, a, b in zip(corpus, fast, slow):
        assert a == b, text


def test_the_parse_tables_are_cached_only_in_a_private_directory(tmp_path, monkeypatch):
    """Lark's `cache=True` pickles the tables under a predictable name in the shared temp
    directory, where another user could plant a pickle that runs code at the next start."""
    import tempfile
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = parser_module._cache_file("grammar")
    assert path and Path(path).parent == tmp_path / "cnndsl" and not path.startswith(tempfile.gettempdir() + "/.lark")
    assert (tmp_path / "cnndsl").stat().st_mode & 0o077 == 0
    (tmp_path / "cnndsl").chmod(0o777)
    assert parser_module._cache_file("grammar") is False
