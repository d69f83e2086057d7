"""Op nodes: what a layer expression writes, validated against its op's row, completed against
its inputs' shapes and added to the graph; errors located at the text that made the layer."""
from __future__ import annotations

from typing import Any

from .. import ast
from ..diagnostics import CnnDslError, Diagnostic, did_you_mean, error
from ..ir import Node
from ..ops import OPS, TAKES_VECTOR, Attrs, OpDef, OpError, fmt, layer_names, lookup
from ..ops.base import NeedsMap
from ..parser.limits import MAX_INT
from ..source import Span
from .attributes import Written, bare_words, field_names, validate
from .context import Context
from .values import Env

OpLayer = ast.NameLayer | ast.CallLayer


def op_layer(ctx: Context, e: OpLayer, env: Env, x: str, literal: Written | None = None,
             at: Span | None = None) -> str:
    """A layer that names an op: `conv3x3:64/2 groups=2`, `maxpool(3, 2)`. A conv literal's
    `literal` is written over what the layer itself says (the unit's `conv(bias=false)`); `at` is
    the text every node it makes points at (a unit's layers point at the literal that expanded it)."""
    key = _constant_key(e) if literal is None else None  # equal text, equal layer
    made = ctx.constant_layers.get(key) if key is not None else None  # one look-up: the key hashes a syntax tree
    if made is not None:  # made before: reuse its attributes
        opdef, attrs = made
        return place(ctx, opdef, attrs, [x], at or e.span)
    found = lookup(e.name)
    if found is None:
        raise unknown(ctx, e.name, e.span, env)
    opdef, kernel = found
    written = ctx.units.of(e.span.file).written(opdef.name, e.span)
    if kernel is not None:
        written.put("k", kernel)
    written = written.merged(read_layer(ctx, opdef, e, env))
    if literal is not None:
        written = written.merged(literal)
    attrs = validate(opdef, written, set(ctx.program.blocks))
    if key is not None:
        ctx.constant_layers[key] = (opdef, attrs)
    return place(ctx, opdef, attrs, [x], at or e.span)


def _constant_key(e: OpLayer) -> tuple[Any, ...] | None:
    """A layer whose text holds no expression but numbers (`relu`, `fc:10`, `maxpool(3, 2)`)
    validates to the same attributes wherever the same text is in the same file (a file's unit is
    fixed; attributes are frozen). Syntax nodes compare by their text, not their place, and so do
    their numbers: the key adds each number's type, since `1 == 1.0 == true` and only the first is
    a channel count. A bare name (`relu`, most layers of a large file) is keyed by its name: equal
    to the key of the syntax node, which hashes and compares all its fields in Python."""
    if isinstance(e, ast.NameLayer) and e.channels is None and e.stride is None and not e.attrs:
        return (e.name, e.span.file)  # a string first: never equal to a key that starts with a node
    exprs = [e.channels, e.stride] if isinstance(e, ast.NameLayer) else [a.value for a in e.args]
    exprs += [a.value for a in e.attrs]
    types = []
    for v in exprs:
        if v is not None:
            if not isinstance(v, ast.Const):
                return None
            types.append(type(v.value))
    return (e, e.span.file, *types)


def read_layer(ctx: Context, opdef: OpDef, e: OpLayer, env: Env) -> Written:
    """What a layer expression writes: `:C`, `/S`, positional and keyword arguments, attributes."""
    out = Written(e.span)
    positional = opdef.positional
    if isinstance(e, ast.NameLayer):
        if e.channels is not None:
            if not positional:
                raise error(f"`{opdef.name}` takes no `:` value", e.channels.span)
            out.put(positional[0], ctx.ev.eval(e.channels, env))
        if e.stride is not None:
            if "s" not in field_names(opdef):
                raise error(f"`{opdef.name}` has no stride", e.stride.span)
            out.put("s", ctx.ev.eval(e.stride, env))
    args = e.args if isinstance(e, ast.CallLayer) else ()
    pos_args = [a for a in args if a.name is None]
    if len(pos_args) > len(positional):
        raise error(f"`{opdef.name}` takes at most {len(positional)} positional argument(s)", e.span,
                    details=[f"in order: {', '.join(positional) or 'none'}"])
    for field_name, a in zip(positional, pos_args):
        out.put(field_name, _value(ctx, opdef, field_name, a.value, env))
    for a in args:
        if a.name is not None:
            out.put(a.name, _value(ctx, opdef, a.name, a.value, env))
    for attr in e.attrs:
        value = True if attr.value is None else _value(ctx, opdef, attr.name, attr.value, env)
        out.put(attr.name, value, attr.span)
    return out


