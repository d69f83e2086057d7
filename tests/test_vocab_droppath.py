"""Stochastic depth with both semantics, and `residual<...> shortcut_first`.

`droppath(p, mode=row, scale=train)` is torchvision's StochasticDepth(1 - p, "row"): the same
draws under the same seed in training and the identity at evaluation; the default (`scale=eval`)
stays the paper's rule. `shortcut_first` runs a residual's projection before its body, so the
layers come in the order torchvision's RegNet creates (and loads) them."""
from __future__ import annotations

import pytest
import torch
from torchvision.ops import StochasticDepth

import cnndsl
from cnndsl.lower.runtime import DropPath

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _model(write_arch, text: str, train: bool):
    model = cnndsl.load(write_arch(text))
    return model.train(train)


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_scale_train_draws_what_torchvision_draws_and_is_the_identity_at_eval(write_arch, mode):
    text = f"network n : 4x5x5 = droppath(0.7, mode={mode}, scale=train)\n"
    ours, theirs = _model(write_arch, text, True), StochasticDepth(0.3, mode).train()
    x = torch.randn(64, 4, 5, 5)
    for seed in range(5):
        torch.manual_seed(seed)
        a = ours(x)
        torch.manual_seed(seed)
        b = theirs(x)
        assert torch.equal(a, b)
    kept = {round(float(v), 4) for v in (a / x).unique()}
    assert kept <= {0.0, round(1 / 0.7, 4)}
    ours.eval()
    assert torch.equal(ours(x), theirs.eval()(x)) and torch.equal(ours(x), x)


def test_scale_eval_stays_the_papers_rule(write_arch):
    model = _model(write_arch, "network n : 4x5x5 = droppath(0.75)\n", False)
    x = torch.randn(2, 4, 5, 5)
    assert torch.equal(model(x), x * 0.75)
    model.train()
    out = model(x)
    assert torch.equal(out, x) or torch.equal(out, torch.zeros_like(x))  # one draw per batch, unscaled


def test_the_runtime_module_scripts_in_both_semantics():
    x = torch.randn(3, 4, 2, 2)
    for scale in ("eval", "train"):
        module = DropPath(0.5, "row", 3, scale)
        scripted = torch.jit.script(module)
        for training in (True, False):
            module.train(training), scripted.train(training)
            torch.manual_seed(1)
            a = module(x)
            torch.manual_seed(1)
            assert torch.equal(a, scripted(x))


def test_residual_passes_mode_and_scale_on(write_arch):
    text = ("network n : 4x5x5 = residual<conv3x3:4> survive=0.9 droppath_mode=row droppath_scale=train\n")
    report = cnndsl.report(write_arch(text))
    row = next(layer for layer in report.layers if layer.op == "droppath")
    assert row.label == "droppath p=0.9 row train"
    model = cnndsl.load(write_arch(text)).eval()
    x = torch.randn(2, 4, 5, 5)
    assert torch.equal(model(x), model.conv1(x) + x)  # scale=train: no scaling at evaluation


@pytest.mark.parametrize("attr, message", [
    ("droppath_mode=\"col\"", "expected one of batch, row, got"),
    ("droppath_scale=\"test\"", "expected one of eval, train, got"),
    ("shortcut_first=1", "`residual` takes `shortcut`"),
    ("survive", "`residual` takes `shortcut`"),
])
def test_residual_attribute_errors_are_located(write_arch, capsys, attr, message):
    from test_diagnostics import caret_under, check

    text = f"network n : 4x5x5 = residual<conv3x3:4> survive=0.9 {attr}\n"
    err, line, col, msg = check(write_arch, capsys, text)
    assert message in msg, err
    assert line == 1 and caret_under(err, "") in (attr, attr.split("=")[-1]), err


def test_shortcut_first_puts_the_projection_before_the_body(write_arch):
    body = "unit = conv(bias=false) -> bn -> relu\nnetwork n : 4x8x8 = residual<3x3:8/2 -> conv3x3:8 -> bn>"
    default, first = (cnndsl.load(write_arch(body + tail + "\n")) for tail in ("", " shortcut_first"))
    shapes = [tuple(p.shape) for p in first.parameters()]
    assert shapes[0] == (8, 4, 1, 1)  # the projection's 1x1 conv comes first, then its bn, then the body
    assert [tuple(p.shape) for p in default.parameters()][0] == (8, 4, 3, 3)
    assert sorted(shapes) == sorted(tuple(p.shape) for p in default.parameters())
    first.load_state_dict(default.state_dict())  # the same layers, so the same outputs
    x = torch.randn(2, 4, 8, 8)
    assert torch.equal(first.eval()(x), default.eval()(x))


def test_scale_train_works_under_every_client(write_arch):
    """torch.compile without a graph break (training and evaluation), torch.fx, torch.export and
    TorchScript, on a residual with torchvision's stochastic depth."""
    import warnings

    text = "network n : 4x6x6 = residual<conv3x3:4> survive=0.8 droppath_mode=row droppath_scale=train -> relu\n"
    model = cnndsl.load(write_arch(text))
    x = torch.randn(3, 4, 6, 6)
    for mode in ("train", "eval"):
        getattr(model, mode)()
        torch._dynamo.reset()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            explanation = torch._dynamo.explain(model)(x)
        assert explanation.graph_break_count == 0 and explanation.graph_count == 1, (mode, explanation.break_reasons)
    model.eval()
    with torch.no_grad():
        assert torch.equal(torch.fx.symbolic_trace(model)(x), model(x))
        assert torch.allclose(torch.export.export(model, (x,)).module()(x), model(x))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert torch.allclose(torch.jit.script(model)(x), model(x))


def test_shortcut_first_takes_torchvisions_regnet_block_weights(write_arch):
    """torchvision's ResBottleneckBlock creates and runs its projection before its body: with
    `shortcut_first` its weights load in order and the outputs are equal; without, the loader
    pairs the body's 3x3 with torchvision's first body 1x1 and refuses."""
    from torch import nn
    from torchvision.models.regnet import ResBottleneckBlock

    from cnndsl.weights import WeightMismatch, load_torchvision

    torch.manual_seed(0)
    reference = ResBottleneckBlock(8, 16, 2, nn.BatchNorm2d, nn.ReLU, group_width=4).eval()
    with torch.no_grad():
        for name, tensor in reference.state_dict().items():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand_like(tensor) + 0.5 if "running_var" in name else torch.randn_like(tensor))
    body = ("unit = conv(bias=false) -> bn -> relu\n"
            "network n : 8x8x8 = residual<1x1:16 -> 3x3:16/2 groups=4 -> conv1x1:16 -> bn>")
    x = torch.randn(2, 8, 8, 8)
    first = load_torchvision(cnndsl.load(write_arch(body + " shortcut_first -> relu\n")), reference).eval()
    torch.testing.assert_close(first(x), reference(x))
    with pytest.raises(WeightMismatch, match="`conv2` .* does not match torchvision's `f.a.0`"):
        load_torchvision(cnndsl.load(write_arch(body + " -> relu\n")), reference)
