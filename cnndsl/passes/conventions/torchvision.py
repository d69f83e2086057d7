"""torchvision "GFLOPS" (weights meta `_ops`): conv and linear multiply-accumulates, nothing else.

torchvision publishes `FlopCounterMode` FLOPs / 2 rounded to 3 decimals of G. Bias, batch norm,
activations, pooling and merges are not in it. It is cnndsl's `macs`, for every op."""
from __future__ import annotations

from .base import BASE, Facts, Rule


def _macs(f: Facts) -> int:
    return f.macs


TABLE: dict[str, Rule] = dict.fromkeys(BASE, _macs)
