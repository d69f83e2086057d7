"""Normalisation, activations, dropout and flatten: one input, no MACs in the conv/linear sense."""
from __future__ import annotations

from .base import Attrs, Lowering, NoAttrs, OpDef, OpError, fmt, numel


def same(a, ins):
    return ins[0]


class BnAttrs(Attrs):
    eps: float = 1e-5
    momentum: float = 0.1


def _bn_shape(a, ins):
    if len(ins[0]) != 3:
        raise OpError(f"bn needs a CxHxW feature map, got {fmt(ins[0])}")
    return ins[0]


BN = OpDef(
    name="bn", category="norm", attrs=BnAttrs, positional=("eps",), shape=_bn_shape,
    label=lambda a: "bn",
    params=lambda a, ins, out: 2 * ins[0][0],
    buffers=lambda a, ins, out: 2 * ins[0][0] + 1,  # running mean, running var, num_batches_tracked
    lower=lambda a, ins: Lowering("nn.BatchNorm2d", dict(num_features=ins[0][0], eps=a.eps, momentum=a.momentum)),
)


class LrnAttrs(Attrs):
    size: int = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0


LRN = OpDef(
    name="lrn", category="norm", attrs=LrnAttrs, positional=("size",), shape=same,
    label=lambda a: f"lrn {a.size}",
    lower=lambda a, ins: Lowering("nn.LocalResponseNorm", dict(size=a.size, alpha=a.alpha, beta=a.beta, k=a.k)),
)


def _activation(name: str, cls: str) -> OpDef:
    return OpDef(name=name, category="act", attrs=NoAttrs, shape=same, label=lambda a: name,
                 lower=lambda a, ins: Lowering(cls))


class DropoutAttrs(Attrs):
    p: float = 0.5


DROPOUT = OpDef(
    name="dropout", category="reg", attrs=DropoutAttrs, positional=("p",), shape=same,
    label=lambda a: f"dropout {a.p:g}",
    lower=lambda a, ins: Lowering("nn.Dropout", dict(p=a.p)),
)

FLATTEN = OpDef(
    name="flatten", category="reshape", attrs=NoAttrs, shape=lambda a, ins: (numel(ins[0]),),
    label=lambda a: "flatten", lower=lambda a, ins: Lowering("nn.Flatten"),
)

OPS = [BN, LRN, DROPOUT, FLATTEN,
       _activation("relu", "nn.ReLU"), _activation("tanh", "nn.Tanh"), _activation("sigmoid", "nn.Sigmoid"),
       _activation("identity", "nn.Identity")]
