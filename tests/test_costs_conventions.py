"""The static counts under every convention equal what the tools themselves measure on the compiled
module: torch's FlopCounterMode, torchinfo, fvcore and ptflops, run here at test time, in total and
(where the tool reports it) per layer. torchvision's own figures come from torchvision.

Tools that only read shapes run on the meta device (FlopCounterMode, torchinfo); fvcore traces a
real forward pass and ptflops counts on the meta device differently from CPU (its patched
functions see the meta kernels' Python internals), so those two run on CPU with uninitialised
weights, which costs one forward pass each and no weight initialisation.
"""
from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

import pytest
import torch
import torchvision
from torch.utils.flop_counter import FlopCounterMode

import cnndsl
from costs_snippets import FIRE, MIX, MODERN

ARCHS = Path(__file__).resolve().parents[1] / "archs"

# (arch file, torchvision builder). The lead adds ("densenet121.arch", "densenet121") and
# ("squeezenet1_0.arch", "squeezenet1_0") here when the zoo lands; nothing else needs to change.
ZOO = [
    ("alexnet.arch", "alexnet"),
    ("googlenet.arch", "googlenet"),
    ("resnet50.arch", "resnet50"),
    ("vgg16.arch", "vgg16"),
    ("densenet121.arch", "densenet121"),
    ("squeezenet1_0.arch", "squeezenet1_0"),
    ("mobilenet_v3_large.arch", "mobilenet_v3_large"),
    ("efficientnet_b0.arch", "efficientnet_b0"),
    ("convnext_tiny.arch", "convnext_tiny"),
]


def compiled(path, device: str):
    """The compiled module on `device`: built on meta, then given (uninitialised) storage."""
    with torch.device("meta"):
        module = cnndsl.load(path)
    if device != "meta":
        module = module.to_empty(device=device)
    return module.eval()


def flop_counter(module, shape):
    with FlopCounterMode(display=False) as counter:
        module(torch.empty(1, *shape, device="meta"))
    # FlopCounterMode names a module by its path under the root's class name (and sums each
    # block's layers into the block's entry too): keep the layers'
    root = type(module).__name__ + "."
    layers = {name for name, m in module.named_modules() if not any(True for _ in m.children()) and name}
    per_layer = {fqn.removeprefix(root): sum(ops.values()) for fqn, ops in counter.get_flop_counts().items()
                 if fqn.removeprefix(root) in layers}
    return counter.get_total_flops(), per_layer


def torchinfo_counts(module, shape):
    import torchinfo
    summary = torchinfo.summary(module, input_size=(1, *shape), device="meta", verbose=0)
    names = {m: k for k, m in module.named_modules() if k and not any(True for _ in m.children())}
    per_layer = {names[info.module]: info.macs for info in summary.summary_list if info.module in names}
    return summary.total_mult_adds, per_layer


def fvcore_counts(module, shape):
    from fvcore.nn import FlopCountAnalysis
    logging.getLogger("fvcore").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings
        analysis = FlopCountAnalysis(module, torch.zeros(1, *shape))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        total, by_module = analysis.total(), analysis.by_module()
    per_layer = {k: by_module.get(k, 0) for k, m in module.named_modules() if k and not any(True for _ in m.children())}
    return total, per_layer


def ptflops_total(module, shape):
    import ptflops
    with contextlib.redirect_stdout(io.StringIO()):
        macs, _ = ptflops.get_model_complexity_info(module, tuple(shape), as_strings=False,
                                                    print_per_layer_stat=False)
    return macs


