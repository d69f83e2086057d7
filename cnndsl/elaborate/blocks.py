"""Block uses: which block a layer name calls, binding its arguments, and running its body in a
frame of its own (a module path component, `bottleneck3`)."""
from __future__ import annotations

from typing import Any

from .. import ast
from ..diagnostics import CnnDslError, Note, did_you_mean, error
from ..ir import Frame
from ..source import Span
from . import body, replay
from .context import MAX_DEPTH, Context, uses_chain
from .values import BlockRef, Env, show

Arg = tuple[str | None, Any, Span]  # (keyword or None, value, where it was written)
Outputs = replay.Outputs  # (output name, node id)
MAX_USE_NOTES = 12  # a runaway recursion would otherwise list every level


def callee(ctx: Context, name: str, env: Env) -> BlockRef | None:
    """The block a layer name calls: a local value (possibly partially applied) or a global block."""
    value = value_of(name, env)
    if isinstance(value, BlockRef):
        return value
    if value is not None or name not in ctx.program.blocks:
        return None
    return BlockRef(name)


def value_of(name: str, env: Env) -> Any:
    """The value `name` is bound to, or None: a walk up the scopes (a layer name is looked up for
    every layer made, and most are ops, bound nowhere: raising KeyError for each cost a second
    in a 100,000-layer file)."""
    scope: Env | None = env
    while scope is not None:
        values = scope.values
        if name in values:
            return values[name]
        scope = scope.parent
    return None


def ref_args(ctx: Context, ref: BlockRef, args: tuple[ast.Arg, ...], env: Env) -> tuple[list[Arg], list[Arg]]:
    """The arguments of a call through `ref` (its preset ones, then the call's own), and the
    call's own, which label the use: `b(c, s=s)` reads `bottleneck(64, s=2)` wherever b came from."""
    own = [(a.name, ctx.ev.eval(a.value, env), a.span) for a in args]
    if not ref.args:  # no preset arguments, the common case: the call's own, positional ones first
        return [a for a in own if a[0] is None] + [a for a in own if a[0] is not None], own
    return ref.apply(own).call_args(), own


def use_label(block: ast.BlockDef, shown: list[Arg]) -> str:
    """How the use reads in notes and reports: `bottleneck(128, s=2)`."""
    written = (show(v) if n is None else f"{n}={show(v)}" for n, v, _ in shown)
    return f"{block.name}({', '.join(written)})" if shown else block.name


def call_block(ctx: Context, block: ast.BlockDef, args: list[Arg], shown: list[Arg], use: ast.Node, x: str,
               multi: bool = False, transparent: bool = False) -> tuple[str, Outputs]:
    """Run `block`'s body on `x`: its last tensor and its named outputs (one, `output`, if it names
    none). `multi`: a network called as a whole statement, whose body may be one multi-output call."""
    if len(ctx.names.blocks) >= MAX_DEPTH:
        raise too_deep(ctx, block, use.span)  # the block uses it passes through on its way out add the chain
    shape = ctx.graph[x].shape
    given = {block.input_name: shape[0]} if block.input_name else {}
    bound = bind(ctx, block, args, use.span, given)
    label = use_label(block, shown)
    key = use_key(block, bound, shape, multi)
    _check_size(ctx, block, key, label, use.span)
    made, first = ctx.layers.made, len(ctx.graph)
    # A network that is nothing but a call of another (`network resnet50 = resnet(depth=50)`) is
    # that network: its call adds no component to the names, so modules are `stage1...`.
    name = "" if transparent else ctx.names.unique(block.name.lstrip("_") or "block")
    frame = Frame("block", name, label, use.span, block.span, params=tuple(bound.items()), block=block.name,
                  args=tuple((n, v) for n, v, _ in shown))
    with ctx.frame(frame):
        copied = replay.reuse(ctx, key, frame, x)
        if copied is not None:
            return copied
        current, outputs = _run_body(ctx, block, bound, label, use, x, multi)
        path = ctx.names.path()
    outputs = outputs or [("output", current)]
    if key is not None:
        ctx.use_sizes[key] = ctx.layers.made - made
        replay.remember(ctx, key, x, path, frame, first, current, outputs)
    return current, outputs


def _run_body(ctx: Context, block: ast.BlockDef, bound: dict[str, Any], label: str, use: ast.Node, x: str,
              multi: bool) -> tuple[str, Outputs | None]:
    env = ctx.globals.child(bound)
    ctx.body_envs.append(env)
    try:
        return body.run(ctx, block.body, env, x, allow_multi=multi)
    except CnnDslError as exc:  # say where the block was used, whatever went wrong inside
        add_use_site(exc, label, use.span, block)
        raise
    finally:
        ctx.body_envs.pop()


