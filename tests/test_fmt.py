"""`cnndsl fmt`: one layout, comments kept, idempotent, and the meaning kept for every zoo file."""
from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import cnndsl
from cnndsl.cli import main
from cnndsl.tools.layout import format_text
from cnndsl.tools.syntax import scan, signature

ROOT = Path(__file__).resolve().parents[1]
ZOO = sorted((ROOT / "archs").glob("*.arch"))
STDLIB = sorted((ROOT / "cnndsl" / "stdlib").glob("*.arch"))
POSITIONS = {"source", "line", "file"}  # where things are written, which a layout change moves


def test_zoo_and_stdlib_are_formatted():
    assert main(["fmt", "--check", str(ROOT / "archs"), str(ROOT / "cnndsl" / "stdlib")]) == 0


@pytest.mark.parametrize("path", ZOO + STDLIB, ids=lambda p: p.name)
def test_idempotent_on_every_zoo_file(path):
    once = format_text(mangle(path.read_text(), seed=1), path.name)
    assert format_text(once, path.name) == once


def mangle(text: str, seed: int) -> str:
    """The same tokens and comments in a careless layout: random spacing and indentation, tabs,
    arrows moved to the end of the line before, chain lines joined, blank lines added."""
    rng = random.Random(seed)
    s = scan(text)
    out = []
    for i, (lexeme, brk) in enumerate(zip(s.lexemes, s.breaks)):
        trivia = s.trivia[i]
        # `else` may start a line but not end one (the grammar lets newlines before it only)
        if brk == "arrow" and lexeme.text != "else" and "#" not in trivia and rng.random() < 0.5:
            # join the line to the one before, or leave the arrow at the end of the one before
            out += [" ", lexeme.text] if rng.random() < 0.5 else [" " + lexeme.text + "\n" + _ws(rng)]
            continue
        trivia = re.sub(r"#[^\n]*|[ \t]+", lambda m: m.group() if m.group()[0] == "#" else _ws(rng), trivia)
        if brk == "stmt" and rng.random() < 0.2:
            trivia = trivia.replace("\n", "\n\n\n", 1)
        out += [trivia or rng.choice(["", " "]), lexeme.text]
    out.append(s.trivia[-1])
    mangled = "".join(out)
    assert signature(scan(mangled))[0] == signature(s)[0]  # the mangling itself keeps every token
    return mangled


def _ws(rng: random.Random) -> str:
    return rng.choice([" ", "  ", "\t", "    ", " \t "])


def _meaning(path: Path, **params) -> dict:
    report = cnndsl.report(path, **params).model_dump()
    report.pop("file")
    for layer in report["layers"]:
        for key in POSITIONS & layer.keys():
            layer.pop(key)
    return report


def test_meaning_kept_for_every_zoo_network(tmp_path):
    """Every zoo and stdlib file, mangled and formatted, in a folder of its own (the formatted
    stdlib beside it, so includes read the formatted copies): each network's report is the
    original's, positions aside."""
    for path in ZOO + STDLIB:
        formatted = format_text(mangle(path.read_text(), seed=hash(path.name) % 1000), path.name)
        (tmp_path / path.name).write_text(formatted)
        assert signature(scan(formatted)) == signature(scan(path.read_text())), path.name
    for path in ZOO:
        params = {"depth": 20} if path.name in ("resnet_cifar.arch", "preact_resnet.arch") else {}
        assert _meaning(tmp_path / path.name, **params) == _meaning(path, **params), path.name


def test_meaning_kept_with_parameters(tmp_path):
    for name, params in [("googlenet.arch", {"aux": True}), ("resnet.arch", {"depth": 152}),
                         ("squeezenet.arch", {"version": 1.1}), ("wrn.arch", {"dropout": 0.3})]:
        path = ROOT / "archs" / name
        copy = tmp_path / name
        copy.write_text(format_text(mangle(path.read_text(), seed=7), name))
        for include in ("std.arch", "resnet_blocks.arch"):
            shutil.copy(ROOT / "cnndsl" / "stdlib" / include, tmp_path / include)
        assert _meaning(copy, **params) == _meaning(path, **params), name


