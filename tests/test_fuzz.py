"""Bad input never escapes as a Python exception: mutated zoo files either compile or raise a
CnnDslError (which the CLI prints as a diagnostic). Deterministic: a fixed seed."""
from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import cnndsl
from cnndsl.diagnostics import CnnDslError

ARCHS = Path(__file__).resolve().parents[1] / "archs"
PIECES = ["->", "<-", "|", "(", ")", "<", ">", "[", "]", "{", "}", ":", "/", "*", "=", ",", "3x3", "64", "0",
          "-1", "relu", "x", "as", "if", "for", "in", "\n", " ", "residual<", "dense<", "join(", "1.5", '"s"',
          "**", "//", "true", "output", "let", "block", "network", "#"]


def mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 3)):
        pos, op = rng.randrange(len(text)), rng.random()
        if op < 0.4:
            text = text[:pos] + text[pos + rng.randint(1, 5):]
        elif op < 0.8:
            text = text[:pos] + rng.choice(PIECES) + text[pos:]
        else:
            numbers = list(re.finditer(r"\d+", text))
            if numbers:
                m = rng.choice(numbers)
                text = text[:m.start()] + rng.choice(["0", "1", "7", "1000", "99999", "3x3", "0.5"]) + text[m.end():]
    return text


def test_mutated_zoo_files_fail_only_with_diagnostics(tmp_path):
    for arch in ARCHS.glob("*.arch"):  # includes resolve beside the file, so mutate in a copy
        shutil.copy(arch, tmp_path / arch.name)
    rng = random.Random(20261126)
    files = sorted(ARCHS.glob("*.arch"))
    for case in range(150):
        source = rng.choice(files)
        target = tmp_path / source.name
        target.write_text(mutate(source.read_text(), rng))
        try:
            cnndsl.analyze(target)
        except CnnDslError as exc:
            assert exc.diagnostics and all(d.message for d in exc.diagnostics), (case, source.name)
        finally:
            shutil.copy(source, target)
