"""The lowering: one source, two doors, a module tree that mirrors the `.arch` text.

`cnndsl.load` and `cnndsl compile --emit python` give the same classes, qualified names and
`state_dict` keys; every layer the report counts is the module at its path, with the report's
parameters; the emitted file reads like torchvision's and needs only torch."""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import cnndsl
from cnndsl.diagnostics import CnnDslError
from cnndsl.lower.python_source import generate
from zoo import ARCHS, FILES, META_ABOVE, small_input

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def emitted_class(tmp_path: Path, graph) -> type:
    """The network's class from the emitted file, imported as a module of its own."""
    source, name = generate(graph)
    path = tmp_path / f"{graph.name}_emitted.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def _outputs(out):
    return out if isinstance(out, tuple) else (out,)


# ------------------------------------------------------------------ one lowering, two doors
@pytest.mark.parametrize("arch", FILES, ids=lambda p: p.stem)
def test_the_emitted_file_is_the_loaded_module(tmp_path, arch):
    """Same class names and qualified names; the loaded module's weights load strictly into the
    emitted class and give the same outputs, bit for bit."""
    graph = cnndsl.analyze(arch, input=small_input(arch.stem))
    big = sum(n.meta["params"] for n in graph.ops()) > META_ABOVE
    torch.manual_seed(0)
    with torch.device("meta" if big else "cpu"):
        loaded = cnndsl.load(arch, input=small_input(arch.stem))
        emitted = emitted_class(tmp_path, graph)()
    assert [(n, type(m).__name__) for n, m in loaded.named_modules()] == \
        [(n, type(m).__name__) for n, m in emitted.named_modules()]
    if big:
        assert loaded.state_dict().keys() == emitted.state_dict().keys()
        return
    emitted.load_state_dict(loaded.state_dict(), strict=True)
    loaded.eval(), emitted.eval()
    x = torch.randn(2, *loaded.input_shape)
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(_outputs(loaded(x)), _outputs(emitted(x))))


def test_a_checkpoint_moves_between_the_doors(tmp_path):
    torch.manual_seed(0)
    loaded = cnndsl.load(ARCHS / "resnet18.arch", num_classes=10)
    torch.save(loaded.state_dict(), tmp_path / "ckpt.pt")
    emitted = emitted_class(tmp_path, cnndsl.analyze(ARCHS / "resnet18.arch", num_classes=10))()
    emitted.load_state_dict(torch.load(tmp_path / "ckpt.pt", weights_only=True), strict=True)
    torch.save(emitted.state_dict(), tmp_path / "back.pt")
    again = cnndsl.load(ARCHS / "resnet18.arch", num_classes=10)
    again.load_state_dict(torch.load(tmp_path / "back.pt", weights_only=True), strict=True)
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), again.state_dict().values()))


def test_the_emitted_file_imports_with_only_torch(tmp_path):
    """The file needs torch and nothing of cnndsl: imported in a process where cnndsl cannot be."""
    for name, kw in (("googlenet", {"aux": True}), ("fractalnet", {}), ("lenet5", {}), ("resnet110_sd", {})):
        source, cls = generate(cnndsl.analyze(ARCHS / f"{name}.arch", **kw))
        (tmp_path / f"{name}.py").write_text(source)
    code = ("import sys; sys.modules['cnndsl'] = None\n"
            "import torch, googlenet, fractalnet, lenet5, resnet110_sd\n"
            "with torch.device('meta'):\n"
            "    nets = googlenet.Googlenet(), fractalnet.Fractalnet(), lenet5.Lenet5(), resnet110_sd.Resnet110Sd()\n"
            "    for m in nets:\n"
            "        y = m(torch.empty(1, *m.input_shape))\n"
            "        print(type(m).__name__, len(y) if len(m.output_names) > 1 else 1)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Googlenet", "3", "Fractalnet", "1", "Lenet5", "1", "Resnet110Sd", "1"]


