"""The compiled module against torchvision's: forward+backward time and training memory.

For ResNet-50, GoogLeNet and DenseNet-121 (batch 8, 224x224, CPU): the median of ROUNDS rounds of a
forward and backward pass, ours and torchvision's alternated within each round (their order
swapped every round, so drift in the machine's speed hits both alike), in training and in
evaluation mode; and the bytes autograd keeps for backward in one training step (saved-tensor
hooks, each storage once). The goals: time ratio <= 1.02 and memory ratio <= 1.00.

Run: python bench/module.py [--rounds 7] [--batch 8] [--threads N]   (prints a table)
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torchvision  # noqa: E402

import cnndsl  # noqa: E402
from cnndsl.measure import saved_tensor_bytes  # noqa: E402

MODELS = {  # ours (file, params), torchvision's builder
    "ResNet-50": ("resnet50.arch", {}, lambda: torchvision.models.resnet50()),
    "GoogLeNet": ("googlenet.arch", {}, lambda: torchvision.models.googlenet(aux_logits=False, init_weights=True)),
    "DenseNet-121": ("densenet121.arch", {}, lambda: torchvision.models.densenet121()),
}


def step_seconds(model: torch.nn.Module, x: torch.Tensor) -> float:
    t = time.perf_counter()
    out = model(x)
    out.sum().backward()
    elapsed = time.perf_counter() - t
    model.zero_grad(set_to_none=True)
    return elapsed


def compare(name: str, rounds: int, batch: int) -> list[str]:
    arch, params, builder = MODELS[name]
    torch.manual_seed(0)
    ours, theirs = cnndsl.load(ROOT / "archs" / arch, **params), builder()
    x = torch.randn(batch, 3, 224, 224)
    rows = []
    for mode in ("train", "eval"):
        ours.train(mode == "train"), theirs.train(mode == "train")
        for m in (ours, theirs):  # warm-up: allocator, kernels' first calls
            step_seconds(m, x)
        times: dict[str, list[float]] = {"ours": [], "theirs": []}
        for r in range(rounds):
            pair = [("ours", ours), ("theirs", theirs)]
            for key, m in pair if r % 2 == 0 else reversed(pair):
                times[key].append(step_seconds(m, x))
        a, b = statistics.median(times["ours"]), statistics.median(times["theirs"])
        rows.append(f"| {name} | {mode} | {a * 1e3:,.0f} | {b * 1e3:,.0f} | {a / b:.3f} |")
    memory = [sum(saved_tensor_bytes(m, x).values()) for m in (ours, theirs)]
    rows.append(f"| {name} | saved for backward (MB) | {memory[0] / 1e6:,.1f} | {memory[1] / 1e6:,.1f} | "
                f"{memory[0] / memory[1]:.3f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"batch {args.batch}, 224x224, CPU, {args.threads} threads, median of {args.rounds} rounds; "
          f"torch {torch.__version__}, torchvision {torchvision.__version__}\n")
    print("| network | forward+backward | cnndsl (ms) | torchvision (ms) | ratio |")
    print("|---|---|---:|---:|---:|")
    for name in args.models:
        for row in compare(name, args.rounds, args.batch):
            print(row, flush=True)


if __name__ == "__main__":
    main()
