"""The op table's attribute checks (`cnndsl.ops.schema`) against pydantic, which the table used
before: for every op's written attributes and every value a `.arch` file can write there, the
same value is accepted and converted the same way, or refused with the same problems (type,
location, context), so every diagnostic stays as it was. pydantic's models are built here, at
test time, from the same declarations."""
from __future__ import annotations

import functools
import operator
import types
import typing
from dataclasses import MISSING, fields
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from cnndsl.elaborate.attributes import _explain, _most_relevant
from cnndsl.ops import OPS, Attrs
from cnndsl.ops.paths import LinearDecay
from cnndsl.ops.schema import Bound, Invalid

# what the language's values can be: numbers (64-bit integers, finite floats), booleans, strings,
# lists (written [..]) and tuples (written (..)), dictionaries, nothing, and a drop-path rule
SCALARS: list[Any] = [True, False, 0, 1, 2, 3, -1, 7, 2**63 - 1, -(2**63), 0.0, -0.0, 1.0, 0.5, 1.5, 3.0, -2.0,
                      1e-5, 1e19, 1e300, -1e300, 9.2e18, "a", "", "row", "batch", "eval", "train", None]
VALUES: list[Any] = [*SCALARS, [], [1], [0, 1], [1, 7], [3, 3], [0, 0, 0], [1.5, 2], [True, 2], [1, [2]],
                     (1, 2), ("a", 1), (2, -1, 4), [0, -1], {"a": 1}, LinearDecay(0.5)]


def pydantic_type(annotation: Any) -> Any:
    """The same rule in pydantic's terms: a Bound becomes Field(ge=..)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        bounds = [m for m in annotation.__metadata__ if isinstance(m, Bound)]
        return Annotated[(pydantic_type(args[0]), *(Field(**b.limits) for b in bounds))]
    if origin in (Union, types.UnionType):
        return functools.reduce(operator.or_, (pydantic_type(a) for a in args))
    if origin is tuple:
        return tuple[tuple(pydantic_type(a) if a is not Ellipsis else a for a in args)]
    if origin is Literal:
        return annotation
    return annotation


def pydantic_model(cls: type[Attrs]) -> type[BaseModel]:
    hints = typing.get_type_hints(cls, include_extras=True)
    spec = {f.name: (pydantic_type(hints[f.name]), ... if f.default is MISSING else f.default) for f in fields(cls)}
    config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    return create_model(cls.__name__, __config__=config, **spec)  # type: ignore[call-overload]


def shown(problems: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """A problem as a diagnostic reads it: union members' names in a location are pydantic's own
    spelling ('constrained-int') and only their presence matters, so they compare as '*'."""
    return [(p["type"], tuple(x if i == 0 or isinstance(x, int) else "*" for i, x in enumerate(p["loc"])),
             p.get("ctx")) for p in problems]


WRITTEN = sorted({op.attrs for op in OPS.values()}, key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", WRITTEN, ids=lambda c: c.__name__)
def test_every_written_value_is_checked_as_pydantic_checked_it(cls: type[Attrs]) -> None:
    model = pydantic_model(cls)
    for name in cls.schema().names:
        for value in VALUES:
            if isinstance(value, dict) and name == "survive":  # pydantic read it as a LinearDecay's fields
                with pytest.raises(Invalid):  # ({"last": 5} was a rule, unchecked): refused on purpose
                    cls.check({name: value})
                continue
            try:
                expected: Any = getattr(model(**{name: value}), name) if name in model.model_fields else None
            except ValidationError as exc:
                with pytest.raises(Invalid) as got:
                    cls.check({name: value})
                theirs = exc.errors()
                assert shown(got.value.problems) == shown(theirs), (cls.__name__, name, value)  # type: ignore[arg-type]
                ours, first = _most_relevant(got.value.problems), _most_relevant(theirs)  # type: ignore[arg-type]
                assert _explain(name, ours) == _explain(name, first), (cls.__name__, name, value)  # type: ignore[arg-type]
                continue
            if cls.schema().required - {name}:  # a required field left out is its own problem below
                continue
            value_out = getattr(cls.check({name: value}), name)
            assert (value_out, type(value_out)) == (expected, type(expected)), (cls.__name__, name, value)


@pytest.mark.parametrize("cls", WRITTEN, ids=lambda c: c.__name__)
def test_a_required_attribute_left_out_is_reported_as_pydantic_did(cls: type[Attrs]) -> None:
    model = pydantic_model(cls)
    try:
        model()
    except ValidationError as exc:
        with pytest.raises(Invalid) as got:
            cls.check({})
        assert shown(got.value.problems) == shown(exc.errors())  # type: ignore[arg-type]
        assert [p["msg"] for p in got.value.problems] == [e["msg"] for e in exc.errors()]
    else:
        assert cls.check({}) == cls()


def test_the_messages_a_diagnostic_can_show_are_pydantics() -> None:
    """`_explain` falls back to a problem's message for the types it has no words for."""
    model, cls = pydantic_model(OPS["droppath"].attrs), OPS["droppath"].attrs
    for values in ({"survive": [1]}, {"rule": 3}, {"mode": 3}, {"survive": None}):
        with pytest.raises(ValidationError) as theirs:
            model(**values)
        with pytest.raises(Invalid) as ours:
            cls.check(values)
        assert [p["msg"] for p in ours.value.problems] == [e["msg"] for e in theirs.value.errors()]


@pytest.mark.parametrize("value", ["3", "1.0", " 3 ", "true", "yes", "1e3"])
def test_a_quoted_string_is_not_a_number_nor_a_boolean(value: str) -> None:
    """The one difference from pydantic, on purpose: `conv3x3:"64"` or `bias="yes"` is refused."""
    conv = OPS["conv"].attrs
    for name in ("out", "bias"):
        with pytest.raises(Invalid) as got:
            conv.check({name: value})
        assert got.value.problems[0]["type"] in ("int_parsing", "bool_parsing")
    with pytest.raises(Invalid):
        OPS["bn"].attrs.check({"eps": value})


def test_attributes_are_frozen_and_compare_by_value() -> None:
    conv = OPS["conv"].attrs.check({"out": 8, "k": [1, 7]})
    assert conv == OPS["conv"].attrs.check({"out": 8.0, "k": (1, 7)}) and hash(conv) == hash(
        OPS["conv"].attrs.check({"out": 8, "k": (1, 7)}))
    with pytest.raises(AttributeError):
        conv.out = 3  # type: ignore[misc]
    assert conv.to_json() == {"out": 8, "k": [1, 7], "s": 1, "p": None, "d": 1, "groups": 1, "bias": True}
