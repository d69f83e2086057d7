"""The 2017-2022 ops (issue 9): each one's shape and parameters, and its lowered module's output
against the torch function or torchvision module computed independently; torchvision's weights
loading into SE, LayerNorm2d, layer scale and ConvNeXt's channels-last linear layers, and whole
small torchvision networks (ShuffleNetV2, ConvNeXt) giving equal outputs; every PyTorch client on a
snippet that uses every new op; and the located diagnostics for misuse."""
from __future__ import annotations

import re
import warnings

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models.convnext import CNBlockConfig, ConvNeXt, LayerNorm2d
from torchvision.models.shufflenetv2 import ShuffleNetV2, channel_shuffle
from torchvision.ops.misc import SqueezeExcitation

import cnndsl
from cnndsl.cli import main
from cnndsl.weights import load_torchvision
from costs_snippets import MODERN

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def net(write_arch, body: str, shape: str = "8x6x6", **kw):
    torch.manual_seed(0)
    return cnndsl.load(write_arch(f'include "std.arch"\nnetwork n : {shape} = {body}\n'), **kw).eval()


def x_of(shape=(8, 6, 6), batch=2):
    return torch.randn(batch, *shape)


@pytest.mark.parametrize("op, reference", [
    ("relu6", F.relu6), ("silu", F.silu), ("hardswish", F.hardswish), ("hardsigmoid", F.hardsigmoid),
    ("gelu", F.gelu), ("leaky_relu", F.leaky_relu), ("leaky_relu(0.2)", lambda x: F.leaky_relu(x, 0.2)),
    ("leaky_relu(slope=0.3)", lambda x: F.leaky_relu(x, 0.3)), ("identity", lambda x: x),
    ("sigmoid", torch.sigmoid),
])
def test_activations_equal_torch(write_arch, op, reference):
    model = net(write_arch, op)
    x = x_of() * 4
    assert torch.equal(model(x), reference(x))
    report = cnndsl.report(write_arch(f"network n : 8x6x6 = {op} -> fc:2"))
    assert report.params == 8 * 36 * 2 + 2  # an activation has no parameters


def test_identity_is_eliminated(write_arch):
    graph = cnndsl.analyze(write_arch("network n : 8x6x6 = conv3x3:8 -> identity -> relu6"))
    assert [n.op for n in graph.ops()] == ["conv", "relu6"]


def test_mul_gate_broadcasts_a_cx1x1_input(write_arch):
    model = net(write_arch, "mul(identity | gap)")
    x = x_of()
    assert torch.equal(model(x), x * x.mean((2, 3), keepdim=True))
    graph = cnndsl.analyze(write_arch("network n : 8x6x6 = mul(identity | gap)"))
    assert graph[graph.outputs[0]].shape == (8, 6, 6)


def test_mul_gate_from_a_vector(write_arch):
    model = net(write_arch, "mul(identity | gap -> fc:8 -> sigmoid)")
    x = x_of()
    fc = model.fc1
    expected = x * torch.sigmoid(fc(x.mean((2, 3))))[:, :, None, None]
    torch.testing.assert_close(model(x), expected)


def test_mul_of_equal_shapes(write_arch):
    model = net(write_arch, "mul(identity | relu)")
    x = x_of()
    assert torch.equal(model(x), x * F.relu(x))


