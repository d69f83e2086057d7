"""What a class's constructor takes: the numbers that differ between the instances that share it.

Every number a class's source needs (a conv's channels, a stride, a child's argument, a loop's
count) is a *slot*; across the class's instances a slot is a column of values. A column that never
changes is written as a literal. One that equals a parameter of the block in every instance is
written as that parameter (`c`, `s`), or as the input's channels (`in_channels`), or as a simple
function of one of the same kind (`4 * c`, `in_channels // 2`, `n - 1`, `padding=k // 2`: a
channel count from a channel count, a kernel's padding from a kernel, never a kernel from a
width, which two instances can fit by chance); anything else becomes a parameter of its own,
named after what it is (`survive`). A loop's per-copy values are `a + d * i` where that fits,
else a tuple the constructor takes. So `Bottleneck(in_channels, c, s)` reads as torchvision's does,
and every instance gets exactly the numbers the analysis counted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .names import python_name
from .plan import Instance, Template

IN_CHANNELS = "in_channels"
_NONE: Any = object()


@dataclass(frozen=True)
class Expr:
    text: str
    uses: frozenset[str] = frozenset()
    value: Any = _NONE  # the constant, when the expression is one

    @property
    def is_literal(self) -> bool:
        return self.value is not _NONE


@dataclass
class Param:
    name: str
    annotation: str
    values: list[Any] = field(default_factory=list)  # one per instance
    kinds: frozenset[str] = frozenset()  # what the slots it feeds are (KINDS), known once assigned


# What a module's argument counts, by its name (PyTorch's names): a number is related to another
# only where the two are of one kind. A loop's count is a kind of its own.
KINDS = {**dict.fromkeys(("in_channels", "out_channels", "num_features", "in_features", "out_features", "channels",
                          "normalized_shape", "groups", "pad"), "channels"),
         **dict.fromkeys(("kernel_size", "stride", "padding", "dilation", "output_size"), "space")}


@dataclass(frozen=True)
class Slot:
    """A number the class's source needs: where it goes (the key `Template.slots` keeps), what it
    is named after, its kind (None: unknown), and per instance its value, or for a loop's argument
    the values across the copies."""

    key: tuple[Any, ...]
    role: str
    kind: str | None
    column: list[Any]
    per_copy: bool = False


def lit(v: Any) -> Expr:
    return Expr(repr(v) if not isinstance(v, int) else str(v), value=v)


@dataclass
class _Columns:
    """The slots of one template, column by column, and the expressions chosen for them."""

    template: Template
    atoms: list[dict[str, Any]]  # per instance: the names an expression may use, and their values
    order: list[str]  # the atoms' names, in preference order
    kinds: dict[str, set[str]]  # per atom, the kinds of the slots it equals
    fallback: dict[tuple[Any, ...], Param] = field(default_factory=dict)
    memo: dict[tuple[Any, ...], Expr] = field(default_factory=dict)

    def scalar(self, role: str, kind: str | None, column: list[Any]) -> Expr:
        key = ("scalar", kind, _typed(column))
        if key not in self.memo:
            related = [n for n in self.order if kind is None or not self.kinds[n] or kind in self.kinds[n]]
            self.memo[key] = fit(column, self.atoms, self.order, related) or self._param(role, column)
        return self.memo[key]

    def sequence(self, role: str, kind: str | None, columns: list[list[Any]]) -> Expr:
        """Per instance, the values of one argument across a loop's copies: `a + d * i`, or a tuple."""
        key = ("seq", kind, tuple(_typed(c) for c in columns))
        if key not in self.memo:
            self.memo[key] = (self._affine(role, kind, columns)
                              or self._param(role + "s", [tuple(c) for c in columns], "[i]"))
        return self.memo[key]

    def _affine(self, role: str, kind: str | None, columns: list[list[Any]]) -> Expr | None:
        if not all(isinstance(v, int) and not isinstance(v, bool) for c in columns for v in c):
            return None  # floats: a tuple of the exact values, never a rounded progression
        starts = [c[0] for c in columns]
        steps = [c[1] - c[0] if len(c) > 1 else None for c in columns]
        for c, a, d in zip(columns, starts, steps):
            if d is not None and any(v != a + d * j for j, v in enumerate(c)):
                return None
        a = self.scalar(role, kind, starts)
        d = self.scalar(role + "_step", kind, [0 if s is None else s for s in steps])
        if d.is_literal and d.value == 0:
            return a
        step = "i" if d.is_literal and d.value == 1 else f"{_wrap(d.text)} * i"
        return Expr(f"{a.text} + {step}" if not (a.is_literal and a.value == 0) else step, a.uses | d.uses)

    def _param(self, role: str, column: list[Any], suffix: str = "") -> Expr:
        key = (role, _typed(column))
        if key not in self.fallback:
            taken = set(self.order) | {p.name for p in self.fallback.values()}
            name = python_name(role.rsplit(".", 1)[-1], taken)
            self.fallback[key] = Param(name, _annotation(column[0]), list(column))
        p = self.fallback[key]
        return Expr(p.name + suffix, frozenset({p.name}))


def _typed(column: list[Any]) -> tuple[Any, ...]:
    """A column as a key: 1 and 1.0 (and True) are equal in Python but not in generated source."""
    return tuple((type(v).__name__, v) for v in column)


