"""Lark's reductions -> `cnndsl.ast`, one method per grammar rule, applied while the LALR parser
runs (fast.py's loop, or Lark's `transformer=` option): no parse tree is built, so nothing recurses
over one and the cost is one call per reduction.

A plain class, not a `lark.Transformer`: the fast loop calls the methods itself, and Lark needs
only the attributes (a rule without a method, a `_rule` to inline, becomes a tree either way).
A child is a token if its class is in `TOKEN_TYPES`: this package's, and Lark's once Lark is loaded.

The parser keeps every token (`keep_all_tokens`), so a node's span runs from the start of its
first child to the end of its last, keywords and brackets included. A parenthesised expression is
its inner node, but the parentheses are its extent as a child (`(a) ** b` starts at the `(`).

Each node's nesting height is tracked as it is built: the evaluator, the elaborator and the name
resolver recurse over the AST, so a node nested more than MAX_NESTING deep is refused here, where
it is written, before anything recurses over it.
"""
from __future__ import annotations

import math
from typing import Any

from .. import ast
from ..diagnostics import CnnDslError, error
from ..source import Span
from .limits import MAX_INT, MAX_NESTING
from .tokens import TOKEN_TYPES
from .tokens import LexedToken as Token

_MAX_DIGITS = len(str(MAX_INT))

# Terminals that carry a value; every other token is a keyword or punctuation.
_NAMED = frozenset({"NAME", "INT", "FLOAT", "STRING", "DIMS", "MERGE", "COMBINATOR"})

_Pos = tuple[int, int]
# What a reduction gets: tokens, nodes, parts and placeholders (None). An alias, because the
# builder's `list` method (the list-literal rule) shadows the builtin inside the class.
Children = list[Any]

# Rules whose method returns its only child unchanged when it has one (placeholders aside): a
# reduction of one of them by one symbol needs no call (parser/fast.py skips it).
PASSTHROUGH = frozenset({"seq", "rseq", "alt", "or_", "and_", "binop", "power"})


