"""Every PyTorch client works on what the lowering emits, with outputs equal to eager where the
client computes: torch.jit.script, torch.fx.symbolic_trace, torch.export, torch.compile (no graph
break in training or evaluation, seen by torch._dynamo.explain), copy.deepcopy, pickling (in a
fresh process), channels_last, half and bfloat16, and the meta device.

The default run covers a representative set that holds every construct and helper module (plain
chains, residual adds with projections, concat, inception, dense connections, stochastic depth,
FractalNet's joins, LeNet-5's select/affine/RBF, multi-output networks); `pytest -m slow` runs the
whole zoo (tests/zoo.py's small inputs; networks over 40M parameters are left to the meta-device
tests)."""
from __future__ import annotations

import copy
import subprocess
import sys
import warnings

import pytest
import torch

import cnndsl
from zoo import ARCHS, FILES, META_ABOVE, small_input

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REPRESENTATIVE = {"lenet5": {}, "resnet18": {}, "googlenet": {"aux": True}, "densenet_bc_cifar": {},
                  "fractalnet": {}, "resnet110_sd": {}, "squeezenet1_1": {}, "inception_v3": {}}
SMALL = {"googlenet": (3, 64, 64)}  # the aux heads pool 4x4 maps: 64x64 is the smallest that keeps them


def _cases():
    for name, params in REPRESENTATIVE.items():
        yield pytest.param(name, params, id=name)
    for path in FILES:
        if path.stem not in REPRESENTATIVE:
            yield pytest.param(path.stem, {}, id=path.stem, marks=pytest.mark.slow)


CASES = list(_cases())


def build(name, params):
    size = SMALL.get(name, small_input(name))
    graph = cnndsl.analyze(ARCHS / f"{name}.arch", input=size, **params)
    if sum(n.meta["params"] for n in graph.ops()) > META_ABOVE:
        pytest.skip("over 40M parameters: the meta-device tests cover it")
    torch.manual_seed(0)
    model = cnndsl.load(ARCHS / f"{name}.arch", input=size, **params)
    return model, torch.randn(2, *model.input_shape)


def outs(y):
    return y if isinstance(y, tuple) else (y,)


def same(a, b, **tol):
    for u, v in zip(outs(a), outs(b)):
        torch.testing.assert_close(u, v, **(tol or {"atol": 0, "rtol": 0}))


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
@pytest.mark.parametrize("name, params", CASES)
def test_torchscript(name, params):
    model, x = build(name, params)
    model.eval()
    scripted = torch.jit.script(model)
    with torch.no_grad():
        same(scripted(x), model(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name, params", CASES)
def test_fx_symbolic_trace(name, params):
    model, x = build(name, params)
    model.eval()
    traced = torch.fx.symbolic_trace(model)
    with torch.no_grad():
        same(traced(x), model(x))


@pytest.mark.parametrize("name, params", CASES)
def test_torch_export(name, params):
    model, x = build(name, params)
    model.eval()
    exported = torch.export.export(model, (x,))
    with torch.no_grad():
        same(exported.module()(x), model(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name, params", CASES)
def test_torch_compile_has_no_graph_break(name, params):
    model, x = build(name, params)
    for mode in ("train", "eval"):
        getattr(model, mode)()
        torch._dynamo.reset()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            explanation = torch._dynamo.explain(model)(x)
        assert explanation.graph_break_count == 0, (mode, explanation.break_reasons)
        assert explanation.graph_count == 1


@pytest.mark.parametrize("name, params", CASES)
def test_deepcopy_and_pickle_in_a_fresh_process(tmp_path, name, params):
    model, x = build(name, params)
    model.eval()
    with torch.no_grad():
        same(copy.deepcopy(model)(x), model(x))
        expected = model(x)
    torch.save({"model": model, "x": x, "y": expected}, tmp_path / "whole.pt")  # the module, pickled
    code = ("import torch, sys\n"
            "torch.set_num_threads(1)  # as here: the same kernels, the same bits\n"
            f"d = torch.load({str(tmp_path / 'whole.pt')!r}, weights_only=False)\n"
            "y = d['model'].eval()(d['x'])\n"
            "y, e = (y, d['y']) if isinstance(y, tuple) else ((y,), (d['y'],))\n"
            "sys.exit(0 if all(torch.equal(a, b) for a, b in zip(y, e)) else 1)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("name, params", CASES)
def test_channels_last_half_and_bfloat16(name, params):
    model, x = build(name, params)
    model.eval()
    with torch.no_grad():
        expected = model(x)
        same(model.to(memory_format=torch.channels_last)(x.to(memory_format=torch.channels_last)), expected,
             atol=1e-4, rtol=1e-4)
        for dtype in (torch.bfloat16, torch.float16):
            try:
                y = outs(copy.deepcopy(model).to(dtype)(x.to(dtype)))
            except NotImplementedError as exc:  # PyTorch's CPU kernels, not the module: LRN's avg_pool3d
                assert "avg_pool3d" in str(exc)
                assert any(isinstance(m, torch.nn.LocalResponseNorm) for m in model.modules())
                continue
            assert all(o.dtype == dtype and o.shape == e.shape for o, e in zip(y, outs(expected)))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_meta_device(path):
    """Built on the meta device, every zoo network allocates nothing and runs in both modes."""
    with torch.device("meta"):
        model = cnndsl.load(path)
        x = torch.empty(2, *model.input_shape)
    assert all(p.is_meta for p in model.parameters())
    for mode in ("train", "eval"):
        getattr(model, mode)()
        assert all(o.is_meta for o in outs(model(x)))
