"""The functions and operators of value expressions, each within the limits of docs/security.md:
64-bit integers, finite numbers, ranges of at most MAX_RANGE items, and no Python exception but
the ones the evaluator turns into located diagnostics (TypeError, ValueError, ArithmeticError)."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..diagnostics import error
from ..ops.paths import linear_decay
from ..parser.limits import MAX_INT, MIN_INT
from ..source import Span

MAX_RANGE = 100_000  # items of one range


def checked(v: Any, span: Span) -> Any:
    """Every integer a value expression makes fits in 64 bits; every number is finite and real."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        if not MIN_INT <= v <= MAX_INT:
            raise error(f"{digits(v)} does not fit in 64 bits", span,
                        help=f"integers are limited to {MIN_INT:,} .. {MAX_INT:,}")
    elif isinstance(v, float):
        if not math.isfinite(v):
            raise error(f"the result is {'not a number' if math.isnan(v) else 'infinite'}", span,
                        help="numbers must be finite 64-bit floats")
    elif isinstance(v, complex):
        raise error("the result is not a real number", span)
    return v


def digits(v: int) -> str:
    bits = v.bit_length()
    return str(v) if bits < 200 else f"a number of {bits} bits"


def reason(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "the result is too large"
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def _exact_div(a: Any, b: Any) -> Any:
    """`/` stays an integer when it divides exactly (`c/2`), and is a float otherwise."""
    if isinstance(a, int) and isinstance(b, int) and a % b == 0:
        return a // b
    return a / b


BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": _exact_div,
    "//": lambda a, b: a // b, "%": lambda a, b: a % b, "**": lambda a, b: a ** b,
    "<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
}


def _int_arg(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{what} must be an integer")
    return v


def _range(*args: Any) -> list[int]:
    if not 1 <= len(args) <= 3:
        raise TypeError(f"range takes 1 to 3 integers, got {len(args)}")
    values = [_int_arg(a, "each argument") for a in args]
    start, stop, step = (0, values[0], 1) if len(values) == 1 else (values + [1])[:3]
    if step == 0:
        raise ValueError("the step must not be zero")
    count = max(0, (stop - start + step - (1 if step > 0 else -1)) // step)
    if count > MAX_RANGE:
        raise ValueError(f"range of {count} items is larger than {MAX_RANGE}")
    return list(range(start, stop, step))


def _round(x: Any, ndigits: Any = None) -> Any:
    if ndigits is None:
        return round(x)
    ndigits = _int_arg(ndigits, "the number of digits")
    if not -400 <= ndigits <= 400:  # round(10, -10**18) would compute 10**(10**18)
        raise ValueError("the number of digits must be between -400 and 400")
    return round(x, ndigits)


def _numbers(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """A built-in over numbers (or one list of numbers): strings and lists of lists are refused."""
    def call(*args: Any) -> Any:
        items = args[0] if len(args) == 1 and isinstance(args[0], list) else args
        if any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in items):
            raise TypeError(f"`{name}` takes numbers")
        return fn(*args)
    return call


def _int(v: Any) -> int:
    if isinstance(v, str) and len(v.strip()) > 30:
        raise ValueError("the string is too long for an integer")
    return int(v)


def _pow(a: Any, b: Any) -> Any:
    for v in (a, b):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError("`pow` takes numbers")
    if isinstance(a, int) and isinstance(b, int) and abs(a) > 1 and b * math.log2(abs(a)) > 64:
        raise OverflowError(f"{a} ** {b} is too large")
    if a == 0 and b < 0:
        raise ZeroDivisionError(f"{a} ** {b} divides by zero")
    if a < 0 and isinstance(b, float) and not b.is_integer():
        raise ValueError(f"({a}) ** {b} is not a real number")
    return a ** b


def _log(x: Any, base: Any = None) -> float:
    """`log(x)` is natural, `log(x, b)` to base b, as Python's math.log."""
    return math.log(x) if base is None else math.log(x, base)


def _list_arg(v: Any, name: str) -> list[Any]:
    if not isinstance(v, list):
        raise TypeError(f"`{name}` takes lists")
    return v


def _cumsum(xs: Any) -> list[Any]:
    """Running totals: cumsum([2, 3, 4]) == [2, 5, 9] (EfficientNet's global block index)."""
    out: list[Any] = []
    total: int | float = 0
    for x in _list_arg(xs, "cumsum"):
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise TypeError("`cumsum` takes a list of numbers")
        total += x
        out.append(total)
    return out


def _zip(*lists: Any) -> list[list[Any]]:
    """Lists of the i-th items, as long as the shortest list; each item a list to unpack."""
    return [list(t) for t in zip(*(_list_arg(x, "zip") for x in lists))]


def _enumerate(xs: Any, start: Any = 0) -> list[list[Any]]:
    return [[i, x] for i, x in enumerate(_list_arg(xs, "enumerate"), _int_arg(start, "the start"))]


def _truths(name: str, fn: Callable[[list[bool]], bool]) -> Callable[[Any], bool]:
    def call(xs: Any) -> bool:
        items = _list_arg(xs, name)
        if not all(isinstance(x, bool) for x in items):
            raise TypeError(f"`{name}` takes a list of true or false")
        return fn(items)
    return call


BUILTINS: dict[str, Callable[..., Any]] = {
    "range": _range, "min": _numbers("min", min), "max": _numbers("max", max), "len": len,
    "abs": _numbers("abs", abs), "int": _int, "float": float, "round": _numbers("round", _round),
    "floor": _numbers("floor", math.floor), "ceil": _numbers("ceil", math.ceil), "sum": _numbers("sum", sum),
    "linear_decay": linear_decay,
    "log": _numbers("log", _log), "exp": _numbers("exp", math.exp), "sqrt": _numbers("sqrt", math.sqrt),
    "pow": _pow, "cumsum": _cumsum, "zip": _zip, "enumerate": _enumerate,
    "any": _truths("any", any), "all": _truths("all", all),
}
