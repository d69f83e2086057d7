"""Checking a layer's written attributes against the types its op's row declares, without pydantic.

An op's attributes are a frozen dataclass (`base.Attrs`) whose annotations are the rules:
`int`, `float`, `bool`, `str`, `None`, `Literal["batch", "row"]`, `tuple[X, X]`, `tuple[X, ...]`,
a class (`LinearDecay`), unions of these, and `Annotated[X, Bound(ge=1)]` for a range. The rules
are those pydantic's lax mode applied when the table was made of pydantic models, so a `.arch` file
means what it meant and a refused value gets the same diagnostic (tests/test_attr_schema.py checks
the two against each other): a whole float is an int (`3.0` -> 3), an int or a bool is a float,
0 and 1 are booleans, a list is a tuple, and `X | None` is X or nothing. One difference, on
purpose: a quoted string is never a number or a boolean (`conv3x3:"64"`), which pydantic parsed,
and a dictionary is not a drop-path rule (pydantic made `{"last": 5}` one, unchecked).

Importing pydantic and building its models was most of a static command's start-up (docs/
performance.md); this module is a tenth of that, and a class's checker is built when first used.
Problems are reported as pydantic reported them (`type`, `loc`, `msg`, `ctx`), in field order, so
`cnndsl.elaborate.attributes` words them the same way."""
from __future__ import annotations

import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields, is_dataclass
from typing import Any, Literal, NotRequired, TypedDict, Union, get_args, get_origin


class Bound:
    """A range an attribute's value must lie in: `Annotated[int, Bound(ge=1)]`."""

    __slots__ = ("limits",)

    def __init__(self, *, ge: float | None = None, gt: float | None = None, le: float | None = None,
                 lt: float | None = None) -> None:
        self.limits = {k: v for k, v in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt)) if v is not None}


class Problem(TypedDict):
    """One reason a value was refused, shaped as pydantic's `ErrorDetails`."""

    type: str
    loc: tuple[str | int, ...]
    msg: str
    ctx: NotRequired[dict[str, Any]]


class Invalid(Exception):
    """A value was refused; `problems` in field order."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0]["msg"] if problems else "invalid")
        self.problems = problems


Check = Callable[[Any, tuple[str | int, ...]], Any]  # (value, location) -> the value as the field holds it
I64 = 2**63


def _fail(kind: str, loc: tuple[str | int, ...], msg: str, ctx: dict[str, Any] | None = None) -> Invalid:
    problem = Problem(type=kind, loc=loc, msg=msg)
    if ctx is not None:
        problem["ctx"] = ctx
    return Invalid([problem])


def _int(v: Any, loc: tuple[str | int, ...]) -> int:
    if isinstance(v, int):  # a bool too: true is 1
        return int(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise _fail("finite_number", loc, "Input should be a finite number")
        if not v.is_integer():
            raise _fail("int_from_float", loc, "Input should be a valid integer, got a number with a fractional part")
        if not -I64 < v < I64:
            raise _fail("int_parsing_size", loc, "Unable to parse input string as an integer, exceeded maximum size")
        return int(v)
    if isinstance(v, str):
        raise _fail("int_parsing", loc, "Input should be a valid integer, unable to parse string as an integer")
    raise _fail("int_type", loc, "Input should be a valid integer")


def _float(v: Any, loc: tuple[str | int, ...]) -> float:
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        raise _fail("float_parsing", loc, "Input should be a valid number, unable to parse string as a number")
    raise _fail("float_type", loc, "Input should be a valid number")


def _bool(v: Any, loc: tuple[str | int, ...]) -> bool:
    if isinstance(v, bool):
        return v
    whole = isinstance(v, int) or (isinstance(v, float) and v.is_integer())
    if whole and -I64 <= v < I64:
        if v in (0, 1):
            return bool(v)
        raise _fail("bool_parsing", loc, "Input should be a valid boolean, unable to interpret input")
    if isinstance(v, str):
        raise _fail("bool_parsing", loc, "Input should be a valid boolean, unable to interpret input")
    raise _fail("bool_type", loc, "Input should be a valid boolean")


def _str(v: Any, loc: tuple[str | int, ...]) -> str:
    if isinstance(v, str):
        return v
    raise _fail("string_type", loc, "Input should be a valid string")


def _none(v: Any, loc: tuple[str | int, ...]) -> None:
    if v is not None:
        raise _fail("none_required", loc, "Input should be None")


_SCALARS: dict[Any, Check] = {int: _int, float: _float, bool: _bool, str: _str, type(None): _none}
_WORDS = {"ge": "greater than or equal to", "gt": "greater than", "le": "less than or equal to", "lt": "less than"}
_KINDS = {"ge": "greater_than_equal", "gt": "greater_than", "le": "less_than_equal", "lt": "less_than"}
_HOLDS: dict[str, Callable[[Any, Any], bool]] = {
    "ge": lambda v, b: v >= b, "gt": lambda v, b: v > b, "le": lambda v, b: v <= b, "lt": lambda v, b: v < b}


def _bounded(inner: Check, bound: Bound, as_float: bool) -> Check:
    limits = {k: float(b) if as_float else b for k, b in bound.limits.items()}

    def check(v: Any, loc: tuple[str | int, ...]) -> Any:
        v = inner(v, loc)
        for kind, b in limits.items():
            if not _HOLDS[kind](v, b):  # `not`, so that a NaN is refused
                raise _fail(_KINDS[kind], loc, f"Input should be {_WORDS[kind]} {b:g}" if as_float
                            else f"Input should be {_WORDS[kind]} {b}", {kind: b})
        return v
    return check


def _literal(words: tuple[Any, ...]) -> Check:
    shown = [repr(w) for w in words]
    expected = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"

    def check(v: Any, loc: tuple[str | int, ...]) -> Any:
        if any(type(v) is type(w) and v == w for w in words):
            return v
        raise _fail("literal_error", loc, f"Input should be {expected}", {"expected": expected})
    return check


def _instance(cls: type) -> Check:
    """A value of a class of the language's own (a drop-path rule, made by `linear_decay(p)`)."""
    name = cls.__name__
    kind, msg, ctx = (("dataclass_type", f"Input should be a dictionary or an instance of {name}", {"class_name": name})
                      if is_dataclass(cls) else
                      ("is_instance_of", f"Input should be an instance of {name}", {"class": name}))

    def check(v: Any, loc: tuple[str | int, ...]) -> Any:
        if isinstance(v, cls):
            return v
        raise _fail(kind, loc, msg, ctx)
    return check


