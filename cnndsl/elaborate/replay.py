"""Equal block uses are built once: a use with the same block, arguments and input shape as an
earlier one makes the same layers under another module path, so the layers of the first are
copied instead of elaborated again.

This is what keeps a block that doubles through its parameter (`b(k) = b(k - 1) -> b(k - 1)`)
from evaluating its way to the layer limit: the second `b(k - 1)` of each level is a copy, so only
one path of the recursion is elaborated and the limit is met by copying, which costs a few
microseconds a layer. ResNet-152's 36 equal bottlenecks of a stage are elaborated once too.

A copy is taken only where it is exactly what elaborating would give (tests/test_replay.py
compares both on the zoo): the use's layers read nothing but its input, and no merge of it read
the input directly (a join may absorb the join it reads, so what it makes depends on more than the
input's shape)."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from ..ir import Frame, Node
from ..ops import OPS
from .context import MAX_DEPTH, MAX_NODES

if TYPE_CHECKING:
    from .context import Context

Outputs = list[tuple[str, str]]  # (output name, node id)

# Layers kept in templates by one check, all together. A use nested in another is kept inside the
# outer's template too, so without a bound the uses of a block 90 deep kept each of its layers 90
# times (a valid file of 240,000 such layers: 870 MB). A doubling block keeps twice its layers.
MAX_KEPT = 2 * MAX_NODES


@dataclass
class Template:
    """What the first of equal uses made: its layers in creation order, the input they read, its
    module path and its frame (where, in each layer's scope, the use's own frames begin). Whether
    a copy of it is exact is checked when a second equal use first asks (most never come)."""

    nodes: tuple[Node, ...]
    # each node's meta as the use left it: naming the use's result later (`b(8) as t`) gives its node
    # a new meta (layers.named), so these stay as they were
    metas: tuple[dict[str, Any], ...]
    input: str
    path: str
    frame: Frame
    current: str  # the use's last tensor
    outputs: tuple[tuple[str, str], ...]  # its named outputs
    at: int  # where its frame sits in its layers' scopes
    nested: int  # the frames its layers sit in, all together (context.MAX_NESTED)
    name_chars: int  # the characters of their names (context.MAX_NAME_CHARS)
    # block uses nested inside it, at most (a copy must not pass MAX_DEPTH unseen); -1: copying it
    # could differ from elaborating it; None: not checked yet
    depth: int | None = None

    def copyable(self) -> bool:
        if self.depth is None:
            self.depth = _nested_depth(self)
        return self.depth >= 0


def reuse(ctx: Context, key: Any, frame: Frame, x: str) -> tuple[str, Outputs] | None:
    """The use of `frame` (innermost on the frame stack) built as a copy of an equal earlier use
    (`key`: blocks.use_key): its last tensor and outputs; None if there is none to copy."""
    t = ctx.templates.get(key) if key is not None else None
    if t is None or not t.copyable() or len(ctx.names.blocks) + (t.depth or 0) >= MAX_DEPTH:
        return None
    # the copy's layers sit in the frames around the new use, not the first's, and are named after them
    count = len(t.nodes)
    ctx.count_where(t.nested + count * (len(ctx.names.frames) - 1 - t.at),
                    t.name_chars + count * (len(ctx.names.path()) - len(t.path)), frame.use)
    ids = copy(ctx, t, frame, x)
    return ids[t.current], [(name, ids[i]) for name, i in t.outputs]


def remember(ctx: Context, key: Any, x: str, path: str, frame: Frame, first: int, current: str,
             outputs: Outputs) -> None:
    """Keep the use just built (the graph's nodes from the `first`-th on) for equal uses to copy.
    Nothing a later layer does changes these nodes while the network is built (a rewrite may drop
    one, as a join absorbs another, but not change it), so they can be checked later."""
    count = len(ctx.graph) - first
    if key is None or key in ctx.templates or not path or not count or ctx.layers.kept + count > MAX_KEPT:
        return
    ctx.layers.kept += count
    nodes = _newest(ctx, count)
    ctx.templates[key] = Template(nodes, tuple(n.meta for n in nodes), x, path, frame, current, tuple(outputs),
                                  len(ctx.names.frames), sum(len(n.scope) for n in nodes),
                                  sum(len(n.id) for n in nodes))


def _nested_depth(t: Template) -> int:
    """How deep block uses nest inside `t`'s use, or -1 where a copy could differ from elaborating
    the use again: a layer reads a tensor from outside it, or a merge reads its input directly."""
    made, x = {n.id for n in t.nodes}, t.input
    if any(i not in made and i != x for i in (t.current, *(i for _, i in t.outputs))):
        return -1
    frame = t.frame
    prefix, at, depth = t.path + ".", next(i for i, f in enumerate(t.nodes[0].scope) if f is frame), 0
    for node in t.nodes:
        if node.kind != "op" or not node.id.startswith(prefix) or node.scope[at] is not frame:
            return -1
        if any(i not in made and i != x for i in node.inputs) or (x in node.inputs and OPS[node.op or ""].flattens):
            return -1
        depth = max(depth, node.id.count("."))  # a block use nested in it adds a component to the names
    return depth - prefix.count(".")


def _newest(ctx: Context, count: int) -> tuple[Node, ...]:
    """The graph's `count` newest nodes in creation order, without a walk over the others."""
    return tuple(reversed(list(islice(reversed(ctx.graph), count))))


def copy(ctx: Context, t: Template, frame: Frame, x: str) -> dict[str, str]:
    """Add a copy of `t`'s layers reading `x` under `frame` (the new use's, innermost on the frame
    stack); the map from the template's node ids to the copy's."""
    g, scopes = ctx.graph, _Scopes(ctx, t.frame, ctx.names.scope())
    path, cut = ctx.names.path(), len(t.path)
    ids = {t.input: x}
    for node, meta in zip(t.nodes, t.metas):
        new = Node(path + node.id[cut:], "op", node.op, node.attrs, [ids[i] for i in node.inputs], node.span,
                   scopes.of(node.scope), dict(meta))
        ids[node.id] = g.add(new).id
    ctx.layers.made += len(t.nodes)
    return ids


class _Scopes:
    """The scopes of a copy's layers: each frame of the template's becomes a frame of the copy's
    own (the lowering and the diagram tell frames apart by identity), and a repetition keeps one
    new group for all its copies. A frame always sits on the same frames (it lives while they
    do), so the copy's scope ending at a frame is made once, by frame."""

    def __init__(self, ctx: Context, use: Frame, scope: tuple[Frame, ...]) -> None:
        self.ctx = ctx
        self.ending_at: dict[int, tuple[Frame, ...]] = {id(use): scope}
        self.groups: dict[int, int] = {}

    def of(self, old: tuple[Frame, ...]) -> tuple[Frame, ...]:
        known = self.ending_at.get(id(old[-1]))
        if known is not None:
            return known
        i = len(old) - 1
        while id(old[i]) not in self.ending_at:
            i -= 1
        scope = self.ending_at[id(old[i])]
        for f in old[i + 1:]:
            scope = self.ending_at[id(f)] = (*scope, self._clone(f))
        return scope

    def _clone(self, f: Frame) -> Frame:
        group = f.group
        if f.kind == "repeat":
            group = self.groups.get(f.group) or self.groups.setdefault(f.group, self.ctx.next_group())
        return f.clone(group)
