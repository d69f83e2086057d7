"""Value expressions: a small, safe evaluator. A `.arch` file is data, so nothing here calls into
Python beyond the arithmetic and the few built-ins listed in BUILTINS, and every value it makes is
bounded (docs/security.md):

- every integer fits in a signed 64-bit word and every number is finite: a result outside is an
  error at the sub-expression that produced it (`2 ** 64`, `int(1e300)`, `1e308 * 10`), as are
  division by zero, `0 ** -1` and a negative number to a fractional power;
- a list, dictionary or partially applied block holds at most MAX_VALUE_ITEMS values, nested ones
  counted, and nests at most MAX_VALUE_DEPTH deep; a range has at most MAX_RANGE items;
- the evaluators of one check (every network of a file: `shared_steps`) take at most MAX_STEPS
  steps together, a step being one sub-expression or one item of a list it makes, so repeated
  evaluation cannot run away, nor can many networks that each stay under the limit.

No built-in can raise anything but a located diagnostic."""
from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from .. import ast
from ..diagnostics import CnnDslError, Note, did_you_mean, error
from ..ops import lookup
from ..ops.paths import LinearDecay
from ..parser.limits import MAX_INT, MAX_TOKEN_CHARS, MIN_INT
from ..source import Span
from .functions import BINOPS, BUILTINS, MAX_RANGE, checked, digits, reason
from .value_types import BlockRef, Env, OpRef, Tensor, show, type_name

MAX_INT_BITS = 64
MAX_VALUE_ITEMS = 100_000  # values inside one list, dictionary or block value, nested ones counted
MAX_VALUE_DEPTH = 100  # lists in lists in lists ...
MAX_STEPS = 1_000_000  # sub-expressions evaluated and items made by one check; ResNet-1202 takes 4,235
MAX_CALL_DEPTH = 50  # `def` calls inside one another: RegNet's widths nest 4
CALL_STEPS = 10  # a `def` call costs the steps of about the work it does besides its body (a scope, binding)


class Steps:
    """Evaluation steps taken, against MAX_STEPS; shared by the evaluators of one check."""

    def __init__(self) -> None:
        self.taken = 0


_SHARED: ContextVar[Steps | None] = ContextVar("cnndsl_steps", default=None)


@contextmanager
def shared_steps() -> Iterator[Steps]:
    """Every Evaluator made inside shares one step count (check_program: all networks of a file)."""
    steps = Steps()
    token = _SHARED.set(steps)
    try:
        yield steps
    finally:
        _SHARED.reset(token)