def test_se_equals_torchvision_squeeze_excitation(write_arch):
    """`se(squeeze, act, gate)` from std.arch, with torchvision's weights loaded in order, in a file
    whose unit has no conv bias: the SE convs keep theirs, as torchvision's."""
    path = write_arch('include "std.arch"\nunit = conv(bias=false) -> bn -> relu\n'
                      'network n : 16x7x7 = se(8, act=silu, gate=hardsigmoid)\n')
    report = cnndsl.report(path)
    reference = SqueezeExcitation(16, 8, activation=nn.SiLU, scale_activation=nn.Hardsigmoid).eval()
    assert report.params == sum(p.numel() for p in reference.parameters()) == 16 * 8 + 8 + 8 * 16 + 16
    model = load_torchvision(cnndsl.load(path).eval(), reference)
    x = x_of((16, 7, 7))
    torch.testing.assert_close(model(x), reference(x), atol=1e-6, rtol=1e-6)
    default = load_torchvision(net(write_arch, "se(4)", "16x7x7"), tv := SqueezeExcitation(16, 4).eval())
    torch.testing.assert_close(default(x), tv(x), atol=1e-6, rtol=1e-6)


def test_chunk_and_split_are_views(write_arch):
    x = x_of()
    assert torch.equal(net(write_arch, "chunk(4, 2)")(x), torch.chunk(x, 4, 1)[2])
    assert torch.equal(net(write_arch, "split(3, 4)")(x), x[:, 3:7])
    graph = cnndsl.analyze(write_arch("network n : 8x6x6 = conv1x1:8 -> (chunk(2, 0) | chunk(2, 1) -> conv1x1:4)"))
    assert [n.shape for n in graph.ops() if n.op == "chunk"] == [(4, 6, 6), (4, 6, 6)]
    report = cnndsl.report(write_arch("network n : 8x6x6 = conv1x1:8 -> split(2, 4) -> conv1x1:4"))
    assert [layer.memory.output_bytes for layer in report.layers if layer.op == "split"] == [0]


def test_shuffle_equals_torchvision_channel_shuffle(write_arch):
    x = x_of((12, 5, 5))
    for groups in (2, 3, 4):
        assert torch.equal(net(write_arch, f"shuffle({groups})", "12x5x5")(x), channel_shuffle(x, groups))


def test_ln_equals_torchvision_layernorm2d_and_layer_norm(write_arch):
    x = x_of()
    reference = LayerNorm2d(8, eps=1e-6)
    with torch.no_grad():
        reference.weight.normal_()
        reference.bias.normal_()
    model = load_torchvision(net(write_arch, "ln(1e-6)"), reference)
    torch.testing.assert_close(model(x), reference(x))
    vector = net(write_arch, "gap -> flatten -> ln(eps=1e-3)")
    torch.testing.assert_close(vector(x), F.layer_norm(x.mean((2, 3)), (8,), eps=1e-3))
    assert cnndsl.report(write_arch("network n : 8x6x6 = ln")).params == 16


def test_layer_scale(write_arch):
    model = net(write_arch, "layer_scale(0.25)")
    x = x_of()
    assert torch.equal(model(x), 0.25 * x)
    assert [tuple(p.shape) for p in model.parameters()] == [(8, 1, 1)]


def test_shufflenet_v2_equals_torchvision(write_arch):
    """A small torchvision ShuffleNetV2 (the class itself, three stages of two units): its weights
    load into the `.arch` version in execution order and the outputs agree; chunk and shuffle keep
    the graph as small as the module (torchvision's `select` version needed 2,301 nodes for x1.0)."""
    reference = ShuffleNetV2([2, 2, 2], [8, 16, 32, 64, 128], num_classes=10).eval()
    path = write_arch("""
unit = conv(bias=false) -> bn -> relu
block down(inp, out) =
  (conv3x3:inp/2 groups=inp -> bn -> 1x1:(out/2) | 1x1:(out/2) -> conv3x3:(out/2)/2 groups=(out/2) -> bn -> 1x1:(out/2))
  -> shuffle(2)
block keep(c) = (chunk(2, 0) | chunk(2, 1) -> 1x1:(c/2) -> conv3x3:(c/2) groups=(c/2) -> bn -> 1x1:(c/2)) -> shuffle(2)
network small_shufflenet : 3x64x64 =
  3x3:8/2 -> maxpool3x3/2 p=1 -> down(8, 16) -> keep(16) -> down(16, 32) -> keep(32) -> down(32, 64) -> keep(64)
  -> 1x1:128 -> gap -> fc:10
""")
    model = load_torchvision(cnndsl.load(path).eval(), reference)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
    report = cnndsl.report(path)
    assert report.params == sum(p.numel() for p in reference.parameters())


