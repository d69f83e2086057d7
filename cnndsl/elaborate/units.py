"""The conv unit: what a literal `KxK:C/S attrs` expands to in its file (`unit = conv -> bn ->
relu`), and the file's defaults that every bare `conv` and `bn` of the file takes from it."""
from __future__ import annotations

from dataclasses import dataclass

from .. import ast
from ..ops import ALIASES
from ..parser import parse
from ..source import Span
from .attributes import Written
from .program import Program, file_info
from .values import Env, Evaluator

DEFAULT_UNIT = "unit = conv -> relu"


@dataclass(frozen=True)
class Unit:
    """A file's unit: its chain of layers and, per op, the keywords written in it."""

    chain: ast.Layer
    defaults: dict[str, dict[str, object]]

    def items(self) -> tuple[ast.Layer, ...]:
        return self.chain.items if isinstance(self.chain, ast.Seq) else (self.chain,)

    def op_names(self) -> list[str]:
        return [ALIASES.get(getattr(i, "name", ""), getattr(i, "name", "")) for i in self.items()]

    def has_after_conv(self, op: str) -> bool:
        """`conv -> bn -> relu` projects shortcuts with conv + bn; a pre-activation unit
        (`bn -> relu -> conv`) with a bare conv, as He et al. 2016 do."""
        names = self.op_names()
        return "conv" in names and op in names[names.index("conv"):]

    def written(self, op: str, at: Span) -> Written:
        """The unit's keywords for `op`, as the start of what a layer of that op writes."""
        return Written(at, dict(self.defaults.get(op, {})))


class Units:
    """The unit of each file, read once."""

    def __init__(self, program: Program, ev: Evaluator, globals_: Env):
        self.program, self.ev, self.globals = program, ev, globals_
        self._units: dict[str, Unit] = {}
        decl = parse(DEFAULT_UNIT, "<default unit>").items[0]
        assert isinstance(decl, ast.UnitDecl)
        self._default = decl.chain

    def of(self, file: str) -> Unit:
        if file not in self._units:
            info = file_info(self.program, file)
            chain = info.unit.chain if info is not None and info.unit is not None else self._default
            self._units[file] = Unit(chain, self._defaults(chain))
        return self._units[file]

    def _defaults(self, chain: ast.Layer) -> dict[str, dict[str, object]]:
        """`unit = conv(bias=false) -> bn(eps=0.001) -> relu`: those keywords are the file's
        defaults for every conv and bn, so a bare `conv1x1:256` agrees with the unit."""
        out: dict[str, dict[str, object]] = {}
        items = chain.items if isinstance(chain, ast.Seq) else (chain,)
        for item in items:
            if isinstance(item, ast.CallLayer):
                name = ALIASES.get(item.name, item.name)
                out.setdefault(name, {}).update(
                    {a.name: self.ev.eval(a.value, self.globals) for a in item.args if a.name})
        return out
