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
