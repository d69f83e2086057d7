"""AST -> graph IR. Blocks are expanded, parameters bound, repetitions and combinators unrolled,
and every node gets its output shape from its op's rule as it is created (a residual needs the
shape of its body to choose its shortcut, and an error is best reported where it happens).

The work is split by concern, each a module of plain functions over a `Context`:
`body` (statements), `layers` (layer expressions), `blocks` (block uses and binding), `literals`
and `units` (conv literals and the file's unit), `merges`, `combinators` (residual and dense),
`nodes` and `attributes` (op nodes, attribute validation), `context` (scopes and naming)."""
from __future__ import annotations

import re
import sys
from typing import Any

from .. import ast
from ..diagnostics import CnnDslError, Note, did_you_mean, error
from ..ir import Graph, Node
from ..ops import fmt
from ..rewrite import rewrite
from ..source import SOURCES, Span
from . import body
from .context import MAX_NODES, Context, Layers
from .program import Program
from .schedules import resolve_schedules
from .sizes import LeastSizes
from .units import Units
from .values import Env, Evaluator, show

# what a parameter of these names usually means to set, and the option that sets it
OUTSIDE_OPTIONS = {"input": "the input shape is set with --input CxHxW (input= in Python)",
                   "network": "the network is chosen with --network NAME (network= in Python)"}
RECURSION_LIMIT = 20_000  # deep networks (ResNet-1202) recurse through nested block uses


class Elaborator:
    """Elaborates the networks of one program; each `build` is one network."""

    def __init__(self, program: Program, layers: Layers | None = None, least_sizes: LeastSizes | None = None):
        self.program = program
        # the bounds depend on the program's text alone: one for all the networks of a check, which
        # reads them first to refuse a check past the layer limit (a second reading of a large
        # file's text cost a tenth of a second)
        self.least_sizes = least_sizes or LeastSizes(program, MAX_NODES + 1)
        self.ev = Evaluator(set(program.blocks), program.defs)
        self.globals = Env()
        self.layers = layers or Layers()  # shared by the networks of one check (check_program)

    def build(self, main: ast.BlockDef, params: dict[str, Any], input_dims: tuple[int, ...] | None) -> Graph:
        for let in self.program.lets:
            self.globals.values[let.name] = self.ev.eval(let.value, self.globals)
        dims = input_dims or self._declared_dims(main)
        g = Graph(main.name)
        g.source = self.program.root
        bound = self._bind_network_params(main, params)
        g.params = dict(bound)
        g.add(Node("input", "input", None, None, [], main.span, ())).meta["shape"] = tuple(dims)
        ctx = Context(self.program, self.ev, self.globals, g, Units(self.program, self.ev, self.globals),
                      self.least_sizes, self.layers)
        body = main.body[0].span if main.body else main.span
        ctx.check_room(main.name, ctx.least_sizes.of(main), False, body)  # before any of it is built
        try:
            current, outputs = self._run(ctx, main, self.globals.child(bound))
        except CnnDslError as exc:
            note_outside_values(exc, params)
            raise
        for name, node_id in outputs or [("output", current)]:
            out = g.add(Node(f"output:{name}", "output", None, None, [node_id], g[node_id].span, ()))
            out.meta["shape"] = g[node_id].shape
            out.meta["name"] = name
        resolve_schedules(g)
        return rewrite(g)

    def _run(self, ctx: Context, main: ast.BlockDef, env: Env) -> tuple[str, list[tuple[str, str]] | None]:
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, RECURSION_LIMIT))
        try:
            ctx.body_envs.append(env)
            return body.run(ctx, main.body, env, "input", allow_multi=True)
        finally:
            sys.setrecursionlimit(old_limit)

    def _declared_dims(self, main: ast.BlockDef) -> tuple[int, ...]:
        """The input shape the file declares: the network's own, or that of the network it is
        nothing but a call of (`network resnet50 = resnet(depth=50)`), and so on down the chain."""
        chain = [main]
        while chain[-1].input_dims is None:
            callee = self._callee_network(chain[-1])
            if callee is None or callee in chain:
                raise _no_input_shape(main, chain + ([callee] if callee is not None else []))
            chain.append(callee)
        net = chain[-1]
        assert net.input_dims is not None
        if not all(d >= 1 for d in net.input_dims):
            raise error(f"an input shape must have sizes of at least 1, got {fmt(net.input_dims)}",
                        dims_span(net), help="e.g. `3x224x224` (channels x height x width), or `784` for a vector")
        return net.input_dims

    def _callee_network(self, net: ast.BlockDef) -> ast.BlockDef | None:
        if net.single_expr and isinstance(net.body[0], ast.ChainStmt) \
                and isinstance(net.body[0].chain, (ast.CallLayer, ast.NameLayer)):
            callee = self.program.blocks.get(net.body[0].chain.name)
            if callee is not None and callee.is_network:
                return callee
        return None

    def _bind_network_params(self, main: ast.BlockDef, params: dict[str, Any]) -> dict[str, Any]:
        names = [p.name for p in main.params]
        for key in params:
            if key not in names:
                known = ", ".join(names) or "none"
                raise error(f"network `{main.name}` has no parameter `{key}` (parameters: {known})", main.span,
                            help=did_you_mean(key, names) or OUTSIDE_OPTIONS.get(key))
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


def _no_input_shape(main: ast.BlockDef, chain: list[ast.BlockDef]) -> CnnDslError:
    """No shape anywhere down the chain of networks that call each other; a cycle says so."""
    details = []
    if len(chain) > 1:
        path = " > ".join(f"`{n.name}`" for n in chain)
        cycle = chain[-1] in chain[:-1]
        details = [f"{'the networks call each other in a circle' if cycle else 'it takes its shape from'}: {path}"]
    return error(f"network `{main.name}` has no input shape", main.span, details=details,
                 help=f"declare it (`network {main.name} : 3x224x224 ...`) or pass --input CxHxW")


def dims_span(net: ast.BlockDef) -> Span:
    """Where a network's input shape is written: the first `KxHxW` after its name and parameters
    (the AST keeps the network's span, not the shape's), or the network's name if it is not found."""
    start = net.params[-1].span if net.params else net.span
    line, column = start.end_line, start.end_column if net.params else start.column
    pattern = re.compile(r"\d[0-9x]*")
    for lineno in range(line, min(line + 8, net.span.end_line + 1)):
        text = SOURCES.line(net.span.file, lineno) or ""
        at = text.find(":", column - 1 if lineno == line else 0)
        found = pattern.search(text, at + 1) if at >= 0 else None
        if found:
            return Span(net.span.file, lineno, found.start() + 1, lineno, found.end() + 1)
    return net.span


def note_outside_values(exc: CnnDslError, params: dict[str, Any]) -> None:
    """An error in text that reads a parameter set from outside the file (`-D width=-32`) says so:
    the file's text alone does not explain the value."""
    for d in exc.diagnostics:
        text = SOURCES.line(d.span.file, d.span.line) if d.span is not None else None
        if not text or d.span is None:
            continue
        end = d.span.end_column if d.span.end_line == d.span.line else len(text) + 1
        quoted = text[d.span.column - 1:end - 1]
        for name, value in params.items():
            if re.search(rf"\b{re.escape(name)}\b", quoted):
                shown = show(value)
                d.notes.insert(0, Note(f"`{name}` is {shown}, set from outside the file (-D {name}={shown})"))
