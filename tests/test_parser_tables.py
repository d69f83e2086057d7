"""The parse tables cached as plain data (cnndsl/parser/tables.py): a cache file is used only when
it is sound, anything else is rebuilt with Lark and never trusted nor a traceback; the parser
gives the same trees and errors whether Lark raises an error from the fast loop's state or parses
the text again; and its token behaves as Lark's."""
from __future__ import annotations

import marshal
import os
import pickle
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import cnndsl.parser as parser_module
from cnndsl.diagnostics import CnnDslError
from cnndsl.parser import Budget, parse, parse_file, tables
from cnndsl.parser.build import RULE_METHODS
from cnndsl.parser.tokens import Token

ROOT = Path(__file__).resolve().parents[1]
GRAMMAR = parser_module.GRAMMAR.read_text()
VALID = "network n : 3x8x8 = 3x3:8 -> relu -> gap\n"


def _fresh_parser() -> None:
    """The next parse reads the tables again (and parses: no tree kept from before)."""
    parser_module._fast.cache_clear()
    parser_module._lark_has_the_fast_tables.cache_clear()
    parser_module._PARSED.clear()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Iterator[Path]:
    """An empty private cache directory for this test; the parser reads its tables again after."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _fresh_parser()
    yield tmp_path / "cnndsl"
    _fresh_parser()


def _table_file() -> Path:
    version = tables.lark_version()
    assert version is not None
    base = tables.cache_dir()
    assert base is not None
    return tables.cache_path(base, GRAMMAR, version)


def _loads(path: Path) -> dict | None:
    return tables.load(path, GRAMMAR, tables.lark_version() or "", RULE_METHODS)


def test_the_tables_are_written_once_privately_and_read_back(cache):
    assert parse(VALID).items
    path = _table_file()
    assert path.parent == cache and path.is_file()
    assert path.stat().st_mode & 0o777 == 0o600
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]  # written through a renamed temp file
    loaded = _loads(path)
    built = tables.build(parser_module._parser(), parser_module._BUILDER, GRAMMAR)
    assert loaded == built
    assert tables.same_as_lark(parser_module._parser(), loaded)


def _sound_blob() -> bytes:
    parser_module._fast()
    return _table_file().read_bytes()


def _with_body(body: bytes) -> bytes:
    return tables.MAGIC + zlib.crc32(body).to_bytes(4, "big") + body


def _foreign_tables() -> dict:
    t = tables.build(parser_module._parser(), parser_module._BUILDER, GRAMMAR)
    t["rules"][0] = t["rules"][0][:-1] + (("method", "reset"),)  # a builder method that is no rule's
    return t


@pytest.mark.parametrize("damage", [
    "truncated", "empty", "garbage", "flipped byte", "pickle", "foreign shape", "other grammar", "other lark",
    "a method that is no rule's", "state out of range",
])
def test_a_damaged_or_foreign_cache_file_is_rebuilt_never_trusted(cache, damage):
    blob = _sound_blob()
    body = blob[len(tables.MAGIC) + 4:]
    good = marshal.loads(body)
    damaged = {
        "truncated": blob[:len(blob) // 2],
        "empty": b"",
        "garbage": os.urandom(4096),
        "flipped byte": blob[:-100] + bytes([blob[-100] ^ 1]) + blob[-99:],
        "pickle": pickle.dumps(good),
        "foreign shape": _with_body(marshal.dumps({**good, "states": {0: {"NAME": "x"}}})),
        "other grammar": _with_body(marshal.dumps({**good, "grammar": GRAMMAR + "\n"})),
        "other lark": _with_body(marshal.dumps({**good, "lark": "0.1"})),
        "a method that is no rule's": _with_body(marshal.dumps(_foreign_tables())),
        "state out of range": _with_body(marshal.dumps({**good, "start_states": {"start": 10 ** 6, "expr": 0}})),
    }[damage]
    path = _table_file()
    path.write_bytes(damaged)
    assert _loads(path) is None
    _fresh_parser()
    assert parse(VALID).items  # the tables rebuilt with Lark
    assert _loads(path) == good  # and written again


def test_tables_of_another_lark_build_are_replaced_at_the_first_error(cache, monkeypatch):
    """A cache whose state numbers are not the loaded Lark's (here: the same states, renumbered) is
    noticed at the first syntax error and written again from this Lark."""
    t = tables.build(parser_module._parser(), parser_module._BUILDER, GRAMMAR)
    renumber = {s: len(t["states"]) - 1 - s for s in t["states"]}
    shuffled = {**t, "states": {renumber[s]: {k: renumber[a] if a >= 0 else a for k, a in row.items()}
                                for s, row in t["states"].items()},
                "start_states": {k: renumber[s] for k, s in t["start_states"].items()},
                "end_states": {k: renumber[s] for k, s in t["end_states"].items()},
                "lexer_of_state": {renumber[s]: i for s, i in t["lexer_of_state"].items()}}
    path = _table_file()
    tables.save(path, shuffled)
    assert _loads(path) == shuffled
    _fresh_parser()
    assert _outcome(VALID) == _outcome_with_engine(VALID, "lark")  # the renumbered tables parse alike
    bad = "network n : 3x8x8 = relu ->-> relu\n"
    assert _outcome(bad) == _outcome_with_engine(bad, "lark")
    assert not parser_module._lark_has_the_fast_tables()
    assert _loads(path) == t


def _outcome_with_engine(text: str, engine: str) -> object:
    saved = parser_module.ENGINE
    parser_module.ENGINE = engine
    try:
        return _outcome(text)
    finally:
        parser_module.ENGINE = saved


def test_a_cache_file_of_another_mode_or_a_link_is_not_read(cache):
    blob = _sound_blob()
    path = _table_file()
    path.chmod(0o666)
    assert _loads(path) is None
    path.unlink()
    target = cache / "elsewhere"
    target.write_bytes(blob)
    path.symlink_to(target)
    assert _loads(path) is None


def test_without_a_private_directory_the_tables_are_built_in_memory(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    (shared / "cnndsl").mkdir(parents=True)
    (shared / "cnndsl").chmod(0o777)
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared))
    _fresh_parser()
    try:
        assert parse(VALID).items
        assert list((shared / "cnndsl").iterdir()) == []
    finally:
        _fresh_parser()


def test_the_command_line_rebuilds_a_corrupt_cache_without_a_traceback(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    argv = [sys.executable, "-m", "cnndsl", "check", "archs/resnet50.arch"]
    assert subprocess.run(argv, cwd=ROOT, env=env, capture_output=True).returncode == 0
    path = next((tmp_path / "cnndsl").glob("tables-*.marshal"))
    path.write_bytes(path.read_bytes()[:1000])
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "ok" in done.stdout and not done.stderr
    assert len(path.read_bytes()) > 1000


# ---------------------------------------------------------------- errors: Lark at the loop's state, or Lark again
def _outcome(text: str) -> object:
    from test_hostile_parser import _spans
    try:
        return _spans(parse(text, "f.arch"), [])
    except CnnDslError as exc:
        return str(exc)


@pytest.fixture
def tables_of_this_lark(monkeypatch) -> Iterator[None]:
    """The fast loop runs the tables of the Lark this process loaded, so Lark can raise an error
    from the loop's state (a cache built by another run may number the states otherwise)."""
    _fresh_parser()
    monkeypatch.setattr(parser_module, "_tables",
                        lambda: tables.build(parser_module._parser(), parser_module._BUILDER, GRAMMAR))
    yield
    monkeypatch.undo()  # this test's patches too, before the caches are cleared
    _fresh_parser()


