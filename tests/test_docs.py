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
