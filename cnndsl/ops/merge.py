"""Ops that join several tensors, and the shortcuts that feed them."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import Attrs, Category, Lowering, NoAttrs, OpDef, OpError, Saved, Shape, Size, Window, fmt, numel


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
    # `a + b` is what a person writes (the residual add), `a.add_(b)` where `a` is dead after it, as
    # torchvision's `out += identity` (no new tensor per block); three or more go through one module
    if len(ins) != 2:
        return Lowering("Sum", list_input=True)
    return Lowering(inline=" + ".join, inline_inplace=lambda xs: f"{xs[0]}.add_({xs[1]})")


CONCAT = OpDef(name="concat", category=Category.MERGE, attrs=NoAttrs, arity=None, shape=_concat_shape,
               label=lambda a: "concat", noop=one_input,
               lower=lambda a, ins: Lowering(inline=lambda xs: f"torch.cat([{', '.join(xs)}], 1)"))
ADD = OpDef(name="add", category=Category.MERGE, attrs=NoAttrs, arity=None, shape=_equal_shape("add"),
            label=lambda a: "add", lower=_add_lowering, noop=one_input, inplace=True,
            other_ops=lambda a, ins, out: {"add": (len(ins) - 1) * numel(out)})
MEAN = OpDef(name="mean", category=Category.MERGE, attrs=NoAttrs, arity=None, shape=_equal_shape("mean"),
             label=lambda a: "mean", lower=lambda a, ins: Lowering("Mean", list_input=True), noop=one_input,
             other_ops=lambda a, ins, out: {"add": len(ins) * numel(out)})  # n-1 adds and a scale per element


def _gates(s: Shape, full: Shape) -> bool:
    """`s` is a per-channel gate of the map `full`: Cx1x1 (a 1x1 conv's output) or C (an fc's)."""
    return len(full) == 3 and s in ((full[0], 1, 1), (full[0],))


def _mul_shape(a: NoAttrs, ins: list[Shape]) -> Shape:
    full = max(ins, key=lambda s: (len(s), numel(s)))
    if len(ins) > 2 or any(s != full and not _gates(s, full) for s in ins):
        raise OpError("mul needs two inputs of equal shape, or a map and a per-channel gate of its channels",
                      details=[f"inputs are {', '.join(fmt(s) for s in ins)}"],
                      help=f"a gate of a {fmt(full)} map is {full[0]}x1x1 or {full[0]}" if len(full) == 3 else None)
    return full


def _mul_lowering(a: NoAttrs, ins: list[Shape]) -> Lowering:
    # a Cx1x1 gate broadcasts over CxHxW as written; a vector gate needs a reshape, in a module
    if len({len(s) for s in ins}) == 1:
        return Lowering(inline=lambda xs: " * ".join(operand(x) for x in xs))
    return Lowering("Gate", dict(gate=[len(s) for s in ins].index(1)), positional=1, list_input=True)


def operand(expr: str) -> str:
    """`expr` as an operand of `*`: parenthesised when an operator stands outside its brackets."""
    depth = 0
    for ch in expr:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and ch in " +-*/":
            return f"({expr})"
    return expr


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

# Element-wise product, for gates (squeeze-and-excitation): `mul(identity | gap -> ... -> sigmoid)`.
# Autograd keeps each input for the other's gradient (so only where the other needs one).
MUL = OpDef(name="mul", category=Category.MERGE, attrs=NoAttrs, arity=None, shape=_mul_shape,
            label=lambda a: "mul", lower=_mul_lowering, noop=one_input,
            other_ops=lambda a, ins, out: {"add": (len(ins) - 1) * numel(out)},  # one multiply per element
            saved=lambda a, ins, out: (Saved("input", 0, for_grad_of=1), Saved("input", 1, for_grad_of=0))
            if len(ins) == 2 else ())

OPS = [CONCAT, ADD, MEAN, MUL, PAD_SHORTCUT]
