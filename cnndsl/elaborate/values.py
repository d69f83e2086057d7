"""Value expressions: a small, safe evaluator. A `.arch` file is data, so nothing here calls into
Python beyond the arithmetic and the few built-ins listed in BUILTINS, and every operation that
could run away (huge powers, huge ranges) is bounded."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from .. import ast
from ..diagnostics import did_you_mean, error
from ..ops.paths import LinearDecay, linear_decay
from ..source import Span

MAX_INT_BITS = 64
MAX_RANGE = 100_000


@dataclass(frozen=True)
class BlockRef:
    """A block (or network) used as a value: `let b = depth < 50 ? basic : bottleneck`, or
    partially applied: `let b = bottleneck(groups=32)`. Calling it adds the call's arguments
    after `args` (positional after positional; a keyword given again replaces the earlier one),
    so a block handed to `stage` can carry values that its definition cannot see."""

    name: str
    args: tuple[tuple[str | None, Any], ...] = ()
    spans: tuple[Span, ...] = field(default=(), compare=False)

    def apply(self, args: list[tuple[str | None, Any, Span]]) -> "BlockRef":
        new = {name for name, _, _ in args if name is not None}
        kept = [(n, v, s) for (n, v), s in zip(self.args, self.spans) if n is None or n not in new]
        merged = [a for a in kept if a[0] is None] + [a for a in args if a[0] is None] \
            + [a for a in kept if a[0] is not None] + [a for a in args if a[0] is not None]
        return BlockRef(self.name, tuple((n, v) for n, v, _ in merged), tuple(s for _, _, s in merged))

    def call_args(self) -> list[tuple[str | None, Any, Span]]:
        return [(n, v, s) for (n, v), s in zip(self.args, self.spans)]

    def __str__(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}({', '.join(show(v) if n is None else f'{n}={show(v)}' for n, v in self.args)})"


@dataclass(frozen=True)
class Tensor:
    """A named intermediate result (`... as a4`): the id of the graph node that produces it."""

    node: str


class Env:
    """Lexical scope: a block sees the file-level `let`s and its own parameters, not its caller's."""

    def __init__(self, parent: "Env | None" = None, values: dict[str, Any] | None = None):
        self.parent = parent
        self.values: dict[str, Any] = dict(values or {})

    def lookup(self, name: str) -> Any:
        env = self
        while env is not None:
            if name in env.values:
                return env.values[name]
            env = env.parent
        raise KeyError(name)

    def names(self) -> set[str]:
        out, env = set(), self
        while env is not None:
            out |= set(env.values)
            env = env.parent
        return out

    def child(self, values: dict[str, Any] | None = None) -> "Env":
        return Env(self, values)


def type_name(v: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a dictionary", BlockRef: "a block", Tensor: "a tensor",
            LinearDecay: "a drop-path schedule"}.get(type(v), type(v).__name__)


def show(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)