def _value(ctx: Context, opdef: OpDef, key: str, e: ast.Expr, env: Env) -> Any:
    """A written value; a bare word of the attribute's words (`mode=row`) is that word."""
    if isinstance(e, ast.Var) and e.name in bare_words(opdef, key):
        return e.name
    return ctx.ev.eval(e, env)


def make_op(ctx: Context, opdef: OpDef, written: Written, inputs: list[str], span: Span) -> str:
    """Validate what was written and add the node; a layer that takes a vector gets a flatten first."""
    return place(ctx, opdef, validate(opdef, written, set(ctx.program.blocks)), inputs, span)


def place(ctx: Context, opdef: OpDef, attrs: Attrs, inputs: list[str], span: Span) -> str:
    """Add a validated layer; a layer that takes a vector gets a flatten first."""
    if opdef.category in TAKES_VECTOR and len(ctx.graph[inputs[0]].shape) != 1:
        inputs = [add_op(ctx, OPS["flatten"], OPS["flatten"].attrs(), inputs, span)]
    return add_op(ctx, opdef, attrs, inputs, span)


def add_op(ctx: Context, opdef: OpDef, attrs: Attrs, inputs: list[str], span: Span) -> str:
    g = ctx.graph
    ctx.count_layer(span)
    assert opdef.arity is None or len(inputs) == opdef.arity, (opdef.name, inputs)  # a bug, not user input
    ins = [g[i].shape for i in inputs]
    key = (id(attrs), *ins)
    done = ctx.completed.get(key)
    if done is None:  # an op's completion and shape depend on its attributes and input shapes alone
        try:
            completed = opdef.complete(attrs, ins)
            shape = opdef.shape(completed, ins)
            if any(size > MAX_INT for size in shape):  # a concat of concats doubles its channels each time
                raise OpError(f"the layer's output would be {fmt(shape)}, a size beyond 64 bits",
                              help=f"every size is limited to {MAX_INT:,} (2**63 - 1)")
        except OpError as exc:
            raise op_error(ctx, exc, span, inputs) from None
        done = ctx.completed[key] = (attrs, completed, shape)  # `attrs` kept, so its id stays its own
    _, attrs, shape = done
    name = ctx.names.node_name(opdef.name)
    ctx.count_where(len(ctx.names.frames), len(name), span)
    node = g.add(Node(name, "op", opdef.name, attrs, list(inputs), span, ctx.names.scope()))
    node.meta["shape"] = shape
    return node.id


def op_error(ctx: Context, exc: OpError, span: Span | None, inputs: list[str] | tuple[str, ...] = ()) -> CnnDslError:
    g = ctx.graph
    details = list(exc.details)
    if len(inputs) > 1:
        details = [f"input {i + 1}: {fmt(g[n].shape)} from `{n}` ({g[n].span})" for i, n in enumerate(inputs)]
    help_ = exc.help
    if isinstance(exc, NeedsMap) and inputs:
        help_ = _vector_help(ctx, inputs[0])
    return CnnDslError(Diagnostic(exc.args[0], span, details=details, help=help_))


def _vector_help(ctx: Context, node_id: str) -> str:
    """Where the vector came from: the network's declared input, or a layer that flattens."""
    node = ctx.graph[node_id]
    if node.kind == "input":
        return (f"the network's input is declared as {fmt(node.shape)}, a vector: declare it as CxHxW "
                f"(e.g. `: 1x28x28`) or pass --input CxHxW")
    return f"`{node_id}` gives a vector; remove the `flatten`/`fc` before it"


def attr_value(ctx: Context, attr: ast.Attr, env: Env) -> Any:
    """A flag such as `ceil` is `true`."""
    return True if attr.value is None else ctx.ev.eval(attr.value, env)


def unknown(ctx: Context, name: str, span: Span, env: Env) -> CnnDslError:
    if name in ctx.program.defs:
        return error(f"`{name}` is a value function (`def`), not a layer", span,
                     help=f"use it in a value, e.g. `3x3:({name}(...))`")
    candidates = layer_names(name) | set(ctx.program.blocks) | env.names()
    return error(f"unknown layer or block `{name}`", span, help=did_you_mean(name, candidates))
