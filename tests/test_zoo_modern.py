"""The 2017-2022 zoo against torchvision: MobileNetV3, EfficientNet (V1 and V2), ShuffleNetV2, RegNetY
and ConvNeXt. Every number is derived from torchvision at test time (never from constants):
parameters to the unit, MACs = FlopCounterMode / 2 at the network's own resolution (the one
torchvision's weights were trained at, which the thin file declares), and equal eval outputs after
torchvision's weights (random, with random BN statistics) are copied in.

Counts run on the meta device. Outputs run on small inputs (the same layers on fewer pixels; global
pooling makes the size free); the largest variants' outputs are `slow`: the default suite shares two
cores, and each family's smaller variants already run every kind of block.
"""
from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import pytest
import torch
import torchvision.models as tvm
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models import regnet

import cnndsl
from cnndsl.lower import to_module
from cnndsl.weights import load_torchvision
from zoo import randomized

ARCHS = Path(__file__).resolve().parents[1] / "archs"

FAMILIES = {  # family -> its named files; each file is named as torchvision's builder
    "mobilenet_v3": ["mobilenet_v3_large", "mobilenet_v3_small"],
    "efficientnet": [f"efficientnet_b{i}" for i in range(8)] + [f"efficientnet_v2_{v}" for v in "sml"],
    "shufflenet_v2": [f"shufflenet_v2_x{w}" for w in ("0_5", "1_0", "1_5", "2_0")],
    "regnet": [f"regnet_y_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")],
    "convnext": [f"convnext_{s}" for s in ("tiny", "small", "base", "large")],
}
NAMES = [name for names in FAMILIES.values() for name in names]
# Outputs of the networks over 40M parameters (tests/zoo.py's META_ABOVE) run with `pytest -m slow`:
# materialising them costs seconds each, and their smaller siblings run the same blocks.
SLOW_OUTPUTS = {"efficientnet_b7", "efficientnet_v2_m", "efficientnet_v2_l", "regnet_y_16gf", "regnet_y_32gf",
                "convnext_base", "convnext_large"}
SMALL = {"convnext": (3, 32, 32)}  # torchvision's ConvNeXt weights give min_size 32; the others 1

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _family(name: str) -> str:
    return next(f for f, names in FAMILIES.items() if name in names)


def _small_input(name: str) -> tuple[int, int, int]:
    return SMALL.get(_family(name), (3, 64, 64))


def _builder(name: str):
    return getattr(tvm, name)


def _meta_model(name: str) -> torch.nn.Module:
    # Only shapes and counts matter here: the meta device allocates no weights.
    with _meta_device():
        return _builder(name)()


@contextlib.contextmanager
def _meta_device():
    """torchvision's RegNet computes its stage widths with torch tensors while it is built: that
    arithmetic runs on the CPU, the model's tensors on the meta device."""
    compute = regnet.BlockParams.from_init_params.__func__  # type: ignore[attr-defined]

    def on_cpu(cls, *args, **kwargs):
        with torch.device("cpu"):
            return compute(cls, *args, **kwargs)

    regnet.BlockParams.from_init_params = classmethod(on_cpu)  # type: ignore[method-assign, assignment]
    try:
        with torch.device("meta"):
            yield
    finally:
        regnet.BlockParams.from_init_params = classmethod(compute)  # type: ignore[method-assign, assignment]


@functools.cache
def _report(name: str):
    return cnndsl.report(ARCHS / f"{name}.arch")


def _random_model(name, seed: int = 0):
    """torchvision's model with random weights and BN statistics (tests/zoo.py: randomized)."""
    return randomized(_meta_model(name).to_empty(device="cpu"), seed)


@pytest.mark.parametrize("name", NAMES)
def test_parameter_count_equals_torchvision(name):
    assert _report(name).params == sum(p.numel() for p in _meta_model(name).parameters())


@pytest.mark.parametrize("name", NAMES)
def test_macs_equal_flop_counter_mode(name):
    """At the resolution the file declares, torchvision's weights' own (EfficientNet-B7 600x600)."""
    report = _report(name)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        _meta_model(name).eval()(torch.empty(1, *report.inputs["input"], device="meta"))
    assert report.macs * 2 == counter.get_total_flops()


