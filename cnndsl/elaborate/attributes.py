"""A layer's written attributes, checked against its op's row: unknown names, and values the op's
attribute types refuse (a negative channel count, a probability above 1, a size beyond 64 bits),
each reported at the text that wrote it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, get_args, get_origin

from ..diagnostics import CnnDslError, did_you_mean, error
from ..ops import Attrs, OpDef, lookup
from ..ops.schema import Invalid, Problem
from ..source import Span
from .values import show


@dataclass
class Written:
    """What the text says about one layer's attributes: values by attribute name, the span of each
    `name=value` attribute written after the layer, and the layer's own span for everything else
    (its `:C` and `/S`, its arguments, the unit's defaults)."""

    at: Span
    values: dict[str, Any] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)

    def put(self, key: str, value: Any, span: Span | None = None) -> None:
        self.values[key] = value
        if span is not None:
            self.spans[key] = span

    def merged(self, other: Written) -> Written:
        """`other` written over this one; errors about other's values point at other's text."""
        spans = {k: s for k, s in self.spans.items() if k not in other.values}
        return Written(other.at, {**self.values, **other.values}, {**spans, **other.spans})

    def span(self, key: str) -> Span:
        return self.spans.get(key, self.at)


def bare_words(opdef: OpDef, key: str) -> tuple[str, ...]:
    """The words an attribute typed `Literal["batch", "row"]` takes: written bare (`mode=row`), as
    the row declares them, so a new op's enumerated attribute needs nothing outside its row."""
    annotation = opdef.attrs.schema().annotations.get(key)
    return _literal_words(annotation) if annotation is not None else ()


def _literal_words(annotation: Any) -> tuple[str, ...]:
    if get_origin(annotation) is Literal:
        return tuple(a for a in get_args(annotation) if isinstance(a, str))
    if get_origin(annotation) is Annotated:
        return _literal_words(get_args(annotation)[0])
    return tuple(w for member in get_args(annotation) for w in _literal_words(member))  # `Literal[...] | None`


def validate(opdef: OpDef, written: Written, blocks: set[str]) -> Attrs:
    """The op's written-phase attributes, or a located error."""
    fields = field_names(opdef)
    for key in written.values:
        if key not in fields:
            raise _unknown(opdef, key, written.span(key), blocks)
    try:
        return opdef.attrs.check(written.values)
    except Invalid as exc:
        first = _most_relevant(exc.problems)
        key = str(first["loc"][0]) if first["loc"] else ""
        raise error(f"bad value for `{key}` of `{opdef.name}`: {show(written.values.get(key))}",
                    written.span(key), details=[_explain(key, first)]) from None


def field_names(opdef: OpDef) -> frozenset[str]:
    """The attribute names of an op (its schema keeps them, made once per attributes class)."""
    return opdef.attrs.schema().name_set


def _unknown(opdef: OpDef, key: str, span: Span, blocks: set[str]) -> CnnDslError:
    fields = opdef.attrs.schema().names
    hint = did_you_mean(key, fields)
    if hint is None and (lookup(key) or key in blocks):
        hint = f"`{key}` is a layer: did you forget `->` before it?"
    known = ", ".join(fields) or "none"
    return error(f"`{opdef.name}` has no attribute `{key}`", span, help=hint,
                 details=[f"attributes of {opdef.name}: {known}"])


# the problems' types (pydantic's names, `ops.schema`), in the words of the language (`true`, a whole number, a list)
_WORDS = {
    "int_type": "must be a whole number", "int_from_float": "must be a whole number",
    "int_parsing": "must be a whole number", "int_parsing_size": "must be a 64-bit integer",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false", "float_type": "must be a number", "float_parsing": "must be a number",
    "too_long": "has too many elements",
    "too_short": "has too few elements", "literal_error": "must be one of the listed words",
}


def _most_relevant(errors: list[Problem]) -> Problem:
    """Of the errors of a union (`k` is a number or a pair), the one about the member the value is
    (a range error inside a pair) rather than a member it is not (`[0, 1]` is not a number)."""
    first_key = errors[0]["loc"][:1]
    same = [e for e in errors if e["loc"][:1] == first_key]
    mismatch = ("_type", "_parsing", "none_required", "int_from_float")
    return next((e for e in same if not e["type"].endswith(mismatch)), errors[0])


def _explain(key: str, e: Problem) -> str:
    """One line: what the value must be, e.g. `out must be at least 1`."""
    ctx = e.get("ctx", {})
    kind = e["type"]
    bounds = {"greater_than": "more than", "greater_than_equal": "at least",
              "less_than": "less than", "less_than_equal": "at most"}
    if kind in bounds:
        limit = next(iter(ctx.values()))
        shown = f"{limit:g}" if isinstance(limit, float) else show(limit)
        if limit == 2**63 - 1:
            shown = "2**63 - 1 (64-bit)"
        return f"{key} must be {bounds[kind]} {shown}"
    if kind == "tuple_type":  # a size that may be a pair, or a list such as `select`'s channels
        return f"{key} must be " + ("a number or a pair such as (1, 7)" if len(e["loc"]) > 1 else "a list")
    if kind in _WORDS:
        return f"{key} {_WORDS[kind]}"
    return str(e["msg"])
