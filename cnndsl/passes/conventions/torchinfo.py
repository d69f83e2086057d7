"""torchinfo "Total mult-adds": weight and bias parameters times output positions, per layer with parameters.

torchinfo derives mult-adds from a layer's parameters, not from its operation: a `Conv*` layer
counts (weight + bias elements) x output positions (bias included: one add per output element);
any other layer with parameters counts its parameters once per sample: a linear layer in x out + out,
and batch norm 2C (its weight and bias, not C x H x W). Layers without parameters (activations,
pooling, merges, LRN) count 0. Its rule reads parameters, so its base is "the parameters", not 0.
It counts only parameters named `weight` or `bias` (or containing those words): a layer scale,
whose one parameter is `layer_scale` (torchvision's name, kept for its weights), counts 0."""
from __future__ import annotations

import math

from .base import BASE, Facts, Rule, params, zero


def _conv(f: Facts) -> int:
    return f.params * math.prod(f.out[1:])


TABLE: dict[str, Rule] = {
    **dict.fromkeys(BASE, params),
    "conv": _conv,
    "layer_scale": zero,
}
