"""Normalisation, activations, dropout and flatten: one input, no MACs in the conv/linear sense."""
from __future__ import annotations

from typing import Any

from .base import (
    INPUT,
    OUTPUT,
    Attrs,
    Category,
    Lowering,
    NoAttrs,
    OpDef,
    Positive,
    Probability,
    Saved,
    Shape,
    Size,
    Window,
    need_map,
    numel,
)


def same(a: Any, ins: list[Shape]) -> Shape:
    return ins[0]


class BnAttrs(Attrs):
    eps: Positive = 1e-5
    momentum: Probability = 0.1


def _bn_shape(a: BnAttrs, ins: list[Shape]) -> Shape:
    return need_map(ins, "bn")


BN = OpDef(
    name="bn", category=Category.NORM, attrs=BnAttrs, positional=("eps",), shape=_bn_shape,
    label=lambda a: "bn",
    params=lambda a, ins, out: 2 * ins[0][0],
    buffers=lambda a, ins, out: 2 * ins[0][0] + 1,  # running mean, running var, num_batches_tracked
    lower=lambda a, ins: Lowering("nn.BatchNorm2d", dict(num_features=ins[0][0], eps=a.eps, momentum=a.momentum),
                                  positional=1, defaults=dict(eps=1e-5, momentum=0.1)),
    other_ops=lambda a, ins, out: {"norm": 2 * numel(out)},  # inference: a scale and a shift per element
    # training keeps the input and the batch mean and inverse std of each channel
    saved=lambda a, ins, out: (INPUT, Saved("own", elements=2 * out[0], per_sample=False)),
)


class LrnAttrs(Attrs):
    size: Size = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0


def _lrn_saved(a: LrnAttrs, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    """F.local_response_norm keeps the input, its squares padded by size-1 channels (avg_pool3d),
    the normaliser before and after the power (pow, div)."""
    c, h, w = out
    return (INPUT, Saved("own", elements=(c + a.size - 1) * h * w), Saved("own", elements=2 * c * h * w))


LRN = OpDef(
    name="lrn", category=Category.NORM, attrs=LrnAttrs, positional=("size",), shape=same,
    label=lambda a: f"lrn {a.size}",
    lower=lambda a, ins: Lowering("nn.LocalResponseNorm", dict(size=a.size, alpha=a.alpha, beta=a.beta, k=a.k),
                                  positional=1, defaults=dict(alpha=1e-4, beta=0.75, k=1.0)),
    # per element: square, a (size-1)-add window sum over channels, scale, offset, power, divide
    other_ops=lambda a, ins, out: {"norm": (a.size + 4) * numel(out)},
    saved=_lrn_saved,
)


def _activation(name: str, cls: str, inplace: bool = False, keeps: Saved = OUTPUT) -> OpDef:
    """An activation without attributes. `keeps`: what its backward reads, the output (relu, tanh,
    sigmoid) or the input (relu6, silu, hardswish, hardsigmoid, gelu)."""
    if cls == "nn.Identity":  # returns its input: no work, nothing kept, no new memory; left out of graphs
        return OpDef(name=name, category=Category.ACT, attrs=NoAttrs, shape=same, label=lambda a: name,
                     lower=lambda a, ins: Lowering(cls), view=lambda a, training: True,
                     noop=lambda a, ins: True)
    return OpDef(name=name, category=Category.ACT, attrs=NoAttrs, shape=same, label=lambda a: name,
                 lower=lambda a, ins: Lowering(cls), inplace=inplace,
                 other_ops=lambda a, ins, out: {"act": numel(out)},
                 saved=lambda a, ins, out: (keeps,))


class DropoutAttrs(Attrs):
    p: Probability = 0.5  # the probability that an element is zeroed in training


DROPOUT = OpDef(
    name="dropout", category=Category.REG, attrs=DropoutAttrs, positional=("p",), shape=same,
    label=lambda a: f"dropout {a.p:g}",
    lower=lambda a, ins: Lowering("nn.Dropout", dict(p=a.p), positional=1),
    noop=lambda a, ins: a.p == 0,
    # evaluation (and p=0) returns the input itself; training on CPU multiplies by a mask of the
    # activations' dtype and keeps it (CUDA's fused kernel keeps a bool mask instead)
    view=lambda a, training: not training or a.p == 0,
    saved=lambda a, ins, out: (Saved("own", elements=numel(out)),) if a.p > 0 else (),
)

FLATTEN = OpDef(
    name="flatten", category=Category.RESHAPE, attrs=NoAttrs, shape=lambda a, ins: (numel(ins[0]),),
    label=lambda a: "flatten", lower=lambda a, ins: Lowering("nn.Flatten"),
    view=lambda a, training: True,
    window=lambda a, ins, out: Window(ins[0][1:]) if len(ins[0]) == 3 else None,  # every feature sees the whole map
)

class LeakyReluAttrs(Attrs):
    slope: float = 0.01  # the gradient for negative inputs (nn.LeakyReLU's negative_slope)


LEAKY_RELU = OpDef(
    name="leaky_relu", category=Category.ACT, attrs=LeakyReluAttrs, positional=("slope",), shape=same,
    label=lambda a: f"leaky_relu {a.slope:g}",
    lower=lambda a, ins: Lowering("nn.LeakyReLU", dict(negative_slope=a.slope), positional=1,
                                  defaults=dict(negative_slope=0.01)),
    other_ops=lambda a, ins, out: {"act": numel(out)},
    saved=lambda a, ins, out: (INPUT,),
)

# The newer activations keep their input for backward. Their in-place forms (`nn.SiLU(inplace=True)`)
# keep a copy of the input instead, so running them in place would save no training memory: their
# rows leave `inplace` off, and the lowering calls them out of place (the outputs are the same).
OPS = [BN, LRN, DROPOUT, FLATTEN, LEAKY_RELU,
       _activation("relu", "nn.ReLU", inplace=True), _activation("tanh", "nn.Tanh"),
       _activation("sigmoid", "nn.Sigmoid"),
       _activation("relu6", "nn.ReLU6", keeps=INPUT), _activation("silu", "nn.SiLU", keeps=INPUT),
       _activation("hardswish", "nn.Hardswish", keeps=INPUT),
       _activation("hardsigmoid", "nn.Hardsigmoid", keeps=INPUT), _activation("gelu", "nn.GELU", keeps=INPUT),
       _activation("identity", "nn.Identity")]
