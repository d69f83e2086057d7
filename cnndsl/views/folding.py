"""Which layers a diagram draws inside another's box: BN and activations after the conv, linear
or merge they follow ("conv + bn, relu"), or before the conv or linear they lead into ("bn, relu >
conv", pre-activation). Which categories fold where is declared beside the op table
(cnndsl.ops: FOLDABLE_AFTER / AFTER_HOSTS, FOLDABLE_BEFORE / BEFORE_HOSTS)."""
from __future__ import annotations

from collections.abc import Callable

from ..ir import Frame, Graph, Node
from ..ops import AFTER_HOSTS, BEFORE_HOSTS, FOLDABLE_AFTER, FOLDABLE_BEFORE, Category

DRAWN_FRAMES = {"block", "repeat"}  # residual, dense, merge, branch: their shape is in the edges
Fold = tuple[str, str]  # (host node id, "after" | "before")


def fold_map(graph: Graph, skip: int = 0) -> dict[str, Fold]:
    """node id -> (host node id, "after" | "before") for every layer drawn inside another's box.

    A layer folds only along a plain chain (one input, one user) and only inside the same block
    use or copy, so folding never hides a branch or moves a layer across a cluster border. Where a
    layer could go either way (conv -> bn -> relu -> conv), it goes with the layer written in the
    same place: a unit `bn -> relu -> conv` expands `3x3:32` into three nodes with one span, so
    DenseNet's pre-activation reads "bn, relu > conv 3x3, 32"; otherwise it follows the layer before.
    """
    return _Folding(graph, skip).run()


class _Folding:
    def __init__(self, graph: Graph, skip: int):
        self.g, self.skip = graph, skip
        # the host a walk from a node reaches (with the node's own box), so a chain of N foldable
        # layers is walked once, not once per layer (a 3,000-layer chain took 11 s)
        self._hosts_back: dict[str, Node | None] = {}
        self._hosts_forward: dict[str, Node | None] = {}
        self._boxes: dict[int, tuple[Frame, ...]] = {}  # by scope: nodes share their scope tuples

    def run(self) -> dict[str, Fold]:
        folded: dict[str, Fold] = {}
        for n in self.g.ops():
            if len(n.inputs) != 1:
                continue
            after = self.back(n) if n.opdef.category in FOLDABLE_AFTER else None  # what n feeds does not matter
            before = self.forward(n) if n.opdef.category in FOLDABLE_BEFORE and self.plain(n) else None
            if before is not None and (after is None or (before.span == n.span and after.span != n.span)):
                folded[n.id] = (before.id, "before")
            elif after is not None:
                folded[n.id] = (after.id, "after")
        return self.in_one_piece(folded)

    def in_one_piece(self, folded: dict[str, Fold]) -> dict[str, Fold]:
        """A chain must stay in one piece: conv1 -> bn -> relu -> conv2 with bn before conv2 but relu
        after conv1 would draw them in the wrong order. Such a layer is drawn as a box of its own."""
        for n in self.g.ops():
            if folded.get(n.id, ("", ""))[1] == "after":
                p = n.inputs[0]
                if p != folded[n.id][0] and folded.get(p) != folded[n.id]:
                    del folded[n.id]
        for n in reversed(list(self.g.ops())):
            if folded.get(n.id, ("", ""))[1] == "before":
                u = self.g.users(n.id)[0]
                if u != folded[n.id][0] and folded.get(u) != folded[n.id]:
                    del folded[n.id]
        return folded

    def back(self, n: Node) -> Node | None:
        """The conv/linear/merge that n follows through a plain chain."""
        return self._reach(self.g[n.inputs[0]], self.box(n), self._hosts_back, FOLDABLE_AFTER,
                           lambda p: self.g[p.inputs[0]],
                           lambda p: _cat(p) in AFTER_HOSTS and len(self.g.users(p.id)) == 1)

    def forward(self, n: Node) -> Node | None:
        """The conv/linear that n leads into through a plain chain."""
        return self._reach(self.g[self.g.users(n.id)[0]], self.box(n), self._hosts_forward, FOLDABLE_BEFORE,
                           lambda u: self.g[self.g.users(u.id)[0]],
                           lambda u: _cat(u) in BEFORE_HOSTS and len(u.inputs) == 1)

    def _reach(self, start: Node, box: tuple[Frame, ...], hosts: dict[str, Node | None],
               foldable: frozenset[Category], step: Callable[[Node], Node],
               is_host: Callable[[Node], bool]) -> Node | None:
        """Walk from `start` through plain foldable layers in `box` to the host they fold into, or
        None; every layer walked through is remembered with the answer (they share the box)."""
        walked = []
        p = start
        while True:
            if self.box(p) != box:
                found = None
                break
            if p.id in hosts:
                found = hosts[p.id]
                break
            if self.plain(p) and _cat(p) in foldable:
                walked.append(p.id)
                p = step(p)
                continue
            found = hosts[p.id] = p if is_host(p) else None
            break
        for node_id in walked:
            hosts[node_id] = found
        return found

    def box(self, n: Node) -> tuple[Frame, ...]:
        box = self._boxes.get(id(n.scope))
        if box is None:  # the scope tuple is kept alive by its node, so its id is its own
            box = self._boxes[id(n.scope)] = tuple(f for f in n.scope[self.skip:] if f.kind in DRAWN_FRAMES)
        return box

    def plain(self, n: Node) -> bool:
        return n.kind == "op" and len(n.inputs) == 1 and len(self.g.users(n.id)) == 1


def _cat(n: Node) -> Category | None:
    return n.opdef.category if n.kind == "op" else None
