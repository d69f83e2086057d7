"""Issue 2's zoo against torchvision: parameters, MACs and outputs, all derived from torchvision
at test time (never from constants)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision.models as tvm
from torch.utils.flop_counter import FlopCounterMode

import cnndsl
from cnndsl.weights import load_torchvision

ARCHS = Path(__file__).resolve().parents[1] / "archs"

CASES = {
    "alexnet": ("alexnet.arch", {}, tvm.alexnet),
    "vgg16": ("vgg16.arch", {}, tvm.vgg16),
    "googlenet": ("googlenet.arch", {}, lambda: tvm.googlenet(aux_logits=False, init_weights=True)),
    "googlenet_aux": ("googlenet.arch", {"aux": True}, lambda: tvm.googlenet(aux_logits=True, init_weights=True)),
    "resnet18": ("resnet18.arch", {}, tvm.resnet18),
    "resnet50": ("resnet50.arch", {}, tvm.resnet50),
}


def _meta_model(builder):
    # Only shapes and counts matter here: the meta device allocates no weights.
    with torch.device("meta"):
        return builder()


@pytest.mark.parametrize("case", CASES)
def test_parameter_count_equals_torchvision(case):
    arch, params, builder = CASES[case]
    expected = sum(p.numel() for p in _meta_model(builder).parameters())
    assert cnndsl.report(ARCHS / arch, **params).params == expected


@pytest.mark.parametrize("case", ["alexnet", "vgg16", "googlenet", "resnet18", "resnet50"])
def test_macs_equal_flop_counter_mode(case):
    arch, params, builder = CASES[case]
    report = cnndsl.report(ARCHS / arch, **params)
    model = _meta_model(builder).eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.empty(1, *report.inputs["input"], device="meta"))
    assert report.macs * 2 == counter.get_total_flops()
    assert report.flops == counter.get_total_flops()


@pytest.mark.parametrize("case", ["alexnet", "vgg16", "googlenet", "resnet18", "resnet50"])
def test_outputs_equal_with_torchvision_weights(case):
    arch, params, builder = CASES[case]
    torch.manual_seed(0)
    theirs = builder().eval()
    ours = load_torchvision(cnndsl.load(ARCHS / arch, **params), theirs).eval()
    x = torch.randn(2, *ours.input_shape)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), atol=1e-5, rtol=0)


def test_googlenet_aux_heads_equal_in_train_mode():
    """In train mode torchvision returns (logits, aux2, aux1). Dropout draws from the same random
    stream in the same order because the layers run in the same order."""
    arch, params, builder = CASES["googlenet_aux"]
    torch.manual_seed(0)
    theirs = builder().train()
    ours = load_torchvision(cnndsl.load(ARCHS / arch, **params), theirs).train()
    x = torch.randn(2, 3, 224, 224)
    torch.manual_seed(1)
    expected = theirs(x)
    torch.manual_seed(1)
    got = ours(x)
    assert len(got) == 3
    for a, b in zip(got, (expected.logits, expected.aux_logits2, expected.aux_logits1)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_resnet50_counts_against_the_published_torchvision_figure():
    """torchvision documents ResNet-50 as 4.089 GFLOPS (its "GFLOPS" are conv+linear MACs)."""
    report = cnndsl.report(ARCHS / "resnet50.arch")
    assert round(report.macs / 1e9, 3) == tvm.ResNet50_Weights.IMAGENET1K_V1.meta["_ops"]
    assert report.params == tvm.ResNet50_Weights.IMAGENET1K_V1.meta["num_params"]
