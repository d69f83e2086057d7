"""Every zoo file compiles to a module that runs forward and backward on a batch of 2.

Inputs are the smallest convenient ones the network accepts (tests/zoo.py). Networks of more than
40M parameters run on the meta device: materialising and initialising their weights would cost
seconds each and prove nothing more about the graph; the torchvision output tests
(test_zoo_torchvision.py) run such networks on real numbers.
"""
from __future__ import annotations

import pytest
import torch

import cnndsl
from cnndsl.lower import to_module
from zoo import FILES, META_ABOVE, small_input

ARCHS = FILES

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("arch", ARCHS, ids=lambda p: p.stem)
def test_forward_and_backward_on_a_batch_of_two(arch):
    graph = cnndsl.analyze(arch, input=small_input(arch.stem))
    params = sum(n.meta["params"] for n in graph.ops())
    device = "meta" if params > META_ABOVE else "cpu"
    torch.manual_seed(0)
    with torch.device(device):
        module = to_module(graph).train()
        x = torch.randn(2, *module.input_shape)
    out = module(x)
    outs = out if isinstance(out, tuple) else (out,)
    assert [tuple(o.shape) for o in outs] == [(2, *graph[o].shape) for o in graph.outputs]
    sum(o.sum() for o in outs).backward()
    first = next(m for m in module.modules() if any(True for _ in m.parameters(recurse=False)))
    assert all(p.grad is not None for p in first.parameters())
    assert sum(p.numel() for p in module.parameters()) == params
    if device == "cpu":
        assert all(torch.isfinite(o).all() for o in outs)
