"""Bombs and large valid files through `cnndsl check`: CPU time, wall time and peak memory of each,
every one in a subprocess of its own, killed past a time limit and refused memory past a limit.

Run: python bench/limits.py [--root DIR] [--timeout S] [--only NAME ...]
(--root: the checkout whose cnndsl runs, default this one; used to measure a version before a
change.) The goal (docs/security.md): every bomb refused within 2 s and 300 MB, a valid
100,000-line file checked in under 3 s. CPU time is the measure that matters on a shared machine;
wall time is printed beside it."""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = ROOT_OF_CHECKOUT = Path(__file__).resolve().parents[1]
NET = "network n : 3x8x8 = "


def chain(n: int) -> str:
    return NET + "relu" + " -> relu" * n + "\n"


def chain_lines(n: int) -> str:
    return NET + "relu\n" + "  -> relu\n" * (n - 1)


def doubling_blocks(n: int) -> str:
    lines = ["block b0 = relu -> relu"] + [f"block b{i} = b{i - 1} -> b{i - 1}" for i in range(1, n)]
    return "\n".join(lines + [NET + f"b{n - 1}"]) + "\n"


def doubling_recursion(n: int) -> str:
    # `then`/`else` take a whole chain (issue 9): the brackets keep the reading this case measured
    # before, which recurses past k = 0 and is refused by the depth limit
    return f"block b(k) = (if k == 0 then relu else b(k - 1)) -> b(k - 1)\n{NET}b({n})\n"


def nested_blocks(n: int) -> str:
    lines = [f"block b{n} = relu"] + [f"block b{i} = b{i + 1}" for i in range(n - 1, -1, -1)]
    return "\n".join(lines + [NET + "b0"]) + "\n"


