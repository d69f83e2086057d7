"""A block use equal to an earlier one is copied, not elaborated again (cnndsl/elaborate/replay.py).
The reference is elaboration itself with copying turned off: every zoo network and every case
below gives the same graph either way (ids, ops, attributes, inputs, spans, shapes, the frames
each layer sits in and which of them are one frame), the same generated Python and the same
diagram."""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from cnndsl.api import check
from cnndsl.diagnostics import CnnDslError
from cnndsl.elaborate import replay
from cnndsl.ir import Graph
from cnndsl.lower.python_source import to_source
from cnndsl.views.graphviz import to_dot
from tests.test_random_networks import chain
from tests.zoo import FILES

CASES = {
    "repeat_inside_a_block": "block b(c) = (3x3:c -> relu)*2 -> maxpool2x2/2\n"
                             "network n : 3x32x32 = b(8) -> b(8) -> (b(8))*2 -> b(16)\n",
    "nested_uses_and_named_tensors": "block inner(c) {\n  3x3:c as t -> relu\n  t -> 1x1:c\n}\n"
                                     "block outer(c) = inner(c) -> inner(c) -> bn\n"
                                     "network n : 8x16x16 = outer(8) -> outer(8) -> outer(8)\n",
    "shortcut_first_residual": "block r(c) = residual<3x3:c -> bn -> relu -> 3x3:c -> bn> shortcut_first\n"
                               "network n : 8x8x8 = r(8) -> r(8) -> r(8)\n",
    "join_that_absorbs_its_input": "block f(k) = if k == 0 then 3x3:8 else join(f(k - 1) -> f(k - 1) | 3x3:8)\n"
                                   "network n : 8x8x8 = join(f(2) | 3x3:8) -> f(2) -> f(2)\n",
    "names_given_to_equal_uses": "block b(c) {\n  3x3:c as inner\n  inner -> relu\n}\n"
                                 "network n : 8x8x8 {\n  b(8) as t1\n  t1 -> b(8) as t2\n  t1 -> b(8) -> relu\n}\n",
    "doubling_by_parameter": "block b(k) = if k == 0 then relu else (b(k - 1) -> b(k - 1))\n"
                             "network n : 3x8x8 = b(10) -> b(10)\n",
    "network_used_as_a_block": "network small(c=8, deep=false) : 8x8x8 {\n  3x3:c\n  if deep { 3x3:c }\n}\n"
                               "network n : 8x8x8 = small(8) -> small(8, deep=true) -> small(8) -> small(8, true)\n",
}


def signature(graph: Graph) -> list[Any]:
    """Everything a later stage can read from the graph; frames and repetition groups by their
    identity pattern (first appearance), since only which of them are one matters."""
    frames: dict[int, int] = {}
    groups: dict[int, int] = {}
    out = []
    for node in graph:
        scope = [(frames.setdefault(id(f), len(frames)), f.kind, f.name, f.label, f.use, f.defined, f.index,
                  f.count, groups.setdefault(f.group, len(groups)) if f.kind == "repeat" else f.group, f.params,
                  f.block, f.args) for f in node.scope]
        out.append((node.id, node.kind, node.op, repr(node.attrs), node.inputs, node.span, scope, node.meta))
    return out + [str(w) for w in graph.warnings]


def both(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[Any], str, str]]:
    """Per network of the file: its signature, Python source and DOT, with and without copying."""
    def built() -> list[tuple[list[Any], str, str]]:
        return [(signature(g), to_source(g), to_dot(g)) for g in check(path)]

    copied = built()
    with monkeypatch.context() as m:
        m.setattr(replay, "reuse", lambda *a: None)
        elaborated = built()
    return [copied, elaborated]


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_copying_equal_uses_gives_what_elaborating_them_gives_on_the_zoo(path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch):
    copied, elaborated = both(path, monkeypatch)
    assert copied == elaborated


@pytest.mark.parametrize("name", CASES)
def test_copying_equal_uses_gives_what_elaborating_them_gives(name: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / f"{name}.arch"
    path.write_text(CASES[name])
    copied, elaborated = both(path, monkeypatch)
    assert copied == elaborated


def test_equal_uses_are_copied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The cases above would pass if nothing were ever copied: count the copies."""
    copies = []
    real = replay.copy
    monkeypatch.setattr(replay, "copy", lambda *a: copies.append(a[1].path) or real(*a))
    path = tmp_path / "n.arch"
    path.write_text(CASES["nested_uses_and_named_tensors"])
    check(path)
    assert copies == ["outer1.inner1", "outer1", "outer1"]  # the second inner of outer1; outer2 and outer3


def random_program(rng: random.Random) -> str:
    """Blocks built from every construct (tests/test_random_networks.py's generator), one calling
    another, used with few enough argument values that equal uses are common."""
    a = f"block a(c, s) = {chain(rng, 1)} -> 3x3:c/s"
    b = f"block b(c) = {chain(rng, 1)} -> a(c, 1) -> ({chain(rng, 1)}) -> a(c, 1)"
    uses = [rng.choice(["a(8, 1)", "a(8, 2)", "a(4, 1)", "b(8)", "b(4)", "(a(8, 1))*2", "residual<b(8)>",
                        "(b(8) | b(8))", "dense<a(4, 1)>"]) for _ in range(rng.randint(2, 6))]
    return (f'include "std.arch"\nunit = conv(bias=false) -> bn -> relu\n{a}\n{b}\n'
            f"network n : 8x16x16 = {' -> '.join(uses)} -> gap -> fc:5\n")


def test_copying_equal_uses_gives_what_elaborating_them_gives_on_random_programs(tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch):
    rng = random.Random(11)
    accepted = 0
    for case in range(150):
        path = tmp_path / f"case{case}.arch"
        path.write_text(random_program(rng))
        try:
            copied, elaborated = both(path, monkeypatch)
        except CnnDslError:
            continue  # a random body may change the shape where a residual needs it kept
        accepted += 1
        assert copied == elaborated, path.read_text()
    assert accepted >= 30  # (with this seed: 32) the test must compare graphs, not refusals