def _sequence(v: Any, loc: tuple[str | int, ...]) -> list[Any] | tuple[Any, ...]:
    if isinstance(v, (list, tuple)):
        return v
    raise _fail("tuple_type", loc, "Input should be a valid tuple")


def _tuple_of(item: Check) -> Check:
    """`tuple[X, ...]`: every item checked, every refused item reported."""
    def check(v: Any, loc: tuple[str | int, ...]) -> tuple[Any, ...]:
        out, problems = [], []
        for i, x in enumerate(_sequence(v, loc)):
            try:
                out.append(item(x, (*loc, i)))
            except Invalid as exc:
                problems += exc.problems
        if problems:
            raise Invalid(problems)
        return tuple(out)
    return check


def _fixed_tuple(items: list[Check]) -> Check:
    """`tuple[X, Y]`: too many items is one problem; else each item, then each one missing."""
    def check(v: Any, loc: tuple[str | int, ...]) -> tuple[Any, ...]:
        seq = _sequence(v, loc)
        if len(seq) > len(items):
            raise _fail("too_long", loc, f"Tuple should have at most {len(items)} items after validation, "
                        f"not {len(seq)}", {"field_type": "Tuple", "max_length": len(items), "actual_length": len(seq)})
        out, problems = [], []
        for i, item in enumerate(items):
            if i >= len(seq):
                problems.append(Problem(type="missing", loc=(*loc, i), msg="Field required"))
                continue
            try:
                out.append(item(seq[i], (*loc, i)))
            except Invalid as exc:
                problems += exc.problems
        if problems:
            raise Invalid(problems)
        return tuple(out)
    return check


def _union(members: list[tuple[str, Check]]) -> Check:
    """The first member that takes the value; else every member's problems, each located under the
    member's name (the members the table uses take disjoint values, so order cannot matter)."""
    def check(v: Any, loc: tuple[str | int, ...]) -> Any:
        problems: list[Problem] = []
        for name, member in members:
            try:
                return member(v, (*loc, name))
            except Invalid as exc:
                problems += exc.problems
        raise Invalid(problems)
    return check


def _optional(inner: Check) -> Check:
    def check(v: Any, loc: tuple[str | int, ...]) -> Any:
        return None if v is None else inner(v, loc)
    return check


def checker(annotation: Any) -> Check:
    """The check for one annotation (resolved: `typing.get_type_hints(..., include_extras=True)`)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is typing.Annotated:
        inner = checker(args[0])
        for bound in (m for m in annotation.__metadata__ if isinstance(m, Bound)):
            inner = _bounded(inner, bound, as_float=args[0] is float)
        return inner
    if origin in (Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        members = checker(rest[0]) if len(rest) == 1 else _union([(_name(a), checker(a)) for a in rest])
        # `X | None`: X, or nothing (no problem about None when X refuses)
        return _optional(members) if len(rest) < len(args) else members
    if origin is Literal:
        return _literal(args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _tuple_of(checker(args[0]))
        return _fixed_tuple([checker(a) for a in args])
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if isinstance(annotation, type):
        return _instance(annotation)
    raise TypeError(f"an attribute cannot be typed {annotation!r}")


def _name(annotation: Any) -> str:
    """A union member's name in a problem's location (pydantic's style; only its presence matters)."""
    return getattr(annotation, "__name__", None) or str(annotation)


class Schema:
    """One attributes class's fields, in declaration order: name -> (annotation, check, default)."""

    def __init__(self, cls: type) -> None:
        assert is_dataclass(cls)
        hints = typing.get_type_hints(cls, include_extras=True)
        self.names = tuple(f.name for f in fields(cls))
        self.name_set = frozenset(self.names)
        self.annotations = {name: hints[name] for name in self.names}
        self.checks = {name: checker(hints[name]) for name in self.names}
        self.required = frozenset(f.name for f in fields(cls)
                                  if f.default is MISSING and f.default_factory is MISSING)

    def check(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The written values as the fields hold them; unknown names are the caller's to refuse."""
        out: dict[str, Any] = {}
        problems: list[Problem] = []
        for name in self.names:
            if name not in values:
                if name in self.required:
                    problems.append(Problem(type="missing", loc=(name,), msg="Field required"))
                continue
            try:
                out[name] = self.checks[name](values[name], (name,))
            except Invalid as exc:
                problems += exc.problems
        if problems:
            raise Invalid(problems)
        return out


def to_json(value: Any) -> Any:
    """An attribute's value as JSON data: tuples as lists, a dataclass as its fields."""
    if isinstance(value, (tuple, list)):
        return [to_json(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    return value
