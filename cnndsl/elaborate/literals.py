"""Conv literals: `3x3:64/2 groups=2` is read once, here, and travels as an argument into the
conv of its file's unit; every layer of the unit points at the literal's text."""
from __future__ import annotations

from .. import ast
from ..diagnostics import error
from ..ops import lookup
from . import layers
from .attributes import Written
from .blocks import callee
from .context import Context
from .nodes import attr_value, op_layer
from .resolve import walk
from .values import Env


def read_literal(ctx: Context, e: ast.UnitLayer, env: Env) -> Written:
    """The kernel, filters, stride and attributes a conv literal writes, evaluated in its scope."""
    if e.kernel_exprs:  # `(k)x(k)`: each side a positive integer
        kernel = tuple(ctx.ev.eval_int(x, env, "a kernel size", 1) for x in e.kernel_exprs)
    elif len(e.kernel) != 2:
        raise error(f"`{'x'.join(map(str, e.kernel))}` is not a kernel size; write KxK, e.g. 3x3", e.span)
    else:
        kernel = e.kernel
    out = Written(e.span, {"k": kernel})
    if e.channels is not None:
        out.put("out", ctx.ev.eval(e.channels, env))
    if e.stride is not None:
        out.put("s", ctx.ev.eval(e.stride, env))
    for attr in e.attrs:
        out.put(attr.name, attr_value(ctx, attr, env), attr.span)
    return out


def expand(ctx: Context, e: ast.UnitLayer, env: Env, x: str) -> str:
    """The file's unit with the literal in its conv: `conv(bias=false) -> bn -> relu` for `3x3:64`."""
    literal = read_literal(ctx, e, env)
    items = ctx.units.of(e.span.file).items()
    conv = next((i for i, item in enumerate(items) if _op_name(ctx, item) == "conv"), None)
    inner = next((n for n in walk(items) if isinstance(n, ast.UnitLayer)), None)  # at any depth
    if inner is not None:
        raise error("a `unit` cannot contain a `KxK:C` layer: it is what such a layer expands to", inner.span)
    if conv is None:
        raise error("the file's `unit` has no `conv` for `KxK:C` to fill", e.span,
                    help="write the conv as one of the unit's layers (`unit = conv -> bn -> relu`), "
                         "not inside a block or combinator")
    for i, item in enumerate(items):
        if isinstance(item, (ast.NameLayer, ast.CallLayer)) and _op_name(ctx, item) is not None:
            x = op_layer(ctx, item, ctx.globals, x, literal=literal if i == conv else None, at=e.span)
        else:
            x = layers.elab(ctx, item, ctx.globals, x)
    return x


def _op_name(ctx: Context, item: ast.Layer) -> str | None:
    """The op a unit layer names (`conv`, `conv3x3`, `batchnorm` -> `bn`); None for anything else."""
    if not isinstance(item, (ast.NameLayer, ast.CallLayer)) or callee(ctx, item.name, ctx.globals) is not None:
        return None
    found = lookup(item.name)
    return found[0].name if found is not None else None