def test_errors_are_the_same_when_lark_parses_the_text_again(monkeypatch, tables_of_this_lark):
    """Where Lark's tables are not the cached ones, a syntax error is found by Lark's own loop."""
    from test_hostile_parser import _corpus
    corpus = _corpus(120) + ["", "network", "(", "a b c", "1 +", "network n : 3x8x8 = relu\n  -> )\n"]
    direct = [_outcome(t) for t in corpus]
    assert parser_module._lark_has_the_fast_tables()
    monkeypatch.setattr(parser_module, "_lark_has_the_fast_tables", lambda: False)
    parser_module._PARSED.clear()
    again = [_outcome(t) for t in corpus]
    assert sum(isinstance(r, str) for r in direct) > 50  # errors, not only trees
    for text, a, b in zip(corpus, direct, again):
        assert a == b, text


@pytest.mark.parametrize("same_tables", [True, False])
def test_tokens_are_charged_once_when_lark_parses_again(tmp_path, monkeypatch, tables_of_this_lark, same_tables):
    """A syntax error on the last line of a file that uses nearly all its token budget is reported
    as the syntax error: the fast loop's tokens are given back before Lark counts them again."""
    monkeypatch.setattr(parser_module, "_lark_has_the_fast_tables", lambda: same_tables)
    path = tmp_path / "f.arch"
    path.write_text("network n : 3x8x8 {\n" + "  relu\n" * 200 + "  relu ->-> relu\n}\n")
    count = Budget()
    with pytest.raises(CnnDslError, match="syntax error"):
        parse_file(path, budget=count)
    used = count.token_limit - count.tokens  # the tokens up to the error, each counted once
    assert 400 < used < 420
    with pytest.raises(CnnDslError) as info:
        parse_file(path, budget=Budget(tokens=used))
    assert info.value.diagnostics[0].message.startswith("syntax error")


def test_a_valid_parse_gives_the_same_tree_after_an_error():
    """The builder and the post-lexer start clean after a syntax error."""
    before = _outcome(VALID)
    assert isinstance(_outcome("network n : 3x8x8 = relu ->-> relu\n"), str)
    assert _outcome(VALID) == before


# ---------------------------------------------------------------- the token
def test_the_token_compares_as_larks_does():
    from lark import Token as LarkToken
    ours, theirs = Token("NAME", "relu", 0, 1, 1, 1, 5, 4), LarkToken("NAME", "relu", 0, 1, 1, 1, 5, 4)
    assert ours == "relu" and ours == theirs and hash(ours) == hash("relu")
    assert (Token("NAME", "x") == Token("STRING", "x")) == (LarkToken("NAME", "x") == LarkToken("STRING", "x"))
    for attr in ("type", "value", "start_pos", "line", "column", "end_line", "end_column", "end_pos"):
        assert getattr(ours, attr) == getattr(theirs, attr)
    again = pickle.loads(pickle.dumps(ours))
    assert type(again) is Token and again.end_column == 5 and again.type == "NAME"
    end = Token.new_borrow_pos("$END", "", ours)
    assert (end.type, end.line, end.column, end.end_pos) == ("$END", 1, 1, 4)
