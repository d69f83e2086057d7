"""`dense<body>` and `residual<body>` (with its shortcut policy): the body from the input, then the
input (or a shortcut made from it) concatenated or added."""
from __future__ import annotations

import math

from .. import ast
from ..diagnostics import error
from ..ir import Frame
from ..ops import OPS, OpError, fmt
from ..ops.paths import LinearDecay
from . import layers
from .attributes import Written, bare_words
from .context import Context
from .nodes import add_op, make_op, op_error
from .resolve import WORDS
from .values import Env, show

SHORTCUTS = WORDS["shortcut"]
RESIDUAL_ATTRS = ("shortcut", "survive", "droppath_mode", "droppath_scale", "shortcut_first")
_HELP = ("`residual` takes `shortcut` (" + " | ".join(SHORTCUTS) + "), `survive` (a probability or "
         "linear_decay(p_L)) with `droppath_mode` (batch | row) and `droppath_scale` (eval | train), "
         "and the flag `shortcut_first`")


def combinator(ctx: Context, e: ast.Combinator, env: Env, x: str, start: bool) -> str:
    with ctx.frame(Frame(e.kind, "", e.kind, e.span)):
        if e.kind == "dense":
            if e.second is not None or e.attrs:
                raise error("`dense<body>` takes one body and no attributes", e.span)
            body = layers.elab(ctx, e.body, env, x)
            return add_op(ctx, OPS["concat"], OPS["concat"].attrs(), [x, body], e.span)
        return residual(ctx, e, env, x)


def residual_attrs(ctx: Context, e: ast.Combinator, env: Env) -> tuple[str, Written, bool]:
    """`shortcut=` (auto | identity | proj | pad); `survive=` with `droppath_mode=` and
    `droppath_scale=` (the stochastic depth on the branch, written as its droppath's `survive`,
    `mode` and `scale`); the flag `shortcut_first`."""
    mode, droppath, first = "auto", Written(e.span, {"survive": 1.0}), False
    for attr in e.attrs:
        if attr.name not in RESIDUAL_ATTRS or (attr.value is None) != (attr.name == "shortcut_first"):
            raise error(_HELP, attr.span)
        if attr.value is None:
            first = True
        elif attr.name == "shortcut":
            mode = word(ctx, attr.value, env, SHORTCUTS)
        else:
            key = attr.name.removeprefix("droppath_")
            words = bare_words(OPS["droppath"], key)
            droppath.put(key, word(ctx, attr.value, env, words) if words else ctx.ev.eval(attr.value, env), attr.span)
    return mode, droppath, first


def residual(ctx: Context, e: ast.Combinator, env: Env, x: str) -> str:
    mode, droppath, shortcut_first = residual_attrs(ctx, e, env)
    g = ctx.graph
    body_start = len(g)
    body = layers.elab(ctx, e.body, env, x)
    if droppath.values["survive"] not in (1, LinearDecay(1.0)):  # stochastic depth on the residual branch
        body = make_op(ctx, OPS["droppath"], droppath, [body], e.span)
    shortcut_start = len(g)
    shortcut = _shortcut(ctx, e, env, x, mode, body)
    if shortcut_first:
        g.run_first(body_start, shortcut_start)
    if g[body].shape != g[shortcut].shape:
        raise op_error(ctx, OpError(
            "residual add needs equal shapes",
            details=[f"body gives {fmt(g[body].shape)} (from `{body}`), "
                     f"shortcut gives {fmt(g[shortcut].shape)} (from `{shortcut}`)"],
            help="let the shortcut project (`shortcut=proj`, the default when shapes differ) or keep the shape"
            if mode == "identity" else None), e.span)
    return add_op(ctx, OPS["add"], OPS["add"].attrs(), [body, shortcut], e.span)


def _shortcut(ctx: Context, e: ast.Combinator, env: Env, x: str, mode: str, body: str) -> str:
    g = ctx.graph
    if e.second is not None:
        shortcut = layers.elab(ctx, e.second, env, x)
    elif mode == "identity" or (mode == "auto" and g[body].shape == g[x].shape):
        shortcut = x
    else:
        shortcut = projection(ctx, mode, x, g[body].shape, e)
    return shortcut


def projection(ctx: Context, mode: str, x: str, out: tuple[int, ...], e: ast.Combinator) -> str:
    """The shortcut that gives `x` the body's shape `out`: a 1x1 conv with the body's stride (and
    BN when the file's unit has one after its conv), or option A's zero padding (`pad`)."""
    if len(out) != 3:
        raise error("a residual body must keep a CxHxW feature map", e.span)
    _, h, w = ctx.graph[x].shape
    s = (stride(h, out[1]), stride(w, out[2]))
    if mode == "pad":
        return make_op(ctx, OPS["pad_shortcut"], Written(e.span, {"out": out[0], "s": s[0]}), [x], e.span)
    unit = ctx.units.of(e.span.file)
    conv = unit.written("conv", e.span)
    conv.values.update(out=out[0], k=(1, 1), s=s, p=0)
    y = make_op(ctx, OPS["conv"], conv, [x], e.span)
    return make_op(ctx, OPS["bn"], unit.written("bn", e.span), [y], e.span) if unit.has_after_conv("bn") else y


def stride(size: int, out: int) -> int:
    """The smallest stride whose unpadded 1x1 window gives `out` positions from `size` (ceil(size/s)
    positions); if none does, the nearest, and the add reports the shapes."""
    s = max(1, size // out)
    return s + 1 if math.ceil(size / s) != out else s


def word(ctx: Context, e: ast.Expr, env: Env, words: tuple[str, ...]) -> str:
    """Enumerated attributes take bare words: `shortcut=pad`."""
    value = e.name if isinstance(e, ast.Var) and e.name in words else ctx.ev.eval(e, env)
    if value not in words:
        raise error(f"expected one of {', '.join(words)}, got {show(value)}", e.span)
    return str(value)