def check_against_tools(path, **kw):
    """Every convention's total, and per layer where the tool gives layers, equals the tool's count."""
    report = cnndsl.report(path, **kw)
    static = {layer.name.split(".", 1)[1]: layer.conventions for layer in report.layers}
    shape = tuple(next(iter(report.inputs.values())))
    meta, cpu = compiled(path, "meta"), compiled(path, "cpu")
    measured = {}
    for name, (total, per_layer) in (("flop_counter", flop_counter(meta, shape)),
                                     ("torchinfo", torchinfo_counts(meta, shape)),
                                     ("fvcore", fvcore_counts(cpu, shape))):
        measured[name] = total
        mine = {k: c[name] for k, c in static.items() if c[name] or per_layer.get(k)}
        assert mine == {k: v for k, v in per_layer.items() if v or mine.get(k)}, name
    measured["ptflops"] = ptflops_total(cpu, shape)
    assert {k: report.conventions[k] for k in measured} == measured
    return report


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("arch, builder", ZOO, ids=[b for _, b in ZOO])
def test_zoo_conventions_equal_the_tools(arch, builder):
    report = check_against_tools(ARCHS / arch)
    # torchvision's convention: FlopCounterMode on torchvision's own model, halved, and the
    # GFLOPS torchvision publishes with its weights (rounded to 3 decimals)
    with torch.device("meta"):
        model = getattr(torchvision.models, builder)().eval()
        with FlopCounterMode(display=False) as counter:
            model(torch.empty(1, *report.inputs["input"]))
    assert report.conventions["torchvision"] == report.macs == counter.get_total_flops() // 2
    meta = torchvision.models.get_model_weights(builder).DEFAULT.meta
    assert round(report.macs / 1e9, 3) == meta["_ops"]
    assert report.params == meta["num_params"]
    assert report.flops == report.conventions["flop_counter"] == 2 * report.macs


@pytest.mark.parametrize("text", [MIX, FIRE, MODERN], ids=["mix", "fire", "modern"])
def test_every_op_equals_the_tools(write_arch, text):
    check_against_tools(write_arch(text))


def test_single_layers_match_the_reference_table(write_arch):
    """The per-layer table of ../shared/reference/README.md ("Counting conventions in the tools people
    use", measured there with the tools on single torch layers), computed statically."""
    conv = cnndsl.report(write_arch("network a : 16x32x32 = conv3x3:32")).layers[0].conventions
    assert (conv["torchvision"], conv["flop_counter"], conv["fvcore"]) == (4_718_592, 9_437_184, 4_718_592)
    assert (conv["ptflops"], conv["torchinfo"]) == (4_751_360, 4_751_360)
    no_bias = cnndsl.report(write_arch("network b : 16x32x32 = conv3x3:32 bias=false")).layers[0].conventions
    assert (no_bias["ptflops"], no_bias["torchinfo"]) == (4_718_592, 4_718_592)
    depthwise = cnndsl.report(write_arch("network c : 16x32x32 = conv3x3:16 groups=16 bias=false")).layers[0]
    assert set(depthwise.conventions.values()) == {147_456, 294_912}
    bn, relu, pool = (layer.conventions for layer in cnndsl.report(
        write_arch("network d : 16x32x32 = bn -> relu -> maxpool2x2/2")).layers)
    assert (bn["fvcore"], bn["ptflops"], bn["torchinfo"], bn["flop_counter"]) == (32_768, 32_768, 32, 0)
    assert (relu["ptflops"], relu["fvcore"], pool["ptflops"], pool["fvcore"]) == (32_768, 0, 32_768, 0)
    gap = cnndsl.report(write_arch("network e : 16x32x32 = gap")).layers[0].conventions
    assert (gap["fvcore"], gap["ptflops"], gap["torchinfo"]) == (16_384, 32_768, 0)
    fc = cnndsl.report(write_arch("network f : 1024x1x1 = fc:10")).layers[-1].conventions
    assert (fc["torchvision"], fc["flop_counter"], fc["fvcore"], fc["ptflops"], fc["torchinfo"]) == \
        (10_240, 20_480, 10_240, 10_250, 10_250)
    check_against_tools(write_arch("network g : 16x32x32 = conv3x3:32 -> bn -> relu -> maxpool2x2/2 -> gap -> fc:10"))
