"""Diagrams: the model (folding, depth, xN), golden DOT files, SVG through graphviz, the CLI.

Golden files live in tests/golden/diagram/; after an intended change, regenerate them with
`CNNDSL_REGEN=1 pytest tests/test_diagram.py` and review the diff like code.
"""
from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest

import cnndsl
from cnndsl.ops import fmt
from cnndsl.views.diagram import Box, Cluster, Options, build_diagram, shape_range
from cnndsl.views.graphviz import to_dot, write_diagram

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "diagram"
ZOO = sorted(p.name for p in (ROOT / "archs").glob("*.arch"))
# Without graphviz these skip on a developer's machine; in CI (CI=true) they run, and fail, so a
# CI image without graphviz cannot pass unnoticed.
needs_dot = pytest.mark.skipif(shutil.which("dot") is None and not os.environ.get("CI"),
                               reason="graphviz `dot` is not installed")


@pytest.fixture
def at_root(monkeypatch):
    """Spans (and so tooltips) show paths as given: run from the checkout with relative paths."""
    monkeypatch.chdir(ROOT)


def analyze(name: str, **kw):
    return cnndsl.analyze(f"archs/{name}", **kw)


def boxes(items):
    for it in items:
        if isinstance(it, Box):
            yield it
        else:
            yield from boxes(it.items)


def clusters(items):
    for it in items:
        if isinstance(it, Cluster):
            yield it
            yield from clusters(it.items)


# ---------------------------------------------------------------- golden DOT files
GOLDENS = {
    "googlenet": ("googlenet.arch", {}, Options(), "TB"),
    "googlenet-d1": ("googlenet.arch", {}, Options(depth=1), "TB"),
    "googlenet-aux-d1": ("googlenet.arch", {"aux": True}, Options(depth=1), "TB"),
    "resnet50": ("resnet50.arch", {}, Options(), "TB"),
    "resnet50-d1": ("resnet50.arch", {}, Options(depth=1), "TB"),
    "resnet50-d2-stats": ("resnet50.arch", {}, Options(depth=2, params=True, macs=True), "TB"),
    "resnet18-unroll": ("resnet18.arch", {}, Options(unroll=True), "TB"),
    "vgg16": ("vgg16.arch", {}, Options(), "TB"),
    "vgg16-unfold-lr": ("vgg16.arch", {}, Options(fold=False), "LR"),
    "lenet5": ("lenet5.arch", {}, Options(), "TB"),
}


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_golden_dot(name, at_root):
    arch, params, opts, rankdir = GOLDENS[name]
    text = to_dot(analyze(arch, **params), opts, rankdir)
    path = GOLDEN / f"{name}.dot"
    if os.environ.get("CNNDSL_REGEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file {path}: run with CNNDSL_REGEN=1 to create it"
    expected = path.read_text()
    if text != expected:
        diff = "".join(list(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                                 "golden", "now"))[:60])
        pytest.fail(f"{path.name} differs (CNNDSL_REGEN=1 regenerates it after an intended change):\n{diff}")


# ---------------------------------------------------------------- what the pictures say
def test_resnet50_stages_draw_first_block_and_the_rest_as_xn():
    # He et al. 2015, Table 1: ResNet-50 has 3, 4, 6, 3 bottlenecks in conv2_x..conv5_x; the first of
    # each stage differs (projection shortcut, stride), the other n-1 are identical: "x2 x3 x5 x2".
    d = build_diagram(analyze("resnet50.arch"), Options(depth=2))
    stages = [c for c in clusters(d.items) if c.title.startswith("stage (")]
    assert [s.title for s in stages] == ["stage (bottleneck \u00d73, 64)", "stage (bottleneck \u00d74, 128, s=2)",
                                         "stage (bottleneck \u00d76, 256, s=2)", "stage (bottleneck \u00d73, 512, s=2)"]
    assert [[(b.title, b.count) for b in s.items] for s in stages] == [
        [("bottleneck (64, s=1)", 1), ("bottleneck (64)", 2)],
        [("bottleneck (128, s=2)", 1), ("bottleneck (128)", 3)],
        [("bottleneck (256, s=2)", 1), ("bottleneck (256)", 5)],
        [("bottleneck (512, s=2)", 1), ("bottleneck (512)", 2)],
    ]
    # the stage outputs of Table 1 (56x56, 28x28, 14x14, 7x7 with 4x expansion) are on the edges
    labels = {e.label for e in d.edges}
    assert {"256x56x56", "512x28x28", "1024x14x14", "2048x7x7"} <= labels


def test_unroll_draws_every_copy():
    g = analyze("resnet50.arch")
    rolled = [c for c in clusters(build_diagram(g).items) if c.title.startswith("bottleneck")]
    unrolled = [c for c in clusters(build_diagram(g, Options(unroll=True)).items) if c.title.startswith("bottleneck")]
    assert len(rolled) == 8 and len(unrolled) == 3 + 4 + 6 + 3
    assert all(c.count == 1 for c in unrolled)