# ------------------------------------------------------------------ a tree that mirrors the text
@pytest.mark.parametrize("arch", FILES, ids=lambda p: p.stem)
def test_every_counted_layer_is_the_module_at_its_name(arch):
    report = cnndsl.report(arch)
    with torch.device("meta"):
        model = cnndsl.load(arch)
    for layer in report.layers:
        if layer.params or layer.buffers:
            module = model.get_submodule(layer.name.split(".", 1)[1])
            assert sum(p.numel() for p in module.parameters()) == layer.params, layer.name
            assert sum(b.numel() for _, b in module.named_buffers()) == layer.buffers, layer.name


def test_print_reads_like_torchvision():
    import torchvision
    ours = cnndsl.load(ARCHS / "resnet50.arch")
    theirs = torchvision.models.resnet50()
    assert [len(list(s.children())) for s in (ours.stage1, ours.stage2, ours.stage3, ours.stage4)] == \
        [len(list(s.children())) for s in (theirs.layer1, theirs.layer2, theirs.layer3, theirs.layer4)]
    text = str(ours)
    assert "(stage2): Stage(" in text and "(bottleneck1): Bottleneck2(" in text and "(bottleneck2): Bottleneck(" in text
    assert len(text.splitlines()) < 1.2 * len(str(theirs).splitlines())


def test_a_stage_can_be_frozen_and_a_block_hooked():
    torch.manual_seed(0)
    model = cnndsl.load(ARCHS / "resnet18.arch", num_classes=10)
    model.stage1.requires_grad_(False)
    before = {k: v.clone() for k, v in model.named_parameters()}
    seen = []
    model.stage2.basic1.register_forward_hook(lambda m, i, out: seen.append(tuple(out.shape)))
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.randn(2, 3, 64, 64)).square().mean().backward()
    optimiser.step()
    after = dict(model.named_parameters())
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("stage1."))
    assert not torch.equal(before["stage2.basic1.conv1.weight"], after["stage2.basic1.conv1.weight"])
    assert seen == [(2, 128, 8, 8)]


def test_feature_extraction_on_block_outputs():
    from torchvision.models.feature_extraction import create_feature_extractor
    graph = cnndsl.analyze(ARCHS / "googlenet.arch")
    model = cnndsl.load(ARCHS / "googlenet.arch").eval()
    features = create_feature_extractor(model, return_nodes={"inc3": "a4", "inc7": "e4"})
    out = features(torch.randn(1, 3, 224, 224))
    assert tuple(out["a4"].shape[1:]) == graph["inc3.concat1"].shape
    assert tuple(out["e4"].shape[1:]) == graph["inc7.concat1"].shape


# ------------------------------------------------------------------ readable source
def _source(name, **params):
    return generate(cnndsl.analyze(ARCHS / f"{name}.arch", **params))[0]


def test_the_emitted_files_are_short():
    """The issue's goals: ResNet-50 at most 150 lines, GoogLeNet with aux heads 200, DenseNet-121 150."""
    assert len(_source("resnet50").splitlines()) <= 150
    assert len(_source("googlenet", aux=True).splitlines()) <= 200
    assert len(_source("densenet121").splitlines()) <= 150


def test_a_class_per_block_repeats_as_loops_and_forward_shows_the_add_and_the_concat():
    resnet, densenet, googlenet = _source("resnet50"), _source("densenet121"), _source("googlenet")
    assert re.search(r"class Stage\(nn\.Sequential\):\n.*\n.*\n.*\n\s+for i in range\(n - 1\):\n"
                     r"\s+self\.add_module\(f\"bottleneck\{i \+ 2\}\", Bottleneck\(4 \* c, c\)\)", resnet)
    assert resnet.count("class Bottleneck") == 2  # with and without the projection shortcut
    assert "y = y.add_(self.bn4(self.conv4(x)))" in resnet and "y = y.add_(x)" in resnet
    assert 'self.add_module(f"dense_layer{i + 1}", DenseLayer(in_channels + 32 * i))' in densenet
    assert "return torch.cat([x, y], 1)" in densenet
    assert "return torch.cat([b1, b2, b3, b4], 1)" in googlenet
    assert googlenet.count("class Inc(") == 1 and googlenet.count(" = Inc(") == 9  # one class, nine uses