class Evaluator:
    def __init__(self, blocks: set[str]):
        self.blocks = blocks  # global block and network names, usable as values

    def eval(self, e: ast.Expr, env: Env) -> Any:
        return getattr(self, "_" + type(e).__name__)(e, env)

    def eval_int(self, e: ast.Expr, env: Env, what: str, lo: int = 0, hi: int | None = None) -> int:
        v = self.eval(e, env)
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if not isinstance(v, int) or isinstance(v, bool):
            raise error(f"{what} must be an integer, got {type_name(v)} ({show(v)})", e.span)
        if v < lo or (hi is not None and v > hi):
            limit = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
            raise error(f"{what} must be {limit}, got {v}", e.span,
                        help="this limit keeps a typo from building a network that never finishes"
                        if hi is not None and v > hi else None)
        return v

    # ------------------------------------------------------------ node kinds
    def _Const(self, e, env):
        return e.value

    def _Var(self, e: ast.Var, env: Env):
        try:
            return env.lookup(e.name)
        except KeyError:
            pass
        if e.name in self.blocks:
            return BlockRef(e.name)
        raise error(f"unknown name `{e.name}`", e.span,
                    help=did_you_mean(e.name, env.names() | self.blocks))

    def _ListExpr(self, e, env):
        return [self.eval(x, env) for x in e.items]

    def _DictExpr(self, e, env):
        out = {}
        for k, v in e.pairs:
            key = self.eval(k, env)
            if isinstance(key, (list, dict)):
                raise error("a dictionary key must be a number, string or boolean", k.span)
            out[key] = self.eval(v, env)
        return out

    def _Index(self, e: ast.Index, env):
        target, key = self.eval(e.target, env), self.eval(e.key, env)
        if isinstance(target, dict):
            if key not in target:
                keys = ", ".join(show(k) for k in target)
                raise error(f"{show(key)} is not one of the keys {{{keys}}}", e.key.span)
            return target[key]
        if isinstance(target, list):
            if not isinstance(key, int) or isinstance(key, bool):
                raise error(f"a list index must be an integer, got {type_name(key)}", e.key.span)
            if not -len(target) <= key < len(target):
                raise error(f"index {key} is out of range for a list of {len(target)}", e.key.span)
            return target[key]
        raise error(f"cannot index {type_name(target)}", e.target.span)

    def _Call(self, e: ast.Call, env):
        block = self._block_value(e.name, env)
        if block is not None:  # partial application: `bottleneck(groups=32)`
            return block.apply([(a.name, self.eval(a.value, env), a.span) for a in e.args])
        fn = BUILTINS.get(e.name)
        if fn is None:
            hint = (f"`{e.name}` is a block: use it in a chain of layers, not in arithmetic"
                    if e.name in self.blocks else did_you_mean(e.name, BUILTINS))
            raise error(f"unknown function `{e.name}`", e.span, help=hint)
        if any(a.name for a in e.args):
            raise error(f"`{e.name}` takes no keyword arguments", e.span)
        args = [self.eval(a.value, env) for a in e.args]
        try:
            return fn(*args)
        except (TypeError, ValueError) as exc:
            raise error(f"bad arguments to `{e.name}`: {exc}", e.span) from None

    def _block_value(self, name: str, env: Env) -> BlockRef | None:
        """A local name bound to a block, else a global block not shadowed by a built-in."""
        try:
            v = env.lookup(name)
            return v if isinstance(v, BlockRef) else None
        except KeyError:
            pass
        return BlockRef(name) if name in self.blocks and name not in BUILTINS else None

    def _Unary(self, e: ast.Unary, env):
        v = self.eval(e.operand, env)
        if e.op == "not":
            return not truthy(v, e.operand)
        _number(v, e.operand)
        return -v

    def _BoolOp(self, e: ast.BoolOp, env):
        for operand in e.operands:
            v = truthy(self.eval(operand, env), operand)
            if v == (e.op == "or"):
                return v
        return e.op == "and"

    def _Ternary(self, e: ast.Ternary, env):
        return self.eval(e.then if truthy(self.eval(e.cond, env), e.cond) else e.otherwise, env)

    def _BinOp(self, e: ast.BinOp, env):
        a, b = self.eval(e.left, env), self.eval(e.right, env)
        if e.op in ("==", "!="):
            return (a == b) == (e.op == "==")
        _number(a, e.left)
        _number(b, e.right)
        if e.op in ("/", "//", "%") and b == 0:
            raise error("division by zero", e.right.span)
        if e.op == "**":
            _check_power(a, b, e)
        return BINOPS[e.op](a, b)


def _exact_div(a, b):
    """`/` stays an integer when it divides exactly (`c/2`), and is a float otherwise."""
    if isinstance(a, int) and isinstance(b, int) and a % b == 0:
        return a // b
    return a / b


BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": _exact_div,
    "//": lambda a, b: a // b, "%": lambda a, b: a % b, "**": lambda a, b: a ** b,
    "<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
}


def _range(*args):
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise ValueError(f"range of {len(r)} items is larger than {MAX_RANGE}")
    return list(r)


BUILTINS: dict[str, Callable[..., Any]] = {
    "range": _range, "min": min, "max": max, "len": len, "abs": abs,
    "int": int, "float": float, "round": round, "floor": math.floor, "ceil": math.ceil, "sum": sum,
    "linear_decay": linear_decay,
}


def _number(v, e):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise error(f"expected a number, got {type_name(v)} ({show(v)})", e.span)


def _check_power(a, b, e):
    if isinstance(b, int) and abs(a) > 1 and b * math.log2(abs(a)) > MAX_INT_BITS:
        raise error(f"{show(a)} ** {show(b)} is too large", e.span)


def truthy(v: Any, e: ast.Node) -> bool:
    if isinstance(v, bool):
        return v
    raise error(f"a condition must be true or false, got {type_name(v)} ({show(v)})", e.span)
