"""Name resolution before elaboration, so `check` reports every unknown name at once (up to
MAX_UNKNOWN of them: past that many, one more error says where the check stopped).

Elaboration stops at its first error (later shapes depend on earlier ones); names do not, so this
pass walks every block and network, used or not, and collects all names that resolve to nothing.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import fields
from operator import attrgetter

from .. import ast
from ..diagnostics import Diagnostic, did_you_mean
from ..ops import OpDef, layer_names, lookup
from .attributes import bare_words
from .program import Program
from .values import BUILTINS

WORDS = {"shortcut": ("auto", "identity", "proj", "pad"),  # residual attributes that take bare words
         "droppath_mode": ("batch", "row"), "droppath_scale": ("eval", "train")}
MAX_SUGGESTIONS = 20  # unknown names that get a `did you mean`
MAX_SUGGESTION_WORK = 100_000  # names compared for them, all together: a few milliseconds each 10,000
MAX_UNKNOWN = 100  # unknown names reported; past them the check stops, as a C compiler's error limit


class _Found(list[Diagnostic]):
    """The unknown names met so far, and the suggestion work spent on them."""

    suggestion_work = 0


class _Stop(Exception):
    """Past MAX_UNKNOWN: the walk stops (thousands of errors were seconds of walking and printing)."""


def resolve(program: Program) -> list[Diagnostic]:
    # The global names are gathered once: per block or per node, a file of many blocks and lets
    # took time quadratic in its length (20,000 lines: 7 s).
    globals_ = {let.name for let in program.lets} | set(program.blocks) | set(program.defs)
    found = _Found()
    with suppress(_Stop):  # past MAX_UNKNOWN: what was found is the report
        _walk_program(program, globals_, found)
    return found


def _walk_program(program: Program, globals_: set[str], found: _Found) -> None:
    for block in program.blocks.values():
        nodes = list(walk(block.body))  # walked once for the names it binds and once to check them
        scope = {p.name for p in block.params} | _bound_in(nodes)
        if block.input_name:  # `block transition(theta) : m` binds m to the input's channels
            scope.add(block.input_name)
        _Walker(program, scope, globals_, found).check_all(nodes)
    for d in program.defs.values():
        scope = {p.name for p in d.params} | _bound_in(walk((d.body, *d.params)))
        _Walker(program, scope, globals_, found).layer(d)
    for info in program.files.values():
        if info.unit is not None:
            _Walker(program, set(), globals_, found).layer(info.unit.chain)


def _bound_in(nodes: Iterable[ast.Node]) -> set[str]:
    """Names a body binds anywhere: `let`, `as` and `for` variables (visibility is checked later)."""
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, (ast.Let, ast.Named)):
            out.add(node.name)
        elif isinstance(node, (ast.ForLayer, ast.MergeFor, ast.Comprehension)):
            out.update(node.vars)
    return out


def walk(obj: object) -> Iterator[ast.Node]:
    """Every syntax node in `obj`, in order (each node before what it holds). One generator and a
    stack of what is left to visit: nested generators passed every node up through each level of
    the tree (14 resumptions per layer of a 100,000-layer file). Names, numbers and None are
    dropped as they come off the stack."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Node):
            yield item
            # None, "", () and 0 hold no node: left off the stack (a node is never false)
            stack += filter(None, _children(type(item))(item))
        elif isinstance(item, tuple):
            stack += reversed(item)


_CHILDREN: dict[type, Callable[[object], tuple[object, ...]]] = {}


def _children(kind: type) -> Callable[[object], tuple[object, ...]]:
    """What the fields of a syntax node type hold, last first (the order they are pushed onto
    `walk`'s stack, so that they come off it first to last), read by one `attrgetter` call."""
    found = _CHILDREN.get(kind)
    if found is None:
        names = tuple(reversed([f.name for f in fields(kind) if f.name != "span"]))
        found = _CHILDREN[kind] = attrgetter(*names) if len(names) > 1 else _fields_of(names)
    return found


