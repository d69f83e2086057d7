"""Per-channel ops: channel selection, slices and shuffles, learnable per-channel scales, and
layer normalisation over the channels.

LeNet-5 (LeCun et al. 1998) needs selection and a scale and bias: each C3 map sees a chosen subset
of the S2 maps (its Table I), and each S2 unit multiplies its summed inputs by a trainable
coefficient and adds a trainable bias. ShuffleNetV2 splits and shuffles channels; ConvNeXt
normalises each position over its channels and scales each residual branch per channel."""
from __future__ import annotations

from .base import (
    INPUT,
    Attrs,
    Category,
    Lowering,
    Offset,
    OpDef,
    OpError,
    Positive,
    Saved,
    Shape,
    Size,
    fmt,
    need_map,
    numel,
)


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

class ChunkAttrs(Attrs):
    n: Size  # equal chunks
    i: Offset  # which one, from 0


def _chunk_range(a: ChunkAttrs, c: int) -> tuple[int, int]:
    return a.i * (c // a.n), (a.i + 1) * (c // a.n)


def _chunk_shape(a: ChunkAttrs, ins: list[Shape]) -> Shape:
    c = ins[0][0]
    if c % a.n:
        raise OpError(f"chunk({a.n}, {a.i}) needs channels that divide into {a.n} equal chunks, got {c}")
    if a.i >= a.n:
        raise OpError(f"chunk({a.n}, {a.i}): the chunk number must be 0 to {a.n - 1}, got {a.i}")
    return (c // a.n, *ins[0][1:])


def _slice(start: int, stop: int) -> Lowering:
    return Lowering(inline=lambda xs: f"{xs[0]}[:, {start}:{stop}]")  # a view: no copy, nothing kept


# `chunk(n, i)`: the i-th of n equal channel chunks (torch.chunk's piece i), one output per use, so
# ShuffleNetV2's `x1, x2 = x.chunk(2, 1)` is `(chunk(2, 0) | chunk(2, 1) -> branch)`.
CHUNK = OpDef(
    name="chunk", category=Category.RESHAPE, attrs=ChunkAttrs, positional=("n", "i"), shape=_chunk_shape,
    label=lambda a: f"chunk {a.i} of {a.n}", view=lambda a, training: True,
    lower=lambda a, ins: _slice(*_chunk_range(a, ins[0][0])),
)


class SplitAttrs(Attrs):
    start: Offset  # the first channel
    size: Size  # how many


def _split_shape(a: SplitAttrs, ins: list[Shape]) -> Shape:
    c = ins[0][0]
    if a.start + a.size > c:
        raise OpError(f"split({a.start}, {a.size}) needs channels {a.start} to {a.start + a.size - 1}, "
                      f"but the input has {c} ({fmt(ins[0])})")
    return (a.size, *ins[0][1:])


SPLIT = OpDef(
    name="split", category=Category.RESHAPE, attrs=SplitAttrs, positional=("start", "size"), shape=_split_shape,
    label=lambda a: f"split {a.start}:{a.start + a.size}", view=lambda a, training: True,
    lower=lambda a, ins: _slice(a.start, a.start + a.size),
)


class ShuffleAttrs(Attrs):
    groups: Size


def _shuffle_shape(a: ShuffleAttrs, ins: list[Shape]) -> Shape:
    c = need_map(ins, "shuffle")[0]
    if c % a.groups:
        raise OpError(f"shuffle({a.groups}) needs channels divisible by {a.groups}, got {c}")
    return ins[0]


# ShuffleNet's channel shuffle, as torchvision's `channel_shuffle`: view as groups x C/groups,
# transpose, copy into a new tensor (the output; backward keeps nothing), view back.
SHUFFLE = OpDef(
    name="shuffle", category=Category.RESHAPE, attrs=ShuffleAttrs, positional=("groups",), shape=_shuffle_shape,
    label=lambda a: f"shuffle {a.groups}",
    lower=lambda a, ins: Lowering("ChannelShuffle", dict(groups=a.groups), positional=1),
    noop=lambda a, ins: a.groups in (1, ins[0][0]),  # one group, or one channel per group: x itself
)


class LnAttrs(Attrs):
    eps: Positive = 1e-5


def _ln_saved(a: LnAttrs, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    # layer_norm keeps its input and the mean and inverse std of each position (H x W per sample)
    return (INPUT, Saved("own", elements=2 * numel(out[1:])))


def _ln_lower(a: LnAttrs, ins: list[Shape]) -> Lowering:
    cls = "LayerNorm2d" if len(ins[0]) == 3 else "nn.LayerNorm"
    return Lowering(cls, dict(normalized_shape=ins[0][0], eps=a.eps), positional=1, defaults=dict(eps=1e-5))


# Layer normalisation over the channels of each position (ConvNeXt's LayerNorm2d on a CxHxW map,
# plain LayerNorm on a vector), with a learned scale and shift per channel.
LN = OpDef(
    name="ln", category=Category.NORM, attrs=LnAttrs, positional=("eps",), shape=lambda a, ins: ins[0],
    label=lambda a: "ln", lower=_ln_lower,
    params=lambda a, ins, out: 2 * ins[0][0],
    # per element: a sum and a sum of squares for the statistics (3), normalise (2), scale and shift (2)
    other_ops=lambda a, ins, out: {"norm": 7 * numel(out)},
    saved=_ln_saved,
)


class LayerScaleAttrs(Attrs):
    init: float = 1e-6  # every channel's scale at initialisation


# ConvNeXt's layer scale: a learned scale per channel (a C x 1 x 1 parameter, torchvision's
# `CNBlock.layer_scale`), initialised to `init`.
LAYER_SCALE = OpDef(
    name="layer_scale", category=Category.NORM, attrs=LayerScaleAttrs, positional=("init",),
    shape=lambda a, ins: need_map(ins, "layer_scale") and ins[0], label=lambda a: "layer scale",
    params=lambda a, ins, out: ins[0][0],
    lower=lambda a, ins: Lowering("LayerScale", dict(channels=ins[0][0], init=a.init), positional=1,
                                  defaults=dict(init=1e-6)),
    other_ops=lambda a, ins, out: {"norm": numel(out)},  # one multiply per element
    saved=lambda a, ins, out: (INPUT,),  # for the scale's gradient
)

OPS = [SELECT, AFFINE, CHUNK, SPLIT, SHUFFLE, LN, LAYER_SCALE]