def test_collapsed_blocks_carry_totals_equal_to_torchvision():
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    with torch.device("meta"):  # only parameter counts are needed: no memory, no init time
        tv = torchvision.models.resnet50()
    d = build_diagram(analyze("resnet50.arch"), Options(depth=1))
    stages = [b for b in boxes(d.items) if b.category == "block" and b.title.startswith("stage (")]
    assert len(stages) == 4
    for box, layer in zip(stages, [tv.layer1, tv.layer2, tv.layer3, tv.layer4]):
        expected = sum(p.numel() for p in layer.parameters())
        assert f"\n{expected:,} params," in box.tooltip, (box.title, expected, box.tooltip)


def test_bn_and_activations_fold_into_the_conv_unless_unfolded():
    g = analyze("googlenet.arch")
    folded = build_diagram(g)
    convs = [b for b in boxes(folded.items) if b.category == "conv"]
    assert len(convs) == 57 and all(b.after == ["bn", "relu"] for b in convs)  # torchvision: 57 BasicConv2d
    assert not [b for b in boxes(folded.items) if b.category in ("norm", "act")]
    unfolded = build_diagram(g, Options(fold=False))
    assert sum(b.category == "norm" for b in boxes(unfolded.items)) == 57
    assert len(list(boxes(unfolded.items))) == len(g)  # one box per graph node


def test_pre_activation_folds_before_the_conv_and_dense_copies_collapse(write_arch):
    # DenseNet-121's first dense block (Huang et al. 2017, Table 1): 6 layers of
    # BN-ReLU-Conv(1x1, 4k) -> BN-ReLU-Conv(3x3, k), k = 32, on 64 channels: 64 + 6*32 = 256 out.
    path = write_arch("""
unit = bn -> relu -> conv(bias=false)
block dense_layer(k=32) = dense<1x1:(4*k) -> 3x3:k>
network net : 64x56x56 = dense_layer(k=32)*6
""")
    d = build_diagram(cnndsl.analyze(path))
    (layer,) = [c for c in clusters(d.items)]
    assert (layer.title, layer.count) == ("dense_layer (k=32)", 6)
    convs = [b for b in boxes(layer.items) if b.category == "conv"]
    assert [(b.before, b.title, b.after) for b in convs] == [
        (["bn", "relu"], "conv 1x1, 128", []), (["bn", "relu"], "conv 3x3, 32", [])]
    labels = {(e.src.split(".")[-1], e.dst.split(".")[-1]): e.label for e in d.edges}
    assert labels[("concat1", "output:output")] == "256x56x56"
    # the dense connection from the block's input into the first copy's concat is drawn; the ones
    # from copy to copy are what "x6" stands for, and would otherwise draw cycles
    assert nx.is_directed_acyclic_graph(nx.DiGraph([(e.src, e.dst) for e in d.edges]))


def test_shape_ranges_for_copies_that_differ_in_size():
    assert shape_range([(64, 56, 56)]) == "64x56x56"
    assert shape_range([(64, 56, 56), (96, 56, 56), (224, 56, 56)]) == "64\u2013224x56x56"


@pytest.mark.parametrize("arch", ZOO)
@pytest.mark.parametrize("opts", [Options(), Options(depth=1), Options(unroll=True, fold=False)],
                         ids=["full", "depth1", "unrolled"])
def test_every_box_and_edge_is_consistent(arch, opts):
    g = analyze(arch)
    d = build_diagram(g, opts)
    ids = [b.id for b in boxes(d.items)] + [c.id for c in clusters(d.items)]
    assert len(ids) == len(set(ids))
    names = {n.id for n in g}
    paths = {".".join(f.name for f in n.scope[:i + 1] if f.name) for n in g for i in range(len(n.scope))}
    for b in boxes(d.items):  # ids come from IR names: a node's, or a block use's path
        assert b.id in names or b.id in paths, b.id
    drawn = {b.id for b in boxes(d.items)}
    assert {e.src for e in d.edges} | {e.dst for e in d.edges} <= drawn
    assert nx.is_directed_acyclic_graph(nx.DiGraph([(e.src, e.dst) for e in d.edges]))
    assert to_dot(g, opts) == to_dot(analyze(arch), opts)  # deterministic