def fit(column: list[Any], atoms: list[dict[str, Any]], order: list[str], related: list[str]) -> Expr | None:
    """The simplest expression that gives `column[i]` from `atoms[i]` for every instance i: a
    constant, an atom, or a function of one of the `related` atoms."""
    if all(v == column[0] and type(v) is type(column[0]) for v in column):
        return lit(column[0])
    for name in order:
        if all(type(a.get(name)) is type(v) and a.get(name) == v for a, v in zip(atoms, column)):
            return Expr(name, frozenset({name}))
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in column):
        return None
    for name in related:
        col = [a.get(name) for a in atoms]
        ints = [v for v in col if isinstance(v, int) and not isinstance(v, bool)]
        if len(ints) == len(col):
            found = _relation(name, ints, column)
            if found is not None:
                return found
    return None


def _relation(name: str, col: list[int], column: list[int]) -> Expr | None:
    for k in range(2, 17):
        if all(a * k == v for a, v in zip(col, column)):
            return Expr(f"{k} * {name}", frozenset({name}))
        if all(a // k == v for a, v in zip(col, column)):
            return Expr(f"{name} // {k}", frozenset({name}))
    for k in range(1, 17):
        if all(a + k == v for a, v in zip(col, column)):
            return Expr(f"{name} + {k}", frozenset({name}))
        if all(a - k == v for a, v in zip(col, column)):
            return Expr(f"{name} - {k}", frozenset({name}))
    return None


def _wrap(text: str) -> str:
    return text if re.fullmatch(r"[\w.]+", text) else f"({text})"


def _annotation(v: Any) -> str:
    return {int: "int", float: "float", bool: "bool"}.get(type(v), "tuple")


def atoms_of(inst: Instance) -> dict[str, Any]:
    """The values an expression in the class may read, for one instance: the block's numeric
    parameters (by their Python names) and the channels of its input."""
    out: dict[str, Any] = {}
    for name, value in inst.frame.params if inst.frame is not None else ():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[python_name(name, set(out))] = value
    if inst.channels is not None:
        out[python_name(IN_CHANNELS, set(out))] = inst.channels
    return out


def assign(t: Template) -> None:
    """Choose the expression of every slot of `t` (keyed by where it is used), its constructor's
    parameters, and each instance's arguments. The templates of its children come first."""
    atoms = [atoms_of(i) for i in t.instances]
    slots = list(_slots(t))
    cols = _Columns(t, atoms, list(atoms[0]), _atom_kinds(slots, atoms))
    exprs = {s.key: cols.sequence(s.role, s.kind, s.column) if s.per_copy else cols.scalar(s.role, s.kind, s.column)
             for s in slots}
    t.slots = exprs
    used = set().union(*(e.uses for e in exprs.values())) if exprs else set()
    t.params = [Param(name, _annotation(atoms[0][name]), [a[name] for a in atoms]) for name in atoms[0] if name in used]
    t.params += [p for p in cols.fallback.values() if p.name in used]
    for p in t.params:
        p.kinds = frozenset(s.kind for s in slots if s.kind is not None and p.name in exprs[s.key].uses)
    for i, inst in enumerate(t.instances):
        inst.args = [p.values[i] for p in t.params]


def _slots(t: Template) -> Any:
    """The numbers `t`'s source needs, item by item: a module's arguments, a child's, a loop's."""
    for k, item in enumerate(t.first.items):
        at = [inst.items[k] for inst in t.instances]
        if item.lowering is not None:
            for key, value in item.lowering.kwargs.items():
                for e, _ in _numbers(value):
                    column = [_element(it.lowering.kwargs[key], e) for it in at]  # type: ignore[union-attr]
                    yield Slot((k, key, e), f"{item.name}.{key}", KINDS.get(key), column)
        elif item.child is not None:
            for j, p in enumerate(item.child.template.params):  # type: ignore[union-attr]
                yield Slot((k, "arg", j), p.name, _one(p.kinds), [it.child.args[j] for it in at])  # type: ignore[union-attr]
        else:
            yield Slot((k, "count"), "count", "count", [len(it.loop.copies) for it in at])  # type: ignore[union-attr]
            for j, p in enumerate(item.loop.copies[0].template.params):  # type: ignore[union-attr]
                columns = [[copy.args[j] for copy in it.loop.copies] for it in at]  # type: ignore[union-attr]
                yield Slot((k, "arg", j), p.name, _one(p.kinds), columns, per_copy=True)


def _one(kinds: frozenset[str]) -> str | None:
    return next(iter(kinds)) if len(kinds) == 1 else None


def _atom_kinds(slots: list[Slot], atoms: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Per atom, the kinds of the slots it equals in every instance: `k` is a kernel size where it is
    written as one. An atom equal to none may be related to any slot."""
    kinds: dict[str, set[str]] = {name: set() for name in atoms[0]}
    if atoms[0].get(IN_CHANNELS) is not None:
        kinds[IN_CHANNELS].add("channels")
    for s in slots:
        if s.kind is None or s.per_copy:
            continue
        for name in kinds:
            if all(type(a.get(name)) is type(v) and a.get(name) == v for a, v in zip(atoms, s.column)):
                kinds[name].add(s.kind)
    return kinds


def _numbers(value: Any, at: tuple[int, ...] = ()) -> list[tuple[tuple[int, ...], Any]]:
    """The positions of the numbers inside a lowering argument (a tuple's elements; lists and
    strings hold none)."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, list)):
        return []
    if isinstance(value, (int, float)):
        return [(at, value)]
    if isinstance(value, tuple):
        return [found for j, v in enumerate(value) for found in _numbers(v, at + (j,))]
    return []


def _element(value: Any, at: tuple[int, ...]) -> Any:
    for j in at:
        value = value[j]
    return value
