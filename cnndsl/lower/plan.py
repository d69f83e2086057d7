"""The module tree of a network, read off the graph IR.

Every block use is a module (an `Instance`): its own layers and the block uses inside it are its
`items`, in the order they run, each reading the instance's input or earlier items. Node names are
module paths (`stage1.bottleneck2.conv1`), so the tree follows from them. Copies of one block made
by a repetition (`b(c)*(n-1)`) form a `Loop` item when they chain one into the next, so a stage of
3 blocks and one of 23 can share a class.

Two instances whose structure is the same, numbers aside, are one class (`Template`): the same
block, the same items in the same order with the same wiring, the same classes below. What their
numbers make of the class's constructor is `params.py`'s business.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..ir import Frame, Graph, Node
from ..ir.blocks import chains
from ..ops import Lowering

Ref = tuple[Any, ...]  # ("in",) the instance's input; ("item", k) or ("item", k, j) an item's output


@dataclass(eq=False)
class Loop:
    copies: list[Instance]
    base: str  # the copies are named base<first>, base<first + 1>, ...
    first: int


@dataclass(eq=False)
class Item:
    name: str  # the attribute of the module that holds it: "conv1", "stage1"; a loop's base name
    inputs: list[Ref]
    node: Node | None = None  # one of the block's own layers
    lowering: Lowering | None = None
    child: Instance | None = None  # a block use
    loop: Loop | None = None  # copies of one block

    @property
    def span(self):
        if self.node is not None:
            return self.node.span
        inst = self.child if self.child is not None else self.loop.copies[0]  # type: ignore[union-attr]
        return inst.frame.use if inst.frame is not None else None


@dataclass(eq=False)
class Instance:
    path: str  # "" for the network itself
    frame: Frame | None
    items: list[Item] = field(default_factory=list)
    input: str | None = None  # the IR value that enters it
    channels: int | None = None  # the channel count of that value (`in_channels`)
    outputs: list[str] = field(default_factory=list)  # the IR values that leave it, in order
    sequential: bool = False  # its items form a chain (`ir.blocks.chains`): an nn.Sequential
    sig: tuple[Any, ...] = ()
    template: Template | None = None
    args: list[Any] = field(default_factory=list)  # its constructor's arguments (params.py)

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]


@dataclass(eq=False)
class Template:
    """One generated class: the instances that share it, and what `params.py` derives."""

    sig: tuple[Any, ...]
    instances: list[Instance]
    name: str = ""
    sequential: bool = False
    params: list[Any] = field(default_factory=list)  # params.Param
    slots: dict[tuple[Any, ...], Any] = field(default_factory=dict)  # params.Expr, by where it is used

    @property
    def first(self) -> Instance:
        return self.instances[0]


def build_tree(graph: Graph) -> Instance:
    """The instance tree: the network's instance, with every block use below it."""
    root = Instance("", None, input=graph.inputs[0])
    by_path = {"": root}
    for node in graph.ops():
        parent = root
        parts = node.id.split(".")[:-1]
        for k in range(len(parts)):
            path = ".".join(parts[: k + 1])
            if path not in by_path:
                by_path[path] = inst = Instance(path, _block_frame(node, parts[k]))
                parent.items.append(Item(parts[k], [], child=inst))
            parent = by_path[path]
        lowering = node.opdef.lower(node.attrs, [graph[i].shape for i in node.inputs])
        parent.items.append(Item(node.id.rsplit(".", 1)[-1], [], node=node, lowering=lowering))
    _wire(graph, root)
    root.outputs = [graph[o].inputs[0] for o in graph.outputs]
    sequential = chains(graph)
    for path, inst in by_path.items():
        inst.sequential = path in sequential
    _structure(root)
    return root


def _structure(inst: Instance) -> None:
    """Children first: loops are found among block uses whose signatures are known."""
    for item in inst.items:
        if item.child is not None:
            _structure(item.child)
    find_loops(inst)
    sign(inst)


