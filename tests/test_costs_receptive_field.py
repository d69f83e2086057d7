"""Receptive fields against the gradient of one output position with respect to the input image,
on the compiled module.

Weights are constant and positive, BN is in evaluation mode with its initial statistics, so every
activation is positive and every path carries gradient; what remains is max pooling, whose
gradient reaches only the maximum of each window. The inputs are therefore ramps that make the
maximum lie at the window edge a test looks at: a ramp falling downwards puts it at the top of
every window (monotone functions keep the ramp's direction through convs, BN, ReLU/tanh/sigmoid,
LRN, pooling and merges), so the top of the gradient's extent is the top of the receptive field;
three more ramps give the bottom, left and right. One batch of four images measures all four.
Zero padding breaks the ramp near the image border, so only positions whose field lies inside the
image are checked, at the centre of the map.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

import cnndsl
from cnndsl.measure import gradient_extents
from costs_snippets import FIRE, MIX, MODERN_RF

ARCHS = Path(__file__).resolve().parents[1] / "archs"


def ramps(c: int, h: int, w: int) -> torch.Tensor:
    """Four images: rising upwards, downwards, leftwards, rightwards (values in (0, 1])."""
    rows = (torch.arange(h, dtype=torch.float32) + 1) / h
    cols = (torch.arange(w, dtype=torch.float32) + 1) / w
    planes = torch.stack([rows.flip(0)[:, None].expand(h, w), rows[:, None].expand(h, w),
                          cols.flip(0)[None, :].expand(h, w), cols[None, :].expand(h, w)])
    return planes[:, None].expand(4, c, h, w).contiguous()


def constant_module(path, input):
    with torch.device("meta"):  # no random initialisation of weights about to be overwritten
        module = cnndsl.load(path, input=input)
    module = module.to_empty(device="cpu").eval()
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.constant_(m.weight, 1.0 / m.weight[0].numel())
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            m.reset_parameters()  # mean 0, variance 1, weight 1, bias 0
        else:  # LayerNorm, layer scale, affine: distinct per-channel scales, no shift
            for name, p in m.named_parameters(recurse=False):
                nn.init.zeros_(p) if name == "bias" else _distinct(p)
    # float64: at the far edge of a deep field the gradient is a product of many 1/fan_in weights,
    # which in float32 becomes denormal (slow) or zero (a field that looks too small)
    return module.double()


def _distinct(p: torch.Tensor) -> None:
    """Per-channel scales 0.5 to 1.5. Equal ones would hide a LayerNorm's field: the ramps are equal
    across channels, so a LayerNorm's input minus its mean is zero, and with equal scales the sum
    of its outputs over channels (what the gradient is taken of) would not depend on the input."""
    with torch.no_grad():
        p.copy_(torch.linspace(0.5, 1.5, p.numel()).reshape(p.shape))


def interior_centres(graph):
    """{node: (centre position, predicted ((top, bottom), (left, right)))} where the field is inside."""
    _, h, w = graph[graph.inputs[0]].shape
    out = {}
    for node in graph.ops():
        if len(node.shape) != 3 or not node.meta["rf"].exact:
            continue
        f, (_, oh, ow) = node.meta["rf"], node.shape
        u, v = oh // 2, ow // 2
        box = ((f.lo[0] + u * f.j[0], f.hi[0] + u * f.j[0]), (f.lo[1] + v * f.j[1], f.hi[1] + v * f.j[1]))
        if box[0][0] >= 0 and box[1][0] >= 0 and box[0][1] < h and box[1][1] < w:
            out[node.id] = ((u, v), box)
    return out


def check(path, input=None, pick=None):
    graph = cnndsl.analyze(path, input=input)
    candidates = interior_centres(graph)
    chosen = pick(graph, candidates) if pick else list(candidates)
    assert chosen, "no node to check"
    module = constant_module(path, input)
    measured = gradient_extents(module, graph, ramps(*graph[graph.inputs[0]].shape).double(),
                                {n: candidates[n][0] for n in chosen})
    for n in chosen:
        up, down, left, right = measured[n]
        got = ((up[0][0], down[0][1]), (left[1][0], right[1][1]))
        assert got == candidates[n][1], n
    return graph, chosen


def deepest_of_each_op(ops):
    """The last checkable node of each op kind among `ops` (deep nodes test the recurrence most)."""
    def pick(graph, candidates):
        last = {graph[n].op: n for n in candidates if graph[n].op in ops}
        return list(last.values())
    return pick


def test_alexnet():
    graph, chosen = check(ARCHS / "alexnet.arch", pick=deepest_of_each_op({"conv", "maxpool"}))
    assert {graph[n].meta["rf"].size for n in chosen} == {(163, 163), (67, 67)}  # conv5, pool2


def test_resnet50_projection_and_identity_adds():
    # smaller input: the receptive field does not depend on it, and the centre fields stay inside
    check(ARCHS / "resnet50.arch", input="3x112x112",
          pick=lambda g, c: [n for n in c if n.endswith(("maxpool1", "stage1.bottleneck3.add1",
                                                         "stage2.bottleneck1.add1"))])


def test_googlenet_inception_concat():
    check(ARCHS / "googlenet.arch", input="3x112x112", pick=deepest_of_each_op({"concat", "maxpool"}))


@pytest.mark.parametrize("text, input, kinds", [
    (MIX, "3x160x160", {"lrn", "maxpool", "avgpool", "concat", "tanh", "sigmoid", "pad_shortcut", "add", "bn"}),
    (FIRE, "3x96x96", {"maxpool", "concat", "conv"}),
    (MODERN_RF, "3x96x96", {"relu6", "silu", "hardswish", "hardsigmoid", "gelu", "leaky_relu", "mul", "chunk",
                            "split", "shuffle", "layer_scale", "concat"}),
], ids=["mix", "fire", "modern"])
def test_every_op(write_arch, text, input, kinds):
    graph, chosen = check(write_arch(text), input=input, pick=deepest_of_each_op(set(cnndsl.ops.OPS)))
    assert kinds <= {graph[n].op for n in chosen}


def test_recurrence_by_hand(write_arch):
    """r_out = r_in + (k-1)*d*j_in, j_out = j_in*s: 3x3 (3,1), 3x3/2 (5,2), dilated 3x3 d=2 (13,2),
    maxpool 2x2/2 (15,4); flatten (and fc) see the whole 4x4 map: 15 + (4-1)*4 = 27."""
    graph = cnndsl.analyze(write_arch(
        "network n : 3x16x16 = 3x3:4 -> 3x3:4/2 -> conv3x3:4 d=2 -> maxpool2x2/2 -> fc:2"))
    sizes = [(n.op, n.meta["rf"].size[0], n.meta["rf"].j[0]) for n in graph.ops() if n.op != "relu"]
    assert sizes == [("conv", 3, 1), ("conv", 5, 2), ("conv", 13, 2), ("maxpool", 15, 4), ("flatten", 27, 4),
                     ("fc", 27, 4)]


@pytest.mark.parametrize("name, input, kinds", [
    ("mobilenet_v3_large", "3x96x96", {"conv", "bn", "hardswish", "relu", "add"}),
    ("efficientnet_b0", "3x96x96", {"conv", "bn", "silu"}),
    ("convnext_tiny", "3x64x64", {"conv", "ln", "gelu", "layer_scale", "droppath", "add"}),
])
def test_modern_zoo(name, input, kinds):
    """Up to the first squeeze-and-excitation gate (its global pooling makes every later field the
    whole image, which the static pass marks inexact), and ConvNeXt's first blocks. Small inputs
    keep the fields checked inside the image and the float64 pass short."""
    graph, chosen = check(ARCHS / f"{name}.arch", input=input, pick=deepest_of_each_op(set(cnndsl.ops.OPS)))
    assert kinds <= {graph[n].op for n in chosen}
