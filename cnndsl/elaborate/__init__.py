"""Elaboration: a parsed program and its parameters -> a graph IR with shapes."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import ast
from ..diagnostics import CnnDslError, Diagnostic
from ..ir import Graph
from .context import MAX_NODES, Layers, too_big
from .elaborator import Elaborator
from .program import Program, load_program
from .resolve import resolve
from .sizes import LeastSizes
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
    networks = [net for net in program.networks if net is main or all(p.default is not None for p in net.params)]
    least = _refuse_networks_past_the_limit(program, networks)
    # A lone network's elaboration reuses the bounds just read from its text (a large file's
    # second reading cost a tenth of a second). With several, each reads its own from its start
    # as before: bounds through blocks that use each other depend on where the reading started.
    shared = least if len(networks) == 1 else None
    layers = Layers()  # so does the layer limit
    with shared_steps():  # the evaluation limit holds for the file, not for each of its networks
        for net in networks:
            try:
                own = (params or {}) if net is main else {}
                graphs.append(Elaborator(program, layers, shared).build(net, own, input_dims))
            except CnnDslError as exc:
                for d in exc.diagnostics:
                    found.setdefault((str(d.span), d.message), d)
    if found:
        raise CnnDslError(found.values())
    return graphs


def _refuse_networks_past_the_limit(program: Program, networks: list[ast.BlockDef]) -> LeastSizes:
    """The layer limit holds for the whole check: when the networks' texts alone (sizes.py) make
    more layers together than it allows, the check is refused before any of them is built,
    at the first network that passes it. Returns the bounds, for the elaboration to reuse."""
    least, total = LeastSizes(program, MAX_NODES + 1), 0
    for net in networks:
        size = least.of(net)
        total += size
        if total > MAX_NODES:
            where = net.body[0].span if net.body else net.span
            says = f"more than {MAX_NODES:,}" if size > MAX_NODES else f"at least {size:,}"
            before = f", and the networks before it at least {total - size:,} (the limit holds for all the " \
                "networks of a check)" if total > size else ""
            raise too_big(where, [f"`{net.name}` makes {says} layers{before}"])
    return least


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
