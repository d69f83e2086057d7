"""The docs and the packaging say true things about the files."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| `([a-z0-9_]+)` \| (\d+) \((\d+)\)", re.M)


def test_zoo_line_counts_match_the_files():
    """docs/zoo.md: "lines" are neither blank nor comments; the total follows in parentheses."""
    rows = ROW.findall((ROOT / "docs" / "zoo.md").read_text())
    assert len(rows) > 20
    for name, code, total in rows:
        lines = (ROOT / "archs" / f"{name}.arch").read_text().splitlines()
        counted = sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))
        assert (counted, len(lines)) == (int(code), int(total)), name



def test_the_package_reads_the_grammar_in_grammar_folder():
    """cnndsl/grammar.lark links to grammar/cnndsl.lark, so a wheel carries the one grammar."""
    assert (ROOT / "cnndsl" / "grammar.lark").resolve() == (ROOT / "grammar" / "cnndsl.lark").resolve()


def _readme_commands() -> list[list[str]]:
    import shlex
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    out = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():  # a backslash continues the line
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                if words[:1] == ["cnndsl"]:
                    out.append(words[1:])
    return out


def test_the_readme_commands_parse_and_write_into_out():
    """Every `cnndsl` command of the README is one the CLI accepts, and what it writes goes into
    the git-ignored out/, never into the repository root."""
    from cnndsl.cli import make_parser
    commands = _readme_commands()
    assert len(commands) > 10
    parser = make_parser()
    for words in commands:
        parser.parse_args(words)
        targets = [words[i + 1] for i, w in enumerate(words) if w in ("-o", "--diagram", "--chart")]
        assert all(t.startswith("out/") for t in targets), words
    assert "/out/" in (ROOT / ".gitignore").read_text().split()
