"""The abstract syntax tree of a `.arch` file.

Nodes are frozen dataclasses built by `cnndsl.parser.build.AstBuilder`; every one keeps the span
of the text it came from. Layer expressions (what tensors flow through) and value expressions
(what numbers and names evaluate to) are separate node families, as in the grammar.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .source import Span


@dataclass(frozen=True)
class Node:
    span: Span = field(compare=False, repr=False)


# ------------------------------------------------------------------ value expressions
@dataclass(frozen=True)
class Const(Node):
    value: object


@dataclass(frozen=True)
class Var(Node):
    name: str


@dataclass(frozen=True)
class ListExpr(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class DictExpr(Node):
    pairs: tuple[tuple[Expr, Expr], ...]


@dataclass(frozen=True)
class Comprehension(Node):
    """`[f(x) for x in xs if cond]`; several variables unpack each item: `for i, x in enumerate(xs)`."""

    item: Expr
    vars: tuple[str, ...]
    iterable: Expr
    cond: Expr | None


@dataclass(frozen=True)
class Index(Node):
    target: Expr
    key: Expr


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple[Arg, ...]


@dataclass(frozen=True)
class BinOp(Node):
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-" or "not"
    operand: Expr


@dataclass(frozen=True)
class BoolOp(Node):
    op: str  # "and" / "or"
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Ternary(Node):
    cond: Expr
    then: Expr
    otherwise: Expr


Expr = Const | Var | ListExpr | Comprehension | DictExpr | Index | Call | BinOp | Unary | BoolOp | Ternary


@dataclass(frozen=True)
class Arg(Node):
    name: str | None  # None for a positional argument
    value: Expr


@dataclass(frozen=True)
class Attr(Node):
    name: str
    value: Expr | None  # None for a flag such as `ceil`


# ------------------------------------------------------------------ layer expressions
@dataclass(frozen=True)
class Seq(Node):
    items: tuple[Layer, ...]


@dataclass(frozen=True)
class Repeat(Node):
    body: Layer
    count: Expr


@dataclass(frozen=True)
class Named(Node):
    body: Layer
    name: str


@dataclass(frozen=True)
class UnitLayer(Node):
    """`3x3:64/2`: the file's conv unit with a kernel, filters and a stride; `(k)x(k):64` writes
    the kernel as expressions (`kernel_exprs`, and `kernel` is empty)."""

    kernel: tuple[int, ...]
    channels: Expr | None
    stride: Expr | None
    attrs: tuple[Attr, ...]
    kernel_exprs: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class NameLayer(Node):
    """`conv3x3:64/2`, `maxpool3x3/2 ceil`, `relu`, `fc:10`, `mystem`, `a4`."""

    name: str
    channels: Expr | None
    stride: Expr | None
    attrs: tuple[Attr, ...]


@dataclass(frozen=True)
class CallLayer(Node):
    """`bn(eps=0.001)`, `inc(64, 96, 128, 16, 32, 32)`."""

    name: str
    args: tuple[Arg, ...]
    attrs: tuple[Attr, ...]


@dataclass(frozen=True)
class Merge(Node):
    """`concat(a | b)`, `inception(...)`, `add(...)`, `mean(...)`, and a bare `(a | b)`."""

    kind: str
    branches: tuple[Layer, ...]
    attrs: tuple[Attr, ...]


@dataclass(frozen=True)
class MergeFor(Node):
    """`concat(select(t) -> 5x5:1 for t in table)`: one branch per item, merged like `Merge`."""

    kind: str
    body: Layer
    vars: tuple[str, ...]  # `for w, s in zip(ws, ss)` unpacks each item
    iterable: Expr
    attrs: tuple[Attr, ...]


@dataclass(frozen=True)
class Combinator(Node):
    """`residual<body>`, `residual<body, shortcut>`, `dense<body>`."""

    kind: str
    body: Layer
    second: Layer | None
    attrs: tuple[Attr, ...]


@dataclass(frozen=True)
class CondLayer(Node):
    cond: Expr
    then: Layer
    otherwise: Layer | None


@dataclass(frozen=True)
class ForLayer(Node):
    body: Layer
    vars: tuple[str, ...]  # `for w, s in zip(ws, ss)` unpacks each item
    iterable: Expr


Layer = Seq | Repeat | Named | UnitLayer | NameLayer | CallLayer | Merge | MergeFor | Combinator | CondLayer | ForLayer


# ------------------------------------------------------------------ statements and items
@dataclass(frozen=True)
class Let(Node):
    name: str
    value: Expr


@dataclass(frozen=True)
class ChainStmt(Node):
    chain: Layer


@dataclass(frozen=True)
class OutputItem(Node):
    name: str
    cond: Expr | None


@dataclass(frozen=True)
class Output(Node):
    items: tuple[OutputItem, ...]


@dataclass(frozen=True)
class If(Node):
    cond: Expr
    then: tuple[Stmt, ...]
    otherwise: tuple[Stmt, ...]


Stmt = Let | ChainStmt | Output | If


@dataclass(frozen=True)
class Param(Node):
    name: str
    default: Expr | None


@dataclass(frozen=True)
class BlockDef(Node):
    """A `block` or a `network`: a network is a block with an input and command-line parameters."""

    name: str
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]
    is_network: bool
    input_dims: tuple[int, ...] | None
    single_expr: bool  # written `= chain` rather than `{ ... }`
    input_name: str | None = None  # `block transition : m`: bound to the input's channel count


@dataclass(frozen=True)
class FuncDef(Node):
    """`def make_divisible(v, d=8, min_value=d) = ...`: a value function at file level."""

    name: str
    params: tuple[Param, ...]
    body: Expr


@dataclass(frozen=True)
class Include(Node):
    path: str


@dataclass(frozen=True)
class UnitDecl(Node):
    chain: Layer


@dataclass(frozen=True)
class Module(Node):
    path: str
    items: tuple[Include | UnitDecl | BlockDef | Let | FuncDef, ...]
