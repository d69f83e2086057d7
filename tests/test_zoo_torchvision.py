"""The ImageNet zoo against torchvision: parameters, MACs and outputs, derived from torchvision at
test time (never from constants).

alexnet, vgg16, googlenet and resnet18/50 are checked the same way in test_core_torchvision.py;
this file covers the rest of the lecture's torchvision models, through their thin named files.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision.models as tvm
from torch.utils.flop_counter import FlopCounterMode

import cnndsl
from cnndsl.lower import to_module
from cnndsl.weights import load_torchvision
from zoo import randomized

ARCHS = Path(__file__).resolve().parents[1] / "archs"

# file -> (network parameters, torchvision builder, input for the output test).
# The output test uses small inputs where the network allows them (adaptive pooling before the
# classifier): the numbers compared are the same layers' on fewer pixels, at a fraction of the
# time. Inception-v3's smallest input is 75x75.
CASES = {
    "vgg11": ({}, tvm.vgg11, (3, 32, 32)),
    "vgg11_bn": ({}, tvm.vgg11_bn, (3, 32, 32)),
    "vgg13": ({}, tvm.vgg13, (3, 32, 32)),
    "vgg13_bn": ({}, tvm.vgg13_bn, (3, 32, 32)),
    "vgg16_bn": ({}, tvm.vgg16_bn, (3, 32, 32)),
    "vgg19": ({}, tvm.vgg19, (3, 32, 32)),
    "vgg19_bn": ({}, tvm.vgg19_bn, (3, 32, 32)),
    "inception_v3": ({}, lambda: tvm.inception_v3(aux_logits=False, init_weights=False), (3, 75, 75)),
    "resnet34": ({}, tvm.resnet34, (3, 64, 64)),
    "resnet101": ({}, tvm.resnet101, (3, 64, 64)),
    "resnet152": ({}, tvm.resnet152, (3, 64, 64)),
    "resnext50_32x4d": ({}, tvm.resnext50_32x4d, (3, 64, 64)),
    "resnext101_32x8d": ({}, tvm.resnext101_32x8d, (3, 64, 64)),
    "wide_resnet50_2": ({}, tvm.wide_resnet50_2, (3, 64, 64)),
    "wide_resnet101_2": ({}, tvm.wide_resnet101_2, (3, 64, 64)),
    "densenet121": ({}, tvm.densenet121, (3, 64, 64)),
    "densenet161": ({}, tvm.densenet161, (3, 64, 64)),
    "densenet169": ({}, tvm.densenet169, (3, 64, 64)),
    "densenet201": ({}, tvm.densenet201, (3, 64, 64)),
    "squeezenet1_0": ({}, tvm.squeezenet1_0, (3, 64, 64)),
    "squeezenet1_1": ({}, tvm.squeezenet1_1, (3, 64, 64)),
}

# Counts only: the auxiliary classifiers, and the family files at their defaults.
COUNT_ONLY = {
    "inception_v3_aux": ("inception_v3", {"aux": True}, lambda: tvm.inception_v3(aux_logits=True, init_weights=False)),
    "googlenet_aux": ("googlenet", {"aux": True}, lambda: tvm.googlenet(aux_logits=True, init_weights=False)),
    "resnet.arch -D depth=50 -D groups=32 -D width_per_group=4": (
        "resnet", {"depth": 50, "groups": 32, "width_per_group": 4}, tvm.resnext50_32x4d),
    "vgg.arch -D depth=13 -D batch_norm=true": ("vgg", {"depth": 13, "batch_norm": True}, tvm.vgg13_bn),
    "densenet.arch": ("densenet", {}, tvm.densenet121),
    "squeezenet.arch -D version=1.1": ("squeezenet", {"version": 1.1}, tvm.squeezenet1_1),
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _meta_model(builder):
    # Only shapes and counts matter here: the meta device allocates no weights.
    with torch.device("meta"):
        return builder()


def _random_model(builder, seed: int = 0):
    """torchvision's model with random weights and BN statistics (tests/zoo.py: randomized)."""
    return randomized(_meta_model(builder).to_empty(device="cpu"), seed)


def _params(model) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", [*CASES, *COUNT_ONLY])
def test_parameter_count_equals_torchvision(name):
    arch, params, builder = (name, *CASES[name][:2]) if name in CASES else COUNT_ONLY[name]
    assert cnndsl.report(ARCHS / f"{arch}.arch", **params).params == _params(_meta_model(builder))


@pytest.mark.parametrize("name", CASES)
def test_macs_equal_flop_counter_mode(name):
    """At the network's own input size (224x224, Inception-v3 299x299), on the meta device."""
    params, builder, _ = CASES[name]
    report = cnndsl.report(ARCHS / f"{name}.arch", **params)
    model = _meta_model(builder).eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.empty(1, *report.inputs["input"], device="meta"))
    assert report.macs * 2 == counter.get_total_flops()


@pytest.mark.parametrize("name", CASES)
def test_outputs_equal_with_torchvision_weights(name):
    params, builder, size = CASES[name]
    theirs = _random_model(builder).eval()
    # Our network is built on the meta device and materialised empty: every tensor in it is
    # overwritten by torchvision's (load_torchvision checks that each stateful layer is matched).
    with torch.device("meta"):
        ours = to_module(cnndsl.analyze(ARCHS / f"{name}.arch", input=size, **params))
    ours = load_torchvision(ours.to_empty(device="cpu"), theirs).eval()
    x = torch.randn(2, *size)
    with torch.no_grad():
        expected = theirs(x)
        torch.testing.assert_close(ours(x), expected, atol=1e-5, rtol=1.3e-6)
    assert expected.std() > 1e-3  # the outputs differ from class to class: not a vacuous comparison


def test_inception_v3_aux_head_runs_after_mixed_6e():
    """torchvision runs the auxiliary classifier after Mixed_6e; the weight loader matches layers
    in execution order, so our file must put it there too. Checked on the meta device (the aux
    head needs the full 299x299 input): every layer's tensors must line up."""
    with torch.device("meta"):
        ours = to_module(cnndsl.analyze(ARCHS / "inception_v3.arch", aux=True))
        theirs = tvm.inception_v3(aux_logits=True, init_weights=False)
    from cnndsl.weights import execution_order
    mine = [m for m in ours.modules() if any(True for _ in m.parameters(recurse=False))]
    other = [m for _, m in execution_order(theirs, torch.empty(2, 3, 299, 299, device="meta"))
             if any(True for _ in m.parameters(recurse=False))]
    assert [tuple(p.shape for p in m.parameters()) for m in mine] == \
        [tuple(p.shape for p in m.parameters()) for m in other]
    assert ours.output_names == ("logits", "aux_logits")