def test_convnext_equals_torchvision(write_arch):
    """A small torchvision ConvNeXt (the class itself): LayerNorm2d, the blocks' channels-last
    LayerNorm and `nn.Linear` layers (our 1x1 convs: the weights are reshaped where they load) and
    `CNBlock.layer_scale` (a tensor of the block itself, used after its children)."""
    reference = ConvNeXt([CNBlockConfig(16, 32, 2), CNBlockConfig(32, None, 1)], num_classes=10).eval()
    with torch.no_grad():  # away from the initial values, so that a tensor loaded wrongly shows
        for p in reference.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    path = write_arch("""
block cnblock(c) = residual<conv7x7:c groups=c bias=true -> ln(1e-6) -> conv1x1:(4*c) bias=true -> gelu
                            -> conv1x1:c bias=true -> layer_scale(1e-6)>
network small_convnext : 3x32x32 =
  conv4x4:16/4 p=0 -> ln(1e-6) -> cnblock(16)*2 -> ln(1e-6) -> conv2x2:32/2 p=0 -> cnblock(32)
  -> gap -> ln(1e-6) -> flatten -> fc:10
""")
    assert cnndsl.report(path).params == sum(p.numel() for p in reference.parameters())
    model = load_torchvision(cnndsl.load(path).eval(), reference)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)


def test_mobilenet_v3_equals_torchvision(write_arch):
    """A small torchvision MobileNetV3 (the class itself, four inverted residuals: with and without
    expansion, SE and the residual; relu and hardswish): hardswish, SE with a hardsigmoid gate and
    BN(eps=0.001, momentum=0.01) give torchvision's outputs with its weights."""
    from functools import partial

    from torchvision.models.mobilenetv3 import InvertedResidualConfig, MobileNetV3
    c = partial(InvertedResidualConfig, width_mult=1.0)
    setting = [c(16, 3, 16, 16, True, "RE", 2, 1), c(16, 3, 72, 24, False, "RE", 2, 1),
               c(24, 5, 96, 40, True, "HS", 1, 1), c(40, 5, 120, 40, True, "HS", 1, 1)]
    reference = MobileNetV3(setting, 128, num_classes=10).eval()
    with torch.no_grad():
        for p in reference.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    path = write_arch("""
include "std.arch"
unit = conv(bias=false) -> bn(eps=0.001, momentum=0.01) -> hardswish
block irbody(inp, k, e, out, sq, act, s) =
  (if e != inp then (conv1x1:e -> bn -> act)) -> conv(e, k, s, groups=e) -> bn -> act
  -> (if sq > 0 then se(sq, gate=hardsigmoid)) -> conv1x1:out -> bn
block ir(inp, k, e, out, sq, act, s) =
  if s == 1 and inp == out then residual<irbody(inp, k, e, out, sq, act, s)> else irbody(inp, k, e, out, sq, act, s)
network small_mbv3 : 3x64x64 =
  conv3x3:16/2 -> bn -> hardswish
  -> ir(16, 3, 16, 16, 8, relu, 2) -> ir(16, 3, 72, 24, 0, relu, 2) -> ir(24, 5, 96, 40, 24, hardswish, 1)
  -> ir(40, 5, 120, 40, 32, hardswish, 1)
  -> conv1x1:240 -> bn -> hardswish -> gap -> fc:128 -> hardswish -> dropout(0.2) -> fc:10
""")
    assert cnndsl.report(path).params == sum(p.numel() for p in reference.parameters())
    model = load_torchvision(cnndsl.load(path).eval(), reference)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)