class _Part:
    """An intermediate result that is not an AST node (a parameter list, a body); its extent and
    height are kept by the builder like a node's."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _dims(tok: Token, span: Span) -> tuple[int, ...]:
    return tuple(_int_literal(p, span) for p in str(tok).split("x"))


def _int_literal(text: str, span: Span) -> int:
    text = text.lstrip("0") or "0"
    if len(text) > _MAX_DIGITS or int(text) > MAX_INT:
        shown = text if len(text) <= 30 else f"{text[:12]}...{text[-6:]} ({len(text)} digits)"
        raise error(f"the integer {shown} does not fit in 64 bits", span,
                    help=f"integers are limited to {MAX_INT:,} (2**63 - 1)")
    return int(text)


class AstBuilder:
    """Not reentrant: one parse at a time sets `filename` and `reset()`s the builder."""

    def __init__(self, filename: str = "<string>") -> None:
        self.filename = filename
        self._extent: dict[int, tuple[_Pos, _Pos]] = {}  # id(node) -> extent as a child, with brackets
        self._height: dict[int, int] = {}
        self._alive: list[object] = []  # everything keyed by id() above, so no id is reused mid-parse

    def reset(self, filename: str) -> None:
        self.filename = filename
        self._extent.clear()
        self._height.clear()
        self._alive.clear()

    # ------------------------------------------------------------ extents and heights
    # The hot path of the parser: one call per reduction, so plain loops and dict look-ups.
    def _start(self, x: Any) -> _Pos | None:
        if type(x) in TOKEN_TYPES:
            return (x.line or 1, x.column or 1)
        ext = self._extent.get(id(x))
        if ext is not None:
            return ext[0]
        return (x.span.line, x.span.column) if isinstance(x, ast.Node) else None

    def _end(self, x: Any) -> _Pos | None:
        if type(x) in TOKEN_TYPES:
            return (x.end_line or 1, x.end_column or 1)
        ext = self._extent.get(id(x))
        if ext is not None:
            return ext[1]
        return (x.span.end_line, x.span.end_column) if isinstance(x, ast.Node) else None

    def _bounds(self, c: Children) -> tuple[_Pos, _Pos]:
        start = end = None
        for x in c:
            if x is not None and (start := self._start(x)) is not None:
                break
        for x in reversed(c):
            if x is not None and (end := self._end(x)) is not None:
                break
        if start is None or end is None:
            return (1, 1), (1, 2)
        return start, end

    def _span(self, c: Children) -> Span:
        (line, col), (end_line, end_col) = self._bounds(c)
        return Span(self.filename, line, col, end_line, end_col)

    def _depth(self, c: Children) -> int:
        """The height of the deepest child (tokens and placeholders: 0)."""
        get = self._height.get
        return max([get(id(x), 0) for x in c], default=0)

    def _node(self, node: ast.Node, c: Children, height: int | None = None) -> ast.Node:
        """Record `node`'s height (one more than its deepest child's) and refuse it past the limit."""
        h = height if height is not None else 1 + self._depth(c)
        if h > MAX_NESTING:
            raise _too_deep(node.span)
        self._height[id(node)] = h
        self._alive.append(node)
        return node

    def _part(self, value: Any, c: Children) -> _Part:
        part = _Part(value)
        self._extent[id(part)] = self._bounds(c)
        self._height[id(part)] = self._depth(c)
        self._alive.append(part)
        return part

    def _wrap(self, inner: ast.Node, c: Children) -> ast.Node:
        """`(x)`: the inner node, whose extent as a child now includes the brackets."""
        self._extent[id(inner)] = self._bounds(c)
        self._alive.append(inner)
        return inner

    @staticmethod
    def _values(c: Children) -> list:
        """The children that carry meaning: nodes and parts, not punctuation or placeholders."""
        return [x for x in c if isinstance(x, (ast.Node, _Part))]

    # ------------------------------------------------------------ items
    def start(self, c: Children) -> Any:
        items = tuple(x for x in c if isinstance(x, ast.Include | ast.UnitDecl | ast.BlockDef | ast.Let | ast.FuncDef))
        return ast.Module(self._span(c), self.filename, items)

    def include(self, c: Children) -> Any:
        return ast.Include(self._span(c), str(c[1])[1:-1])

    def unit_decl(self, c: Children) -> Any:
        return self._node(ast.UnitDecl(self._span(c), c[2]), c)

    def params(self, c: Children) -> Any:
        return self._part(tuple(x for x in c if isinstance(x, ast.Param)), c)

    def param(self, c: Children) -> Any:
        return self._node(ast.Param(self._span(c), str(c[0]), c[2]), c)

    def expr_body(self, c: Children) -> Any:
        chain = c[1]
        return self._part(((ast.ChainStmt(chain.span, chain),), True), c)

    def stmt_body(self, c: Children) -> Any:
        return self._part((tuple(x for x in c if isinstance(x, ast.Node)), False), c)

    def block_def(self, c: Children) -> Any:
        _, name, params, _, input_name, body = c
        (stmts, single) = body.value
        return self._node(ast.BlockDef(self._span(c), str(name), params.value if params else (), stmts, False,
                                       None, single, str(input_name) if input_name else None), c)

    def network_def(self, c: Children) -> Any:
        _, name, params, _, dims, body = c
        (stmts, single) = body.value
        span = self._span(c)
        shape = _dims(dims, Span(self.filename, dims.line, dims.column, dims.end_line, dims.end_column)) \
            if dims else None
        return self._node(ast.BlockDef(span, str(name), params.value if params else (), stmts, True, shape,
                                       single), c)

    # ------------------------------------------------------------ statements
    def let_stmt(self, c: Children) -> Any:
        return self._node(ast.Let(self._span(c), str(c[1]), c[3]), c)

    def def_stmt(self, c: Children) -> Any:
        _, name, params, _, body = c
        return self._node(ast.FuncDef(self._span(c), str(name), params.value, body), c)

    def chain_stmt(self, c: Children) -> Any:
        return self._node(ast.ChainStmt(self._span(c), c[0]), c)

    def output_stmt(self, c: Children) -> Any:
        return self._node(ast.Output(self._span(c), tuple(x for x in c if isinstance(x, ast.OutputItem))), c)

    def output_item(self, c: Children) -> Any:
        return self._node(ast.OutputItem(self._span(c), str(c[0]), c[2]), c)

    def if_stmt(self, c: Children) -> Any:
        otherwise = c[-1].value if isinstance(c[-1], _Part) else ()
        then = tuple(x for x in c[2:] if isinstance(x, ast.Stmt))
        return self._node(ast.If(self._span(c), c[1], then, otherwise), c)

    def else_block(self, c: Children) -> Any:
        return self._part(tuple(x for x in c if isinstance(x, ast.Node)), c)

    # ------------------------------------------------------------ layer expressions
    def seq(self, c: Children) -> Any:
        return c[0] if len(c) == 1 else self._seq(self._values(c), c)

    def rseq(self, c: Children) -> Any:
        return c[0] if len(c) == 1 else self._seq(self._values(c)[::-1], c)  # `a <- b` means b feeds a

    def _seq(self, parts: list, c: Children) -> Any:
        if len(parts) == 1:
            return parts[0]
        items: list = []
        for item in parts:
            items.extend(item.items if isinstance(item, ast.Seq) else (item,))
        height = 1 + self._depth(items)
        return self._node(ast.Seq(self._span(c), tuple(items)), c, height)

    def alt(self, c: Children) -> Any:
        if len(c) == 1:
            return c[0]
        branches = self._values(c)
        if len(branches) == 1:  # `(a -> b)*2` groups; the alias in `?alt: ... -> alt` keeps Lark from inlining it
            return branches[0]
        return self._node(ast.Merge(self._span(c), "concat", tuple(branches), ()), c)

    def repeat(self, c: Children) -> Any:
        return self._node(ast.Repeat(self._span(c), c[0], c[2]), c)

    def named(self, c: Children) -> Any:
        return self._node(ast.Named(self._span(c), c[0], str(c[2])), c)

    def unit_layer(self, c: Children) -> Any:
        dims, _, channels, _, stride, *attrs = c
        span = self._span(c)
        return self._node(ast.UnitLayer(span, _dims(dims, span), channels, stride, tuple(attrs)), c)

    def kernel_layer(self, c: Children) -> Any:
        _, height, _, _, width, _, _, channels, _, stride, *attrs = c
        return self._node(ast.UnitLayer(self._span(c), (), channels, stride, tuple(attrs), (height, width)), c)

    def name_layer(self, c: Children) -> Any:
        name = c[0]
        if len(c) == 5 and c[2] is None and c[4] is None and type(name) in TOKEN_TYPES:
            # a bare name (`relu`), most layers of a large file: its span is its token's, as
            # `_span` would find it, without walking the children
            span = Span(self.filename, name.line or 1, name.column or 1, name.end_line or 1, name.end_column or 1)
            return self._node(ast.NameLayer(span, str(name), None, None, ()), c, 1)
        name, _, channels, _, stride, *attrs = c
        node = ast.NameLayer(self._span(c), str(name), channels, stride, tuple(attrs))
        return self._node(node, c, 1 if channels is None and stride is None and not attrs else None)

    def call_layer(self, c: Children) -> Any:
        name, _, args, _, *attrs = c
        return self._node(ast.CallLayer(self._span(c), str(name), args.value if args else (), tuple(attrs)), c)

    def merge(self, c: Children) -> Any:
        kind, _, body, _, *attrs = c
        flat = isinstance(body, ast.Merge) and not body.attrs and body.kind == "concat"
        branches = body.branches if flat else (body,)
        return self._node(ast.Merge(self._span(c), "concat" if str(kind) == "inception" else str(kind),
                                    tuple(branches), tuple(attrs)), c)

    def merge_for(self, c: Children) -> Any:
        kind, _, body, _, var, _, iterable, _, *attrs = c
        return self._node(ast.MergeFor(self._span(c), "concat" if str(kind) == "inception" else str(kind),
                                       body, var.value, iterable, tuple(attrs)), c)

    def combinator(self, c: Children) -> Any:
        kind, _, body, _, second, _, *attrs = c
        return self._node(ast.Combinator(self._span(c), str(kind), body, second, tuple(attrs)), c)

    def group(self, c: Children) -> Any:
        # `(a | b)`: the concat spans its parentheses, so an error's caret covers the whole group.
        inner = c[1]
        if isinstance(inner, ast.Merge) and not inner.attrs:
            return self._node(ast.Merge(self._span(c), inner.kind, inner.branches, inner.attrs), c)
        return self._wrap(inner, c)

    def cond_layer(self, c: Children) -> Any:
        return self._node(ast.CondLayer(self._span(c), c[1], c[3], c[5]), c)

    def for_layer(self, c: Children) -> Any:
        return self._node(ast.ForLayer(self._span(c), c[1], c[3].value, c[5]), c)

    def attr_value(self, c: Children) -> Any:
        return self._node(ast.Attr(self._span(c), str(c[0]), c[2]), c)

    def attr_flag(self, c: Children) -> Any:
        return ast.Attr(self._span(c), str(c[0]), None)

    def args(self, c: Children) -> Any:
        return self._part(tuple(x for x in c if isinstance(x, ast.Arg)), c)

    def pos_arg(self, c: Children) -> Any:
        return self._node(ast.Arg(self._span(c), None, c[0]), c)

    def kw_arg(self, c: Children) -> Any:
        return self._node(ast.Arg(self._span(c), str(c[0]), c[2]), c)

    # ------------------------------------------------------------ value expressions
    def atom(self, c: Children) -> Any:  # `(expr)`
        return self._wrap(c[1], c)

    def ternary(self, c: Children) -> Any:
        return self._node(ast.Ternary(self._span(c), c[0], c[2], c[4]), c)

    def _boolop(self, op: str, c: Children) -> Any:
        if len(c) == 1:
            return c[0]
        operands = self._values(c)
        if len(operands) == 1:
            return operands[0]
        return self._node(ast.BoolOp(self._span(c), op, tuple(operands)), c)

    def or_(self, c: Children) -> Any:
        return self._boolop("or", c)

    def and_(self, c: Children) -> Any:
        return self._boolop("and", c)

    def not_(self, c: Children) -> Any:
        return self._node(ast.Unary(self._span(c), "not", c[1]), c)

    def compare(self, c: Children) -> Any:
        return self._node(ast.BinOp(self._span(c), c[1], c[0], c[2]), c)

    def cmp_op(self, c: Children) -> Any:
        return str(c[0])

    add_op = mul_op = cmp_op

    def binop(self, c: Children) -> Any:
        left = c[0]
        if len(c) == 1:
            return left
        for op, right in zip(c[1::2], c[2::2]):
            span = Span(self.filename, left.span.line, left.span.column, right.span.end_line, right.span.end_column)
            left = self._node(ast.BinOp(span, str(op), left, right), [left, right])
        return left

    def neg(self, c: Children) -> Any:
        return self._node(ast.Unary(self._span(c), "-", c[1]), c)

    def power(self, c: Children) -> Any:
        if c[1] is None:
            return c[0]
        return self._node(ast.BinOp(self._span(c), "**", c[0], c[2]), c)

    def int(self, c: Children) -> Any:
        span = self._span(c)
        return ast.Const(span, _int_literal(str(c[0]), span))

    def float(self, c: Children) -> Any:
        span = self._span(c)
        value = float(c[0])
        if not math.isfinite(value):
            text = str(c[0]) if len(c[0]) <= 30 else f"{str(c[0])[:12]}..."
            raise error(f"the number {text} is too large", span, help="numbers must be finite 64-bit floats")
        return ast.Const(span, value)

    def string(self, c: Children) -> Any:
        return ast.Const(self._span(c), str(c[0])[1:-1])

    def true(self, c: Children) -> Any:
        return ast.Const(self._span(c), True)

    def false(self, c: Children) -> Any:
        return ast.Const(self._span(c), False)

    def var(self, c: Children) -> Any:
        return ast.Var(self._span(c), str(c[0]))

    def list(self, c: Children) -> Any:
        return self._node(ast.ListExpr(self._span(c), tuple(x for x in c if isinstance(x, ast.Expr))), c)

    def comprehension(self, c: Children) -> Any:
        # "[" item "for" loop_vars "in" iterable ["if" cond] "]"; the absent `if` is two placeholders
        _, item, _, names, _, iterable, _, cond, _ = c
        return self._node(ast.Comprehension(self._span(c), item, names.value, iterable, cond), c)

    def loop_vars(self, c: Children) -> Any:
        return self._part(tuple(str(x) for x in c if type(x) in TOKEN_TYPES and x.type == "NAME"), c)

    def dict(self, c: Children) -> Any:
        pairs = tuple(x.value for x in c if isinstance(x, _Part))
        return self._node(ast.DictExpr(self._span(c), pairs), c)

    def pair(self, c: Children) -> Any:
        return self._part((c[0], c[2]), c)

    def index(self, c: Children) -> Any:
        return self._node(ast.Index(self._span(c), c[0], c[2]), c)

    def call(self, c: Children) -> Any:
        args = c[2]
        return self._node(ast.Call(self._span(c), str(c[0]), args.value if args else ()), c)


# The methods a reduction may call (parser/tables.py refuses cached tables that name another).
RULE_METHODS = frozenset(name for name, f in vars(AstBuilder).items()
                         if callable(f) and not name.startswith("_")) - {"reset"}


def _too_deep(span: Span) -> CnnDslError:
    return error(f"this is nested too deeply (more than {MAX_NESTING} levels)", span,
                 help="brackets, operators and layers that nest this deep are refused before anything "
                      "recurses over them; a chain of binary operators nests one level per operator")
