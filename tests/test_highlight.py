"""Highlighting: the Pygments lexer (entry point `cnndsl`) and the TextMate grammar of the VS Code
extension, both derived from the grammar."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from pygments.token import Comment, Error, Keyword, Name, Number, Operator

from cnndsl.tools import textmate
from cnndsl.tools.lexer import CnnDslLexer

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "archs").glob("*.arch")) + sorted((ROOT / "cnndsl" / "stdlib").glob("*.arch")) + sorted(
    (ROOT / "docs" / "examples").glob("*.arch"))
VSCODE = ROOT / "editors" / "vscode"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_error_tokens_and_nothing_lost(path):
    text = path.read_text()
    tokens = list(CnnDslLexer().get_tokens(text))
    assert "".join(value for _, value in tokens) == text
    assert [t for t in tokens if t[0] in Error] == []


def test_what_each_word_is():
    tokens = [t for t in CnnDslLexer().get_tokens(
        'include "std.arch"\nblock b(c) = residual<3x3:c/2 -> relu> # note\n  -> concat(x | conv1x1:c) $\n')
        if t[1].strip()]
    kinds = {value: kind for kind, value in tokens}
    assert kinds["include"] in Keyword.Namespace and kinds["block"] in Keyword.Declaration
    assert kinds["b"] in Name.Function and kinds["residual"] in Name.Builtin and kinds["concat"] in Name.Builtin
    assert kinds["relu"] in Name.Builtin and kinds["conv1x1"] in Name.Builtin and kinds["x"] is Name
    assert kinds["3x3"] in Number and kinds["->"] in Operator and kinds["# note"] in Comment
    assert kinds["$"] in Error  # a character no terminal matches, and the lexer goes on after it


def test_pygmentize_finds_the_lexer_through_the_entry_point(tmp_path):
    """The entry point pyproject.toml declares, installed as a distribution's metadata would be:
    `python -m pygments -l cnndsl` (pygmentize) then highlights a zoo file."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    entry = project["project"]["entry-points"]["pygments.lexers"]
    dist = tmp_path / "cnndsl_entry-0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: cnndsl-entry\nVersion: 0\n")
    (dist / "entry_points.txt").write_text("[pygments.lexers]\n" + "".join(f"{k} = {v}\n" for k, v in entry.items()))
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "pygments", "-l", "cnndsl", "-f", "html",
                           str(ROOT / "archs" / "resnet.arch")], capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert '<span class="kd">network</span>' in done.stdout and '<span class="err">' not in done.stdout


def test_textmate_grammar_is_generated_from_the_grammar():
    on_disk = json.loads((VSCODE / "syntaxes" / "cnndsl.tmLanguage.json").read_text())
    assert on_disk == textmate.build(), "regenerate: python -m cnndsl.tools.textmate > " \
                                        "editors/vscode/syntaxes/cnndsl.tmLanguage.json"


def _scopes(grammar: dict, line: str) -> list[tuple[str, str]]:
    """A small TextMate engine for single-line `match` rules (all this grammar has): at each
    position the earliest match wins, the first rule on a tie. Python's `re` stands in for
    Oniguruma; the grammar's expressions use only what both read alike."""
    rules = [(re.compile(r["match"]), r) for r in grammar["patterns"]]
    out, pos = [], 0
    while pos < len(line):
        found = [(m.start(), i, m, r) for i, (rx, r) in enumerate(rules) if (m := rx.search(line, pos))]
        if not found:
            break
        start, _, m, rule = min(found, key=lambda f: (f[0], f[1]))
        out.append((m.group(), rule.get("name") or rule["captures"]["1"]["name"]))
        pos = max(m.end(), start + 1)
    return out


def test_textmate_grammar_covers_every_zoo_line():
    grammar = textmate.build()
    for path in FILES:
        for line in path.read_text().splitlines():
            covered = "".join(text for text, _ in _scopes(grammar, line))
            assert re.sub(r"\s", "", covered) == re.sub(r"\s", "", line), (path.name, line)
    scopes = dict(_scopes(grammar, "network n : 3x32x32 = conv3x3:16 -> residual<3x3:c> p=1 # c"))
    assert scopes["3x32x32"].startswith("constant.numeric.dims") and scopes["# c"].startswith("comment")
    assert scopes["residual"].startswith("support.function.builtin")
    assert scopes["->"].startswith("keyword.operator.arrow")


def test_vscode_extension_points_at_its_files():
    package = json.loads((VSCODE / "package.json").read_text())
    language, = package["contributes"]["languages"]
    grammar, = package["contributes"]["grammars"]
    assert language["extensions"] == [".arch"] and grammar["scopeName"] == textmate.SCOPE
    for path in (language["configuration"], grammar["path"], package["main"]):
        assert (VSCODE / path).is_file(), path
    json.loads((VSCODE / "language-configuration.json").read_text())
    properties = package["contributes"]["configuration"]["properties"]
    assert properties["cnndsl.server.command"]["default"] == ["cnndsl", "lsp"]
