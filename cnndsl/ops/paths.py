"""Ops that drop paths in training: stochastic depth and FractalNet's join.

Both are identities for shapes, parameters and MACs; they differ between training and evaluation,
which is what the lowering's module implements (see `cnndsl.lower.runtime`)."""
from __future__ import annotations

from typing import Annotated, Literal

from ..records import record
from .base import Attrs, Category, Lowering, OpDef, OpError, Saved, Shape, numel
from .merge import _equal_shape
from .schema import Bound


@record
class LinearDecay:
    """Huang et al. 2016, Eq. (4): the l-th of the network's L drop-path layers survives training
    with probability p_l = 1 - l/L (1 - p_L). Written `linear_decay(p_L)` in a `.arch` file; the
    elaborator numbers the layers in execution order once the whole network exists."""

    last: float

    def at(self, l: int, total: int) -> float:
        return 1 - l / total * (1 - self.last)

    def __str__(self) -> str:
        return f"linear_decay({self.last:g})"


def linear_decay(last: object) -> LinearDecay:
    if isinstance(last, bool) or not isinstance(last, (int, float)) or not 0 < last <= 1:
        raise ValueError(f"p_L must be a probability in (0, 1], got {last!r}")
    return LinearDecay(float(last))


class DropPathAttrs(Attrs):
    survive: float | LinearDecay = 1.0  # probability that the path is kept in training
    mode: Literal["batch", "row"] = "batch"  # one draw per mini-batch (the paper) or per sample
    # where the 1/p of the expectation goes: "eval" multiplies by p at test time (Huang et al. 2016),
    # "train" divides the kept paths by p in training and is the identity at test time (torchvision)
    scale: Literal["eval", "train"] = "eval"
    rule: str | None = None  # how `survive` was derived, e.g. "linear_decay(0.5), 3 of 54"


def _droppath_shape(a: DropPathAttrs, ins: list[Shape]) -> Shape:
    if not isinstance(a.survive, LinearDecay) and not 0 < a.survive <= 1:
        raise OpError(f"a survival probability must be in (0, 1], got {a.survive:g}")
    return ins[0]


def _droppath_label(a: DropPathAttrs) -> str:
    if isinstance(a.survive, LinearDecay):
        return f"droppath {a.survive}"
    mode = "".join(f" {w}" for w, default in ((a.mode, "batch"), (a.scale, "eval")) if w != default)
    return f"droppath p={a.survive:.4g}{mode}" + (f" ({a.rule})" if a.rule else "")


def _droppath_lower(a: DropPathAttrs, ins: list[Shape]) -> Lowering:
    if isinstance(a.survive, LinearDecay):  # the elaborator resolves every rule; a graph edit may not
        raise OpError(f"droppath {a.survive} was never resolved to a probability")
    return Lowering("DropPath", dict(survive=a.survive, mode=a.mode, rank=len(ins[0]), scale=a.scale), positional=1,
                    defaults=dict(mode="batch", rank=3, scale="eval"))


# Stochastic depth (Huang et al. 2016): training keeps the path with probability `survive`
# (else zeros); evaluation scales it by `survive`, its expected value. With `scale=train`
# (torchvision's StochasticDepth) training divides a kept path by `survive` and evaluation passes
# it on. `residual<...> survive=p` puts one on the residual branch before the add.
DROPPATH = OpDef(
    name="droppath", category=Category.REG, attrs=DropPathAttrs, positional=("survive",),
    shape=_droppath_shape, label=_droppath_label, lower=_droppath_lower,
    noop=lambda a, ins: a.survive == 1,
    # training multiplies by a 0/1 draw (kept for backward): one per batch, or one per sample
    saved=lambda a, ins, out: (Saved("own", elements=1, per_sample=a.mode == "row"),),
    # evaluation returns x itself when nothing scales it there
    view=lambda a, training: not training and (a.survive == 1 or a.scale == "train"),
)


class JoinAttrs(Attrs):
    drop: Annotated[float, Bound(ge=0, lt=1)] = 0.0  # local drop-path: probability that an input is dropped


# FractalNet's join (Larsson et al. 2017): the element-wise mean of its inputs. In training each
# input is dropped with probability `drop`, at least one is kept, and the mean is over those kept.
# A join that feeds only another join is absorbed by it (`flattens`), so the recursive rule
# f_{C+1} = join(f_C -> f_C | conv) gives the paper's joins of up to C columns.
JOIN = OpDef(
    name="join", category=Category.MERGE, attrs=JoinAttrs, positional=("drop",), arity=None, flattens=True,
    shape=_equal_shape("join"), label=lambda a: "join" + (f" drop {a.drop:g}" if a.drop else ""),
    lower=lambda a, ins: Lowering("Join", dict(drop=a.drop, rank=len(ins[0])), defaults=dict(drop=0.0, rank=3),
                                  list_input=True),
    noop=lambda a, ins: len(ins) == 1,
    other_ops=lambda a, ins, out: {"add": len(ins) * numel(out)},  # as `mean`: n-1 adds and a scale
    # training with drop-path weighs the stacked inputs by their 0/1 draws and divides by the
    # number kept: autograd keeps both (one per input, and one per batch)
    saved=lambda a, ins, out: (Saved("own", elements=len(ins) + 1, per_sample=False),) if a.drop else (),
)

OPS = [DROPPATH, JOIN]
