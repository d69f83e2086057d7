"""What every layer type declares, in one place: attributes, shape rule, counts, lowering, label.

An `OpDef` is a row of a table, not a class hierarchy: the analysis passes, the PyTorch backend,
the Python-source backend and the diagram all read the same row, so they cannot drift apart.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import field
from enum import StrEnum
from typing import Annotated, Any, ClassVar, dataclass_transform

from ..records import record
from .schema import Bound, Schema, to_json

Shape = tuple[int, ...]  # one sample: (C, H, W) for feature maps, (F,) for vectors
Pair = tuple[int, int]  # (h, w)

# What a `.arch` file may write, checked when a layer is made (a located error names the limit).
MAX_SIZE = 2**63 - 1  # sizes must fit the 64-bit integers PyTorch and ONNX store them in
Size = Annotated[int, Bound(ge=1, le=MAX_SIZE)]  # channels, features, kernels, strides, windows
Offset = Annotated[int, Bound(ge=0, le=MAX_SIZE)]  # padding, channel numbers
SizePair = Size | tuple[Size, Size]  # `k=3` or `k=(1, 7)`
OffsetPair = Offset | tuple[Offset, Offset]
Probability = Annotated[float, Bound(ge=0, le=1)]
Positive = Annotated[float, Bound(gt=0)]  # an epsilon


class Category(StrEnum):
    """What kind of layer an op is. The elaborator, the diagram (colours, folding) and the reports
    dispatch on these, never on op names or strings; the named sets below say which do what."""

    CONV = "conv"
    POOL = "pool"
    NORM = "norm"
    ACT = "act"
    LINEAR = "linear"
    MERGE = "merge"
    RESHAPE = "reshape"
    REG = "reg"  # regularisation: dropout, drop-path
    SHORTCUT = "shortcut"


# A layer of these categories takes a vector: the elaborator flattens a feature map before it.
TAKES_VECTOR = frozenset({Category.LINEAR})
# Drawn in a colour of their own; the rest share "other".
OWN_COLOUR = frozenset({Category.CONV, Category.POOL, Category.NORM, Category.ACT, Category.LINEAR, Category.MERGE})
# Folding in diagrams: a layer of FOLDABLE_AFTER may be drawn inside the box of an AFTER_HOSTS
# layer it follows ("conv + bn, relu"); one of FOLDABLE_BEFORE inside a BEFORE_HOSTS layer it leads
# into ("bn, relu > conv", pre-activation; dropout acts on its input).
FOLDABLE_AFTER = frozenset({Category.NORM, Category.ACT})
AFTER_HOSTS = frozenset({Category.CONV, Category.LINEAR, Category.MERGE})
FOLDABLE_BEFORE = frozenset({Category.NORM, Category.ACT, Category.REG, Category.RESHAPE})
BEFORE_HOSTS = frozenset({Category.CONV, Category.LINEAR})


class OpError(Exception):
    """A rule refused its inputs; the elaborator adds the source location."""

    def __init__(self, message: str, details: list[str] | None = None, help: str | None = None):
        super().__init__(message)
        self.details = details or []
        self.help = help


@dataclass_transform(frozen_default=True, kw_only_default=True)
class Attrs:
    """An op's attributes: a frozen dataclass whose annotations say what may be written (see
    `schema`). Ops whose defaults depend on the input have two types: the written phase
    (`ConvSpec`: what the text said, optional or int-or-pair) that `OpDef.attrs` checks, and the
    completed phase (`Conv`: pairs, channels known) that `OpDef.complete` returns and every rule and
    lowering reads. Other ops have one type for both. Each subclass is made a dataclass here, so a
    row declares its attributes as plain annotated fields."""

    _schema: ClassVar[Schema | None] = None  # built when the class is first checked

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._schema = None
        record(cls, kw_only=True)

    @classmethod
    def schema(cls) -> Schema:
        if cls._schema is None:
            cls._schema = Schema(cls)
        return cls._schema

    @classmethod
    def check(cls, values: dict[str, Any]) -> Attrs:
        """The attributes a text wrote, checked and converted (`3.0` -> 3, a list -> a tuple);
        raises `schema.Invalid` with pydantic-shaped problems, in field order."""
        return cls(**cls.schema().check(values))

    def to_json(self) -> dict[str, Any]:
        """The attributes as JSON data (the report's `attrs`)."""
        return {name: to_json(getattr(self, name)) for name in type(self).schema().names}


class NoAttrs(Attrs):
    pass


@record
class Lowering:
    """How an op becomes PyTorch code (`cnndsl.lower` prints it; `load` runs what it printed).

    Either a module, built in `__init__` as `cls(**kwargs)` and called in `forward` (with its inputs
    as one list when `list_input`), or an expression written straight into `forward` (`inline`: the
    input expressions -> one call, e.g. `torch.cat([a, b], 1)`). The first `positional` arguments
    are written without their names, and an argument equal to its entry in `defaults` is left out,
    as a person would write them: `nn.Conv2d(64, 128, 3, stride=2, padding=1, bias=False)`."""

    cls: str = ""  # "nn.Conv2d" (torch.nn) or a helper of cnndsl.lower.runtime ("DropPath")
    kwargs: dict[str, Any] = field(default_factory=dict)
    positional: int = 0
    defaults: dict[str, Any] = field(default_factory=dict)
    inline: Callable[[list[str]], str] | None = None
    # the inline expression's in-place form (`a.add_(b)`), written where the liveness pass lets the
    # layer overwrite its first input (`OpDef.inplace`); None: the expression always allocates
    inline_inplace: Callable[[list[str]], str] | None = None
    list_input: bool = False


def zero(a: Any, ins: list[Shape], out: Shape) -> int:
    return 0


@record
class Window:
    """How an op's output positions see its input, per spatial axis (h, w), for receptive fields:
    output position u reads input positions u*s - p + i*d for i in 0..k-1. `exact=False` where the
    windows are not uniform (adaptive pooling to a size that does not divide the input); the
    largest window then stands for all of them."""

    k: tuple[int, int]
    s: tuple[int, int] = (1, 1)
    p: tuple[int, int] = (0, 0)
    d: tuple[int, int] = (1, 1)
    exact: bool = True


@record
class Saved:
    """A tensor that autograd keeps for the backward pass of an op once it is lowered to PyTorch
    (what `torch.autograd.graph.saved_tensors_hooks` sees on CPU), parameters and buffers left out.

    `what` is "input" (input number `index`), "output", or "own": a tensor of the op's own that no
    other op sees (max-pool indices, a dropout mask, batch-norm statistics) of `elements` elements
    per sample (per batch when `per_sample` is false) and `itemsize` bytes each (None: the dtype of
    the activations). `for_grad_of`: kept only when input number `for_grad_of` needs a gradient (a
    product keeps each factor for the other's gradient: `x * g` keeps nothing of g for an x that
    needs none)."""

    what: str
    index: int = 0
    elements: int = 0
    itemsize: int | None = None
    per_sample: bool = True
    for_grad_of: int | None = None


INPUT, OUTPUT = Saved("input"), Saved("output")


def no_ops(a: Any, ins: list[Shape], out: Shape) -> dict[str, int]:
    return {}


def pointwise(a: Any, ins: list[Shape], out: Shape) -> Window | None:
    return None


def saves_nothing(a: Any, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    return ()


def never(a: Any, training: bool) -> bool:
    return False


def does_something(a: Any, ins: list[Shape]) -> bool:
    return False


# The kinds of operations besides conv/linear MACs, one count per elementary operation (docs/costs.md).
OTHER_OPS = ("bias", "norm", "act", "pool", "add")


@record
class OpDef:
    name: str
    category: Category
    attrs: type[Attrs]  # what may be written; `complete` turns it into what the rules read
    shape: Callable[[Any, list[Shape]], Shape]
    lower: Callable[[Any, list[Shape]], Lowering]
    label: Callable[[Any], str]
    positional: tuple[str, ...] = ()  # attributes that positional arguments, `:x` and `/x` fill
    complete: Callable[[Any, list[Shape]], Any] = lambda a, ins: a  # written -> completed (input-dependent defaults)
    params: Callable[[Any, list[Shape], Shape], int] = zero  # trainable parameters
    buffers: Callable[[Any, list[Shape], Shape], int] = zero  # non-trainable state (BN statistics)
    macs: Callable[[Any, list[Shape], Shape], int] = zero  # conv/linear multiply-accumulates
    arity: int | None = 1  # number of inputs; None for any number >= 1 (merges)
    kernel_sugar: bool = False  # `conv3x3`, `maxpool2x2`: the name may carry the kernel size
    flattens: bool = False  # a merge that absorbs an input made by an equal merge used nowhere else
    # The cost model (cnndsl.passes: other_ops, conventions, memory, receptive_field) reads these.
    other_ops: Callable[[Any, list[Shape], Shape], dict[str, int]] = no_ops  # {kind in OTHER_OPS: count}
    window: Callable[[Any, list[Shape], Shape], Window | None] = pointwise  # None: each position sees its own
    saved: Callable[[Any, list[Shape], Shape], tuple[Saved, ...]] = saves_nothing  # kept for backward (training)
    view: Callable[[Any, bool], bool] = never  # (attrs, training) -> the output is input 0 or a view of it
    # (attrs, input shapes) -> the layer returns its input unchanged (p=0 dropout, a one-input
    # merge, a stride-1 shortcut that pads nothing): elaboration leaves such layers out
    noop: Callable[[Any, list[Shape]], bool] = does_something
    inplace: bool = False  # the module can overwrite its input (`inplace=True`) where that is dead


# ---------------------------------------------------------------- helpers shared by rules
def pair(v: int | tuple[int, ...]) -> Pair:
    if isinstance(v, int):
        return (v, v)
    return (v[0], v[1]) if len(v) == 2 else (v[0], v[0])


class NeedsMap(OpError):
    """An op that needs a CxHxW feature map got a vector; the elaborator says where it came from."""


def need_map(ins: list[Shape], what: str) -> tuple[int, int, int]:
    if len(ins[0]) != 3:
        raise NeedsMap(f"{what} needs a CxHxW feature map, got {fmt(ins[0])}")
    c, h, w = ins[0]
    return c, h, w


def window_out(size: int, k: int, s: int, p: int, d: int = 1, ceil: bool = False) -> int:
    """Output length of a sliding window, exactly as PyTorch computes it (ceil_mode included)."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= size + p:  # the last window may not start in the padding
        out -= 1
    return out


def fmt(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape)


def numel(shape: Shape) -> int:
    return math.prod(shape)