def _block_frame(node: Node, name: str) -> Frame:
    return next(f for f in node.scope if f.kind == "block" and f.name == name)


def _nodes(inst: Instance):
    for item in inst.items:
        if item.node is not None:
            yield item.node
        else:
            for child in [item.child] if item.child is not None else item.loop.copies:  # type: ignore[union-attr]
                yield from _nodes(child)


def _wire(graph: Graph, inst: Instance) -> None:
    """Fill in each item's input refs, and each child's input and outputs, from the IR edges."""
    inside = {n.id for n in _nodes(inst)}
    local: dict[str, Ref] = {}
    for k, item in enumerate(inst.items):
        if item.child is not None:
            child_nodes = {n.id for n in _nodes(item.child)}
            sources = {i for n in _nodes(item.child) for i in n.inputs if i not in child_nodes}
            assert len(sources) == 1, (item.child.path, sources)  # a block reads one tensor: its input
            item.child.input = sources.pop()
            item.child.channels = graph[item.child.input].shape[0]
            item.child.outputs = [n.id for n in _nodes(item.child)
                                  if any(u not in child_nodes for u in graph.users(n.id))]
            item.inputs = [local.get(item.child.input, ("in",))]
            _wire(graph, item.child)
            for j, out in enumerate(item.child.outputs):
                local[out] = ("item", k) if len(item.child.outputs) == 1 else ("item", k, j)
        else:
            item.inputs = [local.get(i, ("in",)) for i in item.node.inputs]  # type: ignore[union-attr]
            local[item.node.id] = ("item", k)  # type: ignore[union-attr]
    assert all(i in inside or i == inst.input for n in _nodes(inst) for i in n.inputs), inst.path


def output_refs(inst: Instance) -> list[Ref]:
    refs: dict[str, Ref] = {}
    for k, item in enumerate(inst.items):
        if item.node is not None:
            refs[item.node.id] = ("item", k)
        elif item.child is not None:
            outs = item.child.outputs
            refs.update({o: ("item", k) if len(outs) == 1 else ("item", k, j) for j, o in enumerate(outs)})
        else:
            refs[item.loop.copies[-1].outputs[0]] = ("item", k)  # type: ignore[union-attr]
    return [refs.get(o, ("in",)) for o in inst.outputs]


# ---------------------------------------------------------------------------- loops
_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def find_loops(inst: Instance) -> None:
    """Replace each run of block uses that are the copies of one repetition, chained one into the
    next, one use per copy, with the same structure, by a Loop item. Only in a chain (an
    `nn.Sequential`, whose `forward` runs whatever modules it holds): elsewhere a loop would need a
    `forward` that looks modules up by name, which TorchScript cannot compile."""
    if not inst.sequential:
        return
    items, k = [], 0
    while k < len(inst.items):
        run = _copy_run(inst, k)
        if len(run) > 1:
            base, first = _NUMBERED.match(run[0].name).groups()  # type: ignore[union-attr]
            loop = Loop([it.child for it in run], base, int(first))  # type: ignore[misc]
            items.append(Item(base, run[0].inputs, loop=loop))
            k += len(run)
        else:
            items.append(inst.items[k])
            k += 1
    inst.items = _renumber(items)


def _copy_run(inst: Instance, k: int) -> list[Item]:
    first = inst.items[k]
    rep = _repeat_frame(inst, first)
    if rep is None or rep.index != 0:
        return [first]
    m = _NUMBERED.match(first.name)
    if m is None:
        return [first]
    base, start = m.group(1), int(m.group(2))
    run = [first]
    for j in range(1, rep.count):
        if k + j >= len(inst.items):
            return [first]
        item = inst.items[k + j]
        r = _repeat_frame(inst, item)
        if (r is None or r.group != rep.group or r.index != j or item.name != f"{base}{start + j}"
                or item.inputs != [("item", k + j - 1)] or item.child.sig != first.child.sig):  # type: ignore[union-attr]
            return [first]
        run.append(item)
    return run


