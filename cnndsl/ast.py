"""The abstract syntax tree of a `.arch` file.

Nodes are frozen dataclasses built by `cnndsl.parser.build.AstBuilder`; every one keeps the span
of the text it came from. Layer expressions (what tensors flow through) and value expressions
(what numbers and names evaluate to) are separate node families, as in the grammar.
"""
from __future__ import annotations

from dataclasses import field

from .records import record
from .source import Span


@record
class Node:
    span: Span = field(compare=False, repr=False)


# ------------------------------------------------------------------ value expressions
@record
class Const(Node):
    value: object


@record
class Var(Node):
    name: str


@record
class ListExpr(Node):
    items: tuple[Expr, ...]


@record
class DictExpr(Node):
    pairs: tuple[tuple[Expr, Expr], ...]


@record
class Comprehension(Node):
    """`[f(x) for x in xs if cond]`; several variables unpack each item: `for i, x in enumerate(xs)`."""

    item: Expr
    vars: tuple[str, ...]
    iterable: Expr
    cond: Expr | None


@record
class Index(Node):
    target: Expr
    key: Expr


@record
class Call(Node):
    name: str
    args: tuple[Arg, ...]


@record
class BinOp(Node):
    op: str
    left: Expr
    right: Expr


@record
class Unary(Node):
    op: str  # "-" or "not"
    operand: Expr


@record
class BoolOp(Node):
    op: str  # "and" / "or"
    operands: tuple[Expr, ...]


@record
class Ternary(Node):
    cond: Expr
    then: Expr
    otherwise: Expr


Expr = Const | Var | ListExpr | Comprehension | DictExpr | Index | Call | BinOp | Unary | BoolOp | Ternary


@record
class Arg(Node):
    name: str | None  # None for a positional argument
    value: Expr


@record
class Attr(Node):
    name: str
    value: Expr | None  # None for a flag such as `ceil`


# ------------------------------------------------------------------ layer expressions
@record
class Seq(Node):
    items: tuple[Layer, ...]


@record
class Repeat(Node):
    body: Layer
    count: Expr


@record
class Named(Node):
    body: Layer
    name: str


@record
class UnitLayer(Node):
    """`3x3:64/2`: the file's conv unit with a kernel, filters and a stride; `(k)x(k):64` writes
    the kernel as expressions (`kernel_exprs`, and `kernel` is empty)."""

    kernel: tuple[int, ...]
    channels: Expr | None
    stride: Expr | None
    attrs: tuple[Attr, ...]
    kernel_exprs: tuple[Expr, ...] = ()


@record
class NameLayer(Node):
    """`conv3x3:64/2`, `maxpool3x3/2 ceil`, `relu`, `fc:10`, `mystem`, `a4`."""

    name: str
    channels: Expr | None
    stride: Expr | None
    attrs: tuple[Attr, ...]


@record
class CallLayer(Node):
    """`bn(eps=0.001)`, `inc(64, 96, 128, 16, 32, 32)`."""

    name: str
    args: tuple[Arg, ...]
    attrs: tuple[Attr, ...]


@record
class Merge(Node):
    """`concat(a | b)`, `inception(...)`, `add(...)`, `mean(...)`, and a bare `(a | b)`."""

    kind: str
    branches: tuple[Layer, ...]
    attrs: tuple[Attr, ...]


@record
class MergeFor(Node):
    """`concat(select(t) -> 5x5:1 for t in table)`: one branch per item, merged like `Merge`."""

    kind: str
    body: Layer
    vars: tuple[str, ...]  # `for w, s in zip(ws, ss)` unpacks each item
    iterable: Expr
    attrs: tuple[Attr, ...]


@record
class Combinator(Node):
    """`residual<body>`, `residual<body, shortcut>`, `dense<body>`."""

    kind: str
    body: Layer
    second: Layer | None
    attrs: tuple[Attr, ...]


@record
class CondLayer(Node):
    cond: Expr
    then: Layer
    otherwise: Layer | None


@record
class ForLayer(Node):
    body: Layer
    vars: tuple[str, ...]  # `for w, s in zip(ws, ss)` unpacks each item
    iterable: Expr


Layer = Seq | Repeat | Named | UnitLayer | NameLayer | CallLayer | Merge | MergeFor | Combinator | CondLayer | ForLayer


# ------------------------------------------------------------------ statements and items
@record
class Let(Node):
    name: str
    value: Expr


@record
class ChainStmt(Node):
    chain: Layer


@record
class OutputItem(Node):
    name: str
    cond: Expr | None


@record
class Output(Node):
    items: tuple[OutputItem, ...]


@record
class If(Node):
    cond: Expr
    then: tuple[Stmt, ...]
    otherwise: tuple[Stmt, ...]


Stmt = Let | ChainStmt | Output | If


@record
class Param(Node):
    name: str
    default: Expr | None


@record
class BlockDef(Node):
    """A `block` or a `network`: a network is a block with an input and command-line parameters."""

    name: str
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]
    is_network: bool
    input_dims: tuple[int, ...] | None
    single_expr: bool  # written `= chain` rather than `{ ... }`
    input_name: str | None = None  # `block transition : m`: bound to the input's channel count


@record
class FuncDef(Node):
    """`def make_divisible(v, d=8, min_value=d) = ...`: a value function at file level."""

    name: str
    params: tuple[Param, ...]
    body: Expr


@record
class Include(Node):
    path: str


@record
class UnitDecl(Node):
    chain: Layer


@record
class Module(Node):
    path: str
    items: tuple[Include | UnitDecl | BlockDef | Let | FuncDef, ...]
