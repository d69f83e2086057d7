"""The values of value expressions, and how a message or a label shows one (cut to about
SHOW_CHARS characters, so a label stays short whatever the value)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..ops.paths import LinearDecay
from ..source import Span
from .functions import digits

SHOW_CHARS = 120  # how much of a value a message or label shows


@dataclass(frozen=True)
class BlockRef:
    """A block (or network) used as a value: `let b = depth < 50 ? basic : bottleneck`, or
    partially applied: `let b = bottleneck(groups=32)`. Calling it adds the call's arguments
    after `args` (positional after positional; a keyword given again replaces the earlier one),
    so a block handed to `stage` can carry values that its definition cannot see."""

    name: str
    args: tuple[tuple[str | None, Any], ...] = ()
    spans: tuple[Span, ...] = field(default=(), compare=False)

    def apply(self, args: list[tuple[str | None, Any, Span]]) -> BlockRef:
        new = {name for name, _, _ in args if name is not None}
        kept = [(n, v, s) for (n, v), s in zip(self.args, self.spans) if n is None or n not in new]
        merged = [a for a in kept if a[0] is None] + [a for a in args if a[0] is None] \
            + [a for a in kept if a[0] is not None] + [a for a in args if a[0] is not None]
        return BlockRef(self.name, tuple((n, v) for n, v, _ in merged), tuple(s for _, _, s in merged))

    def call_args(self) -> list[tuple[str | None, Any, Span]]:
        return [(n, v, s) for (n, v), s in zip(self.args, self.spans)]

    def __str__(self) -> str:
        return show(self)


@dataclass(frozen=True)
class OpRef:
    """An op of the table used as a value (`block se(squeeze, act=relu)`, `se(8, act=silu)`), with
    arguments if it was called (`act=leaky_relu(0.2)`): where the value is used as a layer, it is
    that op with those attributes (the op's defaults for the rest)."""

    name: str
    args: tuple[tuple[str | None, Any], ...] = ()
    spans: tuple[Span, ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        return show(self)


@dataclass(frozen=True)
class Tensor:
    """A named intermediate result (`... as a4`): the id of the graph node that produces it."""

    node: str


class Env:
    """Lexical scope: a block sees the file-level `let`s and its own parameters, not its caller's."""

    def __init__(self, parent: Env | None = None, values: dict[str, Any] | None = None) -> None:
        self.parent = parent
        self.values: dict[str, Any] = dict(values or {})

    def lookup(self, name: str) -> Any:
        env: Env | None = self
        while env is not None:
            if name in env.values:
                return env.values[name]
            env = env.parent
        raise KeyError(name)

    def names(self) -> set[str]:
        out: set[str] = set()
        env: Env | None = self
        while env is not None:
            out |= set(env.values)
            env = env.parent
        return out

    def child(self, values: dict[str, Any] | None = None) -> Env:
        return Env(self, values)


def type_name(v: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a dictionary", BlockRef: "a block", OpRef: "a layer", Tensor: "a tensor",
            LinearDecay: "a drop-path schedule"}.get(type(v), type(v).__name__)


def show(v: Any, limit: int = SHOW_CHARS) -> str:
    """A value as the language writes it, cut to about `limit` characters with `...`."""
    out: list[str] = []
    _show(v, out, [limit])
    return "".join(out)


def _show(v: Any, out: list[str], left: list[int]) -> None:
    if left[0] <= 0:
        return
    if isinstance(v, list):
        _show_items(v, "[", "]", out, left, lambda x: _show(x, out, left))
    elif isinstance(v, dict):
        _show_items(list(v.items()), "{", "}", out, left, lambda kv: _show_pair(kv, ": ", out, left))
    elif isinstance(v, (BlockRef, OpRef)):
        _emit(v.name, out, left)
        if v.args:
            _show_items(list(v.args), "(", ")", out, left,
                        lambda a: _show(a[1], out, left) if a[0] is None else _show_pair(a, "=", out, left))
    else:
        _emit(_atom(v), out, left)


def _show_items(items: list[Any], open_: str, close: str, out: list[str], left: list[int],
                each: Callable[[Any], None]) -> None:
    _emit(open_, out, left)
    for i, item in enumerate(items):
        if i:
            _emit(", ", out, left)
        if left[0] <= 0:
            out.append(f"... ({len(items)} items)")
            break
        each(item)
    out.append(close)


def _show_pair(kv: tuple[Any, Any], sep: str, out: list[str], left: list[int]) -> None:
    k, v = kv
    _emit(k, out, left) if isinstance(k, str) and sep == "=" else _show(k, out, left)
    _emit(sep, out, left)
    _show(v, out, left)


def _emit(text: str, out: list[str], left: list[int]) -> None:
    out.append(text)
    left[0] -= len(text)


def _atom(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        text = v if len(v) <= SHOW_CHARS else v[:SHOW_CHARS] + "..."
        return '"' + "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text) + '"'
    if isinstance(v, int):
        return digits(v)
    return str(v)
