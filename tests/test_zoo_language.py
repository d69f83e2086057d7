"""The language extensions the zoo needed (docs/language.md, "More constructs"), each on a small file."""
from __future__ import annotations

import pytest
import torch

import cnndsl
from cnndsl.diagnostics import CnnDslError


def _ops(graph, op):
    return [n for n in graph.ops() if n.op == op]


# ------------------------------------------------------------------ partial application
def test_a_partially_applied_block_carries_its_arguments(write_arch):
    path = write_arch("""
block b(c, s=1, groups=1) = 3x3:c/s groups=groups
block stage(blk, c, n) = blk(c, s=2) -> blk(c)*(n-1)
network n(g=4) : 8x16x16 {
  let wide = b(groups=g)
  stage(wide, 16, 3)
}
""")
    convs = _ops(cnndsl.analyze(path), "conv")
    assert [(c.attrs.out, c.attrs.s, c.attrs.groups) for c in convs] == [(16, (2, 2), 4)] + [(16, (1, 1), 4)] * 2
    assert convs[0].scope[-1].label == "b(16, s=2)"  # the use as written; the stage shows `b(groups=4)`
    assert convs[0].scope[-2].label == "stage(b(groups=4), 16, 3)"


def test_a_later_keyword_replaces_a_preset_one(write_arch):
    path = write_arch("""
block b(c, k=1) = conv(c, k)
network n : 3x8x8 {
  let one = b(k=3)
  let two = one(k=5)
  two(6) -> one(7)
}
""")
    assert [(c.attrs.out, c.attrs.k) for c in _ops(cnndsl.analyze(path), "conv")] == [(6, (5, 5)), (7, (3, 3))]


def test_partial_application_reports_unknown_parameters_at_the_call(write_arch):
    path = write_arch("block b(c) = 3x3:c\nnetwork n : 3x8x8 {\n  let x = b(width=2)\n  x(4)\n}\n")
    with pytest.raises(CnnDslError, match="`b` has no parameter `width`"):
        cnndsl.analyze(path)


# ------------------------------------------------------------------ block input binding
def test_a_block_can_name_its_input_channels(write_arch):
    path = write_arch("""
block transition(theta=0.5) : m = 1x1:(floor(theta * m)) -> avgpool2x2/2
block half(c=m // 2) : m = 1x1:c
network n : 10x8x8 = 1x1:36 -> transition -> transition(theta=0.25) -> half
""")
    assert [c.shape for c in _ops(cnndsl.analyze(path), "conv")] == [(36, 8, 8), (18, 8, 8), (4, 4, 4), (2, 2, 2)]


# ------------------------------------------------------------------ merge comprehensions
def test_concat_over_a_list_builds_one_branch_per_item(write_arch):
    path = write_arch("""
let table = [[0, 1], [1, 2, 3], [3]]
network n : 4x8x8 = concat(select(t) -> conv3x3:2 for t in table)
""")
    graph = cnndsl.analyze(path)
    assert [s.attrs.channels for s in _ops(graph, "select")] == [(0, 1), (1, 2, 3), (3,)]
    assert [c.meta["params"] for c in _ops(graph, "conv")] == [2 * 2 * 9 + 2, 3 * 2 * 9 + 2, 1 * 2 * 9 + 2]
    assert _ops(graph, "concat")[0].shape == (6, 8, 8)


def test_select_checks_channel_numbers(write_arch):
    with pytest.raises(CnnDslError, match="channel numbers from 0 to 3"):
        cnndsl.analyze(write_arch("network n : 4x8x8 = select([0, 4])\n"))


# ------------------------------------------------------------------ joins
def test_nested_joins_merge_into_one(write_arch):
    path = write_arch("""
block f(C) = if C == 1 then conv3x3:4 else join(f(C - 1) -> f(C - 1) | conv3x3:4) drop=0.1
network n : 4x8x8 = f(4)
""")
    joins = _ops(cnndsl.analyze(path), "join")
    # The paper's Fig. 1 for C = 4: joins of 2, 3, 2 and 4 columns, in that order.
    assert [len(j.inputs) for j in joins] == [2, 3, 2, 4]
    assert all(j.attrs.drop == 0.1 for j in joins)