def test_a_constructor_relates_numbers_of_one_kind_only(write_arch):
    """`padding=k // 2` and `4 * c` are real relations; a kernel size that two uses give as 3 and 5
    beside widths 24 and 40 is not `out // 7` (EfficientNet's stages wrote it so), nor is
    RegNetY-16GF's block count (4 and 11 blocks in stages of 4 and 11 groups) `n - 1` of the group
    count: each is a parameter of its own."""
    text = ("block b(row, out) = 1x1:out -> conv(out=out, k=row[0], p=row[0] // 2) -> 1x1:(4*out)\n"
            "network n : 8x16x16 = b([3], 24) -> b([5], 40)\n")
    source = generate(cnndsl.analyze(write_arch(text)))[0]
    assert "nn.Conv2d(out, out, kernel_size, padding=padding)" in source and "nn.Conv2d(out, 4 * out, 1)" in source
    assert "B(8, 24, 3, 1)" in source and "B(96, 40, 5, 2)" in source
    efficientnet = _source("efficientnet_b0")
    assert "padding=k // 2" in efficientnet and "Se(e, m // 4)" in efficientnet and "// 7" not in efficientnet
    assert "MbStage(16, 24, 3, 0.975)" in efficientnet
    regnet = _source("regnet_y_16gf")
    assert "range(n - 1)" not in regnet and "range(count)" in regnet


def test_comments_point_back_to_the_arch_text_as_the_user_gave_it(tmp_path, monkeypatch):
    source = _source("googlenet")
    assert "# archs/googlenet.arch:15" in source or re.search(r"# .*googlenet\.arch:\d+", source)
    monkeypatch.chdir(tmp_path)  # the file outside the working folder, named by an absolute path
    absolute = generate(cnndsl.analyze((ARCHS / "resnet50.arch").resolve()))[0]
    assert str(ARCHS.resolve()) not in absolute and "/work" not in absolute
    assert "# block bottleneck, <std>/resnet_blocks.arch:" in absolute


# ------------------------------------------------------------------ a clean graph
def test_no_module_does_nothing(write_arch):
    """Identity shortcuts, a stride-1 zero-padding shortcut that pads nothing, p=0 dropout and
    `identity` are left out of the graph, so neither door builds a module for them."""
    text = ("network n : 16x8x8 = residual<3x3:16 -> conv3x3:16> shortcut=pad -> identity -> dropout(0)"
            " -> residual<3x3:16 -> conv3x3:16> -> gap -> fc:10\n")
    graph = cnndsl.analyze(write_arch(text))
    assert [n.op for n in graph.ops() if n.op in ("pad_shortcut", "identity", "dropout")] == []
    model = cnndsl.load(write_arch(text))
    kinds = {type(m).__name__ for m in model.modules()}
    assert not kinds & {"Identity", "PadShortcut", "Dropout"}
    for arch in FILES:
        with torch.device("meta"):
            model = cnndsl.load(arch)
        for m in model.modules():
            assert not isinstance(m, nn.Identity) and not (isinstance(m, nn.Dropout) and m.p == 0)
            assert not (type(m).__name__ == "PadShortcut" and m.stride == 1 and m.pad == 0)


def test_relus_run_in_place_where_their_input_is_dead(write_arch):
    """As torchvision's: every ReLU of ResNet-50 reads a value nothing else reads. After a tanh
    (which keeps its output for backward) or a value read twice, a ReLU must not overwrite it."""
    model = cnndsl.load(ARCHS / "resnet50.arch")
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    assert len(relus) == 49 and all(m.inplace for m in relus)
    text = "network n : 4x8x8 { 3x3:4 -> tanh -> relu as a\n  a -> relu as b\n  a -> sigmoid as c\n output b, c }\n"
    model = cnndsl.load(write_arch(text))
    assert [m.inplace for m in model.modules() if isinstance(m, nn.ReLU)] == [True, False, False]


