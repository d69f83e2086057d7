"""What each construct of the language means. Expected numbers come from PyTorch modules written
out by hand (the independent source), or from the arithmetic spelled out in the test."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import cnndsl
from cnndsl.diagnostics import CnnDslError


def params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def analyze(write_arch, text: str, **kw):
    return cnndsl.analyze(write_arch(text), **kw)


def ops(graph):
    return [n.op for n in graph.ops()]


def test_a_unit_literal_expands_to_the_files_unit(write_arch):
    g = analyze(write_arch, "unit = conv(bias=false) -> bn(eps=0.001) -> relu\nnetwork n : 3x32x32 = 3x3:16/2\n")
    assert ops(g) == ["conv", "bn", "relu"]
    conv, bn, _ = g.ops()
    a = conv.attrs
    assert (a.out, a.k, a.s, a.p, a.bias) == (16, (3, 3), (2, 2), (1, 1), False)
    assert bn.attrs.eps == 0.001
    assert conv.span.line == 2  # the layer belongs to the line that wrote `3x3:16/2`, not to the unit


def test_the_default_unit_is_conv_and_relu(write_arch):
    g = analyze(write_arch, "network n : 3x32x32 = 5x5:8\n")
    assert ops(g) == ["conv", "relu"]
    assert params(cnndsl.load(write_arch("network n : 3x32x32 = 5x5:8\n"))) == params(nn.Conv2d(3, 8, 5))


def test_unit_keywords_are_defaults_for_bare_ops_too(write_arch):
    g = analyze(write_arch,
                "unit = conv(bias=false) -> bn -> relu\nnetwork n : 3x8x8 = conv1x1:4 -> conv1x1:4 bias=true\n")
    assert [n.attrs.bias for n in g.ops()] == [False, True]


def test_left_arrow_means_the_right_side_feeds_the_left(write_arch):
    a = analyze(write_arch, "network n : 3x8x8 = 3x3:16 <- 1x1:4\n", )
    assert [n.attrs.out for n in a.ops() if n.op == "conv"] == [4, 16]


def test_branches_concatenate_in_order(write_arch):
    g = analyze(write_arch, "network n : 8x8x8 = inception(1x1:2 | 3x3:3 <- 1x1:1 | maxpool3x3)\n")
    concat = [n for n in g.ops() if n.op == "concat"][0]
    assert concat.shape == (2 + 3 + 8, 8, 8)
    assert [g[i].shape[0] for i in concat.inputs] == [2, 3, 8]


def test_repeat_and_zero_repeat(write_arch):
    g = analyze(write_arch, "network n : 3x8x8 = 3x3:16*3 -> relu*0\n")
    assert ops(g) == ["conv", "relu"] * 3


def test_repeat_count_binds_to_the_whole_layer_literal(write_arch):
    """`3x3:64*2` is two convolutions of 64 filters, never one of 128."""
    g = analyze(write_arch, "network n : 3x8x8 = 3x3:64*2\n")
    assert [n.attrs.out for n in g.ops() if n.op == "conv"] == [64, 64]


def test_residual_projection_matches_a_hand_written_block(write_arch):
    text = ("unit = conv(bias=false) -> bn -> relu\n"
            "network n : 16x16x16 = residual<3x3:32/2 -> conv3x3:32 -> bn> -> relu\n")
    ours = cnndsl.load(write_arch(text))
    body = [nn.Conv2d(16, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.Conv2d(32, 32, 3, 1, 1, bias=False),
            nn.BatchNorm2d(32)]
    shortcut = [nn.Conv2d(16, 32, 1, 2, bias=False), nn.BatchNorm2d(32)]
    assert params(ours) == params(nn.Sequential(*body, *shortcut))
    assert ours(torch.randn(2, 16, 16, 16)).shape == (2, 32, 8, 8)


def test_residual_identity_when_shapes_agree_and_option_a_padding(write_arch):
    g = analyze(write_arch, "network n : 16x8x8 = residual<3x3:16*2>\n")
    assert ops(g) == ["conv", "relu", "conv", "relu", "add"]
    g = analyze(write_arch, "network n : 16x8x8 = residual<3x3:32/2 -> 3x3:32> shortcut=pad\n")
    assert "pad_shortcut" in ops(g)
    module = cnndsl.load(write_arch("network n : 16x8x8 = residual<conv3x3:32/2> shortcut=pad\n"))
    x = torch.randn(1, 16, 8, 8)
    conv = next(m for m in module.modules() if isinstance(m, torch.nn.Conv2d))
    expected = conv(x) + nn.functional.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 8, 8))
    torch.testing.assert_close(module(x), expected)


def test_dense_concatenates_input_and_body(write_arch):
    g = analyze(write_arch, "network n : 16x8x8 = dense<3x3:4>*3\n")
    assert g[g.outputs[0]].shape == (16 + 3 * 4, 8, 8)


def test_blocks_parameters_defaults_and_expressions(write_arch):
    text = ("block b(c, s=1, width=c/2) = 1x1:width -> 3x3:(2*c)/s\n"
            "network n : 8x16x16 = b(8) -> b(16, s=2) -> b(c=4, width=3)\n")
    g = analyze(write_arch, text)
    assert [n.attrs.out for n in g.ops() if n.op == "conv"] == [4, 16, 8, 32, 3, 8]
    assert g[g.outputs[0]].shape == (8, 8, 8)


def test_block_values_ternaries_tables_and_lists(write_arch):
    text = ("block small(c, s=1) = 3x3:c/s\nblock big(c, s=1) = 1x1:c -> 3x3:c/s\n"
            "block stage(b, c, n, s=1) = b(c, s=s) -> b(c)*(n-1)\n"
            "network n(depth=18) : 3x32x32 {\n"
            "  let b = depth < 50 ? small : big\n"
            "  let n = {18: [2, 1], 50: [1, 3]}[depth]\n"
            "  stage(b, 8, n[0]) -> stage(b, 16, n[1], s=2)\n}\n")
    assert ops(analyze(write_arch, text)).count("conv") == 3
    assert ops(analyze(write_arch, text, depth=50)).count("conv") == 8


def test_for_comprehension_binds_its_variable(write_arch):
    g = analyze(write_arch, "network n : 3x8x8 = [3x3:(8*(i+1)) for i in range(3)]\n")
    assert [n.attrs.out for n in g.ops() if n.op == "conv"] == [8, 16, 24]


def test_recursive_blocks_with_a_conditional_layer(write_arch):
    """A FractalNet-style expansion: f(1) = conv, f(n) = mean(f(n-1) -> f(n-1) | conv)."""
    text = ("block f(c, n) = if n == 1 then conv3x3:c else mean(f(c, n-1) -> f(c, n-1) | conv3x3:c)\n"
            "network n : 4x8x8 = f(4, 3)\n")
    g = analyze(write_arch, text)
    assert ops(g).count("conv") == 7  # convs(n) = 2 convs(n-1) + 1, convs(1) = 1
    assert ops(g).count("mean") == 3


def test_named_tensors_several_outputs_and_conditions(write_arch):
    text = ("network n(extra=false) : 3x8x8 {\n"
            "  3x3:8 as a\n"
            "  if extra { a -> gap -> fc:2 as side }\n"
            "  a -> gap -> fc:3 as main\n"
            "  output main, side if extra\n}\n")
    assert list(cnndsl.report(write_arch(text)).outputs) == ["main"]
    report = cnndsl.report(write_arch(text), extra=True)
    assert report.outputs == {"main": [3], "side": [2]}
    out = cnndsl.load(write_arch(text), extra=True)(torch.randn(2, 3, 8, 8))
    assert [o.shape for o in out] == [(2, 3), (2, 2)]


def test_a_network_named_after_another_takes_its_input_and_outputs(write_arch):
    text = ("network base(k=10, two=false) : 3x16x16 {\n  3x3:4 as x\n  x -> fc:k as y\n"
            "  x -> fc:2 as z\n  output y, z if two\n}\n"
            "network thin(k=7) = base(k=k, two=true)\n")
    report = cnndsl.report(write_arch(text))
    assert report.network == "thin"
    assert report.inputs == {"input": [3, 16, 16]}
    assert report.outputs == {"y": [7], "z": [2]}


def test_comments_and_continuation_lines(write_arch):
    text = ("# a comment\nnetwork n : 3x8x8 =   # trailing\n  3x3:8\n  # between\n  -> relu\n"
            "  -> (1x1:2\n      | 1x1:3)\n")
    assert cnndsl.report(write_arch(text)).outputs["output"] == [5, 8, 8]


def test_includes_are_relative_then_stdlib(write_arch, tmp_path):
    (tmp_path / "lib.arch").write_text("block two(c) = 3x3:c*2\n")
    text = 'include "lib.arch"\ninclude "std.arch"\nnetwork n : 3x8x8 = two(4) -> classifier(10)\n'
    assert cnndsl.report(write_arch(text)).outputs["output"] == [10]


def test_pool_padding_rule(write_arch):
    g = analyze(write_arch, "network n : 4x9x9 = maxpool3x3 -> maxpool3x3/2 -> maxpool3x3/2 ceil\n")
    assert [n.shape for n in g.ops()] == [(4, 9, 9), (4, 4, 4), (4, 2, 2)]


def test_fc_flattens_its_input(write_arch):
    g = analyze(write_arch, "network n : 4x3x3 = fc:5\n")
    assert ops(g) == ["flatten", "fc"]
    assert next(n for n in g.ops() if n.op == "fc").meta["params"] == params(nn.Linear(36, 5))


def test_a_file_is_data(write_arch, tmp_path):
    marker = tmp_path / "pwned"
    attempts = {f'3x3:(__import__("os").system("touch {marker}"))': "syntax error",
                '3x3:(__import__("os"))': "unknown function `__import__`",
                '3x3:(eval("1"))': "unknown function `eval`"}
    for layer, message in attempts.items():
        with pytest.raises(CnnDslError, match=message):
            cnndsl.analyze(write_arch(f"network n : 3x8x8 = {layer}\n"))
    assert not marker.exists()


def test_graph_nodes_carry_source_and_scope(write_arch):
    path = write_arch("block b(c) = 3x3:c\nnetwork n : 3x8x8 = b(4) -> b(8)\n")
    g = cnndsl.analyze(path)
    conv = g["b2.conv1"]
    assert conv.span.file == str(path) and conv.span.line == 1
    assert [f.label for f in conv.scope] == ["b(8)"]
    assert conv.scope[0].use.line == 2 and conv.scope[0].use.column == 29
    assert conv.meta["shape"] == (8, 8, 8)
    assert conv.meta["params"] == params(nn.Conv2d(4, 8, 3))
    assert list(g.nx.predecessors("b2.conv1")) == ["b1.relu1"]


def test_residual_attributes_with_a_projection_shortcut(write_arch):
    """The residual's own attributes configure the residual, not the 1x1 conv it adds."""
    proj = analyze(write_arch, "network n : 16x8x8 = residual<3x3:32/2 -> 3x3:32> shortcut=proj\n")
    assert ops(proj)[-3:] == ["relu", "conv", "add"]
    drop = analyze(write_arch, "network n : 16x8x8 = residual<3x3:32/2 -> 3x3:32> survive=0.5\n")
    assert ops(drop)[-4:] == ["relu", "droppath", "conv", "add"]
    assert next(n for n in drop.ops() if n.op == "droppath").attrs.survive == 0.5
