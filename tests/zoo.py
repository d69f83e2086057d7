"""The zoo, for tests that run every file: each file, its parameter count, and the smallest
convenient input it accepts.

Global average pooling before the classifier makes the image size free: a forward pass on fewer
pixels runs the same layers. Networks whose classifier fixes the input size keep their own.
Networks over 40M parameters are built on the meta device where numbers are not needed."""
from __future__ import annotations

from pathlib import Path

ARCHS = Path(__file__).resolve().parents[1] / "archs"
FILES = sorted(ARCHS.glob("*.arch"))
CIFAR = ("_cifar", "preact_resnet", "wrn", "resnext29", "resnet110_sd", "nin")
OWN_SIZE = {"lenet5", "fractalnet", "alexnet2012", "zfnet"}  # a classifier after flatten fixes the size
META_ABOVE = 40_000_000


def small_input(name: str) -> tuple[int, int, int] | None:
    if name in OWN_SIZE:
        return None
    if name.startswith("inception"):
        return (3, 75, 75)  # Inception-v3's smallest
    if name.startswith("vgg"):
        return (3, 32, 32)
    if any(tag in name for tag in CIFAR):
        return (3, 8, 8)  # three stages of 8, 4 and 2 pixels
    return (3, 64, 64)


def randomized(model, seed: int = 0):
    """`model` (materialised, e.g. `to_empty`) with random weights *and* random BN statistics, so
    that swapped running means and variances would show, without torchvision's slower
    initialisers: He-scaled uniform weights, small uniform biases, running variances in [0.5, 1.5]."""
    import math

    import torch  # here, not at the top: the static tests import this module without torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for key, t in model.state_dict().items():
            if key.endswith("num_batches_tracked"):
                t.zero_()
            elif key.endswith("running_var"):
                t.uniform_(0.5, 1.5, generator=gen)
            elif t.dim() >= 2:
                t.uniform_(-1, 1, generator=gen).mul_(math.sqrt(6 / t[0].numel()))
            else:
                t.uniform_(-0.5, 0.5, generator=gen)
    return model
