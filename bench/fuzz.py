"""Fuzzing: hostile and random `.arch` texts through everything a stranger's file reaches.

Inputs come from five sources, in turn:
- `grammar`: random derivations of grammar/cnndsl.lark (Lark's own rules, terminals drawn from
  pools that include hostile values: 1e309, 20-digit integers, "/etc/passwd", 0x0 kernels);
- `tokens`: zoo files with tokens deleted, duplicated, swapped or replaced by hostile ones;
- `bytes`: zoo files with bytes deleted, duplicated or inserted (invalid UTF-8, NUL, escapes);
- `hostile`: templates of bombs and edge cases with random sizes;
- `values`: random value expressions over every operator and function, with hostile operands.
Each goes through `check` (every network of the file), and for each graph the JSON report, the
diagram (`to_dot`) and the emitted Python (`to_source`, then `ast.parse` and `compile`; running it
is the hook `IMPORT_EMITTED`, for the lead's inert emitter). An internal error is any exception
but `CnnDslError`; a timeout is an input that runs past the per-input limit. A few inputs also
go through the command line (`python -m cnndsl check`): exit 0 or 1, never 2, no traceback.

Run: python bench/fuzz.py [--count 100000] [--seed 0] [--cli 50] [--save DIR]
tests/test_hostile_fuzz.py runs a short slice of the same."""
from __future__ import annotations

import argparse
import ast
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnndsl.api import check  # noqa: E402 - the repository is on the path from here on
from cnndsl.diagnostics import CnnDslError  # noqa: E402
from cnndsl.ir import Graph  # noqa: E402

IMPORT_EMITTED = False  # the hook: import the emitted module too, once the emitter is inert (the lead's)
TIME_LIMIT_S = 10  # per input, all stages together
DIAGRAM_MAX_LAYERS = 300  # the diagram takes time quadratic in the layers (views; see docs/security.md)

# Internal errors already known and owned elsewhere, each with a strict xfail test: reported apart,
# so that a new one stands out.
KNOWN = {
    "emit: SyntaxError": "lowering: a network name that is not a Python class name (test_hostile_emit)",
}

POOLS = {
    "NAME": ["relu", "conv", "bn", "fc", "gap", "x", "c", "n", "b", "depth", "stage", "basic", "classifier",
             "maxpool3x3", "avgpool2x2", "conv3x3", "dropout", "lrn", "identity", "flatten", "select", "range",
             "len", "int", "float", "floor", "linear_decay", "shortcut", "pad", "groups", "s", "p", "k", "out",
             "ceil", "a4", "m", "aux", "logits", "__import__", "Network", "eval"],
    "INT": ["0", "1", "2", "3", "7", "64", "1000", "10000", "100001", "9223372036854775807",
            "99999999999999999999"],
    "FLOAT": ["0.5", "1.0", "1e-4", "0.0", "1e309", "2.5", "1e308"],
    "DIMS": ["3x3", "1x1", "7x7", "1x7", "0x0", "3x32x32", "3x8x8", "0x8x8", "1x1x1x1", "99999999999x3"],
    "STRING": ['"std.arch"', '"resnet.arch"', '"/etc/passwd"', '"../../etc/x.arch"', '"batch"', '""',
               '"nowhere.arch"', '"x"'],
    "MERGE": ["concat", "inception", "add", "mean", "join"],
    "COMBINATOR": ["residual", "dense"],
    "_NL": ["\n", "\n  ", "\n\n"],
    "_ARROW": [" -> ", "\n  -> "],
    "_LARROW": [" <- "],
    "_BAR": [" | ", "\n  | "],
}
HOSTILE_PIECES = ["1e309", "99999999999999999999", "0", "-1", "((((((((((", "))))", "2**64", "10**18", '"/etc/passwd"',
                  'include "../../../etc/passwd.arch"', "range(10**9)", "*10000", "*0", "\x00", "\t", "\u202e",
                  "network", "block", "->", "<-", "|", "as", "for", "if", "0x0", "fc:(-5)", "p=(-1)", "lrn(size=0)",
                  "int(1e309)", "0 ** -1", "float(\"nan\")", "[", "]", "{", "}", "\\\n", "#", '"', "x" * 1200]