MESSY = """\


# top comment


include   "std.arch"
let   table=[[0,1,2],
      [1,2,3],   # row 2
   [2,3,4]]
block   a( c ,s = 1 )=3x3 : c / s->relu ->
   # between
   bn
block b(c) {
      let x=c*2+-1
   3x3:(x+1) ->  # trailing arrow comment
    relu
        -> residual < 3x3:c , conv1x1:c > * 2

   if c>2 { relu } else {
  tanh
   }


}
network n ( k = 10 ) : 3x32x32 {
  3x3:16 -> a(16) \\
    -> b(16) -> concat( a(1) | b(2)
  | a(3) ) -> gap -> fc:k as out      # aligned
  output out                          # with this
  # end of body
}
# end
"""

TIDY = """\
# top comment

include "std.arch"
let table = [[0, 1, 2],
             [1, 2, 3],  # row 2
             [2, 3, 4]]
block a(c, s=1) = 3x3:c/s -> relu
  # between
  -> bn
block b(c) {
  let x = c * 2 + -1
  3x3:(x+1)  # trailing arrow comment
  -> relu
  -> residual<3x3:c, conv1x1:c>*2

  if c > 2 { relu } else {
    tanh
  }
}
network n(k=10) : 3x32x32 {
  3x3:16 -> a(16)
  -> b(16) -> concat(a(1) | b(2)
                   | a(3)) -> gap -> fc:k as out  # aligned
  output out                                      # with this
  # end of body
}
# end
"""


def test_the_canonical_layout():
    assert format_text(MESSY) == TIDY
    assert format_text(TIDY) == TIDY


def test_long_chains_break_at_the_loosest_operator():
    long = "block b(c) = " + " -> ".join(f"3x3:{c}" for c in range(100, 130)) + "\n"
    out = format_text(long)
    lines = out.splitlines()
    assert lines[0] == "block b(c) ="
    assert all(len(line) <= 100 for line in lines)
    assert all(line.startswith("  -> ") for line in lines[2:]) and lines[1].startswith("  3x3:100 -> ")
    branches = "block b = inception(" + " | ".join(f"1x1:{c} -> 3x3:{c}" for c in range(100, 112)) + ")\n"
    broken = format_text(branches).splitlines()
    assert broken[1].startswith("  inception(1x1:100 -> 3x3:100 | ")
    assert all(line.startswith("          | ") for line in broken[2:])  # at `|`, never inside a branch


def test_unaligned_comments_stay_two_spaces_after_the_code():
    assert format_text("let a = 1 # one\nlet bbbbbb = 2      # two\n") == "let a = 1  # one\nlet bbbbbb = 2  # two\n"


def test_a_file_that_does_not_parse_is_left_alone(tmp_path, capsys):
    bad = tmp_path / "bad.arch"
    bad.write_text("network n : 3x8x8 =\n  relu ->\n")
    assert main(["fmt", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:2:" in err and "^" in err and "Traceback" not in err
    assert bad.read_text() == "network n : 3x8x8 =\n  relu ->\n"


def test_cli_check_diff_and_write(tmp_path, capsys):
    messy = tmp_path / "m.arch"
    messy.write_text("network n : 3x8x8 = relu->relu\n")
    assert main(["fmt", "--check", str(tmp_path)]) == 1
    assert f"would reformat {messy}" in capsys.readouterr().err
    assert main(["fmt", "--diff", str(messy)]) == 0
    assert "+network n : 3x8x8 = relu -> relu" in capsys.readouterr().out
    assert messy.read_text() == "network n : 3x8x8 = relu->relu\n"
    assert main(["fmt", str(messy)]) == 0
    assert messy.read_text() == "network n : 3x8x8 = relu -> relu\n"
    assert main(["fmt", "--check", str(messy)]) == 0


def test_stdin_to_stdout():
    done = subprocess.run([sys.executable, "-m", "cnndsl", "fmt", "-"], check=False, input="let  x=1\n",
                          capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert (done.returncode, done.stdout) == (0, "let x = 1\n")
