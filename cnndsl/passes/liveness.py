"""Liveness: one walk over the graph that says, for every value, which memory it is and how long the
compiled module keeps it. The memory pass and the PyTorch lowering both read it, so the memory the
analysis reports is the memory the module uses (as torch.fx's last-use table serves every consumer).

What the lowering does, and this pass decides for it:
  * layers run in graph order, one `forward` statement per run of layers in which each passes its
    value straight into the next (`meta["inline"]`: read by the next layer alone, in the same
    block, made by the same `.arch` literal: the unit `3x3:64` is one statement);
  * a value passed straight into the next layer is released as soon as that layer returns; a value
    held in a local is released when the last statement reading it is done (the generated
    `forward` reassigns or deletes every local once it is dead), except that
  * a value passed into a block stays alive until that block returns (the caller's argument holds
    it), and network inputs and outputs live throughout;
  * an op that can work in place (`OpDef.inplace`, e.g. ReLU) does, where that cannot change what
    any other layer reads: its input is an op's fresh output, read by nothing else, that no layer
    keeps for backward as its output, and that is no view of another value.

Writes, on every input and op node, `meta["base"]`, a pair indexed by `training` (`[False]`,
`[True]`; a tuple, a third of a dict's size): the node whose memory the value is, in evaluation
and in training (itself, or for a view or an in-place op the base of its input);
`meta["free_after"]`: the position (in `graph.ops()` order) of the last layer during which the
value is alive (`FOREVER` for network inputs and outputs); and on op nodes
`meta["step"]` (its position), `meta["inline"]` and `meta["inplace"]`.
"""
from __future__ import annotations

from ..ir import Graph, Node
from ..ir.blocks import chains, parent

FOREVER = 1 << 62
_NO_BLOCKS: frozenset[str] = frozenset()


def liveness(graph: Graph) -> None:
    steps = list(graph.ops())
    known: dict[str, frozenset[str]] = {}
    blocks = {node.id: _blocks_in(parent(node.id), known) for node in steps}  # the block uses each layer is in
    # an nn.Sequential holds each value until the next item returns; found only where a layer
    # could pass its value straight on (a 100,000-line chain has none: each layer a line of its own)
    sequential: set[str] | None = None
    for i in graph.inputs:
        graph[i].meta["base"] = (i, i)
    last = len(steps) - 1
    for k, node in enumerate(steps):  # one walk: each fact reads only its own and earlier layers'
        meta = node.meta
        meta["step"] = k
        inline = k < last and _passes_straight(graph, node, steps[k + 1])
        if inline:
            sequential = chains(graph) if sequential is None else sequential
            inline = parent(node.id) not in sequential
        meta["inline"] = inline
        meta["inplace"] = _can_run_in_place(graph, node)
        meta["base"] = _base(graph, node)
    free = _free_after(graph, steps, blocks)
    for node in graph:
        if node.kind != "output":
            node.meta["free_after"] = free[node.id]


def _passes_straight(graph: Graph, node: Node, nxt: Node) -> bool:
    # the span first: it tells most layers apart, and costs less than the user and parent tests
    return (node.span is not None and node.span == nxt.span and graph.sole_user(node.id) == nxt.id
            and parent(node.id) == parent(nxt.id))


def _can_run_in_place(graph: Graph, node: Node) -> bool:
    # the tests that build nothing come first: most layers fail one of them, and asking the op
    # table for a lowering makes an object per layer
    if not node.opdef.inplace or node.inputs.count(node.inputs[0]) > 1:  # `add(x | x)` reads what it would write
        return False
    source = graph[node.inputs[0]]
    if source.kind != "op" or graph.sole_user(source.id) != node.id:
        return False
    if "output" in [s.what for s in source.opdef.saved(source.attrs, graph.input_shapes(source), source.shape)]:
        return False  # autograd keeps the source's output (relu, sigmoid): overwriting it would change the gradient
    if source.opdef.view(source.attrs, True) or source.opdef.view(source.attrs, False):
        return False  # writing into a view writes into the value it views
    low = node.opdef.lower(node.attrs, graph.input_shapes(node))
    # no in-place form to write: a module taking a list (`Sum`), or an expression without one
    return not (low.list_input or (low.inline is not None and low.inline_inplace is None))


def _base(graph: Graph, node: Node) -> tuple[str, str]:
    """An op's `meta["base"]`, in evaluation and in training at once: a pair indexed by `training`
    (False: 0, True: 1). An in-place layer shares its input's pair."""
    source = graph[node.inputs[0]].meta["base"] if node.inputs else (node.id, node.id)
    if node.meta["inplace"]:
        return source
    view = node.opdef.view
    return (source[0] if view(node.attrs, False) else node.id, source[1] if view(node.attrs, True) else node.id)


def _free_after(graph: Graph, steps: list[Node], blocks: dict[str, frozenset[str]]) -> dict[str, int]:
    end = _block_ends(steps, blocks)
    statement_end = _statement_ends(steps)
    free = {n.id: -1 for n in graph if n.kind != "output"}
    for node in steps:
        inside = blocks[node.id]
        step, statement = node.meta["step"], statement_end[node.id]
        for i in node.inputs:
            source = graph[i]
            last = step if source.kind == "op" and source.meta["inline"] else statement  # a temporary, or a local
            if inside:  # blocks `i` enters (a network input is in none): held until they return
                for block in inside - blocks.get(i, _NO_BLOCKS):
                    last = max(last, end[block])
            if last > free[i]:
                free[i] = last
    for i in graph.inputs:
        free[i] = FOREVER
    for o in graph.outputs:
        free[graph[o].inputs[0]] = FOREVER
    for node in steps:
        if free[node.id] < 0:  # read by nothing (elaboration removes such layers)
            free[node.id] = FOREVER
    return free


def _statement_ends(steps: list[Node]) -> dict[str, int]:
    """For each layer, the position of the last layer of the `forward` statement it belongs to."""
    out: dict[str, int] = {}
    group: list[Node] = []
    for node in steps:
        group.append(node)
        if not node.meta["inline"]:
            for member in group:
                out[member.id] = node.meta["step"]
            group = []
    return out


def _blocks_in(path: str, known: dict[str, frozenset[str]]) -> frozenset[str]:
    """The block uses a node whose parent path is `path` sits in: `stage1.bottleneck2` ->
    {stage1, stage1.bottleneck2}; remembered in `known` (many nodes share a parent)."""
    found = known.get(path)
    if found is None:
        parts = path.split(".") if path else []
        found = known[path] = frozenset(".".join(parts[:k]) for k in range(1, len(parts) + 1))
    return found


def _block_ends(steps: list[Node], blocks: dict[str, frozenset[str]]) -> dict[str, int]:
    end: dict[str, int] = {}
    for node in steps:
        for block in blocks[node.id]:
            end[block] = node.meta["step"]
    return end
