"""Elaboration speed: parse + elaborate, then the static passes (shapes come with elaboration;
params, MACs, conventions, memory and receptive fields with the passes), median of 5 runs.

Run: python bench/elaborate.py   (prints a table; the goal is "well under a second" to elaborate a
ResNet-1202-sized network, n=200 blocks per stage)."""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnndsl.elaborate import build_graph  # noqa: E402
from cnndsl.passes import run_passes  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, repeat=5):
    fn()  # warm: the grammar is compiled once per process
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    archs = ROOT / "archs"
    cases = [(f"CIFAR ResNet-{d}", archs / "resnet_cifar.arch", {"depth": d}) for d in (20, 110, 1202)]
    cases += [(p.stem, p, {}) for p in (archs / "googlenet.arch", archs / "resnet50.arch")]
    cases += [("resnet152", archs / "resnet.arch", {"depth": 152}), ("densenet201", archs / "densenet201.arch", {})]
    print(f"{'network':<22} {'nodes':>7} {'elaborate s':>12} {'passes s':>9} {'us/node':>8}")
    for name, path, params in cases:
        elab, graph = timed(lambda path=path, params=params: build_graph(path, params))
        passes, _ = timed(lambda graph=graph: run_passes(graph))
        per_node = 1e6 * (elab + passes) / len(graph)
        print(f"{name:<22} {len(graph):>7} {elab:>12.3f} {passes:>9.3f} {per_node:>8.1f}")


if __name__ == "__main__":
    main()
