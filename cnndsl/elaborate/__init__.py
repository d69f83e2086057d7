"""Elaboration: a parsed program and its parameters -> a graph IR with shapes."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..diagnostics import CnnDslError, Diagnostic
from ..ir import Graph
from .elaborator import Elaborator
from .program import Program, load_program
from .resolve import resolve
from .values import Env, Evaluator, shared_steps


def elaborate(program: Program, params: dict[str, Any] | None = None,
              input_dims: tuple[int, ...] | None = None, network: str | None = None) -> Graph:
    unresolved = resolve(program)
    if unresolved:
        raise CnnDslError(unresolved)
    return Elaborator(program).build(program.main(network), params or {}, input_dims)


def check_program(program: Program, params: dict[str, Any] | None = None,
                  input_dims: tuple[int, ...] | None = None) -> list[Graph]:
    """Elaborate the file's main network with `params` and every other network of the root file
    that can stand alone (all its parameters have defaults), collecting the errors of all of them;
    an error met through several networks is reported once."""
    unresolved = resolve(program)
    if unresolved:
        raise CnnDslError(unresolved)
    main = program.main()
    graphs: list[Graph] = []
    found: dict[tuple[str, str], Diagnostic] = {}
    with shared_steps():  # the evaluation limit holds for the file, not for each of its networks
        for net in program.networks:
            if net is not main and any(p.default is None for p in net.params):
                continue
            try:
                graphs.append(Elaborator(program).build(net, (params or {}) if net is main else {}, input_dims))
            except CnnDslError as exc:
                for d in exc.diagnostics:
                    found.setdefault((str(d.span), d.message), d)
    if found:
        raise CnnDslError(found.values())
    return graphs


def file_values(program: Program) -> dict[str, Any]:
    """A program's file-level `let`s, evaluated with its `def`s: the values its networks see
    (tests compare them with their references)."""
    unresolved = resolve(program)
    if unresolved:
        raise CnnDslError(unresolved)
    env, ev = Env(), Evaluator(set(program.blocks), program.defs)
    with shared_steps():
        for let in program.lets:  # as Elaborator.build does
            env.values[let.name] = ev.eval(let.value, env)
    return env.values


def build_graph(path: str | Path, params: dict[str, Any] | None = None,
                input_dims: tuple[int, ...] | None = None, network: str | None = None,
                include_path: Sequence[str | Path] = ()) -> Graph:
    return elaborate(load_program(path, include_path), params, input_dims, network)


__all__ = ["elaborate", "check_program", "file_values", "build_graph", "load_program", "Program"]
