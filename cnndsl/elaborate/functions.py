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


BUILTINS: dict[str, Callable[..., Any]] = {
    "range": _range, "min": _numbers("min", min), "max": _numbers("max", max), "len": len,
    "abs": _numbers("abs", abs), "int": _int, "float": float, "round": _numbers("round", _round),
    "floor": _numbers("floor", math.floor), "ceil": _numbers("ceil", math.ceil), "sum": _numbers("sum", sum),
    "linear_decay": linear_decay,
}
