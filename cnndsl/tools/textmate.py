"""The TextMate grammar of `.arch` files (VS Code, Sublime, GitHub's linguist), generated from
the grammar: its reserved words, its word terminals (`concat`, `residual`...) and the regular
expressions of its numbers, strings and comments.

    python -m cnndsl.tools.textmate > editors/vscode/syntaxes/cnndsl.tmLanguage.json

A test checks that the file in editors/vscode is what this prints, so a grammar change that
adds a word shows up as a failing test until the file is regenerated."""
from __future__ import annotations

import json
import re
from typing import Any

from .syntax import keywords, terminal_patterns, word_terminals

SCOPE = "source.cnndsl"
DECLARATIONS = ("block", "network", "unit", "let", "def")


def build() -> dict[str, Any]:
    words = sorted(keywords())
    control = [w for w in words if w not in DECLARATIONS and w not in ("true", "false")]
    terminals = terminal_patterns()
    builtins = sorted({w for pattern in word_terminals().values() for w in re.findall(r"[a-z_]+", pattern)})
    patterns = [
        {"name": "comment.line.number-sign.cnndsl", "match": terminals["COMMENT"]},
        {"name": "string.quoted.double.cnndsl", "match": terminals["STRING"]},
        {"match": r"\b(block|network|def)\s+([A-Za-z_][A-Za-z0-9_]*)",
         "captures": {"1": {"name": "storage.type.cnndsl"}, "2": {"name": "entity.name.function.cnndsl"}}},
        {"name": "storage.type.cnndsl", "match": _words([w for w in words if w in DECLARATIONS])},
        {"name": "keyword.control.cnndsl", "match": _words(control)},
        {"name": "constant.language.cnndsl", "match": _words(["true", "false"])},
        {"name": "support.function.builtin.cnndsl", "match": _words(builtins)},
        # a layer name that carries its kernel size: conv3x3, maxpool2x2
        {"name": "support.function.cnndsl", "match": r"\b[A-Za-z_]+[0-9]+(?:x[0-9]+)+\b"},
        {"name": "constant.numeric.dims.cnndsl", "match": rf"\b(?:{terminals['DIMS']})\b"},
        {"name": "constant.numeric.float.cnndsl", "match": rf"\b(?:{terminals['FLOAT']})"},
        {"name": "constant.numeric.integer.cnndsl", "match": rf"\b(?:{terminals['INT']})\b"},
        {"match": r"\b([A-Za-z_][A-Za-z0-9_]*)(=)(?!=)",
         "captures": {"1": {"name": "variable.parameter.cnndsl"}, "2": {"name": "keyword.operator.assignment.cnndsl"}}},
        {"name": "variable.other.cnndsl", "match": r"\b[A-Za-z_][A-Za-z0-9_]*\b"},
        {"name": "keyword.operator.arrow.cnndsl", "match": r"->|<-|\|"},
        {"name": "keyword.operator.cnndsl", "match": r"\*\*|//|==|!=|<=|>=|[-+*/%<>=?]"},
        {"name": "punctuation.cnndsl", "match": r"[()\[\]{},:]"},
    ]
    return {"$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
            "name": "cnndsl", "scopeName": SCOPE, "fileTypes": ["arch"], "patterns": patterns}


def _words(words: list[str]) -> str:
    return r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b"


def main() -> None:
    print(json.dumps(build(), indent=2))


if __name__ == "__main__":
    main()
