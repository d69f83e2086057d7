"""Layer expressions, one function per kind of AST node: chains, repetitions, names, conditions,
and the dispatch to block uses, op layers, conv literals, merges and combinators."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .. import ast
from ..diagnostics import CnnDslError, error
from ..ir import Frame
from ..ops import lookup
from ..source import Span
from . import combinators, literals, merges
from .attributes import Written
from .blocks import callee, ref_args, single, value_of
from .context import MAX_NODES, MAX_REPEAT, Context, too_big
from .nodes import op_layer
from .values import Env, OpRef, Tensor, loop_values, show, type_name


def elab(ctx: Context, e: ast.Layer, env: Env, x: str, start: bool = False) -> str:
    """The tensor `e` makes from `x`. `start`: `e` begins a statement (it may name a tensor)."""
    return HANDLERS[type(e)](ctx, e, env, x, start)


def seq(ctx: Context, e: ast.Seq, env: Env, x: str, start: bool) -> str:
    for i, item in enumerate(e.items):
        x = elab(ctx, item, env, x, start and i == 0)
    return x


def repeat(ctx: Context, e: ast.Repeat, env: Env, x: str, start: bool) -> str:
    n = ctx.ev.eval_int(e.count, env, "a repeat count", 0, MAX_REPEAT)
    return copies(ctx, e.span, n, x, start, lambda i, x, first: elab(ctx, e.body, env, x, first))


def copies(ctx: Context, span: Span, count: int, x: str, start: bool,
           elab_copy: Callable[[int, str, bool], str], alike: bool = True) -> str:
    """`count` copies in sequence, one repetition group. Once the first of `alike` copies is
    built the size of the whole is known, so a repetition that would pass MAX_NODES is refused at
    once (a `for`'s copies differ: its first may be its largest)."""
    group = ctx.next_group()  # one for all copies: a repeat inside the body takes the next numbers
    for i in range(count):
        before = ctx.layers.made  # counted over the whole check
        with ctx.frame(Frame("repeat", "", f"x{count}", span, index=i, count=count, group=group)):
            x = elab_copy(i, x, start and i == 0)
        made = ctx.layers.made - before
        if i == 0 and alike and before + made * count > MAX_NODES:
            raise too_big(span, [f"{count:,} copies of {made:,} layers each", *ctx.made_before(), *ctx.uses()])
    return x


def named(ctx: Context, e: ast.Named, env: Env, x: str, start: bool) -> str:
    x = elab(ctx, e.body, env, x, start)
    target = ctx.body_envs[-1]
    if isinstance(target.values.get(e.name), Tensor):
        raise error(f"`{e.name}` already names a tensor in this block", e.span)
    target.values[e.name] = Tensor(x)
    s = e.span  # the name ends the text `... as NAME`: a warning that it is unused points at it
    where = Span(s.file, s.end_line, s.end_column - len(e.name), s.end_line, s.end_column)
    node = ctx.graph[x]  # a new meta, not the old one grown: a block use's copy (replay.py) keeps the old
    node.meta = {**node.meta, "names": [*node.meta.get("names", ()), (e.name, where)]}
    return x


def for_layer(ctx: Context, e: ast.ForLayer, env: Env, x: str, start: bool) -> str:
    items = ctx.ev.eval(e.iterable, env)
    if not isinstance(items, list):
        raise error(f"`for` needs a list, got {type_name(items)}", e.iterable.span)
    if len(items) > MAX_REPEAT:
        raise error(f"`for` over {len(items)} items is more than {MAX_REPEAT}", e.iterable.span)
    return copies(ctx, e.span, len(items), x, start,
                  lambda i, x, first: elab(ctx, e.body, env.child(loop_values(e.vars, items[i], e.span)), x, first),
                  alike=False)


def cond_layer(ctx: Context, e: ast.CondLayer, env: Env, x: str, start: bool) -> str:
    from .body import cond
    branch = e.then if cond(ctx, e.cond, env) else e.otherwise
    return x if branch is None else elab(ctx, branch, env, x, start)


def name_layer(ctx: Context, e: ast.NameLayer, env: Env, x: str, start: bool) -> str:
    """`relu`, `conv3x3:64/2`, a named tensor (`a4 -> ...`) or a block used without arguments."""
    value = value_of(e.name, env)
    if isinstance(value, Tensor):
        if not start or e.channels or e.stride or e.attrs:
            raise error(f"`{e.name}` is a named tensor; a chain can start from it but not pass through it",
                        e.span, help=f"start a new line with `{e.name} -> ...`")
        return value.node
    if isinstance(value, OpRef):  # `act` bound to `relu`: the layer is that op, as written here
        return op_value(ctx, e, value, env, x)
    ref = callee(ctx, e.name, env)
    if ref is None and value is not None and lookup(e.name) is None:  # (`dropout(dropout)` is the op)
        raise not_a_layer(e.name, value, e.span)
    if ref is not None:
        if e.channels or e.stride or e.attrs:
            raise error(f"`{e.name}` is a block: pass its arguments in parentheses, `{e.name}(...)`", e.span)
        return single(ctx, ctx.program.blocks[ref.name], *ref_args(ctx, ref, (), env), e, x)
    return op_layer(ctx, e, env, x)


def call_layer(ctx: Context, e: ast.CallLayer, env: Env, x: str, start: bool) -> str:
    """`bottleneck(64, s=2)` or `maxpool(3, 2)`."""
    value = value_of(e.name, env)
    if isinstance(value, OpRef):  # `act(0.2)` with `act` bound to `leaky_relu`
        return op_value(ctx, e, value, env, x)
    ref = callee(ctx, e.name, env)
    if ref is None and value is not None and lookup(e.name) is None:  # (`dropout(dropout)` is the op)
        raise not_a_layer(e.name, value, e.span)
    if ref is not None:
        if e.attrs:
            raise error(f"`{e.name}` is a block: put its arguments inside the parentheses", e.attrs[0].span)
        return single(ctx, ctx.program.blocks[ref.name], *ref_args(ctx, ref, e.args, env), e, x)
    return op_layer(ctx, e, env, x)


def op_value(ctx: Context, e: ast.NameLayer | ast.CallLayer, value: OpRef, env: Env, x: str) -> str:
    """A layer through a name bound to an op: the op, with the value's arguments over what the use
    writes (`act` with `act=leaky_relu(0.2)` is `leaky_relu(0.2)`)."""
    found = lookup(value.name)
    preset = Written(e.span)
    positional = found[0].positional if found is not None else ()
    for k, ((name, v), span) in enumerate(zip(value.args, value.spans)):
        if name is None and k >= len(positional):
            raise error(f"`{value.name}` takes at most {len(positional)} positional argument(s)", span)
        preset.put(name if name is not None else positional[k], v, span)
    return op_layer(ctx, replace(e, name=value.name), env, x, literal=preset if value.args else None)


def not_a_layer(name: str, value: Any, span: Span) -> CnnDslError:
    return error(f"`{name}` is {type_name(value)} ({show(value)}), not a layer", span,
                 help="a layer parameter takes an op (`act=relu`, `act=leaky_relu(0.2)`) or a block")


def unit_layer(ctx: Context, e: ast.UnitLayer, env: Env, x: str, start: bool) -> str:
    return literals.expand(ctx, e, env, x)


HANDLERS: dict[type, Callable[[Context, Any, Env, str, bool], str]] = {
    ast.Seq: seq, ast.Repeat: repeat, ast.Named: named, ast.ForLayer: for_layer, ast.CondLayer: cond_layer,
    ast.NameLayer: name_layer, ast.CallLayer: call_layer, ast.UnitLayer: unit_layer,
    ast.Merge: merges.merge, ast.MergeFor: merges.merge_for, ast.Combinator: combinators.combinator,
}
