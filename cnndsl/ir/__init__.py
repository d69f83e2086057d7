"""The graph IR: a networkx DiGraph, one node per layer, in creation (= execution) order.

Node kinds are a small closed set, as in torch.fx:
  * ``input``  - a network input; ``meta["shape"]`` is its declared CxHxW;
  * ``op``     - a layer from the op table (`cnndsl.ops`), with validated ``attrs``;
  * ``output`` - a named network output; its single input is the tensor returned.
Every node keeps the span of the `.arch` text that made it and the chain of block uses (``scope``)
that led there. Passes write their results into ``meta``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import networkx as nx

from ..ops import OPS, OpDef
from ..source import Span

KINDS = ("input", "op", "output")


@dataclass(frozen=True)
class Frame:
    """One step of the way from the network to a node: a block use, a combinator, a repetition."""

    kind: str  # "block", "residual", "dense", "merge", "repeat"
    name: str  # path component, e.g. "bottleneck3"; "" for frames that add none (repeat)
    label: str  # what a person calls it, e.g. "bottleneck(128, s=2)"
    use: Span  # where it was used
    defined: Span | None = None  # where its definition is (blocks)
    index: int = 0  # repetition: which copy, from 0
    count: int = 1  # repetition: how many copies
    group: int = 0  # identity of the construct across its copies


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
        return OPS[self.op]

    @property
    def shape(self) -> tuple[int, ...]:
        return self.meta["shape"]


class Graph:
    """A thin, typed wrapper: `nx` holds the structure, each networkx node holds its `Node`."""

    def __init__(self, name: str):
        self.name = name
        self.nx = nx.DiGraph()
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self.params: dict[str, Any] = {}  # the network parameters it was built with
        self.source: str | None = None

    def add(self, node: Node) -> Node:
        assert node.kind in KINDS and node.id not in self.nx
        self.nx.add_node(node.id, node=node)
        for src in node.inputs:
            self.nx.add_edge(src, node.id)
        (self.inputs if node.kind == "input" else self.outputs if node.kind == "output" else []).append(node.id)
        return node

    def __getitem__(self, node_id: str) -> Node:
        return self.nx.nodes[node_id]["node"]

    def __iter__(self) -> Iterator[Node]:
        """Nodes in creation order, which is a topological order and the order of execution."""
        for node_id in self.nx.nodes:
            yield self.nx.nodes[node_id]["node"]

    def __len__(self) -> int:
        return self.nx.number_of_nodes()

    def ops(self) -> Iterator[Node]:
        return (n for n in self if n.kind == "op")

    def users(self, node_id: str) -> list[str]:
        return list(self.nx.successors(node_id))
