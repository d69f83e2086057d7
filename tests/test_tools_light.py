"""The editor tools stay on the static path: fmt, the highlighters and `cnndsl --help` with every
command registered never import torch (the language server and the playground are checked in
their own tests, over their real processes)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CODE = """
import glob, sys
from cnndsl.cli import main
from cnndsl.tools.layout import format_text
from cnndsl.tools.lexer import CnnDslLexer
from cnndsl.tools import textmate
for path in sorted(glob.glob("archs/*.arch")):
    text = open(path).read()
    format_text(text, path)
    list(CnnDslLexer().get_tokens(text))
textmate.build()
assert main(["fmt", "--check", "archs"]) == 0
try:
    main(["--help"])
except SystemExit:
    pass
print("torch imported:", "torch" in sys.modules)
"""


def test_fmt_and_highlighting_never_import_torch():
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("torch imported: False"), done.stdout