def test_each_file_declares_the_resolution_of_torchvisions_weights():
    """The input a thin file declares is the crop torchvision's (first) weights were evaluated at."""
    for name in NAMES:
        weights = tvm.get_model_weights(name)
        crop = next(iter(weights)).transforms.keywords["crop_size"]
        assert tuple(_report(name).inputs["input"]) == (3, crop, crop), name


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow if n in SLOW_OUTPUTS else ()) for n in NAMES])
def test_outputs_equal_with_torchvision_weights(name):
    size = _small_input(name)
    theirs = _random_model(name).eval()
    # Ours is built on the meta device and materialised empty: every tensor in it is overwritten
    # by torchvision's (load_torchvision checks that each stateful layer is matched).
    with torch.device("meta"):
        ours = to_module(cnndsl.analyze(ARCHS / f"{name}.arch", input=size))
    ours = load_torchvision(ours.to_empty(device="cpu"), theirs).eval()
    x = torch.randn(2, *size)
    got, our_layers = _layer_outputs(ours, x)
    expected, their_layers = _layer_outputs(theirs, x)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1.3e-6)
    assert expected.std() > 1e-3  # the outputs differ from class to class: not a vacuous comparison
    # Layer by layer too: random weights can saturate a gate (a hard-sigmoid of 0) and hide a
    # wrong layer before it from the logits.
    assert len(our_layers) == len(their_layers)
    for k, (a, b) in enumerate(zip(our_layers, their_layers)):
        torch.testing.assert_close(a, _channels_first(b, a.shape), atol=1e-4, rtol=1e-4,
                                   msg=lambda m, k=k: f"layer {k}: {m}")


def _layer_outputs(model: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The model's output and, in the order they run, the outputs of its layers with weights (a
    layer scale aside: torchvision's ConvNeXt block holds its own)."""
    outs: list[torch.Tensor] = []
    layers = [m for m in model.modules() if not any(True for _ in m.children())
              and any(True for _ in m.parameters(recurse=False)) and type(m).__name__ != "LayerScale"]
    handles = [m.register_forward_hook(lambda m, args, out: outs.append(out.detach().clone())) for m in layers]
    try:
        with torch.no_grad():
            return model(x), outs
    finally:
        for h in handles:
            h.remove()


def _channels_first(t: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """ConvNeXt's block runs its LayerNorm and linear layers on a channels-last map."""
    return t.permute(0, 3, 1, 2) if t.shape != shape and t.dim() == 4 else t


@pytest.mark.parametrize("name", ["efficientnet_b0", "efficientnet_b7", "efficientnet_v2_m", "convnext_tiny",
                                  "convnext_large"])
def test_stochastic_depth_rates_equal_torchvisions(name):
    """Each residual block drops its branch with torchvision's rate (computed in the file from the
    block's global index), per sample, identity at evaluation: torchvision's StochasticDepth."""
    from torchvision.ops import StochasticDepth
    model = _meta_model(name)
    # torchvision gives every block a StochasticDepth; it acts only where the block adds its input
    # back (EfficientNet's use_res_connect), and a rate of 0 is no drop at all.
    theirs = [m.p for b in model.modules() for m in b.children() if isinstance(m, StochasticDepth)
              and getattr(b, "use_res_connect", True) and m.p > 0]
    ours = [n.attrs for n in cnndsl.analyze(ARCHS / f"{name}.arch").ops() if n.op == "droppath"]
    assert len(theirs) > 5 and len(ours) == len(theirs)
    assert all(a.mode == "row" and a.scale == "train" for a in ours)
    assert [1 - a.survive for a in ours] == pytest.approx(theirs, abs=1e-12)


@pytest.mark.parametrize("name", ["efficientnet_b0", "convnext_tiny",
                                  pytest.param("efficientnet_b5", marks=pytest.mark.slow)])
def test_training_step_equals_torchvisions(name):
    """In training mode, from the same seed: stochastic depth drops the same rows of the same blocks
    (the draws come in the same order), and BN's running statistics move alike (EfficientNet-B5's
    momentum 0.01). Dropout is set to 0 in both: its draws are torch's, not ours to compare."""
    size = _small_input(name)
    theirs = _random_model(name).train()
    with torch.device("meta"):
        ours = to_module(cnndsl.analyze(ARCHS / f"{name}.arch", input=size))
    ours = load_torchvision(ours.to_empty(device="cpu"), theirs).train()
    for m in [*ours.modules(), *theirs.modules()]:
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    x = torch.randn(4, *size)
    torch.manual_seed(1)
    got = ours(x)
    torch.manual_seed(1)
    expected = theirs(x)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1.3e-6)
    stats = [[b.running_mean for b in model.modules() if isinstance(b, torch.nn.BatchNorm2d)]
             for model in (ours, theirs)]
    for a, b in zip(*stats):
        torch.testing.assert_close(a, b)
