"""Block uses seen as modules: which ones are a plain chain of layers.

A node's id is its module path (`stage1.bottleneck2.conv1`), so a block use is a path prefix and
its items are its own layers and the block uses directly inside it. A block whose items each read
the one before (the first reads the block's input) and nothing else, and whose only output is the
last item's, is a chain: the lowering writes it as an `nn.Sequential`, and the liveness pass knows
that such a module holds each value only until the next item returns."""
from __future__ import annotations

from . import Graph, Node


def parent(node_id: str) -> str:
    """The block a node (or block use) sits in, by path; "" for the network itself."""
    return node_id.rsplit(".", 1)[0] if "." in node_id else ""


def chains(graph: Graph) -> set[str]:
    items: dict[str, list[str]] = {}  # block path -> its items (layer ids and block paths), in order
    members: dict[str, list[str]] = {}  # block path -> every layer inside it, at any depth
    for node in graph.ops():
        block = ""  # each prefix of the node's path in turn, outermost first, then its own id
        for part in node.id.split("."):
            item = f"{block}.{part}" if block else part
            members.setdefault(block, []).append(node.id)
            order = items.setdefault(block, [])
            if not order or order[-1] != item:
                order.append(item)
            block = item
    inline: dict[tuple[object, ...], bool] = {}
    return {block for block in items if _is_chain(graph, block, items[block], members, inline)}


def _is_chain(graph: Graph, block: str, order: list[str], members: dict[str, list[str]],
              inline: dict[tuple[object, ...], bool]) -> bool:
    inside = set(members[block])
    previous = _inputs(graph, block, inside) if block else list(graph.inputs)
    if len(previous) != 1:
        return False
    nodes = graph._nodes  # read directly: the network's own block holds every layer
    for item in order:
        if item in members:  # a block use
            mine = set(members[item])
            ins, outs = _inputs(graph, item, mine), _outputs(graph, mine)
        else:
            node = nodes[item]
            if node.opdef.arity is None:  # a merge: several inputs, written inline or as a list
                return False
            ins, outs = node.inputs, [item]
            if ins != previous:  # tested before the lowering, which makes an object per layer
                return False
            if _written_inline(graph, node, inline):
                return False  # written into `forward` (a slice `x[:, a:b]`): no module for a Sequential
        if ins != previous or len(outs) != 1:
            return False
        previous = outs
    return _outputs(graph, inside) == previous


def _written_inline(graph: Graph, node: Node, known: dict[tuple[object, ...], bool]) -> bool:
    """Whether the lowering writes `node` as an expression in `forward`, asked once per op,
    attributes and input shapes: equal layers share one attributes object (elaboration reuses it),
    and a long chain is mostly equal layers. The attributes stay alive in the graph, so their id
    is theirs throughout."""
    ins = graph.input_shapes(node)
    key = (node.op, id(node.attrs), *ins)
    found = known.get(key)
    if found is None:
        found = known[key] = node.opdef.lower(node.attrs, ins).inline is not None
    return found


# These two read the graph's tables directly: the network's own block holds every layer.
def _inputs(graph: Graph, block: str, inside: set[str]) -> list[str]:
    nodes = graph._nodes
    return list(dict.fromkeys(i for n in inside for i in nodes[n].inputs if i not in inside))


def _outputs(graph: Graph, inside: set[str]) -> list[str]:
    users = graph._users
    return [n for n in inside if not inside.issuperset(users[n])]
