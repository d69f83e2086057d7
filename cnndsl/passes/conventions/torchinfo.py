"""torchinfo "Total mult-adds": weight and bias parameters times output positions, per layer with parameters.

torchinfo derives mult-adds from a layer's parameters, not from its operation: a `Conv*` layer
counts (weight + bias elements) x output positions (bias included: one add per output element);
any other layer with parameters counts its parameters once per sample: a linear layer in x out + out,
and batch norm 2C (its weight and bias, not C x H x W). Layers without parameters (activations,
pooling, merges, LRN) count 0."""
from __future__ import annotations

import math

from .base import Facts


def count(f: Facts) -> int:
    if "Conv" in f.cls:
        return f.params * math.prod(f.out[1:])
    return f.params
