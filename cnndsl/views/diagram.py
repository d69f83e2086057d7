"""What a diagram of a network shows, before anyone decides how to draw it.

An interpreter over the graph IR that answers three questions, in this order:
  1. folding: which BN / activation / dropout / flatten nodes are drawn inside the conv, linear or
     merge box they belong to (`fold`);
  2. structure: which block uses become clusters, which collapse into one box (`depth`), and which
     copies of a repetition are drawn once with "xN" (`unroll`);
  3. edges: each graph edge mapped onto the boxes, labelled with the tensor shape it carries.
The result (`Diagram`) is plain data; `graphviz.py` turns it into DOT text. Every box and cluster id
comes from IR names, so the same `.arch` file always gives the same picture, byte for byte.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import CnnDslError, error
from ..elaborate.values import BlockRef, show
from ..ir import Frame, Graph, Node
from ..ops import OWN_COLOUR, Category, fmt
from .folding import fold_map

# Boxes one diagram draws: Graphviz lays out 10,000 in a few seconds and 50,000 in minutes, into an
# SVG of tens of megabytes. A folded diagram of the zoo's largest network has a few hundred.
MAX_BOXES = 20_000


def drawing_category(category: Category) -> str:
    """The box colour of an op category: its own (OWN_COLOUR), or "other" for the rare ones."""
    return category if category in OWN_COLOUR else "other"


@dataclass(frozen=True)
class Options:
    depth: int | None = None  # block levels shown; deeper blocks collapse into one box; None: all
    unroll: bool = False  # draw every copy of a repetition instead of one box or cluster with "xN"
    fold: bool = True  # draw BN, activations, dropout and flatten inside the box they belong to
    params: bool = False  # show parameter counts on every box (collapsed blocks always show them)
    macs: bool = False  # show MACs on every box (collapsed blocks always show them)


@dataclass
class Box:
    id: str
    category: str  # drawing_category() of its op, or "io" / "block"
    title: str
    before: list[str] = field(default_factory=list)  # labels of layers folded in front of it
    after: list[str] = field(default_factory=list)  # labels of layers folded after it
    count: int = 1  # drawn once for this many identical copies
    stats: str = ""
    tooltip: str = ""


@dataclass
class Cluster:
    id: str
    title: str
    items: list[Item]
    count: int = 1
    tooltip: str = ""


Item = Box | Cluster


@dataclass
class Edge:
    src: str
    dst: str
    label: str


@dataclass
class Diagram:
    name: str
    subtitle: str
    items: list[Item]
    edges: list[Edge]
    categories: list[str]  # the categories that appear, in palette order
    same_rank: list[list[str]] = field(default_factory=list)  # boxes to align (branch heads)


@dataclass
class _Scope:
    """A frame instance in the scope tree: the ops and inner frames a block use (or copy) made."""
    frame: Frame | None
    path: str  # the IR name of this frame instance, e.g. "resnet1.stage2"
    depth: int = 0  # how many frames of a node's scope lead down to (and include) this one
    children: list[_Scope | Node] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)  # every node inside, in execution order

    @property
    def f(self) -> Frame:
        """The frame of a scope below the root."""
        assert self.frame is not None
        return self.frame


DEFAULT_OPTIONS = Options()


def build_diagram(graph: Graph, opts: Options = DEFAULT_OPTIONS) -> Diagram:
    return _Builder(graph, opts).build()


class _Builder:
    def __init__(self, graph: Graph, opts: Options):
        self.g, self.opts = graph, opts
        self.order = {n.id: i for i, n in enumerate(graph)}
        self.skip = _wrapper_depth(graph)
        self.folded = fold_map(graph, self.skip) if opts.fold else {}
        self.guests: dict[str, list[str]] = {}  # host -> the nodes folded into it
        for node_id, (host, _) in self.folded.items():
            self.guests.setdefault(host, []).append(node_id)
        self.box_of: dict[str, Box] = {}  # IR node id -> the box it is drawn in (representatives)
        self.alias: dict[str, str] = {}  # a node of a copy not drawn -> its twin in the drawn copy
        self.copy_index: dict[str, dict[int, int]] = {}  # node -> {run: which copy of that run}
        self.runs = 0
        self.boxes: list[Box] = []
        self._sigs: dict[int, tuple] = {}
        self.heads: list[list[str]] = []

    def build(self) -> Diagram:
        root = self._tree()
        items = self._items(root, 0)
        for node_id, (host, _) in self.folded.items():
            if host in self.box_of and node_id not in self.box_of:
                self.box_of[node_id] = self.box_of[host]
        edges = self._edges()
        self._stats()
        used = {b.category for b in self.boxes}
        same_rank = [[self.box_of[h].id for h in heads] for heads in self.heads]
        return Diagram(self.g.name, _subtitle(self.g), items, edges,
                       [c for c in PALETTE_ORDER if c in used], [r for r in same_rank if len(set(r)) > 1])

    # ------------------------------------------------------------ scope tree
    def _tree(self) -> _Scope:
        root = _Scope(None, "")
        index: dict[tuple[Frame, ...], _Scope] = {(): root}
        for node in self.g:
            frames = node.scope[self.skip:] if node.kind == "op" else ()
            cur = root
            cur.nodes.append(node)
            for i in range(len(frames)):
                key = frames[:i + 1]
                child = index.get(key)
                if child is None:
                    path = ".".join(f.name for f in node.scope[:self.skip + i + 1] if f.name)
                    child = index[key] = _Scope(frames[i], path, self.skip + i + 1)
                    cur.children.append(child)
                cur = child
                cur.nodes.append(node)
            cur.children.append(node)
        return root

    # ------------------------------------------------------------ structure
    def _items(self, scope: _Scope, level: int) -> list[Item]:
        out: list[Item] = []
        children, i = scope.children, 0
        while i < len(children):
            child = children[i]
            if isinstance(child, Node):
                out += self._node_items(child)
                i += 1
            elif child.f.kind == "repeat":
                j = i + 1
                while j < len(children) and _same_repeat(children[j], child.f.group):
                    j += 1
                out += self._repeat_items([c for c in children[i:j] if isinstance(c, _Scope)], level)
                i = j
            elif child.f.kind == "block":
                out += self._block_items(child, level + 1)
                i += 1
            else:
                if child.f.kind == "merge":
                    self._align_branches(child)
                out += self._items(child, level)
                i += 1
        return out

    def _align_branches(self, merge: _Scope) -> None:
        """The first layers of parallel branches (an inception module's four) on one rank; dot
        would otherwise push a short branch down to halve its long edge."""
        heads = [b.children[0].id for b in merge.children
                 if isinstance(b, _Scope) and b.f.kind == "branch" and isinstance(b.children[0], Node)]
        if len(heads) > 1:
            self.heads.append(heads)

    def _block_items(self, scope: _Scope, level: int) -> list[Item]:
        if self.opts.depth is not None and level >= self.opts.depth:
            box = self._add_box(Box(scope.path, "block", block_title(scope), tooltip=_block_tooltip(scope, self.g)))
            for node in scope.nodes:
                self.box_of[node.id] = box
            return [box]
        return [Cluster("cluster_" + scope.path, block_title(scope), self._items(scope, level),
                        tooltip=_block_tooltip(scope, self.g))]

    def _repeat_items(self, copies: list[_Scope], level: int) -> list[Item]:
        """Consecutive copies with the same structure are drawn once, with "xN"; a first copy that
        differs (a strided first block) is drawn by itself."""
        runs: list[list[_Scope]] = []
        for copy in copies:
            if runs and not self.opts.unroll and self._signature(copy) == self._signature(runs[-1][0]):
                runs[-1].append(copy)
            else:
                runs.append([copy])
        out: list[Item] = []
        for run in runs:
            drawn = self._items(run[0], level)
            if len(run) > 1:
                self._alias_copies(run)
                if len(drawn) == 1:
                    drawn[0].count *= len(run)
                else:
                    first = run[0].nodes[0].id
                    drawn = [Cluster(f"cluster_{first}*{len(run)}", "", drawn, count=len(run),
                                     tooltip=f"{len(run)} identical copies, {run[0].f.use.file}:{run[0].f.use.line}")]
            out += drawn
        return out

    def _signature(self, copy: _Scope):
        """The structure of one copy: each node's op and attributes, the frames it sits in inside the
        copy, and where its inputs come from (a node of the copy, or the k-th outside tensor)."""
        if id(copy) not in self._sigs:
            local = {n.id: i for i, n in enumerate(copy.nodes)}
            outside: dict[str, int] = {}
            sig = []
            for n in copy.nodes:
                ins = tuple(("in", local[i]) if i in local else ("out", outside.setdefault(i, len(outside)))
                            for i in n.inputs)
                frames = tuple((f.kind, f.label, f.index, f.count) for f in n.scope[copy.depth:])
                sig.append((n.op, n.attrs, frames, ins))
            self._sigs[id(copy)] = tuple(sig)
        return self._sigs[id(copy)]

    def _alias_copies(self, run: list[_Scope]) -> None:
        self.runs += 1
        for k, copy in enumerate(run):
            for twin, node in zip(run[0].nodes, copy.nodes):
                self.copy_index.setdefault(node.id, {})[self.runs] = k
                if k:
                    self.alias[node.id] = twin.id

    def _node_items(self, node: Node) -> list[Item]:
        if node.id in self.folded:
            return []
        if node.kind == "input":
            box = Box(node.id, "io", f"input {fmt(node.shape)}")
        elif node.kind == "output":
            name = node.meta.get("name", "output")
            box = Box(node.id, "io", "output" if name == "output" else f"output: {name}")
        else:
            box = Box(node.id, drawing_category(node.opdef.category), node.opdef.label(node.attrs))
            folded = sorted(self.guests.get(node.id, []), key=self.order.__getitem__)
            for n in folded:
                other = self.g[n]
                (box.before if self.folded[n][1] == "before" else box.after).append(other.opdef.label(other.attrs))
            box.tooltip = "\n".join(_where(self.g[n]) for n in sorted([node.id, *folded], key=self.order.__getitem__))
        box.tooltip = box.tooltip or _where(node)
        self.box_of[node.id] = self._add_box(box)
        return [box]

    def _add_box(self, box: Box) -> Box:
        if len(self.boxes) == MAX_BOXES:
            raise self._too_many_boxes(box)
        self.boxes.append(box)
        return box

    def _too_many_boxes(self, box: Box) -> CnnDslError:
        where = self.g[box.id].span if box.id in self.order else None
        return error(f"the diagram would have more than {MAX_BOXES:,} boxes", where,
                     help="draw each repetition once (without --unroll), layers folded into their boxes "
                          "(without --unfold), or blocks as single boxes (--depth N)")

    # ------------------------------------------------------------ edges and numbers
    def _resolve(self, node_id: str) -> tuple[str, dict[int, int]]:
        """The node of a drawn copy that `node_id` is drawn as, and which copy of each repetition it
        came from (a copy of a copy: the inner and the outer index)."""
        copies = dict(self.copy_index.get(node_id, {}))
        while node_id in self.alias:
            node_id = self.alias[node_id]
            for run, k in self.copy_index.get(node_id, {}).items():
                copies.setdefault(run, k)
        return node_id, copies

    def _edges(self) -> list[Edge]:
        shapes: dict[tuple[str, str], list[tuple[int, ...]]] = {}
        for node in self.g:
            for src in node.inputs:
                a, b = self.box_of[self._resolve(src)[0]], self.box_of[self._resolve(node.id)[0]]
                if a is b or self._across_copies(src, node.id):
                    continue
                shapes.setdefault((a.id, b.id), [])
                if self.g[src].shape not in shapes[(a.id, b.id)]:
                    shapes[(a.id, b.id)].append(self.g[src].shape)
        return [Edge(a, b, shape_range(s)) for (a, b), s in shapes.items()]

    def _across_copies(self, a: str, b: str) -> bool:
        """An edge from one copy of a repetition to the next is what "xN" stands for: not drawn."""
        ca, cb = self._resolve(a)[1], self._resolve(b)[1]
        return any(run in cb and cb[run] != k for run, k in ca.items())

    def _stats(self) -> None:
        members: dict[int, dict[tuple, list[Node]]] = {}
        for node in self.g.ops():
            rep, copies = self._resolve(node.id)
            key = tuple(sorted(copies.items()))
            members.setdefault(id(self.box_of[rep]), {}).setdefault(key, []).append(node)
        for box in self.boxes:
            runs = list(members.get(id(box), {}).values())
            if not runs:
                continue
            params = sum(n.meta["params"] for c in runs for n in c)
            macs = sum(n.meta["macs"] for c in runs for n in c)
            where = f" in {len(runs)} copies" if len(runs) > 1 else ""
            if params or macs:
                box.tooltip += f"\n{params:,} params, {macs:,} MACs{where}"
            if not (box.category == "block" or self.opts.params or self.opts.macs):
                continue
            parts = []
            if params and (box.category == "block" or self.opts.params):
                parts.append(_sum_text([sum(n.meta["params"] for n in c) for c in runs], "params"))
            if macs and (box.category == "block" or self.opts.macs):
                parts.append(_sum_text([sum(n.meta["macs"] for n in c) for c in runs], "MACs"))
            box.stats = ", ".join(parts)


# the legend's order: input/output, the op categories with a colour of their own, the rest
PALETTE_ORDER: list[str] = ["io", *(c for c in Category if c in OWN_COLOUR), "other", "block"]


# ---------------------------------------------------------------- block titles
def block_title(scope: _Scope) -> str:
    """A block use in the reader's words, not as a call: the block's name, then its arguments as
    written at the use, where a block passed as an argument is named without its own arguments and
    counted (`bottleneck ×3`: the use holds 3 uses of it); a number equal to that count is the
    count, and is left out. `stage(bottleneck(groups=1, base_width=64), 64, 3)` reads
    `stage (bottleneck ×3, 64)`; `bottleneck(128, s=2)` reads `bottleneck (128, s=2)`."""
    f = scope.f
    uses = _inner_block_uses(scope)
    counts = [uses.get(v.name, 0) for _, v in f.args if isinstance(v, BlockRef)]
    words = []
    for key, value in f.args:
        if key is None and isinstance(value, int) and not isinstance(value, bool) and value in counts and value > 1:
            continue
        text = _word(value, uses)
        words.append(text if key is None else f"{key}={text}")
    name = f.block or f.label.split("(", 1)[0]
    return f"{name} ({', '.join(words)})" if words else name


def _inner_block_uses(scope: _Scope) -> dict[str, int]:
    """How many uses of each block the use holds directly (inside repetitions, not inside blocks)."""
    out: dict[str, int] = {}
    stack = [c for c in scope.children if isinstance(c, _Scope)]
    while stack:
        child = stack.pop()
        if child.f.kind == "block":
            out[child.f.block] = out.get(child.f.block, 0) + 1
        else:
            stack += [c for c in child.children if isinstance(c, _Scope)]
    return out


def _word(value: object, uses: dict[str, int]) -> str:
    if isinstance(value, BlockRef):
        n = uses.get(value.name, 0)
        return f"{value.name} ×{n}" if n > 1 else value.name
    return show(value)


# ---------------------------------------------------------------- helpers
def _wrapper_depth(graph: Graph) -> int:
    """`network resnet50 = resnet(depth=50)`: a block use around every layer is the network itself,
    not a part of it, and is not drawn."""
    ops = list(graph.ops())
    k = 0
    while ops and all(len(n.scope) > k and n.scope[k] == ops[0].scope[k] and n.scope[k].kind == "block"
                      for n in ops):
        k += 1
    return k


def _same_repeat(child, group: int) -> bool:
    return isinstance(child, _Scope) and child.f.kind == "repeat" and child.f.group == group


def _where(node: Node) -> str:
    label = node.opdef.label(node.attrs) if node.kind == "op" else node.kind
    return f"{label}: {node.span.file}:{node.span.line}" if node.span else label


def _block_tooltip(scope: _Scope, graph: Graph) -> str:
    f = scope.f
    lines = [f"{f.label}: used at {f.use.file}:{f.use.line}"]
    if f.defined is not None:
        lines.append(f"defined at {f.defined.file}:{f.defined.line}")
    inside = {n.id for n in scope.nodes}
    ins = dict.fromkeys(fmt(graph[i].shape) for n in scope.nodes for i in n.inputs if i not in inside)
    outs = dict.fromkeys(fmt(n.shape) for n in scope.nodes if any(u not in inside for u in graph.users(n.id)))
    lines.append(f"{len(inside)} layers, {', '.join(ins)} -> {', '.join(outs)}")
    return "\n".join(lines)


def _subtitle(graph: Graph) -> str:
    ops = list(graph.ops())
    ins = ", ".join(fmt(graph[i].shape) for i in graph.inputs)
    params = sum(n.meta.get("params", 0) for n in ops)
    macs = sum(n.meta.get("macs", 0) for n in ops)
    return f"input {ins}, {human(params)} params, {human(macs)} MACs"


def _sum_text(values: list[int], unit: str) -> str:
    if len(values) > 1 and len(set(values)) == 1:
        return f"{len(values)} \u00d7 {human(values[0])} {unit}"
    return f"{human(sum(values))} {unit}"


def human(n: int) -> str:
    """1234 -> 1.23k, 25557032 -> 25.6M: three significant figures are all a diagram needs."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            v = n / size
            return f"{v:.3g}{unit}" if v < 100 else f"{v:.0f}{unit}"
    return str(n)


def shape_range(shapes: list[tuple[int, ...]]) -> str:
    """One shape as CxHxW; several (copies of a repetition, e.g. a dense block's growing channels)
    as a range per dimension: 64\u2013224x56x56."""
    if len(shapes) == 1:
        return fmt(shapes[0])
    if len({len(s) for s in shapes}) != 1:
        return " | ".join(fmt(s) for s in shapes)
    dims = []
    for values in zip(*shapes):
        lo, hi = min(values), max(values)
        dims.append(str(lo) if lo == hi else f"{lo}\u2013{hi}")
    return "x".join(dims)