class GrammarFuzzer:
    """Random derivations of the grammar, depth-limited: past `max_depth` a rule takes its
    shallowest alternative, so every derivation ends."""

    def __init__(self) -> None:
        from cnndsl.parser import _parser
        lark = _parser()
        self.rules: dict[str, list[list]] = {}
        for rule in lark.rules:
            self.rules.setdefault(rule.origin.name, []).append(list(rule.expansion))
        self.literals = {t.name: t.pattern.value for t in lark.terminals if t.pattern.type == "str"}
        self.depth = self._min_depths()

    def _min_depths(self) -> dict[str, int]:
        depth: dict[str, int] = {}
        changed = True
        while changed:
            changed = False
            for name, alternatives in self.rules.items():
                for expansion in alternatives:
                    needed = [depth.get(s.name) for s in expansion if not s.is_term]
                    if None in needed:
                        continue
                    d = 1 + max(needed, default=0)
                    if d < depth.get(name, 1 << 30):
                        depth[name], changed = d, True
        return depth

    def generate(self, rng: random.Random, start: str = "start", max_depth: int = 12) -> str:
        out: list[str] = []
        stack: list[tuple[object, int]] = [(start, 0)]
        while stack and len(out) < 3000:
            symbol, depth = stack.pop()
            name = symbol if isinstance(symbol, str) else symbol.name
            if name in self.rules:
                options = self.rules[name]
                if depth >= max_depth:
                    options = [min(options, key=lambda e: max((self.depth.get(s.name, 0) for s in e
                                                               if not s.is_term), default=0))]
                expansion = rng.choice(options)
                stack.extend((s, depth + 1) for s in reversed(expansion))
            else:
                out.append(self._terminal(name, rng))
        return " ".join(out)

    def _terminal(self, name: str, rng: random.Random) -> str:
        if name in self.literals:
            return self.literals[name]
        return rng.choice(POOLS.get(name, ["x"]))


def token_mutation(text: str, rng: random.Random) -> str:
    tokens = re.findall(r"\s+|\w+|\S", text)
    for _ in range(rng.randint(1, 4)):
        if not tokens:
            break
        i, op = rng.randrange(len(tokens)), rng.random()
        if op < 0.3:
            del tokens[i:i + rng.randint(1, 3)]
        elif op < 0.5:
            j = rng.randrange(len(tokens))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif op < 0.65:
            tokens[i:i] = tokens[i:i + rng.randint(1, 8)] * rng.randint(1, 3)
        else:
            tokens[i] = rng.choice(HOSTILE_PIECES + [tokens[rng.randrange(len(tokens))]])
    return "".join(tokens)


