"""Elaboration: a parsed program and its parameters -> a graph IR with shapes."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..diagnostics import CnnDslError
from ..ir import Graph
from .elaborator import Elaborator
from .program import Program, load_program
from .resolve import resolve


def elaborate(program: Program, params: dict[str, Any] | None = None,
              input_dims: tuple[int, ...] | None = None, network: str | None = None) -> Graph:
    unresolved = resolve(program)
    if unresolved:
        raise CnnDslError(unresolved)
    return Elaborator(program).build(program.main(network), params or {}, input_dims)


def build_graph(path: str | Path, params: dict[str, Any] | None = None,
                input_dims: tuple[int, ...] | None = None, network: str | None = None) -> Graph:
    return elaborate(load_program(path), params, input_dims, network)


__all__ = ["elaborate", "build_graph", "load_program", "Program"]
