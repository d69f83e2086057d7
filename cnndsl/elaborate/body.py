"""Statements of a block or network body: `let`, chains, `if`, `output`."""
from __future__ import annotations

from .. import ast
from ..diagnostics import did_you_mean, error
from ..source import Span
from . import layers
from .blocks import Outputs, call_block, callee, ref_args
from .context import Context
from .values import Env, Tensor, show, type_name


def run(ctx: Context, stmts: tuple[ast.Stmt, ...], env: Env, x: str,
        allow_multi: bool = False) -> tuple[str, Outputs | None]:
    """The body's last tensor, and the outputs it names (None if it names none)."""
    outputs = None
    for stmt in stmts:
        outs = None
        if isinstance(stmt, ast.Let):
            env.values[stmt.name] = ctx.ev.eval(stmt.value, env)
        elif isinstance(stmt, ast.ChainStmt):
            x, outs = chain_stmt(ctx, stmt.chain, env, x, allow_multi and len(stmts) == 1)
        elif isinstance(stmt, ast.If):
            x, outs = run(ctx, stmt.then if cond(ctx, stmt.cond, env) else stmt.otherwise, env, x)
        elif isinstance(stmt, ast.Output):
            outs = [(item.name, tensor(item.name, env, item.span))
                    for item in stmt.items if item.cond is None or cond(ctx, item.cond, env)]
        outputs = outs if outs is not None else outputs
    return x, outputs


def chain_stmt(ctx: Context, chain: ast.Layer, env: Env, x: str, single: bool) -> tuple[str, Outputs | None]:
    """A statement that is one call of a network with several outputs passes them all on."""
    if single and isinstance(chain, (ast.CallLayer, ast.NameLayer)):
        ref = callee(ctx, chain.name, env)
        if ref is not None and ctx.program.blocks[ref.name].is_network:
            args = chain.args if isinstance(chain, ast.CallLayer) else ()
            block = ctx.program.blocks[ref.name]
            _, outputs = call_block(ctx, block, *ref_args(ctx, ref, args, env), chain, x,
                                    multi=True, transparent=not ctx.names.frames)
            return outputs[0][1], outputs
    return layers.elab(ctx, chain, env, x, start=True), None


def tensor(name: str, env: Env, span: Span) -> str:
    try:
        v = env.lookup(name)
    except KeyError:
        v = None
    if not isinstance(v, Tensor):
        names = [n for n in env.names() if isinstance(env.lookup(n), Tensor)]
        raise error(f"`{name}` is not a named tensor", span,
                    help=did_you_mean(name, names) or "name one with `... as NAME`")
    return v.node


def cond(ctx: Context, e: ast.Expr, env: Env) -> bool:
    v = ctx.ev.eval(e, env)
    if not isinstance(v, bool):
        raise error(f"a condition must be true or false, got {type_name(v)} ({show(v)})", e.span)
    return v
