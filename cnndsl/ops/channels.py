"""Per-channel ops: channel selection and a learnable per-channel scale and bias.

LeNet-5 (LeCun et al. 1998) needs both: each C3 map sees a chosen subset of the S2 maps (its
Table I), and each S2 unit multiplies its summed inputs by a trainable coefficient and adds a
trainable bias."""
from __future__ import annotations

from .base import INPUT, Attrs, Category, Lowering, Offset, OpDef, OpError, Saved, Shape, need_map, numel


class SelectAttrs(Attrs):
    channels: tuple[Offset, ...]


def _select_shape(a: SelectAttrs, ins: list[Shape]) -> Shape:
    c = need_map(ins, "select")[0]
    bad = [i for i in a.channels if not 0 <= i < c]
    if not a.channels or bad:
        raise OpError(f"select needs channel numbers from 0 to {c - 1}, got {list(a.channels)}")
    return (len(a.channels), *ins[0][1:])


SELECT = OpDef(
    name="select", category=Category.RESHAPE, attrs=SelectAttrs, positional=("channels",),
    shape=_select_shape, label=lambda a: "select " + ",".join(map(str, a.channels)),
    lower=lambda a, ins: Lowering("Select", dict(channels=list(a.channels)), positional=1),
    saved=lambda a, ins, out: (Saved("own", elements=len(a.channels), itemsize=8, per_sample=False),),  # int64 index
)


def _affine_shape(a: AffineAttrs, ins: list[Shape]) -> Shape:
    return need_map(ins, "affine")


class AffineAttrs(Attrs):
    pass


AFFINE = OpDef(
    name="affine", category=Category.NORM, attrs=AffineAttrs, shape=_affine_shape, label=lambda a: "affine",
    params=lambda a, ins, out: 2 * ins[0][0],
    lower=lambda a, ins: Lowering("Affine", dict(channels=ins[0][0]), positional=1),
    other_ops=lambda a, ins, out: {"norm": 2 * numel(out)},  # a scale and a shift per element, as BN
    saved=lambda a, ins, out: (INPUT,),  # x * weight keeps x for the weight's gradient
)

OPS = [SELECT, AFFINE]