class Evaluator:
    def __init__(self, blocks: set[str], functions: dict[str, ast.FuncDef] | None = None) -> None:
        self.blocks = blocks  # global block and network names, usable as values
        self.functions = functions or {}  # the program's `def`s
        self.calls: list[tuple[ast.FuncDef, ast.Call]] = []  # the `def` calls being evaluated, outermost first
        self.budget = _SHARED.get() or Steps()

    @property
    def steps(self) -> int:
        return self.budget.taken

    def eval(self, e: ast.Expr, env: Env) -> Any:
        try:
            return self._eval(e, env)
        except RecursionError:  # the parser bounds nesting; this is a second line of defence
            raise error("this expression is nested too deeply to evaluate", e.span) from None

    def _eval(self, e: ast.Expr, env: Env) -> Any:
        self._step(1, e)
        return getattr(self, "_" + type(e).__name__)(e, env)

    def _step(self, n: int, e: ast.Node) -> None:
        self.budget.taken += n
        if self.budget.taken > MAX_STEPS:
            raise error(f"evaluating the values takes more than {MAX_STEPS:,} steps", e.span,
                        help="this limit keeps a file from running long; see docs/security.md")

    def eval_int(self, e: ast.Expr, env: Env, what: str, lo: int = 0, hi: int | None = None) -> int:
        v = self.eval(e, env)
        if isinstance(v, float) and v.is_integer():
            if not MIN_INT <= v <= MAX_INT:  # 1e308 is a whole number, but not a 64-bit one
                raise error(f"{what} must be a 64-bit integer, got {show(v)}", e.span)
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
    def _Const(self, e: ast.Const, env: Env) -> Any:
        return e.value

    def _Var(self, e: ast.Var, env: Env) -> Any:
        try:
            return env.lookup(e.name)
        except KeyError:
            pass
        if e.name in self.blocks:
            return BlockRef(e.name)
        if lookup(e.name) is not None:  # an op as a value: `act=relu`
            return OpRef(e.name)
        raise error(f"unknown name `{e.name}`", e.span,
                    help=did_you_mean(e.name, env.names() | self.blocks))

    def _ListExpr(self, e: ast.ListExpr, env: Env) -> Any:
        return self._bounded([self._eval(x, env) for x in e.items], e)

    def _Comprehension(self, e: ast.Comprehension, env: Env) -> Any:
        items = self._eval(e.iterable, env)
        if isinstance(items, dict):
            items = list(items)
        if not isinstance(items, list):
            raise error(f"`for` goes over a list, got {type_name(items)} ({show(items)})", e.iterable.span)
        out = []
        for item in items:
            self._step(1, e)
            inner = env.child(loop_values(e.vars, item, e.span))
            if e.cond is None or truthy(self._eval(e.cond, inner), e.cond):
                out.append(self._eval(e.item, inner))
        return self._bounded(out, e)

    def _DictExpr(self, e: ast.DictExpr, env: Env) -> Any:
        out = {}
        for k, v in e.pairs:
            key = self._eval(k, env)
            if isinstance(key, (list, dict, BlockRef)):
                raise error("a dictionary key must be a number, string or boolean", k.span)
            out[key] = self._eval(v, env)
        return self._bounded(out, e)

    def _Index(self, e: ast.Index, env: Env) -> Any:
        target, key = self._eval(e.target, env), self._eval(e.key, env)
        if isinstance(target, dict):
            if isinstance(key, (list, dict, BlockRef)) or key not in target:
                keys = show(list(target))[1:-1]
                raise error(f"{show(key)} is not one of the keys {{{keys}}}", e.key.span)
            return target[key]
        if isinstance(target, list):
            if not isinstance(key, int) or isinstance(key, bool):
                raise error(f"a list index must be an integer, got {type_name(key)}", e.key.span)
            if not -len(target) <= key < len(target):
                raise error(f"index {key} is out of range for a list of {len(target)}", e.key.span)
            return target[key]
        raise error(f"cannot index {type_name(target)}", e.target.span)

    def _Call(self, e: ast.Call, env: Env) -> Any:
        block = self._block_value(e.name, env)
        if block is not None:  # partial application: `bottleneck(groups=32)`
            return self._bounded(block.apply([(a.name, self._eval(a.value, env), a.span) for a in e.args]), e)
        if e.name in self.functions:
            return self._call_def(self.functions[e.name], e, env)
        fn = BUILTINS.get(e.name)
        if fn is None and lookup(e.name) is not None:  # an op with attributes, as a value: `leaky_relu(0.2)`
            return OpRef(e.name, tuple((a.name, self._eval(a.value, env)) for a in e.args),
                         tuple(a.span for a in e.args))
        if fn is None:
            hint = (f"`{e.name}` is a block: use it in a chain of layers, not in arithmetic"
                    if e.name in self.blocks else did_you_mean(e.name, BUILTINS))
            raise error(f"unknown function `{e.name}`", e.span, help=hint)
        if any(a.name for a in e.args):
            raise error(f"`{e.name}` takes no keyword arguments", e.span)
        args = [self._eval(a.value, env) for a in e.args]
        try:
            result = fn(*args)
        except CnnDslError:
            raise
        except (TypeError, ValueError, ArithmeticError, RecursionError, MemoryError) as exc:
            raise error(f"bad arguments to `{e.name}`: {reason(exc)}", e.span) from None
        if isinstance(result, list):
            self._step(len(result), e)
        return self._bounded(checked(result, e.span), e)

    def _call_def(self, d: ast.FuncDef, e: ast.Call, env: Env) -> Any:
        """A `def`'s body, in a scope of its own: its parameters over the file-level lets."""
        if len(self.calls) >= MAX_CALL_DEPTH:
            raise _too_many_calls(self.calls, e)
        self._step(CALL_STEPS, e)
        scope = _file_scope(env).child()
        values = [(a, self._eval(a.value, env)) for a in e.args]
        self.calls.append((d, e))
        try:
            self._bind(d, e, values, scope)
            return self._eval(d.body, scope)
        finally:
            self.calls.pop()

    def _bind(self, d: ast.FuncDef, e: ast.Call, values: list[tuple[ast.Arg, Any]], scope: Env) -> None:
        """Arguments to parameters, as Python binds them; a default sees the parameters before it."""
        names = [p.name for p in d.params]
        positional = [v for a, v in values if a.name is None]
        if len(positional) > len(names):
            raise error(f"`{d.name}` takes {len(names)} argument{'s' * (len(names) != 1)}, got {len(positional)}",
                        e.span, notes=[Note(f"`{d.name}` is defined", d.span)])
        given = dict(zip(names, positional))
        for a, v in values:
            if a.name is None:
                continue
            if a.name not in names:
                raise error(f"`{d.name}` has no parameter `{a.name}`", a.span, help=did_you_mean(a.name, names),
                            notes=[Note(f"`{d.name}` is defined", d.span)])
            if a.name in given:
                raise error(f"`{a.name}` is given twice", a.span)
            given[a.name] = v
        for p in d.params:
            if p.name in given:
                scope.values[p.name] = given[p.name]
            elif p.default is not None:
                scope.values[p.name] = self._eval(p.default, scope)
            else:
                raise error(f"`{d.name}` needs a value for `{p.name}`", e.span,
                            notes=[Note(f"`{p.name}` has no default", p.span)])

    def _block_value(self, name: str, env: Env) -> BlockRef | None:
        """A local name bound to a block, else a global block not shadowed by a built-in."""
        try:
            v = env.lookup(name)
            return v if isinstance(v, BlockRef) else None
        except KeyError:
            pass
        return BlockRef(name) if name in self.blocks and name not in BUILTINS else None

    def _Unary(self, e: ast.Unary, env: Env) -> Any:
        v = self._eval(e.operand, env)
        if e.op == "not":
            return not truthy(v, e.operand)
        _number(v, e.operand)
        return checked(-v, e.span)

    def _BoolOp(self, e: ast.BoolOp, env: Env) -> Any:
        for operand in e.operands:
            v = truthy(self._eval(operand, env), operand)
            if v == (e.op == "or"):
                return v
        return e.op == "and"

    def _Ternary(self, e: ast.Ternary, env: Env) -> Any:
        return self._eval(e.then if truthy(self._eval(e.cond, env), e.cond) else e.otherwise, env)

    def _BinOp(self, e: ast.BinOp, env: Env) -> Any:
        a, b = self._eval(e.left, env), self._eval(e.right, env)
        if e.op in ("==", "!="):
            return (a == b) == (e.op == "==")
        _number(a, e.left)
        _number(b, e.right)
        if e.op in ("/", "//", "%") and b == 0:
            raise error("division by zero", e.right.span)
        if e.op == "**":
            _check_power(a, b, e)
        try:
            result = BINOPS[e.op](a, b)
        except ZeroDivisionError:
            raise error(f"{show(a)} ** {show(b)} divides by zero", e.span) from None
        except (OverflowError, ValueError):
            raise error(f"{show(a)} {e.op} {show(b)} is too large", e.span,
                        help="numbers must be finite 64-bit floats") from None
        return checked(result, e.span)

    # ------------------------------------------------------------ sizes of values
    def _bounded(self, v: Any, e: ast.Node) -> Any:
        """A list, dictionary or block value of at most MAX_VALUE_ITEMS values and MAX_VALUE_DEPTH
        levels. Its size is kept with it, so a value built from earlier ones costs its own items
        (`let b = [a, a]` does not walk `a` again, however `a` was built)."""
        if isinstance(v, list):
            v = _List(v)
        elif isinstance(v, dict):
            v = _Dict(v)
        elif not isinstance(v, BlockRef):
            return v
        items, depth = _size(v)
        if items > MAX_VALUE_ITEMS:
            raise error(f"this value holds more than {MAX_VALUE_ITEMS:,} values", e.span,
                        help="lists, dictionaries and block values are limited in size; see docs/security.md")
        if depth > MAX_VALUE_DEPTH:
            raise error(f"this value nests more than {MAX_VALUE_DEPTH} deep", e.span)
        return v


