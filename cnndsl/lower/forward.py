"""The body of a generated `forward`: one statement per `.arch` layer, as a person writes it.

A value read only by the next layer of the same `.arch` literal is passed straight into it, so the
unit `3x3:64` reads `x = self.relu1(self.bn1(self.conv1(x)))`, a residual's projection goes inside
its add, and a branch of a merge is a variable (`b1`, `b2`, ...) the `torch.cat` reads. Locals are
reused once dead, and a dead local that is not reused is deleted, so every value is released after
its last use: the memory the liveness pass (`passes/liveness.py`) reports is the memory `forward`
holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .plan import Instance, Item, Ref, output_refs

INPUT = "x"


@dataclass
class _State:
    inst: Instance
    inline: set[int]
    last_read: dict[Ref, int]  # value -> the statement (item index) that reads it last
    var: dict[Ref, str] = field(default_factory=dict)  # value -> the local holding it
    holder: dict[str, Ref] = field(default_factory=dict)  # local -> the value it holds
    lines: list[tuple[str, Any]] = field(default_factory=list)  # (statement, the span it came from)
    names: dict[Ref, str] = field(default_factory=dict)  # values whose local has a chosen name


def statements(inst: Instance, render, names: dict[Ref, str] | None = None) -> list[tuple[str, Any]]:
    """The statements of `forward`'s body, each with the span of the layer it computes.
    `render(k, args)` is the expression of item k applied to the argument expressions `args`;
    `names` gives some values the name of their local (the network's outputs: `aux1`)."""
    items, outs = inst.items, output_refs(inst)
    inline = {k for k in range(len(items) - 1) if _inlinable(inst, k, outs)}
    st = _State(inst, inline, _last_reads(inst, inline, outs), names=names or {})
    st.var[("in",)], st.holder[INPUT] = INPUT, ("in",)
    roots = [k for k in range(len(items)) if k not in inline]
    for n, k in enumerate(roots):
        expr = _expr(st, k, render)
        last = n == len(roots) - 1
        if last and outs == [("item", k)]:
            st.lines.append((f"return {expr}", items[k].span))
            return st.lines
        _assign(st, k, expr, is_last=last)
    st.lines.append(("return " + ", ".join(st.var[r] for r in outs), None))
    return st.lines


def _inlinable(inst: Instance, k: int, outs: list[Ref]) -> bool:
    """Item k's value goes straight into item k+1, as the liveness pass decided (read by k+1 alone,
    same `.arch` literal): one line of `forward` per layer the author wrote."""
    item = inst.items[k]
    return item.node is not None and bool(item.node.meta.get("inline"))


def _last_reads(inst: Instance, inline: set[int], outs: list[Ref]) -> dict[Ref, int]:
    """For each value, the statement that reads it last (an inlined item's reads happen in the
    statement of the item it is inlined into)."""
    root: dict[int, int] = {}
    for k in reversed(range(len(inst.items))):
        root[k] = k if k not in inline else root[k + 1]
    last: dict[Ref, int] = {}
    for k, item in enumerate(inst.items):
        for r in item.inputs:
            last[r] = max(last.get(r, -1), root[k])
    for r in outs:
        last[r] = len(inst.items)  # returned at the end
    return last


def _expr(st: _State, k: int, render) -> str:
    item = st.inst.items[k]
    args = [_expr(st, r[1], render) if r[0] == "item" and r[1] in st.inline else st.var[r] for r in item.inputs]
    return render(k, args)


def _assign(st: _State, k: int, expr: str, is_last: bool) -> None:
    item = st.inst.items[k]
    dying = [v for v in dict.fromkeys(st.var[r] for r in _reads(st, k)) if st.last_read.get(st.holder[v], -1) == k]
    targets = _targets(st, item, k, dying)
    st.lines.append((f"{', '.join(targets)} = {expr}", item.span))
    for v in dying:
        if v not in targets:
            held = st.holder.pop(v)
            st.var.pop(held, None)
            if held != ("in",) and not is_last:  # the caller holds the block's input anyway
                st.lines.append((f"del {v}", None))
    outs = [("item", k)] if item.child is None or len(item.child.outputs) == 1 else \
        [("item", k, j) for j in range(len(item.child.outputs))]
    for v, r in zip(targets, outs):
        old = st.holder.get(v)
        if old is not None:
            st.var.pop(old, None)
        st.var[r], st.holder[v] = v, r


def _reads(st: _State, k: int) -> list[Ref]:
    """The values statement k reads through locals (its own inputs and its inlined items')."""
    out, j = [], k
    while True:
        out += [r for r in st.inst.items[j].inputs if not (r[0] == "item" and r[1] in st.inline)]
        if j - 1 not in st.inline:  # an inlined item is read by the next one only
            return out
        j -= 1


def _targets(st: _State, item: Item, k: int, dying: list[str]) -> list[str]:
    count = 1 if item.child is None or len(item.child.outputs) == 1 else len(item.child.outputs)
    chosen = st.names.get(("item", k))
    if chosen is not None and count == 1:
        return [_fresh(st, chosen, [])]
    branch = _branch_name(st.inst, item)
    held = [v for v in dying if st.holder[v] != ("in",)]  # a local whose value dies here: reuse it
    given = [v for v in dying if st.holder[v] == ("in",)]  # the block's input: the caller holds it anyway
    reuse = [v for v in held if v.startswith(branch)] if branch else held + given
    names = reuse[:count]
    while len(names) < count:
        names.append(_fresh(st, branch or "y", names))
    return names


def _fresh(st: _State, base: str, also: list[str]) -> str:
    name, n = base, 1
    while name in st.holder or name in also or name == INPUT:
        n += 1
        name = f"{base}_{n}"
    return name


def _branch_name(inst: Instance, item: Item) -> str | None:
    """`b2` for a value made in the second branch of a merge inside this block, else None."""
    node = item.node if item.node is not None else None
    inner = item.child if item.child is not None else item.loop.copies[0] if item.loop is not None else None
    scope = node.scope if node is not None else _first_scope(inner)
    start = 0
    if inst.frame is not None:
        start = next((i + 1 for i, f in enumerate(scope) if f is inst.frame), 0)
    stop = len(scope) if node is not None else next(i for i, f in enumerate(scope) if f is inner.frame)  # type: ignore[union-attr]
    branches = [f for f in scope[start:stop] if f.kind == "branch"]
    return f"b{branches[-1].index + 1}" if branches else None


def _first_scope(inst: Instance | None):
    item = inst.items[0]  # type: ignore[union-attr]
    while item.node is None:
        inner = item.child if item.child is not None else item.loop.copies[0]  # type: ignore[union-attr]
        item = inner.items[0]
    return item.node.scope