def too_deep(ctx: Context, block: ast.BlockDef, span: Span) -> CnnDslError:
    """Past MAX_DEPTH nested uses: a recursion only when a block really is among its own callers."""
    chain = ctx.names.blocks
    again = [f for f in chain if f.block == block.name]
    details = [f"the uses: {uses_chain(chain)} > `{block.name}`"]
    if again:
        return error(f"blocks nest more than {MAX_DEPTH} deep: `{block.name}` is used inside itself "
                     f"{len(again)} times; does its recursion never end?", span, details=details,
                     help="make the recursive use depend on a parameter that reaches a case without it")
    return error(f"blocks nest more than {MAX_DEPTH} deep", span, details=details,
                 help="this limit keeps a file from recursing without end; flatten some of the blocks")


def use_key(block: ast.BlockDef, bound: dict[str, Any], shape: tuple[int, ...], multi: bool) -> Any:
    """What a block use's layers depend on: the block, its bound parameters and its input shape
    (a body sees the globals and its parameters, nothing of the caller's). None when a value is
    not a small plain one: such uses are not remembered (freezing a large list per use would cost
    more than it saves)."""
    frozen = []
    for name, value in bound.items():
        if type(value) not in _PLAIN:
            return None
        frozen.append((name, type(value), value))
    return block.name, tuple(frozen), shape, multi


_PLAIN = frozenset({int, float, bool, str, type(None)})


def _check_size(ctx: Context, block: ast.BlockDef, key: Any, label: str, span: Span) -> None:
    """Refuse a use now if the layers it will make would pass MAX_NODES: as many as an equal use
    made before, or at least as many as its text says (sizes.py)."""
    size = ctx.use_sizes.get(key) if key is not None else None
    if size is not None:
        ctx.check_room(label, size, True, span)
    else:
        ctx.check_room(label, ctx.least_sizes.of(block), False, span)


def single(ctx: Context, block: ast.BlockDef, args: list[Arg], shown: list[Arg], use: ast.Node, x: str) -> str:
    """A block used inside a chain: it must have one output."""
    _, outputs = call_block(ctx, block, args, shown, use, x)
    if len(outputs) != 1:
        raise error(f"`{block.name}` has {len(outputs)} outputs; inside a chain a block needs one", use.span,
                    notes=[Note(f"`{block.name}` is defined", block.span)])
    return outputs[0][1]


def bind(ctx: Context, block: ast.BlockDef, args: list[Arg], span: Span,
         given: dict[str, Any] | None = None) -> dict[str, Any]:
    if not args and not block.params:  # `relu -> b`: nothing to bind, the common case of a deep file
        return dict(given or {})
    names = [p.name for p in block.params]
    positional = [a for a in args if a[0] is None]
    if len(positional) > len(names):
        raise error(f"`{block.name}` takes {len(names)} argument{'s' * (len(names) != 1)}, got {len(positional)}",
                    span, notes=_defined(block), details=[f"parameters: {', '.join(names) or 'none'}"])
    bound = {p: v for p, (_, v, _) in zip(names, positional)}
    for name, value, arg_span in args:
        if name is None:
            continue
        if name not in names:
            raise error(f"`{block.name}` has no parameter `{name}`", arg_span, notes=_defined(block),
                        help=did_you_mean(name, names), details=[f"parameters: {', '.join(names) or 'none'}"])
        if name in bound:
            raise error(f"`{name}` is given twice", arg_span, notes=_defined(block))
        bound[name] = value
    return _defaults(ctx, block, bound, span, given or {})


def _defined(block: ast.BlockDef) -> list[Note]:
    return [Note(f"`{block.name}` is defined", block.span)]


def _defaults(ctx: Context, block: ast.BlockDef, bound: dict[str, Any], span: Span,
              given: dict[str, Any]) -> dict[str, Any]:
    for p in block.params:
        if p.name not in bound:
            if p.default is None:
                raise error(f"`{block.name}` needs an argument for `{p.name}`", span, notes=_defined(block))
            bound[p.name] = ctx.ev.eval(p.default, ctx.globals.child({**given, **bound}))
    return {**given, **{p.name: bound[p.name] for p in block.params}}


def add_use_site(exc: CnnDslError, label: str, use: Span, block: ast.BlockDef) -> None:
    """Innermost first, like a traceback: `in bottleneck(128, s=2), used at ...`."""
    for d in exc.diagnostics:
        if len(d.notes) < MAX_USE_NOTES:
            d.notes += [Note(f"in `{label}`, used", use), Note(f"`{block.name}` is defined", block.span)]
