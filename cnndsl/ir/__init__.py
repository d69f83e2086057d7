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

import networkx as nx

from ..ops import OPS, OpDef
from ..source import Span

KINDS = ("input", "op", "output")


@dataclass(frozen=True)
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


@dataclass
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
    """A thin, typed wrapper: `nx` holds the structure (edges for graph algorithms), `_nodes` the
    `Node` of each id in creation order (a dict: networkx's node views are slow to index)."""

    def __init__(self, name: str):
        self.name = name
        self.nx = nx.DiGraph()
        self._nodes: dict[str, Node] = {}
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self.params: dict[str, Any] = {}  # the network parameters it was built with
        self.source: str | None = None
        self.warnings: list[Any] = []  # Diagnostics of severity "warning" met while building it

    def add(self, node: Node) -> Node:
        assert node.kind in KINDS and node.id not in self._nodes
        self._nodes[node.id] = node
        self.nx.add_node(node.id, node=node)
        for src in node.inputs:
            self.nx.add_edge(src, node.id)
        (self.inputs if node.kind == "input" else self.outputs if node.kind == "output" else []).append(node.id)
        return node

    def remove(self, node_id: str) -> None:
        """Drop a node no other node uses (a rewrite during elaboration)."""
        assert not self.users(node_id)
        del self._nodes[node_id]
        self.nx.remove_node(node_id)

    def bypass(self, node_id: str) -> None:
        """Drop a layer that returns its first input (a rewrite): its users read that input instead."""
        source = self._nodes[node_id].inputs[0]
        for user in self.users(node_id):
            self._nodes[user].inputs = [source if i == node_id else i for i in self._nodes[user].inputs]
            self.nx.add_edge(source, user)
        del self._nodes[node_id]
        self.nx.remove_node(node_id)

    def __getitem__(self, node_id: str) -> Node:
        return self._nodes[node_id]

    def __iter__(self) -> Iterator[Node]:
        """Nodes in creation order, which is a topological order and the order of execution."""
        return iter(self._nodes.values())

    def __len__(self) -> int:
        return len(self._nodes)

    def ops(self) -> Iterator[Node]:
        return (n for n in self._nodes.values() if n.kind == "op")

    def qualname(self, node_id: str) -> str:
        """The name a report gives a layer: the network's name, then the layer's module path
        (`resnet50.stage1.bottleneck1.conv1` is `model.get_submodule("stage1.bottleneck1.conv1")`).
        Inputs and outputs keep their own names."""
        return f"{self.name}.{node_id}" if self._nodes[node_id].kind == "op" else node_id

    def users(self, node_id: str) -> list[str]:
        return list(self.nx.successors(node_id))
