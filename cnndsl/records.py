"""Frozen dataclasses that are cheap to define.

`@dataclass(frozen=True)` writes and compiles six methods for every class (`__init__`, `__eq__`,
`__hash__`, `__repr__`, `__setattr__`, `__delattr__`), about half a millisecond each class on
Python 3.11; the syntax tree's 36 node types and the op table's attribute types made that a tenth
of a static command's start-up. `@record` has dataclasses write only what must be per class (the
initialiser, and the frozen guards) and shares one `__eq__`, `__hash__` and `__repr__` that read a
per-class getter of the compared fields: the same results as dataclass's own (equal when of the
same class and equal compared fields, the hash of those fields' tuple, `Name(field=value, ...)`)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T", bound=type)


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of those fields of an object (attrgetter returns a bare value for one name)."""
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names)


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return self._compared(self) == other._compared(other)


def _hash(self: Any) -> int:
    return hash(self._compared(self))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)
    return f"{type(self).__qualname__}({shown})"


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: T | None = None, /, *, kw_only: bool = False) -> Any:
    """`@dataclass(frozen=True)` with shared comparison, hash and repr (see the module's doc)."""
    def make(cls: T) -> T:
        own = {name: cls.__dict__[name] for name in ("__eq__", "__hash__", "__repr__") if name in cls.__dict__}
        dataclass(frozen=True, eq=False, repr=False, kw_only=kw_only)(cls)  # in place: no slots
        cls.__eq__ = own.get("__eq__", _eq)  # type: ignore[method-assign]
        cls.__hash__ = own.get("__hash__", _hash)  # type: ignore[method-assign]
        cls.__repr__ = own.get("__repr__", _repr)  # type: ignore[method-assign]
        cls._compared = staticmethod(_getter([f.name for f in fields(cls) if f.compare]))  # type: ignore[attr-defined]
        cls._shown = tuple(f.name for f in fields(cls) if f.repr)  # type: ignore[attr-defined]
        return cls
    return make if cls is None else make(cls)