def _repeat_frame(inst: Instance, item: Item) -> Frame | None:
    """The repetition that made this block use, if it is the only one between the use and `inst`."""
    if item.child is None or len(item.child.outputs) != 1:
        return None
    scope = next(_nodes(item.child)).scope
    lo = next((i for i, f in enumerate(scope) if f is inst.frame), -1) if inst.frame is not None else -1
    hi = next(i for i, f in enumerate(scope) if f is item.child.frame)
    repeats = [f for f in scope[lo + 1:hi] if f.kind == "repeat"]
    return repeats[0] if len(repeats) == 1 else None


def _renumber(items: list[Item]) -> list[Item]:
    """Loops replace several items by one: refs to item k become refs to its new position."""
    old_to_new: dict[int, int] = {}
    k = 0
    for new, item in enumerate(items):
        span = len(item.loop.copies) if item.loop is not None else 1
        for j in range(span):
            old_to_new[k + j] = new
        k += span
    for item in items:
        item.inputs = [r if r[0] == "in" else ("item", old_to_new[r[1]], *r[2:]) for r in item.inputs]
    return items


# ---------------------------------------------------------------------------- signatures
def sign(inst: Instance) -> tuple[Any, ...]:
    """The structure of an instance with every number left out (its children are signed already)."""
    parts: list[tuple[Any, ...]] = []
    for item in inst.items:
        if item.child is not None:
            parts.append(("child", item.name, item.child.sig, tuple(item.inputs)))
        elif item.loop is not None:
            parts.append(("loop", item.name, item.loop.first, item.loop.copies[0].sig, tuple(item.inputs)))
        else:
            node = item.node
            assert node is not None
            lowering = _shape_of(item.lowering, len(item.inputs))
            parts.append(("op", item.name, node.op, lowering, bool(node.meta.get("inplace")),
                          tuple(item.inputs), _span_key(item.span)))
    block = (inst.frame.defined, inst.frame.block) if inst.frame is not None else ("<network>",)
    inst.sig = (block, inst.sequential, tuple(parts), tuple(output_refs(inst)))
    return inst.sig


def _span_key(span) -> Any:
    return (span.file, span.line, span.column) if span is not None else None


def _shape_of(lowering: Lowering | None, inputs: int) -> Any:
    """A lowering with every number replaced by a marker (lists are kept whole: a channel list is
    structure, not a number). An inline expression is kept whole, numbers and all (`x[:, 0:8]`):
    its numbers are written into `forward`, not passed to the class."""
    if lowering is None:
        return None
    inline = lowering.inline([f"_{i}" for i in range(inputs)]) if lowering.inline is not None else None
    return (lowering.cls, lowering.positional, lowering.list_input, inline,
            tuple((k, _mask(v)) for k, v in lowering.kwargs.items()))


def _mask(v: Any) -> Any:
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return "#"
    if isinstance(v, tuple):
        return tuple(_mask(x) for x in v)
    return ("list", tuple(v)) if isinstance(v, list) else repr(v)


def templates(root: Instance) -> list[Template]:
    """The classes, children before parents (a class's source needs its children's), each with its
    instances in the order they run."""
    by_sig: dict[tuple[Any, ...], Template] = {}
    order: list[Template] = []

    def visit(inst: Instance) -> None:
        for item in inst.items:
            for child in ([item.child] if item.child is not None else item.loop.copies if item.loop else []):
                visit(child)
        if inst.sig not in by_sig:
            by_sig[inst.sig] = Template(inst.sig, [])
            order.append(by_sig[inst.sig])
        by_sig[inst.sig].instances.append(inst)
        inst.template = by_sig[inst.sig]

    visit(root)
    for t in order:
        t.sequential = t.first.sequential
    return order
