"""Pooling. A pool pads k//2 when its stride is 1 (it keeps the size, like inception's pool
branch) and 0 otherwise; `p=` overrides."""
from __future__ import annotations

import math
from collections.abc import Callable

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
    SizePair,
    Window,
    fmt,
    need_map,
    numel,
    pair,
    window_out,
)


class PoolSpec(Attrs):
    """A pool as written: `maxpool3x3/2 ceil`."""

    k: SizePair = 2
    s: SizePair | None = None  # None: stride 1
    p: OffsetPair | None = None
    ceil: bool = False


class AvgPoolSpec(PoolSpec):
    count_include_pad: bool = True


class Pool(Attrs):
    """A pool completed: window, stride and padding as pairs."""

    k: Pair
    s: Pair
    p: Pair
    ceil: bool


class AvgPool(Pool):
    count_include_pad: bool


def _complete(a: PoolSpec, ins: list[Shape]) -> Pool:
    k, s = pair(a.k), pair(a.s if a.s is not None else 1)
    p = pair(a.p if a.p is not None else ((k[0] // 2, k[1] // 2) if s == (1, 1) else 0))
    if isinstance(a, AvgPoolSpec):
        return AvgPool(k=k, s=s, p=p, ceil=a.ceil, count_include_pad=a.count_include_pad)
    return Pool(k=k, s=s, p=p, ceil=a.ceil)


def _shape(a: Pool, ins: list[Shape]) -> Shape:
    c, h, w = need_map(ins, "pooling")
    if a.p[0] > a.k[0] // 2 or a.p[1] > a.k[1] // 2:
        raise OpError(f"pool padding {a.p} is more than half the {a.k[0]}x{a.k[1]} window")
    oh = window_out(h, a.k[0], a.s[0], a.p[0], ceil=a.ceil)
    ow = window_out(w, a.k[1], a.s[1], a.p[1], ceil=a.ceil)
    if oh < 1 or ow < 1:
        raise OpError(f"a {a.k[0]}x{a.k[1]} pool does not fit the {fmt(ins[0])} input")
    return (c, oh, ow)


def _window(a: Pool, ins: list[Shape], out: Shape) -> Window:
    return Window(a.k, a.s, a.p)


def _window_ops(a: Pool, ins: list[Shape], out: Shape) -> dict[str, int]:
    """One compare (max) or add (average) per element of each window, padding included."""
    return {"pool": numel(out) * a.k[0] * a.k[1]}


def _label(kind: str) -> Callable[[Pool], str]:
    def label(a: Pool) -> str:
        s = f"/{a.s[0]}" if a.s != (1, 1) else ""
        return f"{kind} {a.k[0]}x{a.k[1]}{s}" + (" ceil" if a.ceil else "")
    return label


MAXPOOL = OpDef(
    name="maxpool", category=Category.POOL, attrs=PoolSpec, positional=("k", "s", "p"), kernel_sugar=True,
    complete=_complete, shape=_shape, label=_label("maxpool"),
    lower=lambda a, ins: Lowering("nn.MaxPool2d", dict(kernel_size=a.k, stride=a.s, padding=a.p, ceil_mode=a.ceil),
                                  positional=1, defaults=dict(padding=(0, 0), ceil_mode=False)),
    other_ops=_window_ops, window=_window,
    # max_pool2d_with_indices keeps its input and the int64 index of every maximum
    saved=lambda a, ins, out: (INPUT, Saved("own", elements=numel(out), itemsize=8)),
)

AVGPOOL = OpDef(
    name="avgpool", category=Category.POOL, attrs=AvgPoolSpec, positional=("k", "s", "p"), kernel_sugar=True,
    complete=_complete, shape=_shape, label=_label("avgpool"),
    lower=lambda a, ins: Lowering("nn.AvgPool2d", dict(kernel_size=a.k, stride=a.s, padding=a.p, ceil_mode=a.ceil,
                                                        count_include_pad=a.count_include_pad),
                                  positional=1, defaults=dict(padding=(0, 0), ceil_mode=False, count_include_pad=True)),
    other_ops=_window_ops, window=_window, saved=lambda a, ins, out: (INPUT,),
)


class AdaptiveAttrs(Attrs):
    size: SizePair = 1


def _adaptive_shape(a: AdaptiveAttrs, ins: list[Shape]) -> Shape:
    c, _, _ = need_map(ins, "adaptive pooling")
    return (c, *pair(a.size))


def _adaptive_windows(n: int, o: int) -> list[int]:
    """Lengths of the o windows adaptive pooling lays over n positions, as PyTorch computes them."""
    return [math.ceil((i + 1) * n / o) - (i * n) // o for i in range(o)]


def _adaptive_window(a: AdaptiveAttrs, ins: list[Shape], out: Shape) -> Window:
    (_, h, w), (_, oh, ow) = ins[0], out
    exact = h % oh == 0 and w % ow == 0
    return Window((max(_adaptive_windows(h, oh)), max(_adaptive_windows(w, ow))), (max(h // oh, 1), max(w // ow, 1)),
                  exact=exact)


def _adaptive_ops(a: AdaptiveAttrs, ins: list[Shape], out: Shape) -> dict[str, int]:
    (c, h, w), (_, oh, ow) = ins[0], out
    return {"pool": c * sum(_adaptive_windows(h, oh)) * sum(_adaptive_windows(w, ow))}


def _adaptive_saved(a: AdaptiveAttrs, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    # PyTorch pools to 1x1 with `mean`, which keeps nothing; other sizes keep the input
    return () if out[1:] == (1, 1) else (INPUT,)


ADAPTIVE_AVGPOOL = OpDef(
    name="adaptive_avgpool", category=Category.POOL, attrs=AdaptiveAttrs, positional=("size",),
    shape=_adaptive_shape, label=lambda a: f"adaptive avgpool {'x'.join(map(str, pair(a.size)))}",
    lower=lambda a, ins: Lowering("nn.AdaptiveAvgPool2d", dict(output_size=pair(a.size)), positional=1),
    other_ops=_adaptive_ops, window=_adaptive_window, saved=_adaptive_saved,
)

GAP = OpDef(
    name="gap", category=Category.POOL, attrs=AdaptiveAttrs,
    shape=lambda a, ins: (need_map(ins, "global average pooling")[0], 1, 1), label=lambda a: "global avgpool",
    lower=lambda a, ins: Lowering("nn.AdaptiveAvgPool2d", dict(output_size=(1, 1)), positional=1),
    other_ops=_adaptive_ops, window=_adaptive_window, saved=_adaptive_saved,
)

OPS = [MAXPOOL, AVGPOOL, ADAPTIVE_AVGPOOL, GAP]