class _List(list[Any]):
    """A list the evaluator made, with its size: (values inside, nested ones counted; depth)."""

    __slots__ = ("_vsize",)
    _vsize: tuple[int, int]


class _Dict(dict[Any, Any]):
    __slots__ = ("_vsize",)
    _vsize: tuple[int, int]


def _size(v: Any) -> tuple[int, int]:
    cached: tuple[int, int] | None = getattr(v, "_vsize", None)
    if cached is not None:
        return cached
    if isinstance(v, list):
        children: Any = v
    elif isinstance(v, dict):
        children = [x for kv in v.items() for x in kv]
    elif isinstance(v, BlockRef):
        children = [x for _, x in v.args]
    else:
        return 0, 0
    items, depth = len(children), 0
    for child in children:
        if isinstance(child, (list, dict, BlockRef)):
            i, d = _size(child)
            items, depth = items + i, max(depth, d)
            if items > MAX_VALUE_ITEMS or depth > MAX_VALUE_DEPTH:
                break
    size = (items, depth + 1)
    if isinstance(v, (_List, _Dict)):
        v._vsize = size
    elif isinstance(v, BlockRef):
        object.__setattr__(v, "_vsize", size)  # a cache, not part of the value
    return size


def checked_value(v: Any) -> Any:
    """A value from outside a file (a network parameter from Python) obeys the rules of values:
    64-bit integers, finite numbers, short printable strings, lists and dictionaries of them
    within MAX_VALUE_ITEMS and MAX_VALUE_DEPTH. Raises TypeError or ValueError saying why."""
    stack, items = [(v, 1)], 0
    while stack:
        x, depth = stack.pop()
        items += 1
        if items > MAX_VALUE_ITEMS or depth > MAX_VALUE_DEPTH:
            raise ValueError(f"the value holds more than {MAX_VALUE_ITEMS:,} values or nests more than "
                             f"{MAX_VALUE_DEPTH} deep")
        if isinstance(x, (list, dict)):
            stack += [(y, depth + 1) for y in (x if isinstance(x, list) else [z for kv in x.items() for z in kv])]
        elif isinstance(x, str):
            if len(x) > MAX_TOKEN_CHARS or not x.isprintable():
                raise ValueError(f"a string must be printable and at most {MAX_TOKEN_CHARS:,} characters")
        elif isinstance(x, (int, float)):
            if isinstance(x, int) and not isinstance(x, bool) and not MIN_INT <= x <= MAX_INT:
                raise ValueError(f"{digits(x)} does not fit in 64 bits")
            if isinstance(x, float) and not math.isfinite(x):
                raise ValueError(f"{x} is not a finite number")
        elif not isinstance(x, (BlockRef, LinearDecay)):
            raise TypeError(f"a {type(x).__name__} is not a value of the language")
    return v


