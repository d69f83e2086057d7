"""Elaboration speed: parse + elaborate, then the static passes (shapes come with elaboration;
params, MACs, conventions, memory and receptive fields with the passes), median of 5 runs.

Run: python bench/elaborate.py   (prints a table; the goal is "well under a second" to elaborate a
ResNet-1202-sized network, n=200 blocks per stage)."""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnndsl.elaborate import build_graph  # noqa: E402
from cnndsl.passes import run_passes  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CIFAR = """
unit = conv(bias=false) -> bn -> relu
block basic(c, s=1) = residual<3x3:c/s -> conv3x3:c -> bn> shortcut=pad -> relu
network resnet(n=18) : 3x32x32 =
  3x3:16 -> basic(16)*n -> basic(32, s=2) -> basic(32)*(n-1) -> basic(64, s=2) -> basic(64)*(n-1)
  -> gap -> fc:10
"""


def timed(fn, repeat=5):
    fn()  # warm: the grammar is compiled once per process
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cifar = Path(tmp) / "cifar_resnet.arch"
        cifar.write_text(CIFAR)
        cases = [(f"CIFAR ResNet-{6 * n + 2}", cifar, {"n": n}) for n in (3, 18, 200)]
        cases += [(p.stem, p, {}) for p in (ROOT / "archs" / "googlenet.arch", ROOT / "archs" / "resnet50.arch")]
        cases += [("resnet152", ROOT / "archs" / "resnet.arch", {"depth": 152})]
        print(f"{'network':<22} {'nodes':>7} {'elaborate s':>12} {'passes s':>9} {'us/node':>8}")
        for name, path, params in cases:
            elab, graph = timed(lambda: build_graph(path, params))
            passes, _ = timed(lambda: run_passes(graph))
            per_node = 1e6 * (elab + passes) / len(graph)
            print(f"{name:<22} {len(graph):>7} {elab:>12.3f} {passes:>9.3f} {per_node:>8.1f}")


if __name__ == "__main__":
    main()