# ------------------------------------------------------------------ the PyTorch clients
@pytest.fixture(scope="module")
def modern(tmp_path_factory):
    path = tmp_path_factory.mktemp("modern") / "modern.arch"
    path.write_text(MODERN)
    torch.manual_seed(0)
    model = cnndsl.load(path).eval()
    return path, model, torch.randn(2, *model.input_shape)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_clients_script_fx_export(modern):
    _, model, x = modern
    with torch.no_grad():
        expected = model(x)
        torch.testing.assert_close(torch.jit.script(model)(x), expected, atol=1e-5, rtol=1e-5)
        assert torch.equal(torch.fx.symbolic_trace(model)(x), expected)
        torch.testing.assert_close(torch.export.export(model, (x,)).module()(x), expected, atol=1e-5, rtol=1e-5)


def test_compile_has_no_graph_break(modern):
    _, model, x = modern
    for mode in ("train", "eval"):
        getattr(model, mode)()
        torch._dynamo.reset()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            explanation = torch._dynamo.explain(model)(x)
        assert explanation.graph_break_count == 0, (mode, explanation.break_reasons)
    model.eval()


def test_onnxruntime_equals_pytorch(modern, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from cnndsl.lower.onnx import export_onnx
    path, model, _ = modern
    export_onnx(cnndsl.analyze(path), tmp_path / "net.onnx", module=model)
    session = ort.InferenceSession(str(tmp_path / "net.onnx"), providers=["CPUExecutionProvider"])
    for batch in (1, 3):
        x = torch.randn(batch, *model.input_shape)
        with torch.no_grad():
            expected = model(x)
        got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
        torch.testing.assert_close(torch.from_numpy(got), expected, atol=1e-5, rtol=1e-5)


def test_the_generated_source_reads_as_written(modern):
    path, _, _ = modern
    source = cnndsl.to_source(path) if hasattr(cnndsl, "to_source") else None
    if source is None:
        from cnndsl.lower import to_source
        source = to_source(cnndsl.analyze(path))
    assert "x * b2" in source or re.search(r"\w+ \* \w+", source)  # the gate: `x * g`
    assert re.search(r"\[:, 0:\d+\]", source)  # chunk: a slice
    for cls in ("ChannelShuffle(2)", "LayerNorm2d(", "LayerScale(", "nn.Hardswish()", "nn.GELU()"):
        assert cls in source


# ------------------------------------------------------------------ diagnostics
HEADER = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.*)$", re.M)


def diagnose(write_arch, capsys, text):
    path = write_arch(text)
    rc = main(["check", str(path)])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err, err
    first = HEADER.search(err)
    assert first and first["file"] == str(path), err
    return int(first["line"]), int(first["col"]), first["msg"], err


@pytest.mark.parametrize("text, where, message", [
    ("network n : 8x6x6 =\n  mul(identity | conv1x1:4 -> gap)\n", (2, 3),
     "mul needs two inputs of equal shape, or a map and a per-channel gate of its channels"),
    ("network n : 8x6x6 =\n  mul(identity | relu | gap)\n", (2, 3),
     "mul needs two inputs of equal shape, or a map and a per-channel gate of its channels"),
    ("network n : 8x6x6 =\n  conv1x1:8 -> chunk(2, 2)\n", (2, 16),
     "chunk(2, 2): the chunk number must be 0 to 1, got 2"),
    ("network n : 8x6x6 =\n  conv1x1:6 -> chunk(4, 0)\n", (2, 16),
     "chunk(4, 0) needs channels that divide into 4 equal chunks, got 6"),
    ("network n : 8x6x6 =\n  split(6, 4)\n", (2, 3), "split(6, 4) needs channels 6 to 9, but the input has 8 (8x6x6)"),
    ("network n : 6x6x6 =\n  conv1x1:8 -> shuffle(3)\n", (2, 16), "shuffle(3) needs channels divisible by 3, got 8"),
    ("network n : 8x6x6 =\n  gap -> flatten -> layer_scale\n", (2, 21),
     "layer_scale needs a CxHxW feature map, got 8"),
    ("network n : 8x6x6 =\n  ln(eps=0)\n", (2, 3), None),
    ("network n : 8x6x6 =\n  leaky_relu(slope=\"a\")\n", (2, 3), None),
])
def test_misuse_is_located(write_arch, capsys, text, where, message):
    line, col, msg, err = diagnose(write_arch, capsys, text)
    assert (line, col) == where, err
    if message is not None:
        assert msg == message, err


