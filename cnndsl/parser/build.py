"""Lark parse tree -> `cnndsl.ast`, one method per grammar rule, positions from `meta`."""
from __future__ import annotations

import dataclasses

from lark import Token, Transformer, v_args

from .. import ast
from ..source import Span


def _dims(tok: Token) -> tuple[int, ...]:
    return tuple(int(p) for p in str(tok).split("x"))


@v_args(meta=True)
class AstBuilder(Transformer):
    def __init__(self, filename: str):
        super().__init__()
        self.filename = filename

    def _span(self, meta) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.filename, 1, 1, 1, 2)
        return Span(self.filename, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok_span(self, tok: Token) -> Span:
        return Span(self.filename, tok.line, tok.column, tok.end_line, tok.end_column)

    # ------------------------------------------------------------ items
    def start(self, meta, items):
        return ast.Module(self._span(meta), self.filename, tuple(items))

    def include(self, meta, c):
        return ast.Include(self._span(meta), str(c[0])[1:-1])

    def unit_decl(self, meta, c):
        return ast.UnitDecl(self._span(meta), c[0])

    def params(self, meta, c):
        return tuple(p for p in c if p is not None)

    def param(self, meta, c):
        return ast.Param(self._span(meta), str(c[0]), c[1])

    def expr_body(self, meta, c):
        return (ast.ChainStmt(c[0].span, c[0]),), True

    def stmt_body(self, meta, c):
        return tuple(c), False

    def block_def(self, meta, c):
        name, params, input_name, (body, single) = c
        return ast.BlockDef(self._span(meta), str(name), params or (), body, False, None, single,
                            str(input_name) if input_name else None)

    def network_def(self, meta, c):
        name, params, dims, (body, single) = c
        return ast.BlockDef(self._span(meta), str(name), params or (), body, True,
                            _dims(dims) if dims else None, single)

    # ------------------------------------------------------------ statements
    def let_stmt(self, meta, c):
        return ast.Let(self._span(meta), str(c[0]), c[1])

    def chain_stmt(self, meta, c):
        return ast.ChainStmt(self._span(meta), c[0])

    def output_stmt(self, meta, c):
        return ast.Output(self._span(meta), tuple(c))

    def output_item(self, meta, c):
        return ast.OutputItem(self._span(meta), str(c[0]), c[1])

    def if_stmt(self, meta, c):
        cond, *rest = c
        otherwise = ()
        if rest and isinstance(rest[-1], tuple) and rest[-1][:1] == ("else",):
            otherwise = rest.pop()[1]
        elif rest and rest[-1] is None:
            rest.pop()
        return ast.If(self._span(meta), cond, tuple(rest), otherwise)

    def else_block(self, meta, c):
        return ("else", tuple(c))

    # ------------------------------------------------------------ layer expressions
    def seq(self, meta, c):
        items = []
        for item in c:
            items.extend(item.items if isinstance(item, ast.Seq) else (item,))
        return items[0] if len(items) == 1 else ast.Seq(self._span(meta), tuple(items))

    def rseq(self, meta, c):
        # `a <- b` means b feeds a.
        return self.seq(meta, list(reversed(c)))

    def alt(self, meta, c):
        if len(c) == 1:  # `(a -> b)*2` groups; the alias in `?alt: ... -> alt` keeps Lark from inlining it
            return c[0]
        return ast.Merge(self._span(meta), "concat", tuple(c), ())

    def repeat(self, meta, c):
        return ast.Repeat(self._span(meta), c[0], c[1])

    def named(self, meta, c):
        return ast.Named(self._span(meta), c[0], str(c[1]))

    def unit_layer(self, meta, c):
        dims, channels, stride, *attrs = c
        return ast.UnitLayer(self._span(meta), _dims(dims), channels, stride, tuple(attrs))

    def name_layer(self, meta, c):
        name, channels, stride, *attrs = c
        return ast.NameLayer(self._span(meta), str(name), channels, stride, tuple(attrs))

    def call_layer(self, meta, c):
        name, args, *attrs = c
        return ast.CallLayer(self._span(meta), str(name), tuple(args or ()), tuple(attrs))

    def merge(self, meta, c):
        kind, body, *attrs = c
        branches = body.branches if isinstance(body, ast.Merge) and not body.attrs and body.kind == "concat" else (body,)
        return ast.Merge(self._span(meta), "concat" if str(kind) == "inception" else str(kind),
                         tuple(branches), tuple(attrs))

    def merge_for(self, meta, c):
        kind, body, var, iterable, *attrs = c
        return ast.MergeFor(self._span(meta), "concat" if str(kind) == "inception" else str(kind),
                            body, str(var), iterable, tuple(attrs))

    def combinator(self, meta, c):
        kind, body, second, *attrs = c
        return ast.Combinator(self._span(meta), str(kind), body, second, tuple(attrs))

    def group(self, meta, c):
        # `(a | b)`: the concat spans its parentheses, so an error's caret covers the whole group.
        if isinstance(c[0], ast.Merge) and not c[0].attrs:
            return dataclasses.replace(c[0], span=self._span(meta))
        return c[0]

    def cond_layer(self, meta, c):
        return ast.CondLayer(self._span(meta), c[0], c[1], c[2])

    def for_layer(self, meta, c):
        return ast.ForLayer(self._span(meta), c[0], str(c[1]), c[2])

    def attr_value(self, meta, c):
        return ast.Attr(self._span(meta), str(c[0]), c[1])

    def attr_flag(self, meta, c):
        return ast.Attr(self._span(meta), str(c[0]), None)

    def args(self, meta, c):
        return tuple(a for a in c if a is not None)

    def pos_arg(self, meta, c):
        return ast.Arg(self._span(meta), None, c[0])

    def kw_arg(self, meta, c):
        return ast.Arg(self._span(meta), str(c[0]), c[1])

    # ------------------------------------------------------------ value expressions
    def ternary(self, meta, c):
        return ast.Ternary(self._span(meta), *c)

    def or_(self, meta, c):
        return c[0] if len(c) == 1 else ast.BoolOp(self._span(meta), "or", tuple(c))

    def and_(self, meta, c):
        return c[0] if len(c) == 1 else ast.BoolOp(self._span(meta), "and", tuple(c))

    def not_(self, meta, c):
        return ast.Unary(self._span(meta), "not", c[0])

    def compare(self, meta, c):
        return ast.BinOp(self._span(meta), c[1], c[0], c[2])

    def cmp_op(self, meta, c):
        return str(c[0])

    add_op = mul_op = cmp_op

    def binop(self, meta, c):
        left = c[0]
        for op, right in zip(c[1::2], c[2::2]):
            span = Span(self.filename, left.span.line, left.span.column, right.span.end_line, right.span.end_column)
            left = ast.BinOp(span, str(op), left, right)
        return left

    def neg(self, meta, c):
        return ast.Unary(self._span(meta), "-", c[0])

    def power(self, meta, c):
        if c[1] is None:
            return c[0]
        return ast.BinOp(self._span(meta), "**", c[0], c[1])

    def int(self, meta, c):
        return ast.Const(self._span(meta), int(c[0]))

    def float(self, meta, c):
        return ast.Const(self._span(meta), float(c[0]))

    def string(self, meta, c):
        return ast.Const(self._span(meta), str(c[0])[1:-1])

    def true(self, meta, c):
        return ast.Const(self._span(meta), True)

    def false(self, meta, c):
        return ast.Const(self._span(meta), False)

    def var(self, meta, c):
        return ast.Var(self._span(meta), str(c[0]))

    def list(self, meta, c):
        return ast.ListExpr(self._span(meta), tuple(x for x in c if x is not None))

    def dict(self, meta, c):
        return ast.DictExpr(self._span(meta), tuple(x for x in c if x is not None))

    def pair(self, meta, c):
        return (c[0], c[1])

    def index(self, meta, c):
        return ast.Index(self._span(meta), c[0], c[1])

    def call(self, meta, c):
        return ast.Call(self._span(meta), str(c[0]), tuple(c[1] or ()))
