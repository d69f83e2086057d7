"""AST -> graph IR. Blocks are expanded, parameters bound, repetitions and combinators unrolled,
and every node gets its output shape from its op's rule as it is created (a residual needs the
shape of its body to choose its shortcut, and an error is best reported where it happens)."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError

from .. import ast
from ..diagnostics import CnnDslError, Diagnostic, Note, did_you_mean, error
from ..ir import Frame, Graph, Node
from ..ops import ALIASES, OPS, TAKES_VECTOR, OpDef, OpError, fmt, layer_names, lookup
from ..ops.paths import LinearDecay
from ..parser import parse
from ..source import Span
from .program import Program, file_info
from .resolve import WORDS
from .schedules import resolve_schedules
from .values import BlockRef, Env, Evaluator, Tensor, show, type_name

MAX_REPEAT = 10_000  # copies in one `*N` or one `[... for ...]`
MAX_NODES = 250_000  # nodes in one network: ResNet-1202 has about 4,000
MAX_DEPTH = 100  # nested block uses: deeper than any real network, shallow enough to stop a loop
SHORTCUTS = WORDS["shortcut"]
RESIDUAL_ATTRS = ("shortcut", "survive")


MAX_USE_NOTES = 12  # a runaway recursion would otherwise list every level


def _add_use_site(exc: CnnDslError, label: str, use: Span, block: ast.BlockDef) -> None:
    """Innermost first, like a traceback: `in bottleneck(128, s=2), used at ...`."""
    for d in exc.diagnostics:
        if len(d.notes) < MAX_USE_NOTES:
            d.notes += [Note(f"in `{label}`, used", use), Note(f"`{block.name}` is defined", block.span)]


class _Override:
    """What `3x3:64/2 groups=2` puts into the `conv` of the file's unit."""

    def __init__(self, kw: dict[str, Any], literal: ast.UnitLayer):
        self.kw, self.literal, self.span, self.used = kw, literal, literal.span, False


