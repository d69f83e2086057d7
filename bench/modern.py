"""The 2017-2022 networks' compiled modules against torchvision's: forward+backward time, with the
size of the graph each compiles from.

ShuffleNetV2 x1.0 (channel split and shuffle) and EfficientNet-B0 (SE gates, SiLU, per-sample
stochastic depth), batch 8, 224x224, CPU: bench/module.py's measurement (the median of ROUNDS
rounds, ours and torchvision's alternated, in training and evaluation mode, and the bytes kept for
backward), and the number of graph nodes (layers) and generated classes. The goal: time ratio <= 1.05.

Run: python bench/modern.py [--rounds 7] [--batch 8] [--threads N]   (prints a table)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import module as bench  # bench/module.py: its comparison, over this file's models
import torch
import torchvision

ROOT = Path(__file__).resolve().parents[1]
MODELS = {
    "ShuffleNetV2 x1.0": ("shufflenet_v2_x1_0.arch", {}, lambda: torchvision.models.shufflenet_v2_x1_0()),
    "EfficientNet-B0": ("efficientnet_b0.arch", {}, lambda: torchvision.models.efficientnet_b0()),
}


def graph_size(arch: str) -> str:
    import cnndsl
    from cnndsl.lower.python_source import generate
    graph = cnndsl.analyze(ROOT / "archs" / arch)
    classes = generate(graph)[0].count("\nclass ")
    return f"{sum(1 for _ in graph.ops())} nodes, {classes} classes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    bench.MODELS.update(MODELS)
    print(f"batch {args.batch}, 224x224, CPU, {args.threads} threads, median of {args.rounds} rounds; "
          f"torch {torch.__version__}, torchvision {torchvision.__version__}\n")
    for name, (arch, _, _) in MODELS.items():
        print(f"{name}: {graph_size(arch)}")
    print("\n| network | forward+backward | cnndsl (ms) | torchvision (ms) | ratio |")
    print("|---|---|---:|---:|---:|")
    for name in MODELS:
        for row in bench.compare(name, args.rounds, args.batch):
            print(row, flush=True)


if __name__ == "__main__":
    sys.exit(main())
