"""Merges: `(a | b)`, `concat(...)`, `add(...)`, `join(...)` and their `for` forms: one branch per
alternative, each from the same input, joined by the merge op."""
from __future__ import annotations

from typing import Any

from .. import ast
from ..diagnostics import error
from ..ir import Frame
from ..ops import OPS, Attrs, OpDef
from . import layers
from .attributes import Written, validate
from .context import MAX_REPEAT, Context
from .nodes import add_op, attr_value
from .values import Env, Tensor, loop_values, show, type_name

Branch = tuple[ast.Layer, Env]


def merge(ctx: Context, e: ast.Merge, env: Env, x: str, start: bool) -> str:
    return _merge(ctx, e, [(branch, env) for branch in e.branches], env, x)


def merge_for(ctx: Context, e: ast.MergeFor, env: Env, x: str, start: bool) -> str:
    items = ctx.ev.eval(e.iterable, env)
    if not isinstance(items, list) or not items:
        raise error(f"`for` in `{e.kind}(...)` needs a non-empty list, got {type_name(items)} ({show(items)})",
                    e.iterable.span)
    if len(items) > MAX_REPEAT:
        raise error(f"`for` over {len(items)} items is more than {MAX_REPEAT}", e.iterable.span)
    return _merge(ctx, e, [(e.body, env.child(loop_values(e.vars, item, e.span))) for item in items], env, x)


def _merge(ctx: Context, e: ast.Merge | ast.MergeFor, branches: list[Branch], env: Env, x: str) -> str:
    opdef = OPS[e.kind]
    with ctx.frame(Frame("merge", "", e.kind, e.span)):
        outs = []
        for j, (branch, branch_env) in enumerate(branches, 1):
            with ctx.frame(Frame("branch", "", f"branch {j}", branch.span, index=j - 1)):
                outs.append(layers.elab(ctx, branch, branch_env, x))
        written = Written(e.span)
        for a in e.attrs:
            written.put(a.name, attr_value(ctx, a, env), a.span)
        attrs = validate(opdef, written, set(ctx.program.blocks))
        if opdef.flattens:
            outs = [i for out in outs for i in _absorb(ctx, opdef, attrs, out)]
        return add_op(ctx, opdef, attrs, outs, e.span)


def _absorb(ctx: Context, opdef: OpDef, attrs: Attrs, node_id: str) -> list[str]:
    """`join(join(a | b) | c)` is `join(a | b | c)` when nothing else uses the inner join:
    FractalNet's expansion rule nests joins that its figure draws as one."""
    g, node = ctx.graph, ctx.graph[node_id]
    named = any(v == Tensor(node_id) for env in ctx.body_envs for v in _values(env))
    if node.op != opdef.name or node.attrs != attrs or g.users(node_id) or named:
        return [node_id]
    g.remove(node_id)
    return list(node.inputs)


def _values(env: Env) -> list[Any]:
    return list(env.values.values())