def test_mul_mismatch_names_both_inputs(write_arch, capsys):
    _, _, _, err = diagnose(write_arch, capsys, "network n : 8x6x6 =\n  mul(identity | conv1x1:4 -> gap)\n")
    assert "input 1: 8x6x6" in err and "input 2: 4x1x1" in err


def test_an_op_is_a_value(write_arch):
    """`se(act=silu)`: an op passed as an argument is used as a layer where the block says `act`."""
    graph = cnndsl.analyze(write_arch('include "std.arch"\n'
                                      "block twice(act=relu) = act -> act\n"
                                      "network n : 8x6x6 = twice(act=gelu) -> twice -> se(2, act=leaky_relu)\n"))
    assert [n.op for n in graph.ops()][:4] == ["gelu", "gelu", "relu", "relu"]
    assert "leaky_relu" in [n.op for n in graph.ops()]


def test_an_op_with_attributes_is_a_value(write_arch):
    text = ('include "std.arch"\nblock b(act=relu) = conv1x1:4 -> act\n'
            "network n : 8x6x6 = b(act=leaky_relu(0.2)) -> se(2, act=leaky_relu(slope=0.3))\n")
    graph = cnndsl.analyze(write_arch(text))
    slopes = [n.attrs.slope for n in graph.ops() if n.op == "leaky_relu"]
    assert slopes == [0.2, 0.3]


@pytest.mark.parametrize("text, where, message", [
    ("block b(act=relu) = conv1x1:4 -> act\nnetwork n : 8x6x6 = b(act=3)\n", (1, 34),
     "`act` is an integer (3), not a layer"),
    ("block b(act=relu) = conv1x1:4 -> act\nnetwork n : 8x6x6 = b(act=leaky_relu(0.1, 0.2))\n", (2, 43),
     "`leaky_relu` takes at most 1 positional argument(s)"),
    ("block b(act=relu) = conv1x1:4 -> act\nnetwork n : 8x6x6 = b(act=leaky_relu(slope=\"a\"))\n", (2, 38),
     "bad value for `slope` of `leaky_relu`: \"a\""),
])
def test_a_layer_value_misused_is_located(write_arch, capsys, text, where, message):
    line, col, msg, err = diagnose(write_arch, capsys, text)
    assert (line, col) == where, err
    if message is not None:
        assert msg == message, err


def test_the_torchvision_reference_modules_are_what_we_think(write_arch):
    """The references above are torchvision's own classes, not copies (a guard on the imports)."""
    assert SqueezeExcitation.__module__ == "torchvision.ops.misc"
    assert channel_shuffle.__module__ == torchvision.models.shufflenetv2.__name__


def test_the_diagram_draws_a_gate_beside_the_map(write_arch):
    """The map runs straight into its `mul` (a heavy edge), the gate comes in from the side."""
    from cnndsl.views.graphviz import to_dot
    dot = to_dot(cnndsl.analyze(write_arch('include "std.arch"\nnetwork n : 16x8x8 = conv3x3:16 -> se(4) -> gap')))
    into_mul = [line for line in dot.splitlines() if "->" in line and "mul" in line.split("->")[1]]
    assert len(into_mul) == 2
    heavy = [line for line in into_mul if "weight=8" in line]
    assert len(heavy) == 1 and heavy[0].startswith('  "conv1"') and "tailport" not in heavy[0]
