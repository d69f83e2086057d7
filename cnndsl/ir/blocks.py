"""Block uses seen as modules: which ones are a plain chain of layers.

A node's id is its module path (`stage1.bottleneck2.conv1`), so a block use is a path prefix and
its items are its own layers and the block uses directly inside it. A block whose items each read
the one before (the first reads the block's input) and nothing else, and whose only output is the
last item's, is a chain: the lowering writes it as an `nn.Sequential`, and the liveness pass knows
that such a module holds each value only until the next item returns."""
from __future__ import annotations

from . import Graph


def parent(node_id: str) -> str:
    """The block a node (or block use) sits in, by path; "" for the network itself."""
    return node_id.rsplit(".", 1)[0] if "." in node_id else ""


def chains(graph: Graph) -> set[str]:
    items: dict[str, list[str]] = {}  # block path -> its items (layer ids and block paths), in order
    members: dict[str, list[str]] = {}  # block path -> every layer inside it, at any depth
    for node in graph.ops():
        path = parent(node.id)
        items.setdefault(path, [])
        parts = node.id.split(".")
        for k in range(len(parts)):
            block = ".".join(parts[:k])
            members.setdefault(block, []).append(node.id)
            item = ".".join(parts[:k + 1])
            if not items.setdefault(block, []) or items[block][-1] != item:
                items[block].append(item)
    return {block for block in items if _is_chain(graph, block, items[block], members)}


def _is_chain(graph: Graph, block: str, order: list[str], members: dict[str, list[str]]) -> bool:
    inside = set(members[block])
    previous = _inputs(graph, block, inside) if block else list(graph.inputs)
    if len(previous) != 1:
        return False
    for item in order:
        if item in members:  # a block use
            mine = set(members[item])
            ins, outs = _inputs(graph, item, mine), _outputs(graph, mine)
        else:
            node = graph[item]
            if node.opdef.arity is None:  # a merge: several inputs, written inline or as a list
                return False
            if node.opdef.lower(node.attrs, [graph[i].shape for i in node.inputs]).inline is not None:
                return False  # written into `forward` (a slice `x[:, a:b]`): no module for a Sequential
            ins, outs = list(node.inputs), [item]
        if ins != previous or len(outs) != 1:
            return False
        previous = outs
    return _outputs(graph, inside) == previous


def _inputs(graph: Graph, block: str, inside: set[str]) -> list[str]:
    return list(dict.fromkeys(i for n in inside for i in graph[n].inputs if i not in inside))


def _outputs(graph: Graph, inside: set[str]) -> list[str]:
    return [n for n in inside if any(u not in inside for u in graph.users(n))]
