"""torch.utils.flop_counter.FlopCounterMode: FLOPs = 2 x conv/linear MACs; bias, norms, pooling 0.

It counts aten convolution and matrix-multiply ops (addmm: only the product) at 2 FLOPs per
multiply-accumulate; element-wise ops, pooling, batch norm and local response norm have no
formula and count 0."""
from __future__ import annotations

from .base import BASE, Rule

TABLE: dict[str, Rule] = {
    **BASE,
    "conv": lambda f: 2 * f.macs,
    "fc": lambda f: 2 * f.macs,
}
