"""The zoo's paper models (no torchvision model) against the figures their papers publish.

Every expected number below states its source beside it. A published count is compared at the
precision it is published at ("0.27M" is 0.27 +- 0.005 million); where a reference implementation
publishes an exact count, that is checked too. Architectures without a published count are
checked against the layer sizes the paper prints, or against an independent re-implementation.
"""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import nn

import cnndsl
from cnndsl.lower.runtime import DropPath  # the classes the generated source copies

ARCHS = Path(__file__).resolve().parents[1] / "archs"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _report(name, **params):
    return cnndsl.report(ARCHS / f"{name}.arch", **params)


def _published(count: int, figure: str) -> bool:
    """`figure` as printed ("0.27M", "36.5M", "60,000"): equal at its printed precision."""
    text = figure.rstrip("M").replace(",", "")
    scale = 1_000_000 if figure.endswith("M") else 1
    decimals = len(text.split(".")[1]) if "." in text else 0
    return round(count / scale, decimals) == float(text)


# (file, published parameter count, source). 10 classes unless stated.
PUBLISHED = [
    ("resnet20_cifar", "0.27M", "He et al. 2015, Table 6"),
    ("resnet32_cifar", "0.46M", "He et al. 2015, Table 6"),
    ("resnet44_cifar", "0.66M", "He et al. 2015, Table 6"),
    ("resnet56_cifar", "0.85M", "He et al. 2015, Table 6"),
    ("resnet110_cifar", "1.7M", "He et al. 2015, Table 6"),
    ("resnet1202_cifar", "19.4M", "He et al. 2015, Table 6"),
    ("resnet110_sd", "1.7M", "Huang et al. 2016 train He et al.'s ResNet-110 (Table 6 there)"),
    ("preact_resnet164", "1.7M", "He et al. 2016 (Identity Mappings), Table 4"),
    ("wrn28_10", "36.5M", "Zagoruyko & Komodakis 2016, Tables 4-5 (WRN-28-10)"),
    ("resnext29_8x64d", "34.4M", "Xie et al. 2017, Table 7"),
    ("densenet_bc_cifar", "0.8M", "Huang et al. 2017, Table 2 (DenseNet-BC, L=100, k=12)"),
    ("lenet5", "60,000", "LeCun et al. 1998, Sec. II-B: 60,000 trainable parameters"),
]

# Exact counts published by reference implementations (file, count, source).
EXACT = [
    ("resnet20_cifar", 269_722, "../shared/reference/README.md, CIFAR table (reference re-implementations)"),
    ("resnet32_cifar", 464_154, "../shared/reference/README.md, CIFAR table"),
    ("resnet44_cifar", 658_586, "../shared/reference/README.md, CIFAR table"),
    ("resnet56_cifar", 853_018, "../shared/reference/README.md, CIFAR table"),
    ("resnet110_cifar", 1_727_962, "../shared/reference/README.md, CIFAR table"),
    ("resnet1202_cifar", 19_421_274, "../shared/reference/README.md, CIFAR table"),
    ("wrn28_10", 36_479_194, "../shared/reference/README.md, CIFAR table"),
    ("resnext29_8x64d", 34_426_698, "../shared/reference/README.md, CIFAR table"),
    ("densenet_bc_cifar", 769_162, "../shared/reference/README.md; osmr/imgclsmob README, DenseNet-BC-100 (k=12)"),
    ("preact_resnet164", 1_703_258, "osmr/imgclsmob README, PreResNet-164(BN)"),
    ("preact_resnet1001", 10_327_706, "osmr/imgclsmob README, PreResNet-1001"),
]


@pytest.mark.parametrize("name,figure,source", PUBLISHED, ids=[p[0] for p in PUBLISHED])
def test_parameter_count_matches_the_paper(name, figure, source):
    params = _report(name).params
    assert _published(params, figure), f"{params:,} is not {figure} ({source})"


@pytest.mark.parametrize("name,count,source", EXACT, ids=[e[0] for e in EXACT])
def test_parameter_count_matches_the_reference_implementation(name, count, source):
    assert _report(name).params == count, source


def test_preact_resnet1001_published_count_leaves_out_batch_norm():
    """He et al. 2016, Table 4 prints 10.2M for ResNet-1001; the network of its Fig. 4(e) with
    bottlenecks has 10,327,706 parameters (as osmr/imgclsmob also counts), of which the
    convolutions and the classifier hold 10,178,490: the printed figure leaves out BN's."""
    report = _report("preact_resnet1001")
    weights = sum(layer.params for layer in report.layers if layer.op in ("conv", "fc"))
    assert _published(weights, "10.2M")
    assert not _published(report.params, "10.2M")


