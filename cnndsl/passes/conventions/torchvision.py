"""torchvision "GFLOPS" (weights meta `_ops`): conv and linear multiply-accumulates, nothing else.

torchvision publishes `FlopCounterMode` FLOPs / 2 rounded to 3 decimals of G. Bias, batch norm,
activations, pooling and merges are not in it. It is cnndsl's `macs`."""
from __future__ import annotations

from .base import Facts


def count(f: Facts) -> int:
    return f.macs