# ---------------------------------------------------------------- SVG through graphviz
def _expected_text(g, depth):
    """Names and shapes the picture must show, read from the graph: block names (the top level
    only at depth 1), the input and output shapes, the shape out of every block, and, fully
    expanded, the output of every conv that is not inside a repetition."""
    ops = list(g.ops())
    skip = 0
    while ops and all(len(n.scope) > skip and n.scope[skip] == ops[0].scope[skip] and n.scope[skip].kind == "block"
                      for n in ops):
        skip += 1  # `network resnet50 = resnet(...)`: the network itself is not a block of it
    names, shapes = {g.name}, {fmt(g[i].shape) for i in g.inputs + g.outputs}
    last_of = {}
    for n in ops:
        blocks = [(i, f) for i, f in enumerate(n.scope) if f.kind == "block" and i >= skip]
        in_repeat = any(f.kind == "repeat" for f in n.scope)
        for level, (i, f) in enumerate(blocks, 1):
            if depth is None or level <= depth:
                names.add(f.block)
            if not in_repeat and (depth is None or level <= depth):
                last_of[n.scope[:i + 1]] = n
        if depth is None and n.op == "conv" and not in_repeat:
            shapes.add(fmt(n.shape))
    shapes |= {fmt(n.shape) for n in last_of.values()}
    return names, shapes


@needs_dot
@pytest.mark.parametrize("arch", ZOO)
@pytest.mark.parametrize("depth", [1, None], ids=["depth1", "full"])
def test_every_zoo_architecture_renders_svg(arch, depth, tmp_path):
    g = analyze(arch)
    out = tmp_path / "net.svg"
    write_diagram(to_dot(g, Options(depth=depth)), out, "svg")
    root = ET.parse(out).getroot()  # parses as XML
    assert root.tag.endswith("svg")
    text = "\n".join(t.strip() for t in root.itertext() if t.strip())
    names, shapes = _expected_text(g, depth)
    assert names and shapes
    for s in sorted(names | shapes):
        assert s in text, f"{arch}: {s!r} is not in the SVG"


@needs_dot
def test_googlenet_svg_shows_the_inception_outputs_of_the_paper(tmp_path):
    # Szegedy et al. 2014, Table 1, "output size" of 3a..5b (channels x H x W)
    out = tmp_path / "g.svg"
    write_diagram(to_dot(analyze("googlenet.arch")), out, "svg")
    text = "\n".join(ET.parse(out).getroot().itertext())
    for s in ["256x28x28", "480x28x28", "512x14x14", "528x14x14", "832x14x14", "832x7x7", "1024x7x7"]:
        assert s in text
    assert text.count("inc (") == 9