def test_densenet_bc_macs_match_the_reference_figure():
    # ../shared/reference/README.md, CIFAR table: 287,929,692 conv + linear MACs.
    assert _report("densenet_bc_cifar").macs == 287_929_692


# ------------------------------------------------------------------ LeNet-5
def test_lenet5_layer_by_layer():
    """LeCun et al. 1998, Sec. II-B: trainable parameters and connections of each layer.
    Connections of a conv or fc layer are its multiply-accumulates plus one bias term per output."""
    layers = _report("lenet5").layers
    groups = {"C1": ["conv1"], "S2": ["subsample1.affine1"],
              "C3": [f"conv{i}" for i in range(2, 18)], "S4": ["subsample2.affine1"],
              "C5": ["conv18"], "F6": ["fc1"]}
    by_name = {layer.name.removeprefix("lenet5."): layer for layer in layers}
    params = {g: sum(by_name[n].params for n in names) for g, names in groups.items()}
    assert params == {"C1": 156, "S2": 12, "C3": 1_516, "S4": 32, "C5": 48_120, "F6": 10_164}
    connections = {g: sum(by_name[n].macs + math.prod(by_name[n].shape) for n in names)
                   for g, names in groups.items() if g[0] in "CF"}
    assert connections == {"C1": 122_304, "C3": 151_600, "C5": 48_120, "F6": 10_164}
    assert [layer.shape for layer in layers if layer.op == "concat"] == [[16, 10, 10]]


# ------------------------------------------------------------------ AlexNet, ZFNet, NiN
def test_alexnet2012_parameters_and_neurons():
    """Krizhevsky et al. 2012, abstract: "60 million parameters and 650,000 neurons"; Sec. 3.5
    lists the neurons per layer as 253,440-186,624-64,896-64,896-43,264-4096-4096-1000. The first
    figure is known not to match the paper's own 55x55x96 (= 290,400); the others are checked."""
    report = _report("alexnet2012")
    assert round(report.params / 1e7) == 6  # "60 million": one significant figure (60,965,224)
    neurons = [math.prod(layer.shape) for layer in report.layers if layer.op in ("conv", "fc")]
    assert neurons[1:] == [186_624, 64_896, 64_896, 43_264, 4096, 4096, 1000]
    assert neurons[0] == 55 * 55 * 96
    assert [layer.attrs["groups"] for layer in report.layers if layer.op == "conv"] == [1, 2, 1, 2, 2]


def test_zfnet_map_sizes_of_figure_3():
    """Zeiler & Fergus 2013, Fig. 3: 224 -> 110 -> 55 -> 26 -> 13 -> 13 -> 13 -> 6, with 96, 256,
    384, 384, 256 maps, then 4096, 4096 and 1000 units."""
    shapes = [tuple(layer.shape) for layer in _report("zfnet").layers if layer.op in ("conv", "maxpool", "fc")]
    assert shapes == [(96, 110, 110), (96, 55, 55), (256, 26, 26), (256, 13, 13), (384, 13, 13),
                      (384, 13, 13), (256, 13, 13), (256, 6, 6), (4096,), (4096,), (1000,)]


