"""`cnndsl.records.record` against the `@dataclass(frozen=True)` it stands for: equality, hash,
repr and frozenness are dataclass's own (the syntax tree caches and compares by them)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from cnndsl import ast
from cnndsl.records import record
from cnndsl.source import Span


@record
class Rec:
    at: int = field(compare=False, repr=False)
    a: int
    b: tuple[int, ...] = ()


@dataclass(frozen=True)
class Dc:
    at: int = field(compare=False, repr=False)
    a: int
    b: tuple[int, ...] = ()


@record
class One:
    a: object


@dataclass(frozen=True)
class OneDc:
    a: object


@pytest.mark.parametrize("args", [(0, 1), (5, 1), (0, 2, (1, 2)), (0, 1, ())])
def test_a_record_compares_hashes_and_prints_as_a_frozen_dataclass(args: tuple) -> None:
    for other in [(0, 1), (9, 1), (0, 2, (1, 2)), (0, 3)]:
        assert (Rec(*args) == Rec(*other)) == (Dc(*args) == Dc(*other))
    assert hash(Rec(*args)) == hash(Dc(*args))
    assert repr(Rec(*args)).replace("Rec", "Dc") == repr(Dc(*args))
    assert Rec(*args) != Dc(*args) and Rec(*args) != (args[1],)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Rec(*args).a = 3  # type: ignore[misc]
    assert [f.name for f in dataclasses.fields(Rec)] == ["at", "a", "b"]
    assert dataclasses.replace(Rec(*args), a=7) == Rec(args[0], 7, *args[2:])


def test_one_field_and_unhashable_values() -> None:
    assert hash(One(3)) == hash(OneDc(3)) and One(3) == One(3) and repr(One("x")) == "One(a='x')"
    with pytest.raises(TypeError):
        hash(One([1]))
    with pytest.raises(TypeError):
        hash(OneDc([1]))


def test_syntax_tree_nodes_compare_by_content_not_by_where_they_were_written() -> None:
    here, there = Span("a.arch", 1, 1, 1, 2), Span("b.arch", 9, 9, 9, 9)
    assert ast.Var(here, "x") == ast.Var(there, "x") and hash(ast.Var(here, "x")) == hash(ast.Var(there, "x"))
    assert ast.Var(here, "x") != ast.Const(here, "x")
    assert repr(ast.Var(here, "x")) == "Var(name='x')"