# ---------------------------------------------------------------- command line
def run_cli(*args, env=None, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "cnndsl", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


def _env(path: str) -> dict:
    env = dict(os.environ, PATH=path, PYTHONPATH=str(ROOT))
    env.pop("CNNDSL_REGEN", None)
    return env


def test_render_without_dot_writes_dot_and_explains_the_rest(tmp_path):
    env = _env(str(tmp_path / "empty-bin"))  # a PATH with no graphviz on it
    r = run_cli("render", "archs/lenet5.arch", "-o", str(tmp_path / "net.svg"), env=env)
    assert r.returncode == 1
    assert "graphviz" in r.stderr and "apt-get install graphviz" in r.stderr and "Traceback" not in r.stderr
    assert not list(tmp_path.glob("net.svg*")) and not list(tmp_path.glob(".net.svg*"))
    r = run_cli("render", "archs/lenet5.arch", "-o", str(tmp_path / "net.dot"), env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "net.dot").read_text().startswith('digraph "lenet5"')


def test_failing_dot_leaves_no_partial_file(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dot").write_text("#!/bin/sh\necho half > \"$3\"\necho 'dot: out of memory' >&2\nexit 3\n")
    (fake / "dot").chmod(0o755)
    (tmp_path / "out.svg").write_text("old")
    r = run_cli("render", "archs/lenet5.arch", "-o", str(tmp_path / "out.svg"), env=_env(f"{fake}:/usr/bin:/bin"))
    assert r.returncode == 1 and "out of memory" in r.stderr
    assert (tmp_path / "out.svg").read_text() == "old"  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "out.svg"]


@needs_dot
def test_render_and_compile_diagram_never_import_torch(tmp_path):
    code = (
        "import sys\n"
        "from cnndsl.cli import main\n"
        f"assert main(['render', 'archs/resnet50.arch', '--depth', '2', '-o', {str(tmp_path / 'r.svg')!r}]) == 0\n"
        f"assert main(['compile', 'archs/googlenet.arch', '--diagram', {str(tmp_path / 'g.png')!r}]) == 0\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                       env=_env(os.environ["PATH"]))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "r.svg").stat().st_size > 0
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_to_stdout_and_bad_names(tmp_path):
    r = run_cli("render", "archs/vgg16.arch", "--depth", "1", "--rankdir", "LR", env=_env(os.environ["PATH"]))
    assert r.returncode == 0 and "rankdir=LR" in r.stdout and '"cluster_stage1"' not in r.stdout
    r = run_cli("render", "archs/vgg16.arch", "-o", str(tmp_path / "x.jpg"), env=_env(os.environ["PATH"]))
    assert r.returncode == 1 and ".svg" in r.stderr and not (tmp_path / "x.jpg").exists()
    r = run_cli("render", "archs/vgg16.arch", "--depth", "0", env=_env(os.environ["PATH"]))
    assert r.returncode == 2 and "--depth" in r.stderr


def test_runs_of_equal_copies_nested_repeats_and_groups(write_arch):
    # [.. for ..] copies collapse only where they are equal; a repeat inside a repeated group is
    # collapsed in the one drawn copy; `( .. )*3` is grouping, not a one-branch concat.
    path = write_arch("""
unit = conv(bias=false) -> bn -> relu
block grp(c) = (3x3:c*2 -> maxpool3x3)*3
network net : 16x32x32 = [3x3:c for c in [16, 16, 24]] -> 3x3:16 -> (grp(32) -> 1x1:32)*2 -> gap -> fc:10
""")
    g = cnndsl.analyze(path)
    assert not [n for n in g.ops() if n.op == "concat"]
    d = build_diagram(g)
    top = [(it.title, it.count) for it in d.items]
    assert top[:4] == [("input 16x32x32", 1), ("conv 3x3, 16", 2), ("conv 3x3, 24", 1), ("conv 3x3, 16", 1)]
    (twice,) = [it for it in d.items if isinstance(it, Cluster)]
    assert twice.count == 2 and [i.title for i in twice.items] == ["grp (32)", "conv 1x1, 32"]
    (thrice,) = twice.items[0].items
    assert thrice.count == 3 and [(b.title, b.count) for b in thrice.items] == [("conv 3x3, 32", 2), ("maxpool 3x3", 1)]
    assert len(list(boxes(d.items))) == 10  # input, 3 convs, 3 in the clusters, gap, fc, output
    assert nx.is_directed_acyclic_graph(nx.DiGraph([(e.src, e.dst) for e in d.edges]))
    with_params = build_diagram(g, Options(params=True))
    conv16 = next(b for b in boxes(with_params.items) if b.title == "conv 3x3, 16" and b.count == 2)
    assert conv16.stats == "2 \u00d7 2.34k params"  # 16*16*9 + 2*16 = 2,336 each
    inner = next(b for b in boxes(with_params.items) if b.title == "conv 3x3, 32" and b.count == 2)
    # 12 convs stand for this box (2 per group copy, 3 group copies, 2 outer copies); the first
    # sees 16 input channels (4,672 params), the other 11 see 32 (9,280): 106,752 in all
    assert inner.stats == "107k params"


def test_a_shortcut_leaves_its_box_from_the_side(write_arch):
    """The identity shortcut of a small residual network used to curl back over its source box:
    the second edge out of a box into a merge leaves from the box's side (east; south left to right)."""
    path = write_arch("block b(c) = residual<3x3:c -> conv3x3:c>\nnetwork n : 16x8x8 = b(16) -> b(16)\n")
    g = cnndsl.analyze(path)
    tb, lr = to_dot(g), to_dot(g, rankdir="LR")
    assert '"b1.add1" -> "b2.add1" [tailport=e' in tb and '"b1.add1" -> "b2.conv1"' in tb
    assert '"b1.add1" -> "b2.add1" [tailport=s' in lr
    assert '"b1.add1" -> "b2.conv1" [tailport' not in tb


@needs_dot
def test_png_resolution_defaults_to_print_quality(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    g = cnndsl.analyze(ROOT / "archs" / "lenet5.arch")
    sizes = []
    for dpi in (None, 96):
        out = tmp_path / f"{dpi}.png"
        write_diagram(to_dot(g), out, "png", dpi=dpi)
        sizes.append(Image.open(out).size[0])
    assert abs(sizes[0] / sizes[1] - 300 / 96) < 0.1


def test_a_diagram_past_its_box_limit_is_refused_at_the_layer_that_passes_it(write_arch, monkeypatch, capsys):
    """Graphviz takes minutes over 50,000 boxes: past MAX_BOXES `render` says how to draw less,
    located at the layer whose box passes the limit, and writes nothing."""
    import cnndsl.views.diagram as diagram
    from cnndsl.cli import main
    monkeypatch.setattr(diagram, "MAX_BOXES", 50)
    path = write_arch("network n : 3x8x8 = relu -> (3x3:8 -> bn -> relu)*60\n")
    out = path.with_suffix(".dot")
    assert main(["render", str(path), "--unroll", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:1:30: error: the diagram would have more than 50 boxes" in err and "--depth N" in err
    assert not out.exists()
    assert main(["render", str(path), "-o", str(out)]) == 0  # drawn once with x60: a handful of boxes