def _nin_reference() -> nn.Module:
    """Network in Network for CIFAR-10 as the authors released it (Caffe model by M. Lin, as
    transcribed in Lasagne/Recipes modelzoo/cifar10_nin.py), written independently in PyTorch.
    Lasagne's ignore_border=False pooling is ceil mode; every conv is followed by a ReLU."""
    def conv(i, o, k):
        return [nn.Conv2d(i, o, k, padding=k // 2), nn.ReLU()]
    return nn.Sequential(
        *conv(3, 192, 5), *conv(192, 160, 1), *conv(160, 96, 1), nn.MaxPool2d(3, 2, ceil_mode=True), nn.Dropout(0.5),
        *conv(96, 192, 5), *conv(192, 192, 1), *conv(192, 192, 1), nn.AvgPool2d(3, 2, ceil_mode=True), nn.Dropout(0.5),
        *conv(192, 192, 3), *conv(192, 192, 1), *conv(192, 10, 1), nn.AvgPool2d(8), nn.Flatten())


def test_nin_equals_the_released_model():
    reference = _nin_reference().eval()
    ours = cnndsl.load(ARCHS / "nin.arch").eval()
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in reference.parameters())
    ours_convs = [m for m in ours.modules() if isinstance(m, nn.Conv2d)]
    ref_convs = [m for m in reference if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        for a, b in zip(ours_convs, ref_convs, strict=True):
            a.load_state_dict(b.state_dict())
        x = torch.randn(2, 3, 32, 32)
        torch.testing.assert_close(ours(x), reference(x), atol=1e-5, rtol=1.3e-6)


# ------------------------------------------------------------------ stochastic depth
L_SD = 54  # ResNet-110: 3 stages of 18 residual blocks


def _linear_decay(l: int, p_last: float = 0.5) -> float:
    # Huang et al. 2016, Eq. (4): p_l = 1 - l/L (1 - p_L), p_L = 0.5 for CIFAR.
    return 1 - l / L_SD * (1 - p_last)


def test_stochastic_depth_survival_probabilities_are_in_the_report():
    rows = [layer for layer in _report("resnet110_sd").layers if layer.op == "droppath"]
    assert [row.attrs["survive"] for row in rows] == pytest.approx([_linear_decay(l) for l in range(1, L_SD + 1)])
    # on each residual branch: the layer before it is the body's last bn, the one after the add
    names = {layer.name: layer for layer in _report("resnet110_sd").layers}
    assert all(row.inputs[0].endswith(".bn2") and row.name.endswith(".droppath1") for row in rows)
    assert all(any(layer.op == "add" and row.name in layer.inputs for layer in names.values()) for row in rows)
    assert "p=0.5 " in rows[-1].label and "54 of 54" in rows[-1].label


def _drop_log(model):
    """Hook every DropPath module; record, per forward, whether it zeroed its (nonzero) input."""
    log: list[list[bool]] = []
    mods = [m for m in model.modules() if type(m).__name__ == "DropPath"]  # the generated file's class
    for i, m in enumerate(mods):
        m.register_forward_hook(lambda mod, ins, out, i=i: log[-1].__setitem__(i, bool((out == 0).all())))
    return mods, log


def test_stochastic_depth_drops_blocks_with_the_declared_probabilities():
    """A statistical test with a fixed seed: in training each block is dropped, for the whole
    mini-batch, with probability 1 - p_l. An 8x8 input is enough: the draws do not depend on the
    image size, and ResNet-110's three stages still see 8, 4 and 2 pixels."""
    torch.manual_seed(0)
    model = cnndsl.load(ARCHS / "resnet110_sd.arch", input=(3, 8, 8)).train()
    mods, log = _drop_log(model)
    assert [m.survive for m in mods] == pytest.approx([_linear_decay(l) for l in range(1, L_SD + 1)])
    trials = 150
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        for _ in range(trials):
            log.append([False] * len(mods))
            model(x)
    dropped = torch.tensor(log, dtype=torch.float64).mean(0)
    expected = torch.tensor([1 - m.survive for m in mods], dtype=torch.float64)
    sigma = (expected * (1 - expected) / trials).sqrt()
    assert ((dropped - expected).abs() <= 4.5 * sigma + 1e-12).all()
    # Over all 54 blocks the mean drop rate is (1 - p_L)/2 * (L+1)/L = 0.2546: far tighter.
    assert abs(dropped.mean().item() - expected.mean().item()) < 0.02
    assert dropped[:5].mean() < dropped[-5:].mean()  # early blocks survive more often


def test_stochastic_depth_eval_runs_every_block_deterministically():
    torch.manual_seed(0)
    model = cnndsl.load(ARCHS / "resnet110_sd.arch", input=(3, 8, 8)).eval()
    mods, log = _drop_log(model)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        log.append([False] * len(mods))
        first = model(x)
        log.append([False] * len(mods))
        second = model(x)
    assert torch.equal(first, second)
    assert not any(any(row) for row in log)  # nothing dropped at test time


def test_droppath_scales_by_the_survival_probability_at_test_time():
    """Huang et al. 2016, Eq. (5): at test time the branch is multiplied by p_l."""
    x = torch.randn(4, 3, 2, 2)
    assert torch.equal(DropPath(0.75).eval()(x), x * 0.75)


# ------------------------------------------------------------------ FractalNet
def _generator_layers(columns=3, filters=(64, 128, 256, 512, 512)):
    """The conv layers (in, out) and join sizes of the FractalNet authors' generator
    (gustavla/fractalnet, generation/fractalnet.py), re-implemented: column c convolves every
    2^(C-c-1) steps; a join merges the deepest 2 + c columns every 2^(2+c) steps."""
    convs, joins, width = [], [], [3] * columns
    for f in filters:
        steps = 2 ** (columns - 1)
        for step in range(steps):
            for c in reversed(range(columns)):
                if (step + 1) % 2 ** (columns - c - 1) == 0:
                    convs.append((width[c], f))
                    width[c] = f
            for c in range(columns):
                if step % 2 ** (2 + c) == 2 ** (1 + c) - 1:
                    joins.append(2 + c)
                    break
    return convs, joins


def test_fractalnet_matches_the_authors_generator():
    """Larsson et al. 2017, Sec. 4: B = 5 blocks, C = 3 columns, 20 layers on the deepest path.
    Table 1 prints 38.6M parameters for this network, which no reading of the paper reproduces
    (docs/zoo.md). The authors' generator gives the first conv of each column the previous
    block's width, as our file does: 33,698,880 conv weights."""
    report = _report("fractalnet")
    convs, joins = _generator_layers()
    ours = [layer for layer in report.layers if layer.op == "conv"]
    assert sorted(layer.params for layer in ours) == sorted(i * o * 9 + o for i, o in convs)
    assert sorted(len(layer.inputs) for layer in report.layers if layer.op == "join") == sorted(joins)
    assert sum(i * o * 9 for i, o in convs) == 33_698_880
    graph = cnndsl.analyze(ARCHS / "fractalnet.arch")
    depth: dict[str, int] = {}
    for node in graph:  # creation order is a topological order
        depth[node.id] = max((depth[i] for i in node.inputs), default=0) + (node.op == "conv")
    assert max(depth.values()) == 20  # B x 2^(C-1) conv layers on the deepest path


def test_fractal_join_local_drop_path_statistics():
    """Sec. 3.1: each input of a join is dropped with probability 0.15 (the file's drop_path),
    at least one survives. One-hot inputs show which ones were averaged."""
    joins = [m for m in cnndsl.load(ARCHS / "fractalnet.arch").modules() if type(m).__name__ == "Join"]
    assert joins and all(j.drop == 0.15 for j in joins)
    join = joins[1].train()  # a 3-way join: the end of the first block
    k, trials = 3, 3000
    xs = [torch.eye(k)[i].reshape(1, k, 1, 1) for i in range(k)]
    torch.manual_seed(0)
    kept = torch.stack([(join(xs) > 0).flatten() for _ in range(trials)]).double()
    assert kept.sum(1).min() >= 1
    # P(kept) = 0.85, plus the share of the all-dropped case (0.15^3) that forces one back.
    p = 0.85 + 0.15 ** k / k
    sigma = (p * (1 - p) / trials) ** 0.5
    assert ((kept.mean(0) - p).abs() <= 4.5 * sigma).all()
    assert torch.equal(join.eval()(xs).flatten(), torch.full((k,), 1 / k))  # test time: the mean of all


def test_fractalnet_is_deterministic_in_eval_and_random_in_training():
    torch.manual_seed(0)
    model = cnndsl.load(ARCHS / "fractalnet.arch")
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        model.eval()
        assert torch.equal(model(x), model(x))
        model.train()
        torch.manual_seed(1)
        a = model(x)
        torch.manual_seed(2)
        b = model(x)
    assert not torch.equal(a, b)


def test_googlenet_2014_as_the_paper_draws_it():
    """The 2014 network (bias, 5x5 branches, LRN, no BN, no aux heads): 6,998,552 parameters and
    1,582,671,872 MACs, the figures ../shared/reference/README.md computed from a reference
    implementation. Szegedy et al. 2014, Table 1, prints each row's multiply-adds ("ops"); the
    rows of the stem and the inception modules agree with it to within the 1M it prints,
    except conv1 (printed 34M; 112x112x64 outputs of 7x7x3 are 118M) and 5a (printed 54M; its
    own filter counts give 51.1M)."""
    report = _report("googlenet2014")
    assert (report.params, report.macs) == (6_998_552, 1_582_671_872)
    printed = {"inc1": 128, "inc2": 304, "inc3": 73, "inc4": 88, "inc5": 100, "inc6": 119, "inc7": 170,
               "inc9": 71}  # 3a 3b 4a 4b 4c 4d 4e 5b
    rows: dict[str, int] = {}
    for layer in report.layers:
        top = layer.name.split(".")[1]  # the network's own layer or block use
        rows[top] = rows.get(top, 0) + layer.macs
    assert all(abs(rows[k] - m * 10**6) < 10**6 for k, m in printed.items()), {k: rows[k] for k in printed}
    assert abs(rows["conv2"] + rows["conv3"] - 360 * 10**6) < 10**6  # the table's second convolution row
