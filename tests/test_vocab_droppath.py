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
