"""The graph IR: a networkx DiGraph, one node per layer, in creation (= execution) order.

Node kinds are a small closed set, as in torch.fx:
  * ``input``  - a network input; ``meta["shape"]`` is its declared CxHxW;
  * ``op``     - a layer from the op table (`cnndsl.ops`), with validated ``attrs``;
  * ``output`` - a named network output; its single input is the tensor returned.
Every node keeps the span of the `.arch` text that made it and the chain of block uses (``scope``)
that led there. Passes write their results into ``meta``.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..ops import OPS, OpDef
from ..source import Span

KINDS = ("input", "op", "output")


# Not `frozen`, though nothing changes a frame once made: a frozen dataclass's __init__ sets each
# field through object.__setattr__, four times the cost, and a copied block use makes a frame per
# layer (elaborate/replay.py; a quarter of a million for a hostile file). Hashed by its fields.
@dataclass(slots=True, unsafe_hash=True)
class Frame:
    """One step of the way from the network to a node: a block use, a combinator, a repetition."""

    kind: str  # "block", "residual", "dense", "merge", "branch", "repeat"
    # the component it adds to node names, e.g. "bottleneck3": block uses, which become modules;
    # "" for every other frame (their layers belong to the enclosing block's module)
    name: str
    label: str  # what a person calls it, e.g. "bottleneck(128, s=2)"
    use: Span  # where it was used
    defined: Span | None = None  # where its definition is (blocks)
    index: int = 0  # repetition: which copy, from 0
    count: int = 1  # repetition: how many copies
    group: int = 0  # identity of the construct across its copies
    # blocks: the values its parameters were bound to, in definition order (what the lowering
    # names a module's constructor arguments after)
    params: tuple[tuple[str, Any], ...] = field(default=(), compare=False, hash=False)
    # blocks: the block's name and the arguments written at the use, (keyword or None, value): what
    # a diagram titles the block with
    block: str = ""
    args: tuple[tuple[str | None, Any], ...] = field(default=(), compare=False, hash=False)

    def clone(self, group: int) -> Frame:
        """A frame of its own, equal to this one but for its group (a copy of a block use gets its
        own frames: elaborate/replay.py). Not `dataclasses.replace`, which looks the fields up on
        every call, at three times the cost: a large copy clones a frame per layer."""
        return Frame(self.kind, self.name, self.label, self.use, self.defined, self.index, self.count, group,
                     self.params, self.block, self.args)


@dataclass(slots=True)  # a large graph holds hundreds of thousands: no __dict__ each
class Node:
    id: str
    kind: str
    op: str | None
    attrs: Any
    inputs: list[str]
    span: Span | None
    scope: tuple[Frame, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def opdef(self) -> OpDef:
        assert self.op is not None, f"{self.id} is an {self.kind} node, not an op"
        return OPS[self.op]

    @property
    def shape(self) -> tuple[int, ...]:
        shape: tuple[int, ...] = self.meta["shape"]
        return shape


class Graph:
    """A thin, typed wrapper: `_nodes` holds the `Node` of each id in creation order and `_users`
    the edges; `nx` is the same graph as a networkx `DiGraph` for graph algorithms, built when first
    asked for (importing networkx costs a tenth of a second that `cnndsl check` need not pay)."""

    def __init__(self, name: str):
        self.name = name
        self._nx: Any = None
        self._nodes: dict[str, Node] = {}
        self._users: dict[str, dict[str, None]] = {}  # node -> its users, in the order they appeared
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self.params: dict[str, Any] = {}  # the network parameters it was built with
        self.source: str | None = None
        self.warnings: list[Any] = []  # Diagnostics of severity "warning" met while building it

    @property
    def nx(self) -> Any:
        """The graph as a networkx DiGraph (node attribute `node`: the Node), for graph algorithms."""
        if self._nx is None:
            import networkx

            g = networkx.DiGraph()
            for node in self:
                g.add_node(node.id, node=node)
            for src, users in self._users.items():
                g.add_edges_from((src, user) for user in users)
            self._nx = g
        return self._nx

    def add(self, node: Node) -> Node:
        node_id, users = node.id, self._users  # once per layer made: locals, not attribute look-ups
        assert node.kind in KINDS and node_id not in self._nodes
        self._nodes[node_id] = node
        users[node_id] = {}
        for src in node.inputs:
            users[src][node_id] = None
        self._nx = None
        if node.kind == "input":
            self.inputs.append(node_id)
        elif node.kind == "output":
            self.outputs.append(node_id)
        return node

    def remove(self, node_id: str) -> None:
        """Drop a node no other node uses (a rewrite during elaboration)."""
        assert not self.users(node_id)
        self._drop(node_id)

    def bypass(self, node_id: str) -> None:
        """Drop a layer that returns its first input (a rewrite): its users read that input instead."""
        source = self._nodes[node_id].inputs[0]
        for user in self.users(node_id):
            self._nodes[user].inputs = [source if i == node_id else i for i in self._nodes[user].inputs]
            self._users[source][user] = None
        self._drop(node_id)

    def _drop(self, node_id: str) -> None:
        for src in dict.fromkeys(self._nodes[node_id].inputs):
            self._users[src].pop(node_id, None)
        del self._nodes[node_id], self._users[node_id]
        self._nx = None

    def run_first(self, body: int, shortcut: int) -> None:
        """The nodes made since the `shortcut`-th (a residual's shortcut, the newest) move before
        the ones made from the `body`-th to it (its body): `residual<...> shortcut_first` builds
        the body first, since a projection needs its shape, and runs the shortcut first. The
        shortcut reads nothing the body made, so creation order stays topological."""
        ids = list(self._nodes)
        self._nodes = {i: self._nodes[i] for i in ids[:body] + ids[shortcut:] + ids[body:shortcut]}

    def __getitem__(self, node_id: str) -> Node:
        return self._nodes[node_id]

    def __iter__(self) -> Iterator[Node]:
        """Nodes in creation order, which is a topological order and the order of execution."""
        return iter(self._nodes.values())

    def __reversed__(self) -> Iterator[Node]:
        return reversed(self._nodes.values())

    def __len__(self) -> int:
        return len(self._nodes)

    def ops(self) -> Iterator[Node]:
        """The op nodes in creation order. A list is built at once: each pass walks them all, and a
        comprehension costs half a generator's resumption per node."""
        return iter([n for n in self._nodes.values() if n.kind == "op"])

    def qualname(self, node_id: str) -> str:
        """The name a report gives a layer: the network's name, then the layer's module path
        (`resnet50.stage1.bottleneck1.conv1` is `model.get_submodule("stage1.bottleneck1.conv1")`).
        Inputs and outputs keep their own names."""
        return f"{self.name}.{node_id}" if self._nodes[node_id].kind == "op" else node_id

    def users(self, node_id: str) -> list[str]:
        return list(self._users[node_id])

    # The passes ask these of every layer: they read the tables directly, without the copies and
    # calls of `users()` and `graph[i].shape`, as a large file has a hundred thousand layers.
    def input_shapes(self, node: Node) -> list[tuple[int, ...]]:
        """The shapes of a node's inputs, in order: what the op table's rules take as `ins`."""
        nodes, inputs = self._nodes, node.inputs
        if len(inputs) == 1:  # most layers; a comprehension is a function call of its own
            return [nodes[inputs[0]].meta["shape"]]
        return [nodes[i].meta["shape"] for i in inputs]

    def sole_user(self, node_id: str) -> str | None:
        """The one node that reads `node_id`, or None when none or several do."""
        users = self._users[node_id]
        return next(iter(users)) if len(users) == 1 else None
