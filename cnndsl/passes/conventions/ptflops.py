"""ptflops get_model_complexity_info (pytorch backend, 0.7.x defaults): MACs with bias, norms, activations, pooling.

ptflops counts with forward hooks on known `nn` module classes and, by default
(`count_functional=True`), also by patching a few `torch.nn.functional` and tensor functions for
the duration of the forward pass. A module whose `forward` calls a patched function is counted
twice: `nn.ReLU` (hook: output elements, patched F.relu: input elements), and every pooling module
(hook: input elements, patched F.max_pool2d/avg_pool2d/adaptive_avg_pool2d: input elements again).
Conv and linear add one per bias element; affine batch norm counts 2 per element. `nn.Tanh`,
`nn.Sigmoid`, dropout and cnndsl's own merge modules (which use `+`, `*`, `torch.cat`, `torch.stack`)
are not known and count 0. Of the newer activations, `nn.ReLU6` and `nn.LeakyReLU` have a hook (1 per
element; ReLU6 calls `F.hardtanh`, not the patched `F.relu6`), `nn.SiLU` has none but calls the
patched `F.silu` (1), `nn.GELU` has both (2), and `nn.Hardswish`/`nn.Hardsigmoid` neither (0).
`nn.LayerNorm` on a vector counts 1 per element (its BN hook doubles only for a module with an
`affine` flag, which LayerNorm lacks); ConvNeXt's `LayerNorm2d` on a map is a subclass, which the
hooks (keyed by exact type) do not know, and `F.layer_norm` is not patched: 0.
`nn.LocalResponseNorm` has no hook, but its functional form calls the patched `Tensor.mul`
(twice), `Tensor.add` and `F.avg_pool3d` (on the squares padded by size-1 channels)."""
from __future__ import annotations

import math

from .base import BASE, Facts, Rule


def _lrn(f: Facts) -> int:
    c, h, w = f.out
    size: int = f.attrs.size
    return 3 * c * h * w + (c + size - 1) * h * w


def _pool(f: Facts) -> int:
    return 2 * math.prod(f.ins[0])


TABLE: dict[str, Rule] = {
    **BASE,
    "conv": lambda f: f.macs + f.bias,
    "fc": lambda f: f.macs + f.bias,
    "bn": lambda f: 2 * math.prod(f.out),
    "relu": lambda f: 2 * math.prod(f.out),
    "maxpool": _pool,
    "avgpool": _pool,
    "adaptive_avgpool": _pool,
    "gap": _pool,
    "lrn": _lrn,
    "relu6": lambda f: math.prod(f.out),
    "leaky_relu": lambda f: math.prod(f.out),
    "silu": lambda f: math.prod(f.out),
    "gelu": lambda f: 2 * math.prod(f.out),
    "ln": lambda f: math.prod(f.out) if len(f.out) == 1 else 0,
}
