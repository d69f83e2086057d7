"""Deep inputs elaborate; absurd ones are refused with a clear error instead of hanging.
(Speed is measured in bench/elaborate.py; these tests check behaviour.)"""
from __future__ import annotations

from pathlib import Path

import pytest

import cnndsl
from cnndsl.diagnostics import CnnDslError

ARCHS = Path(__file__).resolve().parents[1] / "archs"


def test_a_resnet_1202_sized_network_elaborates():
    report = cnndsl.report(ARCHS / "resnet_cifar.arch", depth=1202)
    # He et al. 2015, Table 6: ResNet-1202 (n=200) has 19.4M parameters.
    assert round(report.params / 1e6, 1) == 19.4
    assert sum(1 for layer in report.layers if layer.op == "conv") == 6 * 200 + 1


@pytest.mark.parametrize("text, message", [
    ("network n : 3x8x8 = relu*10**9\n", "a repeat count must be between 0 and 10000, got 1000000000"),
    ("network n : 3x8x8 = relu*(10**10**10)\n", "10 ** 10000000000 is too large"),
    ("network n : 3x8x8 = [relu for i in range(10**9)]\n", "range of 1000000000 items is larger than 100000"),
    ("block f(c) = f(c)\nnetwork n : 3x8x8 = f(1)\n", "blocks nest more than 100 deep"),
    ("block f(c) = 3x3:c -> f(c)\nnetwork n : 3x8x8 = f(1)\n", "blocks nest more than 100 deep"),
    ("network n : 3x8x8 = (relu*5000)*5000\n", "the network has more than 250000 layers"),
])
def test_absurd_inputs_are_refused(write_arch, text, message):
    with pytest.raises(CnnDslError, match=message.replace("*", r"\*")):
        cnndsl.analyze(write_arch(text))


def test_deep_nesting_of_parentheses_is_refused(write_arch):
    text = "network n : 3x8x8 = " + "(" * 5000 + "relu" + ")" * 5000 + "\n"
    with pytest.raises(CnnDslError, match="nested too deeply"):
        cnndsl.analyze(write_arch(text))


def test_blocks_that_double_are_refused_before_they_are_built(write_arch):
    lines = ["block b0 = relu -> relu"] + [f"block b{i} = b{i - 1} -> b{i - 1}" for i in range(1, 40)]
    path = write_arch("\n".join(lines + ["network n : 3x8x8 = relu -> b39"]) + "\n")
    with pytest.raises(CnnDslError) as caught:
        cnndsl.analyze(path)
    first = caught.value.diagnostics[0]
    assert (first.span.line, first.span.column) == (41, 21)  # the network's body, before a layer of it is built
    assert first.details[0] == "`n` makes more than 250,000 layers"


def test_a_block_use_that_would_pass_the_limit_is_refused_before_it_is_built(write_arch):
    lines = ["block b0 = relu -> relu"] + [f"block b{i} = b{i - 1} -> b{i - 1}" for i in range(1, 40)]
    path = write_arch("\n".join(lines + ["network n(deep=true) : 3x8x8 = relu -> (if deep then b39)"]) + "\n")
    with pytest.raises(CnnDslError) as caught:
        cnndsl.analyze(path)
    first = caught.value.diagnostics[0]
    assert (first.span.line, first.span.column) == (41, 54)  # the use of b39, not the network
    assert first.details[0] == "`b39` makes more than 250,000 layers, and 1 are made before it"


@pytest.mark.parametrize("path", sorted(cnndsl.api.ZOO.glob("*.arch")), ids=lambda p: p.stem)
def test_the_least_size_read_from_a_blocks_text_is_never_more_than_a_use_makes(path):
    """sizes.py's bound against the layers each block use has in the built graph (fewer than it
    made when the rewrite removed no-ops, so the test is strict), and the network's against all."""
    from cnndsl.elaborate import load_program
    from cnndsl.elaborate.sizes import LeastSizes
    program = load_program(path)
    least = LeastSizes(program, 10**9)
    graph = cnndsl.analyze(path)
    made: dict[int, tuple[str, int]] = {}
    for node in graph.ops():
        for frame in node.scope:
            if frame.kind == "block":
                block, count = made.get(id(frame), (frame.block, 0))
                made[id(frame)] = (block, count + 1)
    checked = [(block, least.of(program.blocks[block]), count) for block, count in made.values()]
    assert all(bound <= count for _, bound, count in checked), [c for c in checked if c[1] > c[2]]
    assert least.of(program.main()) <= len(list(graph.ops()))