def loop_values(names: tuple[str, ...], item: Any, span: Span) -> dict[str, Any]:
    """`for x in xs` binds x to each item; `for i, x in enumerate(xs)` unpacks each item (a list)."""
    if len(names) == 1:
        return {names[0]: item}
    if not isinstance(item, list) or len(item) != len(names):
        raise error(f"cannot unpack {show(item)} into {len(names)} names ({', '.join(names)})", span,
                    help="each item must be a list of that many values, as zip(...) and enumerate(...) make")
    return dict(zip(names, item))


def _file_scope(env: Env) -> Env:
    """The outermost scope: the file-level lets, which a `def` sees (and nothing of its caller's)."""
    while env.parent is not None:
        env = env.parent
    return env


def _too_many_calls(calls: list[tuple[ast.FuncDef, ast.Call]], e: ast.Call) -> CnnDslError:
    chain = [f"{d.name} (line {d.span.line})" for d, _ in calls[:6]]
    more = f" -> ... ({len(calls) - 6} more)" if len(calls) > 6 else ""
    first = calls[0][0]
    return error(f"the calls nest more than {MAX_CALL_DEPTH} deep: " + " -> ".join(chain) + more, e.span,
                 help="a `def` may call itself, but must reach a case that does not within "
                      f"{MAX_CALL_DEPTH} calls", notes=[Note(f"`{first.name}` is defined", first.span)])


def _number(v: Any, e: ast.Node) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise error(f"expected a number, got {type_name(v)} ({show(v)})", e.span)


def _check_power(a: Any, b: Any, e: ast.Node) -> None:
    if isinstance(a, int) and isinstance(b, int) and abs(a) > 1 and b * math.log2(abs(a)) > MAX_INT_BITS:
        raise error(f"{show(a)} ** {show(b)} is too large", e.span)
    if a == 0 and b < 0:
        raise error(f"{show(a)} ** {show(b)} divides by zero", e.span)
    if a < 0 and isinstance(b, float) and not b.is_integer():
        raise error(f"({show(a)}) ** {show(b)} is not a real number", e.span)


def truthy(v: Any, e: ast.Node) -> bool:
    if isinstance(v, bool):
        return v
    raise error(f"a condition must be true or false, got {type_name(v)} ({show(v)})", e.span)


__all__ = [
    "BUILTINS",
    "MAX_RANGE",
    "MAX_CALL_DEPTH",
    "MAX_STEPS",
    "MAX_VALUE_DEPTH",
    "MAX_VALUE_ITEMS",
    "BlockRef",
    "Env",
    "OpRef",
    "Evaluator",
    "Tensor",
    "checked",
    "checked_value",
    "loop_values",
    "shared_steps",
    "show",
    "truthy",
    "type_name",
]