def blocks_file(lines: int) -> str:
    out = []
    for i in range(lines // 4):
        out += [f"block b{i}(c, s=1) {{", "  3x3:c/s -> bn", "  relu", "}"]
    return "\n".join(out + [NET + "b0(8) -> b1(8)"]) + "\n"


def unknown_names(n: int) -> str:
    lines = [f"let v{i} = {i}" for i in range(n)] + [NET + "relu"] + [f"  -> unknown{i}" for i in range(n)]
    return "\n".join(lines) + "\n"


@dataclass
class Case:
    name: str
    what: str
    make: Callable[[], str | Path]  # the text, or a file to check as it is
    valid: bool = False  # a valid file, to be checked (exit 0), not refused


CASES = [
    Case("chain_10mb", "10 MB of relu -> relu -> ... (the issue: 94 s, 2.2 GB)", lambda: chain(1_300_000)),
    Case("chain_4mb", "a chain just under the 4 MB file limit: 480,000 layers", lambda: chain(480_000)),
    Case("doubling_40", "40 blocks that each double the previous one (the issue: 25 s, 900 MB)",
         lambda: doubling_blocks(40)),
    Case("doubling_recursion", "one recursive block that doubles, 40 deep", lambda: doubling_recursion(40)),
    Case("doubling_by_parameter", "a block that doubles through its parameter: b(k) uses b(k - 1) twice, b(40)",
         lambda: "block b(k) = if k == 0 then relu else (b(k - 1) -> b(k - 1))\n" + NET + "b(40)\n"),
    Case("deep_doubling", "the doubling block under 40 nested uses of another",
         lambda: "block d(k) = if k == 0 then relu else (d(k - 1) -> d(k - 1))\n"
                 "block w(k) = if k == 0 then d(40) else w(k - 1)\n" + NET + "w(40)\n"),
    Case("deep_repeats", "240,000 layers (under the layer limit) 90 block uses deep",
         lambda: "block w(k) = if k == 0 then (relu*10000)*24 else w(k - 1)\n" + NET + "w(90)\n"),
    Case("deep_uses_per_layer", "20,000 layers, each in 96 block uses of its own",
         lambda: "block w(k) = if k == 0 then relu else w(k - 1)\n" + NET + "(w(95)*1000)*20\n"),
    Case("long_names_deep", "10,000 layers 95 uses deep of a block with a 900-character name",
         lambda: f"block w{'x' * 900}(k) = if k == 0 then relu*100 else w{'x' * 900}(k - 1)\n"
                 + NET + f"(w{'x' * 900}(95))*100\n"),
    Case("parens_3000", "3,000 nested parentheses", lambda: NET + "(" * 3000 + "relu" + ")" * 3000 + "\n"),
    Case("blocks_150_deep", "150 nested blocks", lambda: nested_blocks(150)),
    Case("repeat_10000_cubed", "((relu*10000)*10000)*10000", lambda: NET + "((relu*10000)*10000)*10000\n"),
    Case("for_range_10_18", "[relu for i in range(10**18)]", lambda: NET + "[relu for i in range(10**18)]\n"),
    Case("list_tokens", "a list literal of 400,000 items",
         lambda: "let x = [" + "1," * 400_000 + "1]\n" + NET + "relu\n"),
    Case("list_doubling", "40 lets that double a list by sharing",
         lambda: "\n".join(["let l0 = [1, 2]"] + [f"let l{i} = [l{i - 1}, l{i - 1}]" for i in range(1, 41)]
                           + [NET + "relu"]) + "\n"),
    Case("range_in_empty_block", "an empty block that builds range(100000), repeated 10**8 times",
         lambda: "block f(n) {\n  let r = range(100000)\n}\n" + NET + "(f(1)*10000)*10000\n"),
    Case("unknown_names_20k", "20,000 lets and 20,000 unknown names", lambda: unknown_names(20_000)),
    Case("def_recursion_forever", "a def that calls itself without end",
         lambda: "def f(n) = f(n + 1)\n" + NET + "3x3:(f(0))\n"),
    Case("def_doubling_calls", "a def that calls itself twice per level, 40 deep",
         lambda: "def f(n) = n == 0 ? 1 : f(n - 1) + f(n - 1)\n" + NET + "3x3:(f(40))\n"),
    Case("comprehension_10_10", "a comprehension over range(100000) inside one over range(100000)",
         lambda: "let a = [[i for i in range(100000)] for j in range(100000)]\n" + NET + "relu\n"),
    Case("valid_chain_100k_lines", "a valid 100,000-line file, one layer per line", lambda: chain_lines(100_000),
         valid=True),
    Case("blocks_100k_lines", "a 100,000-line file of 25,000 small blocks: 575,000 tokens, over the budget",
         lambda: blocks_file(100_000)),
    Case("valid_resnet_1202", "the zoo's largest network (ResNet-1202, 4,800 layers)",
         lambda: HERE / "archs" / "resnet1202_cifar.arch", valid=True),
]


def measure(root: Path, path: Path, timeout: float = 60, memory_mb: int = 4096,
            command: tuple[str, ...] = ("check",)) -> tuple[int | None, float, float, int, str]:
    """(exit status or None if killed, CPU s, wall s, peak RSS in MB, first line of stderr) of
    `cnndsl COMMAND PATH`."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as peak:
        proc = subprocess.Popen(bounded(memory_mb, *command, str(path), peak=peak.name), cwd=root, env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
        status, usage = _wait(proc, timeout)
        wall = time.perf_counter() - start
        err.seek(0)
        first = (err.read(2000).decode(errors="replace").splitlines() or [""])[0]
        written = peak.read().strip()
    cpu = usage.ru_utime + usage.ru_stime
    return status, cpu, wall, int(written) // 1024 if written else usage.ru_maxrss // 1024, first


def bounded(memory_mb: int, *args: str, peak: str) -> list[str]:
    """A command line that runs `cnndsl ARGS` in a fresh Python with at most `memory_mb` of
    address space, writing its peak resident memory (VmHWM, in kB) to the file `peak` as it
    exits. (The kernel's ru_maxrss of a child counts the parent's memory at the fork, so a large
    parent, such as a test session, would inflate it; VmHWM is the process's own.)"""
    size = memory_mb * 1024 * 1024
    launcher = (
        "import atexit, re, resource, runpy, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({size}, {size}))\n"
        "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
        "def peak():\n"
        "    m = re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read())\n"
        f"    open({peak!r}, 'w').write(m.group(1) if m else '')\n"
        "atexit.register(peak)\n"
        "sys.argv = ['cnndsl'] + sys.argv[1:]\n"
        "runpy.run_module('cnndsl', run_name='__main__', alter_sys=True)\n")
    return [sys.executable, "-c", launcher, *args]


def _wait(proc: subprocess.Popen, timeout: float) -> tuple[int | None, resource.struct_rusage]:
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage
        if time.monotonic() > deadline:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = -9
            return None, usage
        time.sleep(0.02)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=HERE, help="the checkout whose cnndsl runs")
    ap.add_argument("--timeout", type=float, default=60, help="seconds before a case is killed")
    ap.add_argument("--memory", type=int, default=4096, help="MB of address space a case may have")
    ap.add_argument("--only", nargs="*", help="run only these cases")
    args = ap.parse_args()
    print(f"{'case':<24} {'exit':>4} {'cpu s':>7} {'wall s':>7} {'peak MB':>8}  first line")
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            if args.only and case.name not in args.only:
                continue
            made = case.make()
            path = made if isinstance(made, Path) else Path(tmp) / f"{case.name}.arch"
            if not isinstance(made, Path):
                path.write_text(made)
            status, cpu, wall, rss, first = measure(args.root.resolve(), path, args.timeout, args.memory)
            shown = "kill" if status is None else str(status)
            print(f"{case.name:<24} {shown:>4} {cpu:>7.2f} {wall:>7.2f} {rss:>8}  {first[:110]}", flush=True)


if __name__ == "__main__":
    main()
