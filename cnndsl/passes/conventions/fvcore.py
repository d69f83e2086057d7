"""fvcore FlopCountAnalysis (model in eval mode): conv/linear MACs, batch norm, adaptive pooling.

fvcore counts one "flop" per multiply-accumulate of aten convolution/addmm/linear (no bias), and
has a handle for a few more aten ops: `batch_norm` in evaluation counts 2 per input element (1 if
not affine; 5 per element when traced in training mode), `adaptive_avg_pool2d` 1 per input
element, `layer_norm` 5 per input element (4 without the affine part). Everything else (max/avg
pooling, activations, adds, products, concat, LRN, shuffles, layer scale) is "unsupported" and 0.
The `gap` op runs as adaptive average pooling, so it counts; an `avgpool7x7` would not."""
from __future__ import annotations

import math

from .base import BASE, Facts, Rule


def _input_elements(f: Facts) -> int:
    return math.prod(f.ins[0])


TABLE: dict[str, Rule] = {
    **BASE,
    "conv": lambda f: f.macs,
    "fc": lambda f: f.macs,
    "bn": lambda f: 2 * math.prod(f.ins[0]),  # affine in cnndsl's lowering
    "adaptive_avgpool": _input_elements,
    "gap": _input_elements,
    "ln": lambda f: 5 * _input_elements(f),  # aten::layer_norm, on a map (LayerNorm2d) or a vector
}
