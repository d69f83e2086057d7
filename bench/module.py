"""The compiled module against torchvision's: forward+backward time and training memory.

For ResNet-50, GoogLeNet and DenseNet-121 (batch 8, 224x224, CPU): ROUNDS rounds of a forward and
backward pass, ours and torchvision's alternated within each round (their order swapped every
round, so drift in the machine's speed hits both alike), in training and in evaluation mode; and
the bytes autograd keeps for backward in one training step (saved-tensor hooks, each storage
once). Both modules hold torchvision's weights. The goals: time ratio <= 1.02 and memory ratio
<= 1.00.

The ratio is the median of the rounds' own ratios (each round's two passes ran seconds apart),
printed with its interquartile range. `--control` also times torchvision's module against a copy
of itself the same way: the spread of that ratio, which should be 1, is what this machine can
tell apart.

Run: python bench/module.py [--rounds 7] [--batch 8] [--threads N] [--control]   (prints a table)
"""
from __future__ import annotations

import argparse
import copy
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
from cnndsl.weights import load_torchvision  # noqa: E402

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


def timed_ratios(a: torch.nn.Module, b: torch.nn.Module, x: torch.Tensor, rounds: int) -> list[float]:
    """Per round, a's time over b's, the two run one after the other in alternating order."""
    for m in (a, b):  # warm-up: allocator, kernels' first calls
        step_seconds(m, x)
    ratios = []
    for r in range(rounds):
        first, second = (a, b) if r % 2 == 0 else (b, a)
        t1, t2 = step_seconds(first, x), step_seconds(second, x)
        ratios.append(t1 / t2 if first is a else t2 / t1)
    return ratios


def spread(ratios: list[float]) -> str:
    q1, median, q3 = statistics.quantiles(ratios, n=4, method="inclusive") if len(ratios) > 1 else ratios * 3
    return f"{statistics.median(ratios):.3f} | {q1:.3f} - {q3:.3f}"


def compare(name: str, rounds: int, batch: int, control: bool) -> list[str]:
    arch, params, builder = MODELS[name]
    torch.manual_seed(0)
    ours, theirs = cnndsl.load(ROOT / "archs" / arch, **params), builder()
    # The same weights in both: torchvision initialises its own (He-normal convolutions, BN at 1
    # and 0) unlike PyTorch's defaults, and values change the time: smaller weights make smaller
    # gradients, which reach the CPU's slow subnormal range in training.
    load_torchvision(ours, theirs)
    twin = copy.deepcopy(theirs) if control else None
    x = torch.randn(batch, 3, 224, 224)
    rows = []
    for mode in ("train", "eval"):
        for m in (ours, theirs, twin):
            if m is not None:
                m.train(mode == "train")
        t_ours, t_theirs = (statistics.median(_times(m, x, 3)) for m in (ours, theirs))
        rows.append(f"| {name} | {mode} | {t_ours * 1e3:,.0f} | {t_theirs * 1e3:,.0f} | "
                    f"{spread(timed_ratios(ours, theirs, x, rounds))} |")
        if twin is not None:
            rows.append(f"| {name} | {mode}, control: torchvision / torchvision | | | "
                        f"{spread(timed_ratios(twin, theirs, x, rounds))} |")
    memory = [sum(saved_tensor_bytes(m, x).values()) for m in (ours, theirs)]
    rows.append(f"| {name} | saved for backward (MB) | {memory[0] / 1e6:,.1f} | {memory[1] / 1e6:,.1f} | "
                f"{memory[0] / memory[1]:.3f} | |")
    return rows


def _times(m: torch.nn.Module, x: torch.Tensor, n: int) -> list[float]:
    return [step_seconds(m, x) for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--control", action="store_true", help="also time torchvision against a copy of itself")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"batch {args.batch}, 224x224, CPU, {args.threads} threads, {args.rounds} rounds; "
          f"torch {torch.__version__}, torchvision {torchvision.__version__}\n")
    print("| network | forward+backward | cnndsl (ms) | torchvision (ms) | ratio (median of rounds) | middle half |")
    print("|---|---|---:|---:|---:|---:|")
    for name in args.models:
        for row in compare(name, args.rounds, args.batch, args.control):
            print(row, flush=True)


if __name__ == "__main__":
    main()
