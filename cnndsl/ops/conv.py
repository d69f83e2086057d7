"""Convolution and the fully connected layer: the ops that carry weights and MACs."""
from __future__ import annotations

from typing import Any

from .base import (
    INPUT,
    Attrs,
    Category,
    Lowering,
    OffsetPair,
    OpDef,
    OpError,
    Pair,
    Saved,
    Shape,
    Size,
    SizePair,
    Window,
    fmt,
    need_map,
    numel,
    pair,
    window_out,
)


class ConvSpec(Attrs):
    """A conv as written: `conv3x3:64/2 p=0 groups=2`."""

    out: Size | None = None  # filters; None keeps the input's channel count
    k: SizePair = 3
    s: SizePair = 1
    p: OffsetPair | None = None  # None: "same" padding, k//2 on each side
    d: Size = 1
    groups: Size = 1
    bias: bool = True


class Conv(Attrs):
    """A conv completed against its input: every size a pair, the filter count known."""

    out: int
    k: Pair
    s: Pair
    p: Pair
    d: int
    groups: int
    bias: bool


def _conv_complete(a: ConvSpec, ins: list[Shape]) -> Conv:
    c = need_map(ins, "conv")[0]
    k = pair(a.k)
    p = a.p if a.p is not None else (a.d * (k[0] - 1) // 2, a.d * (k[1] - 1) // 2)
    return Conv(out=a.out if a.out is not None else c, k=k, s=pair(a.s), p=pair(p), d=a.d, groups=a.groups,
                bias=a.bias)


def _conv_shape(a: Conv, ins: list[Shape]) -> Shape:
    c, h, w = need_map(ins, "conv")
    if c % a.groups or a.out % a.groups:
        raise OpError(f"groups={a.groups} must divide both {c} input and {a.out} output channels")
    oh = window_out(h, a.k[0], a.s[0], a.p[0], a.d)
    ow = window_out(w, a.k[1], a.s[1], a.p[1], a.d)
    if oh < 1 or ow < 1:
        raise OpError(f"a {a.k[0]}x{a.k[1]} conv does not fit the {fmt(ins[0])} input")
    return (a.out, oh, ow)


def _conv_label(a: Conv) -> str:
    k = f"{a.k[0]}x{a.k[1]}"
    s = f"/{a.s[0]}" if a.s != (1, 1) else ""
    g = f" g{a.groups}" if a.groups > 1 else ""
    return f"conv {k}{s}, {a.out}{g}"


def _conv_params(a: Conv, ins: list[Shape], out: Shape) -> int:
    return a.out * ins[0][0] // a.groups * a.k[0] * a.k[1] + (a.out if a.bias else 0)


def _conv_macs(a: Conv, ins: list[Shape], out: Shape) -> int:
    return numel(out) * ins[0][0] // a.groups * a.k[0] * a.k[1]


def _bias_adds(a: Any, ins: list[Shape], out: Shape) -> dict[str, int]:
    return {"bias": numel(out)} if a.bias else {}  # one add per output element


CONV = OpDef(
    name="conv", category=Category.CONV, attrs=ConvSpec, positional=("out", "k", "s", "p"), kernel_sugar=True,
    complete=_conv_complete, shape=_conv_shape, label=_conv_label, params=_conv_params, macs=_conv_macs,
    lower=lambda a, ins: Lowering(
        "nn.Conv2d", dict(in_channels=ins[0][0], out_channels=a.out, kernel_size=a.k, stride=a.s, padding=a.p,
                          dilation=a.d, groups=a.groups, bias=a.bias),
        positional=3, defaults=dict(stride=(1, 1), padding=(0, 0), dilation=1, groups=1, bias=True)),
    other_ops=_bias_adds,
    window=lambda a, ins, out: Window(a.k, a.s, a.p, (a.d, a.d)),
    saved=lambda a, ins, out: (INPUT,),  # convolution_backward needs the input (and the weight)
)


class LinearAttrs(Attrs):
    out: Size
    bias: bool = True


def _fc_shape(a: LinearAttrs, ins: list[Shape]) -> Shape:
    if len(ins[0]) != 1:  # the elaborator inserts a flatten; this guards direct graph edits
        raise OpError(f"fc needs a vector input, got {fmt(ins[0])}", help="add `flatten` before it")
    return (a.out,)


FC = OpDef(
    name="fc", category=Category.LINEAR, attrs=LinearAttrs, positional=("out",),
    shape=_fc_shape, label=lambda a: f"fc {a.out}",
    params=lambda a, ins, out: ins[0][0] * a.out + (a.out if a.bias else 0),
    macs=lambda a, ins, out: ins[0][0] * a.out,
    lower=lambda a, ins: Lowering("nn.Linear", dict(in_features=ins[0][0], out_features=a.out, bias=a.bias),
                                  positional=2, defaults=dict(bias=True)),
    other_ops=lambda a, ins, out: {"bias": a.out} if a.bias else {},
    saved=lambda a, ins, out: (INPUT,),  # addmm/mm keep the input (and the weight)
)


# LeNet-5's output layer (LeCun et al. 1998, Eq. 7): unit i computes sum_j (x_j - w_ij)^2, the
# squared distance to a fixed prototype. The prototypes are chosen, not trained: buffers, not params.
RBF = OpDef(
    name="rbf", category=Category.LINEAR, attrs=LinearAttrs, positional=("out",),
    shape=_fc_shape, label=lambda a: f"rbf {a.out}",
    buffers=lambda a, ins, out: ins[0][0] * a.out,
    # No MACs: the conv/linear convention counts matrix products, which is what FlopCounterMode sees;
    # a squared distance is a subtraction, a square and a sum per (input, prototype) pair.
    other_ops=lambda a, ins, out: {"add": 2 * ins[0][0] * a.out},
    lower=lambda a, ins: Lowering("RBF", dict(in_features=ins[0][0], out_features=a.out), positional=2),
    saved=lambda a, ins, out: (Saved("own", elements=ins[0][0] * a.out),),  # (x - w) ** 2 keeps x - w
)

OPS = [CONV, FC, RBF]
