"""Ops that join several tensors, and the shortcuts that feed them."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import Attrs, Category, Lowering, NoAttrs, OpDef, OpError, Shape, Size, Window, fmt, numel


def _concat_shape(a: NoAttrs, ins: list[Shape]) -> Shape:
    first = ins[0]
    for other in ins[1:]:
        if len(other) != len(first) or other[1:] != first[1:]:
            raise OpError("concat needs inputs of equal spatial size",
                          details=[f"inputs are {', '.join(fmt(s) for s in ins)}"])
    return (sum(s[0] for s in ins), *first[1:])


def _equal_shape(kind: str) -> Callable[[Any, list[Shape]], Shape]:
    def shape(a: Any, ins: list[Shape]) -> Shape:
        if any(s != ins[0] for s in ins[1:]):
            raise OpError(f"{kind} needs inputs of equal shape",
                          details=[f"inputs are {', '.join(fmt(s) for s in ins)}"])
        return ins[0]
    return shape


def one_input(a: Any, ins: list[Shape]) -> bool:
    return len(ins) == 1


def _add_lowering(a: Any, ins: list[Shape]) -> Lowering:
    # `a + b` is what a person writes (the residual add); three or more go through one module
    return Lowering(inline=" + ".join) if len(ins) == 2 else Lowering("Sum", list_input=True)


CONCAT = OpDef(name="concat", category=Category.MERGE, attrs=NoAttrs, arity=None, shape=_concat_shape,
               label=lambda a: "concat", noop=one_input,
               lower=lambda a, ins: Lowering(inline=lambda xs: f"torch.cat([{', '.join(xs)}], 1)"))
ADD = OpDef(name="add", category=Category.MERGE, attrs=NoAttrs, arity=None, shape=_equal_shape("add"),
            label=lambda a: "add", lower=_add_lowering, noop=one_input,
            other_ops=lambda a, ins, out: {"add": (len(ins) - 1) * numel(out)})
MEAN = OpDef(name="mean", category=Category.MERGE, attrs=NoAttrs, arity=None, shape=_equal_shape("mean"),
             label=lambda a: "mean", lower=lambda a, ins: Lowering("Mean", list_input=True), noop=one_input,
             other_ops=lambda a, ins, out: {"add": len(ins) * numel(out)})  # n-1 adds and a scale per element


class PadShortcutAttrs(Attrs):
    out: Size
    s: Size = 1


def _pad_shape(a: PadShortcutAttrs, ins: list[Shape]) -> Shape:
    c, h, w = ins[0]
    if a.out < c or (a.out - c) % 2:
        raise OpError(f"a zero-padding shortcut cannot go from {c} to {a.out} channels",
                      help="option A pads the same number of zero channels on each side")
    return (a.out, (h + a.s - 1) // a.s, (w + a.s - 1) // a.s)


# He et al. 2015 option A: subsample by the stride, pad the new channels with zeros; no weights.
PAD_SHORTCUT = OpDef(
    name="pad_shortcut", category=Category.SHORTCUT, attrs=PadShortcutAttrs, positional=("out", "s"),
    shape=_pad_shape, label=lambda a: f"zero-pad shortcut /{a.s}, {a.out}",
    lower=lambda a, ins: Lowering("PadShortcut", dict(stride=a.s, pad=(a.out - ins[0][0]) // 2), positional=2),
    noop=lambda a, ins: a.s == 1 and a.out == ins[0][0],
    window=lambda a, ins, out: Window((1, 1), (a.s, a.s)),  # x[:, :, ::s, ::s]
)

OPS = [CONCAT, ADD, MEAN, PAD_SHORTCUT]