class Elaborator:
    def __init__(self, program: Program):
        self.program = program
        self.ev = Evaluator(set(program.blocks))
        self.globals = Env()
        self.graph: Graph | None = None
        self.frames: list[Frame] = []
        self.paths: list[str] = []  # the dotted node-name prefix of each frame, kept with `frames`
        self.counters: dict[tuple[str, str], int] = {}
        self.taken: dict[str, set[str]] = {}  # the names in use under each path
        self.body_envs: list[Env] = []
        self.override: _Override | None = None
        self.groups = 0
        self._units: dict[str, tuple[ast.Layer, dict[str, dict[str, Any]]]] = {}
        self._default_unit = parse("unit = conv -> relu", "<default unit>").items[0].chain

    # ------------------------------------------------------------ entry point
    def build(self, main: ast.BlockDef, params: dict[str, Any], input_dims: tuple[int, ...] | None) -> Graph:
        for let in self.program.lets:
            self.globals.values[let.name] = self.ev.eval(let.value, self.globals)
        dims = input_dims or main.input_dims or self._inherited_dims(main)
        if dims is None:
            raise error(f"network `{main.name}` has no input shape", main.span,
                        help=f"declare it (`network {main.name} : 3x224x224 ...`) or pass --input CxHxW")
        self.graph = g = Graph(main.name)
        g.source = self.program.root
        bound = self._bind_network_params(main, params)
        g.params = dict(bound)
        x = g.add(Node("input", "input", None, None, [], main.span, ())).id
        g["input"].meta["shape"] = tuple(dims)
        env = self.globals.child(bound)
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, 20_000))
        try:
            self.body_envs.append(env)
            current, outputs = self._run_body(main.body, env, x, allow_multi=True)
        finally:
            sys.setrecursionlimit(old_limit)
        for name, node_id in outputs or [("output", current)]:
            out = g.add(Node(f"output:{name}", "output", None, None, [node_id], g[node_id].span, ()))
            out.meta["shape"] = g[node_id].shape
            out.meta["name"] = name
        resolve_schedules(g)
        return g

    def _inherited_dims(self, main: ast.BlockDef):
        """`network resnet50 = resnet(depth=50)` takes the input shape of the network it names."""
        if main.single_expr and isinstance(main.body[0].chain, (ast.CallLayer, ast.NameLayer)):
            callee = self.program.blocks.get(main.body[0].chain.name)
            if callee is not None and callee.is_network and callee is not main:
                return callee.input_dims or self._inherited_dims(callee)
        return None

    def _bind_network_params(self, main: ast.BlockDef, params: dict[str, Any]) -> dict[str, Any]:
        names = [p.name for p in main.params]
        for key in params:
            if key not in names:
                known = ", ".join(names) or "none"
                raise error(f"network `{main.name}` has no parameter `{key}` (parameters: {known})", main.span,
                            help=did_you_mean(key, names))
        bound: dict[str, Any] = {}
        for p in main.params:
            if p.name in params:
                bound[p.name] = params[p.name]
            elif p.default is not None:
                bound[p.name] = self.ev.eval(p.default, self.globals.child(bound))
            else:
                raise error(f"network `{main.name}` needs a value for `{p.name}`", p.span,
                            help=f"pass -D {p.name}=VALUE")
        return bound

    # ------------------------------------------------------------ statements
    def _run_body(self, stmts, env: Env, x: str, allow_multi: bool = False):
        outputs = None
        for stmt in stmts:
            if isinstance(stmt, ast.Let):
                env.values[stmt.name] = self.ev.eval(stmt.value, env)
            elif isinstance(stmt, ast.ChainStmt):
                single = allow_multi and len(stmts) == 1
                x, outs = self._chain_stmt(stmt.chain, env, x, single)
                outputs = outs if outs is not None else outputs
            elif isinstance(stmt, ast.If):
                branch = stmt.then if self._cond(stmt.cond, env) else stmt.otherwise
                x, outs = self._run_body(branch, env, x)
                outputs = outs if outs is not None else outputs
            elif isinstance(stmt, ast.Output):
                outputs = [(item.name, self._tensor(item.name, env, item.span))
                           for item in stmt.items if item.cond is None or self._cond(item.cond, env)]
        return x, outputs

    def _chain_stmt(self, chain: ast.Layer, env: Env, x: str, single: bool):
        """A statement that is one call of a network with several outputs passes them all on."""
        if single and isinstance(chain, (ast.CallLayer, ast.NameLayer)):
            ref = self._callee(chain.name, env)
            if ref is not None and self.program.blocks[ref.name].is_network:
                args = chain.args if isinstance(chain, ast.CallLayer) else ()
                return self._call_block(self.program.blocks[ref.name], *self._ref_args(ref, args, env), chain, x,
                                        multi=True, transparent=not self.frames)
        return self.elab(chain, env, x, start=True), None

    def _tensor(self, name: str, env: Env, span: Span) -> str:
        try:
            v = env.lookup(name)
        except KeyError:
            v = None
        if not isinstance(v, Tensor):
            names = [n for n in env.names() if isinstance(env.lookup(n), Tensor)]
            raise error(f"`{name}` is not a named tensor", span,
                        help=did_you_mean(name, names) or "name one with `... as NAME`")
        return v.node

    def _cond(self, e: ast.Expr, env: Env) -> bool:
        v = self.ev.eval(e, env)
        if not isinstance(v, bool):
            raise error(f"a condition must be true or false, got {type_name(v)} ({show(v)})", e.span)
        return v

    # ------------------------------------------------------------ layer expressions
    def elab(self, e: ast.Layer, env: Env, x: str, start: bool = False) -> str:
        return getattr(self, "_" + type(e).__name__)(e, env, x, start)

    def _Seq(self, e: ast.Seq, env, x, start):
        for i, item in enumerate(e.items):
            x = self.elab(item, env, x, start and i == 0)
        return x

    def _Repeat(self, e: ast.Repeat, env, x, start):
        n = self.ev.eval_int(e.count, env, "a repeat count", 0, MAX_REPEAT)
        return self._copies(e.span, n, x, start, lambda i, x, first: self.elab(e.body, env, x, first))

    def _copies(self, span: Span, count: int, x: str, start: bool, elab_copy) -> str:
        """`count` copies in sequence, one repetition group. Once the first copy is built the size
        of the whole is known, so a repetition that would pass MAX_NODES is refused at once."""
        self.groups += 1
        group = self.groups  # one for all copies: a repeat inside the body takes the next numbers
        for i in range(count):
            before = len(self.graph)
            with self._frame(Frame("repeat", "", f"x{count}", span, index=i, count=count, group=group)):
                x = elab_copy(i, x, start and i == 0)
            if i == 0 and before + (len(self.graph) - before) * count > MAX_NODES:
                raise self._too_big(span, [f"{count} copies of {len(self.graph) - before} layers each"])
        return x

    def _Named(self, e: ast.Named, env, x, start):
        x = self.elab(e.body, env, x, start)
        target = self.body_envs[-1]
        if isinstance(target.values.get(e.name), Tensor):
            raise error(f"`{e.name}` already names a tensor in this block", e.span)
        target.values[e.name] = Tensor(x)
        return x

    def _ForLayer(self, e: ast.ForLayer, env, x, start):
        items = self.ev.eval(e.iterable, env)
        if not isinstance(items, list):
            raise error(f"`for` needs a list, got {type_name(items)}", e.iterable.span)
        if len(items) > MAX_REPEAT:
            raise error(f"`for` over {len(items)} items is more than {MAX_REPEAT}", e.iterable.span)
        return self._copies(e.span, len(items), x, start,
                            lambda i, x, first: self.elab(e.body, env.child({e.var: items[i]}), x, first))

    def _CondLayer(self, e: ast.CondLayer, env, x, start):
        branch = e.then if self._cond(e.cond, env) else e.otherwise
        return x if branch is None else self.elab(branch, env, x, start)

    def _Merge(self, e: ast.Merge, env, x, start):
        return self._merge(e, [(branch, env) for branch in e.branches], env, x)

    def _MergeFor(self, e: ast.MergeFor, env, x, start):
        items = self.ev.eval(e.iterable, env)
        if not isinstance(items, list) or not items:
            raise error(f"`for` in `{e.kind}(...)` needs a non-empty list, got {type_name(items)} ({show(items)})",
                        e.iterable.span)
        if len(items) > MAX_REPEAT:
            raise error(f"`for` over {len(items)} items is more than {MAX_REPEAT}", e.iterable.span)
        return self._merge(e, [(e.body, env.child({e.var: item})) for item in items], env, x)

    def _merge(self, e, branches, env, x) -> str:
        opdef = OPS[e.kind]
        with self._frame(Frame("merge", "", e.kind, e.span)):
            outs = []
            for j, (branch, branch_env) in enumerate(branches, 1):
                with self._frame(Frame("branch", "", f"branch {j}", branch.span, index=j - 1)):
                    outs.append(self.elab(branch, branch_env, x))
            attrs = self._validate(opdef, {a.name: self._attr_value(a, env) for a in e.attrs}, e)
            if opdef.flattens:
                outs = [i for out in outs for i in self._absorb(opdef, attrs, out)]
            return self._add_op(opdef, attrs, outs, e.span)

    def _absorb(self, opdef: OpDef, attrs, node_id: str) -> list[str]:
        """`join(join(a | b) | c)` is `join(a | b | c)` when nothing else uses the inner join:
        FractalNet's expansion rule nests joins that its figure draws as one."""
        g, node = self.graph, self.graph[node_id]
        named = any(v == Tensor(node_id) for env in self.body_envs for v in env.values.values())
        if node.op != opdef.name or node.attrs != attrs or g.users(node_id) or named:
            return [node_id]
        g.remove(node_id)
        return list(node.inputs)

    def _Combinator(self, e: ast.Combinator, env, x, start):
        with self._frame(Frame(e.kind, "", e.kind, e.span)):
            if e.kind == "dense":
                if e.second is not None or e.attrs:
                    raise error("`dense<body>` takes one body and no attributes", e.span)
                body = self.elab(e.body, env, x)
                return self._add_op(OPS["concat"], OPS["concat"].attrs(), [x, body], e.span)
            return self._residual(e, env, x)

    def _residual(self, e: ast.Combinator, env, x):
        mode, survive = "auto", 1.0
        for attr in e.attrs:
            if attr.name not in RESIDUAL_ATTRS or attr.value is None:
                raise error("`residual` has two attributes: `shortcut` (" + " | ".join(SHORTCUTS)
                            + ") and `survive` (a probability or linear_decay(p_L))", attr.span)
            if attr.name == "shortcut":
                mode = self._word(attr.value, env, SHORTCUTS)
            else:
                survive = self.ev.eval(attr.value, env)
        body = self.elab(e.body, env, x)
        if survive not in (1, LinearDecay(1.0)):  # stochastic depth on the residual branch
            body = self._add_op(OPS["droppath"], self._validate(OPS["droppath"], {"survive": survive}, e),
                                [body], e.span)
        g = self.graph
        if e.second is not None:
            shortcut = self.elab(e.second, env, x)
        elif mode == "identity" or (mode == "auto" and g[body].shape == g[x].shape):
            shortcut = x
        else:
            shortcut = self._projection(mode, x, body, e)
        if g[body].shape != g[shortcut].shape:
            raise self._diag(OpError(
                "residual add needs equal shapes",
                details=[f"body gives {fmt(g[body].shape)} (from `{body}`), "
                         f"shortcut gives {fmt(g[shortcut].shape)} (from `{shortcut}`)"],
                help="let the shortcut project (`shortcut=proj`, the default when shapes differ) or keep the shape"
                if mode == "identity" else None), e.span)
        return self._add_op(OPS["add"], OPS["add"].attrs(), [body, shortcut], e.span)

    def _projection(self, mode: str, x: str, body: str, e: ast.Combinator) -> str:
        (c_in, h, w), out = self.graph[x].shape, self.graph[body].shape
        if len(out) != 3:
            raise error("a residual body must keep a CxHxW feature map", e.span)
        stride = max(1, h // out[1])
        if -(-h // stride) != out[1]:
            stride += 1
        if mode == "pad":
            return self._add_op(OPS["pad_shortcut"], OPS["pad_shortcut"].attrs(out=out[0], s=stride), [x], e.span)
        conv = self._make_op(OPS["conv"], e, [x], env=self.globals,
                             extra={"out": out[0], "k": (1, 1), "s": stride, "p": 0}, use_override=False)
        return self._make_op(OPS["bn"], e, [conv], env=self.globals) if self._unit_has_after_conv(e.span.file, "bn") \
            else conv

    def _UnitLayer(self, e: ast.UnitLayer, env, x, start):
        if len(e.kernel) != 2:
            raise error(f"`{'x'.join(map(str, e.kernel))}` is not a kernel size; write KxK, e.g. 3x3", e.span)
        kw: dict[str, Any] = {"k": e.kernel}
        if e.channels is not None:
            kw["out"] = self.ev.eval_int(e.channels, env, "the number of filters", 1)
        if e.stride is not None:
            kw["s"] = self.ev.eval_int(e.stride, env, "the stride", 1)
        for attr in e.attrs:
            kw[attr.name] = self._attr_value(attr, env)
        if self.override is not None:
            raise error("a `unit` cannot contain a `KxK:C` layer: it is what such a layer expands to", e.span)
        unit, _ = self._unit(e.span.file)
        outer, self.override = self.override, _Override(kw, e)
        try:
            out = self.elab(unit, self.globals, x)
            if not self.override.used:
                raise error("the file's `unit` has no `conv` for `KxK:C` to fill", e.span)
        finally:
            self.override = outer
        return out

    def _NameLayer(self, e: ast.NameLayer, env, x, start):
        value = self._value_of(e.name, env)
        if isinstance(value, Tensor):
            if not start or e.channels or e.stride or e.attrs:
                raise error(f"`{e.name}` is a named tensor; a chain can start from it but not pass through it",
                            e.span, help=f"start a new line with `{e.name} -> ...`")
            return value.node
        ref = self._callee(e.name, env)
        if ref is not None:
            if e.channels or e.stride or e.attrs:
                raise error(f"`{e.name}` is a block: pass its arguments in parentheses, `{e.name}(...)`", e.span)
            block = self.program.blocks[ref.name]
            return self._single(self._call_block(block, *self._ref_args(ref, (), env), e, x), block, e)
        return self._op_layer(e.name, e, env, x, args=())

    def _CallLayer(self, e: ast.CallLayer, env, x, start):
        ref = self._callee(e.name, env)
        if ref is not None:
            if e.attrs:
                raise error(f"`{e.name}` is a block: put its arguments inside the parentheses", e.attrs[0].span)
            block = self.program.blocks[ref.name]
            return self._single(self._call_block(block, *self._ref_args(ref, e.args, env), e, x), block, e)
        return self._op_layer(e.name, e, env, x, args=e.args)

    def _op_layer(self, name: str, e, env, x, args):
        found = lookup(name)
        if found is None:
            raise self._unknown(name, e.span, env)
        opdef, kernel = found
        extra: dict[str, Any] = {}
        if kernel is not None:
            extra["k"] = kernel
        return self._make_op(opdef, e, [x], env, extra=extra, args=args)

    # ------------------------------------------------------------ blocks
    def _value_of(self, name: str, env: Env):
        try:
            return env.lookup(name)
        except KeyError:
            return None

    def _callee(self, name: str, env: Env) -> BlockRef | None:
        """The block a layer name calls: a local value (possibly partially applied) or a global block."""
        value = self._value_of(name, env)
        if isinstance(value, BlockRef):
            return value
        if value is not None or name not in self.program.blocks:
            return None
        return BlockRef(name)

    def _ref_args(self, ref: BlockRef, args, env):
        """The arguments of a call through `ref` (its preset ones, then the call's own), and the
        call's own, which label the use: `b(c, s=s)` reads `bottleneck(64, s=2)` wherever b came from."""
        own = self._eval_args(args, env)
        return ref.apply(own).call_args(), own

    def _eval_args(self, args, env):
        return [(a.name, self.ev.eval(a.value, env), a.span) for a in args]

    def _call_block(self, block: ast.BlockDef, args, shown, use, x, multi: bool = False, transparent: bool = False):
        if len(self.frames) >= MAX_DEPTH:
            raise error(f"blocks nest more than {MAX_DEPTH} deep: does `{block.name}` call itself without end?",
                        use.span)  # the block uses it passes through on its way out add the chain
        given = {block.input_name: self.graph[x].shape[0]} if block.input_name else {}
        bound = self._bind(block, args, use.span, given)
        written = (show(v) if n is None else f"{n}={show(v)}" for n, v, _ in shown)  # `bottleneck(128, s=2)`
        label = f"{block.name}({', '.join(written)})" if shown else block.name
        env = self.globals.child(bound)
        # A network that is nothing but a call of another (`network resnet50 = resnet(depth=50)`) is
        # that network: its call adds no component to the names, so modules are `stage1...`.
        name = "" if transparent else self._unique(block.name.lstrip("_") or "block")
        frame = Frame("block", name, label, use.span, block.span, params=tuple(bound.items()))
        with self._frame(frame):
            self.body_envs.append(env)
            try:
                current, outputs = self._run_body(block.body, env, x, allow_multi=multi)
            except CnnDslError as exc:  # say where the block was used, whatever went wrong inside
                _add_use_site(exc, label, use.span, block)
                raise
            finally:
                self.body_envs.pop()
        outputs = outputs or [("output", current)]
        return (outputs[0][1], outputs) if multi else (current if len(outputs) == 1 else None, outputs)

    def _single(self, result, block: ast.BlockDef, use) -> str:
        node, outputs = result
        if len(outputs) != 1:
            raise error(f"`{block.name}` has {len(outputs)} outputs; inside a chain a block needs one", use.span,
                        notes=[Note(f"`{block.name}` is defined", block.span)])
        return outputs[0][1]

    def _bind(self, block: ast.BlockDef, args, span: Span, given: dict[str, Any] | None = None) -> dict[str, Any]:
        names = [p.name for p in block.params]
        note = [Note(f"`{block.name}` is defined", block.span)]
        positional = [a for a in args if a[0] is None]
        if len(positional) > len(names):
            raise error(f"`{block.name}` takes {len(names)} argument{'s' * (len(names) != 1)}, got {len(positional)}",
                        span, notes=note, details=[f"parameters: {', '.join(names) or 'none'}"])
        bound = {p: v for p, (_, v, _) in zip(names, positional)}
        for name, value, arg_span in args:
            if name is None:
                continue
            if name not in names:
                raise error(f"`{block.name}` has no parameter `{name}`", arg_span, notes=note,
                            help=did_you_mean(name, names), details=[f"parameters: {', '.join(names) or 'none'}"])
            if name in bound:
                raise error(f"`{name}` is given twice", arg_span, notes=note)
            bound[name] = value
        given = given or {}
        for p in block.params:
            if p.name not in bound:
                if p.default is None:
                    raise error(f"`{block.name}` needs an argument for `{p.name}`", span, notes=note)
                bound[p.name] = self.ev.eval(p.default, self.globals.child({**given, **bound}))
        return {**given, **{p.name: bound[p.name] for p in block.params}}

    # ------------------------------------------------------------ ops
    def _make_op(self, opdef: OpDef, e, inputs: list[str], env: Env, extra=None, args=(), use_override=True) -> str:
        kw = dict(self._unit(e.span.file)[1].get(opdef.name, {}))
        kw.update(extra or {})
        where = e  # the text an error about this op points at
        if use_override and opdef.name == "conv" and self.override is not None and not self.override.used:
            self.override.used = True
            kw.update(self.override.kw)
            where = self.override.literal  # `3x3:16 grops=2`: the literal's attributes, not the unit's
        positional = list(opdef.positional)
        # What is written on a layer literal; a layer the elaborator adds (a residual's projection)
        # takes nothing from the construct that asked for it.
        written = e if isinstance(e, (ast.NameLayer, ast.CallLayer)) else None
        channels = getattr(written, "channels", None)
        stride = getattr(written, "stride", None)
        if channels is not None:
            if not positional:
                raise error(f"`{opdef.name}` takes no `:` value", channels.span)
            kw[positional[0]] = self.ev.eval(channels, env)
        if stride is not None:
            if "s" not in opdef.attrs.model_fields:
                raise error(f"`{opdef.name}` has no stride", stride.span)
            kw["s"] = self.ev.eval_int(stride, env, "the stride", 1)
        pos_args = [a for a in args if a.name is None]
        if len(pos_args) > len(positional):
            raise error(f"`{opdef.name}` takes at most {len(positional)} positional argument(s)", e.span,
                        details=[f"in order: {', '.join(positional) or 'none'}"])
        for field_name, a in zip(positional, pos_args):
            kw[field_name] = self.ev.eval(a.value, env)
        for a in args:
            if a.name is not None:
                kw[a.name] = self.ev.eval(a.value, env)
        for attr in getattr(written, "attrs", ()):
            kw[attr.name] = self._attr_value(attr, env)
        attrs = self._validate(opdef, kw, where)
        if opdef.category in TAKES_VECTOR and len(self.graph[inputs[0]].shape) != 1:
            inputs = [self._add_op(OPS["flatten"], OPS["flatten"].attrs(), inputs, e.span)]
        return self._add_op(opdef, attrs, inputs, e.span)

    def _validate(self, opdef: OpDef, kw: dict[str, Any], e):
        fields = opdef.attrs.model_fields
        for key in kw:
            if key not in fields:
                span = next((a.span for a in getattr(e, "attrs", ()) if a.name == key), e.span)
                hint = did_you_mean(key, fields)
                if hint is None and (lookup(key) or key in self.program.blocks):
                    hint = f"`{key}` is a layer: did you forget `->` before it?"
                known = ", ".join(fields) or "none"
                raise error(f"`{opdef.name}` has no attribute `{key}`", span, help=hint,
                            details=[f"attributes of {opdef.name}: {known}"])
        try:
            return opdef.attrs(**kw)
        except ValidationError as exc:
            first = exc.errors()[0]
            key = str(first["loc"][0]) if first["loc"] else ""
            span = next((a.span for a in getattr(e, "attrs", ()) if a.name == key), e.span)
            raise error(f"bad value for `{key}` of `{opdef.name}`: {show(kw.get(key))}", span,
                        details=[first["msg"]]) from None

    def _add_op(self, opdef: OpDef, attrs, inputs: list[str], span: Span) -> str:
        g = self.graph
        if len(g) >= MAX_NODES:
            raise self._too_big(span)
        assert opdef.arity is None or len(inputs) == opdef.arity, (opdef.name, inputs)  # a bug, not user input
        if self.override is not None:  # a layer of the unit belongs to the `KxK:C` that expanded it
            span = self.override.span
        ins = [g[i].shape for i in inputs]
        try:
            attrs = opdef.complete(attrs, ins)
            shape = opdef.shape(attrs, ins)
        except OpError as exc:
            raise self._diag(exc, span, inputs) from None
        node = g.add(Node(self._node_name(opdef.name), "op", opdef.name, attrs, list(inputs), span, tuple(self.frames)))
        node.meta["shape"] = shape
        return node.id

    def _too_big(self, span: Span, details: list[str] | None = None) -> CnnDslError:
        return error(f"the network has more than {MAX_NODES} layers", span, details=details,
                     help="check the repeat counts; this limit keeps a typo from exhausting memory")

    def _diag(self, exc: OpError, span: Span, inputs: list[str] = ()) -> CnnDslError:
        g = self.graph
        details = list(exc.details)
        if len(inputs) > 1:
            details = [f"input {i + 1}: {fmt(g[n].shape)} from `{n}` ({g[n].span})" for i, n in enumerate(inputs)]
        return CnnDslError(Diagnostic(exc.args[0], span, details=details, help=exc.help))

    # ------------------------------------------------------------ naming, units, helpers
    def _path(self) -> str:
        return self.paths[-1] if self.paths else ""

    def _unique(self, base: str) -> str:
        """The next free `base<n>` among the names of the current block: layers and block uses share
        one namespace (they become attributes of one module), so `conv1` the layer and `conv1` the
        use of a block named `conv` cannot both exist, whatever the block names are."""
        path = self._path()
        taken = self.taken.setdefault(path, set())
        n = self.counters.get((path, base), 0)
        while True:
            n += 1
            name = f"{base}{n}" if not base[-1:].isdigit() else f"{base}_{n}"
            if name not in taken:
                break
        self.counters[(path, base)] = n
        taken.add(name)
        return name

    def _node_name(self, op: str) -> str:
        path = self._path()
        name = self._unique(op)
        return f"{path}.{name}" if path else name

    @contextmanager
    def _frame(self, frame: Frame):
        parent = self._path()
        self.frames.append(frame)
        self.paths.append(f"{parent}.{frame.name}" if parent and frame.name else parent or frame.name)
        try:
            yield
        finally:
            self.frames.pop()
            self.paths.pop()

    def _unit(self, file: str):
        if file not in self._units:
            info = file_info(self.program, file)
            chain = info.unit.chain if info is not None and info.unit is not None else self._default_unit
            self._units[file] = (chain, self._unit_defaults(chain))
        return self._units[file]

    def _unit_defaults(self, chain: ast.Layer) -> dict[str, dict[str, Any]]:
        """`unit = conv(bias=false) -> bn(eps=0.001) -> relu`: those keywords are the file's
        defaults for every conv and bn, so a bare `conv1x1:256` agrees with the unit."""
        out: dict[str, dict[str, Any]] = {}
        items = chain.items if isinstance(chain, ast.Seq) else (chain,)
        for item in items:
            if isinstance(item, ast.CallLayer):
                name = ALIASES.get(item.name, item.name)
                out.setdefault(name, {}).update(
                    {a.name: self.ev.eval(a.value, self.globals) for a in item.args if a.name})
        return out

    def _unit_has_after_conv(self, file: str, op: str) -> bool:
        """`conv -> bn -> relu` projects shortcuts with conv + bn; a pre-activation unit
        (`bn -> relu -> conv`) with a bare conv, as He et al. 2016 do."""
        chain = self._unit(file)[0]
        names = [ALIASES.get(getattr(i, "name", ""), getattr(i, "name", ""))
                 for i in (chain.items if isinstance(chain, ast.Seq) else (chain,))]
        return "conv" in names and op in names[names.index("conv"):]

    def _attr_value(self, attr: ast.Attr, env: Env):
        return True if attr.value is None else self.ev.eval(attr.value, env)

    def _word(self, e: ast.Expr, env: Env, words: tuple[str, ...]) -> str:
        """Enumerated attributes take bare words: `shortcut=pad`."""
        value = e.name if isinstance(e, ast.Var) and e.name in words else self.ev.eval(e, env)
        if value not in words:
            raise error(f"expected one of {', '.join(words)}, got {show(value)}", e.span)
        return value

    def _unknown(self, name: str, span: Span, env: Env) -> CnnDslError:
        candidates = layer_names(name) | set(self.program.blocks) | env.names()
        return error(f"unknown layer or block `{name}`", span, help=did_you_mean(name, candidates))