def _fields_of(names: tuple[str, ...]) -> Callable[[object], tuple[object, ...]]:
    """`attrgetter` for fewer than two fields (it returns one value, not a tuple, for one)."""
    return lambda node: tuple(getattr(node, name) for name in names)


class _Walker:
    def __init__(self, program: Program, scope: set[str], globals_: set[str], found: _Found):
        self.program, self.found = program, found
        self.local, self.globals = scope, globals_  # the scope is both; blocks are among the globals
        self.words: set[int] = set()  # ids of Var nodes that are enumerated words (`shortcut=pad`)

    @property
    def scope(self) -> set[str]:  # only for suggestions, on an error
        return self.local | self.globals

    def _known(self, name: str) -> bool:
        return name in self.local or name in self.globals

    def check_all(self, nodes: Iterable[ast.Node]) -> None:
        for node in nodes:
            self.check(node)

    def layer(self, layer: ast.Layer | ast.FuncDef) -> None:
        for node in walk(layer):
            self.check(node)

    def check(self, node: ast.Node) -> None:
        for attr in getattr(node, "attrs", ()):
            if isinstance(attr.value, ast.Var) and attr.value.name in WORDS.get(attr.name, ()):
                self.words.add(id(attr.value))
        if isinstance(node, (ast.NameLayer, ast.CallLayer)):
            if not self._known(node.name):
                found = lookup(node.name)  # once per layer: a large file is mostly op layers
                if found is None:
                    self._unknown(f"unknown layer or block `{node.name}`", node,
                                  lambda: layer_names(node.name) | self.scope)
                else:
                    self._op_words(node, found[0])
        elif isinstance(node, ast.Var) and not self._known(node.name) and id(node) not in self.words \
                and lookup(node.name) is None:  # an op is a value too: `act=relu`
            self._unknown(f"unknown name `{node.name}`", node, lambda: self.scope)
        elif isinstance(node, ast.Call) and not self._known(node.name) and node.name not in BUILTINS \
                and lookup(node.name) is None:
            # a block, or a name bound to one, called in a value is a partial application
            self._unknown(f"unknown function `{node.name}`", node,
                          lambda: set(BUILTINS) | set(self.program.blocks) | set(self.program.defs))

    def _op_words(self, node: ast.NameLayer | ast.CallLayer, opdef: OpDef) -> None:
        """Bare words an op's enumerated attributes take (`droppath(0.9, mode=row)`) are no names."""
        args = node.args if isinstance(node, ast.CallLayer) else ()
        if not args and not node.attrs:
            return  # most layers: nothing written that could be a word
        keyed = list(zip(opdef.positional, [a.value for a in args if a.name is None]))
        keyed += [(a.name, a.value) for a in args if a.name is not None]
        keyed += [(a.name, a.value) for a in node.attrs if a.value is not None]
        for key, value in keyed:
            if isinstance(value, ast.Var) and value.name in bare_words(opdef, key):
                self.words.add(id(value))

    def _unknown(self, message: str, node: ast.Var | ast.Call | ast.NameLayer | ast.CallLayer,
                 candidates: Callable[[], set[str]]) -> None:
        found = self.found
        if len(found) == MAX_UNKNOWN:
            found.append(Diagnostic(f"more than {MAX_UNKNOWN} unknown names: the check stops here", node.span,
                                    details=[f"{message}, the first past the limit"]))
            raise _Stop
        # A suggestion compares the name with every candidate: for the first few errors only, and
        # only so many comparisons, so a file of thousands of unknown names and lets is not
        # quadratic (5,000 of each: 40 s) and 20 suggestions among 20,000 lets not 0.4 s.
        hint = None
        if len(found) < MAX_SUGGESTIONS and found.suggestion_work < MAX_SUGGESTION_WORK:
            names = candidates()
            found.suggestion_work += len(names)
            hint = did_you_mean(node.name, names)
        found.append(Diagnostic(message, node.span, help=hint))
