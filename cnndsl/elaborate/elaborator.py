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
from ..rewrite import rewrite
from ..source import SOURCES
from . import body
from .context import Context
from .program import Program
from .schedules import resolve_schedules
from .units import Units
from .values import Env, Evaluator, show

# what a parameter of these names usually means to set, and the option that sets it
OUTSIDE_OPTIONS = {"input": "the input shape is set with --input CxHxW (input= in Python)",
                   "network": "the network is chosen with --network NAME (network= in Python)"}
RECURSION_LIMIT = 20_000  # deep networks (ResNet-1202) recurse through nested block uses


class Elaborator:
    """Elaborates the networks of one program; each `build` is one network."""

    def __init__(self, program: Program):
        self.program = program
        self.ev = Evaluator(set(program.blocks), program.defs)
        self.globals = Env()

    def build(self, main: ast.BlockDef, params: dict[str, Any], input_dims: tuple[int, ...] | None) -> Graph:
        for let in self.program.lets:
            self.globals.values[let.name] = self.ev.eval(let.value, self.globals)
        dims = input_dims or main.input_dims or self._inherited_dims(main)
        if dims is None:
            raise error(f"network `{main.name}` has no input shape", main.span,
                        help=f"declare it (`network {main.name} : 3x224x224 ...`) or pass --input CxHxW")
        g = Graph(main.name)
        g.source = self.program.root
        bound = self._bind_network_params(main, params)
        g.params = dict(bound)
        g.add(Node("input", "input", None, None, [], main.span, ())).meta["shape"] = tuple(dims)
        ctx = Context(self.program, self.ev, self.globals, g, Units(self.program, self.ev, self.globals))
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

    def _inherited_dims(self, main: ast.BlockDef) -> tuple[int, ...] | None:
        """`network resnet50 = resnet(depth=50)` takes the input shape of the network it names."""
        if main.single_expr and isinstance(main.body[0], ast.ChainStmt) \
                and isinstance(main.body[0].chain, (ast.CallLayer, ast.NameLayer)):
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
