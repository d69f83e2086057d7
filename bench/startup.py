"""Start-up: what a person waits for when they run one command, each in a fresh process.

  * `cnndsl compile archs/resnet50.arch --json`: the whole ResNet-50 report (parse, elaborate,
    every pass, JSON), interpreter start-up included;
  * beside it, what the same question costs with the usual tools: torchinfo's `summary` of
    torchvision's ResNet-50 (import torch and torchvision, build the model, run its forward pass);
  * `cnndsl check archs/*.arch`: every file of the collection in one call.

Each command runs N times, alternating, after one warm-up run of each (the operating system's
file cache, and the bytecode: both sides run with bytecode cached under a temporary
PYTHONPYCACHEPREFIX, as an installed package does, even where the environment sets
PYTHONDONTWRITEBYTECODE). Prints the median and the best of the wall times, the median CPU
time (user + system, the measure less sensitive to a shared machine), the ratios of the medians,
and the load average before and after, since on a shared machine wall time depends on it.

`--no-pth` runs every command, both sides, as `python -S` with site-packages on PYTHONPATH: the
same modules, but no `.pth` file runs at start-up (a sandbox's certifi import in one of them costs
every Python process on this machine about 80 ms, cnndsl's or torchinfo's alike).

Run: python bench/startup.py [N] [--no-pth]   (default 7). Goals (issue 11): compile --json under 0.35 s
on 2 cores and at least 20 times faster than torchinfo; check of the collection under 2 s."""
from __future__ import annotations

import os
import site
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TORCHINFO = ("import torchvision, torchinfo; "
             "torchinfo.summary(torchvision.models.resnet50(), input_size=(1, 3, 224, 224), verbose=0)")


def commands(python: list[str]) -> dict[str, list[str]]:
    archs = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "archs").glob("*.arch"))
    return {
        "cnndsl compile archs/resnet50.arch --json": [*python, "-m", "cnndsl", "compile",
                                                      "archs/resnet50.arch", "--json"],
        "torchinfo.summary(torchvision resnet50)": [*python, "-c", TORCHINFO],
        f"cnndsl check archs/*.arch ({len(archs)} files)": [*python, "-m", "cnndsl", "check", *archs],
    }


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s of the child) of one run; the run must succeed."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv[:6])} failed:\n{err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    no_pth = "--no-pth" in sys.argv
    counts = [a for a in sys.argv[1:] if a != "--no-pth"]
    n = int(counts[0]) if counts else 7
    with tempfile.TemporaryDirectory() as pycache:
        path = [str(ROOT), *(site.getsitepackages() if no_pth else [])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path), "PYTHONPYCACHEPREFIX": pycache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cmds = commands([sys.executable, "-S"] if no_pth else [sys.executable])
        load_before = os.getloadavg()[0]
        for argv in cmds.values():
            run_once(argv, env)  # warm-up: bytecode written, files in the page cache
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in cmds}
        for _ in range(n):
            for name, argv in cmds.items():
                times[name].append(run_once(argv, env))
        load_after = os.getloadavg()[0]
    print(f"{n} runs each on {os.cpu_count()} cores, load average {load_before:.1f} before, {load_after:.1f} after"
          + (", no .pth file run (python -S, site-packages on PYTHONPATH)" if no_pth else "") + "\n")
    print(f"{'command':<48} {'median s':>9} {'best s':>7} {'CPU s':>6}")
    medians, cpus = {}, {}
    for name, runs in times.items():
        walls = [w for w, _ in runs]
        medians[name] = statistics.median(walls)
        cpus[name] = statistics.median(c for _, c in runs)
        print(f"{name:<48} {medians[name]:>9.3f} {min(walls):>7.3f} {cpus[name]:>6.2f}")
    compile_name, torchinfo_name = list(cmds)[:2]
    print(f"\ntorchinfo / cnndsl compile --json: {medians[torchinfo_name] / medians[compile_name]:.1f}x "
          f"(median wall time), {cpus[torchinfo_name] / cpus[compile_name]:.1f}x (median CPU time)")


if __name__ == "__main__":
    main()
