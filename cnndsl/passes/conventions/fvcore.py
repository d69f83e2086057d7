"""fvcore FlopCountAnalysis (model in eval mode): conv/linear MACs, batch norm, adaptive pooling.

fvcore counts one "flop" per multiply-accumulate of aten convolution/addmm/linear (no bias), and
has a handle for a few more aten ops: `batch_norm` in evaluation counts 2 per input element (1 if
not affine; 5 per element when traced in training mode), `adaptive_avg_pool2d` 1 per input
element. Everything else (max/avg pooling, activations, adds, concat, LRN) is "unsupported" and 0.
The `gap` op lowers to `nn.AdaptiveAvgPool2d`, so it counts; an `avgpool7x7` would not."""
from __future__ import annotations

import math

from .base import Facts, by_class

count = by_class({
    "nn.Conv2d": lambda f: f.macs,
    "nn.Linear": lambda f: f.macs,
    "nn.BatchNorm2d": lambda f: 2 * math.prod(f.ins[0]),  # affine in cnndsl's lowering
    "nn.AdaptiveAvgPool2d": lambda f: math.prod(f.ins[0]),
})