def byte_mutation(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        i, op = rng.randrange(len(buf) + 1), rng.random()
        if op < 0.3:
            del buf[i:i + rng.randint(1, 8)]
        elif op < 0.6:
            buf[i:i] = bytes(rng.choice([0x00, 0xff, 0xc3, 0x80, 0x0a, 0x09, 0x1b, 0x0d, 0x22, 0x28, 0x5c, 0xe2])
                             for _ in range(rng.randint(1, 3)))
        elif op < 0.8 and buf:
            buf[i:i] = buf[i:i + rng.randint(1, 40)]
        elif buf:
            buf[min(i, len(buf) - 1)] ^= 1 << rng.randrange(8)
    return bytes(buf)


def hostile_template(rng: random.Random) -> str:
    n = rng.choice([1, 2, 10, 99, 100, 101, 150, 1000, 3000])
    levels = rng.choice([1, 2, 5, 12])  # 2**levels layers: the elaborator's doubling bomb is a test of its own
    net = "network n : 3x8x8 = "
    templates = [
        lambda: net + "(" * n + "relu" + ")" * n,
        lambda: net + "3x3:(" + "-" * n + "1)",
        lambda: net + "relu" + "*2" * min(n, 200),
        lambda: "\n".join([f"block b{i} = b{i + 1} -> b{i + 1}" for i in range(levels)]
                          + [f"block b{levels} = relu", net + "b0"]),
        lambda: "\n".join(["let l0 = [1]"] + [f"let l{i} = [l{i - 1}, l{i - 1}]" for i in range(1, min(n, 60))]
                          + [net + "relu"]),
        lambda: net + f"3x3:({rng.choice(['2', '10', '-3', '0', '1.5'])} "
                      f"** {rng.choice(['63', '64', '-1', '1e3', '0.5'])})",
        lambda: net + f"[relu for i in range({n} ** {rng.randint(1, 9)})]",
        lambda: f'include "{rng.choice(["/etc/passwd", "../" * rng.randint(1, 9) + "x.arch", "std.arch", ""])}"\n'
                + net + "relu",
        lambda: "network a = b\nnetwork b = a",
        lambda: net + "relu -> " * n + "fc:(" + rng.choice(["-5", "0", "1e309", "10**30"]) + ")",
    ]
    return rng.choice(templates)() + "\n"


VALUE_ATOMS = ["0", "1", "-1", "2", "63", "64", "9223372036854775807", "1e308", "1e-308", "0.5", "-0.5", "0.0",
               '"a"', '"12"', '"nan"', '"inf"', '"1e999"', "true", "false", "[1, 2]", "[]", "{1: 2}", "range(3)",
               "[[1]]", "c", "b", "basic"]
FUNCTIONS = ["range", "min", "max", "len", "abs", "int", "float", "round", "floor", "ceil", "sum", "linear_decay"]
OPERATORS = ["+", "-", "*", "/", "//", "%", "**", "<", ">", "==", "!=", "and", "or"]


def value_expression(rng: random.Random, depth: int = 0) -> str:
    r = rng.random()
    if depth > 3 or r < 0.3:
        return rng.choice(VALUE_ATOMS)
    def sub() -> str:
        return value_expression(rng, depth + 1)

    if r < 0.55:
        return f"({sub()} {rng.choice(OPERATORS)} {sub()})"
    if r < 0.65:
        return f"-({sub()})"
    if r < 0.7:
        return f"({sub()})[{sub()}]"
    if r < 0.75:
        return f"({sub()} ? {sub()} : {sub()})"
    return f"{rng.choice(FUNCTIONS)}({', '.join(sub() for _ in range(rng.randint(0, 3)))})"


def value_program(rng: random.Random) -> str:
    e = [value_expression(rng)] + [rng.choice([value_expression(rng), ok]) for ok in ("8", "4")]
    return (f"block basic(c, s=1) = 3x3:c/s\nlet v = {e[0]}\n"
            f"network n(c={e[1]}) : 3x8x8 = 3x3:({e[2]}) -> basic(c)*(len([v]))\n")


def inputs(seed: int, corpus: list[bytes]) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    grammar = GrammarFuzzer()
    while True:
        kind = rng.choice(KINDS)
        if kind == "grammar":
            yield kind, grammar.generate(rng).encode()
        elif kind == "tokens":
            yield kind, token_mutation(rng.choice(corpus).decode(), rng).encode("utf-8", "surrogatepass")
        elif kind == "bytes":
            yield kind, byte_mutation(rng.choice(corpus), rng)
        elif kind == "values":
            yield kind, value_program(rng).encode()
        else:
            yield kind, hostile_template(rng).encode()


KINDS = ("grammar", "tokens", "bytes", "hostile", "values")


class Timeout(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise Timeout


@dataclass
class Tally:
    outcomes: Counter = field(default_factory=Counter)  # (kind, outcome)
    internal: Counter = field(default_factory=Counter)  # "stage: exception: message start", not known
    known: Counter = field(default_factory=Counter)  # the same, for those in KNOWN
    samples: list[tuple[str, bytes]] = field(default_factory=list)

    def add(self, kind: str, outcome: str, detail: str, data: bytes) -> None:
        if outcome == "internal" and any(detail.startswith(k) for k in KNOWN):
            outcome = "known"
            self.known[next(v for k, v in KNOWN.items() if detail.startswith(k))] += 1
        elif outcome in ("internal", "timeout"):
            self.internal[detail if outcome == "internal" else f"timeout in {detail}"] += 1
            self.samples.append((detail, data))
        self.outcomes[(kind, outcome)] += 1


def run_one(data: bytes, path: Path) -> tuple[str, str]:
    """(outcome, detail): outcome is ok, error (a CnnDslError), internal (stage: exception) or timeout."""
    path.write_bytes(data)
    stage = "check"
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT_S)
    try:
        graphs = check(path)
        for graph in graphs:
            stage = "report"
            _report(graph)
            stage = "diagram"
            if len(graph) <= DIAGRAM_MAX_LAYERS:
                _diagram(graph)
            stage = "emit"
            use_emitted(_source(graph), path)
        return "ok", ""
    except CnnDslError as exc:
        return ("error", "") if stage == "check" else ("internal", f"{stage}: CnnDslError: {str(exc)[:80]}")
    except Timeout:
        return "timeout", stage
    except Exception as exc:  # noqa: BLE001 - anything else is what the fuzzer looks for
        return "internal", f"{stage}: {type(exc).__name__}: {str(exc)[:80]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _report(graph: Graph) -> None:
    from cnndsl.views.report import build_report
    build_report(graph).model_dump_json()


def _diagram(graph: Graph) -> None:
    from cnndsl.views.graphviz import to_dot
    to_dot(graph)


def _source(graph: Graph) -> str:
    from cnndsl.lower import to_source
    return to_source(graph)


def use_emitted(source: str, path: Path) -> None:
    """The emitted module parses and compiles; with IMPORT_EMITTED it is also imported (the hook
    for the lead's inert emitter: importing must define the network and do nothing else)."""
    tree = ast.parse(source)
    code = compile(tree, str(path.with_suffix(".py")), "exec")
    if IMPORT_EMITTED:
        exec(code, {"__name__": "emitted"})  # noqa: S102 - only once the emitter is inert


def cli_check(data: bytes, path: Path) -> str | None:
    """The problem, if `python -m cnndsl check` exits other than 0 or 1 or prints a traceback."""
    path.write_bytes(data)
    proc = subprocess.run([sys.executable, "-m", "cnndsl", "check", str(path)], cwd=ROOT, capture_output=True,
                          text=True, errors="replace", timeout=120, check=False)
    known = any(f"internal error: {k.split(': ', 1)[1]}" in proc.stderr for k in KNOWN)
    if (proc.returncode not in (0, 1) and not known) or "Traceback" in proc.stderr:
        return f"exit {proc.returncode}: {proc.stderr[-200:]}"
    return None


def workdir() -> Path:
    """A project with the zoo and its includes, so mutated includes resolve."""
    tmp = Path(tempfile.mkdtemp(prefix="cnndsl-fuzz-"))
    for arch in (ROOT / "archs").glob("*.arch"):
        shutil.copy(arch, tmp / arch.name)
    return tmp


def corpus() -> list[bytes]:
    return [p.read_bytes() for p in sorted((ROOT / "archs").glob("*.arch"))]


def fuzz(count: int, seed: int, cli: int = 0, progress: bool = False) -> tuple[Tally, list[str]]:
    tally, cli_problems = Tally(), []
    old = signal.signal(signal.SIGALRM, _alarm)
    tmp = workdir()
    try:
        for i, (kind, data) in zip(range(count), inputs(seed, corpus())):
            outcome, detail = run_one(data, tmp / "fuzz.arch")
            tally.add(kind, outcome, detail, data)
            if i < cli and (problem := cli_check(data, tmp / "cli.arch")):
                cli_problems.append(problem)
            if progress and (i + 1) % 5000 == 0:
                print(f"  {i + 1:,} inputs", flush=True)
    finally:
        signal.signal(signal.SIGALRM, old)
        shutil.rmtree(tmp, ignore_errors=True)
    return tally, cli_problems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cli", type=int, default=50, help="how many of the inputs also go through the command line")
    ap.add_argument("--save", type=Path, help="write inputs that failed here")
    args = ap.parse_args()
    start, cpu = time.perf_counter(), time.process_time()
    tally, cli_problems = fuzz(args.count, args.seed, args.cli, progress=True)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    total = sum(tally.outcomes.values())
    print(f"{total:,} inputs in {wall:,.0f} s ({cpu:,.0f} s CPU), seed {args.seed}")
    for kind in KINDS:
        row = {o: tally.outcomes[(kind, o)] for o in ("ok", "error", "internal", "timeout", "known")}
        print(f"  {kind:<8} " + "  ".join(f"{o} {n:,}" for o, n in row.items()))
    print(f"internal errors and timeouts: {sum(tally.internal.values())}")
    for detail, n in tally.internal.most_common(20):
        print(f"  {n:>6}  {detail}")
    print(f"known internal errors, owned elsewhere: {sum(tally.known.values())}")
    for detail, n in tally.known.most_common():
        print(f"  {n:>6}  {detail}")
    print(f"command line: {args.cli} inputs, {len(cli_problems)} exits other than 0/1 or tracebacks")
    for problem in cli_problems[:5]:
        print("  " + problem)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for i, (_, data) in enumerate(tally.samples[:200]):
            (args.save / f"case{i}.arch").write_bytes(data)


if __name__ == "__main__":
    main()