# ------------------------------------------------------------------ bad input, weights
def test_an_invalid_parameter_is_a_located_error_not_a_torch_error():
    with pytest.raises(CnnDslError) as err:
        cnndsl.load(ARCHS / "resnet50.arch", num_classes=-5)
    assert re.search(r"resnet\.arch:\d+:\d+", str(err.value)) or re.search(r"std\.arch:\d+:\d+", str(err.value))


def test_the_weight_loader_names_the_layers_that_disagree():
    import torchvision

    from cnndsl.weights import WeightMismatch, load_torchvision
    with pytest.raises(WeightMismatch, match=r"stage.*layer"):
        load_torchvision(cnndsl.load(ARCHS / "resnet34.arch"), torchvision.models.resnet18())


def test_the_docs_show_the_emitted_resnet50_as_it_is(monkeypatch):
    root = ARCHS.parent
    monkeypatch.chdir(root)  # the source names the file as it was given: archs/resnet50.arch
    source = generate(cnndsl.analyze(Path("archs/resnet50.arch")))[0]
    example = (root / "docs" / "examples" / "resnet50.py").read_text()
    # to regenerate: cnndsl compile archs/resnet50.arch --emit python -o docs/examples/resnet50.py
    assert example == source
    assert "```python\n" + example + "```" in (root / "docs" / "lowering.md").read_text()


def test_layers_that_reach_no_output_are_left_out_with_a_warning(write_arch, capsys):
    from cnndsl.cli import main
    path = write_arch("network n : 3x8x8 {\n  3x3:4 as a\n  a -> relu -> conv3x3:2 as unused\n  a -> gap -> fc:2\n}\n")
    graph = cnndsl.analyze(path)
    assert [n.op for n in graph.ops()] == ["conv", "relu", "gap", "flatten", "fc"]  # the unit's conv and relu
    assert main(["check", str(path)]) == 0
    err = capsys.readouterr().err
    # named at its `as unused`, the tensor nothing uses
    assert re.search(r":3:29: warning: `unused` \(line 3\) reaches no output of `n`, so it and the 1 layer", err)
    assert sum(p.numel() for p in cnndsl.load(path).parameters()) == cnndsl.report(path).params == 122


def test_a_network_whose_weights_cannot_fit_is_refused_at_its_largest_layer(write_arch):
    """fc:(2**36) asks for 2**38 parameters (a terabyte): torch would raise its own RuntimeError, or
    the process be killed filling them in; load refuses it as a user error, located."""
    path = write_arch("network n : 3x8x8 = gap -> fc:(2**36)\n")
    with pytest.raises(CnnDslError) as info:
        cnndsl.load(path)
    diagnostic = info.value.diagnostics[0]
    assert diagnostic.message.startswith("the network's weights take 1,099.5 GB, more than the ")
    assert (diagnostic.span.line, diagnostic.span.column) == (1, 28)


@pytest.mark.parametrize("short", [0, 1])
def test_the_memory_check_counts_what_torch_allocates(short):
    """The values the check counts are those of torchvision's ResNet-50, its parameters and buffers,
    four bytes each; a network is refused when they need one byte more than there is."""
    import torchvision

    from cnndsl.lower.torch_module import check_fits, weight_bytes
    reference = torchvision.models.resnet50()
    values = sum(t.numel() for t in [*reference.parameters(), *reference.buffers()])
    graph = cnndsl.analyze(ARCHS / "resnet50.arch")
    assert weight_bytes(graph) == 4 * values
    if short:
        with pytest.raises(CnnDslError, match="the network's weights take"):
            check_fits(graph, 4 * values - short)
    else:
        check_fits(graph, 4 * values)