def test_a_join_used_elsewhere_or_with_other_attributes_is_kept(write_arch):
    path = write_arch("""
network n : 4x8x8 {
  join(join(conv3x3:4 | conv3x3:4) as inner | conv3x3:4) -> relu as first
  inner -> join(join(conv3x3:4 | conv3x3:4) drop=0.5 | conv3x3:4) as second
  output first, second
}
""")
    assert [len(j.inputs) for j in _ops(cnndsl.analyze(path), "join")] == [2, 2, 2, 2]


def test_merges_reject_unknown_attributes(write_arch):
    with pytest.raises(CnnDslError, match="`concat` has no attribute `drop`"):
        cnndsl.analyze(write_arch("network n : 4x8x8 = concat(relu | relu) drop=0.1\n"))


# ------------------------------------------------------------------ drop-path
def test_residual_survive_puts_a_droppath_on_the_branch(write_arch):
    path = write_arch("""
block b(p) = residual<conv3x3:4> survive=p
network n : 4x8x8 = b(0.8) -> b(1.0) -> b(linear_decay(0.5))*4
""")
    graph = cnndsl.analyze(path)
    drops = _ops(graph, "droppath")
    # survive=1 adds nothing; the four linear-decay layers are numbered l = 1..4 of L = 4, the
    # fixed one keeps its value.
    expected = [0.8, 1 - 1 / 4 * 0.5, 1 - 2 / 4 * 0.5, 1 - 3 / 4 * 0.5, 0.5]
    assert [d.attrs.survive for d in drops] == pytest.approx(expected)
    add = graph.users(drops[0].id)
    assert graph[add[0]].op == "add"


def test_survive_must_be_a_probability(write_arch):
    with pytest.raises(CnnDslError, match=r"survival probability must be in \(0, 1\]"):
        cnndsl.analyze(write_arch("network n : 4x8x8 = residual<conv3x3:4> survive=1.5\n"))
    with pytest.raises(CnnDslError, match="p_L must be a probability"):
        cnndsl.analyze(write_arch("network n : 4x8x8 = residual<conv3x3:4> survive=linear_decay(0)\n", "b.arch"))


def test_droppath_modes():
    from cnndsl.lower.runtime import DropPath
    torch.manual_seed(0)
    x = torch.ones(1000, 1, 1, 1)
    rows = DropPath(0.7, "row").train()(x)
    assert set(rows.flatten().tolist()) == {0.0, 1.0} and abs(rows.mean().item() - 0.7) < 0.05
    batch = DropPath(0.7, "batch").train()(x)
    assert batch.flatten().tolist() in ([0.0] * 1000, [1.0] * 1000)


# ------------------------------------------------------------------ pre-activation projections
def test_a_pre_activation_unit_projects_with_a_bare_conv(write_arch):
    pre = write_arch("unit = bn -> relu -> conv(bias=false)\nnetwork n : 4x8x8 = residual<3x3:8/2>\n")
    post = write_arch("unit = conv(bias=false) -> bn -> relu\nnetwork n : 4x8x8 = residual<3x3:8/2>\n", "post.arch")
    def shortcut_ops(path):
        graph = cnndsl.analyze(path)
        add = _ops(graph, "add")[0]
        return graph[add.inputs[1]].op
    assert shortcut_ops(pre) == "conv"
    assert shortcut_ops(post) == "bn"


# ------------------------------------------------------------------ LeNet-5's ops and the backends
def test_new_ops_lower_to_python_source_that_agrees_with_the_module(tmp_path):
    from pathlib import Path

    from cnndsl.lower.python_source import generate
    archs = Path(__file__).resolve().parents[1] / "archs"
    for name, size in (("lenet5", None), ("resnet110_sd", (3, 8, 8))):
        graph = cnndsl.analyze(archs / f"{name}.arch", input=size)
        namespace: dict = {}
        source, class_name = generate(graph)
        exec(compile(source, f"{name}.py", "exec"), namespace)
        torch.manual_seed(0)
        module = cnndsl.load(archs / f"{name}.arch", input=size).eval()
        emitted = namespace[class_name]().eval()
        emitted.load_state_dict(module.state_dict())
        x = torch.randn(2, *module.input_shape)
        with torch.no_grad():
            torch.testing.assert_close(emitted(x), module(x))


def test_the_json_report_carries_op_attributes():
    from pathlib import Path
    report = cnndsl.report(Path(__file__).resolve().parents[1] / "archs" / "lenet5.arch")
    rbf = report.layers[-1]
    assert rbf.op == "rbf" and rbf.attrs == {"out": 10, "bias": True} and rbf.buffers == 840 and rbf.params == 0
    assert '"survive"' not in report.model_dump_json()