def test_the_least_size_of_blocks_that_double_is_exact(write_arch):
    from cnndsl.elaborate import load_program
    from cnndsl.elaborate.sizes import LeastSizes
    lines = ["block b0 = relu -> (relu * 3)"] + [f"block b{i} = b{i - 1} -> b{i - 1}" for i in range(1, 10)]
    path = write_arch("\n".join(lines + ["network n : 3x8x8 = b9"]) + "\n")
    program = load_program(path)
    assert LeastSizes(program, 10**9).of(program.blocks["b9"]) == len(list(cnndsl.analyze(path).ops())) == 4 * 2**9


def test_a_text_parsed_again_is_reused_and_charged_its_tokens(write_arch):
    """The parse cache (a language server re-reads unchanged includes) must not let a program
    spend fewer tokens than it reads: a reused tree charges the tokens its parse took, and a
    budget too small for them gets the located error a parse gives."""
    from cnndsl.parser import parse_file
    from cnndsl.parser.limits import Budget
    path = write_arch("network n : 3x8x8 = relu -> relu\n")
    first_budget, second_budget = Budget(), Budget()
    first = parse_file(path, budget=first_budget)
    assert parse_file(path, budget=second_budget) is first
    spent = first_budget.token_limit - first_budget.tokens
    assert spent > 5 and second_budget.token_limit - second_budget.tokens == spent
    with pytest.raises(CnnDslError, match="more than 3 tokens"):
        parse_file(path, budget=Budget(tokens=3))


def test_a_for_whose_first_copy_is_its_largest_is_not_refused_for_it(write_arch):
    """A `for`'s copies differ, so its first copy times its count says nothing of the whole
    (it did, and refused this valid network of 10,029 layers)."""
    path = write_arch("block b(i) = if i == 0 then (relu*10000) else relu\n"
                      "network n : 3x8x8 = [b(i) for i in range(30)]\n")
    assert len(list(cnndsl.analyze(path).ops())) == 10_029


# Equal block uses (copied by replay.py), repetitions, combinators and merges, a few levels deep.
NESTED = """block inner(c) = residual<3x3:c -> relu> -> concat(relu | 1x1:c)
block outer(c) = inner(c) -> inner(c) -> (inner(c))*3
network n : 8x8x8 = outer(8) -> outer(8) -> gap -> fc:10
"""


@pytest.mark.parametrize("limit, message", [("MAX_NESTED", "too many layers nested this deep"),
                                            ("MAX_NAME_CHARS", "the layers' names add up to more than")])
@pytest.mark.parametrize("slack, refused", [(0, False), (-1, True)])
def test_what_layers_keep_of_where_they_are_is_counted_exactly(write_arch, monkeypatch, limit, message, slack,
                                                               refused):
    """MAX_NESTED bounds the layers times the frames around each, MAX_NAME_CHARS their names'
    characters: the counts the elaborator keeps as it goes (copies of equal uses included) must be
    what the finished graph's scopes and names add up to."""
    import cnndsl.elaborate.context as context
    from cnndsl.api import elaborate
    path = write_arch(NESTED)
    layers = [node for node in elaborate(path) if node.kind == "op"]
    total = sum(len(n.scope) for n in layers) if limit == "MAX_NESTED" else sum(len(n.id) for n in layers)
    assert total > 100  # deep enough to mean something
    monkeypatch.setattr(context, limit, total + slack)
    if refused:
        with pytest.raises(CnnDslError, match=message):
            elaborate(path)
    else:
        elaborate(path)


def test_keeping_no_use_to_copy_changes_nothing_but_the_speed(monkeypatch):
    """replay.MAX_KEPT bounds the layers kept for copying; with none kept every use is elaborated,
    and the graph is the same."""
    import cnndsl.elaborate.replay as replay
    from cnndsl.api import elaborate

    def nodes(path):
        return [(n.id, n.op, n.inputs, n.meta.get("shape"), len(n.scope)) for n in elaborate(path)]
    for name in ("resnet50.arch", "densenet121.arch", "googlenet.arch"):
        kept = nodes(ARCHS / name)
        monkeypatch.setattr(replay, "MAX_KEPT", 0)
        assert nodes(ARCHS / name) == kept
        monkeypatch.undo()
