"""The fewest layers a block or network makes, read from its text before it is built.

Forty blocks that each use the previous one twice (`block b1 = b0 -> b0`, ...) make 2**40 layers;
counting them as they are built stops the work only after 250,000 were made (seconds, hundreds
of MB). A block's text gives a lower bound of the layers every use of it makes: every op layer
and conv literal makes at least one, a use of another block its bound, a repetition by a written
count that many times its body. Whatever depends on a value (a condition, a `for`, a name that a
parameter, a `let` or an `as` binds) counts as none, so the bound holds for every use whatever its
arguments and never exceeds what elaboration counts; a use or a network whose bound alone passes
MAX_NODES is refused before anything is built."""
from __future__ import annotations

from .. import ast
from ..ops import lookup
from .program import Program


class LeastSizes:
    """Lower bounds of the layers of each block of a program, computed once each."""

    def __init__(self, program: Program, cap: int) -> None:
        self.program = program
        self.cap = cap  # past the layer limit the exact number does not matter; keeps the sums small
        self.global_names = {let.name for let in program.lets}  # a let may hide a block or an op
        self.known: dict[str, int] = {}

    def of(self, block: ast.BlockDef) -> int:
        """The fewest layers any use of `block` makes, whatever its arguments (what depends on
        them counts as none); 0 while it is being read (a block that uses itself)."""
        if block.name not in self.known:
            self.known[block.name] = 0
            params = {p.name for p in block.params} | ({block.input_name} if block.input_name else set())
            local = _bound_names(block.body) | self.global_names | params
            self.known[block.name] = min(self.cap, self._stmts(block.body, local))
        return self.known[block.name]

    def _stmts(self, stmts: tuple[ast.Stmt, ...], local: set[str]) -> int:
        total = 0
        for stmt in stmts:
            if isinstance(stmt, ast.ChainStmt):
                total += self._layer(stmt.chain, local)
            elif isinstance(stmt, ast.If):
                total += min(self._stmts(stmt.then, local), self._stmts(stmt.otherwise, local))
        return total

    def _layer(self, e: ast.Layer, local: set[str]) -> int:
        if isinstance(e, (ast.NameLayer, ast.CallLayer)):  # first: most layers of a large file
            return self._named(e, local)
        if isinstance(e, ast.Seq):
            total = 0
            for item in e.items:  # a loop, not a generator resumed per item: a chain may be 100,000 long
                total += self._layer(item, local)
            return min(self.cap, total)
        if isinstance(e, ast.Repeat):
            count = e.count.value if isinstance(e.count, ast.Const) else None
            return min(self.cap, count * self._layer(e.body, local)) if type(count) is int and count > 0 else 0
        if isinstance(e, ast.Named):
            return self._layer(e.body, local)
        if isinstance(e, ast.UnitLayer):
            return 1
        if isinstance(e, (ast.Combinator, ast.Merge)):  # the body or branches, then the add or concat
            parts = e.branches if isinstance(e, ast.Merge) else (e.body,) if e.second is None else (e.body, e.second)
            return min(self.cap, 1 + sum(self._layer(part, local) for part in parts))
        return 0  # a condition, a `for`, a merge over a list: they depend on values

    def _named(self, e: ast.NameLayer | ast.CallLayer, local: set[str]) -> int:
        if e.name in local:
            return 0  # a tensor, or a block chosen by a value
        block = self.program.blocks.get(e.name)
        if block is not None:
            return self.of(block)
        return 1 if lookup(e.name) is not None else 0


def _bound_names(stmts: tuple[ast.Stmt, ...]) -> set[str]:
    """The names a body binds with `let` and `as` (they hide blocks of the same name)."""
    out: set[str] = set()
    for stmt in stmts:
        if isinstance(stmt, ast.Let):
            out.add(stmt.name)
        elif isinstance(stmt, ast.If):
            out |= _bound_names(stmt.then) | _bound_names(stmt.otherwise)
        elif isinstance(stmt, ast.ChainStmt):
            out |= _named_in(stmt.chain)
    return out


_LEAVES = (ast.NameLayer, ast.CallLayer, ast.UnitLayer)  # layers that hold no layers


def _named_in(e: ast.Layer) -> set[str]:
    """Every `as NAME` inside a layer expression, at any depth (layers only: a name is bound by a
    layer, never inside a value expression)."""
    out: set[str] = set()
    stack: list[ast.Layer | None] = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, _LEAVES):  # most layers: tested first, as they would fail every test below
            continue
        if isinstance(node, ast.Named):
            out.add(node.name)
            stack.append(node.body)
        elif isinstance(node, ast.Seq):
            stack.extend(node.items)
        elif isinstance(node, ast.Merge):
            stack.extend(node.branches)
        elif isinstance(node, ast.Combinator):
            stack += [node.body, node.second]
        elif isinstance(node, ast.CondLayer):
            stack += [node.then, node.otherwise]
        elif isinstance(node, (ast.Repeat, ast.ForLayer, ast.MergeFor)):
            stack.append(node.body)
    return out
